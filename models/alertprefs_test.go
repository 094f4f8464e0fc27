package models

import (
	"testing"
	"time"
)

func TestDigestSlot(t *testing.T) {
	monday := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		now  time.Time
		want time.Time
	}{
		{monday, monday},
		{monday.Add(-time.Nanosecond), monday.AddDate(0, 0, -7)},
		{monday.Add(time.Hour), monday},
		{time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC), monday.AddDate(0, 0, -7)}, // Friday
		{time.Date(2026, 12, 6, 23, 59, 0, 0, time.UTC), monday},                   // Sunday
		{time.Date(2026, 12, 7, 7, 0, 0, 0, time.FixedZone("X", 2*3600)), monday},  // Monday 05:00 UTC
	} {
		if got := DigestSlot(c.now); !got.Equal(c.want) {
			t.Errorf("DigestSlot(%v) = %v, want %v", c.now, got, c.want)
		}
	}
}

func TestAlertPreferences_Validate(t *testing.T) {
	ok := DefaultAlertPreferences()
	ok.Immediate[CategorySpam] = ImmediateNever
	if err := ok.Validate(); err != nil {
		t.Errorf("valid preferences: %v", err)
	}
	bad := AlertPreferences{Immediate: map[Category]ImmediateFrom{CategorySpam: "often", "gossip": ImmediateFromLow}}
	err, _ := bad.Validate().(*ValidationError)
	if err == nil || len(err.Errors) != 2 {
		t.Errorf("two bad entries: %v", bad.Validate())
	}
	if got := (AlertPreferences{}).For(CategoryHate); got != ImmediateFromHigh {
		t.Errorf("no choice reads as %q, want high", got)
	}
}
