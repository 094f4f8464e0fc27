package models

import (
	"strconv"
	"strings"
	"time"
)

// The words alerts are told in. Guardians and the teen read the same facts
// in the same sentence, only the subject changes: "a message to Maya from
// u_9 was blocked as bullying" for guardians, "a message to you from u_9 was
// blocked as bullying" for the teen. Nothing here ever says what a message
// said: there is nothing to say it with.

// As is the category as the end of "blocked as …": "as bullying", "as a
// scam", "as another concern".
func (c Category) As() string {
	switch c {
	case CategoryScam:
		return "as a scam"
	}
	return "as " + c.Label()
}

// Label is the action in a few words for a badge: "Message blocked".
func (a Action) Label() string {
	switch a {
	case ActionMessageBlocked:
		return "Message blocked"
	case ActionMessageHeld:
		return "Message held"
	case ActionSenderWarned:
		return "Sender warned"
	case ActionSenderRestricted:
		return "Sender restricted"
	case ActionSenderSuspended:
		return "Sender suspended"
	}
	return "No action taken"
}

// Label is the severity for a badge: "High".
func (s Severity) Label() string {
	if s == "" {
		return ""
	}
	return strings.ToUpper(string(s[:1])) + string(s[1:])
}

// AlertWhat says what happened, as a clause without a capital or full
// stop: "a message to Maya from u_9 was blocked as bullying". teen is how
// the teen is named: their display name for guardians, "you" for the teen
// themself (who reads "your account" and "you were warned").
func AlertWhat(a Alert, teen string) string {
	you := teen == "you"
	other := "another account"
	if a.CounterpartID != "" {
		other = a.CounterpartID
	}
	as := a.Category.As()
	if a.Direction == DirectionOutbound {
		// The teen sent it: any action against the sender is against them.
		sender, senders := teen, possessiveOf(teen)
		if you {
			sender, senders = "you", "your"
		}
		msg := "a message from " + teen + " to " + other
		switch a.ActionTaken {
		case ActionMessageBlocked:
			return msg + " was blocked " + as
		case ActionMessageHeld:
			return msg + " was held back " + as
		case ActionSenderWarned:
			return sender + " " + wasWere(you) + " warned after " + msg + " was flagged " + as
		case ActionSenderRestricted:
			return senders + " account was restricted after " + msg + " was flagged " + as
		case ActionSenderSuspended:
			return senders + " account was suspended after " + msg + " was flagged " + as
		}
		return msg + " was flagged " + as + "; the platform took no action"
	}
	msg := "a message to " + teen + " from " + other
	switch a.ActionTaken {
	case ActionMessageBlocked:
		return msg + " was blocked " + as
	case ActionMessageHeld:
		return msg + " was held back " + as
	case ActionSenderWarned:
		return other + " was warned after " + msg + " was flagged " + as
	case ActionSenderRestricted:
		return possessiveOf(other) + " account was restricted after " + msg + " was flagged " + as
	case ActionSenderSuspended:
		return possessiveOf(other) + " account was suspended after " + msg + " was flagged " + as
	}
	return msg + " was flagged " + as + "; the platform took no action"
}

// AlertSentence is the guardian's line for an alert: AlertWhat with a
// capital and a full stop.
func AlertSentence(a Alert, teenName string) string {
	what := AlertWhat(a, teenName)
	if a.CounterpartID != "" && strings.HasPrefix(what, a.CounterpartID) {
		return what + "." // a platform ID keeps its own spelling
	}
	return capitalFirst(what) + "."
}

// AlertReceipt is the teen's line for an alert their guardians can see:
// "Your guardians were told that a message to you from u_9 was blocked as
// bullying on 3 Nov." The day is in loc, the teen's own zone.
func AlertReceipt(a Alert, loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	return "Your guardians were told that " + AlertWhat(a, "you") + " on " + a.OccurredAt.In(loc).Format("2 Jan") + "."
}

// BurstWords says how often a grouped alert happened: "" for once, "3 times
// within an hour", "5 times over 3 hours".
func BurstWords(a Alert) string {
	if a.Occurrences <= 1 {
		return ""
	}
	n := strconv.Itoa(a.Occurrences) + " times"
	span := a.LastOccurredAt.Sub(a.OccurredAt)
	if span <= time.Hour {
		return n + " within an hour"
	}
	hours := int((span + time.Hour - 1) / time.Hour)
	return n + " over " + strconv.Itoa(hours) + " hours"
}

func wasWere(you bool) string {
	if you {
		return "were"
	}
	return "was"
}

// possessiveOf returns "Maya's", "James'", or "your" for "you".
func possessiveOf(name string) string {
	switch {
	case name == "you":
		return "your"
	case strings.HasSuffix(name, "s"):
		return name + "'"
	}
	return name + "'s"
}

func capitalFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
