package policy

import (
	"testing"
	"time"
)

// TestDecide_quietHours checks the window [start, end) minute by minute at
// its edges, wrapping and not, in the teen's own zone.
func TestDecide_quietHours(t *testing.T) {
	t.Parallel()
	tokyo := mustZone("Asia/Tokyo")
	kolkata := mustZone("Asia/Kolkata")
	tests := []struct {
		name       string
		start, end string
		loc        *time.Location
		at         string
		want       Decision
	}{
		// 22:00–07:00 wraps midnight.
		{name: "wrapping_21_59_allowed", start: "22:00", end: "07:00", at: "2026-11-27T21:59:00Z", want: allow(ReasonAllowed)},
		{name: "wrapping_21_59_59_allowed", start: "22:00", end: "07:00", at: "2026-11-27T21:59:59.999Z", want: allow(ReasonAllowed)},
		{name: "wrapping_22_00_held_until_tomorrow", start: "22:00", end: "07:00", at: "2026-11-27T22:00:00Z", want: holdUntil("2026-11-28T07:00:00Z")},
		{name: "wrapping_23_59_held_until_tomorrow", start: "22:00", end: "07:00", at: "2026-11-27T23:59:59Z", want: holdUntil("2026-11-28T07:00:00Z")},
		{name: "wrapping_00_00_held_until_today", start: "22:00", end: "07:00", at: "2026-11-28T00:00:00Z", want: holdUntil("2026-11-28T07:00:00Z")},
		{name: "wrapping_06_59_held_a_minute", start: "22:00", end: "07:00", at: "2026-11-28T06:59:00Z", want: holdUntil("2026-11-28T07:00:00Z")},
		{name: "wrapping_06_59_59_held_a_second", start: "22:00", end: "07:00", at: "2026-11-28T06:59:59Z", want: holdUntil("2026-11-28T07:00:00Z")},
		{name: "wrapping_07_00_allowed", start: "22:00", end: "07:00", at: "2026-11-28T07:00:00Z", want: allow(ReasonAllowed)},
		{name: "wrapping_over_new_year", start: "22:00", end: "07:00", at: "2026-12-31T23:00:00Z", want: holdUntil("2027-01-01T07:00:00Z")},
		{name: "wrapping_over_month_end", start: "21:30", end: "07:00", at: "2026-02-28T21:30:00Z", want: holdUntil("2026-03-01T07:00:00Z")},

		// A window within one day.
		{name: "daytime_12_59_allowed", start: "13:00", end: "15:00", at: "2026-11-27T12:59:00Z", want: allow(ReasonAllowed)},
		{name: "daytime_13_00_held", start: "13:00", end: "15:00", at: "2026-11-27T13:00:00Z", want: holdUntil("2026-11-27T15:00:00Z")},
		{name: "daytime_14_59_held", start: "13:00", end: "15:00", at: "2026-11-27T14:59:00Z", want: holdUntil("2026-11-27T15:00:00Z")},
		{name: "daytime_15_00_allowed", start: "13:00", end: "15:00", at: "2026-11-27T15:00:00Z", want: allow(ReasonAllowed)},
		{name: "one_minute_window_held", start: "13:00", end: "13:01", at: "2026-11-27T13:00:30Z", want: holdUntil("2026-11-27T13:01:00Z")},
		{name: "one_minute_window_after_allowed", start: "13:00", end: "13:01", at: "2026-11-27T13:01:00Z", want: allow(ReasonAllowed)},

		// Windows touching midnight.
		{name: "ending_at_midnight_23_59_held", start: "20:00", end: "00:00", at: "2026-11-27T23:59:00Z", want: holdUntil("2026-11-28T00:00:00Z")},
		{name: "ending_at_midnight_00_00_allowed", start: "20:00", end: "00:00", at: "2026-11-28T00:00:00Z", want: allow(ReasonAllowed)},
		{name: "starting_at_midnight_00_00_held", start: "00:00", end: "06:00", at: "2026-11-28T00:00:00Z", want: holdUntil("2026-11-28T06:00:00Z")},
		{name: "starting_at_midnight_23_59_allowed", start: "00:00", end: "06:00", at: "2026-11-27T23:59:00Z", want: allow(ReasonAllowed)},

		// All day but one minute: the longest hold there is.
		{name: "all_but_a_minute_held_almost_a_day", start: "07:01", end: "07:00", at: "2026-11-27T07:01:00Z", want: holdUntil("2026-11-28T07:00:00Z")},
		{name: "all_but_a_minute_free_minute_allowed", start: "07:01", end: "07:00", at: "2026-11-27T07:00:00Z", want: allow(ReasonAllowed)},

		// The teen's zone decides, not the instant's.
		{name: "tokyo_night_is_utc_afternoon", start: "22:00", end: "07:00", loc: tokyo, at: "2026-11-27T14:30:00Z", want: holdUntil("2026-11-28T07:00:00+09:00")},
		{name: "tokyo_morning_is_utc_night", start: "22:00", end: "07:00", loc: tokyo, at: "2026-11-27T23:30:00Z", want: allow(ReasonAllowed)},
		{name: "sender_zone_in_instant_does_not_matter", start: "22:00", end: "07:00", loc: tokyo, at: "2026-11-27T09:30:00-05:00", want: holdUntil("2026-11-28T07:00:00+09:00")},
		{name: "half_hour_zone", start: "22:00", end: "07:00", loc: kolkata, at: "2026-11-27T16:30:00Z", want: holdUntil("2026-11-28T07:00:00+05:30")},
		{name: "half_hour_zone_just_before", start: "22:00", end: "07:00", loc: kolkata, at: "2026-11-27T16:29:00Z", want: allow(ReasonAllowed)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := open(quiet(tt.start, tt.end), in(tt.loc))
			got := Decide(p, other, friend, ts(tt.at))
			if !sameDecision(got, tt.want) {
				t.Errorf("Decide at %s = %s, want %s", tt.at, got, tt.want)
			}
		})
	}
}

