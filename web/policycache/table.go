package policycache

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hearth-safety/hearth/policy"
)

// The rules of 100,000 teens are the bulk of a node's live heap, and the
// garbage collector re-marks every pointer in it on every cycle. Measured
// with the load benchmark, a pointer-rich layout (one map entry, one
// string and one struct per teen) made the DM check's closed-loop p99 2.1x
// the bare handler's at 100,000 teens against 1.2x at 1,000. So a shard
// keeps its teens in pointer-free arrays the collector does not scan: a
// map from a 64-bit hash to a record index, records of plain numbers, and
// the platform IDs in one byte arena. The few teens with contact lists
// keep them in a side table.

// record is one teen's rules with no pointers in it.
type record struct {
	client       int64
	version      int64
	idOff, idLen uint32
	contacts     int32 // index into shard.contacts, or -1
	minAge       int32
	quietStart   uint16
	quietEnd     uint16
	loc          uint16 // index into Cache.zones
	audience     policy.Audience
	flags        uint8
}

const (
	flagQuiet uint8 = 1 << iota
	flagApprovedExempt
	flagBlockAdults
	flagMediaFriends
)

// contactSet holds a teen's approved and blocked contacts.
type contactSet struct {
	approved, blocked map[string]struct{}
}

// table is a shard's teens. Writers hold the shard's lock; readers its
// read lock.
type table struct {
	idx      map[uint64]int32 // hash of (client, id) → record; no pointers
	overflow map[key]int32    // the astronomically rare hash collision
	recs     []record
	ids      []byte
	contacts []contactSet
	garbage  int // records no longer referenced, reclaimed by compact
}

func newTable() table {
	return table{idx: map[uint64]int32{}, overflow: map[key]int32{}}
}

func hashKey(seed maphash.Seed, client int64, id string) uint64 {
	var h maphash.Hash
	h.SetSeed(seed)
	var b [8]byte
	for i := range b {
		b[i] = byte(client >> (8 * i))
	}
	h.Write(b[:])
	h.WriteString(id)
	return h.Sum64()
}

func (t *table) idOf(r *record) string {
	return string(t.ids[r.idOff : r.idOff+r.idLen])
}

func (t *table) matches(r *record, client int64, id string) bool {
	return r.client == client && int(r.idLen) == len(id) && string(t.ids[r.idOff:r.idOff+r.idLen]) == id
}

// find returns the record index of (client, id), or -1.
func (t *table) find(h uint64, client int64, id string) int32 {
	if i, ok := t.idx[h]; ok && t.matches(&t.recs[i], client, id) {
		return i
	}
	if len(t.overflow) > 0 {
		if i, ok := t.overflow[key{client, id}]; ok {
			return i
		}
	}
	return -1
}

// put stores rules for (client, id), replacing any earlier ones.
func (t *table) put(h uint64, client int64, id string, r record, cs *contactSet) {
	r.client = client
	r.idOff, r.idLen = uint32(len(t.ids)), uint32(len(id))
	t.ids = append(t.ids, id...)
	r.contacts = -1
	if cs != nil {
		r.contacts = int32(len(t.contacts))
		t.contacts = append(t.contacts, *cs)
	}
	t.remove(h, client, id)
	n := int32(len(t.recs))
	t.recs = append(t.recs, r)
	if i, taken := t.idx[h]; taken && !t.matches(&t.recs[i], client, id) {
		t.overflow[key{client, id}] = n
		return
	}
	t.idx[h] = n
}

// remove forgets (client, id).
func (t *table) remove(h uint64, client int64, id string) {
	if i, ok := t.idx[h]; ok && t.matches(&t.recs[i], client, id) {
		delete(t.idx, h)
		t.garbage++
		return
	}
	if _, ok := t.overflow[key{client, id}]; ok {
		delete(t.overflow, key{client, id})
		t.garbage++
	}
}

func (t *table) len() int { return len(t.idx) + len(t.overflow) }

// compact rebuilds the arrays without dead records once they are half the
// table, so a long-lived node that sees many changes does not grow.
func (t *table) compact(seed maphash.Seed) {
	if t.garbage < 1024 || t.garbage < len(t.recs)/2 {
		return
	}
	fresh := newTable()
	fresh.recs = make([]record, 0, t.len())
	carry := func(i int32) {
		r := t.recs[i]
		id := t.idOf(&r)
		var cs *contactSet
		if r.contacts >= 0 {
			cs = &t.contacts[r.contacts]
		}
		fresh.put(hashKey(seed, r.client, id), r.client, id, r, cs)
	}
	for _, i := range t.idx {
		carry(i)
	}
	for _, i := range t.overflow {
		carry(i)
	}
	*t = fresh
}

// zones is the cache's list of time zones; records hold an index into it.
// It only grows, copy-on-write, so readers need no lock.
type zones struct {
	mu    sync.Mutex
	list  atomic.Pointer[[]*time.Location]
	index map[string]uint16
}

func (z *zones) id(tz string) uint16 {
	z.mu.Lock()
	defer z.mu.Unlock()
	if i, ok := z.index[tz]; ok {
		return i
	}
	l, err := time.LoadLocation(tz)
	if err != nil {
		l = time.UTC
	}
	var cur []*time.Location
	if p := z.list.Load(); p != nil {
		cur = *p
	}
	next := append(append(make([]*time.Location, 0, len(cur)+1), cur...), l)
	z.list.Store(&next)
	if z.index == nil {
		z.index = map[string]uint16{}
	}
	i := uint16(len(next) - 1)
	z.index[tz] = i
	return i
}

func (z *zones) at(i uint16) *time.Location {
	if p := z.list.Load(); p != nil && int(i) < len(*p) {
		return (*p)[i]
	}
	return time.UTC
}
