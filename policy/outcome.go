package policy

import (
	"fmt"
	"slices"
	"strconv"
)

// Outcome is what happens to a DM. Values are ordered by strictness,
// Allow < Hold < Request < Deny, so that "the strictest wins" is a plain
// comparison.
type Outcome uint8

// The outcomes the messaging service acts on.
const (
	// Allow delivers the message now.
	Allow Outcome = iota
	// Hold keeps the message and delivers it at HoldUntil.
	Hold
	// Request delivers to the recipient's message-request folder without a
	// notification.
	Request
	// Deny refuses the message.
	Deny
)

var outcomeNames = [...]string{
	Allow:   "allow",
	Hold:    "hold",
	Request: "request",
	Deny:    "deny",
}

// String returns the API name: "allow", "hold", "request" or "deny".
func (o Outcome) String() string {
	if int(o) < len(outcomeNames) {
		return outcomeNames[o]
	}
	return "Outcome(" + strconv.Itoa(int(o)) + ")"
}

// ParseOutcome returns the Outcome named s, so that the Go SDK can read the
// hook API's answers back.
func ParseOutcome(s string) (Outcome, error) {
	if i := slices.Index(outcomeNames[:], s); i >= 0 {
		return Outcome(i), nil
	}
	return 0, unknownName("outcome", s, "allow, hold, request or deny")
}

// MarshalText writes the API name, so that encoding/json writes "hold", not 1.
func (o Outcome) MarshalText() ([]byte, error) {
	if int(o) >= len(outcomeNames) {
		return nil, fmt.Errorf("policy: outcome %d out of range: %w", o, ErrInvalid)
	}
	return []byte(outcomeNames[o]), nil
}

// UnmarshalText reads the API name and refuses anything else.
func (o *Outcome) UnmarshalText(b []byte) error {
	v, err := ParseOutcome(string(b))
	if err != nil {
		return err
	}
	*o = v
	return nil
}

// Reason says which rule decided, so that guardians and teens can see what
// each rule did ("12 held for quiet hours") and the app can explain itself.
// The numbers are stable and new reasons are only appended, but persist the
// String form: it is what daily totals and the API use.
type Reason uint8

// The reasons, one per rule of DESIGN.md plus the ones outside the rules.
const (
	// ReasonAllowed: no rule objected.
	ReasonAllowed Reason = iota
	// ReasonNotSupervised: Hearth supervises neither party.
	ReasonNotSupervised
	// ReasonBlockedContact: rule 1, the other party is blocked.
	ReasonBlockedContact
	// ReasonApprovedContact: rule 2, the other party is approved.
	ReasonApprovedContact
	// ReasonDMsOff: rule 3, audience nobody.
	ReasonDMsOff
	// ReasonApprovedOnly: rule 4, audience approved.
	ReasonApprovedOnly
	// ReasonAdultStranger: rule 5, an adult who is not a mutual follower.
	ReasonAdultStranger
	// ReasonMediaRestricted: rule 6, media or a link from a non-friend.
	ReasonMediaRestricted
	// ReasonNotFriends: rule 7, audience friends and not mutual followers.
	ReasonNotFriends
	// ReasonNewAccount: rule 8, the other account is younger than the minimum.
	ReasonNewAccount
	// ReasonQuietHours: rule 9, inside the teen's quiet hours.
	ReasonQuietHours
	// ReasonSupervisionUnavailable: Hearth could not decide by current rules
	// (a stale node, a timeout in the SDK), so the message waits. Decide never
	// returns it; it belongs here so that every answer has one vocabulary.
	ReasonSupervisionUnavailable
)

var reasonNames = [...]string{
	ReasonAllowed:                "allowed",
	ReasonNotSupervised:          "not_supervised",
	ReasonBlockedContact:         "blocked_contact",
	ReasonApprovedContact:        "approved_contact",
	ReasonDMsOff:                 "dms_off",
	ReasonApprovedOnly:           "approved_only",
	ReasonAdultStranger:          "adult_stranger",
	ReasonMediaRestricted:        "media_restricted",
	ReasonNotFriends:             "not_friends",
	ReasonNewAccount:             "new_account",
	ReasonQuietHours:             "quiet_hours",
	ReasonSupervisionUnavailable: "supervision_unavailable",
}

