package policy

import (
	"maps"
	"testing"
	"time"
)

// The fuzz targets check invariants that must hold for every policy, fact
// and instant, not just the ones in the tables. Their seed corpora live in
// testdata/fuzz/<target>/ and run with every plain `go test`.

// fuzzZones are zones with the awkward cases: none, DST west and east of
// UTC, a half-hour DST, a change at midnight, the southern hemisphere, and
// offsets off the hour.
var fuzzZones = []*time.Location{
	time.UTC,
	mustZone("America/New_York"),
	mustZone("Europe/London"),
	mustZone("Europe/Berlin"),
	mustZone("Australia/Lord_Howe"),
	mustZone("America/Santiago"),
	mustZone("Australia/Sydney"),
	mustZone("Asia/Kolkata"),
	mustZone("Pacific/Chatham"),
	mustZone("Asia/Tokyo"),
}

// fuzzIDs are the only platform user IDs the fuzz targets use, so that
// approved, blocked and other parties collide often.
var fuzzIDs = [...]string{"u_a", "u_b", "u_c", "u_d"}

// Instants are folded into 2000–2059, where the zone data is exact.
var (
	fuzzEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	fuzzSpan  = time.Date(2060, 1, 1, 0, 0, 0, 0, time.UTC).Unix() - fuzzEpoch
)

// fuzzTime maps any int64 to an instant in range; in-range Unix seconds map
// to themselves, so seeds can be written as real times.
func fuzzTime(unix int64) time.Time {
	off := (unix - fuzzEpoch) % fuzzSpan
	if off < 0 {
		off += fuzzSpan
	}
	return time.Unix(fuzzEpoch+off, 0).UTC()
}

// Bits of the flags argument of fuzzPolicy.
const (
	fBlockAdults = 1 << iota
	fMediaFriendsOnly
	fQuiet
	fExempt
	fApproved // approve the other party
	fBlocked  // block the other party
	fApprovedElse
	fBlockedElse
)

// fuzzPolicy builds a policy from fuzz arguments. audience may be out of
// range, and quiet hours may be an empty window, as corrupt stored values
// could be; Decide must stay safe for them.
func fuzzPolicy(audience, flags uint8, start, end uint16, minAge int16, zone uint8, otherID string) *Policy {
	p := &Policy{
		Version:                 int64(flags),
		Audience:                Audience(audience % 6),
		BlockAdultStrangers:     flags&fBlockAdults != 0,
		MediaFriendsOnly:        flags&fMediaFriendsOnly != 0,
		MinSenderAccountAgeDays: int(minAge),
		Quiet: QuietHours{
			Enabled:        flags&fQuiet != 0,
			Start:          start % minutesPerDay,
			End:            end % minutesPerDay,
			ApprovedExempt: flags&fExempt != 0,
		},
		Location: fuzzZones[int(zone)%len(fuzzZones)],
		Approved: map[string]struct{}{},
		Blocked:  map[string]struct{}{},
	}
	if flags&fApproved != 0 {
		p.Approved[otherID] = struct{}{}
	}
	if flags&fBlocked != 0 {
		p.Blocked[otherID] = struct{}{}
	}
	if flags&fApprovedElse != 0 {
		p.Approved["u_else"] = struct{}{}
	}
	if flags&fBlockedElse != 0 {
		p.Blocked["u_else"] = struct{}{}
	}
	return p
}

// fuzzFacts builds facts from a byte: two bits each for Mutual and
// OtherIsAdult (3 is a corrupt Fact), then age known, media, link.
func fuzzFacts(b uint8, ageDays int16) Facts {
	return Facts{
		Mutual:               Fact(b & 3),
		OtherIsAdult:         Fact(b >> 2 & 3),
		OtherAccountAgeKnown: b&0x10 != 0,
		OtherAccountAgeDays:  int(ageDays),
		HasMedia:             b&0x20 != 0,
		HasLink:              b&0x40 != 0,
	}
}

func clonePolicy(p *Policy) *Policy {
	c := *p
	c.Approved, c.Blocked = maps.Clone(p.Approved), maps.Clone(p.Blocked)
	return &c
}

