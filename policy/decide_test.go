package policy

import (
	"testing"
	"time"
)

// TestDecide reads like the rule table of DESIGN.md: each rule alone, then
// each pair of rules that can both apply, then facts the service did not
// send. Quiet hours in depth are in quiet_test.go, DecideDM in dm_test.go.
func TestDecide(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		policy *Policy
		other  string // defaults to the const other
		facts  Facts
		at     time.Time // defaults to afternoon
		want   Decision
	}{
		// Each rule alone.
		{name: "no_rule_applies_allowed", policy: open(), facts: adultStranger, want: allow(ReasonAllowed)},
		{name: "not_supervised", policy: nil, facts: adultStranger, want: allow(ReasonNotSupervised)},
		{name: "1_blocked_contact_denied", policy: open(blocked(other)), facts: friend, want: deny(ReasonBlockedContact)},
		{name: "1_someone_else_blocked_allowed", policy: open(blocked("u_someone")), facts: friend, want: allow(ReasonAllowed)},
		{name: "2_approved_contact_allowed", policy: open(approved(other)), facts: adultStranger, want: allow(ReasonApprovedContact)},
		{name: "2_someone_else_approved_rules_apply", policy: open(approved("u_someone"), audience(AudienceApproved)), facts: friend, want: deny(ReasonApprovedOnly)},
		{name: "3_audience_nobody_denied", policy: open(audience(AudienceNobody)), facts: friend, want: deny(ReasonDMsOff)},
		{name: "4_audience_approved_denied", policy: open(audience(AudienceApproved)), facts: friend, want: deny(ReasonApprovedOnly)},
		{name: "5_adult_stranger_denied", policy: open(blockAdultStrangers), facts: adultStranger, want: deny(ReasonAdultStranger)},
		{name: "5_adult_friend_allowed", policy: open(blockAdultStrangers), facts: adultFriend, want: allow(ReasonAllowed)},
		{name: "5_minor_stranger_allowed", policy: open(blockAdultStrangers), facts: minorStranger, want: allow(ReasonAllowed)},
		{name: "5_off_adult_stranger_allowed", policy: open(), facts: adultStranger, want: allow(ReasonAllowed)},
		{name: "6_media_from_stranger_denied", policy: open(mediaFriendsOnly), facts: withMedia(minorStranger), want: deny(ReasonMediaRestricted)},
		{name: "6_link_from_stranger_denied", policy: open(mediaFriendsOnly), facts: withLink(minorStranger), want: deny(ReasonMediaRestricted)},
		{name: "6_media_from_friend_allowed", policy: open(mediaFriendsOnly), facts: withLink(withMedia(friend)), want: allow(ReasonAllowed)},
		{name: "6_plain_message_from_stranger_allowed", policy: open(mediaFriendsOnly), facts: minorStranger, want: allow(ReasonAllowed)},
		{name: "6_off_media_from_stranger_allowed", policy: open(), facts: withMedia(minorStranger), want: allow(ReasonAllowed)},
		{name: "7_stranger_to_requests", policy: open(audience(AudienceFriends)), facts: minorStranger, want: request(ReasonNotFriends)},
		{name: "7_friend_allowed", policy: open(audience(AudienceFriends)), facts: friend, want: allow(ReasonAllowed)},
		{name: "7_everyone_stranger_allowed", policy: open(), facts: minorStranger, want: allow(ReasonAllowed)},
		{name: "8_new_account_to_requests", policy: open(minAge(7)), facts: aged(minorStranger, 6), want: request(ReasonNewAccount)},
		{name: "8_account_exactly_minimum_allowed", policy: open(minAge(7)), facts: aged(minorStranger, 7), want: allow(ReasonAllowed)},
		{name: "8_new_account_friend_allowed", policy: open(minAge(7)), facts: aged(friend, 0), want: allow(ReasonAllowed)},
		{name: "8_no_minimum_brand_new_account_allowed", policy: open(minAge(0)), facts: aged(minorStranger, 0), want: allow(ReasonAllowed)},
		{name: "9_inside_quiet_hours_held", policy: open(quiet("22:00", "07:00")), facts: friend, at: night, want: holdUntil("2026-11-28T07:00:00Z")},
		{name: "9_outside_quiet_hours_allowed", policy: open(quiet("22:00", "07:00")), facts: friend, at: afternoon, want: allow(ReasonAllowed)},
		{name: "9_off_at_night_allowed", policy: open(), facts: friend, at: night, want: allow(ReasonAllowed)},

		// Rule 1 against everything.
		{name: "blocked_contact_beats_approved", policy: open(approved(other), blocked(other)), facts: friend, want: deny(ReasonBlockedContact)},
		{name: "blocked_contact_beats_quiet_hours", policy: open(blocked(other), quiet("22:00", "07:00")), facts: friend, at: night, want: deny(ReasonBlockedContact)},
		{name: "blocked_contact_beats_dms_off", policy: open(blocked(other), audience(AudienceNobody)), facts: friend, want: deny(ReasonBlockedContact)},
		{name: "blocked_friend_denied", policy: open(blocked(other)), facts: adultFriend, want: deny(ReasonBlockedContact)},

		// Rule 2 skips 3–8; 9 only when not exempt.
		{name: "approved_beats_dms_off", policy: open(approved(other), audience(AudienceNobody)), facts: nothingKnown, want: allow(ReasonApprovedContact)},
		{name: "approved_beats_approved_only", policy: open(approved(other), audience(AudienceApproved)), facts: nothingKnown, want: allow(ReasonApprovedContact)},
		{name: "approved_beats_adult_stranger", policy: open(approved(other), blockAdultStrangers), facts: adultStranger, want: allow(ReasonApprovedContact)},
		{name: "approved_beats_media_restricted", policy: open(approved(other), mediaFriendsOnly), facts: withMedia(adultStranger), want: allow(ReasonApprovedContact)},
		{name: "approved_beats_not_friends", policy: open(approved(other), audience(AudienceFriends)), facts: minorStranger, want: allow(ReasonApprovedContact)},
		{name: "approved_beats_new_account", policy: open(approved(other), minAge(30)), facts: aged(minorStranger, 1), want: allow(ReasonApprovedContact)},
		{name: "approved_exempt_from_quiet_hours", policy: open(approved(other), quiet("22:00", "07:00")), facts: adultStranger, at: night, want: allow(ReasonApprovedContact)},
		{name: "approved_held_when_not_exempt", policy: open(approved(other), quiet("22:00", "07:00"), notExempt), facts: adultStranger, at: night, want: holdUntil("2026-11-28T07:00:00Z")},
		{name: "approved_not_exempt_outside_quiet_hours_allowed", policy: open(approved(other), quiet("22:00", "07:00"), notExempt), facts: adultStranger, at: afternoon, want: allow(ReasonApprovedContact)},
		{name: "approved_not_exempt_still_skips_dms_off", policy: open(approved(other), audience(AudienceNobody), quiet("22:00", "07:00"), notExempt), facts: nothingKnown, at: night, want: holdUntil("2026-11-28T07:00:00Z")},

		// Denials among themselves: the first rule names the reason.
		{name: "dms_off_beats_adult_stranger", policy: open(audience(AudienceNobody), blockAdultStrangers), facts: adultStranger, want: deny(ReasonDMsOff)},
		{name: "dms_off_for_friends_too", policy: open(audience(AudienceNobody)), facts: adultFriend, want: deny(ReasonDMsOff)},
		{name: "approved_only_beats_adult_stranger", policy: open(audience(AudienceApproved), blockAdultStrangers), facts: adultStranger, want: deny(ReasonApprovedOnly)},
		{name: "approved_only_beats_media_restricted", policy: open(audience(AudienceApproved), mediaFriendsOnly), facts: withMedia(minorStranger), want: deny(ReasonApprovedOnly)},
		{name: "adult_stranger_beats_media_restricted", policy: open(blockAdultStrangers, mediaFriendsOnly), facts: withMedia(adultStranger), want: deny(ReasonAdultStranger)},

		// Deny beats request beats hold, whatever the rule order.
		{name: "adult_stranger_beats_not_friends", policy: open(audience(AudienceFriends), blockAdultStrangers), facts: adultStranger, want: deny(ReasonAdultStranger)},
		{name: "media_restricted_beats_not_friends", policy: open(audience(AudienceFriends), mediaFriendsOnly), facts: withLink(minorStranger), want: deny(ReasonMediaRestricted)},
		{name: "media_restricted_beats_new_account", policy: open(minAge(7), mediaFriendsOnly), facts: withMedia(aged(minorStranger, 1)), want: deny(ReasonMediaRestricted)},
		{name: "adult_stranger_beats_quiet_hours", policy: open(blockAdultStrangers, quiet("22:00", "07:00")), facts: adultStranger, at: night, want: deny(ReasonAdultStranger)},
		{name: "not_friends_beats_new_account", policy: open(audience(AudienceFriends), minAge(7)), facts: aged(minorStranger, 1), want: request(ReasonNotFriends)},
		{name: "not_friends_beats_quiet_hours", policy: open(audience(AudienceFriends), quiet("22:00", "07:00")), facts: minorStranger, at: night, want: request(ReasonNotFriends)},
		{name: "new_account_beats_quiet_hours", policy: open(minAge(7), quiet("22:00", "07:00")), facts: aged(minorStranger, 2), at: night, want: request(ReasonNewAccount)},

		// Mutual followers skip 5–8 but not the audience rules, nor quiet hours.
		{name: "friend_skips_5_to_8", policy: open(audience(AudienceFriends), blockAdultStrangers, mediaFriendsOnly, minAge(30)), facts: withMedia(aged(adultFriend, 0)), want: allow(ReasonAllowed)},
		{name: "friend_held_by_quiet_hours", policy: open(audience(AudienceFriends), blockAdultStrangers, mediaFriendsOnly, minAge(30), quiet("22:00", "07:00")), facts: withMedia(aged(adultFriend, 0)), at: night, want: holdUntil("2026-11-28T07:00:00Z")},
		{name: "friend_denied_by_approved_only", policy: open(audience(AudienceApproved)), facts: adultFriend, want: deny(ReasonApprovedOnly)},

		// Facts the service did not send count on the safe side.
		{name: "unknown_mutual_counts_as_not_mutual", policy: open(audience(AudienceFriends)), facts: Facts{OtherIsAdult: No}, want: request(ReasonNotFriends)},
		{name: "unknown_adult_counts_as_adult", policy: open(blockAdultStrangers), facts: Facts{Mutual: No, OtherAccountAgeKnown: true, OtherAccountAgeDays: 400}, want: deny(ReasonAdultStranger)},
		{name: "unknown_adult_friend_allowed", policy: open(blockAdultStrangers), facts: Facts{Mutual: Yes}, want: allow(ReasonAllowed)},
		{name: "unknown_account_age_counts_as_zero", policy: open(minAge(1)), facts: Facts{Mutual: No, OtherIsAdult: No, OtherAccountAgeDays: 400}, want: request(ReasonNewAccount)},
		{name: "negative_account_age_counts_as_zero", policy: open(minAge(1)), facts: aged(minorStranger, -5), want: request(ReasonNewAccount)},
		{name: "nothing_known_most_specific_denial", policy: open(blockAdultStrangers, mediaFriendsOnly, audience(AudienceFriends), minAge(7)), facts: nothingKnown, want: deny(ReasonAdultStranger)},
		{name: "nothing_known_everyone_allowed", policy: open(), facts: nothingKnown, want: allow(ReasonAllowed)},
		{name: "corrupt_mutual_counts_as_not_mutual", policy: open(audience(AudienceFriends)), facts: Facts{Mutual: Fact(7), OtherIsAdult: No}, want: request(ReasonNotFriends)},
		{name: "corrupt_adult_counts_as_adult", policy: open(blockAdultStrangers), facts: Facts{Mutual: No, OtherIsAdult: Fact(7)}, want: deny(ReasonAdultStranger)},

		// Corrupt policies fail closed rather than open.
		{name: "out_of_range_audience_counts_as_nobody", policy: open(audience(Audience(9))), facts: friend, want: deny(ReasonDMsOff)},
		{name: "negative_minimum_age_is_no_minimum", policy: open(minAge(-3)), facts: aged(minorStranger, 0), want: allow(ReasonAllowed)},
		{name: "empty_quiet_window_holds_nothing", policy: open(quiet("22:00", "22:00")), facts: friend, at: ts("2026-11-27T22:00:00Z"), want: allow(ReasonAllowed)},

		// An empty ID is matched like any other, never as a wildcard.
		{name: "empty_id_blocked_only_matches_empty", policy: open(blocked("")), other: "u_x", facts: friend, want: allow(ReasonAllowed)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			id, at := tt.other, tt.at
			if id == "" {
				id = other
			}
			if at.IsZero() {
				at = afternoon
			}
			got := Decide(tt.policy, id, tt.facts, at)
			if !sameDecision(got, tt.want) {
				t.Errorf("Decide = %s, want %s", got, tt.want)
			}
			if got.Reason.Outcome() != got.Outcome {
				t.Errorf("reason %s does not go with outcome %s", got.Reason, got.Outcome)
			}
		})
	}
}

// TestDecide_doesNotChangePolicy guards the promise that one Policy can
// serve many goroutines: Decide only reads.
func TestDecide_doesNotChangePolicy(t *testing.T) {
	t.Parallel()
	p := open(audience(AudienceFriends), approved("u_a"), blocked("u_b"), quiet("22:00", "07:00"), in(zone(t, "Europe/London")))
	before := *p
	for _, id := range []string{"u_a", "u_b", other} {
		Decide(p, id, nothingKnown, night)
	}
	if p.Audience != before.Audience || p.Quiet != before.Quiet || p.Location != before.Location ||
		len(p.Approved) != 1 || len(p.Blocked) != 1 {
		t.Errorf("policy changed: %+v, was %+v", *p, before)
	}
}
