package models

import (
	"encoding/json"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hearth-safety/hearth/policy"
)

// Contact is a platform account a teen's rules name, with a label people
// recognise ("Grandma").
type Contact struct {
	PlatformUserID string `json:"id"`
	Label          string `json:"label"`
}

// MaxContacts bounds each contact list; the rules are shown in full on one
// page and evaluated from memory on every DM.
const MaxContacts = 200

// MaxContactLabelLen bounds a contact's label.
const MaxContactLabelLen = 64

// DMPolicy is a supervised teen's direct-message rules as people edit
// them. Version only grows; every change is audited.
type DMPolicy struct {
	TeenID                  int64
	Version                 int64
	Audience                policy.Audience
	QuietEnabled            bool
	QuietStart, QuietEnd    uint16 // minutes after local midnight
	QuietApprovedExempt     bool
	BlockAdultStrangers     bool
	MediaFriendsOnly        bool
	MinSenderAccountAgeDays int
	Approved, Blocked       []Contact
	UpdatedAt               time.Time
	UpdatedByName           string
	// RevertAt is set while a time-limited loosening a guardian approved
	// is in force: at that moment the rules go back to RevertTo.
	RevertAt *time.Time
}

// Engine converts the rules into the decision engine's form for a teen in
// loc.
func (p DMPolicy) Engine(loc *time.Location) policy.Policy {
	e := policy.Policy{
		Version:  p.Version,
		Audience: p.Audience,
		Quiet: policy.QuietHours{Enabled: p.QuietEnabled, Start: p.QuietStart, End: p.QuietEnd,
			ApprovedExempt: p.QuietApprovedExempt},
		Location:                loc,
		BlockAdultStrangers:     p.BlockAdultStrangers,
		MediaFriendsOnly:        p.MediaFriendsOnly,
		MinSenderAccountAgeDays: p.MinSenderAccountAgeDays,
		Approved:                make(map[string]struct{}, len(p.Approved)),
		Blocked:                 make(map[string]struct{}, len(p.Blocked)),
	}
	for _, c := range p.Approved {
		e.Approved[c.PlatformUserID] = struct{}{}
	}
	for _, c := range p.Blocked {
		e.Blocked[c.PlatformUserID] = struct{}{}
	}
	return e
}

// DMPolicyFrom builds editable rules from the engine's age defaults.
func DMPolicyFrom(teenID int64, e policy.Policy) DMPolicy {
	return DMPolicy{TeenID: teenID, Version: e.Version, Audience: e.Audience, QuietEnabled: e.Quiet.Enabled,
		QuietStart: e.Quiet.Start, QuietEnd: e.Quiet.End, QuietApprovedExempt: e.Quiet.ApprovedExempt,
		BlockAdultStrangers: e.BlockAdultStrangers, MediaFriendsOnly: e.MediaFriendsOnly,
		MinSenderAccountAgeDays: e.MinSenderAccountAgeDays}
}

// PolicySnapshot is what a node's in-memory copy holds per teen: enough to
// decide a DM without touching the database.
type PolicySnapshot struct {
	ClientID       int64
	PlatformUserID string
	TimeZone       string
	Supervised     bool // at least one active link
	Seq            int64
	Policy         DMPolicy
}

// Refusals of a change to a teen's DM rules.
var (
	// ErrNeedsApproval means a 13–15-year-old tried to loosen their own
	// rules: at that age only a guardian can approve that. It wraps
	// ErrForbidden; the teen can ask with a loosening request instead.
	ErrNeedsApproval = fmt.Errorf("%w: this change loosens your message rules, and at your age a guardian has to approve that; send it to your guardians as a request with a reason, or only make rules stricter", ErrForbidden)
	// ErrStale means the rules changed since the person opened them, so
	// saving would overwrite a change they never saw. It wraps ErrConflict.
	ErrStale = fmt.Errorf("%w: The rules changed since you opened them. Reload the page to see the current rules, then make your change again", ErrConflict)
)

// NotifyPolicyChanged is the notification kind for a change to a teen's
// DM rules, whoever made it (a guardian, the teen, or Hearth ending a
// time-limited permission).
const NotifyPolicyChanged = "policy.changed"

// Durations a guardian may approve a loosening request for. Zero means
// "until changed": the loosened rules stay until someone edits them.
const (
	GrantUntilChanged time.Duration = 0
	GrantOneHour      time.Duration = time.Hour
	GrantOneDay       time.Duration = 24 * time.Hour
)

// ValidGrantDuration reports whether d is one of the durations a guardian
// may approve a loosening for.
func ValidGrantDuration(d time.Duration) bool {
	return d == GrantUntilChanged || d == GrantOneHour || d == GrantOneDay
}