// maxHold bounds any hold: a window is under a day long, and the night the
// clocks go back adds the size of the change (an hour in every zone used).
const maxHold = 25 * time.Hour

func FuzzDecide(f *testing.F) {
	f.Fuzz(func(t *testing.T, audience, flags uint8, start, end uint16, minAge int16, facts uint8, ageDays int16, zone uint8, unix int64) {
		otherID := fuzzIDs[0]
		p := fuzzPolicy(audience, flags, start, end, minAge, zone, otherID)
		fs := fuzzFacts(facts, ageDays)
		at := fuzzTime(unix)
		d := Decide(p, otherID, fs, at)
		checkDecision(t, p, otherID, fs, at, d)

		_, isBlocked := p.Blocked[otherID]
		_, isApproved := p.Approved[otherID]

		// A blocked contact is always denied, whatever else is set.
		if isBlocked && (d.Outcome != Deny || d.Reason != ReasonBlockedContact) {
			t.Fatalf("blocked contact got %s", d)
		}
		// Audience nobody lets only approved contacts through.
		if p.Audience >= AudienceNobody && !isApproved && !isBlocked && d != deny(ReasonDMsOff) {
			t.Fatalf("audience nobody, not approved: got %s", d)
		}
		if p.Audience >= AudienceApproved && !isApproved && d.Outcome != Deny {
			t.Fatalf("audience %s, not approved: got %s", p.Audience, d)
		}
		// An approved, unblocked contact is never denied or sent to requests.
		if isApproved && !isBlocked && d.Outcome > Hold {
			t.Fatalf("approved contact got %s", d)
		}

		// Making any one rule stricter never makes the decision looser,
		// nor releases a held message earlier; and Stricter agrees that it
		// is stricter.
		for name, tighten := range tightenings {
			q := clonePolicy(p)
			if !tighten(q, otherID) {
				continue
			}
			if !Stricter(p, q) {
				t.Fatalf("%s: Stricter(p, q) = false; loosenings %q", name, Loosenings(p, q))
			}
			dq := Decide(q, otherID, fs, at)
			checkDecision(t, q, otherID, fs, at, dq)
			if dq.Outcome < d.Outcome {
				t.Fatalf("%s made %s into %s", name, d, dq)
			}
			if d.Outcome == Hold && dq.Outcome == Hold && dq.HoldUntil.Before(d.HoldUntil) {
				t.Fatalf("%s released earlier: %s instead of %s", name, dq.HoldUntil, d.HoldUntil)
			}
		}

		// A fact the service did not send never makes the decision looser.
		for name, forget := range forgettings {
			g := fs
			forget(&g)
			if dg := Decide(p, otherID, g, at); dg.Outcome < d.Outcome {
				t.Fatalf("forgetting %s made %s into %s", name, d, dg)
			}
		}
	})
}

// tightenings each make one field of a policy stricter in the sense of
// Stricter, reporting false when that field cannot get any stricter.
var tightenings = map[string]func(p *Policy, otherID string) bool{
	"raise_audience": func(p *Policy, _ string) bool {
		if p.Audience.rank() == AudienceNobody {
			return false
		}
		p.Audience = p.Audience.rank() + 1
		return true
	},
	"block_adult_strangers": func(p *Policy, _ string) bool {
		was := p.BlockAdultStrangers
		p.BlockAdultStrangers = true
		return !was
	},
	"media_friends_only": func(p *Policy, _ string) bool {
		was := p.MediaFriendsOnly
		p.MediaFriendsOnly = true
		return !was
	},
	"raise_min_age": func(p *Policy, _ string) bool {
		p.MinSenderAccountAgeDays = max(p.MinSenderAccountAgeDays, 0) + 1
		return true
	},
	"raise_min_age_a_lot": func(p *Policy, _ string) bool {
		p.MinSenderAccountAgeDays = max(p.MinSenderAccountAgeDays, 0) + 1000
		return true
	},
	"enable_quiet_hours": func(p *Policy, _ string) bool {
		was := p.Quiet.Enabled
		p.Quiet.Enabled = true
		return !was
	},
	"start_quiet_hours_earlier": func(p *Policy, _ string) bool {
		s, e, ok := p.Quiet.window()
		if !ok || (e-s+minutesPerDay)%minutesPerDay >= minutesPerDay-1 {
			return false // off, or widening would close the last free minute into an empty window
		}
		p.Quiet.Start = uint16((s + minutesPerDay - 1) % minutesPerDay)
		return true
	},
	"end_quiet_hours_later": func(p *Policy, _ string) bool {
		s, e, ok := p.Quiet.window()
		if !ok || (e-s+minutesPerDay)%minutesPerDay >= minutesPerDay-1 {
			return false
		}
		p.Quiet.End = uint16((e + 1) % minutesPerDay)
		return true
	},
	"hold_approved_contacts_too": func(p *Policy, _ string) bool {
		was := p.Quiet.ApprovedExempt
		p.Quiet.ApprovedExempt = false
		return was
	},
	"block_the_other_party": func(p *Policy, id string) bool {
		_, was := p.Blocked[id]
		p.Blocked[id] = struct{}{}
		return !was
	},
	"unapprove_the_other_party": func(p *Policy, id string) bool {
		_, was := p.Approved[id]
		delete(p.Approved, id)
		return was
	},
}

