package models

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// LinkState is where a guardian–teen link stands.
type LinkState string

// Link states. A link is born active (the teen accepted an invitation);
// support staff may suspend and reinstate it; it ends for good when the
// guardian or teen ends it (by the age rules), staff end it, or the teen
// turns 18. An ended link is kept for the history.
const (
	LinkActive    LinkState = "active"
	LinkSuspended LinkState = "suspended"
	LinkEnded     LinkState = "ended"
)

// MaxGuardians is how many guardians may supervise one teen at once.
const MaxGuardians = 4

// MaxPendingInvitations is how many unanswered invitations a guardian may
// have out at once.
const MaxPendingInvitations = 5

// InvitationTTL is how long an invitation can be accepted.
const InvitationTTL = 48 * time.Hour

// Link is one guardian supervising one teen.
type Link struct {
	ID         int64
	TeenID     int64
	GuardianID int64
	State      LinkState
	CreatedAt  time.Time // since when
	EndedAt    *time.Time
	EndReason  string // why it ended, in words shown to both sides
	EndedBy    *int64 // the user who ended it; nil when Hearth did (age 18)
	// Joined for display.
	GuardianName  string
	GuardianEmail string
	TeenName      string
}

// Live reports whether the link still exists for its parties (active or
// suspended); a suspended guardian has no access but still counts.
func (l Link) Live() bool { return l.State == LinkActive || l.State == LinkSuspended }

// InvitationState is where an invitation stands.
type InvitationState string

// Invitation states.
const (
	InvitationPending   InvitationState = "pending"
	InvitationAccepted  InvitationState = "accepted"
	InvitationDeclined  InvitationState = "declined"
	InvitationWithdrawn InvitationState = "withdrawn"
)

// Invitation is a guardian's offer to supervise a teen, answered by the
// teen with a code or link. Only a hash of the code is stored.
type Invitation struct {
	ID         int64
	GuardianID int64
	Label      string // who the guardian meant it for, e.g. "Sam"; shown to the guardian only
	State      InvitationState
	TeenID     *int64 // set when answered
	ExpiresAt  time.Time
	CreatedAt  time.Time
	AnsweredAt *time.Time
	// Joined for display.
	GuardianName  string
	GuardianEmail string
	TeenName      string // the teen who answered, once answered
}

// Expired reports whether a pending invitation can no longer be accepted.
func (i Invitation) Expired(now time.Time) bool {
	return i.State == InvitationPending && !now.Before(i.ExpiresAt)
}

// RequestKind says what a teen asks a guardian for.
type RequestKind string

// Request kinds. Loosening a DM rule arrives with the DM rules.
const (
	RequestEndSupervision RequestKind = "end_supervision"
	RequestLoosenPolicy   RequestKind = "loosen_policy"
)

// RequestState is where a teen's request stands.
type RequestState string

// Request states.
const (
	RequestPending   RequestState = "pending"
	RequestApproved  RequestState = "approved"
	RequestDeclined  RequestState = "declined"
	RequestCancelled RequestState = "cancelled"
)

// Request is something a 13–15-year-old asks their guardian to approve.
type Request struct {
	ID        int64
	TeenID    int64
	LinkID    *int64 // the link an end_supervision request is about
	Kind      RequestKind
	State     RequestState
	Reason    string // the teen's words, up to 500 characters
	Payload   json.RawMessage
	CreatedAt time.Time
	DecidedAt *time.Time
	DecidedBy *int64
	// DecisionNote is what the deciding guardian wrote back, if anything.
	DecisionNote string
	// ExpiresAt is when an unanswered request lapses; nil means never.
	ExpiresAt *time.Time
	// Joined for display.
	TeenName     string
	GuardianName string // for end_supervision: whose supervision
}

// MaxReasonLen bounds free-text reasons people type.
const MaxReasonLen = 500

// AuditEvent is one entry of a teen's append-only, hash-chained log: who did
// what, when, why, and the state before and after.
type AuditEvent struct {
	ID        int64
	TeenID    int64
	At        time.Time
	ActorID   int64 // 0 for Hearth itself (scheduled jobs)
	ActorRole string
	ActorName string
	Action    string
	LinkID    *int64
	Before    json.RawMessage
	After     json.RawMessage
	Reason    string
	PrevHash  string
	Hash      string
	// Confidential entries (a teen's dispute about a guardian) are hidden
	// from guardians until staff act.
	Confidential bool
}