// FormatClock writes minutes after midnight as "HH:MM".
func FormatClock(m uint16) string { return fmt.Sprintf("%02d:%02d", m/60, m%60) }

// ParseClock reads a time of day written "HH:MM" (24-hour; "7:30" is fine
// too) as minutes after midnight.
func ParseClock(s string) (uint16, error) {
	h, m, ok := strings.Cut(strings.TrimSpace(s), ":")
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if !ok || err1 != nil || err2 != nil || len(m) != 2 || len(h) < 1 || len(h) > 2 ||
		hh < 0 || hh > 23 || mm < 0 || mm > 59 {
		return 0, fmt.Errorf("%q is not a time of day written HH:MM, such as 22:00", s)
	}
	return uint16(hh*60 + mm), nil
}

// QuietRules is quiet hours as PolicyRules writes them.
type QuietRules struct {
	Enabled        bool   `json:"enabled"`
	Start          string `json:"start"` // "HH:MM"
	End            string `json:"end"`
	ApprovedExempt bool   `json:"approved_exempt"`
}

// PolicyRules is the compact JSON form of a teen's rules, without version
// or bookkeeping. It is what the audit log records before and after a
// change, what a loosening request carries, and what a time-limited
// permission goes back to. Contact lists are never null.
type PolicyRules struct {
	Audience                string     `json:"audience"`
	Quiet                   QuietRules `json:"quiet"`
	BlockAdultStrangers     bool       `json:"block_adult_strangers"`
	MediaFriendsOnly        bool       `json:"media_friends_only"`
	MinSenderAccountAgeDays int        `json:"min_sender_account_age_days"`
	Approved                []Contact  `json:"approved"`
	Blocked                 []Contact  `json:"blocked"`
}

// Rules returns p in its JSON form.
func (p DMPolicy) Rules() PolicyRules {
	r := PolicyRules{Audience: p.Audience.String(),
		Quiet: QuietRules{Enabled: p.QuietEnabled, Start: FormatClock(p.QuietStart), End: FormatClock(p.QuietEnd),
			ApprovedExempt: p.QuietApprovedExempt},
		BlockAdultStrangers: p.BlockAdultStrangers, MediaFriendsOnly: p.MediaFriendsOnly,
		MinSenderAccountAgeDays: p.MinSenderAccountAgeDays,
		Approved:                append([]Contact{}, p.Approved...), Blocked: append([]Contact{}, p.Blocked...)}
	return r
}

// JSON returns p's rules as compact JSON (see PolicyRules).
func (p DMPolicy) JSON() json.RawMessage {
	b, err := json.Marshal(p.Rules())
	if err != nil {
		// Only an out-of-range audience fails, and stored rules are
		// validated; keep the record readable rather than panic.
		return json.RawMessage(`{"error":"unreadable rules"}`)
	}
	return b
}

// Policy reads rules back from their JSON form into a DMPolicy for
// teenID. It checks the audience and times parse; call Validate for the
// rest.
func (r PolicyRules) Policy(teenID int64) (DMPolicy, error) {
	a, err := policy.ParseAudience(r.Audience)
	if err != nil {
		return DMPolicy{}, err
	}
	start, err := ParseClock(r.Quiet.Start)
	if err != nil {
		return DMPolicy{}, err
	}
	end, err := ParseClock(r.Quiet.End)
	if err != nil {
		return DMPolicy{}, err
	}
	return DMPolicy{TeenID: teenID, Audience: a, QuietEnabled: r.Quiet.Enabled, QuietStart: start, QuietEnd: end,
		QuietApprovedExempt: r.Quiet.ApprovedExempt, BlockAdultStrangers: r.BlockAdultStrangers,
		MediaFriendsOnly: r.MediaFriendsOnly, MinSenderAccountAgeDays: r.MinSenderAccountAgeDays,
		Approved: append([]Contact{}, r.Approved...), Blocked: append([]Contact{}, r.Blocked...)}, nil
}

// LoosenPayload is what a loosen_policy request carries (Request.Payload):
// the rules the teen saw (Base, at BaseVersion), the rules they ask for,
// and both the whole difference (Changes, as DescribeChanges words it) and
// the parts of it that loosen (Loosens), for the guardian deciding.
type LoosenPayload struct {
	BaseVersion int64       `json:"base_version"`
	Base        PolicyRules `json:"base"`
	Rules       PolicyRules `json:"rules"`
	Changes     []string    `json:"changes"`
	Loosens     []string    `json:"loosens"`
}

// Normalize trims the spaces people type around contact IDs and labels.
func (p *DMPolicy) Normalize() {
	for _, list := range [][]Contact{p.Approved, p.Blocked} {
		for i := range list {
			list[i].PlatformUserID = strings.TrimSpace(list[i].PlatformUserID)
			list[i].Label = strings.TrimSpace(list[i].Label)
		}
	}
}