// forgettings each turn one known fact into a missing one.
var forgettings = map[string]func(*Facts){
	"mutual":      func(f *Facts) { f.Mutual = Unknown },
	"adult":       func(f *Facts) { f.OtherIsAdult = Unknown },
	"account_age": func(f *Facts) { f.OtherAccountAgeKnown = false },
	"no_media":    func(f *Facts) { f.HasMedia = true },
	"no_link":     func(f *Facts) { f.HasLink = true },
}

// checkDecision checks what must hold for any decision of one policy.
func checkDecision(t *testing.T, p *Policy, otherID string, fs Facts, at time.Time, d Decision) {
	t.Helper()
	if d.Outcome > Deny || d.Reason.Outcome() != d.Outcome || d.Reason == ReasonNotSupervised || d.Reason == ReasonSupervisionUnavailable {
		t.Fatalf("inconsistent decision %s", d)
	}
	if d.Outcome != Hold {
		if !d.HoldUntil.IsZero() {
			t.Fatalf("%s has a HoldUntil", d)
		}
		return
	}
	if !d.HoldUntil.After(at) || d.HoldUntil.Sub(at) > maxHold {
		t.Fatalf("sent %s, held until %s: not within (0, %s]", at, d.HoldUntil, maxHold)
	}
	// Released at the first moment the quiet hours are over: every moment
	// from `at` until then would hold a new message, and that moment would
	// not.
	if after := Decide(p, otherID, fs, d.HoldUntil); after.Outcome == Hold {
		t.Fatalf("sent %s, held until %s, but a message sent then is held until %s", at, d.HoldUntil, after.HoldUntil)
	}
	span := d.HoldUntil.Sub(at)
	for i := range 8 {
		mid := at.Add(span * time.Duration(i) / 8)
		if i == 0 {
			mid = d.HoldUntil.Add(-time.Nanosecond)
		}
		if got := Decide(p, otherID, fs, mid); got.Outcome != Hold {
			t.Fatalf("sent %s, held until %s, but a message sent at %s gets %s", at, d.HoldUntil, mid, got)
		}
	}
}

// fuzzBytes hands out fuzz input a piece at a time, zeros once it runs out.
type fuzzBytes []byte

func (b *fuzzBytes) byte() uint8 {
	if len(*b) == 0 {
		return 0
	}
	v := (*b)[0]
	*b = (*b)[1:]
	return v
}

func (b *fuzzBytes) uint16() uint16 { return uint16(b.byte())<<8 | uint16(b.byte()) }

// policy reads a whole policy: 9 bytes.
func (b *fuzzBytes) policy(otherID string) *Policy {
	audience, flags := b.byte(), b.byte()
	start, end := b.uint16(), b.uint16()
	minAge := int16(int8(b.byte()))
	zone, version := b.byte(), b.byte()
	p := fuzzPolicy(audience, flags, start, end, minAge, zone, otherID)
	p.Version = int64(version)
	return p
}

// optBool reads an optional bool: 0 missing, odd true, even false.
func (b *fuzzBytes) optBool() *bool {
	v := b.byte()
	if v == 0 {
		return nil
	}
	return ptr(v%2 == 1)
}

