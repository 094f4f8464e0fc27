package handlers

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/hearth-safety/hearth/policy"
)

// TestAppendResult pins the hand-written encoder to encoding/json's output
// for every outcome, reason and decider, with and without hold_until.
func TestAppendResult(t *testing.T) {
	at := time.Date(2026, 11, 28, 7, 0, 0, 0, time.FixedZone("", 0))
	for _, reason := range policy.AllReasons() {
		for _, by := range []policy.DecidedBy{policy.DecidedByNone, policy.DecidedByRecipient, policy.DecidedBySender} {
			for _, hold := range []time.Time{{}, at, at.In(time.FixedZone("", 9*3600)).Add(123456789)} {
				r := dmResult{Decision: reason.Outcome(), Reason: reason, DecidedBy: by, PolicyVersion: 42, HoldUntil: hold}
				want, err := json.Marshal(r)
				if err != nil {
					t.Fatal(err)
				}
				if got := appendResult(nil, &r); string(got) != string(want) {
					t.Errorf("appendResult = %s\nencoding/json = %s", got, want)
				}
			}
		}
	}
}

func BenchmarkAppendResult(b *testing.B) {
	r := dmResult{Decision: policy.Hold, Reason: policy.ReasonQuietHours, DecidedBy: policy.DecidedByRecipient, PolicyVersion: 7,
		HoldUntil: time.Date(2026, 11, 28, 7, 0, 0, 0, time.UTC)}
	buf := make([]byte, 0, 160)
	b.ReportAllocs()
	for b.Loop() {
		buf = appendResult(buf[:0], &r)
	}
}
