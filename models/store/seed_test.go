package store_test

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hearth-safety/hearth/models"
	"github.com/hearth-safety/hearth/models/store"
	"github.com/hearth-safety/hearth/models/store/storetest"
	"github.com/hearth-safety/hearth/policy"
)

// seedFixture makes the client and the load-test guardian seeding needs.
func seedFixture(t *testing.T, s *store.Store) (client models.ServiceClient, guardian models.User) {
	t.Helper()
	cl, _, err := s.CreateClient(ctx, store.NewClient{Name: "seed app"})
	if err != nil {
		t.Fatalf("CreateClient: %v", err)
	}
	g, err := s.CreateUser(ctx, store.NewUser{Email: "load@example.com", Name: "Load Guardian", Password: "demo-load-pass", Role: models.RoleGuardian})
	if err != nil {
		t.Fatalf("CreateUser: %v", err)
	}
	return cl, g
}

func snapshotsByID(t *testing.T, s *store.Store, after int64) (map[string]models.PolicySnapshot, int64) {
	t.Helper()
	snaps, maxSeq, err := s.PolicySnapshots(ctx, after)
	if err != nil {
		t.Fatalf("PolicySnapshots: %v", err)
	}
	out := make(map[string]models.PolicySnapshot, len(snaps))
	for _, sn := range snaps {
		if _, dup := out[sn.PlatformUserID]; dup {
			t.Fatalf("snapshot for %s twice", sn.PlatformUserID)
		}
		out[sn.PlatformUserID] = sn
	}
	return out, maxSeq
}

