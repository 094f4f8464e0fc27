package policy

import (
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestPolicy_Validate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name   string
		policy *Policy
		want   []string // "field: message fragment", in order; nil means valid
	}{
		{name: "open_is_valid", policy: open()},
		{name: "defaults_are_valid", policy: ptr(Defaults(14, mustZone("Europe/London")))},
		{name: "everything_set_is_valid", policy: open(audience(AudienceNobody), blockAdultStrangers, mediaFriendsOnly, minAge(MaxMinSenderAccountAgeDays),
			quiet("23:59", "00:00"), approved("u_grandma", "A.b:c-d_9"), blocked("u_stranger9"))},
		{name: "quiet_hours_off_with_equal_times_is_valid", policy: open(func(p *Policy) { p.Quiet = QuietHours{Start: 600, End: 600} })},
		{name: "nil_policy", policy: nil, want: []string{"policy: is missing"}},
		{name: "quiet_start_equals_end", policy: open(quiet("22:00", "22:00")),
			want: []string{"quiet_hours: start and end are both 22:00"}},
		{name: "quiet_start_out_of_range", policy: open(func(p *Policy) { p.Quiet = QuietHours{Enabled: true, Start: 1440, End: 420} }),
			want: []string{"quiet_hours.start: must be a time of day from 00:00 to 23:59, got minute 1440"}},
		{name: "quiet_end_out_of_range", policy: open(func(p *Policy) { p.Quiet = QuietHours{Start: 1320, End: 2000} }),
			want: []string{"quiet_hours.end: must be a time of day from 00:00 to 23:59, got minute 2000"}},
		{name: "negative_min_age", policy: open(minAge(-1)),
			want: []string{"min_sender_account_age_days: must not be negative, got -1 (0 means no minimum)"}},
		{name: "min_age_too_large", policy: open(minAge(MaxMinSenderAccountAgeDays + 1)),
			want: []string{"min_sender_account_age_days: must be at most 3650 days, got 3651"}},
		{name: "unknown_audience", policy: open(audience(Audience(4))),
			want: []string{"audience: unknown audience 4"}},
		{name: "negative_version", policy: open(version(-1)),
			want: []string{"version: must not be negative, got -1"}},
		{name: "id_both_approved_and_blocked", policy: open(approved("u_grandma", "u_x"), blocked("u_x")),
			want: []string{`approved_contacts: "u_x" is both approved and blocked; remove it from one list`}},
		{name: "empty_contact_id", policy: open(approved("")),
			want: []string{"approved_contacts: a contact has an empty platform user ID"}},
		{name: "contact_id_with_space", policy: open(blocked("u 1")),
			want: []string{`blocked_contacts: "u 1" is not a platform user ID (use only letters, digits, _ . : -)`}},
		{name: "contact_id_too_long", policy: open(blocked(strings.Repeat("a", 65))),
			want: []string{"blocked_contacts: \"aaaaaaaaaaaaaaaa…\" is longer than 64 characters"}},
		{name: "contact_id_64_is_fine", policy: open(blocked(strings.Repeat("a", 64)))},
		{name: "every_problem_reported_in_order", policy: open(version(-2), minAge(-1), quiet("07:00", "07:00"), approved("u b", "u_c"), blocked("u_c", "")),
			want: []string{"version:", "quiet_hours:", "min_sender_account_age_days:", `approved_contacts: "u b"`, `approved_contacts: "u_c" is both`, "blocked_contacts: a contact has an empty"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			err := tt.policy.Validate()
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate = nil, want %q", tt.want)
			}
			if !errors.Is(err, ErrInvalid) {
				t.Errorf("errors.Is(%v, ErrInvalid) = false", err)
			}
			var fields []*FieldError
			if j, ok := err.(interface{ Unwrap() []error }); ok {
				for _, e := range j.Unwrap() {
					var fe *FieldError
					if !errors.As(e, &fe) {
						t.Fatalf("%v is not a *FieldError", e)
					}
					fields = append(fields, fe)
				}
			} else if fe := (*FieldError)(nil); errors.As(err, &fe) {
				fields = append(fields, fe)
			}
			if len(fields) != len(tt.want) {
				t.Fatalf("Validate = %d errors %v, want %d %q", len(fields), err, len(tt.want), tt.want)
			}
			for i, fe := range fields {
				if !strings.HasPrefix(fe.Error(), tt.want[i]) {
					t.Errorf("error %d = %q, want it to start with %q", i, fe.Error(), tt.want[i])
				}
			}
		})
	}
}

