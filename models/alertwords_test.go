package models

import (
	"testing"
	"time"
)

func TestAlertWords(t *testing.T) {
	at := time.Date(2026, 11, 3, 23, 30, 0, 0, time.UTC)
	a := func(dir Direction, act Action, other string, cat Category) Alert {
		return Alert{Direction: dir, ActionTaken: act, CounterpartID: other, Category: cat, OccurredAt: at, LastOccurredAt: at, Occurrences: 1}
	}
	for _, tc := range []struct {
		alert             Alert
		guardian, receipt string
	}{
		{a(DirectionInbound, ActionMessageBlocked, "u_9", CategoryBullying),
			"A message to Maya from u_9 was blocked as bullying.",
			"Your guardians were told that a message to you from u_9 was blocked as bullying on 3 Nov."},
		{a(DirectionInbound, ActionSenderSuspended, "u_9", CategoryGrooming),
			"u_9's account was suspended after a message to Maya from u_9 was flagged as grooming.",
			"Your guardians were told that u_9's account was suspended after a message to you from u_9 was flagged as grooming on 3 Nov."},
		{a(DirectionOutbound, ActionSenderWarned, "u_9", CategoryHarassment),
			"Maya was warned after a message from Maya to u_9 was flagged as harassment.",
			"Your guardians were told that you were warned after a message from you to u_9 was flagged as harassment on 3 Nov."},
		{a(DirectionOutbound, ActionSenderRestricted, "u_9", CategoryHate),
			"Maya's account was restricted after a message from Maya to u_9 was flagged as hate.",
			"Your guardians were told that your account was restricted after a message from you to u_9 was flagged as hate on 3 Nov."},
		{a(DirectionInbound, ActionMessageHeld, "", CategoryScam),
			"A message to Maya from another account was held back as a scam.",
			"Your guardians were told that a message to you from another account was held back as a scam on 3 Nov."},
		{a(DirectionInbound, ActionNone, "u_9", CategorySelfHarm),
			"A message to Maya from u_9 was flagged as self-harm; the platform took no action.",
			"Your guardians were told that a message to you from u_9 was flagged as self-harm; the platform took no action on 3 Nov."},
	} {
		if got := AlertSentence(tc.alert, "Maya"); got != tc.guardian {
			t.Errorf("guardian:\n got %q\nwant %q", got, tc.guardian)
		}
		if got := AlertReceipt(tc.alert, time.UTC); got != tc.receipt {
			t.Errorf("teen:\n got %q\nwant %q", got, tc.receipt)
		}
	}
	// The teen's day is in their own zone: 23:30 UTC on 3 Nov is 4 Nov in Tokyo.
	tokyo, _ := time.LoadLocation("Asia/Tokyo")
	if got := AlertReceipt(a(DirectionInbound, ActionMessageBlocked, "u_9", CategorySpam), tokyo); got != "Your guardians were told that a message to you from u_9 was blocked as spam on 4 Nov." {
		t.Errorf("receipt in Tokyo = %q", got)
	}
	burst := a(DirectionInbound, ActionMessageBlocked, "u_9", CategorySpam)
	if BurstWords(burst) != "" {
		t.Error("a single alert has burst words")
	}
	burst.Occurrences, burst.LastOccurredAt = 3, at.Add(40*time.Minute)
	if got := BurstWords(burst); got != "3 times within an hour" {
		t.Errorf("burst = %q", got)
	}
	burst.LastOccurredAt = at.Add(150 * time.Minute)
	if got := BurstWords(burst); got != "3 times over 3 hours" {
		t.Errorf("long burst = %q", got)
	}
}

func TestAlertCursor(t *testing.T) {
	c := AlertCursor{At: time.Date(2026, 11, 3, 23, 30, 0, 123000, time.UTC), ID: 42}
	got, err := ParseAlertCursor(c.String())
	if err != nil || !got.At.Equal(c.At) || got.ID != 42 {
		t.Errorf("round trip = %+v, %v", got, err)
	}
	for _, bad := range []string{"", "x", "1.x", "1.0", "-1.5", "1"} {
		if _, err := ParseAlertCursor(bad); err == nil {
			t.Errorf("ParseAlertCursor(%q) succeeded", bad)
		}
	}
	if ws := WeekStart(time.Date(2026, 11, 29, 23, 0, 0, 0, time.UTC)); !ws.Equal(time.Date(2026, 11, 23, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("WeekStart(Sunday) = %v", ws)
	}
}
