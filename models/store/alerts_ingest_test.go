package store_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hearth-safety/hearth/models"
	"github.com/hearth-safety/hearth/models/store"
	"github.com/hearth-safety/hearth/models/store/storetest"
)

// ingestWorld is a store with a client whose teens tk_s_000001… are
// supervised by one guardian, tk_free is provisioned but supervised by
// nobody, and (unless ended) nothing else.
type ingestWorld struct {
	s      *store.Store
	client models.ServiceClient
}

var ingestT0 = time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC)

func newIngestWorld(t *testing.T, s *store.Store, supervised int) *ingestWorld {
	t.Helper()
	cl, _ := newClient(t, s, "app")
	rawExec(t, s, "INSERT INTO users (email, name, role, password_hash, email_verified_at, created_at, updated_at) VALUES (?, ?, 'guardian', '', ?, ?, ?)",
		"pat@example.com", "Pat", day0, day0, day0)
	gid := rawInt(t, s, "SELECT id FROM users WHERE email = ?", "pat@example.com")
	if err := s.SeedSupervisedTeens(ctx, cl.ID, int64(gid), "tk_s_", supervised, nil); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.UpsertTeen(ctx, cl.ID, "tk_free", store.TeenInput{DisplayName: "Free", BirthMonth: "2012-01", TimeZone: "Europe/London"}); err != nil {
		t.Fatal(err)
	}
	return &ingestWorld{s: s, client: cl}
}

// ev is an inbound bullying event about teen at ingestT0 plus offset.
func ev(id, teen, counterpart string, offset time.Duration) models.Event {
	return models.Event{ID: id, TeenID: teen, CounterpartID: counterpart, Direction: models.DirectionInbound,
		Category: models.CategoryBullying, Severity: models.SeverityLow, ActionTaken: models.ActionNone,
		OccurredAt: ingestT0.Add(offset)}
}

func (w *ingestWorld) ingest(t *testing.T, events ...models.Event) models.IngestResult {
	t.Helper()
	r, err := w.s.IngestEvents(ctx, w.client.ID, events)
	if err != nil {
		t.Fatalf("IngestEvents: %v", err)
	}
	return r
}

type storedAlert struct {
	EventID, Counterpart, Category, Severity, Action string
	Occurrences, Rank                                int
	First, Last                                      time.Time
}

