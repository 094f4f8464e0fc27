package mail

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
)

func TestDevMailbox_Send(t *testing.T) {
	t.Parallel()

	t.Run("keeps_and_logs_the_message", func(t *testing.T) {
		t.Parallel()
		var buf bytes.Buffer
		box := NewDevMailbox(slog.New(slog.NewJSONHandler(&buf, nil)))
		if err := box.Send(t.Context(), testMessage); err != nil {
			t.Fatal(err)
		}
		got := box.Messages()
		if len(got) != 1 {
			t.Fatalf("Messages() has %d messages, want 1", len(got))
		}
		if got[0].To != testMessage.To || got[0].Subject != testMessage.Subject || got[0].Body != testMessage.Text || got[0].SentAt.IsZero() {
			t.Errorf("kept %+v, want %+v with a SentAt", got[0], testMessage)
		}
		log := buf.String()
		for _, want := range []string{`"level":"INFO"`, testMessage.To, "password/reset/k9Zq"} {
			if !strings.Contains(log, want) {
				t.Errorf("log %s does not contain %q", log, want)
			}
		}
	})

	t.Run("keeps_the_last_100_newest_first", func(t *testing.T) {
		t.Parallel()
		box := NewDevMailbox(slog.New(slog.DiscardHandler))
		for i := range 130 {
			m := Message{To: fmt.Sprintf("p%d@example.com", i), Subject: "s", Text: "t"}
			if err := box.Send(t.Context(), m); err != nil {
				t.Fatal(err)
			}
		}
		got := box.Messages()
		if len(got) != 100 {
			t.Fatalf("Messages() has %d messages, want 100", len(got))
		}
		if got[0].To != "p129@example.com" || got[99].To != "p30@example.com" {
			t.Errorf("first %q last %q, want p129 … p30", got[0].To, got[99].To)
		}
	})

	t.Run("refuses_invalid_messages_and_ended_contexts", func(t *testing.T) {
		t.Parallel()
		box := NewDevMailbox(slog.New(slog.DiscardHandler))
		if err := box.Send(t.Context(), Message{To: "nobody", Subject: "s", Text: "t"}); err == nil {
			t.Error("Send accepted an invalid recipient")
		}
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if err := box.Send(ctx, testMessage); err == nil {
			t.Error("Send accepted an ended context")
		}
		if n := len(box.Messages()); n != 0 {
			t.Errorf("kept %d messages, want 0", n)
		}
	})

	t.Run("is_safe_for_concurrent_use", func(t *testing.T) {
		t.Parallel()
		box := NewDevMailbox(slog.New(slog.DiscardHandler))
		var wg sync.WaitGroup
		for i := range 8 {
			wg.Go(func() {
				for j := range 50 {
					_ = box.Send(t.Context(), Message{To: fmt.Sprintf("p%d-%d@example.com", i, j), Subject: "s", Text: "t"})
					_ = box.Messages()
				}
			})
		}
		wg.Wait()
		if n := len(box.Messages()); n != 100 {
			t.Errorf("kept %d messages, want 100", n)
		}
	})
}

func TestMessage_Validate(t *testing.T) {
	t.Parallel()
	ok := Message{To: "parent@example.com", Subject: "Hello", Text: "Body"}
	if err := ok.Validate(); err != nil {
		t.Fatalf("valid message: %v", err)
	}
	cases := map[string]func(m *Message){
		"no_recipient":        func(m *Message) { m.To = "" },
		"not_an_address":      func(m *Message) { m.To = "parent" },
		"display_name":        func(m *Message) { m.To = "Parent <parent@example.com>" },
		"two_recipients":      func(m *Message) { m.To = "a@example.com, b@example.com" },
		"header_injection_to": func(m *Message) { m.To = "a@example.com\r\nBcc: b@example.com" },
		"no_subject":          func(m *Message) { m.Subject = " " },
		"subject_with_lf":     func(m *Message) { m.Subject = "a\nb" },
		"subject_too_long":    func(m *Message) { m.Subject = strings.Repeat("a", 251) },
		"no_text":             func(m *Message) { m.Text = "" },
		"text_too_long":       func(m *Message) { m.Text = strings.Repeat("a", 64<<10+1) },
	}
	for name, mutate := range cases {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			m := ok
			mutate(&m)
			err := m.Validate()
			if err == nil {
				t.Fatalf("Validate(%+v) = nil", m)
			}
			if m.To != "" && strings.Contains(err.Error(), m.To) {
				t.Errorf("error quotes the recipient: %v", err)
			}
		})
	}
	if d := (Message{To: "Parent@Example.COM"}).RecipientDomain(); d != "example.com" {
		t.Errorf("RecipientDomain() = %q, want example.com", d)
	}
}