var reasonOutcomes = [...]Outcome{
	ReasonAllowed:                Allow,
	ReasonNotSupervised:          Allow,
	ReasonBlockedContact:         Deny,
	ReasonApprovedContact:        Allow,
	ReasonDMsOff:                 Deny,
	ReasonApprovedOnly:           Deny,
	ReasonAdultStranger:          Deny,
	ReasonMediaRestricted:        Deny,
	ReasonNotFriends:             Request,
	ReasonNewAccount:             Request,
	ReasonQuietHours:             Hold,
	ReasonSupervisionUnavailable: Hold,
}

// String returns the API name, such as "quiet_hours".
func (r Reason) String() string {
	if int(r) < len(reasonNames) {
		return reasonNames[r]
	}
	return "Reason(" + strconv.Itoa(int(r)) + ")"
}

// ParseReason returns the Reason named s, for reading stored daily totals and
// API answers back.
func ParseReason(s string) (Reason, error) {
	if i := slices.Index(reasonNames[:], s); i >= 0 {
		return Reason(i), nil
	}
	return 0, unknownName("reason", s, "one of the names listed by AllReasons")
}

// AllReasons returns every Reason in rule order, so that daily totals and the
// "what the rules did" view can show a row for each, zeros included. The slice
// is the caller's to keep or change.
func AllReasons() []Reason {
	all := make([]Reason, len(reasonNames))
	for i := range all {
		all[i] = Reason(i)
	}
	return all
}

// Outcome returns the outcome that r always comes with (quiet_hours: Hold),
// so that views can group counts by outcome and clients can check that an
// answer is consistent. An unknown Reason maps to Deny, the safe side.
func (r Reason) Outcome() Outcome {
	if int(r) < len(reasonOutcomes) {
		return reasonOutcomes[r]
	}
	return Deny
}

// MarshalText writes the API name, so that encoding/json writes "dms_off".
func (r Reason) MarshalText() ([]byte, error) {
	if int(r) >= len(reasonNames) {
		return nil, fmt.Errorf("policy: reason %d out of range: %w", r, ErrInvalid)
	}
	return []byte(reasonNames[r]), nil
}

// UnmarshalText reads the API name and refuses anything else.
func (r *Reason) UnmarshalText(b []byte) error {
	v, err := ParseReason(string(b))
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// DecidedBy names whose policy decided a DM, so that the app can tell a teen
// "your rules" from "their rules" and counts land on the right teen.
type DecidedBy uint8

// The parties whose policy can decide.
const (
	// DecidedByNone: neither party is supervised.
	DecidedByNone DecidedBy = iota
	// DecidedByRecipient: the recipient's policy decided.
	DecidedByRecipient
	// DecidedBySender: the sender's policy decided.
	DecidedBySender
)

var decidedByNames = [...]string{
	DecidedByNone:      "none",
	DecidedByRecipient: "recipient",
	DecidedBySender:    "sender",
}

// String returns the API name: "none", "recipient" or "sender".
func (d DecidedBy) String() string {
	if int(d) < len(decidedByNames) {
		return decidedByNames[d]
	}
	return "DecidedBy(" + strconv.Itoa(int(d)) + ")"
}

// ParseDecidedBy returns the DecidedBy named s, for reading API answers back.
func ParseDecidedBy(s string) (DecidedBy, error) {
	if i := slices.Index(decidedByNames[:], s); i >= 0 {
		return DecidedBy(i), nil
	}
	return 0, unknownName("decided_by", s, "none, recipient or sender")
}

// MarshalText writes the API name, so that encoding/json writes "recipient".
func (d DecidedBy) MarshalText() ([]byte, error) {
	if int(d) >= len(decidedByNames) {
		return nil, fmt.Errorf("policy: decided_by %d out of range: %w", d, ErrInvalid)
	}
	return []byte(decidedByNames[d]), nil
}

// UnmarshalText reads the API name and refuses anything else.
func (d *DecidedBy) UnmarshalText(b []byte) error {
	v, err := ParseDecidedBy(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}
