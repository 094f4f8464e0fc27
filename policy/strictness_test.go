package policy

import (
	"slices"
	"testing"
)

// TestStricter goes field by field through the order Stricter documents.
// want lists Loosenings(a, b); Stricter(a, b) must be true exactly when it
// is empty.
func TestStricter(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		a, b *Policy
		want []string
	}{
		{name: "same_policy", a: open(audience(AudienceFriends), quiet("22:00", "07:00"), approved("u_a"), blocked("u_b")),
			b: open(audience(AudienceFriends), quiet("22:00", "07:00"), approved("u_a"), blocked("u_b"))},
		{name: "defaults_older_to_younger_tightens", a: ptr(Defaults(16, nil)), b: ptr(Defaults(14, nil))},
		{name: "defaults_younger_to_older_loosens", a: ptr(Defaults(14, nil)), b: ptr(Defaults(16, nil)),
			want: []string{"media and links from friends only from on to off", "quiet hours from 22:00–07:00 to off"}},
		{name: "version_and_zone_ignored", a: open(version(9), in(mustZone("Asia/Tokyo"))), b: open(version(1))},

		{name: "audience_friends_to_approved_tightens", a: open(audience(AudienceFriends)), b: open(audience(AudienceApproved))},
		{name: "audience_everyone_to_nobody_tightens", a: open(), b: open(audience(AudienceNobody))},
		{name: "audience_friends_to_everyone_loosens", a: open(audience(AudienceFriends)), b: open(),
			want: []string{"audience from friends to everyone"}},
		{name: "audience_nobody_to_approved_loosens", a: open(audience(AudienceNobody)), b: open(audience(AudienceApproved)),
			want: []string{"audience from nobody to approved"}},
		{name: "audience_out_of_range_reads_as_nobody", a: open(audience(Audience(7))), b: open(audience(AudienceNobody))},

		{name: "block_adults_on_tightens", a: open(), b: open(blockAdultStrangers)},
		{name: "block_adults_off_loosens", a: open(blockAdultStrangers), b: open(),
			want: []string{"blocking adult strangers from on to off"}},
		{name: "media_friends_only_on_tightens", a: open(), b: open(mediaFriendsOnly)},
		{name: "media_friends_only_off_loosens", a: open(mediaFriendsOnly), b: open(),
			want: []string{"media and links from friends only from on to off"}},

		{name: "min_age_raised_tightens", a: open(minAge(7)), b: open(minAge(30))},
		{name: "min_age_lowered_loosens", a: open(minAge(30)), b: open(minAge(7)),
			want: []string{"minimum account age of strangers from 30 days to 7 days"}},
		{name: "min_age_removed_loosens", a: open(minAge(1)), b: open(),
			want: []string{"minimum account age of strangers from 1 day to none"}},
		{name: "min_age_negative_is_none", a: open(), b: open(minAge(-4))},

		{name: "quiet_on_tightens", a: open(), b: open(quiet("22:00", "07:00"))},
		{name: "quiet_on_without_exemption_tightens", a: open(), b: open(quiet("22:00", "07:00"), notExempt)},
		{name: "quiet_off_loosens", a: open(quiet("22:00", "07:00")), b: open(),
			want: []string{"quiet hours from 22:00–07:00 to off"}},
		{name: "quiet_earlier_start_tightens", a: open(quiet("22:00", "07:00")), b: open(quiet("21:30", "07:00"))},
		{name: "quiet_later_end_tightens", a: open(quiet("22:00", "07:00")), b: open(quiet("22:00", "08:00"))},
		{name: "quiet_later_start_loosens", a: open(quiet("21:30", "07:00")), b: open(quiet("22:00", "07:00")),
			want: []string{"quiet hours from 21:30–07:00 to 22:00–07:00"}},
		{name: "quiet_earlier_end_loosens", a: open(quiet("22:00", "07:00")), b: open(quiet("22:00", "06:00")),
			want: []string{"quiet hours from 22:00–07:00 to 22:00–06:00"}},
		{name: "quiet_moved_loosens", a: open(quiet("22:00", "07:00")), b: open(quiet("23:00", "08:00")),
			want: []string{"quiet hours from 22:00–07:00 to 23:00–08:00"}},
		{name: "quiet_non_wrapping_to_wrapping_superset_tightens", a: open(quiet("01:00", "05:00")), b: open(quiet("22:00", "07:00"))},
		{name: "quiet_wrapping_inside_non_wrapping_impossible", a: open(quiet("22:00", "07:00")), b: open(quiet("00:00", "23:59")),
			want: []string{"quiet hours from 22:00–07:00 to 00:00–23:59"}},
		{name: "quiet_all_but_a_minute_contains_the_rest", a: open(quiet("22:00", "07:00")), b: open(quiet("07:01", "07:00"))},
		{name: "quiet_exemption_off_tightens", a: open(quiet("22:00", "07:00")), b: open(quiet("22:00", "07:00"), notExempt)},
		{name: "quiet_exemption_on_loosens", a: open(quiet("22:00", "07:00"), notExempt), b: open(quiet("22:00", "07:00")),
			want: []string{"approved contacts exempt from quiet hours from off to on"}},
		{name: "quiet_exemption_while_off_does_not_count", a: open(func(p *Policy) { p.Quiet.ApprovedExempt = false }), b: open(func(p *Policy) { p.Quiet.ApprovedExempt = true })},
		{name: "quiet_off_and_exempt_reported_once", a: open(quiet("22:00", "07:00"), notExempt), b: open(),
			want: []string{"quiet hours from 22:00–07:00 to off"}},
		{name: "quiet_empty_window_counts_as_off", a: open(quiet("22:00", "22:00")), b: open()},

		{name: "approved_removed_tightens", a: open(approved("u_a", "u_b")), b: open(approved("u_a"))},
		{name: "approved_added_loosens", a: open(approved("u_a")), b: open(approved("u_a", "u_c", "u_b")),
			want: []string{"approved contact u_b added", "approved contact u_c added"}},
		{name: "blocked_added_tightens", a: open(blocked("u_a")), b: open(blocked("u_a", "u_b"))},
		{name: "blocked_removed_loosens", a: open(blocked("u_a", "u_b")), b: open(),
			want: []string{"blocked contact u_a removed", "blocked contact u_b removed"}},
		{name: "approved_moved_to_blocked_tightens", a: open(approved("u_a")), b: open(blocked("u_a"))},

		{name: "nil_to_anything_tightens", a: nil, b: open(audience(AudienceFriends))},
		{name: "anything_to_nil_loosens", a: open(audience(AudienceFriends), blocked("u_x")), b: nil,
			want: []string{"audience from friends to everyone", "blocked contact u_x removed"}},
		{name: "several_loosenings_in_field_order", a: open(audience(AudienceNobody), blockAdultStrangers, mediaFriendsOnly, minAge(3), quiet("21:00", "07:00"), blocked("u_x")),
			b: open(approved("u_y")),
			want: []string{"audience from nobody to everyone", "blocking adult strangers from on to off", "media and links from friends only from on to off",
				"minimum account age of strangers from 3 days to none", "quiet hours from 21:00–07:00 to off", "approved contact u_y added", "blocked contact u_x removed"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := Loosenings(tt.a, tt.b)
			if !slices.Equal(got, tt.want) {
				t.Errorf("Loosenings = %q\n           want %q", got, tt.want)
			}
			if s := Stricter(tt.a, tt.b); s != (len(tt.want) == 0) {
				t.Errorf("Stricter = %v, want %v", s, len(tt.want) == 0)
			}
		})
	}
}

// TestWindowContains checks the arc arithmetic Stricter relies on against a
// minute-by-minute count on a coarse grid of windows.
func TestWindowContains(t *testing.T) {
	t.Parallel()
	const step = 45 // minutes; 32 points per day, wrapping and not
	for os := 0; os < minutesPerDay; os += step {
		for oe := 0; oe < minutesPerDay; oe += step {
			for is := 0; is < minutesPerDay; is += step {
				for ie := 0; ie < minutesPerDay; ie += step {
					if os == oe || is == ie {
						continue
					}
					want := true
					for m := range minutesPerDay {
						if inWindow(m, is, ie) && !inWindow(m, os, oe) {
							want = false
							break
						}
					}
					if got := windowContains(os, oe, is, ie); got != want {
						t.Fatalf("windowContains(%d–%d ⊇ %d–%d) = %v, want %v", os, oe, is, ie, got, want)
					}
				}
			}
		}
	}
}