func TestStore_SeedSupervisedTeens(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		cl, g := seedFixture(t, s)
		now := s.Now()

		var calls []int
		if err := s.SeedSupervisedTeens(ctx, cl.ID, g.ID, "tk_load_", 500, func(done int) { calls = append(calls, done) }); err != nil {
			t.Fatalf("SeedSupervisedTeens: %v", err)
		}
		if !slices.Equal(calls, []int{500}) {
			t.Errorf("progress calls = %v, want [500]", calls)
		}

		snaps, maxSeq := snapshotsByID(t, s, 0)
		if len(snaps) != 500 {
			t.Fatalf("%d snapshots, want 500", len(snaps))
		}
		seqs := map[int64]bool{}
		for i := 1; i <= 500; i++ {
			id := store.SeedPlatformID("tk_load_", i)
			sn, ok := snaps[id]
			if !ok {
				t.Fatalf("no snapshot for %s", id)
			}
			if !sn.Supervised || sn.ClientID != cl.ID || sn.Policy.Version != 1 || sn.Seq <= 0 || seqs[sn.Seq] {
				t.Fatalf("%s: supervised %v, client %d, version %d, seq %d (seen before: %v)", id, sn.Supervised, sn.ClientID, sn.Policy.Version, sn.Seq, seqs[sn.Seq])
			}
			seqs[sn.Seq] = true
			if want := store.SeedZones[(i-1)%len(store.SeedZones)]; sn.TimeZone != want {
				t.Errorf("%s: zone %s, want %s", id, sn.TimeZone, want)
			}
			teen, err := s.TeenByPlatformID(ctx, cl.ID, id)
			if err != nil {
				t.Fatalf("TeenByPlatformID(%s): %v", id, err)
			}
			age := teen.Age(now)
			if age != store.SeedAge(i) {
				t.Errorf("%s: age %d, want %d", id, age, store.SeedAge(i))
			}
			want := models.DMPolicyFrom(teen.ID, policy.Defaults(age, teen.Location()))
			got := sn.Policy
			if !models.SameRules(got, want) || len(got.Approved)+len(got.Blocked) != 0 {
				t.Errorf("%s (age %d): rules %+v, want the age defaults %+v", id, age, got.Rules(), want.Rules())
			}
		}
		if maxSeq != seqNow(t, s) {
			t.Errorf("PolicySnapshots max seq %d, CurrentSeq %d", maxSeq, seqNow(t, s))
		}

		// A DM check decided from the stored rules, the way a node does
		// (DMPolicy.Engine in the teen's zone), decides as the defaults do.
		yes, no, three, fourHundred := true, false, 3, 400
		contexts := map[string]*policy.Context{
			"adult stranger":     {MutualFollow: &no, SenderIsAdult: &yes, SenderAccountAgeDays: &fourHundred, HasMedia: &no, HasLink: &no},
			"friend":             {MutualFollow: &yes, SenderIsAdult: &no, SenderAccountAgeDays: &fourHundred, HasMedia: &no, HasLink: &no},
			"teen stranger":      {MutualFollow: &no, SenderIsAdult: &no, SenderAccountAgeDays: &fourHundred, HasMedia: &no, HasLink: &no},
			"stranger with link": {MutualFollow: &no, SenderIsAdult: &no, SenderAccountAgeDays: &fourHundred, HasMedia: &no, HasLink: &yes},
			"new friend":         {MutualFollow: &yes, SenderIsAdult: &no, SenderAccountAgeDays: &three, HasMedia: &yes},
			"no facts":           nil,
		}
		times := []time.Time{
			time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC), // daytime in Europe, night in Tokyo and Sydney
			time.Date(2026, 11, 27, 23, 30, 0, 0, time.UTC),
		}
		mix := map[policy.Outcome]int{}
		for _, i := range []int{1, 2, 3, 4, 5, 137, 500} { // every age and zone
			id := store.SeedPlatformID("tk_load_", i)
			teen, err := s.TeenByPlatformID(ctx, cl.ID, id)
			if err != nil {
				t.Fatal(err)
			}
			loc := teen.Location()
			stored := snaps[id].Policy.Engine(loc)
			defaults := policy.Defaults(teen.Age(now), loc)
			defaults.Version = 1
			for name, c := range contexts {
				for _, at := range times {
					got := policy.DecideDM(nil, &stored, "u_other", id, c, at)
					want := policy.DecideDM(nil, &defaults, "u_other", id, c, at)
					if got != want {
						t.Errorf("%s, %s at %s: decided %v, defaults decide %v", id, name, at.Format(time.Kitchen), got, want)
					}
					if got.DecidedBy != policy.DecidedByRecipient || got.PolicyVersion != 1 {
						t.Errorf("%s, %s: %v, want decided by the recipient's version 1", id, name, got)
					}
					mix[got.Decision]++
				}
			}
		}
		if mix[policy.Deny] == 0 || mix[policy.Request] == 0 || mix[policy.Allow] == 0 || mix[policy.Hold] == 0 {
			t.Errorf("decision mix %v: want every outcome exercised", mix)
		}

		// The guardian sees the seeded teens as supervised, and the teen
		// sees the rules as any supervised teen does.
		gts, err := s.GuardianTeens(ctx, models.Actor{UserID: g.ID, Role: models.RoleGuardian})
		if err != nil || len(gts) != 500 {
			t.Fatalf("GuardianTeens = %d teens, %v; want 500", len(gts), err)
		}
		if gts[0].Link.State != models.LinkActive {
			t.Errorf("link state %s, want active", gts[0].Link.State)
		}
		one, _ := s.TeenByPlatformID(ctx, cl.ID, "tk_load_000001")
		if p, err := s.TeenPolicy(ctx, models.Actor{UserID: one.UserID, Role: models.RoleTeen}, one.ID); err != nil || p.Version != 1 {
			t.Errorf("the teen's own view of their rules: %+v, %v", p, err)
		}

		// Again with more: the first 500 are skipped as they are, the new
		// ones come in transactions of 1,000 with later seqs.
		calls = nil
		before := seqNow(t, s)
		if err := s.SeedSupervisedTeens(ctx, cl.ID, g.ID, "tk_load_", 1200, func(done int) { calls = append(calls, done) }); err != nil {
			t.Fatalf("seed again: %v", err)
		}
		if !slices.Equal(calls, []int{1000, 1200}) {
			t.Errorf("progress calls = %v, want [1000 1200]", calls)
		}
		added, _ := snapshotsByID(t, s, before)
		if len(added) != 700 {
			t.Errorf("second run changed %d teens, want the 700 new ones", len(added))
		}
		for id := range added {
			if id <= "tk_load_000500" {
				t.Errorf("second run touched %s, which existed", id)
			}
		}
		all, _ := snapshotsByID(t, s, 0)
		if len(all) != 1200 {
			t.Errorf("%d supervised teens after the second run, want 1200", len(all))
		}

		// Nobody acted, so nothing is audited or notified.
		es, err := s.AllAuditEvents(ctx, models.Actor{UserID: -1, Role: models.RoleLead}, one.ID)
		if err != nil || len(es) != 0 {
			t.Errorf("audit entries for a seeded teen: %d, %v; want none", len(es), err)
		}
		if n, err := s.UnreadCount(ctx, models.Actor{UserID: g.ID, Role: models.RoleGuardian}); err != nil || n != 0 {
			t.Errorf("guardian notifications: %d, %v; want none", n, err)
		}

		// Seeded supervision behaves like any other: the guardian ending
		// the link stops it, and every node drops the teen.
		var link models.Link
		for _, gt := range gts {
			if gt.Teen.ID == one.ID {
				link = gt.Link
			}
		}
		before = seqNow(t, s)
		if err := s.EndLink(ctx, models.Actor{UserID: g.ID, Role: models.RoleGuardian}, link.ID, ""); err != nil {
			t.Fatalf("EndLink on a seeded teen: %v", err)
		}
		if ch, _ := snapshotsByID(t, s, before); len(ch) != 1 || ch["tk_load_000001"].Supervised {
			t.Errorf("after the link ended: %+v, want tk_load_000001 unsupervised", ch)
		}
	})
}

