package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hearth-safety/hearth/models"
	"github.com/hearth-safety/hearth/models/store"
)

// alertMails returns the alert emails (not the linking flows' ones) in the
// outbox, by recipient.
func alertMails(t *testing.T, o *tableOutbox, subjectPart string) map[string][]mail {
	t.Helper()
	out := map[string][]mail{}
	for _, m := range o.mails(t) {
		if strings.Contains(m.Subject, subjectPart) {
			out[m.To] = append(out[m.To], m)
		}
	}
	return out
}

func recipients(ms map[string][]mail) []string {
	var out []string
	for to, list := range ms {
		for range list {
			out = append(out, to)
		}
	}
	slices.Sort(out)
	return out
}

func (w *world) seedAlert(t *testing.T, teen models.Teen, cat models.Category, sev models.Severity, received time.Time) int64 {
	t.Helper()
	w.n++
	ids, err := w.s.SeedAlerts(ctx, w.client.ID, []store.SeedAlert{{Event: models.Event{
		ID: fmt.Sprintf("evt_%d", w.n), TeenID: teen.PlatformUserID, CounterpartID: "u_counterpart9",
		Direction: models.DirectionInbound, Category: cat, Severity: sev, ActionTaken: models.ActionMessageBlocked,
		OccurredAt: received}, ReceivedAt: received}})
	if err != nil {
		t.Fatal(err)
	}
	return ids[0]
}

func setPref(t *testing.T, s *store.Store, g party, c models.Category, f models.ImmediateFrom) {
	t.Helper()
	p, err := s.AlertPreferences(ctx, g.Actor)
	if err != nil {
		t.Fatal(err)
	}
	p.Immediate[c] = f
	if err := s.SaveAlertPreferences(ctx, g.Actor, p); err != nil {
		t.Fatal(err)
	}
}

// failingOutbox fails for one address, to show a failed job leaves no trace.
type failingOutbox struct {
	next models.EmailOutbox
	fail string
}

func (o failingOutbox) EnqueueEmail(ctx context.Context, tx *sql.Tx, to, subject, text string) error {
	if to == o.fail {
		return errors.New("mail queue unavailable")
	}
	return o.next.EnqueueEmail(ctx, tx, to, subject, text)
}

