package policy

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"
)

// MaxMinSenderAccountAgeDays caps Policy.MinSenderAccountAgeDays at ten
// years: a larger minimum sends every stranger to requests, which is what
// AudienceFriends is for, and is far more likely a typo than a wish.
const MaxMinSenderAccountAgeDays = 3650

// maxUserIDLen is the longest platform user ID the hook API accepts.
const maxUserIDLen = 64

// Policy is one supervised teen's DM rules, shared by all of the teen's
// guardians. Decide reads it and never changes it, so one copy may serve any
// number of goroutines as long as nobody writes to it meanwhile; publish a
// new Policy rather than editing one in place.
type Policy struct {
	// Version only grows; it identifies which rules decided a DM.
	Version  int64
	Audience Audience
	Quiet    QuietHours
	// Location is the teen's time zone, which quiet hours are read in. Nil
	// means UTC.
	Location *time.Location
	// BlockAdultStrangers denies DMs from adults who are not mutual
	// followers.
	BlockAdultStrangers bool
	// MediaFriendsOnly denies media and links from accounts that are not
	// mutual followers.
	MediaFriendsOnly bool
	// MinSenderAccountAgeDays sends DMs from accounts younger than this many
	// days (that are not mutual followers) to requests; 0 means no minimum.
	// "Sender" is the other party: when the teen is the one writing, it is
	// the recipient's account that is checked.
	MinSenderAccountAgeDays int
	// Approved and Blocked are sets of platform user IDs. A blocked contact
	// is always denied; an approved one skips the audience, stranger, media
	// and account-age rules. Labels live with the caller, not here.
	Approved map[string]struct{}
	Blocked  map[string]struct{}
}

// Validate returns nil when p is a policy Decide can apply as its owner
// meant it, and otherwise one *FieldError per problem, joined with
// errors.Join and wrapping ErrInvalid, in words a guardian can act on. Call it
// before storing a policy: Decide answers on the safe side for an invalid
// policy but cannot guess what was meant.
func (p *Policy) Validate() error {
	if p == nil {
		return &FieldError{Field: "policy", Message: "is missing"}
	}
	var errs []error
	add := func(field, format string, args ...any) {
		errs = append(errs, &FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	if p.Version < 0 {
		add("version", "must not be negative, got %d", p.Version)
	}
	if p.Audience > AudienceNobody {
		add("audience", "unknown audience %d (want everyone, friends, approved or nobody)", p.Audience)
	}
	q := p.Quiet
	if q.Start >= minutesPerDay {
		add("quiet_hours.start", "must be a time of day from 00:00 to 23:59, got minute %d", q.Start)
	}
	if q.End >= minutesPerDay {
		add("quiet_hours.end", "must be a time of day from 00:00 to 23:59, got minute %d", q.End)
	}
	if q.Enabled && q.Start == q.End && q.Start < minutesPerDay {
		add("quiet_hours", "start and end are both %s; choose an end different from the start (a start later than the end runs past midnight)", clock(q.Start))
	}
	switch m := p.MinSenderAccountAgeDays; {
	case m < 0:
		add("min_sender_account_age_days", "must not be negative, got %d (0 means no minimum)", m)
	case m > MaxMinSenderAccountAgeDays:
		add("min_sender_account_age_days", "must be at most %d days, got %d", MaxMinSenderAccountAgeDays, m)
	}
	for _, id := range slices.Sorted(maps.Keys(p.Approved)) {
		if msg := checkUserID(id); msg != "" {
			add("approved_contacts", "%s", msg)
		}
		if _, blocked := p.Blocked[id]; blocked {
			add("approved_contacts", "%q is both approved and blocked; remove it from one list", id)
		}
	}
	for _, id := range slices.Sorted(maps.Keys(p.Blocked)) {
		if msg := checkUserID(id); msg != "" {
			add("blocked_contacts", "%s", msg)
		}
	}
	return errors.Join(errs...)
}

// checkUserID returns why id is not a platform user ID as the hook API
// defines them (1–64 characters of A–Z a–z 0–9 _ . : -), or "" when it is.
// Checking here keeps a contact the messaging service could never match from
// sitting in a list and looking like protection.
func checkUserID(id string) string {
	if id == "" {
		return "a contact has an empty platform user ID"
	}
	if len(id) > maxUserIDLen {
		return strconv.Quote(id[:16]+"…") + " is longer than 64 characters"
	}
	if i := strings.IndexFunc(id, func(r rune) bool {
		return !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' ||
			r == '_' || r == '.' || r == ':' || r == '-')
	}); i >= 0 {
		return strconv.Quote(id) + " is not a platform user ID (use only letters, digits, _ . : -)"
	}
	return ""
}

// Defaults returns the policy new supervision starts from, by the age rules
// of DESIGN.md, for a teen living in loc (nil means UTC):
//
//   - 13–15: audience friends, adult strangers blocked, media and links from
//     friends only, quiet hours 22:00–07:00 with approved contacts exempt.
//   - 16–17: audience friends, adult strangers blocked, nothing else. Quiet
//     hours are off but preset to 22:00–07:00, approved contacts exempt, so
//     that switching them on starts from a sensible window.
//
// Supervision is for ages 13–17 and callers refuse other ages first; should
// one slip through, younger ages get the 13–15 defaults and older ones the
// 16–17 defaults, erring on the strict side for children. The result has
// Version 0 (not yet stored) and empty, non-nil contact sets, ready to fill.
func Defaults(age int, loc *time.Location) Policy {
	p := Policy{
		Audience:            AudienceFriends,
		Location:            loc,
		BlockAdultStrangers: true,
		Quiet:               QuietHours{Start: 22 * 60, End: 7 * 60, ApprovedExempt: true},
		Approved:            map[string]struct{}{},
		Blocked:             map[string]struct{}{},
	}
	if age < 16 {
		p.MediaFriendsOnly = true
		p.Quiet.Enabled = true
	}
	return p
}