// alerts returns every stored alert, by ID.
func alerts(t *testing.T, s *store.Store) []storedAlert {
	t.Helper()
	rows, err := s.SQLDB().QueryContext(ctx, `SELECT event_id, counterpart_id, category, severity, action_taken,
		occurrences, severity_rank, occurred_at, last_occurred_at FROM alerts ORDER BY id`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []storedAlert
	for rows.Next() {
		var a storedAlert
		var first, last any
		if err := rows.Scan(&a.EventID, &a.Counterpart, &a.Category, &a.Severity, &a.Action, &a.Occurrences, &a.Rank, &first, &last); err != nil {
			t.Fatal(err)
		}
		a.First, a.Last = asTime(t, first), asTime(t, last)
		out = append(out, a)
	}
	return out
}

// asTime reads a timestamp as either driver returns it.
func asTime(t *testing.T, v any) time.Time {
	t.Helper()
	switch x := v.(type) {
	case time.Time:
		return x.UTC()
	case string:
		for _, layout := range []string{"2006-01-02 15:04:05.999999999-07:00", time.RFC3339Nano, "2006-01-02 15:04:05.999999999"} {
			if tm, err := time.Parse(layout, x); err == nil {
				return tm.UTC()
			}
		}
	}
	t.Fatalf("not a time: %#v", v)
	return time.Time{}
}

func TestStore_IngestEvents(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		w := newIngestWorld(t, s, 3)
		maya := store.SeedPlatformID("tk_s_", 1)
		got := w.ingest(t,
			ev("e1", maya, "u_9", 0),
			ev("e2", maya, "u_8", 0),
			ev("e1", maya, "u_9", 0),      // repeated in the report
			ev("e3", "tk_free", "u_9", 0), // nobody supervises tk_free
			ev("e4", "tk_nobody", "u_9", 0),
		)
		if want := (models.IngestResult{Accepted: 2, Duplicates: 1, Ignored: 2}); got != want {
			t.Errorf("first report = %+v, want %+v", got, want)
		}
		if n := rawInt(t, s, "SELECT COUNT(*) FROM received_events"); n != 2 {
			t.Errorf("%d event IDs remembered, want 2 (ignored events leave nothing)", n)
		}
		if n := rawInt(t, s, "SELECT COUNT(*) FROM received_events WHERE event_id IN ('e3', 'e4')"); n != 0 {
			t.Errorf("the IDs of ignored events were kept")
		}
		if as := alerts(t, s); len(as) != 2 || as[0].Occurrences != 1 || as[1].Occurrences != 1 {
			t.Fatalf("alerts = %+v, want two single ones", as)
		}

		// Redelivery: all duplicates; the ignored stay ignored.
		got = w.ingest(t, ev("e1", maya, "u_9", 0), ev("e2", maya, "u_8", 0), ev("e3", "tk_free", "u_9", 0))
		if want := (models.IngestResult{Duplicates: 2, Ignored: 1}); got != want {
			t.Errorf("redelivery = %+v, want %+v", got, want)
		}
		if as := alerts(t, s); len(as) != 2 || as[0].Occurrences+as[1].Occurrences != 2 {
			t.Errorf("a redelivery changed the alerts: %+v", as)
		}

		// The ID is kept even after retention deletes the alert.
		rawExec(t, s, "DELETE FROM alerts")
		if got := w.ingest(t, ev("e1", maya, "u_9", 0)); got != (models.IngestResult{Duplicates: 1}) {
			t.Errorf("after the alert was deleted, redelivery = %+v, want a duplicate", got)
		}

		// A suspended link still supervises; an ended one does not.
		leo, sam := store.SeedPlatformID("tk_s_", 2), store.SeedPlatformID("tk_s_", 3)
		rawExec(t, s, "UPDATE links SET state = 'suspended' WHERE teen_id = (SELECT id FROM teens WHERE platform_user_id = ?)", leo)
		rawExec(t, s, "UPDATE links SET state = 'ended', ended_at = ? WHERE teen_id = (SELECT id FROM teens WHERE platform_user_id = ?)", day0, sam)
		if got := w.ingest(t, ev("e5", leo, "", 0), ev("e6", sam, "", 0)); got != (models.IngestResult{Accepted: 1, Ignored: 1}) {
			t.Errorf("suspended and ended links: %+v, want the suspended teen's accepted and the other ignored", got)
		}

		// Empty reports do nothing.
		if got := w.ingest(t); got != (models.IngestResult{}) {
			t.Errorf("empty report = %+v", got)
		}
	})
}