func TestStore_QueueAlertEmails(t *testing.T) {
	eachWorld(t, func(t *testing.T, w *world) {
		maya, mayaP := w.teen(t, "Maya", "2012-06")
		gone := w.guardian(t, "Ed Ended")
		l := w.link(t, gone, mayaP)
		rawExec(t, w.s, "UPDATE links SET state = 'ended', ended_at = ? WHERE id = ?", w.c.Now(), l.ID)
		byDefault := w.guardian(t, "Dee Default")
		eager := w.guardian(t, "Mo Medium")
		never := w.guardian(t, "Nev Never")
		suspended := w.guardian(t, "Sus Pended")
		for _, g := range []party{byDefault, eager, never, suspended} {
			w.link(t, g, mayaP)
		}
		rawExec(t, w.s, "UPDATE links SET state = 'suspended' WHERE guardian_id = ?", suspended.UserID)
		setPref(t, w.s, eager, models.CategoryBullying, models.ImmediateFromMedium)
		setPref(t, w.s, never, models.CategoryBullying, models.ImmediateNever)
		setPref(t, w.s, suspended, models.CategoryBullying, models.ImmediateFromLow)
		setPref(t, w.s, gone, models.CategoryBullying, models.ImmediateFromLow)

		at := time.Date(2026, 11, 27, 21, 30, 0, 0, time.UTC)
		medium := w.seedAlert(t, maya, models.CategoryBullying, models.SeverityMedium, at)
		high := w.seedAlert(t, maya, models.CategoryBullying, models.SeverityHigh, at)
		critical := w.seedAlert(t, maya, models.CategoryScam, models.SeverityCritical, at)
		low := w.seedAlert(t, maya, models.CategoryBullying, models.SeverityLow, at)

		queue := func(ids ...int64) int {
			t.Helper()
			n, err := w.s.QueueAlertEmails(ctx, ids)
			if err != nil {
				t.Fatalf("QueueAlertEmails(%v): %v", ids, err)
			}
			return n
		}

		t.Run("who_gets_which_severity", func(t *testing.T) {
			if n := queue(medium); n != 1 {
				t.Errorf("medium bullying queued %d, want 1 (the guardian who chose medium)", n)
			}
			if n := queue(high, critical, low); n != 5 {
				t.Errorf("high bullying, critical scam and low bullying queued %d, want 2 + 3 + 0", n)
			}
			got := recipients(alertMails(t, w.out, "safety alert about Maya"))
			want := []string{byDefault.Email, byDefault.Email, eager.Email, eager.Email, eager.Email, never.Email}
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Errorf("emails went to %v, want %v (never the suspended or ended guardian)", got, want)
			}
			if n := rawInt(t, w.s, "SELECT COUNT(*) FROM alerts WHERE emailed_at IS NOT NULL"); n != 3 {
				t.Errorf("%d alerts have emailed_at, want 3 (not the low one)", n)
			}
		})

		t.Run("a_retry_emails_nobody_again", func(t *testing.T) {
			before := len(w.out.mails(t))
			if n := queue(medium, high, critical, low); n != 0 {
				t.Errorf("second run queued %d emails", n)
			}
			if after := len(w.out.mails(t)); after != before {
				t.Errorf("outbox grew from %d to %d", before, after)
			}
		})

		t.Run("a_burst_crossing_a_threshold_emails_once_it_does", func(t *testing.T) {
			burst := w.seedAlert(t, maya, models.CategoryBullying, models.SeverityMedium, at.Add(time.Minute))
			queue(burst)
			rawExec(t, w.s, "UPDATE alerts SET severity = 'high', severity_rank = 3, occurrences = 3 WHERE id = ?", burst)
			if n := queue(burst); n != 1 {
				t.Fatalf("grown to high: queued %d, want 1 (the default guardian only)", n)
			}
			var toDefault []mail
			for _, m := range alertMails(t, w.out, "safety alert about Maya")[byDefault.Email] {
				if strings.Contains(m.Text, "3 times") {
					toDefault = append(toDefault, m)
				}
			}
			if len(toDefault) != 1 || !strings.HasPrefix(toDefault[0].Subject, "High") {
				t.Errorf("the default guardian's emails about the grown burst: %+v", toDefault)
			}
			rawExec(t, w.s, "UPDATE alerts SET severity = 'critical', severity_rank = 4 WHERE id = ?", burst)
			if n := queue(burst); n != 0 {
				t.Errorf("grown again to critical: queued %d, want 0 (everyone it concerns was already emailed)", n)
			}
		})

		t.Run("the_email_says_what_when_and_where_and_nothing_else", func(t *testing.T) {
			ms := alertMails(t, w.out, "safety alert about Maya")[never.Email]
			if len(ms) != 1 {
				t.Fatalf("never-for-bullying guardian got %d emails, want the scam one", len(ms))
			}
			m := ms[0]
			if m.Subject != "Critical safety alert about Maya" {
				t.Errorf("subject %q", m.Subject)
			}
			for _, want := range []string{
				"Hello Nev Never", "What kind: scam", "Friday 27 November 2026 at 21:30, Maya’s time (Europe/London)",
				"What the platform did: blocked the message", "one sent to Maya",
				fmt.Sprintf("%s/teens/%d/alerts", testBaseURL, maya.ID), testBaseURL + "/account/alerts",
			} {
				if !strings.Contains(m.Text, want) {
					t.Errorf("email lacks %q:\n%s", want, m.Text)
				}
			}
			for _, never := range []string{"u_counterpart9", "evt_", maya.PlatformUserID, byDefault.Name, "app"} {
				if strings.Contains(m.Subject+m.Text, never) {
					t.Errorf("email contains %q:\n%s", never, m.Text)
				}
			}
		})

		t.Run("a_failed_queue_leaves_no_trace_and_the_retry_sends_all", func(t *testing.T) {
			next := w.seedAlert(t, maya, models.CategoryGrooming, models.SeverityHigh, at.Add(2*time.Minute))
			before := len(w.out.mails(t))
			w.s.SetOutbox(failingOutbox{next: w.out, fail: never.Email}, testBaseURL)
			if _, err := w.s.QueueAlertEmails(ctx, []int64{next}); err == nil {
				t.Fatal("QueueAlertEmails succeeded with a failing outbox")
			}
			if after := len(w.out.mails(t)); after != before {
				t.Errorf("a failed run left %d emails", after-before)
			}
			if n := rawInt(t, w.s, "SELECT COUNT(*) FROM alert_emails WHERE alert_id = ?", next); n != 0 {
				t.Errorf("a failed run left %d alert_emails rows", n)
			}
			w.s.SetOutbox(w.out, testBaseURL)
			if n := queue(next); n != 3 {
				t.Errorf("the retry queued %d, want 3", n)
			}
		})

		t.Run("deleted_alerts_are_skipped", func(t *testing.T) {
			if n := queue(987654); n != 0 {
				t.Errorf("a missing alert queued %d", n)
			}
		})
	})
}

