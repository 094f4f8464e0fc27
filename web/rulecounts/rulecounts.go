// Package rulecounts counts, per supervised teen, how many DM checks each of
// the teen's rules decided, so that guardians and teens can see the rules at
// work ("12 messages held for quiet hours"). It keeps totals only: the key is
// the teen, their local day and the reason; never the other party, never
// anything about the message.
//
// The DM check is Hearth's hot path, so counting is an in-memory increment:
// a sharded map from (client, teen's platform user ID, day, reason) to a
// counter, read under a shard's read lock and bumped with one atomic add. A
// key is created once (one small allocation) and then reused by every check
// that day, so the common path allocates nothing and never takes a write
// lock.
//
// A flusher moves the counts to the database every Interval (10 s) and once
// more at Stop, adding them to the daily totals (an additive upsert, so any
// number of nodes may share one database). A flush that fails puts its
// counts back to be retried with the next one. Counts taken since the last
// flush are lost if the process dies without Stop (a crash, SIGKILL): at
// most Interval's worth, an accepted loss for totals that only illustrate.
package rulecounts

import (
	"context"
	"hash/maphash"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hearth-safety/hearth/models"
	"github.com/hearth-safety/hearth/policy"
)

// Sink is where counts go: the store.
type Sink interface {
	AddRuleCounts(ctx context.Context, deltas []models.RuleCountDelta) (dropped int, err error)
}

// Config tunes a Counter. Zero values take the defaults.
type Config struct {
	// Interval is how often counts are flushed to the Sink.
	Interval time.Duration // default 10s
	// Timeout bounds one flush.
	Timeout time.Duration // default 5s
	// Now is the clock that decides a check's day, for tests.
	Now    func() time.Time
	Logger *slog.Logger
}

// idleFlushes is how many flushes in a row a key may find nothing before it
// is dropped (about a minute at the default interval), which bounds memory
// to the teens who were messaged lately. A dropped key that is counted
// again is simply created again.
const idleFlushes = 6

const shardCount = 64

type key struct {
	client int64
	teen   string // platform user ID
	day    civilDay
	reason policy.Reason
}

// civilDay is a local date packed as year<<9 | month<<5 | day, cheap to
// make on the hot path and to order.
type civilDay int32

func dayOf(t time.Time, loc *time.Location) civilDay {
	if loc == nil {
		loc = time.UTC
	}
	y, m, d := t.In(loc).Date()
	return civilDay(y<<9 | int(m)<<5 | d)
}

// String writes the date as YYYY-MM-DD.
func (d civilDay) String() string {
	return time.Date(int(d>>9), time.Month(d>>5&15), int(d&31), 0, 0, 0, 0, time.UTC).Format("2006-01-02")
}

type counter struct {
	n atomic.Int64
	// idle counts flushes in a row that found n at 0. Only the flusher
	// (serialized by flushMu) reads and writes it.
	idle uint8
}

type shard struct {
	mu sync.RWMutex
	m  map[key]*counter
	_  [96]byte // keep shards' locks on separate cache lines
}

// Counter counts DM decisions per teen, day and reason, and flushes them.
// Its methods are safe for concurrent use; a nil *Counter counts nothing.
type Counter struct {
	sink   Sink
	cfg    Config
	seed   maphash.Seed
	shards [shardCount]shard

	flushMu  sync.Mutex
	stopOnce sync.Once
	stop     chan struct{}
	done     chan struct{}
	started  atomic.Bool
}

