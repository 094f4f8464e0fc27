package rulecounts

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hearth-safety/hearth/models"
	"github.com/hearth-safety/hearth/policy"
)

// fakeSink records what reaches it, keyed as the store would sum it.
type fakeSink struct {
	mu    sync.Mutex
	calls int
	got   map[string]int64 // "client/teen/day/reason" → total
	fail  atomic.Int32     // fail this many calls
}

func newSink() *fakeSink { return &fakeSink{got: map[string]int64{}} }

func (s *fakeSink) AddRuleCounts(_ context.Context, ds []models.RuleCountDelta) (int, error) {
	if s.fail.Load() > 0 {
		s.fail.Add(-1)
		return 0, errors.New("database is down")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	for _, d := range ds {
		s.got[fmt.Sprintf("%d/%s/%s/%s", d.ClientID, d.PlatformUserID, d.Day, d.Reason)] += d.Count
	}
	return 0, nil
}

func (s *fakeSink) total() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	var n int64
	for _, v := range s.got {
		n += v
	}
	return n
}

func (s *fakeSink) get(k string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.got[k]
}

func fixed(t time.Time) func() time.Time { return func() time.Time { return t } }

func zone(t *testing.T, name string) *time.Location {
	t.Helper()
	l, err := time.LoadLocation(name)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

var bg = context.Background()

func TestConcurrentRecordsSumExactly(t *testing.T) {
	sink := newSink()
	c := New(sink, Config{Now: fixed(time.Date(2026, 11, 27, 15, 0, 0, 0, time.UTC))})
	teens := []string{"tk_maya", "tk_leo", "tk_sam", "tk_ava"}
	reasons := []policy.Reason{policy.ReasonQuietHours, policy.ReasonNotFriends, policy.ReasonAllowed}
	const goroutines, each = 32, 5000

	// Flushes run all the while: no count may be lost or flushed twice.
	stop := make(chan struct{})
	flushed := make(chan struct{})
	go func() {
		defer close(flushed)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if err := c.Flush(bg); err != nil {
				t.Error(err)
			}
			time.Sleep(100 * time.Microsecond)
		}
	}()
	var wg sync.WaitGroup
	for g := range goroutines {
		wg.Go(func() {
			for i := range each {
				c.Record(1, teens[(g+i)%len(teens)], time.UTC, reasons[i%len(reasons)])
			}
		})
	}
	wg.Wait()
	close(stop)
	<-flushed
	if err := c.Flush(bg); err != nil {
		t.Fatal(err)
	}
	if got, want := sink.total(), int64(goroutines*each); got != want {
		t.Fatalf("flushed %d counts in all, want %d", got, want)
	}
	// Each (teen, reason) pair gets an exact share.
	want := map[string]int64{}
	for g := range goroutines {
		for i := range each {
			want[fmt.Sprintf("1/%s/2026-11-27/%s", teens[(g+i)%len(teens)], reasons[i%len(reasons)])]++
		}
	}
	for k, n := range want {
		if got := sink.get(k); got != n {
			t.Errorf("%s = %d, want %d", k, got, n)
		}
	}
	if p := c.Pending(); p != 0 {
		t.Errorf("pending after the last flush = %d", p)
	}
}

func TestFlushMovesCountsOnce(t *testing.T) {
	sink := newSink()
	c := New(sink, Config{Now: fixed(time.Date(2026, 11, 27, 15, 0, 0, 0, time.UTC))})
	for range 12 {
		c.Record(7, "tk_maya", time.UTC, policy.ReasonQuietHours)
	}
	c.Record(7, "tk_maya", time.UTC, policy.ReasonNotFriends)
	if err := c.Flush(bg); err != nil {
		t.Fatal(err)
	}
	if err := c.Flush(bg); err != nil {
		t.Fatal(err)
	}
	if got := sink.get("7/tk_maya/2026-11-27/quiet_hours"); got != 12 {
		t.Errorf("quiet_hours = %d, want 12", got)
	}
	if got := sink.get("7/tk_maya/2026-11-27/not_friends"); got != 1 {
		t.Errorf("not_friends = %d, want 1", got)
	}
	if sink.calls != 1 {
		t.Errorf("sink called %d times; a flush with nothing new must not call it", sink.calls)
	}

	// A failed flush keeps its counts for the next one.
	c.Record(7, "tk_maya", time.UTC, policy.ReasonQuietHours)
	sink.fail.Store(1)
	if err := c.Flush(bg); err == nil {
		t.Fatal("flush to a failing sink succeeded")
	}
	if p := c.Pending(); p != 1 {
		t.Errorf("pending after a failed flush = %d, want 1", p)
	}
	c.Record(7, "tk_maya", time.UTC, policy.ReasonQuietHours)
	if err := c.Flush(bg); err != nil {
		t.Fatal(err)
	}
	if got := sink.get("7/tk_maya/2026-11-27/quiet_hours"); got != 14 {
		t.Errorf("quiet_hours after retry = %d, want 14", got)
	}
}

