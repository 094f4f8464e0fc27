package models

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Category is the kind of harm a moderation event is about, as the
// messaging service classified it.
type Category string

// The categories of the hook API contract, in the order pages list them.
const (
	CategoryBullying      Category = "bullying"
	CategoryHarassment    Category = "harassment"
	CategoryHate          Category = "hate"
	CategorySelfHarm      Category = "self_harm"
	CategorySexualContent Category = "sexual_content"
	CategoryGrooming      Category = "grooming"
	CategorySextortion    Category = "sextortion"
	CategoryViolence      Category = "violence"
	CategoryScam          Category = "scam"
	CategorySpam          Category = "spam"
	CategoryOther         Category = "other"
)

// Categories lists every category in display order.
var Categories = []Category{CategoryBullying, CategoryHarassment, CategoryHate, CategorySelfHarm,
	CategorySexualContent, CategoryGrooming, CategorySextortion, CategoryViolence, CategoryScam,
	CategorySpam, CategoryOther}

// Valid reports whether c is one of the contract's categories.
func (c Category) Valid() bool {
	for _, k := range Categories {
		if c == k {
			return true
		}
	}
	return false
}

// Label is the category in words for pages and emails, lower case so it
// reads inside a sentence ("blocked as bullying").
func (c Category) Label() string {
	switch c {
	case CategorySelfHarm:
		return "self-harm"
	case CategorySexualContent:
		return "sexual content"
	case CategoryOther:
		return "another concern"
	}
	return string(c)
}

// Severity is how serious the messaging service judged an event.
type Severity string

// The severities, lowest first.
const (
	SeverityLow      Severity = "low"
	SeverityMedium   Severity = "medium"
	SeverityHigh     Severity = "high"
	SeverityCritical Severity = "critical"
)

// Severities lists every severity, lowest first.
var Severities = []Severity{SeverityLow, SeverityMedium, SeverityHigh, SeverityCritical}

// Rank is 1 for low up to 4 for critical, and 0 for anything else.
func (s Severity) Rank() int {
	for i, k := range Severities {
		if s == k {
			return i + 1
		}
	}
	return 0
}

// Valid reports whether s is one of the contract's severities.
func (s Severity) Valid() bool { return s.Rank() > 0 }

// Immediate reports whether alerts of this severity email guardians at once
// by default (high and critical); the others wait for the weekly digest.
func (s Severity) Immediate() bool { return s.Rank() >= SeverityHigh.Rank() }

// Action is what the messaging service did about a message.
type Action string

// The actions of the contract.
const (
	ActionNone             Action = "none"
	ActionMessageBlocked   Action = "message_blocked"
	ActionMessageHeld      Action = "message_held"
	ActionSenderWarned     Action = "sender_warned"
	ActionSenderRestricted Action = "sender_restricted"
	ActionSenderSuspended  Action = "sender_suspended"
)

// Actions lists every action.
var Actions = []Action{ActionNone, ActionMessageBlocked, ActionMessageHeld, ActionSenderWarned,
	ActionSenderRestricted, ActionSenderSuspended}

// Valid reports whether a is one of the contract's actions.
func (a Action) Valid() bool {
	for _, k := range Actions {
		if a == k {
			return true
		}
	}
	return false
}

// Direction says whether the message was to the teen or from them.
type Direction string

// The directions.
const (
	DirectionInbound  Direction = "inbound"
	DirectionOutbound Direction = "outbound"
)

// Valid reports whether d is inbound or outbound.
func (d Direction) Valid() bool { return d == DirectionInbound || d == DirectionOutbound }

// Event limits of the contract.
const (
	MaxEventsPerReport = 500
	// EventClockSkew is how far in the future an occurred_at may be: the
	// platform's clock may run a little ahead of Hearth's.
	EventClockSkew = 5 * time.Minute
)

// Event is one moderation event as the messaging service reports it: what
// kind of harm, how severe, what the platform did and when, and the other
// account's ID. There is no field for what a message said.
type Event struct {
	ID            string
	TeenID        string // the teen's platform user ID
	CounterpartID string // may be empty
	Direction     Direction
	Category      Category
	Severity      Severity
	ActionTaken   Action
	OccurredAt    time.Time
}

// Validate checks e against the contract, naming fields under prefix (such
// as "events[3]"). now bounds occurred_at: no later than now plus
// EventClockSkew.
func (e Event) Validate(prefix string, now time.Time, errs *ValidationError) {
	if err := ValidatePlatformID(prefix+".id", e.ID); err != nil {
		errs.Errors = append(errs.Errors, err.(*ValidationError).Errors...)
	}
	if err := ValidatePlatformID(prefix+".teen_id", e.TeenID); err != nil {
		errs.Errors = append(errs.Errors, err.(*ValidationError).Errors...)
	}
	if e.CounterpartID != "" {
		if err := ValidatePlatformID(prefix+".counterpart_id", e.CounterpartID); err != nil {
			errs.Errors = append(errs.Errors, err.(*ValidationError).Errors...)
		}
	}
	if !e.Direction.Valid() {
		errs.Add(prefix+".direction", "must be inbound or outbound")
	}
	if !e.Category.Valid() {
		errs.Add(prefix+".category", "must be one of bullying, harassment, hate, self_harm, sexual_content, grooming, sextortion, violence, scam, spam, other")
	}
	if !e.Severity.Valid() {
		errs.Add(prefix+".severity", "must be one of low, medium, high, critical")
	}
	if !e.ActionTaken.Valid() {
		errs.Add(prefix+".action_taken", "must be one of none, message_blocked, message_held, sender_warned, sender_restricted, sender_suspended")
	}
	switch {
	case e.OccurredAt.IsZero():
		errs.Add(prefix+".occurred_at", "is required, as an RFC 3339 time such as 2026-11-27T21:30:00Z")
	case e.OccurredAt.After(now.Add(EventClockSkew)):
		errs.Add(prefix+".occurred_at", fmt.Sprintf("is in the future (more than %v ahead of Hearth's clock)", EventClockSkew))
	}
}

