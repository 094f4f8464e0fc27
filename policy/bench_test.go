package policy

import (
	"testing"
	"time"
)

// hotPaths are the ways through Decide, from the cheapest to the dearest:
// the hold across a spring-forward gap does the most time-zone work.
var hotPaths = []struct {
	name  string
	p     *Policy
	facts Facts
	at    time.Time
}{
	{"blocked", maya(), friend, afternoon},
	{"approved_exempt_at_night", maya(), adultStranger, ts("2026-11-27T23:00:00Z")},
	{"adult_stranger", maya(), adultStranger, afternoon},
	{"not_friends", maya(), minorStranger, afternoon},
	{"allowed", maya(), friend, afternoon},
	{"quiet_hours_hold", maya(), friend, ts("2026-11-27T23:00:00Z")},
	{"quiet_hours_hold_over_dst_gap", open(quiet("22:00", "02:30"), in(mustZone("America/New_York"))), friend, ts("2026-03-08T06:45:00Z")},
}

// maya is the demo world's Maya: friends, quiet 21:30–07:00 in London,
// adult strangers blocked, media from friends only, one approved and one
// blocked contact. Which contact the path uses is set by otherFor.
func maya() *Policy {
	return open(version(42), audience(AudienceFriends), quiet("21:30", "07:00"), in(mustZone("Europe/London")),
		blockAdultStrangers, mediaFriendsOnly, approved("u_grandma"), blocked("u_stranger9"))
}

func otherFor(path string) string {
	switch path {
	case "blocked":
		return "u_stranger9"
	case "approved_exempt_at_night":
		return "u_grandma"
	}
	return "u_9"
}

// TestDecide_allocatesNothing holds the hot path to zero allocations, on
// every path through Decide and DecideDM.
func TestDecide_allocatesNothing(t *testing.T) {
	for _, hp := range hotPaths {
		id := otherFor(hp.name)
		if n := testing.AllocsPerRun(100, func() { Decide(hp.p, id, hp.facts, hp.at) }); n != 0 {
			t.Errorf("Decide on path %s: %.1f allocations per call, want 0", hp.name, n)
		}
	}
	m := maya()
	leo := open(version(7), minAge(7), in(mustZone("America/New_York")), quiet("22:00", "07:00"))
	for _, c := range []*Context{dmContext(), dmContext(strangers), nil} {
		for _, at := range []time.Time{afternoon, night, ts("2026-11-28T04:00:00Z"), ts("2026-11-01T05:10:00Z")} {
			if n := testing.AllocsPerRun(100, func() { DecideDM(leo, m, "tk_leo", "tk_maya", c, at) }); n != 0 {
				t.Errorf("DecideDM at %s: %.1f allocations per call, want 0", at, n)
			}
			if n := testing.AllocsPerRun(100, func() { DecideDM(nil, m, "u_9", "tk_maya", c, at) }); n != 0 {
				t.Errorf("DecideDM, sender not supervised, at %s: %.1f allocations per call, want 0", at, n)
			}
		}
	}
}

func BenchmarkDecide(b *testing.B) {
	for _, hp := range hotPaths {
		id := otherFor(hp.name)
		b.Run(hp.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				Decide(hp.p, id, hp.facts, hp.at)
			}
		})
	}
}

func BenchmarkDecideDM(b *testing.B) {
	m := maya()
	leo := open(version(7), minAge(7), in(mustZone("America/New_York")), quiet("22:00", "07:00"))
	for _, bc := range []struct {
		name              string
		sender, recipient *Policy
		senderID          string
		recipientID       string
		c                 *Context
		at                time.Time
	}{
		{"not_supervised", nil, nil, "u_1", "u_2", dmContext(strangers), afternoon},
		{"recipient_only_request", nil, m, "u_9", "tk_maya", dmContext(strangers), afternoon},
		{"both_allow", leo, m, "tk_leo", "tk_maya", dmContext(), afternoon},
		{"both_hold", leo, m, "tk_leo", "tk_maya", dmContext(), ts("2026-11-28T04:00:00Z")},
		{"no_context", leo, m, "tk_leo", "tk_maya", nil, afternoon},
	} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				DecideDM(bc.sender, bc.recipient, bc.senderID, bc.recipientID, bc.c, bc.at)
			}
		})
	}
}
