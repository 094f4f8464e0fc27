package policy

import (
	"encoding/json"
	"testing"
	"time"
)

// IDs of the two parties in DecideDM tables.
const (
	sender    = "u_sender"
	recipient = "u_recipient"
)

// dmContext builds a fully known context: two minors with old accounts who
// follow each other, a plain message. Cases change the fact they are about.
func dmContext(change ...func(*Context)) *Context {
	c := &Context{
		MutualFollow:            ptr(true),
		SenderIsAdult:           ptr(false),
		SenderAccountAgeDays:    ptr(400),
		RecipientIsAdult:        ptr(false),
		RecipientAccountAgeDays: ptr(400),
		HasMedia:                ptr(false),
		HasLink:                 ptr(false),
	}
	for _, f := range change {
		f(c)
	}
	return c
}

func strangers(c *Context)      { c.MutualFollow = ptr(false) }
func adultSender(c *Context)    { c.SenderIsAdult = ptr(true) }
func adultRecipient(c *Context) { c.RecipientIsAdult = ptr(true) }

func TestDecideDM(t *testing.T) {
	t.Parallel()
	london := mustZone("Europe/London")
	newYork := mustZone("America/New_York")
	tokyo := mustZone("Asia/Tokyo")
	tests := []struct {
		name              string
		sender, recipient *Policy
		ctx               *Context
		at                time.Time // defaults to afternoon
		want              Result
	}{
		{name: "neither_supervised", ctx: dmContext(strangers, adultSender),
			want: Result{Decision: Allow, Reason: ReasonNotSupervised, DecidedBy: DecidedByNone}},
		{name: "neither_supervised_without_context", ctx: nil,
			want: Result{Decision: Allow, Reason: ReasonNotSupervised, DecidedBy: DecidedByNone}},

		// One supervised party: its policy against the other party's facts.
		{name: "recipient_only_judges_the_sender", recipient: open(version(7), blockAdultStrangers), ctx: dmContext(strangers, adultSender),
			want: Result{Decision: Deny, Reason: ReasonAdultStranger, DecidedBy: DecidedByRecipient, PolicyVersion: 7}},
		{name: "recipient_only_ignores_recipient_facts", recipient: open(version(7), blockAdultStrangers), ctx: dmContext(strangers, adultRecipient),
			want: Result{Decision: Allow, Reason: ReasonAllowed, DecidedBy: DecidedByRecipient, PolicyVersion: 7}},
		{name: "sender_only_judges_the_recipient", sender: open(version(3), blockAdultStrangers), ctx: dmContext(strangers, adultRecipient),
			want: Result{Decision: Deny, Reason: ReasonAdultStranger, DecidedBy: DecidedBySender, PolicyVersion: 3}},
		{name: "sender_only_ignores_sender_facts", sender: open(version(3), blockAdultStrangers), ctx: dmContext(strangers, adultSender),
			want: Result{Decision: Allow, Reason: ReasonAllowed, DecidedBy: DecidedBySender, PolicyVersion: 3}},
		{name: "recipient_blocks_sender_id", recipient: open(version(2), blocked(sender)), ctx: dmContext(),
			want: Result{Decision: Deny, Reason: ReasonBlockedContact, DecidedBy: DecidedByRecipient, PolicyVersion: 2}},
		{name: "recipient_blocking_own_id_irrelevant", recipient: open(version(2), blocked(recipient)), ctx: dmContext(),
			want: Result{Decision: Allow, Reason: ReasonAllowed, DecidedBy: DecidedByRecipient, PolicyVersion: 2}},
		{name: "sender_blocks_recipient_id", sender: open(version(4), blocked(recipient)), ctx: dmContext(),
			want: Result{Decision: Deny, Reason: ReasonBlockedContact, DecidedBy: DecidedBySender, PolicyVersion: 4}},
		{name: "sender_approves_recipient_id", sender: open(version(4), approved(recipient), audience(AudienceNobody)), ctx: dmContext(),
			want: Result{Decision: Allow, Reason: ReasonApprovedContact, DecidedBy: DecidedBySender, PolicyVersion: 4}},
		{name: "recipient_account_age_checked_for_sender_policy", sender: open(version(4), minAge(7)), ctx: dmContext(strangers, func(c *Context) { c.RecipientAccountAgeDays = ptr(2) }),
			want: Result{Decision: Request, Reason: ReasonNewAccount, DecidedBy: DecidedBySender, PolicyVersion: 4}},
		{name: "sender_account_age_checked_for_recipient_policy", recipient: open(version(5), minAge(7)), ctx: dmContext(strangers, func(c *Context) { c.SenderAccountAgeDays = ptr(2) }),
			want: Result{Decision: Request, Reason: ReasonNewAccount, DecidedBy: DecidedByRecipient, PolicyVersion: 5}},

		// Missing facts count on the safe side.
		{name: "no_context_counts_as_adult_stranger", recipient: open(version(1), blockAdultStrangers), ctx: nil,
			want: Result{Decision: Deny, Reason: ReasonAdultStranger, DecidedBy: DecidedByRecipient, PolicyVersion: 1}},
		{name: "missing_mutual_counts_as_not_friends", recipient: open(version(1), audience(AudienceFriends)), ctx: dmContext(func(c *Context) { c.MutualFollow = nil }),
			want: Result{Decision: Request, Reason: ReasonNotFriends, DecidedBy: DecidedByRecipient, PolicyVersion: 1}},
		{name: "missing_account_age_counts_as_zero", recipient: open(version(1), minAge(1)), ctx: dmContext(strangers, func(c *Context) { c.SenderAccountAgeDays = nil }),
			want: Result{Decision: Request, Reason: ReasonNewAccount, DecidedBy: DecidedByRecipient, PolicyVersion: 1}},
		{name: "missing_media_counts_as_media", recipient: open(version(1), mediaFriendsOnly), ctx: dmContext(strangers, func(c *Context) { c.HasMedia = nil }),
			want: Result{Decision: Deny, Reason: ReasonMediaRestricted, DecidedBy: DecidedByRecipient, PolicyVersion: 1}},
		{name: "missing_link_counts_as_link", recipient: open(version(1), mediaFriendsOnly), ctx: dmContext(strangers, func(c *Context) { c.HasLink = nil }),
			want: Result{Decision: Deny, Reason: ReasonMediaRestricted, DecidedBy: DecidedByRecipient, PolicyVersion: 1}},
		{name: "known_plain_message_from_stranger_allowed", recipient: open(version(1), mediaFriendsOnly), ctx: dmContext(strangers),
			want: Result{Decision: Allow, Reason: ReasonAllowed, DecidedBy: DecidedByRecipient, PolicyVersion: 1}},

		// Both supervised: the stricter wins, a tie goes to the recipient.
		{name: "recipient_stricter", sender: open(version(10)), recipient: open(version(20), audience(AudienceFriends)), ctx: dmContext(strangers),
			want: Result{Decision: Request, Reason: ReasonNotFriends, DecidedBy: DecidedByRecipient, PolicyVersion: 20}},
		{name: "sender_stricter", sender: open(version(10), audience(AudienceNobody)), recipient: open(version(20), audience(AudienceFriends)), ctx: dmContext(strangers),
			want: Result{Decision: Deny, Reason: ReasonDMsOff, DecidedBy: DecidedBySender, PolicyVersion: 10}},
		{name: "sender_request_beats_recipient_hold", sender: open(version(10), audience(AudienceFriends)), recipient: open(version(20), quiet("22:00", "07:00")), ctx: dmContext(strangers), at: night,
			want: Result{Decision: Request, Reason: ReasonNotFriends, DecidedBy: DecidedBySender, PolicyVersion: 10}},
		{name: "sender_hold_beats_recipient_allow", sender: open(version(10), quiet("22:00", "07:00")), recipient: open(version(20)), ctx: dmContext(), at: night,
			want: Result{Decision: Hold, Reason: ReasonQuietHours, DecidedBy: DecidedBySender, PolicyVersion: 10, HoldUntil: ts("2026-11-28T07:00:00Z")}},
		{name: "tie_deny_goes_to_recipient", sender: open(version(10), audience(AudienceNobody)), recipient: open(version(20), blocked(sender)), ctx: dmContext(),
			want: Result{Decision: Deny, Reason: ReasonBlockedContact, DecidedBy: DecidedByRecipient, PolicyVersion: 20}},
		{name: "tie_deny_goes_to_recipient_other_way_round", sender: open(version(10), blocked(recipient)), recipient: open(version(20), audience(AudienceNobody)), ctx: dmContext(),
			want: Result{Decision: Deny, Reason: ReasonDMsOff, DecidedBy: DecidedByRecipient, PolicyVersion: 20}},
		{name: "tie_request_goes_to_recipient", sender: open(version(10), audience(AudienceFriends)), recipient: open(version(20), minAge(9999)), ctx: dmContext(strangers),
			want: Result{Decision: Request, Reason: ReasonNewAccount, DecidedBy: DecidedByRecipient, PolicyVersion: 20}},
		{name: "tie_allow_goes_to_recipient", sender: open(version(10), approved(recipient)), recipient: open(version(20)), ctx: dmContext(),
			want: Result{Decision: Allow, Reason: ReasonAllowed, DecidedBy: DecidedByRecipient, PolicyVersion: 20}},
		{name: "each_judges_the_other_adult", sender: open(version(10), blockAdultStrangers), recipient: open(version(20), blockAdultStrangers), ctx: dmContext(strangers, adultRecipient),
			want: Result{Decision: Deny, Reason: ReasonAdultStranger, DecidedBy: DecidedBySender, PolicyVersion: 10}},

		// Both hold: the later end, so the message arrives outside both
		// teens' quiet hours.
		{name: "both_hold_sender_ends_later", sender: open(version(10), quiet("22:00", "07:00"), in(newYork)), recipient: open(version(20), quiet("21:30", "07:00"), in(london)),
			ctx: dmContext(), at: ts("2026-11-28T03:00:00Z"),
			want: Result{Decision: Hold, Reason: ReasonQuietHours, DecidedBy: DecidedBySender, PolicyVersion: 10, HoldUntil: ts("2026-11-28T07:00:00-05:00")}},
		{name: "both_hold_recipient_ends_later", sender: open(version(10), quiet("22:00", "07:00"), in(london)), recipient: open(version(20), quiet("22:00", "07:00"), in(newYork)),
			ctx: dmContext(), at: ts("2026-11-28T03:00:00Z"),
			want: Result{Decision: Hold, Reason: ReasonQuietHours, DecidedBy: DecidedByRecipient, PolicyVersion: 20, HoldUntil: ts("2026-11-28T07:00:00-05:00")}},
		{name: "both_hold_same_end_goes_to_recipient", sender: open(version(10), quiet("23:00", "07:00")), recipient: open(version(20), quiet("22:00", "07:00")),
			ctx: dmContext(), at: night,
			want: Result{Decision: Hold, Reason: ReasonQuietHours, DecidedBy: DecidedByRecipient, PolicyVersion: 20, HoldUntil: ts("2026-11-28T07:00:00Z")}},
		{name: "both_hold_same_instant_different_zones", sender: open(version(10), quiet("22:00", "16:00"), in(tokyo)), recipient: open(version(20), quiet("22:00", "07:00")),
			ctx: dmContext(), at: night,
			want: Result{Decision: Hold, Reason: ReasonQuietHours, DecidedBy: DecidedByRecipient, PolicyVersion: 20, HoldUntil: ts("2026-11-28T07:00:00Z")}},
		{name: "both_hold_across_dst_later_end", sender: open(version(10), quiet("22:00", "07:00"), in(london)), recipient: open(version(20), quiet("22:00", "07:00"), in(newYork)),
			ctx: dmContext(), at: ts("2026-03-08T04:00:00Z"),
			want: Result{Decision: Hold, Reason: ReasonQuietHours, DecidedBy: DecidedByRecipient, PolicyVersion: 20, HoldUntil: ts("2026-03-08T07:00:00-04:00")}},
		{name: "approved_exempt_sender_hold_only_by_recipient", sender: open(version(10), quiet("22:00", "07:00"), approved(recipient)), recipient: open(version(20), quiet("21:00", "08:00")),
			ctx: dmContext(), at: night,
			want: Result{Decision: Hold, Reason: ReasonQuietHours, DecidedBy: DecidedByRecipient, PolicyVersion: 20, HoldUntil: ts("2026-11-28T08:00:00Z")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			at := tt.at
			if at.IsZero() {
				at = afternoon
			}
			got := DecideDM(tt.sender, tt.recipient, sender, recipient, tt.ctx, at)
			if !sameResult(got, tt.want) {
				t.Errorf("DecideDM = %s\n                 want %s", got, tt.want)
			}
		})
	}
}