func TestStore_IngestEvents_Bursts(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		w := newIngestWorld(t, s, 1)
		maya := store.SeedPlatformID("tk_s_", 1)
		high := ev("b2", maya, "u_9", 30*time.Minute)
		high.Severity, high.ActionTaken = models.SeverityHigh, models.ActionMessageBlocked
		medium := ev("b3", maya, "u_9", 80*time.Minute) // 50 min after b2: still the burst
		medium.Severity, medium.ActionTaken = models.SeverityMedium, models.ActionSenderWarned
		other := ev("c1", maya, "u_9", 10*time.Minute)
		other.Category = models.CategoryScam
		got := w.ingest(t, ev("b1", maya, "u_9", 0), high, medium, other, ev("d1", maya, "u_7", 5*time.Minute))
		if got != (models.IngestResult{Accepted: 5}) {
			t.Fatalf("result = %+v", got)
		}
		as := alerts(t, s)
		if len(as) != 3 {
			t.Fatalf("%d alerts, want 3 (one burst, another category, another account): %+v", len(as), as)
		}
		b := as[0]
		if b.EventID != "b1" || b.Occurrences != 3 || !b.First.Equal(ingestT0) || !b.Last.Equal(ingestT0.Add(80*time.Minute)) ||
			b.Severity != "high" || b.Rank != 3 || b.Action != "message_blocked" {
			t.Errorf("burst = %+v, want b1 ×3 from T0 to T0+80m, high, message_blocked", b)
		}

		// Later reports grow it: within the window after its last event,
		// and a late event within the window before its first.
		late := ev("b0", maya, "u_9", -40*time.Minute)
		crit := ev("b4", maya, "u_9", 140*time.Minute)
		crit.Severity, crit.ActionTaken = models.SeverityCritical, models.ActionSenderSuspended
		if got := w.ingest(t, crit, late); got != (models.IngestResult{Accepted: 2}) {
			t.Fatalf("result = %+v", got)
		}
		b = alerts(t, s)[0]
		if b.Occurrences != 5 || !b.First.Equal(ingestT0.Add(-40*time.Minute)) || !b.Last.Equal(ingestT0.Add(140*time.Minute)) ||
			b.Severity != "critical" || b.Action != "sender_suspended" {
			t.Errorf("grown burst = %+v", b)
		}
		// A lower severity never lowers it.
		low := ev("b5", maya, "u_9", 150*time.Minute)
		w.ingest(t, low)
		if b = alerts(t, s)[0]; b.Occurrences != 6 || b.Severity != "critical" || b.Action != "sender_suspended" {
			t.Errorf("after a low event: %+v", b)
		}

		// More than the window after the last event: a new alert.
		w.ingest(t, ev("b6", maya, "u_9", 150*time.Minute+models.BurstWindow+time.Second))
		if as := alerts(t, s); len(as) != 4 || as[3].EventID != "b6" || as[3].Occurrences != 1 {
			t.Errorf("an event past the window grew a burst: %+v", as)
		}
		total := rawInt(t, s, "SELECT SUM(occurrences) FROM alerts")
		if ids := rawInt(t, s, "SELECT COUNT(*) FROM received_events"); total != ids || ids != 9 {
			t.Errorf("occurrences sum to %d over %d remembered events, want 9 and 9", total, ids)
		}
	})
}

// recordingNotifier remembers the alert IDs it is told of, and fails when
// told to.
type recordingNotifier struct {
	mu   sync.Mutex
	ids  [][]int64
	fail bool
}

func (n *recordingNotifier) AlertsStored(_ context.Context, tx *sql.Tx, ids []int64) error {
	if tx == nil {
		return errors.New("no transaction")
	}
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.fail {
		return errors.New("outbox unavailable")
	}
	n.ids = append(n.ids, ids)
	return nil
}

func TestStore_IngestEvents_Notifier(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		w := newIngestWorld(t, s, 2)
		n := &recordingNotifier{}
		s.SetAlertNotifier(n)
		maya, leo := store.SeedPlatformID("tk_s_", 1), store.SeedPlatformID("tk_s_", 2)
		w.ingest(t, ev("n1", maya, "u_9", 0), ev("n2", leo, "u_9", 0))
		if len(n.ids) != 1 || len(n.ids[0]) != 2 {
			t.Fatalf("notifier heard %v, want the two new alerts once", n.ids)
		}
		first := n.ids[0]
		// A duplicate announces nothing; a grown burst is announced again,
		// with a new alert beside it.
		w.ingest(t, ev("n1", maya, "u_9", 0))
		w.ingest(t, ev("n3", maya, "u_9", time.Minute), ev("n4", maya, "u_5", 0))
		if len(n.ids) != 2 || len(n.ids[1]) != 2 || !slices.Contains(n.ids[1], first[0]) && !slices.Contains(n.ids[1], first[1]) {
			t.Fatalf("notifier heard %v, want the grown alert and the new one", n.ids)
		}

		// A notifier that fails rolls the report back: nothing is kept and
		// a redelivery is accepted.
		before := rawInt(t, s, "SELECT COUNT(*) FROM received_events")
		n.fail = true
		if _, err := s.IngestEvents(ctx, w.client.ID, []models.Event{ev("n5", leo, "u_1", 0)}); err == nil {
			t.Fatal("IngestEvents succeeded though the notifier failed")
		}
		if after := rawInt(t, s, "SELECT COUNT(*) FROM received_events"); after != before {
			t.Errorf("a failed report kept %d event IDs", after-before)
		}
		n.fail = false
		if got := w.ingest(t, ev("n5", leo, "u_1", 0)); got.Accepted != 1 {
			t.Errorf("redelivery after the failure = %+v, want accepted", got)
		}
	})
}

