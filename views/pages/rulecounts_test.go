package pages

import (
	"strings"
	"testing"
)

func TestRuleCounts(t *testing.T) {
	t.Parallel()
	sample := NewRuleCounts("Maya", 7, []RuleCountItem{
		// In rule order, as the store returns them.
		{Reason: "blocked_contact", Count: 1},
		{Reason: "approved_contact", Count: 6},
		{Reason: "not_friends", Count: 3},
		{Reason: "quiet_hours", Count: 12},
		{Reason: "allowed", Count: 1240},
		{Reason: "new_account", Count: 0},
	})

	t.Run("view", func(t *testing.T) {
		if sample.Total != 1262 {
			t.Errorf("Total = %d", sample.Total)
		}
		var got []string
		for _, it := range sample.Items {
			got = append(got, it.Sentence)
		}
		want := []string{
			"12 messages held for quiet hours",
			"3 sent to message requests: not friends",
			"1 refused: blocked contact",
			"1,240 delivered",
			"6 delivered from approved contacts",
		}
		if strings.Join(got, "|") != strings.Join(want, "|") {
			t.Errorf("items:\n got %q\nwant %q", got, want)
		}
	})

	t.Run("every_reason_has_words", func(t *testing.T) {
		for _, r := range []string{"allowed", "blocked_contact", "approved_contact", "dms_off", "approved_only",
			"adult_stranger", "media_restricted", "not_friends", "new_account", "quiet_hours"} {
			for _, n := range []int64{1, 2} {
				s := RuleCountSentence(r, n)
				if strings.Contains(s, "other") || strings.Contains(s, "_") {
					t.Errorf("%s: %q", r, s)
				}
			}
		}
		if s := RuleCountSentence("quiet_hours", 1); s != "1 message held for quiet hours" {
			t.Errorf("singular: %q", s)
		}
		if s := RuleCountSentence("future_rule", 2); s != "2 other (future rule)" {
			t.Errorf("unknown reason: %q", s)
		}
	})

	t.Run("on_the_messages_page", func(t *testing.T) {
		p := sampleMessages(MessagesViewerGuardian, MessagesModeEdit)
		p.RuleCounts = &sample
		doc := render(t, Messages(p))
		card := doc.Find(".rule-counts")
		if card.Length() != 1 {
			t.Fatalf("%d cards", card.Length())
		}
		got := text(card)
		for _, s := range []string{"Last 7 days", "What Maya's rules did with 1,262 messages in the last 7 days",
			"12 messages held for quiet hours", "1,240 delivered", "Counts only."} {
			if !strings.Contains(got, s) {
				t.Errorf("card %q lacks %q", got, s)
			}
		}
		if n := card.Find(".rule-counts-list li").Length(); n != 3 {
			t.Errorf("%d held-back items, want 3", n)
		}
		if n := card.Find(".rule-counts-delivered li").Length(); n != 2 {
			t.Errorf("%d delivered items, want 2", n)
		}
		// Without counts the page has no card.
		if render(t, Messages(sampleMessages(MessagesViewerGuardian, MessagesModeEdit))).Find(".rule-counts").Length() != 0 {
			t.Error("card shown without counts")
		}
	})

	t.Run("teen_and_empty", func(t *testing.T) {
		p := sampleMessages(MessagesViewerTeen, MessagesModeTighten)
		empty := NewRuleCounts("you", 7, nil)
		p.RuleCounts = &empty
		got := text(render(t, Messages(p)).Find(".rule-counts"))
		if !strings.Contains(got, "No messages to or from you were checked in the last 7 days.") {
			t.Errorf("teen's empty card: %q", got)
		}
		onlyDelivered := NewRuleCounts("you", 7, []RuleCountItem{{Reason: "allowed", Count: 1}})
		p.RuleCounts = &onlyDelivered
		got = text(render(t, Messages(p)).Find(".rule-counts"))
		for _, s := range []string{"What your rules did with 1 message in the last 7 days", "None were held, sent to requests or refused.", "1 delivered"} {
			if !strings.Contains(got, s) {
				t.Errorf("card %q lacks %q", got, s)
			}
		}
	})

	t.Run("on_the_guardian_teen_page", func(t *testing.T) {
		p := sampleGuardianTeen()
		p.RuleCounts = &sample
		doc := render(t, GuardianTeen(p))
		if got := text(doc.Find(".rule-counts")); !strings.Contains(got, "3 sent to message requests: not friends") {
			t.Errorf("card: %q", got)
		}
	})
}