// New returns a Counter that flushes to sink once Start is called (or
// whenever Flush is).
func New(sink Sink, cfg Config) *Counter {
	if cfg.Interval <= 0 {
		cfg.Interval = 10 * time.Second
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 5 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	c := &Counter{sink: sink, cfg: cfg, seed: maphash.MakeSeed(), stop: make(chan struct{}), done: make(chan struct{})}
	for i := range c.shards {
		c.shards[i].m = map[key]*counter{}
	}
	return c
}

// RecordDecision counts one DM decision for the teen whose policy made it
// (the recipient or the sender, as res.DecidedBy says), when it belongs in
// that teen's counts (models.CountsForTeen): not for unsupervised parties,
// not for Hearth's own supervision_unavailable holds. sender and recipient
// are the parties' policies as the check used them (nil when not
// supervised); the deciding one gives the teen's time zone.
func (c *Counter) RecordDecision(client int64, senderID, recipientID string, sender, recipient *policy.Policy, res policy.Result) {
	if c == nil || !models.CountsForTeen(res) {
		return
	}
	id, p := recipientID, recipient
	if res.DecidedBy == policy.DecidedBySender {
		id, p = senderID, sender
	}
	var loc *time.Location
	if p != nil {
		loc = p.Location
	}
	c.Record(client, id, loc, res.Reason)
}

// Record counts one decision by reason for the teen the client knows as
// teen, on today's date in loc (the teen's zone; nil means UTC). It does
// not allocate once the key exists.
func (c *Counter) Record(client int64, teen string, loc *time.Location, reason policy.Reason) {
	if c == nil {
		return
	}
	k := key{client: client, teen: teen, day: dayOf(c.cfg.Now(), loc), reason: reason}
	sh := c.shard(client, teen)
	// The add happens under the read lock, so that a flusher holding the
	// write lock knows no add is in flight on a counter it removes.
	sh.mu.RLock()
	if e := sh.m[k]; e != nil {
		e.n.Add(1)
		sh.mu.RUnlock()
		return
	}
	sh.mu.RUnlock()
	c.add(sh, k, 1)
}

// add adds n to k's counter, creating it. The teen ID is copied, so the
// key does not keep a request's memory alive.
func (c *Counter) add(sh *shard, k key, n int64) {
	sh.mu.Lock()
	e := sh.m[k]
	if e == nil {
		k.teen = strings.Clone(k.teen)
		e = &counter{}
		sh.m[k] = e
	}
	e.n.Add(n)
	sh.mu.Unlock()
}

func (c *Counter) shard(client int64, teen string) *shard {
	h := maphash.String(c.seed, teen) ^ uint64(client)*0x9e3779b97f4a7c15
	return &c.shards[h%shardCount]
}

// Start flushes every Interval until Stop.
func (c *Counter) Start() {
	if c == nil || !c.started.CompareAndSwap(false, true) {
		return
	}
	go c.loop()
}

func (c *Counter) loop() {
	defer close(c.done)
	t := time.NewTicker(c.cfg.Interval)
	defer t.Stop()
	var failing bool
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), c.cfg.Timeout)
		err := c.Flush(ctx)
		cancel()
		switch {
		case err != nil && !failing:
			failing = true
			c.cfg.Logger.Error("rule counts cannot be saved; they are kept in memory and retried", "err", err)
		case err == nil && failing:
			failing = false
			c.cfg.Logger.Info("rule counts are being saved again")
		}
	}
}

// Stop ends the flusher and flushes what is left; call it after the HTTP
// server has drained, so the last checks are counted. It returns the final
// flush's error (those counts are lost).
func (c *Counter) Stop(ctx context.Context) error {
	if c == nil {
		return nil
	}
	c.stopOnce.Do(func() {
		close(c.stop)
		if c.started.Load() {
			<-c.done
		}
	})
	err := c.Flush(ctx)
	if err != nil {
		c.cfg.Logger.Error("rule counts lost at shutdown", "err", err)
	}
	return err
}

// Flush moves every count taken so far to the Sink now. Each count reaches
// the Sink exactly once: taking a count resets it atomically, and a failed
// flush puts its counts back for the next one. Flushes are serialized.
func (c *Counter) Flush(ctx context.Context) error {
	if c == nil {
		return nil
	}
	c.flushMu.Lock()
	defer c.flushMu.Unlock()
	taken := c.take()
	if len(taken) == 0 {
		return nil
	}
	deltas := make([]models.RuleCountDelta, len(taken))
	for i, t := range taken {
		deltas[i] = models.RuleCountDelta{ClientID: t.k.client, PlatformUserID: t.k.teen, Day: t.k.day.String(), Reason: t.k.reason, Count: t.n}
	}
	dropped, err := c.sink.AddRuleCounts(ctx, deltas)
	if err != nil {
		for _, t := range taken {
			c.add(c.shard(t.k.client, t.k.teen), t.k, t.n)
		}
		return err
	}
	if dropped > 0 {
		c.cfg.Logger.Debug("rule counts of teens no longer provisioned were dropped", "deltas", dropped)
	}
	return nil
}

type taken struct {
	k key
	n int64
}

// take resets every counter and returns what they held. Counting goes on
// meanwhile: an add lands either in this take or in the next. Keys idle
// for idleFlushes flushes are removed under the write lock, when no add
// can be in flight.
func (c *Counter) take() []taken {
	var out []taken
	var idle []key
	for i := range c.shards {
		sh := &c.shards[i]
		idle = idle[:0]
		sh.mu.RLock()
		for k, e := range sh.m {
			if n := e.n.Swap(0); n != 0 {
				out = append(out, taken{k, n})
				e.idle = 0
			} else if e.idle++; e.idle >= idleFlushes {
				idle = append(idle, k)
			}
		}
		sh.mu.RUnlock()
		if len(idle) == 0 {
			continue
		}
		sh.mu.Lock()
		for _, k := range idle {
			if e := sh.m[k]; e != nil {
				if n := e.n.Swap(0); n != 0 {
					out = append(out, taken{k, n}) // counted since the read pass
				}
				delete(sh.m, k)
			}
		}
		sh.mu.Unlock()
	}
	return out
}

// Pending reports how many decisions are counted but not yet flushed, for
// tests and metrics.
func (c *Counter) Pending() int64 {
	if c == nil {
		return 0
	}
	var n int64
	for i := range c.shards {
		sh := &c.shards[i]
		sh.mu.RLock()
		for _, e := range sh.m {
			n += e.n.Load()
		}
		sh.mu.RUnlock()
	}
	return n
}
