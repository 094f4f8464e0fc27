package client_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/hearth-safety/hearth/client"
	"github.com/hearth-safety/hearth/policy"
)

// A messaging service's send path asks Hearth about each DM and acts on the
// answer. When Hearth is down, the answer is a hold: the message waits and
// nothing slips past the teen's rules.
func Example() {
	// A Hearth that has gone away: its address refuses connections.
	gone := httptest.NewServer(http.NotFoundHandler())
	gone.Close()

	hc, err := client.New(client.Config{BaseURL: gone.URL, APIKey: "hk_example_key_0123456789abcdefghijk"})
	if err != nil {
		panic(err)
	}
	res, err := hc.CheckDM(context.Background(), client.CheckRequest{
		SenderID:    "u_1",
		RecipientID: "tk_maya",
		Context:     policy.Context{MutualFollow: new(false), SenderIsAdult: new(true)},
	})
	if err != nil {
		// Log it; res is already safe to act on.
		fmt.Println("Hearth unavailable:", errors.Is(err, client.ErrUnavailable))
	}
	switch res.Decision {
	case policy.Allow:
		fmt.Println("deliver message #1")
	case policy.Request:
		fmt.Println("put message #1 in the message-request folder")
	case policy.Hold:
		if res.HoldUntil.IsZero() {
			fmt.Println("keep message #1 and check again later:", res.Reason)
		} else {
			fmt.Println("deliver message #1 at", res.HoldUntil.Format(time.RFC3339))
		}
	default:
		fmt.Println("refuse message #1:", res.Reason)
	}
	// Output:
	// Hearth unavailable: true
	// keep message #1 and check again later: supervision_unavailable
}

// Maya has quiet hours until 07:00 London time, so Hearth holds a DM sent
// at night until then.
func ExampleClient_CheckDM() {
	hearth := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"decision":"hold","reason":"quiet_hours","decided_by":"recipient","policy_version":42,"hold_until":"2026-11-28T07:00:00Z"}`)
	}))
	defer hearth.Close()

	hc, _ := client.New(client.Config{BaseURL: hearth.URL, APIKey: "hk_example_key_0123456789abcdefghijk"})
	res, err := hc.CheckDM(context.Background(), client.CheckRequest{
		SenderID:    "u_friend",
		RecipientID: "tk_maya",
		SentAt:      time.Date(2026, 11, 27, 23, 0, 0, 0, time.UTC),
		Context:     policy.Context{MutualFollow: new(true), SenderIsAdult: new(false), HasMedia: new(false), HasLink: new(false)},
	})
	fmt.Println(res, err)
	// Output: hold quiet_hours by recipient v42 until 2026-11-28T07:00:00Z <nil>
}

// A webhook receiver verifies before it decodes, with the client's secret.
func ExampleParseWebhook() {
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hook, err := client.ParseWebhook(secret, r, time.Now())
		switch {
		case errors.Is(err, client.ErrInvalidWebhook):
			http.Error(w, "not a webhook from Hearth", http.StatusBadRequest)
			return
		case err != nil:
			http.Error(w, "cannot verify webhooks", http.StatusInternalServerError)
			return
		}
		fmt.Println("received", hook.Type, string(hook.Data))
		w.WriteHeader(http.StatusNoContent)
	})

	body := `{"type":"supervision.started","timestamp":"2026-11-27T21:30:00Z","data":{"teen_id":"tk_maya"}}`
	now := time.Now()
	sig, _ := client.Sign(secret, "msg_1", now, []byte(body))
	r := httptest.NewRequest(http.MethodPost, "/hearth/webhooks", strings.NewReader(body))
	r.Header.Set("webhook-id", "msg_1")
	r.Header.Set("webhook-timestamp", fmt.Sprint(now.Unix()))
	r.Header.Set("webhook-signature", sig)
	w := httptest.NewRecorder()
	handler.ServeHTTP(w, r)
	fmt.Println(w.Code)

	forged := httptest.NewRequest(http.MethodPost, "/hearth/webhooks", strings.NewReader(body))
	w = httptest.NewRecorder()
	handler.ServeHTTP(w, forged)
	fmt.Println(w.Code)
	// Output:
	// received supervision.started {"teen_id":"tk_maya"}
	// 204
	// 400
}
