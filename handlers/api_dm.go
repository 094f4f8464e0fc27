package handlers

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/hearth-safety/hearth/models"
	"github.com/hearth-safety/hearth/policy"
)

// MaxBatch is the most checks one batch request may carry.
const MaxBatch = 500

// dmCheck is one check in POST /api/v1/dm/check and its batch form. The
// struct has no field for message content, and the decoder refuses any
// field it does not name.
type dmCheck struct {
	SenderID         *string         `json:"sender_id"`
	RecipientID      *string         `json:"recipient_id"`
	SentAt           *string         `json:"sent_at"`
	Context          *policy.Context `json:"context"`
	MinPolicyVersion *int64          `json:"min_policy_version"`
}

type dmBatch struct {
	Checks []dmCheck `json:"checks"`
}

// dmResult is the answer to one check.
type dmResult = policy.Result

// unavailable is the fail-closed answer: the message waits; nothing slips
// through because Hearth could not be sure of the rules.
func unavailable() dmResult {
	return dmResult{Decision: policy.Hold, Reason: policy.ReasonSupervisionUnavailable, DecidedBy: policy.DecidedByNone}
}

// validate checks one check's fields, naming them with prefix ("" or
// "checks[3].").
func (d *dmCheck) validate(prefix string, ve *models.ValidationError) (sentAt time.Time) {
	for _, f := range []struct {
		name string
		v    *string
	}{{"sender_id", d.SenderID}, {"recipient_id", d.RecipientID}} {
		switch {
		case f.v == nil:
			ve.Add(prefix+f.name, "is required")
		case !models.PlatformIDOK(*f.v):
			ve.Add(prefix+f.name, "must be 1–64 characters of A–Z, a–z, 0–9 and _ . : -")
		}
	}
	if d.SenderID != nil && d.RecipientID != nil && *d.SenderID == *d.RecipientID {
		ve.Add(prefix+"recipient_id", "must differ from sender_id")
	}
	if d.SentAt != nil {
		t, err := time.Parse(time.RFC3339Nano, *d.SentAt)
		if err != nil {
			ve.Add(prefix+"sent_at", "must be an RFC 3339 time such as 2026-11-27T21:30:00Z")
		}
		sentAt = t
	}
	if d.MinPolicyVersion != nil && *d.MinPolicyVersion < 0 {
		ve.Add(prefix+"min_policy_version", "must be 0 or more")
	}
	if c := d.Context; c != nil {
		for _, f := range []struct {
			name string
			v    *int
		}{{"context.sender_account_age_days", c.SenderAccountAgeDays}, {"context.recipient_account_age_days", c.RecipientAccountAgeDays}} {
			if f.v != nil && *f.v < 0 {
				ve.Add(prefix+f.name, "must be 0 or more")
			}
		}
	}
	return sentAt
}

// CheckDM answers whether one DM may go through.
func (h *Handlers) CheckDM(c echo.Context) error {
	var req dmCheck
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	ve := &models.ValidationError{}
	at := req.validate("", ve)
	if err := ve.Err(); err != nil {
		return err
	}
	res := h.decide(ctx(c), clientID(c), &req, at)
	return c.JSONBlob(http.StatusOK, appendResult(make([]byte, 0, 160), &res))
}

// appendResult writes one decision as the contract's JSON. The DM check is
// the hottest path in Hearth, and this is several times cheaper than
// reflection-based encoding; every value but the time is a fixed enum
// name, so nothing needs escaping. TestAppendResult pins it to
// encoding/json's output.
func appendResult(b []byte, r *dmResult) []byte {
	b = append(b, `{"decision":"`...)
	b = append(b, r.Decision.String()...)
	b = append(b, `","reason":"`...)
	b = append(b, r.Reason.String()...)
	b = append(b, `","decided_by":"`...)
	b = append(b, r.DecidedBy.String()...)
	b = append(b, `","policy_version":`...)
	b = strconv.AppendInt(b, r.PolicyVersion, 10)
	if !r.HoldUntil.IsZero() {
		b = append(b, `,"hold_until":"`...)
		b = r.HoldUntil.AppendFormat(b, time.RFC3339Nano)
		b = append(b, '"')
	}
	return append(b, '}')
}

// CheckDMBatch answers up to 500 checks in one request, in order.
func (h *Handlers) CheckDMBatch(c echo.Context) error {
	var req dmBatch
	if err := decodeJSON(c, &req); err != nil {
		return err
	}
	times, err := req.validate()
	if err != nil {
		return err
	}
	b := make([]byte, 0, 16+120*len(req.Checks))
	b = append(b, `{"results":[`...)
	for i := range req.Checks {
		if i > 0 {
			b = append(b, ',')
		}
		res := h.decide(ctx(c), clientID(c), &req.Checks[i], times[i])
		b = appendResult(b, &res)
	}
	return c.JSONBlob(http.StatusOK, append(b, "]}"...))
}

// validate checks a decoded batch: 1 to MaxBatch checks, each valid, every
// problem named by its index. It returns each check's sent_at (zero when
// not given).
func (b *dmBatch) validate() ([]time.Time, error) {
	switch n := len(b.Checks); {
	case b.Checks == nil:
		return nil, models.Invalid("checks", "is required: an array of 1 to 500 checks")
	case n == 0:
		return nil, models.Invalid("checks", "is empty; send 1 to 500 checks")
	case n > MaxBatch:
		return nil, models.Invalid("checks", fmt.Sprintf("has %d checks; send at most 500 per request", n))
	}
	ve := &models.ValidationError{}
	times := make([]time.Time, len(b.Checks))
	for i := range b.Checks {
		times[i] = b.Checks[i].validate("checks["+strconv.Itoa(i)+"].", ve)
	}
	if err := ve.Err(); err != nil {
		return nil, err
	}
	return times, nil
}

