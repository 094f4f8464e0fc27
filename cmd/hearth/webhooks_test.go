package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hearth-safety/hearth/models/store"
)

func TestRun_clientSetWebhook(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("", "client", "create", "--name", "chat")
	if out := c.ok("", "client", "set-webhook", "--name", "chat", "--url", "https://chat.example/hearth"); !strings.Contains(out, "https://chat.example/hearth") {
		t.Errorf("set-webhook said:\n%s", out)
	}
	if list := c.ok("", "client", "list"); !strings.Contains(list, "https://chat.example/hearth") {
		t.Errorf("client list after set-webhook:\n%s", list)
	}
	c.fails("", []string{"client", "set-webhook", "--name", "chat", "--url", "ftp://chat.example"}, "webhook_url")
	c.fails("", []string{"client", "set-webhook", "--name", "chat"}, "--url")
	c.fails("", []string{"client", "set-webhook", "--name", "nobody", "--url", "https://x.example"}, "nobody")
	if out := c.ok("", "client", "set-webhook", "--name", "chat", "--url", ""); !strings.Contains(out, "off") {
		t.Errorf("turning webhooks off said:\n%s", out)
	}
	cs, err := c.store().Clients(context.Background())
	if err != nil || len(cs) != 1 || cs[0].WebhookURL != "" {
		t.Errorf("clients = %+v, %v; want the URL removed", cs, err)
	}
	c.ok("", "client", "revoke", "--name", "chat")
	c.fails("", []string{"client", "set-webhook", "--name", "chat", "--url", "https://x.example"}, "no active client")
}

func TestRun_clientDeliveries(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.ok("", "client", "create", "--name", "chat", "--webhook-url", "https://chat.example/hearth")
	if out := c.ok("", "client", "deliveries", "--name", "chat"); !strings.Contains(out, `No webhook deliveries for "chat" yet`) {
		t.Errorf("no deliveries:\n%s", out)
	}

	st := c.store()
	ctx := context.Background()
	cs, _ := st.Clients(ctx)
	teen, _, err := st.UpsertTeen(ctx, cs[0].ID, "tk_maya", store.TeenInput{DisplayName: "Maya", BirthMonth: "2012-06", TimeZone: "Europe/London"})
	if err != nil {
		t.Fatal(err)
	}
	created := time.Date(2026, 11, 27, 21, 30, 0, 0, time.UTC)
	for i, r := range []struct {
		state, typ, err string
		status          any
		attempts        int
		next            any
	}{
		{"delivered", "supervision.started", "", 200, 1, nil},
		{"failed", "policy.updated", "HTTP 410 (the receiver is gone: not retried)", 410, 1, nil},
		{"pending", "policy.updated", "no answer within 10s", nil, 2, created.Add(time.Minute)},
	} {
		if _, err := st.SQLDB().ExecContext(ctx, `INSERT INTO webhook_deliveries (client_id, teen_id, msg_id, event_type, payload, state,
			attempts, last_status, last_error, created_at, next_attempt_at, expires_at) VALUES (?, ?, ?, ?, '{}', ?, ?, ?, ?, ?, ?, ?)`,
			cs[0].ID, teen.ID, "msg_"+string(rune('a'+i)), r.typ, r.state, r.attempts, r.status, r.err,
			created.Add(time.Duration(i)*time.Second), r.next, created.Add(24*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}

	out := c.ok("", "client", "deliveries", "--name", "chat")
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "CREATED") || !strings.Contains(lines[0], "LAST ERROR") {
		t.Fatalf("deliveries table:\n%s", out)
	}
	for i, want := range [][]string{
		{"2026-11-27 21:30:02Z", "policy.updated", "tk_maya", "pending", "2", "no answer within 10s", "2026-11-27 21:31:00Z", "msg_c"},
		{"policy.updated", "failed", "410", "the receiver is gone", "msg_b"},
		{"supervision.started", "delivered", "200", "msg_a"},
	} {
		for _, w := range want {
			if !strings.Contains(lines[i+1], w) {
				t.Errorf("row %d %q lacks %q", i+1, lines[i+1], w)
			}
		}
	}
	out = c.ok("", "client", "deliveries", "--name", "chat", "--state", "failed")
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 2 || !strings.Contains(lines[1], "msg_b") {
		t.Errorf("--state failed:\n%s", out)
	}
	out = c.ok("", "client", "deliveries", "--name", "chat", "--limit", "1")
	if lines := strings.Split(strings.TrimSpace(out), "\n"); len(lines) != 2 || !strings.Contains(lines[1], "msg_c") {
		t.Errorf("--limit 1:\n%s", out)
	}
	if out := c.ok("", "client", "deliveries", "--name", "chat", "--state", "expired"); !strings.Contains(out, `No expired webhook deliveries for "chat"`) {
		t.Errorf("--state expired:\n%s", out)
	}
	c.fails("", []string{"client", "deliveries", "--name", "chat", "--state", "lost"}, "--state")
	c.fails("", []string{"client", "deliveries", "--name", "chat", "--limit", "0"}, "--limit")
	c.fails("", []string{"client", "deliveries", "--name", "nobody"}, "nobody")
	c.fails("", []string{"client", "deliveries"}, "--name")
}
