package policy

import (
	"testing"
	"time"
	// Zones come from the test binary itself, so DST tests mean the same on
	// a CI image without /usr/share/zoneinfo.
	_ "time/tzdata"
)

// zone loads an IANA zone or stops the test.
func zone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("load zone %s: %v", name, err)
	}
	return loc
}

// mustZone is zone for package-level tables.
func mustZone(name string) *time.Location {
	loc, err := time.LoadLocation(name)
	if err != nil {
		panic(err)
	}
	return loc
}

// ts parses an RFC 3339 instant; tables spell instants with their offset so
// that a reader sees both the wall clock and the instant.
func ts(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}

// hm returns minutes since midnight for "hh:mm".
func hm(s string) uint16 {
	t, err := time.Parse("15:04", s)
	if err != nil {
		panic(err)
	}
	return uint16(t.Hour()*60 + t.Minute())
}

// option changes one field of a test policy.
type option func(*Policy)

// open returns a policy under which no rule fires (audience everyone, no
// quiet hours, no contacts, UTC), changed by opts. Each table case then
// names only the rules it is about.
func open(opts ...option) *Policy {
	p := &Policy{Version: 1, Audience: AudienceEveryone}
	for _, o := range opts {
		o(p)
	}
	return p
}

func audience(a Audience) option   { return func(p *Policy) { p.Audience = a } }
func version(v int64) option       { return func(p *Policy) { p.Version = v } }
func minAge(days int) option       { return func(p *Policy) { p.MinSenderAccountAgeDays = days } }
func in(loc *time.Location) option { return func(p *Policy) { p.Location = loc } }

func blockAdultStrangers(p *Policy) { p.BlockAdultStrangers = true }
func mediaFriendsOnly(p *Policy)    { p.MediaFriendsOnly = true }

// quiet turns quiet hours on from start to end ("22:00", "07:00") with
// approved contacts exempt.
func quiet(start, end string) option {
	return func(p *Policy) {
		p.Quiet = QuietHours{Enabled: true, Start: hm(start), End: hm(end), ApprovedExempt: true}
	}
}

// notExempt makes quiet hours hold approved contacts too; use after quiet.
func notExempt(p *Policy) { p.Quiet.ApprovedExempt = false }

func approved(ids ...string) option {
	return func(p *Policy) {
		if p.Approved == nil {
			p.Approved = map[string]struct{}{}
		}
		for _, id := range ids {
			p.Approved[id] = struct{}{}
		}
	}
}

func blocked(ids ...string) option {
	return func(p *Policy) {
		if p.Blocked == nil {
			p.Blocked = map[string]struct{}{}
		}
		for _, id := range ids {
			p.Blocked[id] = struct{}{}
		}
	}
}

// The other party in single-policy tables.
const other = "u_other"

// Facts about typical other parties. Each is fully known unless its name
// says otherwise, so that a case changes only the fact it is about.
var (
	// minorStranger: a 15-year-old with an old account, not followed back.
	minorStranger = Facts{Mutual: No, OtherIsAdult: No, OtherAccountAgeDays: 400, OtherAccountAgeKnown: true}
	// adultStranger: an adult with an old account, not followed back.
	adultStranger = Facts{Mutual: No, OtherIsAdult: Yes, OtherAccountAgeDays: 400, OtherAccountAgeKnown: true}
	// friend: a mutual follower, a minor with an old account.
	friend = Facts{Mutual: Yes, OtherIsAdult: No, OtherAccountAgeDays: 400, OtherAccountAgeKnown: true}
	// adultFriend: a mutual follower who is an adult.
	adultFriend = Facts{Mutual: Yes, OtherIsAdult: Yes, OtherAccountAgeDays: 400, OtherAccountAgeKnown: true}
	// nothingKnown: the service sent no facts at all.
	nothingKnown = Facts{}
)

// withMedia, withLink and aged return a copy of f with one fact changed.
func withMedia(f Facts) Facts { f.HasMedia = true; return f }
func withLink(f Facts) Facts  { f.HasLink = true; return f }
func aged(f Facts, days int) Facts {
	f.OtherAccountAgeDays, f.OtherAccountAgeKnown = days, true
	return f
}

// Times used by tables in UTC: one outside any quiet hours used here, one at
// night.
var (
	afternoon = ts("2026-11-27T15:00:00Z")
	night     = ts("2026-11-27T23:30:00Z")
)

func allow(r Reason) Decision   { return Decision{Outcome: Allow, Reason: r} }
func deny(r Reason) Decision    { return Decision{Outcome: Deny, Reason: r} }
func request(r Reason) Decision { return Decision{Outcome: Request, Reason: r} }
func holdUntil(s string) Decision {
	return Decision{Outcome: Hold, Reason: ReasonQuietHours, HoldUntil: ts(s)}
}

// sameDecision compares decisions, instants by time.Equal.
func sameDecision(a, b Decision) bool {
	return a.Outcome == b.Outcome && a.Reason == b.Reason && a.HoldUntil.Equal(b.HoldUntil)
}

func ptr[T any](v T) *T { return &v }