// TestStore_IngestEvents_ConcurrentDuplicates delivers the same reports
// from many goroutines at once: every event must be stored exactly once,
// as one alert per burst.
func TestStore_IngestEvents_ConcurrentDuplicates(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		const teens, senders = 10, 8
		w := newIngestWorld(t, s, teens)
		var report []models.Event
		for i := range 60 {
			// Three events per teen and account, a minute apart: 20 bursts.
			teen := store.SeedPlatformID("tk_s_", i%teens+1)
			report = append(report, ev(fmt.Sprintf("c%03d", i), teen, fmt.Sprintf("u_%d", i%20/teens), time.Duration(i/20)*time.Minute))
		}
		var wg sync.WaitGroup
		results := make([]models.IngestResult, senders)
		errs := make([]error, senders)
		start := make(chan struct{})
		for g := range senders {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				// Each sender sends the report in a different order.
				mine := slices.Clone(report)
				for i := range mine {
					j := (i*7 + g*13) % len(mine)
					mine[i], mine[j] = mine[j], mine[i]
				}
				results[g], errs[g] = s.IngestEvents(ctx, w.client.ID, mine)
			}()
		}
		close(start)
		wg.Wait()
		var sum models.IngestResult
		for g := range senders {
			if errs[g] != nil {
				t.Fatalf("sender %d: %v", g, errs[g])
			}
			sum.Accepted += results[g].Accepted
			sum.Duplicates += results[g].Duplicates
			sum.Ignored += results[g].Ignored
		}
		if want := (models.IngestResult{Accepted: 60, Duplicates: 60 * (senders - 1)}); sum != want {
			t.Errorf("summed results = %+v, want %+v", sum, want)
		}
		if n := rawInt(t, s, "SELECT COUNT(*) FROM received_events"); n != 60 {
			t.Errorf("%d event IDs remembered, want 60", n)
		}
		if n := rawInt(t, s, "SELECT COUNT(*) FROM alerts"); n != 20 {
			t.Errorf("%d alerts, want 20 (one per teen and account)", n)
		}
		if n := rawInt(t, s, "SELECT SUM(occurrences) FROM alerts"); n != 60 {
			t.Errorf("occurrences sum to %d, want 60", n)
		}
	})
}

// TestStore_IngestEvents_FullReport sends the largest report, across more
// teens than one lookup or insert statement takes.
func TestStore_IngestEvents_FullReport(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		w := newIngestWorld(t, s, 300)
		var report []models.Event
		for i := range models.MaxEventsPerReport {
			teen := store.SeedPlatformID("tk_s_", i%300+1)
			if i%50 == 0 {
				teen = "tk_free"
			}
			report = append(report, ev(fmt.Sprintf("f%04d", i), teen, fmt.Sprintf("u_%d", i), time.Duration(i)*time.Second))
		}
		if got := w.ingest(t, report...); got != (models.IngestResult{Accepted: 490, Ignored: 10}) {
			t.Errorf("result = %+v", got)
		}
		if n := rawInt(t, s, "SELECT COUNT(*) FROM alerts"); n != 490 {
			t.Errorf("%d alerts, want 490", n)
		}
		if got := w.ingest(t, report...); got != (models.IngestResult{Duplicates: 490, Ignored: 10}) {
			t.Errorf("again = %+v", got)
		}
	})
}
