// Package policycache keeps every supervised teen's DM rules in memory, so
// a DM check is answered without touching the database, and keeps that copy
// provably current.
//
// The guarantee (DESIGN.md, Consistency): once a change to a teen's rules
// has been answered, no DM check on any node decides by the old rules.
// Three parts make it hold:
//
//   - Every change bumps a global sequence number (seq) in the same
//     transaction. A node applies changes in seq order and records the
//     highest seq it has applied in the database (its heartbeat).
//   - A node is current only while its last successful sync started less
//     than one lease ago. A node that cannot reach the database stops being
//     current within a lease, and then answers hold /
//     supervision_unavailable instead of deciding by what it remembers.
//   - A writer, after committing, waits until every live node has applied
//     the change's seq, or until a lease has passed since the commit (by
//     then any node that did not apply it is no longer current). Only then
//     is the change answered.
//
// Nodes learn of changes by polling every Poll interval and, on Postgres,
// at once through LISTEN/NOTIFY. Notifications are lost while a connection
// is down; polling and the lease cover that.
package policycache

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"hash/maphash"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hearth-safety/hearth/models"
	"github.com/hearth-safety/hearth/policy"
)

// Source is where the rules come from: the store.
type Source interface {
	PolicySnapshots(ctx context.Context, afterSeq int64) ([]models.PolicySnapshot, int64, error)
	RegisterNode(ctx context.Context, id string) error
	NodeHeartbeat(ctx context.Context, id string, appliedSeq int64) error
	LiveNodesWithin(ctx context.Context, seq int64, lease time.Duration) ([]string, error)
	RemoveNode(ctx context.Context, id string) error
	ActiveClients(ctx context.Context) ([]models.ServiceClient, error)
}

// Config tunes a Cache. Zero values take the defaults.
type Config struct {
	// Lease is how long a node trusts its copy without a successful sync.
	// Writers wait at most this long for a node that does not confirm.
	Lease time.Duration // default 2s
	// Poll is how often a node syncs when no notification arrives.
	Poll time.Duration // default 250ms
	// Notify delivers a signal whenever another node committed a change
	// (Postgres LISTEN). Nil on SQLite, where every writer is in-process.
	Notify <-chan struct{}
	// ReloadAfter: a node whose last successful sync is older than this
	// reloads every teen instead of the changes since, because the records
	// of teens erased meanwhile are deleted after a while (the store's
	// PolicyTombstoneRetention, which is longer). Default 24h.
	ReloadAfter time.Duration
	// Now is the clock, for tests; it must carry a monotonic reading.
	Now    func() time.Time
	Logger *slog.Logger
}

// Entry is one supervised teen as a DM check sees it.
type Entry struct {
	Policy policy.Policy
}

type key struct {
	client int64
	id     string
}

const shardCount = 64

type shard struct {
	mu sync.RWMutex
	t  table
}

// Cache is one node's in-memory copy of the supervised teens' rules.
type Cache struct {
	src    Source
	cfg    Config
	nodeID string
	seed   maphash.Seed
	shards [shardCount]shard

	// clients maps a key hash to its active client, reloaded at every
	// sync, so a revoked key stops working within one poll interval.
	clients atomic.Pointer[map[string]models.ServiceClient]

	applied  atomic.Int64 // highest seq applied
	lastSync atomic.Pointer[time.Time]
	syncMu   sync.Mutex

	zones zones

	stop chan struct{}
	done chan struct{}
}