// TestDecideDM_bothHoldArrivesOutsideBothWindows checks the reason for
// taking the later end: at HoldUntil neither teen's policy would hold a new
// message, and just before it one of them would.
func TestDecideDM_bothHoldArrivesOutsideBothWindows(t *testing.T) {
	t.Parallel()
	s := open(version(1), quiet("23:00", "06:30"), in(zone(t, "America/New_York")))
	r := open(version(2), quiet("21:30", "07:00"), in(zone(t, "Europe/London")))
	checked := 0
	for at := ts("2026-10-24T00:00:00Z"); at.Before(ts("2026-11-03T00:00:00Z")); at = at.Add(17 * time.Minute) {
		got := DecideDM(s, r, sender, recipient, dmContext(), at)
		rs, ss := Decide(r, sender, friend, at), Decide(s, recipient, friend, at)
		if rs.Outcome != Hold || ss.Outcome != Hold {
			continue
		}
		checked++
		if got.Decision != Hold {
			t.Fatalf("at %s: both hold but DecideDM = %s", at, got)
		}
		for _, p := range []*Policy{s, r} {
			if d := Decide(p, other, friend, got.HoldUntil); d.Outcome == Hold {
				t.Errorf("at %s: released at %s, inside quiet hours of policy v%d", at, got.HoldUntil, p.Version)
			}
		}
		if rs.HoldUntil.After(got.HoldUntil) || ss.HoldUntil.After(got.HoldUntil) {
			t.Errorf("at %s: released at %s, before one of %s, %s", at, got.HoldUntil, rs.HoldUntil, ss.HoldUntil)
		}
	}
	if checked < 100 {
		t.Fatalf("only %d instants held by both; the test proves little", checked)
	}
}