func TestDayIsTheTeensDay(t *testing.T) {
	cases := []struct {
		at   time.Time
		zone string
		day  string
	}{
		// 23:30 UTC on 27 Nov: still the 27th in London, already the 28th
		// in Tokyo, the afternoon of the 27th in New York.
		{time.Date(2026, 11, 27, 23, 30, 0, 0, time.UTC), "Europe/London", "2026-11-27"},
		{time.Date(2026, 11, 27, 23, 30, 0, 0, time.UTC), "Asia/Tokyo", "2026-11-28"},
		{time.Date(2026, 11, 27, 23, 30, 0, 0, time.UTC), "America/New_York", "2026-11-27"},
		// 04:30 UTC on the 28th is 23:30 on the 27th in New York.
		{time.Date(2026, 11, 28, 4, 30, 0, 0, time.UTC), "America/New_York", "2026-11-27"},
		{time.Date(2026, 11, 28, 5, 0, 0, 0, time.UTC), "America/New_York", "2026-11-28"},
		// Summer time: 23:30 UTC on 30 June is 00:30 on 1 July in London.
		{time.Date(2026, 6, 30, 23, 30, 0, 0, time.UTC), "Europe/London", "2026-07-01"},
		{time.Date(2026, 12, 31, 23, 59, 59, 0, time.UTC), "UTC", "2026-12-31"},
	}
	for _, tc := range cases {
		sink := newSink()
		c := New(sink, Config{Now: fixed(tc.at)})
		c.Record(1, "tk_x", zone(t, tc.zone), policy.ReasonQuietHours)
		c.Flush(bg)
		if got := sink.get("1/tk_x/" + tc.day + "/quiet_hours"); got != 1 {
			t.Errorf("%s in %s: counts %v, want one on %s", tc.at.Format(time.RFC3339), tc.zone, sink.got, tc.day)
		}
	}

	// One teen's checks either side of their midnight land on two days.
	now := time.Date(2026, 11, 27, 23, 59, 59, 0, time.UTC)
	sink := newSink()
	c := New(sink, Config{Now: func() time.Time { return now }})
	london := zone(t, "Europe/London")
	c.Record(1, "tk_maya", london, policy.ReasonQuietHours)
	now = now.Add(2 * time.Second)
	c.Record(1, "tk_maya", london, policy.ReasonQuietHours)
	c.Flush(bg)
	if sink.get("1/tk_maya/2026-11-27/quiet_hours") != 1 || sink.get("1/tk_maya/2026-11-28/quiet_hours") != 1 {
		t.Errorf("either side of midnight: %v", sink.got)
	}
}

func TestRecordDecision(t *testing.T) {
	tokyo, london := zone(t, "Asia/Tokyo"), zone(t, "Europe/London")
	at := time.Date(2026, 11, 27, 20, 0, 0, 0, time.UTC) // 28th in Tokyo, 27th in London
	maya := &policy.Policy{Version: 3, Location: london}
	sam := &policy.Policy{Version: 5, Location: tokyo}
	sink := newSink()
	c := New(sink, Config{Now: fixed(at)})
	res := func(reason policy.Reason, by policy.DecidedBy) policy.Result {
		return policy.Result{Decision: reason.Outcome(), Reason: reason, DecidedBy: by}
	}
	// Recipient decided: counted for the recipient, in their zone.
	c.RecordDecision(1, "u_1", "tk_maya", nil, maya, res(policy.ReasonQuietHours, policy.DecidedByRecipient))
	// Both supervised, the sender's rules decided: counted for the sender only.
	c.RecordDecision(1, "tk_sam", "tk_maya", sam, maya, res(policy.ReasonNotFriends, policy.DecidedBySender))
	// Deliveries count too.
	c.RecordDecision(1, "u_1", "tk_maya", nil, maya, res(policy.ReasonAllowed, policy.DecidedByRecipient))
	c.RecordDecision(1, "u_gran", "tk_maya", nil, maya, res(policy.ReasonApprovedContact, policy.DecidedByRecipient))
	// Not the teen's rules at work: not counted.
	c.RecordDecision(1, "u_1", "u_2", nil, nil, res(policy.ReasonNotSupervised, policy.DecidedByNone))
	c.RecordDecision(1, "u_1", "tk_maya", nil, maya, res(policy.ReasonSupervisionUnavailable, policy.DecidedByNone))
	c.RecordDecision(1, "u_1", "tk_maya", nil, maya, res(policy.ReasonSupervisionUnavailable, policy.DecidedByRecipient))
	// A nil counter is a no-op.
	var none *Counter
	none.RecordDecision(1, "u_1", "tk_maya", nil, maya, res(policy.ReasonQuietHours, policy.DecidedByRecipient))
	none.Flush(bg)

	if err := c.Flush(bg); err != nil {
		t.Fatal(err)
	}
	want := map[string]int64{
		"1/tk_maya/2026-11-27/quiet_hours":      1,
		"1/tk_sam/2026-11-28/not_friends":       1,
		"1/tk_maya/2026-11-27/allowed":          1,
		"1/tk_maya/2026-11-27/approved_contact": 1,
	}
	if len(sink.got) != len(want) {
		t.Errorf("counted %v, want %v", sink.got, want)
	}
	for k, n := range want {
		if sink.got[k] != n {
			t.Errorf("%s = %d, want %d (all: %v)", k, sink.got[k], n, sink.got)
		}
	}
}