// optInt reads an optional account age: 0 missing, otherwise 0..254 days.
func (b *fuzzBytes) optInt() *int {
	v := b.byte()
	if v == 0 {
		return nil
	}
	return ptr(int(v) - 1)
}

// factsAbout is the test's own reading of a Context, written from
// DESIGN.md rather than from the code, for one side of the DM.
func factsAbout(c *Context, adult *bool, age *int) Facts {
	f := Facts{Mutual: Unknown, OtherIsAdult: Unknown, HasMedia: true, HasLink: true}
	if c == nil {
		return f
	}
	if c.MutualFollow != nil {
		f.Mutual = map[bool]Fact{true: Yes, false: No}[*c.MutualFollow]
	}
	if adult != nil {
		f.OtherIsAdult = map[bool]Fact{true: Yes, false: No}[*adult]
	}
	if age != nil {
		f.OtherAccountAgeDays, f.OtherAccountAgeKnown = *age, true
	}
	if c.HasMedia != nil {
		f.HasMedia = *c.HasMedia
	}
	if c.HasLink != nil {
		f.HasLink = *c.HasLink
	}
	return f
}

func FuzzDecideDM(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte, unix int64) {
		in := fuzzBytes(data)
		supervised := in.byte()
		senderID, recipientID := fuzzIDs[0], fuzzIDs[1]
		var sp, rp *Policy
		if s := in.policy(recipientID); supervised&1 != 0 {
			sp = s
		}
		if r := in.policy(senderID); supervised&2 != 0 {
			rp = r
		}
		var c *Context
		if supervised&4 == 0 {
			c = &Context{
				MutualFollow:  in.optBool(),
				SenderIsAdult: in.optBool(), SenderAccountAgeDays: in.optInt(),
				RecipientIsAdult: in.optBool(), RecipientAccountAgeDays: in.optInt(),
				HasMedia: in.optBool(), HasLink: in.optBool(),
			}
		}
		at := fuzzTime(unix)
		got := DecideDM(sp, rp, senderID, recipientID, c, at)

		if sp == nil && rp == nil {
			if want := (Result{Decision: Allow, Reason: ReasonNotSupervised, DecidedBy: DecidedByNone}); got != want {
				t.Fatalf("neither supervised: got %s", got)
			}
			return
		}

		// Each supervised party's policy, against the other party's facts.
		var r, s Decision
		var rOK, sOK bool
		if rp != nil {
			var adult *bool
			var age *int
			if c != nil {
				adult, age = c.SenderIsAdult, c.SenderAccountAgeDays
			}
			r, rOK = Decide(rp, senderID, factsAbout(c, adult, age), at), true
		}
		if sp != nil {
			var adult *bool
			var age *int
			if c != nil {
				adult, age = c.RecipientIsAdult, c.RecipientAccountAgeDays
			}
			s, sOK = Decide(sp, recipientID, factsAbout(c, adult, age), at), true
		}

		// The strictest wins; a tie goes to the recipient, except that of
		// two holds the later one decides.
		var want Result
		switch {
		case !sOK:
			want = Result{r.Outcome, r.Reason, DecidedByRecipient, rp.Version, r.HoldUntil}
		case !rOK:
			want = Result{s.Outcome, s.Reason, DecidedBySender, sp.Version, s.HoldUntil}
		case s.Outcome > r.Outcome || (s.Outcome == Hold && r.Outcome == Hold && s.HoldUntil.After(r.HoldUntil)):
			want = Result{s.Outcome, s.Reason, DecidedBySender, sp.Version, s.HoldUntil}
		default:
			want = Result{r.Outcome, r.Reason, DecidedByRecipient, rp.Version, r.HoldUntil}
		}
		if !sameResult(got, want) {
			t.Fatalf("DecideDM = %s, want %s (recipient %s, sender %s)", got, want, r, s)
		}

		// Swapping who is sending changes who decides a tie, never what
		// happens to the message.
		var swapped *Context
		if c != nil {
			swapped = &Context{
				MutualFollow:  c.MutualFollow,
				SenderIsAdult: c.RecipientIsAdult, SenderAccountAgeDays: c.RecipientAccountAgeDays,
				RecipientIsAdult: c.SenderIsAdult, RecipientAccountAgeDays: c.SenderAccountAgeDays,
				HasMedia: c.HasMedia, HasLink: c.HasLink,
			}
		}
		back := DecideDM(rp, sp, recipientID, senderID, swapped, at)
		if back.Decision != got.Decision || !back.HoldUntil.Equal(got.HoldUntil) {
			t.Fatalf("swapped roles: %s, was %s", back, got)
		}

		// Held by both: released outside both teens' quiet hours, unless
		// no moment of the coming day is outside both.
		if rOK && sOK && r.Outcome == Hold && s.Outcome == Hold {
			// Both holds came from rule 9, so the windows alone decide.
			_, rAfter := rp.Quiet.holdUntil(got.HoldUntil, rp.Location)
			_, sAfter := sp.Quiet.holdUntil(got.HoldUntil, sp.Location)
			if rAfter || sAfter {
				for m := at; m.Before(at.Add(24 * time.Hour)); m = m.Add(time.Minute) {
					_, rIn := rp.Quiet.holdUntil(m, rp.Location)
					_, sIn := sp.Quiet.holdUntil(m, sp.Location)
					if !rIn && !sIn {
						t.Fatalf("held until %s, inside quiet hours, though %s was free for both", got.HoldUntil, m)
					}
				}
			}
		}
	})
}

