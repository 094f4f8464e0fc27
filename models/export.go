package models

import (
	"encoding/json"
	"time"
)

// The export formats. A field may be added within a version; renaming or
// removing one, or changing its meaning, makes a new version.
const (
	GuardianExportFormat = "hearth.guardian-export.v1"
	TeenExportFormat     = "hearth.teen-export.v1"
)

// GuardianExport is everything Hearth keeps about a guardian, as they may
// see it, for the JSON download at /account/export.json. It holds no
// password hash, session, token or invitation code.
type GuardianExport struct {
	Format     string        `json:"format"`
	ExportedAt time.Time     `json:"exported_at"`
	Account    ExportAccount `json:"account"`
	// Links are every supervision the guardian has or had, newest first.
	Links       []ExportLink       `json:"links"`
	Invitations []ExportInvitation `json:"invitations"`
	// Teens are the teens the guardian supervises now (an active link),
	// with what the guardian can see about each.
	Teens            []ExportGuardianTeen   `json:"teens"`
	Notifications    []ExportNotification   `json:"notifications"`
	AlertPreferences ExportAlertPreferences `json:"alert_preferences"`
}

// TeenExport is everything Hearth keeps about a teen, for the JSON
// download at /teen/export.json.
type TeenExport struct {
	Format     string            `json:"format"`
	ExportedAt time.Time         `json:"exported_at"`
	Account    ExportTeenAccount `json:"account"`
	// Guardians are every supervision of the teen, current and ended,
	// newest first.
	Guardians     []ExportLink         `json:"guardians"`
	Policy        *ExportPolicy        `json:"policy"`
	Requests      []ExportRequest      `json:"requests"`
	Alerts        []ExportAlert        `json:"alerts"`
	Activity      []ExportAuditEntry   `json:"activity"`
	RuleCounts    []ExportRuleCount    `json:"rule_counts"`
	Notifications []ExportNotification `json:"notifications"`
}

// ExportAccount is a guardian's account.
type ExportAccount struct {
	Name            string     `json:"name"`
	Email           string     `json:"email"`
	Role            string     `json:"role"`
	EmailVerifiedAt *time.Time `json:"email_verified_at"`
	CreatedAt       time.Time  `json:"created_at"`
}

// ExportTeenAccount is a teen's account as the messaging service
// provisioned it.
type ExportTeenAccount struct {
	DisplayName    string    `json:"display_name"`
	PlatformUserID string    `json:"platform_user_id"`
	BirthMonth     string    `json:"birth_month"`
	TimeZone       string    `json:"time_zone"`
	CreatedAt      time.Time `json:"created_at"`
}

// ExportLink is one supervision, from either side.
type ExportLink struct {
	TeenName      string     `json:"teen"`
	GuardianName  string     `json:"guardian"`
	GuardianEmail string     `json:"guardian_email,omitempty"`
	State         string     `json:"state"`
	Since         time.Time  `json:"since"`
	EndedAt       *time.Time `json:"ended_at,omitempty"`
	EndReason     string     `json:"end_reason,omitempty"`
}

// ExportInvitation is one invitation a guardian sent.
type ExportInvitation struct {
	Label      string     `json:"label"`
	State      string     `json:"state"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  time.Time  `json:"expires_at"`
	AnsweredAt *time.Time `json:"answered_at,omitempty"`
	TeenName   string     `json:"teen,omitempty"`
}

// ExportGuardianTeen is one supervised teen in a guardian's export.
type ExportGuardianTeen struct {
	Name       string             `json:"name"`
	Age        int                `json:"age"`
	Policy     *ExportPolicy      `json:"policy"`
	Requests   []ExportRequest    `json:"requests"`
	Alerts     []ExportAlert      `json:"alerts"`
	Audit      []ExportAuditEntry `json:"audit"`
	RuleCounts []ExportRuleCount  `json:"rule_counts"`
}

// ExportPolicy is a teen's DM rules.
type ExportPolicy struct {
	Version       int64       `json:"version"`
	Rules         PolicyRules `json:"rules"`
	UpdatedAt     time.Time   `json:"updated_at"`
	UpdatedByName string      `json:"updated_by"`
	RevertAt      *time.Time  `json:"revert_at,omitempty"`
}

// ExportRequest is a teen's request to their guardians.
type ExportRequest struct {
	Kind         string          `json:"kind"`
	State        string          `json:"state"`
	Reason       string          `json:"reason,omitempty"`
	Details      json.RawMessage `json:"details,omitempty"`
	Guardian     string          `json:"guardian,omitempty"`
	CreatedAt    time.Time       `json:"created_at"`
	DecidedAt    *time.Time      `json:"decided_at,omitempty"`
	DecisionNote string          `json:"decision_note,omitempty"`
	ExpiresAt    *time.Time      `json:"expires_at,omitempty"`
}

// ExportAlert is a moderation alert: categories and IDs, never content.
// Read and ReadAt are the exporting guardian's own acknowledgement (absent
// in a teen's export).
type ExportAlert struct {
	CounterpartID  string     `json:"counterpart_id"`
	Direction      string     `json:"direction"`
	Category       string     `json:"category"`
	Severity       string     `json:"severity"`
	ActionTaken    string     `json:"action_taken"`
	OccurredAt     time.Time  `json:"occurred_at"`
	LastOccurredAt time.Time  `json:"last_occurred_at"`
	Occurrences    int        `json:"occurrences"`
	NotUseful      bool       `json:"marked_not_useful"`
	Read           *bool      `json:"read,omitempty"`
	ReadAt         *time.Time `json:"read_at,omitempty"`
}

// ExportAuditEntry is one entry of a teen's activity log.
type ExportAuditEntry struct {
	At        time.Time       `json:"at"`
	Actor     string          `json:"actor"`
	ActorRole string          `json:"actor_role"`
	Action    string          `json:"action"`
	Reason    string          `json:"reason,omitempty"`
	Before    json.RawMessage `json:"before,omitempty"`
	After     json.RawMessage `json:"after,omitempty"`
}

// ExportRuleCount is how many DMs one rule acted on over the kept days.
type ExportRuleCount struct {
	Reason string `json:"reason"`
	Count  int64  `json:"count"`
	Days   int    `json:"days"`
}

// ExportNotification is one in-app notification.
type ExportNotification struct {
	Kind      string     `json:"kind"`
	Message   string     `json:"message"`
	CreatedAt time.Time  `json:"created_at"`
	ReadAt    *time.Time `json:"read_at,omitempty"`
}

// ExportAlertPreferences is a guardian's alert email choices: per
// category, the lowest severity emailed at once ("never": digest only),
// and whether the weekly digest is wanted.
type ExportAlertPreferences struct {
	ImmediateFrom map[string]string `json:"immediate_from"`
	WeeklyDigest  bool              `json:"weekly_digest"`
}
