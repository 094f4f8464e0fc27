package policycache

import (
	"fmt"
	"hash/maphash"
	"testing"
)

// TestTable_CollisionsUpdatesAndCompaction drives the pointer-free table
// through what the sync loop does to it, including the case a 64-bit hash
// makes astronomically rare but must still be right: two teens on one hash.
func TestTable_CollisionsUpdatesAndCompaction(t *testing.T) {
	seed := maphash.MakeSeed()
	tb := newTable()
	const h = 42 // force every key onto one hash: the overflow path
	tb.put(h, 1, "tk_a", record{version: 1}, nil)
	tb.put(h, 1, "tk_b", record{version: 2}, &contactSet{approved: map[string]struct{}{"u_g": {}}})
	tb.put(h, 2, "tk_a", record{version: 3}, nil) // same ID, other client
	for _, c := range []struct {
		client  int64
		id      string
		version int64
	}{{1, "tk_a", 1}, {1, "tk_b", 2}, {2, "tk_a", 3}} {
		i := tb.find(h, c.client, c.id)
		if i < 0 || tb.recs[i].version != c.version || tb.recs[i].client != c.client || tb.idOf(&tb.recs[i]) != c.id {
			t.Fatalf("find(%d, %s) = %d", c.client, c.id, i)
		}
	}
	if i := tb.find(h, 1, "tk_b"); tb.recs[i].contacts < 0 {
		t.Fatal("contacts lost")
	}
	if tb.find(h, 3, "tk_a") >= 0 || tb.find(h, 1, "tk_c") >= 0 {
		t.Fatal("found a key never put")
	}
	tb.remove(h, 1, "tk_a") // the one in idx; the others stay reachable
	if tb.find(h, 1, "tk_a") >= 0 || tb.find(h, 1, "tk_b") < 0 || tb.find(h, 2, "tk_a") < 0 || tb.len() != 2 {
		t.Fatal("remove broke the other keys on the hash")
	}

	// Many updates of many teens, then compaction keeps exactly the live ones.
	big := newTable()
	for round := int64(1); round <= 5; round++ {
		for i := 0; i < 1000; i++ {
			id := fmt.Sprintf("tk_%04d", i)
			big.put(hashKey(seed, 7, id), 7, id, record{version: round}, nil)
			big.compact(seed)
		}
	}
	for i := 0; i < 1000; i += 2 {
		id := fmt.Sprintf("tk_%04d", i)
		big.remove(hashKey(seed, 7, id), 7, id)
		big.compact(seed)
	}
	if big.len() != 500 || len(big.recs) > 3000 {
		t.Fatalf("after updates: %d live, %d records kept", big.len(), len(big.recs))
	}
	for i := 0; i < 1000; i++ {
		id := fmt.Sprintf("tk_%04d", i)
		idx := big.find(hashKey(seed, 7, id), 7, id)
		if (i%2 == 0) != (idx < 0) || idx >= 0 && big.recs[idx].version != 5 {
			t.Fatalf("%s: index %d", id, idx)
		}
	}
}