func FuzzStricter(f *testing.F) {
	f.Fuzz(func(t *testing.T, data []byte, facts uint8, ageDays int16, unix int64) {
		in := fuzzBytes(data)
		otherID := fuzzIDs[int(in.byte())%len(fuzzIDs)]
		a := in.policy(fuzzIDs[int(in.byte())%len(fuzzIDs)])
		// b starts as a copy of a and takes a few random edits, some
		// tightening and some loosening, so that Stricter is often true.
		b := clonePolicy(a)
		for range int(in.byte() % 6) {
			edit(b, &in)
		}
		if !Stricter(a, a) || Loosenings(a, a) != nil {
			t.Fatalf("a policy is not as strict as itself: %q", Loosenings(a, a))
		}
		loose := Loosenings(a, b)
		if Stricter(a, b) != (len(loose) == 0) {
			t.Fatalf("Stricter = %v but Loosenings = %q", Stricter(a, b), loose)
		}
		if len(loose) != 0 {
			return
		}
		fs := fuzzFacts(facts, ageDays)
		at := fuzzTime(unix)
		da, db := Decide(a, otherID, fs, at), Decide(b, otherID, fs, at)
		if db.Outcome < da.Outcome {
			t.Fatalf("stricter policy gave %s where the original gave %s", db, da)
		}
		if da.Outcome == Hold && db.Outcome == Hold && db.HoldUntil.Before(da.HoldUntil) {
			t.Fatalf("stricter policy released at %s, the original at %s", db.HoldUntil, da.HoldUntil)
		}
	})
}

// edit changes one field of p to a value read from in.
func edit(p *Policy, in *fuzzBytes) {
	id := fuzzIDs[int(in.byte())%len(fuzzIDs)]
	switch in.byte() % 10 {
	case 0:
		p.Audience = Audience(in.byte() % 5)
	case 1:
		p.BlockAdultStrangers = !p.BlockAdultStrangers
	case 2:
		p.MediaFriendsOnly = !p.MediaFriendsOnly
	case 3:
		p.MinSenderAccountAgeDays = int(int8(in.byte()))
	case 4:
		p.Quiet.Enabled = !p.Quiet.Enabled
	case 5:
		p.Quiet.Start = in.uint16() % minutesPerDay
	case 6:
		p.Quiet.End = in.uint16() % minutesPerDay
	case 7:
		p.Quiet.ApprovedExempt = !p.Quiet.ApprovedExempt
	case 8:
		if _, ok := p.Approved[id]; ok {
			delete(p.Approved, id)
		} else {
			p.Approved[id] = struct{}{}
		}
	case 9:
		if _, ok := p.Blocked[id]; ok {
			delete(p.Blocked, id)
		} else {
			p.Blocked[id] = struct{}{}
		}
	}
}