// TestDecideDM_windowsCoveringTheDay pins the one case in which a message
// held by both arrives inside a teen's quiet hours: together the windows
// leave no free moment, and the later end stands.
func TestDecideDM_windowsCoveringTheDay(t *testing.T) {
	t.Parallel()
	s := open(version(1), quiet("23:00", "22:00")) // free 22:00–23:00
	r := open(version(2), quiet("21:00", "23:30")) // covers it
	got := DecideDM(s, r, sender, recipient, dmContext(), ts("2026-11-27T21:30:00Z"))
	want := Result{Decision: Hold, Reason: ReasonQuietHours, DecidedBy: DecidedByRecipient, PolicyVersion: 2, HoldUntil: ts("2026-11-27T23:30:00Z")}
	if !sameResult(got, want) {
		t.Errorf("DecideDM = %s, want %s", got, want)
	}
}

// TestResult_JSON pins the wire form of a check answer, which handlers and
// the SDK share.
func TestResult_JSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		r    Result
		want string
	}{
		{name: "hold", r: Result{Decision: Hold, Reason: ReasonQuietHours, DecidedBy: DecidedByRecipient, PolicyVersion: 42, HoldUntil: ts("2026-11-28T07:00:00Z")},
			want: `{"decision":"hold","reason":"quiet_hours","decided_by":"recipient","policy_version":42,"hold_until":"2026-11-28T07:00:00Z"}`},
		{name: "allow_omits_hold_until", r: Result{Decision: Allow, Reason: ReasonNotSupervised, DecidedBy: DecidedByNone},
			want: `{"decision":"allow","reason":"not_supervised","decided_by":"none","policy_version":0}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			b, err := json.Marshal(tt.r)
			if err != nil {
				t.Fatal(err)
			}
			if string(b) != tt.want {
				t.Errorf("json = %s\n       want %s", b, tt.want)
			}
			var back Result
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatal(err)
			}
			if !sameResult(back, tt.r) {
				t.Errorf("round trip = %s, want %s", back, tt.r)
			}
		})
	}
}

func TestResult_String(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		r    Result
		want string
	}{
		{Result{Decision: Request, Reason: ReasonNotFriends, DecidedBy: DecidedByRecipient, PolicyVersion: 42}, "request not_friends by recipient v42"},
		{Result{Decision: Hold, Reason: ReasonQuietHours, DecidedBy: DecidedBySender, PolicyVersion: 7, HoldUntil: ts("2026-11-28T07:00:00-05:00")},
			"hold quiet_hours by sender v7 until 2026-11-28T07:00:00-05:00"},
	} {
		if got := tt.r.String(); got != tt.want {
			t.Errorf("String() = %q, want %q", got, tt.want)
		}
	}
}

// TestContext_JSON checks that the hook API's "context" object decodes into
// a Context with missing fields left nil, not false or 0.
func TestContext_JSON(t *testing.T) {
	t.Parallel()
	var c Context
	if err := json.Unmarshal([]byte(`{"mutual_follow":false,"sender_is_adult":true,"sender_account_age_days":3}`), &c); err != nil {
		t.Fatal(err)
	}
	if c.MutualFollow == nil || *c.MutualFollow || c.SenderIsAdult == nil || !*c.SenderIsAdult ||
		c.SenderAccountAgeDays == nil || *c.SenderAccountAgeDays != 3 {
		t.Errorf("present fields decoded wrong: %+v", c)
	}
	if c.RecipientIsAdult != nil || c.RecipientAccountAgeDays != nil || c.HasMedia != nil || c.HasLink != nil {
		t.Errorf("missing fields not nil: %+v", c)
	}
	b, err := json.Marshal(&c)
	if err != nil {
		t.Fatal(err)
	}
	if want := `{"mutual_follow":false,"sender_is_adult":true,"sender_account_age_days":3}`; string(b) != want {
		t.Errorf("json = %s, want %s", b, want)
	}
}

func sameResult(a, b Result) bool {
	return a.Decision == b.Decision && a.Reason == b.Reason && a.DecidedBy == b.DecidedBy &&
		a.PolicyVersion == b.PolicyVersion && a.HoldUntil.Equal(b.HoldUntil)
}