func TestStore_SeedSupervisedTeensRefusals(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		cl, g := seedFixture(t, s)
		// An ID provisioned before is skipped as it is, not supervised.
		if _, _, err := s.UpsertTeen(ctx, cl.ID, "tk_x_000002", store.TeenInput{DisplayName: "Kept", BirthMonth: "2012-01", TimeZone: "Europe/Paris"}); err != nil {
			t.Fatal(err)
		}
		if err := s.SeedSupervisedTeens(ctx, cl.ID, g.ID, "tk_x_", 3, nil); err != nil {
			t.Fatalf("seed: %v", err)
		}
		snaps, _ := snapshotsByID(t, s, 0)
		if len(snaps) != 2 || snaps["tk_x_000001"].PlatformUserID == "" || snaps["tk_x_000003"].PlatformUserID == "" {
			t.Errorf("snapshots %v, want tk_x_000001 and tk_x_000003 only", slices.Collect(maps.Keys(snaps)))
		}
		if kept, _ := s.TeenByPlatformID(ctx, cl.ID, "tk_x_000002"); kept.DisplayName != "Kept" || kept.TimeZone != "Europe/Paris" {
			t.Errorf("existing teen changed: %+v", kept)
		}

		staff, err := s.CreateUser(ctx, store.NewUser{Email: "staff@example.com", Name: "Staff", Password: "staff-pass-long", Role: models.RoleStaff})
		if err != nil {
			t.Fatal(err)
		}
		if err := s.SeedSupervisedTeens(ctx, cl.ID, staff.ID, "tk_y_", 1, nil); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("seeding under a staff account: %v, want ErrNotFound", err)
		}
		if err := s.SeedSupervisedTeens(ctx, cl.ID+99, g.ID, "tk_y_", 1, nil); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("seeding for a missing client: %v, want ErrNotFound", err)
		}
		if err := s.SeedSupervisedTeens(ctx, cl.ID, g.ID, "bad prefix ", 1, nil); models.FieldErrors(err)["prefix"] == "" {
			t.Errorf("bad prefix: %v, want a validation error on prefix", err)
		}
		if err := s.SeedSupervisedTeens(ctx, cl.ID, g.ID, strings.Repeat("p", 60), 1, nil); models.FieldErrors(err)["prefix"] == "" {
			t.Errorf("long prefix: %v, want a validation error on prefix", err)
		}
	})
}
