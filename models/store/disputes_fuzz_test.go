package store_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"

	"github.com/hearth-safety/hearth/models"
	"github.com/hearth-safety/hearth/models/store"
	"github.com/hearth-safety/hearth/models/store/storetest"
)

// FuzzDisputeQueueFilter feeds the staff queue's five filters (as the
// query string carries them) to DisputeQueueFor on a real SQLite store
// holding a few cases. Whatever the values:
//
//   - someone who is not staff gets models.ErrNotFound, filter or not;
//   - a value the queue does not know is a *models.ValidationError naming
//     that filter, in words that do not repeat it; a known one never is;
//     and nothing else ever fails (an error here would be a 500);
//   - every case listed matches the filter, and the headline counts do
//     not depend on it.
func FuzzDisputeQueueFilter(f *testing.F) {
	ctx := context.Background()
	s := storetest.Open(f, store.SQLite, storetest.Options{})
	cl, _, err := s.CreateClient(ctx, store.NewClient{Name: "chat"})
	if err != nil {
		f.Fatal(err)
	}
	g, err := s.CreateUser(ctx, store.NewUser{Email: "pat@example.com", Name: "Pat", Password: "correct horse battery", Role: models.RoleGuardian})
	if err != nil {
		f.Fatal(err)
	}
	agent, err := s.CreateUser(ctx, store.NewUser{Email: "sam@example.com", Name: "Sam", Password: "correct horse battery", Role: models.RoleStaff})
	if err != nil {
		f.Fatal(err)
	}
	if err := s.SeedSupervisedTeens(ctx, cl.ID, g.ID, "tk_q", 5, nil); err != nil {
		f.Fatal(err)
	}
	guardian := models.Actor{UserID: g.ID, Role: models.RoleGuardian}
	staff := models.Actor{UserID: agent.ID, Role: models.RoleStaff}
	teens, err := s.GuardianTeens(ctx, guardian)
	if err != nil {
		f.Fatal(err)
	}
	kinds := models.KindsFor(models.RoleGuardian)
	for i, gt := range teens {
		d, err := s.OpenDispute(ctx, guardian, store.NewDispute{Kind: kinds[i%len(kinds)], TeenID: gt.Teen.ID, Description: "Case " + strconv.Itoa(i)})
		if err != nil {
			f.Fatal(err)
		}
		if i%2 == 0 {
			if _, err := s.ActOnDispute(ctx, staff, d.ID, models.DisputeAction{Kind: models.ActAssign, Version: d.Version, Reason: "Mine", AssigneeID: agent.ID}); err != nil {
				f.Fatal(err)
			}
		}
	}
	all, err := s.DisputeQueueFor(ctx, staff, store.DisputeFilter{})
	if err != nil || len(all.Items) != len(teens) {
		f.Fatalf("queue of %d cases: %d, %v", len(teens), len(all.Items), err)
	}

	f.Add("", "", "", "", "")
	f.Add("all", string(kinds[0]), "13-15", "me", models.WaitingStaff)
	f.Add("open", "rule_unfair", "16-17", "unassigned", models.WaitingFiler)
	f.Add("resolved", "not_a_kind", "18+", strconv.FormatInt(agent.ID, 10), models.WaitingLead)
	f.Add("Open", "", "", "99999999999999999999", "")
	f.Add("", "", "", "-1", "nobody")
	f.Add("' OR 1=1 --", "%", "13-15'", "me'", "staff;")
	f.Fuzz(func(t *testing.T, status, kind, age, assignee, waiting string) {
		filter := store.DisputeFilter{Status: status, Kind: models.DisputeKind(kind), AgeBand: age, Assignee: assignee, Waiting: waiting}
		if _, err := s.DisputeQueueFor(ctx, guardian, filter); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("a guardian asking for the queue got %v", err)
		}
		_, assigneeErr := strconv.ParseInt(assignee, 10, 64)
		known := map[string]bool{
			"status":   status == "" || status == "all" || models.DisputeStatus(status).Valid(),
			"kind":     kind == "" || models.DisputeKind(kind).AllowedFor(models.RoleTeen) || models.DisputeKind(kind).AllowedFor(models.RoleGuardian),
			"age":      age == "" || age == "13-15" || age == "16-17",
			"assignee": assignee == "" || assignee == "me" || assignee == "unassigned" || assigneeErr == nil,
			"waiting":  waiting == "" || waiting == models.WaitingStaff || waiting == models.WaitingLead || waiting == models.WaitingFiler,
		}
		values := map[string]string{"status": status, "kind": kind, "age": age, "assignee": assignee, "waiting": waiting}
		q, err := s.DisputeQueueFor(ctx, staff, filter)
		if err != nil {
			var ve *models.ValidationError
			if !errors.As(err, &ve) || len(ve.Errors) == 0 {
				t.Fatalf("filter %+v failed with %v, not a validation error", filter, err)
			}
			for _, fe := range ve.Errors {
				if ok, named := known[fe.Field]; !named || ok {
					t.Fatalf("filter %+v refused for %q, a value it knows", filter, fe.Field)
				}
				if v := strings.TrimSpace(values[fe.Field]); len(v) >= 4 && strings.Contains(err.Error(), v) {
					t.Fatalf("the refusal repeats %q: %v", v, err)
				}
			}
			return
		}
		for field, ok := range known {
			if !ok {
				t.Fatalf("filter %+v accepted %s %q", filter, field, values[field])
			}
		}
		if q.Counts != all.Counts {
			t.Fatalf("the filter changed the counts: %+v, unfiltered %+v", q.Counts, all.Counts)
		}
		for _, d := range q.Items {
			switch {
			case status == "" && d.Status.Closed(), status != "" && status != "all" && string(d.Status) != status:
				t.Fatalf("status %q listed a case that is %s", status, d.Status)
			case kind != "" && string(d.Kind) != kind:
				t.Fatalf("kind %q listed a case about %s", kind, d.Kind)
			case assignee == "unassigned" && d.AssigneeID != nil,
				assignee == "me" && (d.AssigneeID == nil || *d.AssigneeID != agent.ID),
				assigneeErr == nil && (d.AssigneeID == nil || *d.AssigneeID != mustInt(assignee)):
				t.Fatalf("assignee %q listed a case assigned to %v", assignee, d.AssigneeID)
			case waiting != "" && d.WaitingOn() != waiting:
				t.Fatalf("waiting on %q listed a case waiting on %s", waiting, d.WaitingOn())
			}
		}
	})
}

func mustInt(s string) int64 {
	n, _ := strconv.ParseInt(s, 10, 64)
	return n
}