func TestStore_SendWeeklyDigests(t *testing.T) {
	eachWorld(t, func(t *testing.T, w *world) {
		maya, mayaP := w.teen(t, "Maya", "2012-06")
		leo, leoP := w.teen(t, "Leo", "2010-06")
		_, samP := w.teen(t, "Sam", "2011-06")
		pat := w.guardian(t, "Pat Parent")    // Maya and Leo, digest on
		opted := w.guardian(t, "Oz Out")      // Maya, digest off
		quiet := w.guardian(t, "Quinn Quiet") // Sam, who has no alerts
		eager := w.guardian(t, "Lo Lowest")   // Leo, every alert at once
		ended := w.guardian(t, "Ed Ended")    // Maya, link ended
		w.link(t, pat, mayaP)
		w.link(t, pat, leoP)
		w.link(t, opted, mayaP)
		w.link(t, quiet, samP)
		w.link(t, eager, leoP)
		l := w.link(t, ended, mayaP)
		rawExec(t, w.s, "UPDATE links SET state = 'ended', ended_at = ? WHERE id = ?", w.c.Now(), l.ID)
		p, _ := w.s.AlertPreferences(ctx, opted.Actor)
		p.Weekly = false
		if err := w.s.SaveAlertPreferences(ctx, opted.Actor, p); err != nil {
			t.Fatal(err)
		}
		for _, c := range models.Categories {
			setPref(t, w.s, eager, c, models.ImmediateFromLow)
		}

		now := w.c.Now() // Friday 27 Nov 2026 12:00 UTC
		w.seedAlert(t, maya, models.CategoryBullying, models.SeverityLow, now.Add(-2*time.Hour))
		w.seedAlert(t, maya, models.CategorySpam, models.SeverityMedium, now.Add(-26*time.Hour))
		w.seedAlert(t, maya, models.CategorySpam, models.SeverityLow, now.Add(-3*24*time.Hour))
		w.seedAlert(t, maya, models.CategoryHate, models.SeverityLow, now.Add(-8*24*time.Hour)) // more than a week ago
		high := w.seedAlert(t, maya, models.CategoryGrooming, models.SeverityHigh, now.Add(-time.Hour))
		w.seedAlert(t, leo, models.CategoryScam, models.SeverityMedium, now.Add(-4*time.Hour))
		if _, err := w.s.QueueAlertEmails(ctx, []int64{high}); err != nil {
			t.Fatal(err)
		}

		digests := func() map[string][]mail { return alertMails(t, w.out, "weekly Hearth summary") }
		send := func() int {
			t.Helper()
			n, err := w.s.SendWeeklyDigests(ctx)
			if err != nil {
				t.Fatalf("SendWeeklyDigests: %v", err)
			}
			return n
		}

		if n := send(); n != 1 {
			t.Errorf("first run sent %d digests, want 1", n)
		}
		got := digests()
		if len(got) != 1 || len(got[pat.Email]) != 1 {
			t.Fatalf("digests went to %v, want only %s (opted out, nothing to report, all at once and ended get none)", recipients(got), pat.Email)
		}
		text := got[pat.Email][0].Text
		for _, want := range []string{"Hello Pat Parent", "Leo: 1 alert\n  - scam: 1\n",
			"Maya: 3 alerts\n  - bullying: 1\n  - spam: 2\n", testBaseURL + "/alerts\n", testBaseURL + "/account/alerts"} {
			if !strings.Contains(text, want) {
				t.Errorf("digest lacks %q:\n%s", want, text)
			}
		}
		for _, never := range []string{"grooming", "hate", "u_counterpart9", "evt_"} {
			if strings.Contains(text, never) {
				t.Errorf("digest contains %q:\n%s", never, text)
			}
		}
		if n := rawInt(t, w.s, "SELECT COUNT(*) FROM alerts WHERE digested_at IS NOT NULL"); n != 4 {
			t.Errorf("%d alerts have digested_at, want the 4 counted", n)
		}
		for _, g := range []party{pat, quiet, eager} {
			if n := rawInt(t, w.s, "SELECT COUNT(*) FROM digest_settings WHERE user_id = ? AND last_sent_at IS NOT NULL", g.UserID); n != 1 {
				t.Errorf("%s's week is not marked done", g.Name)
			}
		}
		if n := rawInt(t, w.s, "SELECT COUNT(*) FROM digest_settings WHERE user_id = ? AND last_sent_at IS NOT NULL", opted.UserID); n != 0 {
			t.Errorf("the opted-out guardian's week was marked")
		}

		// Once a week: not again this week, whatever arrives.
		w.seedAlert(t, maya, models.CategoryViolence, models.SeverityLow, now.Add(time.Hour))
		for _, d := range []time.Duration{time.Hour, 24 * time.Hour, 24 * time.Hour} { // to Sunday 13:00
			w.c.Add(d)
			if n := send(); n != 0 {
				t.Errorf("%v later: sent %d digests", d, n)
			}
		}
		// Monday 30 Nov 09:00 UTC: the next week's digest has only what is new.
		w.c.Add(20 * time.Hour)
		if n := send(); n != 1 {
			t.Fatalf("next Monday: sent %d digests, want 1", n)
		}
		got = digests()
		if len(got[pat.Email]) != 2 {
			t.Fatalf("Pat has %d digests, want 2", len(got[pat.Email]))
		}
		second := got[pat.Email][1].Text
		if !strings.Contains(second, "Maya: 1 alert\n  - violence: 1\n") || strings.Contains(second, "spam") || strings.Contains(second, "Leo") {
			t.Errorf("second digest:\n%s", second)
		}
		// The week after, with nothing new: no email.
		w.c.Add(7 * 24 * time.Hour)
		if n := send(); n != 0 {
			t.Errorf("a week with nothing to report sent %d digests", n)
		}
	})
}