// IngestResult counts what happened to a report's events: Accepted were
// stored (as new alerts or grown bursts), Duplicates had been received
// before, Ignored were about teens nobody supervises and were not stored.
type IngestResult struct {
	Accepted   int `json:"accepted"`
	Duplicates int `json:"duplicates"`
	Ignored    int `json:"ignored"`
}

// BurstWindow groups alerts: another event about the same teen, category
// and other account within this long of the last one grows that alert
// instead of making a new one, so a flood is one line in the inbox.
const BurstWindow = time.Hour

// DefaultAlertRetention is how long alerts are kept unless configured.
const DefaultAlertRetention = 90 * 24 * time.Hour

// Alert is a stored moderation alert about a supervised teen.
type Alert struct {
	ID             int64
	TeenID         int64
	TeenName       string // joined for display
	CounterpartID  string
	Direction      Direction
	Category       Category
	Severity       Severity // the highest in the burst
	ActionTaken    Action
	OccurredAt     time.Time // the first event
	LastOccurredAt time.Time // the latest event in the burst
	Occurrences    int
	ReceivedAt     time.Time
	NotUseful      bool
	// Read is the viewer's own state: a guardian acknowledged it (or marked
	// all read). Always true for the teen, who has nothing to acknowledge.
	Read bool
}

// AlertState filters by the viewer's acknowledgement.
type AlertState string

// The states a filter can ask for; empty means both.
const (
	AlertUnread AlertState = "unread"
	AlertRead   AlertState = "read"
)

// AlertFilter narrows an alert list. Nil and empty fields do not filter.
// Lists are newest first (occurred_at, then id, descending) and paged by
// keyset: Before asks for the alerts just older than a cursor, After for
// those just newer, so a page stays put while new alerts arrive.
type AlertFilter struct {
	TeenID   *int64
	Category *Category
	// MinSeverity keeps alerts at least this severe.
	MinSeverity *Severity
	State       AlertState
	Before      *AlertCursor
	After       *AlertCursor
	// Limit is how many alerts to return, clamped to 1–101 (default 25):
	// ask for one more than a page to learn whether another page follows.
	Limit int
}

// AlertCountCap bounds alert counts (an inbox's total, unread counts):
// counting stops after it, and a count above it means "more than
// AlertCountCap". Pages show "More than 1,000 alerts" and a badge "99+"
// rather than pay for counting a backlog alert by alert on every page.
const AlertCountCap = 1000

// MaxAlertLimit bounds AlertFilter.Limit: a page of 100 and one to peek.
const MaxAlertLimit = 101

// AlertLimit returns f.Limit clamped to 1–MaxAlertLimit, 25 when unset.
func (f AlertFilter) AlertLimit() int {
	switch {
	case f.Limit <= 0:
		return 25
	case f.Limit > MaxAlertLimit:
		return MaxAlertLimit
	}
	return f.Limit
}

// AlertCursor is a position in a newest-first alert list: the alert's
// occurred_at and id, which together order every alert.
type AlertCursor struct {
	At time.Time
	ID int64
}

// CursorOf returns the position of a.
func CursorOf(a Alert) AlertCursor { return AlertCursor{At: a.OccurredAt, ID: a.ID} }

// String encodes c for a URL: microseconds since the epoch, a dot, the id.
func (c AlertCursor) String() string {
	return strconv.FormatInt(c.At.UnixMicro(), 10) + "." + strconv.FormatInt(c.ID, 10)
}

// maxCursorMicros is the last microsecond of year 9999. A cursor past it
// names no alert, and databases that keep times as text compare a
// five-digit year wrongly ("10000-…" sorts before "2026-…").
var maxCursorMicros = time.Date(9999, 12, 31, 23, 59, 59, 999999000, time.UTC).UnixMicro()

// ParseAlertCursor reads a cursor made by AlertCursor.String.
func ParseAlertCursor(s string) (AlertCursor, error) {
	at, id, ok := strings.Cut(s, ".")
	if !ok {
		return AlertCursor{}, Invalid("cursor", "is not a position in the list")
	}
	us, err1 := strconv.ParseInt(at, 10, 64)
	n, err2 := strconv.ParseInt(id, 10, 64)
	if err1 != nil || err2 != nil || n < 1 || us < 0 || us > maxCursorMicros {
		return AlertCursor{}, Invalid("cursor", "is not a position in the list")
	}
	return AlertCursor{At: time.UnixMicro(us).UTC(), ID: n}, nil
}

// AlertChartWeeks is how many weeks the per-teen chart shows.
const AlertChartWeeks = 8

// AlertWeek is one bar group of the 8-week chart: alerts per category in
// the week starting Start (a Monday, in UTC).
type AlertWeek struct {
	Start  time.Time
	Counts map[Category]int
	Total  int
}

// WeekStart returns the Monday 00:00 UTC that starts t's week.
func WeekStart(t time.Time) time.Time {
	t = t.UTC()
	d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	return d.AddDate(0, 0, -((int(d.Weekday()) + 6) % 7))
}

// BlockResult says what blocking an alert's other account did.
type BlockResult struct {
	TeenID        int64
	TeenName      string
	CounterpartID string
	// AlreadyBlocked means the account was on the blocked list before:
	// nothing changed.
	AlreadyBlocked bool
	// WasApproved means the account was an approved contact and has been
	// taken off that list, since a contact cannot be both.
	WasApproved bool
}
