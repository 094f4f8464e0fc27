package models

import "time"

// ImmediateFrom is a guardian's choice, for one category, of the lowest
// severity that emails them at once. Alerts below it wait for the weekly
// digest; ImmediateNever sends the category only in the digest.
type ImmediateFrom string

// The choices, from most to fewest emails.
const (
	ImmediateFromLow      ImmediateFrom = "low"
	ImmediateFromMedium   ImmediateFrom = "medium"
	ImmediateFromHigh     ImmediateFrom = "high"
	ImmediateFromCritical ImmediateFrom = "critical"
	ImmediateNever        ImmediateFrom = "never"
)

// ImmediateChoices lists every choice in the order the preferences page
// offers them.
var ImmediateChoices = []ImmediateFrom{ImmediateFromLow, ImmediateFromMedium, ImmediateFromHigh,
	ImmediateFromCritical, ImmediateNever}

// DefaultImmediateFrom applies to every category a guardian has not chosen
// for: high and critical alerts email at once, the rest wait for the digest.
const DefaultImmediateFrom = ImmediateFromHigh

// Valid reports whether f is one of the choices.
func (f ImmediateFrom) Valid() bool { return f.rank() > 0 }

// rank is the lowest severity rank that emails at once: 1 (low) to 4
// (critical), 5 for never, 0 for anything else.
func (f ImmediateFrom) rank() int {
	if f == ImmediateNever {
		return SeverityCritical.Rank() + 1
	}
	return Severity(f).Rank()
}

// Emails reports whether an alert of severity s emails at once under f.
func (f ImmediateFrom) Emails(s Severity) bool {
	return f.Valid() && s.Valid() && s.Rank() >= f.rank()
}

// Label is the choice in words, as the preferences page's select shows it.
func (f ImmediateFrom) Label() string {
	switch f {
	case ImmediateFromLow:
		return "Low and above"
	case ImmediateFromMedium:
		return "Medium and above"
	case ImmediateFromHigh:
		return "High and above"
	case ImmediateFromCritical:
		return "Critical only"
	case ImmediateNever:
		return "Never, digest only"
	}
	return string(f)
}

// AlertPreferences is how a guardian wants to hear about alerts: per
// category, which severities email at once, and whether the weekly digest
// of everything else is wanted. They apply across all the guardian's teens.
type AlertPreferences struct {
	Immediate map[Category]ImmediateFrom
	Weekly    bool
}

// DefaultAlertPreferences is what a guardian who never chose gets: high
// and critical at once in every category, and the weekly digest.
func DefaultAlertPreferences() AlertPreferences {
	p := AlertPreferences{Immediate: make(map[Category]ImmediateFrom, len(Categories)), Weekly: true}
	for _, c := range Categories {
		p.Immediate[c] = DefaultImmediateFrom
	}
	return p
}

// For returns the choice for category c, DefaultImmediateFrom when none.
func (p AlertPreferences) For(c Category) ImmediateFrom {
	if f, ok := p.Immediate[c]; ok && f.Valid() {
		return f
	}
	return DefaultImmediateFrom
}

// Validate checks that every category named is one of the contract's and
// every choice one of ImmediateChoices, naming fields "immediate.<category>".
func (p AlertPreferences) Validate() error {
	errs := &ValidationError{}
	for c, f := range p.Immediate {
		switch {
		case !c.Valid():
			errs.Add("immediate."+string(c), "is not a category")
		case !f.Valid():
			errs.Add("immediate."+string(c), "must be low, medium, high, critical or never")
		}
	}
	return errs.Err()
}

// DigestWeekday and DigestHour place the weekly digest: every guardian's
// goes out in the first run of the digest job after Monday 08:00 UTC.
const (
	DigestWeekday = time.Monday
	DigestHour    = 8
)

// DigestPeriod is how far back a digest looks at most.
const DigestPeriod = 7 * 24 * time.Hour

// DigestSlot returns the latest digest time at or before now: the Monday
// 08:00 UTC a digest sent at now belongs to. A guardian whose last digest
// is older than it is due.
func DigestSlot(now time.Time) time.Time {
	now = now.UTC()
	d := time.Date(now.Year(), now.Month(), now.Day(), DigestHour, 0, 0, 0, time.UTC)
	back := (int(d.Weekday()) - int(DigestWeekday) + 7) % 7
	d = d.AddDate(0, 0, -back)
	if d.After(now) {
		d = d.AddDate(0, 0, -7)
	}
	return d
}
