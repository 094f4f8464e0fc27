package models

import (
	"fmt"
	"time"
)

// DisputeKind says what a dispute is about. Teens and guardians each have
// their own kinds; "other" is open to both.
type DisputeKind string

// Kinds a teen may file.
const (
	DisputeNotMyGuardian  DisputeKind = "not_my_guardian"
	DisputeGuardianMisuse DisputeKind = "guardian_misuse"
	DisputeEndSupervision DisputeKind = "end_supervision"
	DisputeRuleUnfair     DisputeKind = "rule_unfair"
)

// Kinds a guardian may file.
const (
	DisputeLostAccess           DisputeKind = "lost_access"
	DisputeCustodyChange        DisputeKind = "custody_change"
	DisputeGuardianDisagreement DisputeKind = "guardian_disagreement"
)

// DisputeOther is the kind for anything else, open to teens and guardians.
const DisputeOther DisputeKind = "other"

// TeenDisputeKinds lists the kinds a teen may file, in the order the form
// offers them.
var TeenDisputeKinds = []DisputeKind{DisputeNotMyGuardian, DisputeGuardianMisuse, DisputeEndSupervision, DisputeRuleUnfair, DisputeOther}

// GuardianDisputeKinds lists the kinds a guardian may file, in form order.
var GuardianDisputeKinds = []DisputeKind{DisputeLostAccess, DisputeCustodyChange, DisputeGuardianDisagreement, DisputeOther}

// KindsFor returns the kinds role may file; nil for anyone but teens and
// guardians.
func KindsFor(r Role) []DisputeKind {
	switch r {
	case RoleTeen:
		return TeenDisputeKinds
	case RoleGuardian:
		return GuardianDisputeKinds
	}
	return nil
}

// AllowedFor reports whether role may file a dispute of kind k.
func (k DisputeKind) AllowedFor(r Role) bool {
	for _, x := range KindsFor(r) {
		if x == k {
			return true
		}
	}
	return false
}

// NeedsLink reports whether a dispute of this kind must name the link
// (the guardian) it is about.
func (k DisputeKind) NeedsLink() bool {
	switch k {
	case DisputeNotMyGuardian, DisputeGuardianMisuse, DisputeEndSupervision:
		return true
	}
	return false
}

// Label is the kind in the filer's words, as the form and the case read it.
func (k DisputeKind) Label() string {
	switch k {
	case DisputeNotMyGuardian:
		return "This is not my parent or guardian"
	case DisputeGuardianMisuse:
		return "My guardian is misusing supervision"
	case DisputeEndSupervision:
		return "I want to end supervision"
	case DisputeRuleUnfair:
		return "A rule is unfair"
	case DisputeLostAccess:
		return "I lost access to my teen's supervision"
	case DisputeCustodyChange:
		return "Custody or guardian change"
	case DisputeGuardianDisagreement:
		return "Disagreement with another guardian"
	case DisputeOther:
		return "Something else"
	}
	return string(k)
}

// AllDisputeKinds lists every kind once, for the staff queue's filter.
var AllDisputeKinds = []DisputeKind{DisputeNotMyGuardian, DisputeGuardianMisuse, DisputeEndSupervision, DisputeRuleUnfair,
	DisputeLostAccess, DisputeCustodyChange, DisputeGuardianDisagreement, DisputeOther}

// DisputeStatus is where a case stands. open waits on staff,
// waiting_on_filer on the person who filed it; resolved and rejected are
// closed for good.
type DisputeStatus string

// The statuses.
const (
	DisputeOpen           DisputeStatus = "open"
	DisputeWaitingOnFiler DisputeStatus = "waiting_on_filer"
	DisputeResolved       DisputeStatus = "resolved"
	DisputeRejected       DisputeStatus = "rejected"
)

// DisputeStatuses lists every status in the order the queue shows them.
var DisputeStatuses = []DisputeStatus{DisputeOpen, DisputeWaitingOnFiler, DisputeResolved, DisputeRejected}

// Closed reports whether the case is over: no action may change it.
func (s DisputeStatus) Closed() bool { return s == DisputeResolved || s == DisputeRejected }

// Valid reports whether s is a known status.
func (s DisputeStatus) Valid() bool {
	for _, x := range DisputeStatuses {
		if s == x {
			return true
		}
	}
	return false
}

