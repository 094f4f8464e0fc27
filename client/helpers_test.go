package client_test

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/hearth-safety/hearth/client"
	"github.com/hearth-safety/hearth/policy"
)

// The Standard Webhooks test vector, from the specification's own tests.
const (
	vectorSecret    = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vectorID        = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vectorTimestamp = 1614265330
	vectorBody      = `{"test": 2432232314}`
	vectorSignature = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

const testKey = "hk_test_key_0123456789abcdefghijklmnop"

// received is one request as the fake Hearth saw it.
type received struct {
	Method string
	Path   string
	Header http.Header
	Body   []byte
}

// fakeHearth is the far side of the hook API: an httptest server whose
// answers each test chooses, recording every request it gets.
type fakeHearth struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []received
}

// newFake starts a fake Hearth that answers with h, the n-th request (from
// 0) getting h(w, r, n).
func newFake(t *testing.T, h func(w http.ResponseWriter, r *http.Request, n int)) *fakeHearth {
	t.Helper()
	f := &fakeHearth{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		n := len(f.reqs)
		f.reqs = append(f.reqs, received{Method: r.Method, Path: r.URL.EscapedPath(), Header: r.Header.Clone(), Body: body})
		f.mu.Unlock()
		r.Body = io.NopCloser(bytes.NewReader(body))
		h(w, r, n)
	}))
	t.Cleanup(f.Close)
	return f
}

// requests returns what the fake received so far.
func (f *fakeHearth) requests() []received {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]received(nil), f.reqs...)
}

// only returns the one request the fake received, failing otherwise.
func (f *fakeHearth) only(t *testing.T) received {
	t.Helper()
	reqs := f.requests()
	if len(reqs) != 1 {
		t.Fatalf("Hearth got %d requests, want 1", len(reqs))
	}
	return reqs[0]
}

// newClient returns a client for url with cfg's other settings. A zero
// CheckTimeout becomes 400ms rather than the SDK's 150ms, so that a test
// expecting Hearth's answer does not fail closed because this shared
// machine was busy; it stays under the liveness bound, so that fail-closed
// tests still prove the check gives up in time. TestCheckDM_default_budget
// covers the default itself.
func newClient(t *testing.T, url string, cfg client.Config) *client.Client {
	t.Helper()
	cfg.BaseURL = url
	if cfg.APIKey == "" {
		cfg.APIKey = testKey
	}
	if cfg.CheckTimeout == 0 {
		cfg.CheckTimeout = 400 * time.Millisecond
	}
	c, err := client.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return c
}

// answer writes a JSON answer.
func answer(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

// problem writes a problem+json answer as Hearth does.
func problem(w http.ResponseWriter, status int, kind, title string, fields ...client.FieldError) {
	b, _ := json.Marshal(map[string]any{
		"type": "https://hearth.dev/problems/" + kind, "title": title, "status": status,
		"detail": title + ".", "errors": fields,
	})
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	w.Write(b)
}

// hang answers only when the client gives up (or after 10 s, which fails
// the liveness bounds of the tests that use it).
func hang(w http.ResponseWriter, r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-time.After(10 * time.Second):
	}
}

// dropConnection closes the connection without answering, as a crashed or
// restarting Hearth does.
func dropConnection(t *testing.T, w http.ResponseWriter) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		t.Errorf("hijack: %v", err)
		return
	}
	conn.Close()
}

// downURL returns the address of a Hearth that is not running: a listener
// that was opened and closed again, so connections are refused.
func downURL(t *testing.T) string {
	srv := httptest.NewServer(http.NotFoundHandler())
	u := srv.URL
	srv.Close()
	return u
}

// jsonOf decodes b into a generic value, for comparing bodies by content.
func jsonOf(t *testing.T, b []byte) any {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatalf("body %q is not JSON: %v", b, err)
	}
	return v
}

// assertJSON fails unless body is the JSON value want, key for key.
func assertJSON(t *testing.T, body []byte, want string) {
	t.Helper()
	if got, w := jsonOf(t, body), jsonOf(t, []byte(want)); !reflect.DeepEqual(got, w) {
		t.Errorf("body\n got %s\nwant %s", body, want)
	}
}

// assertHold fails unless r is the fail-closed hold.
func assertHold(t *testing.T, r policy.Result) {
	t.Helper()
	want := policy.Result{Decision: policy.Hold, Reason: policy.ReasonSupervisionUnavailable, DecidedBy: policy.DecidedByNone}
	if r != want {
		t.Errorf("result %v, want the fail-closed %v", r, want)
	}
}

// mustJSON returns v as JSON.
func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