// gateOutbox holds the first email queued through it (inside its
// transaction) until release is closed, so a test can start a competing
// run while that transaction is open.
type gateOutbox struct {
	next    models.EmailOutbox
	once    sync.Once
	entered chan struct{}
	release chan struct{}
}

func (o *gateOutbox) EnqueueEmail(ctx context.Context, tx *sql.Tx, to, subject, text string) error {
	o.once.Do(func() {
		close(o.entered)
		<-o.release
	})
	return o.next.EnqueueEmail(ctx, tx, to, subject, text)
}

// TestStore_SendWeeklyDigests_Racing runs the digest on two stores over one
// database at once, as two `hearth serve` processes would: the second
// starts while the first is inside a guardian's transaction, so it sees
// every guardian as due. Each guardian still gets one digest.
func TestStore_SendWeeklyDigests_Racing(t *testing.T) {
	eachWorld(t, func(t *testing.T, w *world) {
		var teens []models.Teen
		for i := range 3 {
			tn, tp := w.teen(t, fmt.Sprintf("Teen %d", i), "2012-06")
			teens = append(teens, tn)
			for j := range 3 {
				g := w.guardian(t, fmt.Sprintf("Guardian %d-%d", i, j))
				w.link(t, g, tp)
			}
		}
		for _, tn := range teens {
			w.seedAlert(t, tn, models.CategorySpam, models.SeverityLow, w.c.Now().Add(-time.Hour))
		}
		gate := &gateOutbox{next: w.out, entered: make(chan struct{}), release: make(chan struct{})}
		w.s.SetOutbox(gate, testBaseURL)
		other := w.s
		if w.s.Dialect() == store.Postgres {
			var err error
			other, err = store.Open(ctx, w.s.DSN(), store.Options{Now: w.c.Now})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { other.Close() })
			other.SetOutbox(&tableOutbox{s: other}, testBaseURL)
		}
		var wg sync.WaitGroup
		var mu sync.Mutex
		total := 0
		run := func(s *store.Store) {
			defer wg.Done()
			n, err := s.SendWeeklyDigests(ctx)
			if err != nil {
				t.Errorf("SendWeeklyDigests: %v", err)
			}
			mu.Lock()
			total += n
			mu.Unlock()
		}
		wg.Add(1)
		go run(w.s)
		<-gate.entered
		wg.Add(2)
		go run(other)
		go run(other)
		time.Sleep(300 * time.Millisecond) // the others list every guardian as due and wait on the first one's row
		close(gate.release)
		wg.Wait()
		got := alertMails(t, w.out, "weekly Hearth summary")
		if len(got) != 9 || total != 9 {
			t.Errorf("%d guardians got digests (runs reported %d), want 9", len(got), total)
		}
		for to, ms := range got {
			if len(ms) != 1 {
				t.Errorf("%s got %d digests", to, len(ms))
			}
		}
	})
}
