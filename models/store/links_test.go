package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hearth-safety/hearth/models"
	"github.com/hearth-safety/hearth/models/store"
	"github.com/hearth-safety/hearth/models/store/storetest"
)

const testBaseURL = "http://hearth.test"

// rebind turns ? placeholders into $n for Postgres, so raw test SQL reads
// the same on both databases.
func rebind(s *store.Store, q string) string {
	if s.Dialect() != store.Postgres {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func rawExec(t *testing.T, s *store.Store, q string, args ...any) {
	t.Helper()
	if _, err := s.SQLDB().ExecContext(ctx, rebind(s, q), args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

func rawInt(t *testing.T, s *store.Store, q string, args ...any) int {
	t.Helper()
	var n int
	if err := s.SQLDB().QueryRowContext(ctx, rebind(s, q), args...).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

// mail is one email the outbox was handed.
type mail struct{ To, Subject, Text string }

// tableOutbox is a fake outbox that writes each email into a table through
// the caller's transaction, exactly as the real job queue does. Reading the
// table back therefore shows only the emails of changes that committed.
type tableOutbox struct{ s *store.Store }

func newOutbox(t *testing.T, s *store.Store) *tableOutbox {
	t.Helper()
	rawExec(t, s, "CREATE TABLE test_outbox (id INTEGER, to_addr TEXT NOT NULL, subject TEXT NOT NULL, body TEXT NOT NULL)")
	o := &tableOutbox{s: s}
	s.SetOutbox(o, testBaseURL+"/")
	return o
}

func (o *tableOutbox) EnqueueEmail(ctx context.Context, tx *sql.Tx, to, subject, text string) error {
	if tx == nil {
		return errors.New("email queued outside a transaction")
	}
	_, err := tx.ExecContext(ctx, rebind(o.s, "INSERT INTO test_outbox (to_addr, subject, body) VALUES (?, ?, ?)"), to, subject, text)
	return err
}

func (o *tableOutbox) mails(t *testing.T) []mail {
	t.Helper()
	rows, err := o.s.SQLDB().QueryContext(ctx, "SELECT to_addr, subject, body FROM test_outbox")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []mail
	for rows.Next() {
		var m mail
		if err := rows.Scan(&m.To, &m.Subject, &m.Text); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

func (o *tableOutbox) to(t *testing.T, addr string) []mail {
	t.Helper()
	var out []mail
	for _, m := range o.mails(t) {
		if m.To == addr {
			out = append(out, m)
		}
	}
	return out
}

// party is a signed-in person in a linking test.
type party struct {
	models.Actor
	Name  string
	Email string
}

// world is a fresh store with a clock at day0, an outbox and a client to
// provision teens with.
type world struct {
	s      *store.Store
	c      *clock
	out    *tableOutbox
	client models.ServiceClient
	n      int
}

// eachWorld runs fn on every database with its own clock.
func eachWorld(t *testing.T, fn func(t *testing.T, w *world)) {
	c := newClock(day0)
	storetest.EachWith(t, storetest.Options{Now: c.Now}, func(t *testing.T, s *store.Store) {
		c.t.Store(day0.UnixNano())
		cl, _ := newClient(t, s, "app")
		fn(t, &world{s: s, c: c, out: newOutbox(t, s), client: cl})
	})
}

// guardian makes a confirmed guardian account directly in SQL: the argon2id
// hash CreateUser computes is not what these tests are about, and skipping it
// keeps them fast under -race.
func (w *world) guardian(t *testing.T, name string) party {
	t.Helper()
	w.n++
	email := fmt.Sprintf("g%d@example.com", w.n)
	now := w.c.Now()
	rawExec(t, w.s, "INSERT INTO users (email, name, role, password_hash, email_verified_at, created_at, updated_at) VALUES (?, ?, 'guardian', '', ?, ?, ?)",
		email, name, now, now, now)
	id := rawInt(t, w.s, "SELECT id FROM users WHERE email = ?", email)
	return party{Actor: models.Actor{UserID: int64(id), Role: models.RoleGuardian}, Name: name, Email: email}
}

func (w *world) staff(t *testing.T) party {
	t.Helper()
	p := w.guardian(t, "Sue Support")
	rawExec(t, w.s, "UPDATE users SET role = 'staff' WHERE id = ?", p.UserID)
	p.Role = models.RoleStaff
	return p
}

// teen provisions a teen born in birthMonth (YYYY-MM). At day0
// (2026-11-27): 2012-06 is 14, 2010-06 is 16, 2009-01 is 17 and turns 18 on
// 2027-01-01.
func (w *world) teen(t *testing.T, name, birthMonth string) (models.Teen, party) {
	t.Helper()
	w.n++
	tn, _, err := w.s.UpsertTeen(ctx, w.client.ID, fmt.Sprintf("tk_%d", w.n), store.TeenInput{DisplayName: name, BirthMonth: birthMonth, TimeZone: "Europe/London"})
	if err != nil {
		t.Fatalf("provision teen: %v", err)
	}
	return tn, party{Actor: models.Actor{UserID: tn.UserID, Role: models.RoleTeen}, Name: name}
}

func (w *world) invite(t *testing.T, g party) string {
	t.Helper()
	_, code, err := w.s.CreateInvitation(ctx, g.Actor, "for a teen")
	if err != nil {
		t.Fatalf("CreateInvitation: %v", err)
	}
	return code
}

func (w *world) link(t *testing.T, g, teen party) models.Link {
	t.Helper()
	l, err := w.s.AcceptInvitation(ctx, teen.Actor, w.invite(t, g))
	if err != nil {
		t.Fatalf("AcceptInvitation: %v", err)
	}
	return l
}

func liveCount(t *testing.T, s *store.Store, teenID int64) int {
	t.Helper()
	return rawInt(t, s, "SELECT COUNT(*) FROM links WHERE teen_id = ? AND state IN ('active', 'suspended')", teenID)
}

func notes(t *testing.T, s *store.Store, p party) []models.Notification {
	t.Helper()
	ns, _, err := s.Notifications(ctx, p.Actor, models.Page{Size: 100})
	if err != nil {
		t.Fatalf("Notifications: %v", err)
	}
	return ns
}

func hasNote(ns []models.Notification, msg string) bool {
	for _, n := range ns {
		if n.Message == msg {
			return true
		}
	}
	return false
}

func TestStore_Links(t *testing.T) {
	eachWorld(t, func(t *testing.T, w *world) {
		s := w.s
		maya, mayaP := w.teen(t, "Maya", "2012-06") // 14
		leo, leoP := w.teen(t, "Leo", "2010-06")    // 16
		pat := w.guardian(t, "Pat Parent")
		cop := w.guardian(t, "Cam Coparent")
		stranger := w.guardian(t, "Sid Stranger")
		patMaya := w.link(t, pat, mayaP)
		copMaya := w.link(t, cop, mayaP)
		patLeo := w.link(t, pat, leoP)

		t.Run("teen_for_guardian_needs_an_active_link", func(t *testing.T) {
			gt, err := s.TeenForGuardian(ctx, pat.Actor, maya.ID)
			if err != nil || gt.Teen.ID != maya.ID || gt.Link.ID != patMaya.ID || len(gt.Others) != 1 || gt.Others[0].GuardianName != "Cam Coparent" {
				t.Fatalf("TeenForGuardian = %+v, %v", gt, err)
			}
			for name, v := range map[string]models.Actor{"unlinked_guardian": stranger.Actor, "the_teen": mayaP.Actor, "anonymous": {}} {
				if _, err := s.TeenForGuardian(ctx, v, maya.ID); !errors.Is(err, models.ErrNotFound) {
					t.Errorf("%s: err = %v, want ErrNotFound", name, err)
				}
			}
			if _, err := s.TeenForGuardian(ctx, pat.Actor, 999999); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("missing teen: %v", err)
			}
		})

		t.Run("teen_guardians_and_banner", func(t *testing.T) {
			ls, err := s.TeenGuardians(ctx, mayaP.Actor)
			if err != nil || len(ls) != 2 || ls[0].GuardianName != "Pat Parent" || ls[0].GuardianEmail != pat.Email || ls[1].GuardianName != "Cam Coparent" {
				t.Fatalf("TeenGuardians = %+v, %v", ls, err)
			}
			if _, err := s.TeenGuardians(ctx, pat.Actor); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("guardian asking TeenGuardians: %v", err)
			}
			names, err := s.SupervisorNames(ctx, maya.UserID)
			if err != nil || strings.Join(names, ",") != "Pat Parent,Cam Coparent" {
				t.Fatalf("SupervisorNames = %v, %v", names, err)
			}
			if names, _ := s.SupervisorNames(ctx, pat.UserID); len(names) != 0 {
				t.Errorf("a guardian's own account has supervisors: %v", names)
			}
		})

		t.Run("fourteen_year_old_cannot_end_at_once", func(t *testing.T) {
			if err := s.EndLink(ctx, mayaP.Actor, patMaya.ID, "I want privacy"); !errors.Is(err, models.ErrForbidden) {
				t.Fatalf("err = %v, want ErrForbidden", err)
			}
			if gt, err := s.TeenForGuardian(ctx, pat.Actor, maya.ID); err != nil || gt.Link.State != models.LinkActive {
				t.Fatalf("link after refused end = %+v, %v", gt.Link, err)
			}
		})

		t.Run("nobody_else_ends_a_link", func(t *testing.T) {
			for name, v := range map[string]models.Actor{"other_guardian": cop.Actor, "stranger": stranger.Actor, "other_teen": leoP.Actor, "staff": w.staff(t).Actor} {
				if err := s.EndLink(ctx, v, patMaya.ID, ""); !errors.Is(err, models.ErrNotFound) {
					t.Errorf("%s: err = %v, want ErrNotFound", name, err)
				}
			}
			if liveCount(t, s, maya.ID) != 2 {
				t.Fatal("a link ended")
			}
		})

		t.Run("sixteen_year_old_ends_at_once", func(t *testing.T) {
			if err := s.EndLink(ctx, leoP.Actor, patLeo.ID, "I'm old enough"); err != nil {
				t.Fatal(err)
			}
			if liveCount(t, s, leo.ID) != 0 {
				t.Fatal("link still live")
			}
			if !hasNote(notes(t, s, pat), "Leo ended your supervision. You no longer see anything about Leo.") {
				t.Errorf("guardian not told: %+v", notes(t, s, pat))
			}
			if ms := w.out.to(t, pat.Email); len(ms) == 0 || ms[len(ms)-1].Subject != "Leo ended your supervision" {
				t.Errorf("guardian not emailed: %+v", ms)
			}
			if err := s.EndLink(ctx, leoP.Actor, patLeo.ID, ""); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("ending an ended link: %v", err)
			}
			if _, err := s.TeenForGuardian(ctx, pat.Actor, leo.ID); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("ended guardian still sees the teen: %v", err)
			}
		})

		t.Run("guardian_ends_own_link", func(t *testing.T) {
			if err := s.EndLink(ctx, cop.Actor, copMaya.ID, "Pat handles this now"); err != nil {
				t.Fatal(err)
			}
			if !hasNote(notes(t, s, mayaP), "Cam Coparent ended their supervision. They no longer see anything about you.") {
				t.Errorf("teen not told: %+v", notes(t, s, mayaP))
			}
			if !hasNote(notes(t, s, pat), "Cam Coparent stopped supervising Maya.") {
				t.Errorf("other guardian not told: %+v", notes(t, s, pat))
			}
			gts, err := s.GuardianTeens(ctx, cop.Actor)
			if err != nil || len(gts) != 1 {
				t.Fatalf("GuardianTeens = %+v, %v", gts, err)
			}
			l := gts[0].Link
			if l.State != models.LinkEnded || l.EndedAt == nil || l.EndedBy == nil || *l.EndedBy != cop.UserID ||
				l.EndReason != "Cam Coparent ended their supervision of Maya. Reason given: “Pat handles this now”" || gts[0].Others != nil {
				t.Errorf("ended link on the dashboard = %+v, others %+v", l, gts[0].Others)
			}
		})

		t.Run("dashboard_lists_live_then_ended", func(t *testing.T) {
			gts, err := s.GuardianTeens(ctx, pat.Actor)
			if err != nil || len(gts) != 2 {
				t.Fatalf("GuardianTeens = %+v, %v", gts, err)
			}
			if gts[0].Teen.ID != maya.ID || gts[0].Link.State != models.LinkActive || gts[1].Teen.ID != leo.ID || gts[1].Link.State != models.LinkEnded {
				t.Errorf("order = %s/%s, %s/%s", gts[0].Teen.DisplayName, gts[0].Link.State, gts[1].Teen.DisplayName, gts[1].Link.State)
			}
			if _, err := s.GuardianTeens(ctx, mayaP.Actor); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("teen asking GuardianTeens: %v", err)
			}
		})

		t.Run("relinking_after_an_end_is_a_new_link", func(t *testing.T) {
			l := w.link(t, cop, mayaP)
			if l.ID == copMaya.ID || l.State != models.LinkActive {
				t.Fatalf("new link = %+v", l)
			}
			gts, _ := s.GuardianTeens(ctx, cop.Actor)
			if len(gts) != 1 || gts[0].Link.ID != l.ID {
				t.Errorf("dashboard shows %+v, want only the newest link", gts)
			}
		})

		t.Run("suspended_guardian_loses_access_but_counts", func(t *testing.T) {
			rawExec(t, s, "UPDATE links SET state = 'suspended' WHERE id = ?", patMaya.ID)
			if _, err := s.TeenForGuardian(ctx, pat.Actor, maya.ID); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("suspended guardian sees the teen: %v", err)
			}
			if names, _ := s.SupervisorNames(ctx, maya.UserID); len(names) != 1 {
				t.Errorf("banner names a suspended guardian: %v", names)
			}
			if ls, _ := s.TeenGuardians(ctx, mayaP.Actor); len(ls) != 2 {
				t.Errorf("teen's list lacks the suspended guardian: %+v", ls)
			}
			if _, err := s.AcceptInvitation(ctx, mayaP.Actor, w.invite(t, pat)); !errors.Is(err, models.ErrAlreadySupervised) {
				t.Errorf("suspended guardian re-invited: %v", err)
			}
			rawExec(t, s, "UPDATE links SET state = 'active' WHERE id = ?", patMaya.ID)
		})
	})
}

func TestStore_EndLinksAtEighteen(t *testing.T) {
	eachWorld(t, func(t *testing.T, w *world) {
		s := w.s
		ava, avaP := w.teen(t, "Ava", "2009-01") // 17; 18 on 2027-01-01
		maya, mayaP := w.teen(t, "Maya", "2012-06")
		pat, cop := w.guardian(t, "Pat Parent"), w.guardian(t, "Cam Coparent")
		l1 := w.link(t, pat, avaP)
		w.link(t, cop, avaP)
		w.link(t, pat, mayaP)
		if _, err := s.RequestEndSupervision(ctx, avaP.Actor, l1.ID, ""); models.FieldErrors(err)["link"] == "" {
			t.Fatalf("17-year-old asked instead of ending: %v", err)
		}

		w.c.t.Store(time.Date(2026, 12, 31, 23, 59, 59, 0, time.UTC).UnixNano())
		if n, err := s.EndLinksAtEighteen(ctx); err != nil || n != 0 {
			t.Fatalf("the day before: ended %d, %v", n, err)
		}
		w.c.t.Store(time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano())
		n, err := s.EndLinksAtEighteen(ctx)
		if err != nil || n != 2 {
			t.Fatalf("on the birthday month: ended %d, %v; want 2", n, err)
		}
		if liveCount(t, s, ava.ID) != 0 || liveCount(t, s, maya.ID) != 1 {
			t.Fatalf("live links: Ava %d, Maya %d", liveCount(t, s, ava.ID), liveCount(t, s, maya.ID))
		}
		if n, err := s.EndLinksAtEighteen(ctx); err != nil || n != 0 {
			t.Errorf("second run ended %d, %v", n, err)
		}
		for _, g := range []party{pat, cop} {
			if !hasNote(notes(t, s, g), "Ava turned 18, so your supervision ended automatically.") {
				t.Errorf("%s not told", g.Name)
			}
			found := false
			for _, m := range w.out.to(t, g.Email) {
				found = found || m.Subject == "Ava turned 18: supervision ended"
			}
			if !found {
				t.Errorf("%s not emailed", g.Name)
			}
		}
		if !hasNote(notes(t, s, avaP), "You turned 18, so supervision ended automatically. Nobody supervises you on Hearth any more.") {
			t.Errorf("teen not told: %+v", notes(t, s, avaP))
		}
		evs, err := s.AllAuditEvents(ctx, avaP.Actor, ava.ID)
		if err != nil {
			t.Fatal(err)
		}
		ended := 0
		for _, e := range evs {
			if e.Action == models.ActionLinkEnded {
				ended++
				if e.ActorRole != models.AuditRoleSystem || e.ActorID != 0 || e.Reason != "Ava turned 18, so supervision ended automatically." {
					t.Errorf("age-18 audit entry = %+v", e)
				}
			}
		}
		if ended != 2 {
			t.Errorf("%d link.ended entries, want 2", ended)
		}
		gts, _ := s.GuardianTeens(ctx, cop.Actor)
		if len(gts) != 1 || gts[0].Link.EndReason != "Ava turned 18, so supervision ended automatically." || gts[0].Link.EndedBy != nil {
			t.Errorf("ended link = %+v", gts)
		}
	})
}