// TestDefaults checks the age defaults of DESIGN.md field by field, and that
// they behave as promised through Decide.
func TestDefaults(t *testing.T) {
	t.Parallel()
	london := mustZone("Europe/London")
	younger := QuietHours{Enabled: true, Start: hm("22:00"), End: hm("07:00"), ApprovedExempt: true}
	older := QuietHours{Enabled: false, Start: hm("22:00"), End: hm("07:00"), ApprovedExempt: true}
	tests := []struct {
		age   int
		media bool
		quiet QuietHours
	}{
		{age: 12, media: true, quiet: younger}, // refused by callers; errs strict
		{age: 13, media: true, quiet: younger},
		{age: 14, media: true, quiet: younger},
		{age: 15, media: true, quiet: younger},
		{age: 16, media: false, quiet: older},
		{age: 17, media: false, quiet: older},
		{age: 18, media: false, quiet: older},
	}
	for _, tt := range tests {
		t.Run("age_"+strconv.Itoa(tt.age), func(t *testing.T) {
			t.Parallel()
			p := Defaults(tt.age, london)
			if p.Audience != AudienceFriends || !p.BlockAdultStrangers || p.MinSenderAccountAgeDays != 0 || p.Version != 0 {
				t.Errorf("Defaults(%d) = %+v, want audience friends, adult strangers blocked, no minimum, version 0", tt.age, p)
			}
			if p.MediaFriendsOnly != tt.media {
				t.Errorf("MediaFriendsOnly = %v, want %v", p.MediaFriendsOnly, tt.media)
			}
			if p.Quiet != tt.quiet {
				t.Errorf("Quiet = %+v, want %+v", p.Quiet, tt.quiet)
			}
			if p.Location != london {
				t.Errorf("Location = %v, want Europe/London", p.Location)
			}
			if p.Approved == nil || p.Blocked == nil || len(p.Approved)+len(p.Blocked) != 0 {
				t.Errorf("contacts = %v, %v, want empty non-nil sets", p.Approved, p.Blocked)
			}
			if err := p.Validate(); err != nil {
				t.Errorf("Validate = %v", err)
			}
			p.Approved["u_gran"] = struct{}{} // ready to fill
		})
	}

	t.Run("13_to_15_in_practice", func(t *testing.T) {
		t.Parallel()
		p := Defaults(14, london)
		late := ts("2026-11-27T22:30:00Z")
		for _, c := range []struct {
			name  string
			facts Facts
			at    time.Time
			want  Decision
		}{
			{"adult_stranger_denied", adultStranger, afternoon, deny(ReasonAdultStranger)},
			{"photo_from_minor_stranger_denied", withMedia(minorStranger), afternoon, deny(ReasonMediaRestricted)},
			{"minor_stranger_to_requests", minorStranger, afternoon, request(ReasonNotFriends)},
			{"friend_allowed", friend, afternoon, allow(ReasonAllowed)},
			{"friend_at_night_held", friend, late, holdUntil("2026-11-28T07:00:00Z")},
		} {
			if got := Decide(&p, other, c.facts, c.at); !sameDecision(got, c.want) {
				t.Errorf("%s: Decide = %s, want %s", c.name, got, c.want)
			}
		}
	})
	t.Run("16_17_in_practice", func(t *testing.T) {
		t.Parallel()
		p := Defaults(16, london)
		late := ts("2026-11-27T22:30:00Z")
		for _, c := range []struct {
			name  string
			facts Facts
			at    time.Time
			want  Decision
		}{
			{"adult_stranger_denied", adultStranger, afternoon, deny(ReasonAdultStranger)},
			{"photo_from_minor_stranger_to_requests", withMedia(minorStranger), afternoon, request(ReasonNotFriends)},
			{"friend_at_night_allowed", withMedia(friend), late, allow(ReasonAllowed)},
		} {
			if got := Decide(&p, other, c.facts, c.at); !sameDecision(got, c.want) {
				t.Errorf("%s: Decide = %s, want %s", c.name, got, c.want)
			}
		}
	})
}