// Validate checks the rules as a guardian or teen submitted them and returns
// a *ValidationError naming every problem, or nil. Fields: audience,
// quiet_start, quiet_end, min_sender_account_age_days, approved and blocked
// (for a whole list), approved[i] and blocked[i] (for one contact, i from
// 0). Contact messages name the ID, so a long list can be fixed at a glance.
func (p DMPolicy) Validate() error {
	ve := &ValidationError{}
	if p.Audience > policy.AudienceNobody {
		ve.Add("audience", "Choose who can message: everyone, friends, approved contacts only, or nobody.")
	}
	if p.QuietStart >= 24*60 {
		ve.Add("quiet_start", "Choose a start time from 00:00 to 23:59.")
	}
	if p.QuietEnd >= 24*60 {
		ve.Add("quiet_end", "Choose an end time from 00:00 to 23:59.")
	}
	if p.QuietEnabled && p.QuietStart == p.QuietEnd && p.QuietStart < 24*60 {
		ve.Add("quiet_end", "Quiet hours need different start and end times (a start later than the end runs past midnight).")
	}
	switch m := p.MinSenderAccountAgeDays; {
	case m < 0:
		ve.Add("min_sender_account_age_days", "Can't be negative; 0 means no minimum.")
	case m > policy.MaxMinSenderAccountAgeDays:
		ve.Add("min_sender_account_age_days", fmt.Sprintf("Choose at most %d days (ten years).", policy.MaxMinSenderAccountAgeDays))
	}
	approved := validateContacts(ve, "approved", "approved contacts", p.Approved)
	for i, c := range p.Blocked {
		if _, both := approved[c.PlatformUserID]; both && c.PlatformUserID != "" {
			ve.Add(fmt.Sprintf("blocked[%d]", i), quoteID(c.PlatformUserID)+" is also an approved contact; a contact can't be both approved and blocked, so remove it from one list.")
		}
	}
	validateContacts(ve, "blocked", "blocked contacts", p.Blocked)
	return ve.Err()
}

// validateContacts checks one contact list and returns the IDs in it.
func validateContacts(ve *ValidationError, field, what string, list []Contact) map[string]struct{} {
	if len(list) > MaxContacts {
		ve.Add(field, fmt.Sprintf("You can list at most %d %s; this list has %d.", MaxContacts, what, len(list)))
	}
	seen := make(map[string]struct{}, len(list))
	for i, c := range list {
		f := fmt.Sprintf("%s[%d]", field, i)
		id := c.PlatformUserID
		switch {
		case id == "":
			ve.Add(f, "A contact needs a platform user ID.")
			continue
		case len(id) > MaxPlatformIDLen:
			ve.Add(f, quoteID(id)+" is longer than 64 characters; platform user IDs are at most 64.")
		case !PlatformIDOK(id):
			ve.Add(f, quoteID(id)+" is not a platform user ID: use only letters A–Z and a–z, digits, and _ . : -")
		}
		if _, dup := seen[id]; dup {
			ve.Add(f, quoteID(id)+" is listed twice; keep it once.")
		}
		seen[id] = struct{}{}
		switch {
		case !utf8.ValidString(c.Label):
			ve.Add(f, "The label for "+quoteID(id)+" contains characters that are not valid text.")
		case utf8.RuneCountInString(c.Label) > MaxContactLabelLen:
			ve.Add(f, fmt.Sprintf("The label for %s is longer than %d characters.", quoteID(id), MaxContactLabelLen))
		case strings.ContainsFunc(c.Label, isControl):
			ve.Add(f, "The label for "+quoteID(id)+" must not contain control characters.")
		}
	}
	return seen
}

// quoteID quotes a contact ID for a message, cut short when it is long.
func quoteID(id string) string {
	if utf8.RuneCountInString(id) > 24 {
		id = string([]rune(id)[:24]) + "…"
	}
	return strconv.Quote(id)
}

// SameRules reports whether a and b say the same thing: every rule field,
// and the same contacts with the same labels in each list, in any order.
// Version, TeenID and bookkeeping are not compared.
func SameRules(a, b DMPolicy) bool {
	return a.Audience == b.Audience && a.QuietEnabled == b.QuietEnabled && a.QuietStart == b.QuietStart &&
		a.QuietEnd == b.QuietEnd && a.QuietApprovedExempt == b.QuietApprovedExempt &&
		a.BlockAdultStrangers == b.BlockAdultStrangers && a.MediaFriendsOnly == b.MediaFriendsOnly &&
		a.MinSenderAccountAgeDays == b.MinSenderAccountAgeDays &&
		maps.Equal(contactMap(a.Approved), contactMap(b.Approved)) && maps.Equal(contactMap(a.Blocked), contactMap(b.Blocked))
}

