package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hearth-safety/hearth/client"
)

const (
	testKey    = "hk_example_key_0123456789abcdefghijklmn"
	testSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
)

// fakeHearth answers the hook API the way the demo world would: one answer
// per example DM, chosen by sender, so that every branch of the send path
// runs.
func fakeHearth(t *testing.T) (*httptest.Server, *[]string) {
	var mu sync.Mutex
	var seen []string
	mux := http.NewServeMux()
	reply := func(w http.ResponseWriter, status int, body string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		fmt.Fprint(w, body)
	}
	mux.HandleFunc("PUT /api/v1/teens/{id}", func(w http.ResponseWriter, r *http.Request) { reply(w, 201, `{}`) })
	mux.HandleFunc("POST /api/v1/teens/{id}/signin-links", func(w http.ResponseWriter, r *http.Request) {
		reply(w, 201, `{"url":"http://hearth.test/t/signin/tok","expires_at":"2026-11-27T21:40:00Z"}`)
	})
	mux.HandleFunc("GET /api/v1/teens/{id}/policy", func(w http.ResponseWriter, r *http.Request) {
		reply(w, 200, `{"version":42,"audience":"friends","quiet_hours":{"start":"21:30","end":"07:00","approved_exempt":true},
			"block_adult_strangers":true,"media_friends_only":true,"min_sender_account_age_days":0,
			"approved_contacts":[{"id":"u_grandma","label":"Grandma"}],"blocked_contacts":[{"id":"u_stranger9","label":""}]}`)
	})
	mux.HandleFunc("POST /api/v1/dm/check", func(w http.ResponseWriter, r *http.Request) {
		var req map[string]any
		json.NewDecoder(r.Body).Decode(&req)
		mu.Lock()
		seen = append(seen, fmt.Sprint(req["sender_id"], " v", req["min_policy_version"]))
		mu.Unlock()
		switch req["sender_id"] {
		case "u_grandma":
			reply(w, 200, `{"decision":"allow","reason":"approved_contact","decided_by":"recipient","policy_version":42}`)
		case "u_example_classmate":
			reply(w, 200, `{"decision":"hold","reason":"quiet_hours","decided_by":"recipient","policy_version":42,"hold_until":"2026-11-28T07:00:00Z"}`)
		case "u_example_newkid":
			reply(w, 200, `{"decision":"request","reason":"not_friends","decided_by":"recipient","policy_version":42}`)
		case "u_example_adult":
			reply(w, 200, `{"decision":"deny","reason":"adult_stranger","decided_by":"recipient","policy_version":42}`)
		default:
			w.WriteHeader(http.StatusServiceUnavailable)
		}
	})
	mux.HandleFunc("POST /api/v1/moderation/events", func(w http.ResponseWriter, r *http.Request) {
		var body bytes.Buffer
		body.ReadFrom(r.Body)
		if err := client.VerifyWebhook(testSecret, r.Header, body.Bytes(), time.Now()); err != nil {
			t.Errorf("event report not signed: %v", err)
		}
		if strings.Contains(body.String(), "message #") {
			t.Errorf("a message placeholder reached Hearth: %s", body.String())
		}
		reply(w, 202, `{"accepted":1,"duplicates":0,"ignored":0}`)
	})
	mux.HandleFunc("DELETE /api/v1/teens/{id}", func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv, &seen
}

func noEnv(string) string { return "" }

func TestRun_send_path(t *testing.T) {
	srv, seen := fakeHearth(t)
	var out bytes.Buffer
	if err := run(context.Background(), []string{"-url", srv.URL, "-key", testKey, "-secret", testSecret, "-delete"}, noEnv, &out); err != nil {
		t.Fatalf("run: %v\n%s", err, out.String())
	}
	for _, want := range []string{
		"provisioned tk_example (created: true)",
		"http://hearth.test/t/signin/tok",
		"rules of tk_maya (v42): audience friends, quiet hours 21:30–07:00",
		"message #1 from u_grandma to tk_maya: allow approved_contact → delivered",
		"message #2 from u_example_classmate to tk_maya: hold quiet_hours → scheduled for 2026-11-28T07:00:00Z",
		"message #3 from u_example_newkid to tk_maya: request not_friends → put in the message-request folder",
		"message #4 from u_example_adult to tk_maya: deny adult_stranger → refused",
		"message #5 from u_stranger9 to tk_maya: hold supervision_unavailable → kept; will be checked again",
		"moderation event reported: 1 accepted",
		"deprovisioned tk_example",
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, out.String())
		}
	}
	// The policy read told the service which version to ask for.
	for _, s := range *seen {
		if !strings.HasSuffix(s, " v42") {
			t.Errorf("check %q did not ask for policy version 42", s)
		}
	}
}

func TestRun_hearth_not_running(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	var out bytes.Buffer
	err := run(context.Background(), []string{"-url", url, "-key", testKey}, noEnv, &out)
	if err == nil || !strings.Contains(err.Error(), "cannot reach Hearth at "+url+"; is it running?") {
		t.Errorf("error %v, want advice to start Hearth", err)
	}
}

func TestRun_bad_key_and_no_key(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(401)
		fmt.Fprint(w, `{"type":"https://hearth.dev/problems/unauthorized","title":"A valid API key is required","status":401}`)
	}))
	defer srv.Close()
	var out bytes.Buffer
	if err := run(context.Background(), []string{"-url", srv.URL, "-key", "wrong"}, noEnv, &out); err == nil || !strings.Contains(err.Error(), "API key was refused") {
		t.Errorf("error %v, want the key named", err)
	}
	if err := run(context.Background(), []string{"-url", srv.URL}, noEnv, &out); err == nil || !strings.Contains(err.Error(), "no API key") {
		t.Errorf("error %v, want the missing key named", err)
	}
}

func TestWebhookHandler(t *testing.T) {
	var out bytes.Buffer
	s := &service{out: &out, minVersion: map[string]int64{}}
	h := s.webhookHandler(testSecret)
	deliver := func(id, body string, sign bool) int {
		r := httptest.NewRequest(http.MethodPost, "/hearth/webhooks", strings.NewReader(body))
		if sign {
			now := time.Now()
			sig, _ := client.Sign(testSecret, id, now, []byte(body))
			r.Header.Set("webhook-id", id)
			r.Header.Set("webhook-timestamp", fmt.Sprint(now.Unix()))
			r.Header.Set("webhook-signature", sig)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	const updated = `{"type":"policy.updated","timestamp":"2026-11-27T21:30:00Z","data":{"teen_id":"tk_maya","version":43}}`
	if code := deliver("msg_1", updated, true); code != 204 {
		t.Errorf("genuine webhook answered %d", code)
	}
	if s.minVersion["tk_maya"] != 43 {
		t.Errorf("min version %d after policy.updated to 43", s.minVersion["tk_maya"])
	}
	if code := deliver("msg_1", updated, true); code != 204 {
		t.Errorf("a retried delivery answered %d", code)
	}
	if code := deliver("msg_2", `{"type":"policy.updated","timestamp":"2026-11-27T21:30:00Z","data":{"teen_id":"tk_maya","version":99}}`, false); code != 400 {
		t.Errorf("unsigned webhook answered %d", code)
	}
	if s.minVersion["tk_maya"] != 43 {
		t.Errorf("an unsigned webhook changed the min version to %d", s.minVersion["tk_maya"])
	}
}