// ActorLabel is who an entry names, as teens and guardians see it: Hearth
// for what it did by itself, "Hearth support" for staff (whose names stay
// inside Hearth), otherwise the name the person had at the time.
func (e AuditEvent) ActorLabel() string {
	switch {
	case e.ActorRole == AuditRoleSystem || e.ActorID == 0:
		return "Hearth"
	case e.ActorRole == string(RoleStaff) || e.ActorRole == string(RoleLead):
		return "Hearth support"
	case e.ActorName != "":
		return e.ActorName
	}
	return "Someone"
}

// Audit actions.
const (
	ActionInvitationAccepted = "invitation.accepted"
	ActionInvitationDeclined = "invitation.declined"
	ActionLinkEnded          = "link.ended"
	ActionRequestCreated     = "request.created"
	ActionRequestApproved    = "request.approved"
	ActionRequestDeclined    = "request.declined"
	ActionRequestCancelled   = "request.cancelled"
	ActionPolicyChanged      = "policy.changed"
	// ActionAuditPruned is Hearth deleting a teen's entries older than
	// AuditRetention. After names the hash of the last deleted entry
	// ("through_hash"), which the first kept entry chains onto, so the
	// chain still verifies from there.
	ActionAuditPruned = "audit.pruned"
)

// AuditRetention is how long audit entries are kept (DESIGN.md: 2 years).
const AuditRetention = 2 * 365 * 24 * time.Hour

// Notification is one "you should know" message for one person, shown in
// the bell menu and, for guardians, emailed.
type Notification struct {
	ID        int64
	UserID    int64
	TeenID    *int64
	Kind      string
	Message   string
	URL       string
	CreatedAt time.Time
	ReadAt    *time.Time
}

// Page asks for one page of a newest-first list.
type Page struct {
	Number int // 1-based
	Size   int
}

// Offset is the number of rows before this page.
func (p Page) Offset() int {
	if p.Number < 1 {
		return 0
	}
	return (p.Number - 1) * p.Limit()
}

// Limit is the page size, clamped to 1–100 (default 25).
func (p Page) Limit() int {
	switch {
	case p.Size <= 0:
		return 25
	case p.Size > 100:
		return 100
	}
	return p.Size
}

// Refusals of an invitation that collide with the teen's current guardians.
// Each wraps ErrConflict, so errors.Is(err, ErrConflict) holds and a handler
// that only knows ErrConflict still answers 409; one that knows these can
// say exactly what went wrong. Their messages name nobody.
var (
	// ErrAlreadySupervised means the inviting guardian already has a live
	// (active or suspended) link with the teen answering the invitation.
	ErrAlreadySupervised = fmt.Errorf("%w: this guardian already supervises the teen", ErrConflict)
	// ErrTooManyGuardians means the teen already has MaxGuardians live links.
	ErrTooManyGuardians = fmt.Errorf("%w: the teen already has the most guardians allowed", ErrConflict)
	// ErrRequestPending means the teen already asked the same thing about
	// the same link and no one has answered yet.
	ErrRequestPending = fmt.Errorf("%w: a request like this is already waiting for an answer", ErrConflict)
	// ErrAuditTampered means a teen's audit chain does not verify: a row was
	// changed, removed or reordered after it was written. Returned errors
	// wrap it and name the first row that fails.
	ErrAuditTampered = errors.New("audit log does not verify")
)

// AuditRoleSystem is the actor role of entries Hearth writes by itself, such
// as links ending when a teen turns 18. Their ActorID is 0.
const AuditRoleSystem = "system"

// Notification kinds, so views can pick an icon or group by kind without
// parsing messages.
const (
	NotifyInvitationAccepted = "invitation.accepted"
	NotifyInvitationDeclined = "invitation.declined"
	NotifyLinkStarted        = "link.started"
	NotifyLinkEnded          = "link.ended"
	NotifyRequestCreated     = "request.created"
	NotifyRequestDecided     = "request.decided"
	NotifyRequestCancelled   = "request.cancelled"
)

// MaxInvitationLabelLen bounds the guardian's note of whom an invitation is for.
const MaxInvitationLabelLen = 64