// TestDecide_quietHoursDST pins quiet hours across daylight-saving changes:
// the window keeps its wall-clock meaning, a held message is released the
// first moment the teen's clock is outside the window, and an End that does
// not exist (spring forward) or happens twice (fall back) is resolved that
// way in zones east and west of UTC alike. It also covers a half-hour change
// (Lord Howe) and a change at midnight (Santiago).
func TestDecide_quietHoursDST(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		zone       string
		start, end string
		at         string
		want       Decision
		wantHeld   time.Duration // how long the message waits, when held
	}{
		// America/New_York, 2026-03-08: 02:00 EST becomes 03:00 EDT.
		{name: "new_york_spring_night_is_an_hour_shorter", zone: "America/New_York", start: "22:00", end: "07:00",
			at: "2026-03-07T22:00:00-05:00", want: holdUntil("2026-03-08T07:00:00-04:00"), wantHeld: 8 * time.Hour},
		{name: "new_york_spring_end_in_gap_released_at_change", zone: "America/New_York", start: "22:00", end: "02:30",
			at: "2026-03-08T01:45:00-05:00", want: holdUntil("2026-03-08T03:00:00-04:00"), wantHeld: 15 * time.Minute},
		{name: "new_york_spring_end_in_gap_from_evening", zone: "America/New_York", start: "22:00", end: "02:30",
			at: "2026-03-07T23:00:00-05:00", want: holdUntil("2026-03-08T03:00:00-04:00"), wantHeld: 3 * time.Hour},
		{name: "new_york_spring_after_change_allowed", zone: "America/New_York", start: "22:00", end: "02:30",
			at: "2026-03-08T03:00:00-04:00", want: allow(ReasonAllowed)},
		{name: "new_york_spring_start_in_gap_held_after_change", zone: "America/New_York", start: "02:30", end: "06:00",
			at: "2026-03-08T03:00:00-04:00", want: holdUntil("2026-03-08T06:00:00-04:00"), wantHeld: 3 * time.Hour},
		{name: "new_york_spring_start_in_gap_before_change_allowed", zone: "America/New_York", start: "02:30", end: "06:00",
			at: "2026-03-08T01:59:00-05:00", want: allow(ReasonAllowed)},
		{name: "new_york_spring_free_minutes_skipped_hold_until_next_day", zone: "America/New_York", start: "02:45", end: "02:30",
			at: "2026-03-08T01:30:00-05:00", want: holdUntil("2026-03-09T02:30:00-04:00"), wantHeld: 24 * time.Hour},

		// America/New_York, 2026-11-01: 02:00 EDT becomes 01:00 EST.
		{name: "new_york_fall_night_is_an_hour_longer", zone: "America/New_York", start: "22:00", end: "07:00",
			at: "2026-10-31T22:00:00-04:00", want: holdUntil("2026-11-01T07:00:00-05:00"), wantHeld: 10 * time.Hour},
		{name: "new_york_fall_repeated_end_first_time", zone: "America/New_York", start: "22:00", end: "01:30",
			at: "2026-11-01T01:10:00-04:00", want: holdUntil("2026-11-01T01:30:00-04:00"), wantHeld: 20 * time.Minute},
		{name: "new_york_fall_between_the_two_ends_allowed", zone: "America/New_York", start: "22:00", end: "01:30",
			at: "2026-11-01T01:40:00-04:00", want: allow(ReasonAllowed)},
		{name: "new_york_fall_repeated_end_second_time", zone: "America/New_York", start: "22:00", end: "01:30",
			at: "2026-11-01T01:10:00-05:00", want: holdUntil("2026-11-01T01:30:00-05:00"), wantHeld: 20 * time.Minute},
		{name: "new_york_fall_back_before_start_releases_at_change", zone: "America/New_York", start: "01:30", end: "03:00",
			at: "2026-11-01T01:45:00-04:00", want: holdUntil("2026-11-01T01:00:00-05:00"), wantHeld: 15 * time.Minute},

		// Europe/London, 2026-03-29: 01:00 GMT becomes 02:00 BST.
		{name: "london_spring_night_is_an_hour_shorter", zone: "Europe/London", start: "22:00", end: "07:00",
			at: "2026-03-28T22:00:00Z", want: holdUntil("2026-03-29T07:00:00+01:00"), wantHeld: 8 * time.Hour},
		{name: "london_spring_end_in_gap_released_at_change", zone: "Europe/London", start: "22:00", end: "01:30",
			at: "2026-03-29T00:50:00Z", want: holdUntil("2026-03-29T02:00:00+01:00"), wantHeld: 10 * time.Minute},

		// Europe/London, 2026-10-25: 02:00 BST becomes 01:00 GMT.
		{name: "london_fall_night_is_an_hour_longer", zone: "Europe/London", start: "22:00", end: "07:00",
			at: "2026-10-24T22:00:00+01:00", want: holdUntil("2026-10-25T07:00:00Z"), wantHeld: 10 * time.Hour},
		{name: "london_fall_repeated_end_first_time", zone: "Europe/London", start: "22:00", end: "01:30",
			at: "2026-10-25T01:10:00+01:00", want: holdUntil("2026-10-25T01:30:00+01:00"), wantHeld: 20 * time.Minute},
		{name: "london_fall_repeated_end_second_time", zone: "Europe/London", start: "22:00", end: "01:30",
			at: "2026-10-25T01:10:00Z", want: holdUntil("2026-10-25T01:30:00Z"), wantHeld: 20 * time.Minute},
		{name: "london_maya_quiet_hours_fall_night", zone: "Europe/London", start: "21:30", end: "07:00",
			at: "2026-10-24T21:30:00+01:00", want: holdUntil("2026-10-25T07:00:00Z"), wantHeld: 10*time.Hour + 30*time.Minute},

		// Europe/Berlin, 2026-03-29 and 2026-10-25 (changes at 02:00 and 03:00).
		{name: "berlin_spring_end_in_gap_released_at_change", zone: "Europe/Berlin", start: "22:00", end: "02:30",
			at: "2026-03-29T01:50:00+01:00", want: holdUntil("2026-03-29T03:00:00+02:00"), wantHeld: 10 * time.Minute},
		{name: "berlin_fall_repeated_end_first_time", zone: "Europe/Berlin", start: "22:00", end: "02:30",
			at: "2026-10-25T02:10:00+02:00", want: holdUntil("2026-10-25T02:30:00+02:00"), wantHeld: 20 * time.Minute},
		{name: "berlin_fall_repeated_end_second_time", zone: "Europe/Berlin", start: "22:00", end: "02:30",
			at: "2026-10-25T02:10:00+01:00", want: holdUntil("2026-10-25T02:30:00+01:00"), wantHeld: 20 * time.Minute},

		// Australia/Lord_Howe, 2026-10-04: 02:00 +10:30 becomes 02:30 +11.
		{name: "lord_howe_half_hour_gap", zone: "Australia/Lord_Howe", start: "22:00", end: "02:15",
			at: "2026-10-04T01:50:00+10:30", want: holdUntil("2026-10-04T02:30:00+11:00"), wantHeld: 10 * time.Minute},

		// America/Santiago, 2026-09-06: midnight -04 becomes 01:00 -03.
		{name: "santiago_midnight_gap", zone: "America/Santiago", start: "20:00", end: "00:00",
			at: "2026-09-05T23:30:00-04:00", want: holdUntil("2026-09-06T01:00:00-03:00"), wantHeld: 30 * time.Minute},
		{name: "santiago_day_after_midnight_gap", zone: "America/Santiago", start: "22:00", end: "07:00",
			at: "2026-09-05T22:00:00-04:00", want: holdUntil("2026-09-06T07:00:00-03:00"), wantHeld: 8 * time.Hour},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			p := open(quiet(tt.start, tt.end), in(zone(t, tt.zone)))
			at := ts(tt.at)
			got := Decide(p, other, friend, at)
			if !sameDecision(got, tt.want) {
				t.Fatalf("Decide at %s = %s, want %s", tt.at, got, tt.want)
			}
			if got.Outcome != Hold {
				return
			}
			if held := got.HoldUntil.Sub(at); held != tt.wantHeld {
				t.Errorf("held for %s, want %s", held, tt.wantHeld)
			}
			if got.HoldUntil.Location() != p.Location {
				t.Errorf("HoldUntil is in %s, want the teen's zone %s", got.HoldUntil.Location(), p.Location)
			}
			// Released means: a message sent at that moment is not held, one
			// sent just before it is.
			if after := Decide(p, other, friend, got.HoldUntil); after.Outcome != Allow {
				t.Errorf("at HoldUntil a new message gets %s, want allow", after)
			}
			if before := Decide(p, other, friend, got.HoldUntil.Add(-time.Nanosecond)); before.Outcome != Hold {
				t.Errorf("just before HoldUntil a new message gets %s, want hold", before)
			}
		})
	}
}

// TestQuietHours_String shows the window the way guardians read it.
func TestQuietHours_String(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		q    QuietHours
		want string
	}{
		{QuietHours{}, "off"},
		{QuietHours{Start: hm("22:00"), End: hm("07:00")}, "off"},
		{QuietHours{Enabled: true, Start: hm("22:00"), End: hm("07:00")}, "22:00–07:00"},
		{QuietHours{Enabled: true, Start: hm("00:05"), End: hm("23:59")}, "00:05–23:59"},
	} {
		if got := tt.q.String(); got != tt.want {
			t.Errorf("%+v.String() = %q, want %q", tt.q, got, tt.want)
		}
	}
}