// Label is the status as filers and staff read it.
func (s DisputeStatus) Label() string {
	switch s {
	case DisputeOpen:
		return "Open"
	case DisputeWaitingOnFiler:
		return "Waiting for a reply"
	case DisputeResolved:
		return "Resolved"
	case DisputeRejected:
		return "Closed without action"
	}
	return string(s)
}

// Targets for working a case: the first reply from support within a day,
// the case closed within three.
const (
	FirstResponseTarget = 24 * time.Hour
	ResolutionTarget    = 72 * time.Hour
)

// Limits on what people type into a case.
const (
	// MaxDisputeTextLen bounds a description, a reply and an internal note.
	MaxDisputeTextLen = 2000
	// MaxStaffReasonLen bounds the reason every staff action needs.
	MaxStaffReasonLen = 1000
	// MaxOpenDisputes is how many unclosed cases one person may have at
	// once: enough for any real trouble, and a bound on a flood.
	MaxOpenDisputes = 5
)

// Dispute is one support case.
type Dispute struct {
	ID              int64
	TeenID          int64
	LinkID          *int64 // the link (guardian) it is about, if any
	FilerID         int64
	FilerRole       Role // RoleTeen or RoleGuardian
	Kind            DisputeKind
	Description     string
	Status          DisputeStatus
	Confidential    bool
	AssigneeID      *int64
	Outcome         string // the note the filer sees when it closed
	Version         int64
	CreatedAt       time.Time
	UpdatedAt       time.Time
	FirstResponseAt *time.Time
	ClosedAt        *time.Time
	// Joined for display.
	TeenName      string
	TeenBirth     BirthMonth
	FilerName     string
	AssigneeName  string
	GuardianName  string // the guardian of LinkID
	PendingAction string // the action of a pending proposal, if any
}

// WaitingOn says whom an unclosed case waits for: "staff", "lead" (a
// proposal needs a lead) or "filer"; "" when closed.
func (d Dispute) WaitingOn() string {
	switch {
	case d.Status.Closed():
		return ""
	case d.PendingAction != "":
		return WaitingLead
	case d.Status == DisputeWaitingOnFiler:
		return WaitingFiler
	}
	return WaitingStaff
}

// Whom a case waits for, as Dispute.WaitingOn and the queue filter name it.
const (
	WaitingStaff = "staff"
	WaitingLead  = "lead"
	WaitingFiler = "filer"
)

// Due reports the case's next deadline at now and whether it has passed:
// the first response while support has not yet answered, then the
// resolution. Closed cases have none (zero time, false).
func (d Dispute) Due(now time.Time) (time.Time, bool) {
	if d.Status.Closed() {
		return time.Time{}, false
	}
	due := d.CreatedAt.Add(ResolutionTarget)
	if d.FirstResponseAt == nil {
		due = d.CreatedAt.Add(FirstResponseTarget)
	}
	return due, now.After(due)
}

// DisputeMessage is one entry of the thread between the filer and support.
type DisputeMessage struct {
	ID         int64
	AuthorRole string // "filer" or "staff"
	AuthorName string
	Body       string
	CreatedAt  time.Time
}

// Who wrote a thread message.
const (
	AuthorFiler = "filer"
	AuthorStaff = "staff"
)

// DisputeNote is an internal note: staff only.
type DisputeNote struct {
	ID         int64
	AuthorName string
	Body       string
	CreatedAt  time.Time
}

// ProposalAction is a lead-only action an agent may propose.
type ProposalAction string

// The lead-only actions.
const (
	ProposeEndLink         ProposalAction = "end_link"
	ProposeDisableGuardian ProposalAction = "disable_guardian"
)

// Label words the action for the case page.
func (a ProposalAction) Label() string {
	switch a {
	case ProposeEndLink:
		return "End the supervision"
	case ProposeDisableGuardian:
		return "Disable the guardian's account"
	}
	return string(a)
}

// ProposalState is where a proposal stands.
type ProposalState string

// The proposal states. A proposal still pending when its case closes is
// withdrawn.
const (
	ProposalPending   ProposalState = "pending"
	ProposalApproved  ProposalState = "approved"
	ProposalDeclined  ProposalState = "declined"
	ProposalWithdrawn ProposalState = "withdrawn"
)

// DisputeProposal is an agent's proposal of a lead-only action.
type DisputeProposal struct {
	ID             int64
	Action         ProposalAction
	LinkID         *int64
	GuardianID     *int64
	GuardianName   string
	Reason         string
	State          ProposalState
	ProposedByName string
	DecidedByName  string
	DecisionReason string
	CreatedAt      time.Time
	DecidedAt      *time.Time
}