func contactMap(cs []Contact) map[string]string {
	m := make(map[string]string, len(cs))
	for _, c := range cs {
		m[c.PlatformUserID] = c.Label
	}
	return m
}

// AudienceLabel is how an audience reads in a sentence about who can
// message a teen.
func AudienceLabel(a policy.Audience) string {
	switch a {
	case policy.AudienceEveryone:
		return "everyone"
	case policy.AudienceFriends:
		return "friends"
	case policy.AudienceApproved:
		return "approved contacts only"
	case policy.AudienceNobody:
		return "nobody"
	}
	return a.String()
}

func quietLabel(enabled bool, start, end uint16) string {
	if !enabled {
		return "off"
	}
	return FormatClock(start) + "–" + FormatClock(end)
}

func onOff(on bool, yes, no string) string {
	if on {
		return yes
	}
	return no
}

func contactLabel(c Contact) string {
	if c.Label == "" {
		return c.PlatformUserID
	}
	return c.PlatformUserID + " (" + c.Label + ")"
}

// DescribeChanges says, in short phrases for notifications and the history
// ("who can message: friends → everyone", "quiet hours: 22:00–07:00 → off",
// "blocked u_9 (Stranger)"), how new differs from old, in the order of the
// rules page. Nil when SameRules(old, new).
func DescribeChanges(old, new DMPolicy) []string {
	var out []string
	if old.Audience != new.Audience {
		out = append(out, "who can message: "+AudienceLabel(old.Audience)+" → "+AudienceLabel(new.Audience))
	}
	switch {
	case old.QuietEnabled || new.QuietEnabled:
		if o, n := quietLabel(old.QuietEnabled, old.QuietStart, old.QuietEnd), quietLabel(new.QuietEnabled, new.QuietStart, new.QuietEnd); o != n {
			out = append(out, "quiet hours: "+o+" → "+n)
		}
	case old.QuietStart != new.QuietStart || old.QuietEnd != new.QuietEnd:
		// Off both before and after: only the preset window moved.
		out = append(out, "quiet hours (off) preset: "+quietLabel(true, old.QuietStart, old.QuietEnd)+" → "+quietLabel(true, new.QuietStart, new.QuietEnd))
	}
	if old.QuietApprovedExempt != new.QuietApprovedExempt {
		out = append(out, "approved contacts during quiet hours: "+onOff(old.QuietApprovedExempt, "let through", "held")+" → "+
			onOff(new.QuietApprovedExempt, "let through", "held"))
	}
	if old.BlockAdultStrangers != new.BlockAdultStrangers {
		out = append(out, "adult strangers: "+onOff(old.BlockAdultStrangers, "blocked", "allowed")+" → "+onOff(new.BlockAdultStrangers, "blocked", "allowed"))
	}
	if old.MediaFriendsOnly != new.MediaFriendsOnly {
		out = append(out, "photos, videos and links: "+onOff(old.MediaFriendsOnly, "friends only", "anyone")+" → "+onOff(new.MediaFriendsOnly, "friends only", "anyone"))
	}
	if old.MinSenderAccountAgeDays != new.MinSenderAccountAgeDays {
		out = append(out, "minimum account age for strangers: "+dayCount(old.MinSenderAccountAgeDays)+" → "+dayCount(new.MinSenderAccountAgeDays))
	}
	out = describeList(out, old.Approved, new.Approved, "approved ", "no longer approved ")
	out = describeList(out, old.Blocked, new.Blocked, "blocked ", "unblocked ")
	return out
}

func describeList(out []string, old, new []Contact, added, removed string) []string {
	before := contactMap(old)
	after := contactMap(new)
	for _, c := range new {
		if label, ok := before[c.PlatformUserID]; !ok {
			out = append(out, added+contactLabel(c))
		} else if label != c.Label {
			out = append(out, "label of "+c.PlatformUserID+": "+onOff(label == "", "none", label)+" → "+onOff(c.Label == "", "none", c.Label))
		}
	}
	for _, c := range old {
		if _, ok := after[c.PlatformUserID]; !ok {
			out = append(out, removed+contactLabel(c))
		}
	}
	return out
}

func dayCount(n int) string {
	switch n {
	case 0:
		return "none"
	case 1:
		return "1 day"
	}
	return strconv.Itoa(n) + " days"
}

// SummarizeChanges joins DescribeChanges phrases for a one-line message,
// keeping the first few and counting the rest.
func SummarizeChanges(changes []string) string {
	const show = 4
	if len(changes) <= show {
		return strings.Join(changes, "; ")
	}
	return strings.Join(changes[:show], "; ") + fmt.Sprintf("; and %d more", len(changes)-show)
}