// New returns an empty cache; Start loads it.
func New(src Source, cfg Config) *Cache {
	if cfg.Lease <= 0 {
		cfg.Lease = 2 * time.Second
	}
	if cfg.Poll <= 0 {
		cfg.Poll = 250 * time.Millisecond
	}
	if cfg.ReloadAfter <= 0 {
		cfg.ReloadAfter = 24 * time.Hour
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	b := make([]byte, 8)
	rand.Read(b)
	c := &Cache{src: src, cfg: cfg, nodeID: hex.EncodeToString(b), seed: maphash.MakeSeed(),
		stop: make(chan struct{}), done: make(chan struct{})}
	for i := range c.shards {
		c.shards[i].t = newTable()
	}
	return c
}

// NodeID names this node in the cluster table.
func (c *Cache) NodeID() string { return c.nodeID }

// Lease is the configured lease.
func (c *Cache) Lease() time.Duration { return c.cfg.Lease }

// Start registers the node, loads every supervised teen's rules and keeps
// them current until Stop.
func (c *Cache) Start(ctx context.Context) error {
	if err := c.src.RegisterNode(ctx, c.nodeID); err != nil {
		return err
	}
	if err := c.Sync(ctx); err != nil {
		return err
	}
	go c.loop()
	return nil
}

// Stop ends the sync loop and takes the node out of the cluster table, so
// writers stop waiting for it.
func (c *Cache) Stop(ctx context.Context) error {
	select {
	case <-c.stop:
	default:
		close(c.stop)
		<-c.done
	}
	return c.src.RemoveNode(ctx, c.nodeID)
}

func (c *Cache) loop() {
	defer close(c.done)
	t := time.NewTicker(c.cfg.Poll)
	defer t.Stop()
	var failing bool
	for {
		select {
		case <-c.stop:
			return
		case <-t.C:
		case <-c.cfg.Notify:
		}
		ctx, cancel := context.WithTimeout(context.Background(), c.cfg.Lease)
		err := c.Sync(ctx)
		cancel()
		switch {
		case err != nil && !failing:
			failing = true
			c.cfg.Logger.Error("policy cache cannot sync; DM checks will answer hold once the lease runs out", "err", err, "lease", c.cfg.Lease)
		case err == nil && failing:
			failing = false
			c.cfg.Logger.Info("policy cache is syncing again")
		}
	}
}

// Sync applies every change since the last one and records the node's
// progress. It is what makes the node current.
func (c *Cache) Sync(ctx context.Context) error {
	c.syncMu.Lock()
	defer c.syncMu.Unlock()
	started := c.cfg.Now()
	after := c.applied.Load()
	last := c.lastSync.Load()
	full := last != nil && started.Sub(*last) > c.cfg.ReloadAfter
	if full {
		after = 0
	}
	snaps, maxSeq, err := c.src.PolicySnapshots(ctx, after)
	if err != nil {
		return err
	}
	if full {
		c.reload(snaps)
		c.cfg.Logger.Info("policy cache reloaded after a long silence", "supervised_teens", c.Len())
	} else {
		for i := range snaps {
			c.apply(&snaps[i])
		}
	}
	cls, err := c.src.ActiveClients(ctx)
	if err != nil {
		return err
	}
	byHash := make(map[string]models.ServiceClient, len(cls))
	for _, cl := range cls {
		byHash[cl.KeyHash] = cl
	}
	c.clients.Store(&byHash)
	if maxSeq > c.applied.Load() {
		c.applied.Store(maxSeq)
	}
	if err := c.src.NodeHeartbeat(ctx, c.nodeID, c.applied.Load()); err != nil {
		return err
	}
	c.lastSync.Store(&started)
	return nil
}

func (c *Cache) apply(s *models.PolicySnapshot) {
	h := hashKey(c.seed, s.ClientID, s.PlatformUserID)
	sh := &c.shards[h%shardCount]
	rec, cs := c.recordOf(s)
	sh.mu.Lock()
	if s.Supervised {
		sh.t.put(h, s.ClientID, s.PlatformUserID, rec, cs)
	} else {
		sh.t.remove(h, s.ClientID, s.PlatformUserID)
	}
	sh.t.compact(c.seed)
	sh.mu.Unlock()
}

// reload replaces every shard's teens with snaps, a snapshot of everything
// (read from seq 0): what a node does after a long silence, when the
// records of erased teens it missed may have been deleted.
func (c *Cache) reload(snaps []models.PolicySnapshot) {
	var fresh [shardCount]table
	for i := range fresh {
		fresh[i] = newTable()
	}
	for i := range snaps {
		s := &snaps[i]
		h := hashKey(c.seed, s.ClientID, s.PlatformUserID)
		t := &fresh[h%shardCount]
		if !s.Supervised {
			t.remove(h, s.ClientID, s.PlatformUserID)
			continue
		}
		rec, cs := c.recordOf(s)
		t.put(h, s.ClientID, s.PlatformUserID, rec, cs)
	}
	for i := range c.shards {
		fresh[i].compact(c.seed)
		c.shards[i].mu.Lock()
		c.shards[i].t = fresh[i]
		c.shards[i].mu.Unlock()
	}
}

// recordOf converts a supervised teen's snapshot into the shard's form.
func (c *Cache) recordOf(s *models.PolicySnapshot) (record, *contactSet) {
	if !s.Supervised {
		return record{}, nil
	}
	p := &s.Policy
	r := record{version: p.Version, minAge: int32(p.MinSenderAccountAgeDays), quietStart: p.QuietStart, quietEnd: p.QuietEnd,
		loc: c.zones.id(s.TimeZone), audience: p.Audience}
	for _, f := range []struct {
		on   bool
		flag uint8
	}{{p.QuietEnabled, flagQuiet}, {p.QuietApprovedExempt, flagApprovedExempt}, {p.BlockAdultStrangers, flagBlockAdults}, {p.MediaFriendsOnly, flagMediaFriends}} {
		if f.on {
			r.flags |= f.flag
		}
	}
	var cs *contactSet
	if len(p.Approved) > 0 || len(p.Blocked) > 0 {
		e := p.Engine(nil)
		cs = &contactSet{approved: e.Approved, blocked: e.Blocked}
		if len(cs.approved) == 0 {
			cs.approved = nil
		}
		if len(cs.blocked) == 0 {
			cs.blocked = nil
		}
	}
	return r, cs
}

// Current reports whether the copy may be used to decide: its last
// successful sync started less than a lease ago.
func (c *Cache) Current() bool {
	last := c.lastSync.Load()
	return last != nil && c.cfg.Now().Sub(*last) < c.cfg.Lease
}

// LookupInto fills dst with the rules of the teen the client knows as id
// and reports true, or reports false when Hearth does not supervise them.
// It allocates nothing: dst is the caller's.
func (c *Cache) LookupInto(client int64, id string, dst *policy.Policy) bool {
	h := hashKey(c.seed, client, id)
	sh := &c.shards[h%shardCount]
	sh.mu.RLock()
	defer sh.mu.RUnlock()
	i := sh.t.find(h, client, id)
	if i < 0 {
		return false
	}
	r := &sh.t.recs[i]
	*dst = policy.Policy{
		Version:  r.version,
		Audience: r.audience,
		Quiet: policy.QuietHours{Enabled: r.flags&flagQuiet != 0, Start: r.quietStart, End: r.quietEnd,
			ApprovedExempt: r.flags&flagApprovedExempt != 0},
		Location:                c.zones.at(r.loc),
		BlockAdultStrangers:     r.flags&flagBlockAdults != 0,
		MediaFriendsOnly:        r.flags&flagMediaFriends != 0,
		MinSenderAccountAgeDays: int(r.minAge),
	}
	if r.contacts >= 0 {
		cs := &sh.t.contacts[r.contacts]
		dst.Approved, dst.Blocked = cs.approved, cs.blocked
	}
	return true
}

// Lookup returns the rules of the teen the client knows as id, or nil when
// Hearth does not supervise them. It allocates; the DM check uses
// LookupInto.
func (c *Cache) Lookup(client int64, id string) *Entry {
	var e Entry
	if !c.LookupInto(client, id, &e.Policy) {
		return nil
	}
	return &e
}

// Client returns the active client whose key hashes to keyHash as of the
// last sync, and whether that copy is current. A caller holding a stale
// answer should ask the database, and fall back on it only to fail
// closed.
func (c *Cache) Client(keyHash string) (cl models.ServiceClient, ok, current bool) {
	m := c.clients.Load()
	if m == nil {
		return models.ServiceClient{}, false, false
	}
	cl, ok = (*m)[keyHash]
	return cl, ok, c.Current()
}

// Len reports how many supervised teens are loaded.
func (c *Cache) Len() int {
	n := 0
	for i := range c.shards {
		c.shards[i].mu.RLock()
		n += c.shards[i].t.len()
		c.shards[i].mu.RUnlock()
	}
	return n
}

// Applied is the highest change seq this node has applied.
func (c *Cache) Applied() int64 { return c.applied.Load() }

// ErrNotConfirmed means a writer gave up waiting for some node; it is not
// an error for the writer's caller, since by then that node is no longer
// current and answers hold.
var ErrNotConfirmed = errors.New("some nodes did not confirm the change within the lease")

// AwaitApplied is called by a writer after committing change seq: it
// applies the change here, then waits until every node has either applied
// it or gone a lease without a heartbeat (such a node cannot be current, so
// it answers hold). After a lease since committed it stops waiting anyway
// and returns ErrNotConfirmed, for logging: by then the same holds.
func (c *Cache) AwaitApplied(ctx context.Context, seq int64, committed time.Time) error {
	if err := c.Sync(ctx); err != nil {
		// This node could not sync: it will stop being current within
		// the lease. Waiting the lease out keeps the guarantee.
		return c.waitOut(ctx, committed)
	}
	deadline := committed.Add(c.cfg.Lease)
	wait := 5 * time.Millisecond
	for {
		behind, err := c.src.LiveNodesWithin(ctx, seq, c.cfg.Lease)
		if err == nil && len(behind) == 0 {
			return nil
		}
		if !c.cfg.Now().Before(deadline) {
			c.cfg.Logger.Warn("nodes did not confirm a rules change within the lease; they answer hold until they catch up", "seq", seq, "nodes", behind)
			return ErrNotConfirmed
		}
		select {
		case <-ctx.Done():
			return c.waitOut(context.WithoutCancel(ctx), committed)
		case <-time.After(wait):
		}
		if wait < 50*time.Millisecond {
			wait *= 2
		}
	}
}

// waitOut sleeps until a lease has passed since committed.
func (c *Cache) waitOut(ctx context.Context, committed time.Time) error {
	if d := committed.Add(c.cfg.Lease).Sub(c.cfg.Now()); d > 0 {
		select {
		case <-time.After(d):
		case <-ctx.Done():
		}
	}
	return ErrNotConfirmed
}
