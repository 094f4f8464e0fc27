package models

import "github.com/hearth-safety/hearth/policy"

// Rule counts are Hearth's proof that a teen's rules work: per teen, per day
// (in the teen's time zone) and per reason, how many DM checks that teen's
// policy decided. They are totals only. Nothing records who sent a message,
// to whom, or what it said, so a count can never be traced back to a
// conversation.

// RuleCountDays is how many days the "what the rules did" card covers.
const RuleCountDays = 7

// RuleCountRetentionDays is how long daily totals are kept.
const RuleCountRetentionDays = 90

// RuleCount is how many DMs one rule acted on for a teen over some days.
type RuleCount struct {
	Reason policy.Reason
	Count  int64
}

// RuleCountDelta is what one node counted for one teen, day and reason
// since its last flush. The teen is named as the messaging service knows
// them (client and platform user ID); the store resolves the teen.
type RuleCountDelta struct {
	ClientID       int64
	PlatformUserID string
	// Day is the teen's local date, "YYYY-MM-DD".
	Day    string
	Reason policy.Reason
	Count  int64
}

// CountsForTeen reports whether a DM decision belongs in the decided teen's
// rule counts: only decisions a supervised teen's own policy made. Answers
// about unsupervised people (not_supervised) and Hearth's own failures
// (supervision_unavailable) are not the teen's rules at work.
func CountsForTeen(r policy.Result) bool {
	if r.DecidedBy != policy.DecidedByRecipient && r.DecidedBy != policy.DecidedBySender {
		return false
	}
	return r.Reason != policy.ReasonNotSupervised && r.Reason != policy.ReasonSupervisionUnavailable
}
