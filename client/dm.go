package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/hearth-safety/hearth/policy"
)

// CheckRequest asks whether one DM may go through: who sends it, who
// receives it, when, and what the messaging service knows about both
// parties and the message. It has no field for the message itself, and never
// will. Its JSON is the body of POST /api/v1/dm/check.
type CheckRequest struct {
	SenderID    string `json:"sender_id"`
	RecipientID string `json:"recipient_id"`
	// SentAt is when the message was sent; zero leaves it out and Hearth
	// uses the time it receives the check. It is sent in UTC.
	SentAt time.Time `json:"sent_at,omitzero"`
	// Context holds the facts the service knows. Leave out what it does not
	// know (a nil field): Hearth counts a missing fact on the safe side
	// (not mutual, adult, account age 0, may carry media and a link), so a
	// missing fact can only make the answer stricter.
	Context policy.Context `json:"context"`
	// MinPolicyVersion asks Hearth to decide only by rules at least this
	// new for the supervised party, typically the version of the last
	// policy.updated webhook received; a node not yet that current holds.
	// Zero asks for nothing in particular.
	MinPolicyVersion int64 `json:"min_policy_version"`
}

// MarshalJSON writes the hook API's body, with SentAt in UTC.
func (r CheckRequest) MarshalJSON() ([]byte, error) {
	type wire CheckRequest // without this method
	w := wire(r)
	if !w.SentAt.IsZero() {
		w.SentAt = w.SentAt.UTC()
	}
	return json.Marshal(w)
}

// FailClosed returns the answer CheckDM gives when Hearth cannot decide:
// hold, supervision_unavailable, decided by none, no HoldUntil. A service
// that must decide without asking Hearth (its own queue is full, say) should
// act on this too: keep the message and check it again later.
func FailClosed() policy.Result {
	return policy.Result{Decision: policy.Hold, Reason: policy.ReasonSupervisionUnavailable, DecidedBy: policy.DecidedByNone}
}

// CheckDM asks Hearth whether the DM described by req may go through, within
// Config.CheckTimeout (or ctx's deadline, when sooner), and returns Hearth's
// answer with a nil error.
//
// It fails closed. When Hearth cannot answer in time or at all (a timeout,
// a refused or reset connection, a 5xx or 429, an answer that is not a
// complete, consistent decision, ctx already done), it returns FailClosed()
// and an error wrapping ErrUnavailable. When Hearth refuses the request
// (400, 401, 404, 422 …), it returns FailClosed() and the *Error: the message
// must not go through on a wrong request either. The Result is therefore
// always safe to act on, whatever the error; log the error and act on the
// Result. A connection error is retried once at once if the budget allows;
// the check reads and never writes, so repeating it is safe.
func (c *Client) CheckDM(ctx context.Context, req CheckRequest) (policy.Result, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return FailClosed(), fmt.Errorf("hearth: check DM: %w: %w", ErrInvalid, err)
	}
	a, err := c.check(ctx, "/api/v1/dm/check", body)
	if err != nil {
		return FailClosed(), err
	}
	var w wireResult
	if err := json.Unmarshal(a.body, &w); err != nil {
		return FailClosed(), malformed("/api/v1/dm/check", err)
	}
	res, err := w.result()
	if err != nil {
		return FailClosed(), malformed("/api/v1/dm/check", err)
	}
	return res, nil
}

// CheckDMBatch asks about up to MaxBatch DMs in one request and returns one
// Result per request, in order. It fails closed like CheckDM, for the whole
// batch: when Hearth cannot answer, refuses the batch, or answers with a
// wrong number of results or any malformed one, every DM gets FailClosed()
// and the error says why. No requests gives no results and no error; more
// than MaxBatch gives holds and an error wrapping ErrInvalid, without asking
// Hearth. The batch shares one CheckTimeout.
func (c *Client) CheckDMBatch(ctx context.Context, reqs []CheckRequest) ([]policy.Result, error) {
	if len(reqs) == 0 {
		return []policy.Result{}, nil
	}
	holdAll := func(err error) ([]policy.Result, error) {
		out := make([]policy.Result, len(reqs))
		for i := range out {
			out[i] = FailClosed()
		}
		return out, err
	}
	if len(reqs) > MaxBatch {
		return holdAll(fmt.Errorf("hearth: check DM batch: %d checks, at most %d per batch: %w", len(reqs), MaxBatch, ErrInvalid))
	}
	body, err := json.Marshal(struct {
		Checks []CheckRequest `json:"checks"`
	}{reqs})
	if err != nil {
		return holdAll(fmt.Errorf("hearth: check DM batch: %w: %w", ErrInvalid, err))
	}
	const path = "/api/v1/dm/check/batch"
	a, err := c.check(ctx, path, body)
	if err != nil {
		return holdAll(err)
	}
	var w struct {
		Results []wireResult `json:"results"`
	}
	if err := json.Unmarshal(a.body, &w); err != nil {
		return holdAll(malformed(path, err))
	}
	if len(w.Results) != len(reqs) {
		return holdAll(malformed(path, fmt.Errorf("%d results for %d checks", len(w.Results), len(reqs))))
	}
	out := make([]policy.Result, len(reqs))
	for i, r := range w.Results {
		if out[i], err = r.result(); err != nil {
			return holdAll(malformed(path, fmt.Errorf("result %d: %w", i, err)))
		}
	}
	return out, nil
}