func TestIdleKeysAreDropped(t *testing.T) {
	sink := newSink()
	c := New(sink, Config{Now: fixed(time.Date(2026, 11, 27, 15, 0, 0, 0, time.UTC))})
	c.Record(1, "tk_maya", nil, policy.ReasonQuietHours)
	keys := func() int {
		n := 0
		for i := range c.shards {
			n += len(c.shards[i].m)
		}
		return n
	}
	c.Flush(bg)
	for range idleFlushes - 1 {
		c.Flush(bg)
	}
	if keys() != 1 {
		t.Fatalf("key dropped too early")
	}
	c.Flush(bg)
	if keys() != 0 {
		t.Errorf("an idle key is kept after %d empty flushes", idleFlushes)
	}
	c.Record(1, "tk_maya", nil, policy.ReasonQuietHours)
	c.Flush(bg)
	if got := sink.get("1/tk_maya/2026-11-27/quiet_hours"); got != 2 {
		t.Errorf("after the key came back: %d, want 2", got)
	}
}

func TestStopFlushes(t *testing.T) {
	sink := newSink()
	c := New(sink, Config{Interval: time.Hour})
	c.Start()
	c.Record(1, "tk_maya", nil, policy.ReasonDMsOff)
	if err := c.Stop(bg); err != nil {
		t.Fatal(err)
	}
	if sink.total() != 1 {
		t.Errorf("stop did not flush: %v", sink.got)
	}
	if err := c.Stop(bg); err != nil { // twice is fine
		t.Fatal(err)
	}
}

func TestLoopFlushes(t *testing.T) {
	sink := newSink()
	c := New(sink, Config{Interval: 5 * time.Millisecond})
	c.Start()
	defer c.Stop(bg)
	c.Record(1, "tk_maya", nil, policy.ReasonDMsOff)
	deadline := time.Now().Add(5 * time.Second)
	for sink.total() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the flusher never flushed")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestRecordDoesNotAllocate(t *testing.T) {
	c := New(newSink(), Config{})
	loc := time.UTC
	c.Record(1, "tk_maya", loc, policy.ReasonQuietHours)
	res := policy.Result{Decision: policy.Hold, Reason: policy.ReasonQuietHours, DecidedBy: policy.DecidedByRecipient}
	p := &policy.Policy{Location: loc}
	if n := testing.AllocsPerRun(1000, func() {
		c.RecordDecision(1, "u_1", "tk_maya", nil, p, res)
	}); n != 0 {
		t.Errorf("RecordDecision on an existing key: %v allocs, want 0", n)
	}
}

func BenchmarkRecord(b *testing.B) {
	c := New(newSink(), Config{})
	london, _ := time.LoadLocation("Europe/London")
	c.Record(1, "tk_maya", london, policy.ReasonQuietHours)
	b.ReportAllocs()
	for b.Loop() {
		c.Record(1, "tk_maya", london, policy.ReasonQuietHours)
	}
}

// BenchmarkRecordParallel is every core counting at once, over many teens
// (the shape of real traffic) and over one teen (the worst case: one shard).
func BenchmarkRecordParallel(b *testing.B) {
	london, _ := time.LoadLocation("Europe/London")
	for _, teens := range []int{1, 1000} {
		b.Run(fmt.Sprintf("teens=%d", teens), func(b *testing.B) {
			c := New(newSink(), Config{})
			ids := make([]string, teens)
			for i := range ids {
				ids[i] = fmt.Sprintf("tk_%d", i)
				c.Record(1, ids[i], london, policy.ReasonQuietHours)
			}
			var next atomic.Int64
			b.ReportAllocs()
			b.RunParallel(func(pb *testing.PB) {
				i := int(next.Add(7919))
				for pb.Next() {
					i++
					c.Record(1, ids[i%teens], london, policy.ReasonQuietHours)
				}
			})
		})
	}
}
