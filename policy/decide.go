package policy

import (
	"strconv"
	"time"
)

// Decision is one teen's policy's answer for one DM: what to do and which
// rule said so.
type Decision struct {
	Outcome Outcome `json:"outcome"`
	Reason  Reason  `json:"reason"`
	// HoldUntil is when a held message may be delivered; zero unless Outcome
	// is Hold.
	HoldUntil time.Time `json:"hold_until,omitzero"`
}

// String returns "deny adult_stranger" or "hold quiet_hours until
// 2026-11-28T07:00:00Z", for logs and test failures.
func (d Decision) String() string {
	s := d.Outcome.String() + " " + d.Reason.String()
	if !d.HoldUntil.IsZero() {
		s += " until " + d.HoldUntil.Format(time.RFC3339)
	}
	return s
}

// Decide evaluates the teen's policy p against the other party of a DM,
// whose platform user ID is otherID, for a message sent at `at`, by the rule
// table of the package documentation. It is the hot path of every DM check:
// pure, safe for concurrent use on a shared Policy, and free of allocations.
//
// The strictest outcome wins with the reason of the first rule giving it.
// Because the rules that deny come before those that request, and those
// before quiet hours, that is the first rule that applies, with one
// exception: an approved contact (rule 2) is still held by quiet hours when
// approved contacts are not exempt. Unknown facts count on the safe side
// (not mutual, adult, account age 0). A nil p means the teen is not
// supervised: Allow with ReasonNotSupervised.
func Decide(p *Policy, otherID string, f Facts, at time.Time) Decision {
	if p == nil {
		return Decision{Outcome: Allow, Reason: ReasonNotSupervised}
	}
	if _, ok := p.Blocked[otherID]; ok {
		return Decision{Outcome: Deny, Reason: ReasonBlockedContact}
	}
	if _, ok := p.Approved[otherID]; ok {
		if !p.Quiet.ApprovedExempt {
			if until, held := p.Quiet.holdUntil(at, p.Location); held {
				return Decision{Outcome: Hold, Reason: ReasonQuietHours, HoldUntil: until}
			}
		}
		return Decision{Outcome: Allow, Reason: ReasonApprovedContact}
	}

	mutual := f.Mutual == Yes
	switch audience := p.Audience.rank(); {
	case audience == AudienceNobody:
		return Decision{Outcome: Deny, Reason: ReasonDMsOff}
	case audience == AudienceApproved:
		return Decision{Outcome: Deny, Reason: ReasonApprovedOnly}
	case mutual:
		// Rules 5–8 all spare mutual followers.
	case p.BlockAdultStrangers && f.OtherIsAdult != No:
		return Decision{Outcome: Deny, Reason: ReasonAdultStranger}
	case p.MediaFriendsOnly && (f.HasMedia || f.HasLink):
		return Decision{Outcome: Deny, Reason: ReasonMediaRestricted}
	case audience == AudienceFriends:
		return Decision{Outcome: Request, Reason: ReasonNotFriends}
	case f.otherAccountAgeDays() < p.MinSenderAccountAgeDays:
		return Decision{Outcome: Request, Reason: ReasonNewAccount}
	}

	if until, held := p.Quiet.holdUntil(at, p.Location); held {
		return Decision{Outcome: Hold, Reason: ReasonQuietHours, HoldUntil: until}
	}
	return Decision{Outcome: Allow, Reason: ReasonAllowed}
}

// Result is the answer to a whole DM check, field for field the body of a
// POST /api/v1/dm/check response (with these JSON names), so that handlers
// and the Go SDK share one type.
type Result struct {
	Decision  Outcome   `json:"decision"`
	Reason    Reason    `json:"reason"`
	DecidedBy DecidedBy `json:"decided_by"`
	// PolicyVersion is the version of the policy that decided; 0 when
	// neither party is supervised.
	PolicyVersion int64 `json:"policy_version"`
	// HoldUntil is zero unless Decision is Hold.
	HoldUntil time.Time `json:"hold_until,omitzero"`
}

// String returns "request not_friends by recipient v42", plus " until …"
// for a hold, for logs and test failures.
func (r Result) String() string {
	s := r.Decision.String() + " " + r.Reason.String() + " by " + r.DecidedBy.String() + " v" + strconv.FormatInt(r.PolicyVersion, 10)
	if !r.HoldUntil.IsZero() {
		s += " until " + r.HoldUntil.Format(time.RFC3339)
	}
	return s
}

// DecideDM evaluates a whole DM from senderID to recipientID sent at `at`.
// sender and recipient are the parties' policies, nil for a party Hearth does
// not supervise; c holds the messaging service's facts, nil or with nil
// fields for facts it did not send, which count on the safe side (a message
// not described may carry media and a link).
//
// The recipient's policy is evaluated against the sender (sender_is_adult,
// sender_account_age_days) and the sender's against the recipient
// (recipient_is_adult, recipient_account_age_days); mutual_follow and the
// message facts apply to both. Neither supervised: Allow, not_supervised,
// decided by none. Otherwise the stricter decision wins and a tie goes to the
// recipient; DecidedBy and PolicyVersion name the policy that decided.
//
// When both teens hold the message, it must not arrive inside either teen's
// quiet hours, so HoldUntil is the later of the two ends and the teen whose
// quiet hours end later decides (the recipient when both end together). That
// later end is outside both windows whenever the two teens have any
// quiet-free time in common: were it inside the other teen's window, that
// window would have begun again within the stretch of day the first one
// covers, and the two together would leave no moment free. Only then does the
// message arrive during the other teen's quiet hours, as late as either
// window alone would keep it: that day no moment would suit both.
func DecideDM(sender, recipient *Policy, senderID, recipientID string, c *Context, at time.Time) Result {
	if sender == nil && recipient == nil {
		return Result{Decision: Allow, Reason: ReasonNotSupervised, DecidedBy: DecidedByNone}
	}
	var ctx Context
	if c != nil {
		ctx = *c
	}
	if sender == nil {
		return result(Decide(recipient, senderID, ctx.aboutSender(), at), DecidedByRecipient, recipient)
	}
	if recipient == nil {
		return result(Decide(sender, recipientID, ctx.aboutRecipient(), at), DecidedBySender, sender)
	}

	r := Decide(recipient, senderID, ctx.aboutSender(), at)
	s := Decide(sender, recipientID, ctx.aboutRecipient(), at)
	switch {
	case s.Outcome > r.Outcome:
		return result(s, DecidedBySender, sender)
	case s.Outcome < r.Outcome || r.Outcome != Hold:
		return result(r, DecidedByRecipient, recipient)
	}
	return bothHeld(r, s, recipient, sender)
}

// result labels one policy's decision as the answer for the DM.
func result(d Decision, by DecidedBy, p *Policy) Result {
	return Result{Decision: d.Outcome, Reason: d.Reason, DecidedBy: by, PolicyVersion: p.Version, HoldUntil: d.HoldUntil}
}

// bothHeld merges two holds (both from rule 9) into one: the later end
// decides, the recipient on a tie.
func bothHeld(r, s Decision, recipient, sender *Policy) Result {
	if s.HoldUntil.After(r.HoldUntil) {
		return result(s, DecidedBySender, sender)
	}
	return result(r, DecidedByRecipient, recipient)
}