// decide evaluates one validated check from the in-memory rules. It never
// allows by default: when this node cannot be sure its copy is current, or
// has not yet applied the version the caller asks for, it holds.
func (h *Handlers) decide(cx context.Context, client int64, req *dmCheck, at time.Time) dmResult {
	cache := h.Policies
	if cache == nil || !cache.Current() {
		return unavailable()
	}
	if at.IsZero() {
		at = time.Now()
	}
	var sp, rp policy.Policy
	sOK, rOK := cache.LookupInto(client, *req.SenderID, &sp), cache.LookupInto(client, *req.RecipientID, &rp)
	if req.MinPolicyVersion != nil && *req.MinPolicyVersion > 0 && !hasVersion(sOK, &sp, rOK, &rp, *req.MinPolicyVersion) {
		// The caller knows of a newer version than this node has applied:
		// catch up once, briefly. A sync that succeeds has applied every
		// committed change, so whatever it finds is the truth; one that
		// fails leaves the node unsure, and it holds.
		sctx, cancel := context.WithTimeout(cx, 200*time.Millisecond)
		err := cache.Sync(sctx)
		cancel()
		if err != nil {
			return unavailable()
		}
		sOK, rOK = cache.LookupInto(client, *req.SenderID, &sp), cache.LookupInto(client, *req.RecipientID, &rp)
	}
	var sender, recipient *policy.Policy
	if sOK {
		sender = &sp
	}
	if rOK {
		recipient = &rp
	}
	var pc policy.Context
	if req.Context != nil {
		pc = *req.Context
	}
	res := policy.DecideDM(sender, recipient, *req.SenderID, *req.RecipientID, &pc, at)
	// Count it for the teen whose rules decided (an in-memory increment;
	// see package rulecounts). Hearth's own unavailable answers above are
	// not the teen's rules at work, and are not counted.
	h.RuleCounts.RecordDecision(client, *req.SenderID, *req.RecipientID, sender, recipient, res)
	return res
}

// hasVersion reports whether a supervised party's rules are at least min.
func hasVersion(sOK bool, s *policy.Policy, rOK bool, r *policy.Policy, min int64) bool {
	return sOK && s.Version >= min || rOK && r.Version >= min
}

// PolicyResponse is GET /api/v1/teens/{id}/policy: the teen's effective
// rules, for the app to show the teen their limits.
type PolicyResponse struct {
	PlatformUserID          string           `json:"platform_user_id"`
	Supervised              bool             `json:"supervised"`
	Version                 int64            `json:"version"`
	Audience                policy.Audience  `json:"audience"`
	QuietHours              QuietHoursJSON   `json:"quiet_hours"`
	BlockAdultStrangers     bool             `json:"block_adult_strangers"`
	MediaFriendsOnly        bool             `json:"media_friends_only"`
	MinSenderAccountAgeDays int              `json:"min_sender_account_age_days"`
	ApprovedContacts        []models.Contact `json:"approved_contacts"`
	BlockedContacts         []models.Contact `json:"blocked_contacts"`
	TimeZone                string           `json:"timezone"`
	UpdatedAt               time.Time        `json:"updated_at"`
}

// QuietHoursJSON is the quiet-hours window as "HH:MM" in the teen's zone.
type QuietHoursJSON struct {
	Enabled        bool   `json:"enabled"`
	Start          string `json:"start"`
	End            string `json:"end"`
	ApprovedExempt bool   `json:"approved_exempt"`
}

// HHMM writes minutes after midnight as "HH:MM".
func HHMM(m uint16) string { return fmt.Sprintf("%02d:%02d", m/60, m%60) }

// TeenPolicy answers GET /api/v1/teens/{id}/policy. A teen who is not (or
// no longer) supervised answers with supervised false and the rules the
// messaging service should not apply.
func (h *Handlers) TeenPolicy(c echo.Context) error {
	id := c.Param("id")
	if err := models.ValidatePlatformID("platform_user_id", id); err != nil {
		return err
	}
	t, err := h.Store.TeenByPlatformID(ctx(c), clientID(c), id)
	if err != nil {
		return err
	}
	p, supervised, err := h.Store.TeenPolicyByPlatformID(ctx(c), clientID(c), id)
	if err != nil {
		return err
	}
	nonNil := func(cs []models.Contact) []models.Contact {
		if cs == nil {
			return []models.Contact{}
		}
		return cs
	}
	return c.JSON(http.StatusOK, PolicyResponse{
		PlatformUserID: id, Supervised: supervised, Version: p.Version, Audience: p.Audience,
		QuietHours:          QuietHoursJSON{Enabled: p.QuietEnabled, Start: HHMM(p.QuietStart), End: HHMM(p.QuietEnd), ApprovedExempt: p.QuietApprovedExempt},
		BlockAdultStrangers: p.BlockAdultStrangers, MediaFriendsOnly: p.MediaFriendsOnly, MinSenderAccountAgeDays: p.MinSenderAccountAgeDays,
		ApprovedContacts: nonNil(p.Approved), BlockedContacts: nonNil(p.Blocked), TimeZone: t.TimeZone, UpdatedAt: p.UpdatedAt,
	})
}