// DisputeEvent is one change to a case, numbered by the version it made.
type DisputeEvent struct {
	Version   int64
	At        time.Time
	ActorRole string
	ActorName string
	Action    string
	Summary   string
	Reason    string
}

// DisputeActionKind is something staff do to a case.
type DisputeActionKind string

// Staff actions. Every one needs a reason, is recorded in the teen's audit
// log and the case history, and tells the parties what changed.
const (
	ActAssign        DisputeActionKind = "assign"
	ActAskInfo       DisputeActionKind = "ask_info"
	ActReply         DisputeActionKind = "reply"
	ActNote          DisputeActionKind = "note"
	ActSuspendLink   DisputeActionKind = "suspend_link"
	ActReinstateLink DisputeActionKind = "reinstate_link"
	ActEndLink       DisputeActionKind = "end_link"
	ActResetRules    DisputeActionKind = "reset_rules"
	ActResolve       DisputeActionKind = "resolve"
	ActReject        DisputeActionKind = "reject"
	ActPropose       DisputeActionKind = "propose"
	ActApprove       DisputeActionKind = "approve_proposal"
	ActDecline       DisputeActionKind = "decline_proposal"
	ActDisable       DisputeActionKind = "disable_guardian"
)

// LeadOnly reports whether only a support lead may take the action.
func (k DisputeActionKind) LeadOnly() bool {
	switch k {
	case ActEndLink, ActDisable, ActApprove, ActDecline:
		return true
	}
	return false
}

// Versioned reports whether the action must name the case version its
// author saw. Replies and notes only add to the case, so they can never
// undo someone else's work and go through whatever changed meanwhile.
func (k DisputeActionKind) Versioned() bool { return k != ActReply && k != ActNote }

// DisputeAction is one staff action on a case.
type DisputeAction struct {
	Kind DisputeActionKind
	// Version is the case version the author saw (see Versioned).
	Version int64
	// Reason is required: the why, kept in the audit log. For a reply,
	// an information request or a note it is the text itself; for
	// resolve and reject it is the note the filer sees.
	Reason string
	// LinkID is the link to suspend, reinstate, end, or propose ending.
	LinkID int64
	// AssigneeID is whom to assign the case to.
	AssigneeID int64
	// GuardianID is the guardian whose account to disable (or propose to).
	GuardianID int64
	// Proposal is the action an agent proposes (ActPropose).
	Proposal ProposalAction
	// ProposalID is the proposal a lead approves or declines.
	ProposalID int64
}

// Errors of case work. Each wraps a sentinel the error handler knows.
var (
	// ErrCaseClosed refuses an action on a resolved or rejected case.
	ErrCaseClosed = fmt.Errorf("%w: this case is closed; nothing more can be done on it", ErrConflict)
	// ErrCaseChanged means someone else changed the case since the author
	// opened it; nothing was done, and the case page shows what changed.
	ErrCaseChanged = fmt.Errorf("%w: this case changed since you opened it", ErrConflict)
	// ErrLeadOnly refuses an agent a lead-only action; the attempt is
	// audited.
	ErrLeadOnly = fmt.Errorf("%w: only a support lead may do this; propose it instead", ErrForbidden)
)

// Audit actions of case work.
const (
	ActionDisputeOpened    = "dispute.opened"
	ActionDisputeReplied   = "dispute.replied"
	ActionDisputeAssigned  = "dispute.assigned"
	ActionDisputeAsked     = "dispute.info_requested"
	ActionDisputeAnswered  = "dispute.filer_replied"
	ActionDisputeResolved  = "dispute.resolved"
	ActionDisputeRejected  = "dispute.rejected"
	ActionDisputeProposed  = "dispute.proposed"
	ActionDisputeApproved  = "dispute.proposal_approved"
	ActionDisputeDeclined  = "dispute.proposal_declined"
	ActionDisputeRefused   = "dispute.action_refused"
	ActionDisputeNote      = "dispute.note_added"
	ActionLinkSuspended    = "link.suspended"
	ActionLinkReinstated   = "link.reinstated"
	ActionAccountDisabled  = "account.disabled"
	ActionDisputeActed     = "dispute.action_taken"
	NotifyDisputeOpened    = "dispute.opened"
	NotifyDisputeUpdated   = "dispute.updated"
	NotifyLinkSuspended    = "link.suspended"
	NotifyLinkReinstated   = "link.reinstated"
	NotifyStaffDisputeWork = "dispute.staff"
)