// check posts a DM check within CheckTimeout and returns a 200 answer. Any
// other outcome is an error: wrapping ErrUnavailable when Hearth did not
// answer, an *Error when it answered with another status.
func (c *Client) check(ctx context.Context, path string, body []byte) (*answer, error) {
	r := &request{method: http.MethodPost, path: path, body: body}
	if err := ctx.Err(); err != nil {
		return nil, c.unavailable(r, err)
	}
	cctx, cancel := context.WithTimeout(ctx, c.checkTimeout)
	defer cancel()
	for attempt := 0; ; attempt++ {
		a, err := c.send(cctx, r)
		if err == nil {
			switch {
			case a.status == http.StatusOK:
				return a, nil
			case a.status >= 200 && a.status < 300:
				return nil, malformed(path, fmt.Errorf("status %d instead of 200", a.status))
			}
			return nil, problemOf(a)
		}
		switch {
		case ctx.Err() != nil:
			return nil, c.unavailable(r, ctx.Err())
		case cctx.Err() != nil:
			return nil, c.unavailable(r, fmt.Errorf("no answer within %v", c.checkTimeout))
		}
		if attempt > 0 || !connectionError(err) || !budgetLeft(cctx, minCheckRetry) {
			return nil, c.unavailable(r, err)
		}
	}
}

// budgetLeft reports whether ctx has at least d before its deadline.
func budgetLeft(ctx context.Context, d time.Duration) bool {
	deadline, ok := ctx.Deadline()
	return !ok || time.Until(deadline) >= d
}

// malformed is the error for a check answered 200 with a body that is not
// the decision the contract promises: Hearth is there, but nothing it said
// can be trusted, so it counts as no answer.
func malformed(path string, err error) error { return badAnswer(http.MethodPost, path, err) }

// wireResult is a check result as it arrives. Pointers tell a missing field
// from a zero one: policy.Allow is the zero Outcome, and a body of "{}" must
// not read as "allow".
type wireResult struct {
	Decision      *policy.Outcome   `json:"decision"`
	Reason        *policy.Reason    `json:"reason"`
	DecidedBy     *policy.DecidedBy `json:"decided_by"`
	PolicyVersion int64             `json:"policy_version"`
	HoldUntil     time.Time         `json:"hold_until"`
}

// result checks that w is a complete, consistent decision: every field the
// contract requires is there, the reason goes with the decision (not_friends
// with request, quiet_hours with hold), and a hold for quiet hours says until
// when. Anything else is treated as no answer.
func (w *wireResult) result() (policy.Result, error) {
	switch {
	case w.Decision == nil:
		return policy.Result{}, errors.New(`no "decision"`)
	case w.Reason == nil:
		return policy.Result{}, errors.New(`no "reason"`)
	case w.DecidedBy == nil:
		return policy.Result{}, errors.New(`no "decided_by"`)
	case w.Reason.Outcome() != *w.Decision:
		return policy.Result{}, fmt.Errorf("decision %s does not go with reason %s", w.Decision, w.Reason)
	case w.PolicyVersion < 0:
		return policy.Result{}, fmt.Errorf("policy_version %d is negative", w.PolicyVersion)
	case *w.Reason == policy.ReasonQuietHours && w.HoldUntil.IsZero():
		return policy.Result{}, errors.New(`a hold for quiet hours without "hold_until"`)
	case *w.Decision != policy.Hold && !w.HoldUntil.IsZero():
		return policy.Result{}, fmt.Errorf(`"hold_until" on a %s`, w.Decision)
	}
	return policy.Result{Decision: *w.Decision, Reason: *w.Reason, DecidedBy: *w.DecidedBy,
		PolicyVersion: w.PolicyVersion, HoldUntil: w.HoldUntil}, nil
}
