package client_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hearth-safety/hearth/client"
	"github.com/hearth-safety/hearth/policy"
)

// liveness bounds every fail-closed test: a check that has not failed
// closed by then would have stalled a send. It is not a speed target.
const liveness = time.Second

var mayaCheck = client.CheckRequest{
	SenderID:    "u_1",
	RecipientID: "tk_maya",
	SentAt:      time.Date(2026, 11, 27, 22, 30, 0, 0, time.FixedZone("CET", 3600)),
	Context: policy.Context{
		MutualFollow: new(false), SenderIsAdult: new(true), SenderAccountAgeDays: new(3),
		RecipientIsAdult: new(false), RecipientAccountAgeDays: new(400), HasMedia: new(false), HasLink: new(false),
	},
	MinPolicyVersion: 41,
}

// The body is DESIGN.md's example, key for key, with sent_at in UTC.
const mayaCheckJSON = `{"sender_id":"u_1","recipient_id":"tk_maya","sent_at":"2026-11-27T21:30:00Z",
	"context":{"mutual_follow":false,"sender_is_adult":true,"sender_account_age_days":3,
	           "recipient_is_adult":false,"recipient_account_age_days":400,
	           "has_media":false,"has_link":false},
	"min_policy_version":41}`

func TestCheckDM_request_is_the_contract(t *testing.T) {
	t.Parallel()
	t.Run("all_fields", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, func(w http.ResponseWriter, r *http.Request, _ int) {
			answer(w, 200, `{"decision":"deny","reason":"adult_stranger","decided_by":"recipient","policy_version":42}`)
		})
		if _, err := newClient(t, f.URL, client.Config{}).CheckDM(context.Background(), mayaCheck); err != nil {
			t.Fatal(err)
		}
		got := f.only(t)
		if got.Method != http.MethodPost || got.Path != "/api/v1/dm/check" {
			t.Errorf("sent %s %s, want POST /api/v1/dm/check", got.Method, got.Path)
		}
		if a := got.Header.Get("Authorization"); a != "Bearer "+testKey {
			t.Errorf("Authorization %q, want the bearer key", a)
		}
		if ct := got.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type %q, want application/json", ct)
		}
		assertJSON(t, got.Body, mayaCheckJSON)
	})
	t.Run("unknown_facts_and_time_left_out", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, func(w http.ResponseWriter, r *http.Request, _ int) {
			answer(w, 200, `{"decision":"allow","reason":"not_supervised","decided_by":"none","policy_version":0}`)
		})
		if _, err := newClient(t, f.URL, client.Config{}).CheckDM(context.Background(), client.CheckRequest{SenderID: "u_1", RecipientID: "u_2"}); err != nil {
			t.Fatal(err)
		}
		// A fact the service did not send must be absent, not false: Hearth
		// reads absent on the safe side and false as "known not".
		assertJSON(t, f.only(t).Body, `{"sender_id":"u_1","recipient_id":"u_2","context":{},"min_policy_version":0}`)
	})
}

func TestCheckDM_returns_hearths_answer(t *testing.T) {
	t.Parallel()
	until := time.Date(2026, 11, 28, 7, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name, body string
		want       policy.Result
	}{
		{"allow", `{"decision":"allow","reason":"approved_contact","decided_by":"recipient","policy_version":42}`,
			policy.Result{Decision: policy.Allow, Reason: policy.ReasonApprovedContact, DecidedBy: policy.DecidedByRecipient, PolicyVersion: 42}},
		{"request", `{"decision":"request","reason":"not_friends","decided_by":"sender","policy_version":7}`,
			policy.Result{Decision: policy.Request, Reason: policy.ReasonNotFriends, DecidedBy: policy.DecidedBySender, PolicyVersion: 7}},
		{"hold_quiet_hours", `{"decision":"hold","reason":"quiet_hours","decided_by":"recipient","policy_version":42,"hold_until":"2026-11-28T07:00:00Z"}`,
			policy.Result{Decision: policy.Hold, Reason: policy.ReasonQuietHours, DecidedBy: policy.DecidedByRecipient, PolicyVersion: 42, HoldUntil: until}},
		{"hold_stale_node", `{"decision":"hold","reason":"supervision_unavailable","decided_by":"recipient","policy_version":0}`,
			policy.Result{Decision: policy.Hold, Reason: policy.ReasonSupervisionUnavailable, DecidedBy: policy.DecidedByRecipient}},
		{"deny", `{"decision":"deny","reason":"blocked_contact","decided_by":"recipient","policy_version":42}`,
			policy.Result{Decision: policy.Deny, Reason: policy.ReasonBlockedContact, DecidedBy: policy.DecidedByRecipient, PolicyVersion: 42}},
		{"not_supervised", `{"decision":"allow","reason":"not_supervised","decided_by":"none","policy_version":0}`,
			policy.Result{Decision: policy.Allow, Reason: policy.ReasonNotSupervised, DecidedBy: policy.DecidedByNone}},
		{"unknown_fields_tolerated", `{"decision":"allow","reason":"allowed","decided_by":"recipient","policy_version":3,"node":"b"}`,
			policy.Result{Decision: policy.Allow, Reason: policy.ReasonAllowed, DecidedBy: policy.DecidedByRecipient, PolicyVersion: 3}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t, func(w http.ResponseWriter, r *http.Request, _ int) { answer(w, 200, tc.body) })
			got, err := newClient(t, f.URL, client.Config{}).CheckDM(context.Background(), mayaCheck)
			if err != nil {
				t.Fatal(err)
			}
			if !got.HoldUntil.Equal(tc.want.HoldUntil) {
				t.Errorf("hold until %v, want %v", got.HoldUntil, tc.want.HoldUntil)
			}
			got.HoldUntil, tc.want.HoldUntil = time.Time{}, time.Time{}
			if got != tc.want {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// brokenHearth is a fake Hearth that fails in one way.
type brokenHearth struct {
	name   string
	handle func(t *testing.T, w http.ResponseWriter, r *http.Request)
}

// unavailableServers are the ways Hearth can fail to answer. Each must end
// in the fail-closed hold with an error wrapping ErrUnavailable, for a single
// check and for a batch.
var unavailableServers = []brokenHearth{
	{"hangs", func(_ *testing.T, w http.ResponseWriter, r *http.Request) { hang(w, r) }},
	{"headers_then_hangs", func(_ *testing.T, w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(200)
		io.WriteString(w, `{"decision":`)
		w.(http.Flusher).Flush()
		hang(w, r)
	}},
	{"500", func(_ *testing.T, w http.ResponseWriter, _ *http.Request) {
		problem(w, 500, "internal", "Something went wrong on our side")
	}},
	{"503_with_retry_after", func(_ *testing.T, w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Retry-After", "1")
		problem(w, 503, "unavailable", "Temporarily unavailable")
	}},
	{"502_html_from_proxy", func(_ *testing.T, w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(502)
		io.WriteString(w, "<html><body><h1>502 Bad Gateway</h1></body></html>")
	}},
	{"429", func(_ *testing.T, w http.ResponseWriter, _ *http.Request) {
		problem(w, 429, "rate-limited", "Too many requests")
	}},
	{"drops_connection", func(t *testing.T, w http.ResponseWriter, _ *http.Request) { dropConnection(t, w) }},
	{"garbage_json", func(_ *testing.T, w http.ResponseWriter, _ *http.Request) { answer(w, 200, `{"decision":"allow",`) }},
	{"html_page_200", func(_ *testing.T, w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		io.WriteString(w, "<!doctype html><title>Sign in to the Wi-Fi</title>")
	}},
	{"empty_200", func(_ *testing.T, w http.ResponseWriter, _ *http.Request) { answer(w, 200, "") }},
	{"empty_object", func(_ *testing.T, w http.ResponseWriter, _ *http.Request) { answer(w, 200, `{}`) }},
	{"null", func(_ *testing.T, w http.ResponseWriter, _ *http.Request) { answer(w, 200, `null`) }},
	{"no_decision", func(_ *testing.T, w http.ResponseWriter, _ *http.Request) {
		answer(w, 200, `{"reason":"allowed","decided_by":"recipient","policy_version":4}`)
	}},
	{"decision_only", func(_ *testing.T, w http.ResponseWriter, _ *http.Request) { answer(w, 200, `{"decision":"allow"}`) }},
	{"unknown_decision", func(_ *testing.T, w http.ResponseWriter, _ *http.Request) {
		answer(w, 200, `{"decision":"maybe","reason":"allowed","decided_by":"none","policy_version":0}`)
	}},
	{"decision_as_number", func(_ *testing.T, w http.ResponseWriter, _ *http.Request) {
		answer(w, 200, `{"decision":0,"reason":"allowed","decided_by":"none","policy_version":0}`)
	}},
	{"reason_contradicts_decision", func(_ *testing.T, w http.ResponseWriter, _ *http.Request) {
		answer(w, 200, `{"decision":"allow","reason":"blocked_contact","decided_by":"recipient","policy_version":4}`)
	}},
	{"quiet_hours_without_hold_until", func(_ *testing.T, w http.ResponseWriter, _ *http.Request) {
		answer(w, 200, `{"decision":"hold","reason":"quiet_hours","decided_by":"recipient","policy_version":4}`)
	}},
	{"trailing_data", func(_ *testing.T, w http.ResponseWriter, _ *http.Request) {
		answer(w, 200, `{"decision":"deny","reason":"dms_off","decided_by":"recipient","policy_version":4} {"decision":"allow"}`)
	}},
	{"204", func(_ *testing.T, w http.ResponseWriter, _ *http.Request) { w.WriteHeader(204) }},
}

func TestCheckDM_fails_closed_when_hearth_cannot_answer(t *testing.T) {
	t.Parallel()
	for _, tc := range unavailableServers {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t, func(w http.ResponseWriter, r *http.Request, _ int) { tc.handle(t, w, r) })
			c := newClient(t, f.URL, client.Config{})
			ctx, cancel := context.WithTimeout(context.Background(), liveness)
			defer cancel()
			start := time.Now()
			res, err := c.CheckDM(ctx, mayaCheck)
			if d := time.Since(start); d >= liveness {
				t.Errorf("took %v; the send path must not wait that long", d)
			}
			assertHold(t, res)
			if !errors.Is(err, client.ErrUnavailable) {
				t.Errorf("error %v does not wrap ErrUnavailable", err)
			}
		})
	}
}

func TestCheckDM_fails_closed_when_hearth_is_down(t *testing.T) {
	t.Parallel()
	c := newClient(t, downURL(t), client.Config{})
	start := time.Now()
	res, err := c.CheckDM(context.Background(), mayaCheck)
	if d := time.Since(start); d >= liveness {
		t.Errorf("took %v", d)
	}
	assertHold(t, res)
	if !errors.Is(err, client.ErrUnavailable) {
		t.Errorf("error %v does not wrap ErrUnavailable", err)
	}
}

func TestCheckDM_fails_closed_on_a_done_context(t *testing.T) {
	t.Parallel()
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		answer(w, 200, `{"decision":"allow","reason":"allowed","decided_by":"recipient","policy_version":1}`)
	})
	c := newClient(t, f.URL, client.Config{})

	t.Run("cancelled", func(t *testing.T) {
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		res, err := c.CheckDM(ctx, mayaCheck)
		assertHold(t, res)
		if !errors.Is(err, client.ErrUnavailable) || !errors.Is(err, context.Canceled) {
			t.Errorf("error %v, want ErrUnavailable and context.Canceled", err)
		}
	})
	t.Run("deadline_passed", func(t *testing.T) {
		ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(-time.Second))
		defer cancel()
		res, err := c.CheckDM(ctx, mayaCheck)
		assertHold(t, res)
		if !errors.Is(err, client.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("error %v, want ErrUnavailable and context.DeadlineExceeded", err)
		}
	})
	if n := len(f.requests()); n != 0 {
		t.Errorf("Hearth got %d requests for checks whose context had ended", n)
	}
}

func TestCheckDM_default_budget(t *testing.T) {
	t.Parallel()
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, _ int) { hang(w, r) })
	c, err := client.New(client.Config{BaseURL: f.URL, APIKey: testKey})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	res, err := c.CheckDM(context.Background(), mayaCheck)
	d := time.Since(start)
	assertHold(t, res)
	if !errors.Is(err, client.ErrUnavailable) || !strings.Contains(err.Error(), "150ms") {
		t.Errorf("error %v, want ErrUnavailable naming the 150ms default", err)
	}
	if d < client.DefaultCheckTimeout || d >= liveness {
		t.Errorf("took %v, want about %v", d, client.DefaultCheckTimeout)
	}
}

func TestCheckDM_honours_CheckTimeout(t *testing.T) {
	t.Parallel()
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, _ int) { hang(w, r) })
	c := newClient(t, f.URL, client.Config{CheckTimeout: 50 * time.Millisecond})
	start := time.Now()
	res, err := c.CheckDM(context.Background(), mayaCheck)
	d := time.Since(start)
	assertHold(t, res)
	if !errors.Is(err, client.ErrUnavailable) || !strings.Contains(err.Error(), "50ms") {
		t.Errorf("error %v, want ErrUnavailable naming the 50ms budget", err)
	}
	// Between the budget and the liveness bound: the check waited for its
	// budget, not for Hearth.
	if d < 50*time.Millisecond || d >= liveness {
		t.Errorf("took %v, want about 50ms", d)
	}
	if n := len(f.requests()); n != 1 {
		t.Errorf("%d attempts; a timeout has no time left for another", n)
	}
}

func TestCheckDM_caller_mistakes_hold_and_return_the_problem(t *testing.T) {
	t.Parallel()
	for _, status := range []int{400, 401, 403, 404, 422} {
		t.Run(fmt.Sprint(status), func(t *testing.T) {
			t.Parallel()
			f := newFake(t, func(w http.ResponseWriter, r *http.Request, _ int) {
				problem(w, status, "validation", "The request has invalid fields", client.FieldError{Field: "sender_id", Message: "is required"})
			})
			res, err := newClient(t, f.URL, client.Config{}).CheckDM(context.Background(), mayaCheck)
			assertHold(t, res)
			var e *client.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %v is not an *Error", err)
			}
			if e.Status != status || e.Type != "https://hearth.dev/problems/validation" || len(e.Errors) != 1 || e.Errors[0].Field != "sender_id" {
				t.Errorf("problem decoded as %+v", e)
			}
			if errors.Is(err, client.ErrUnavailable) {
				t.Error("a refused request is reported as Hearth being unavailable")
			}
			if n := len(f.requests()); n != 1 {
				t.Errorf("%d attempts; a %d is not retried", n, status)
			}
		})
	}
}

func TestCheckDM_redirect_is_not_followed(t *testing.T) {
	t.Parallel()
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		http.Redirect(w, r, "https://hearth.example.com/api/v1/dm/check", http.StatusPermanentRedirect)
	})
	res, err := newClient(t, f.URL, client.Config{}).CheckDM(context.Background(), mayaCheck)
	assertHold(t, res)
	var e *client.Error
	if !errors.As(err, &e) || e.Status != 308 || !strings.Contains(err.Error(), "https://hearth.example.com") {
		t.Errorf("error %v, want a 308 *Error naming where it pointed", err)
	}
	if n := len(f.requests()); n != 1 {
		t.Errorf("%d requests; the redirect was followed", n)
	}
}

func TestCheckDM_retries_once_on_a_connection_error(t *testing.T) {
	t.Parallel()
	t.Run("then_answers", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
			if n == 0 {
				dropConnection(t, w)
				return
			}
			answer(w, 200, `{"decision":"request","reason":"not_friends","decided_by":"recipient","policy_version":5}`)
		})
		res, err := newClient(t, f.URL, client.Config{}).CheckDM(context.Background(), mayaCheck)
		if err != nil {
			t.Fatal(err)
		}
		if res.Decision != policy.Request || res.Reason != policy.ReasonNotFriends {
			t.Errorf("got %v, want Hearth's answer to the retry", res)
		}
		reqs := f.requests()
		if len(reqs) != 2 || string(reqs[0].Body) != string(reqs[1].Body) {
			t.Errorf("%d requests, want 2 with the same body", len(reqs))
		}
	})
	t.Run("only_once", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, func(w http.ResponseWriter, r *http.Request, _ int) { dropConnection(t, w) })
		res, err := newClient(t, f.URL, client.Config{}).CheckDM(context.Background(), mayaCheck)
		assertHold(t, res)
		if !errors.Is(err, client.ErrUnavailable) {
			t.Errorf("error %v does not wrap ErrUnavailable", err)
		}
		if n := len(f.requests()); n != 2 {
			t.Errorf("%d attempts, want 2", n)
		}
	})
	t.Run("not_on_5xx", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, func(w http.ResponseWriter, r *http.Request, _ int) {
			problem(w, 503, "unavailable", "Temporarily unavailable")
		})
		newClient(t, f.URL, client.Config{}).CheckDM(context.Background(), mayaCheck)
		if n := len(f.requests()); n != 1 {
			t.Errorf("%d attempts, want 1", n)
		}
	})
}

func TestCheckDMBatch_request_is_the_contract(t *testing.T) {
	t.Parallel()
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, _ int) {
		answer(w, 200, `{"results":[
			{"decision":"deny","reason":"adult_stranger","decided_by":"recipient","policy_version":42},
			{"decision":"allow","reason":"not_supervised","decided_by":"none","policy_version":0}]}`)
	})
	second := client.CheckRequest{SenderID: "u_2", RecipientID: "u_3"}
	got, err := newClient(t, f.URL, client.Config{}).CheckDMBatch(context.Background(), []client.CheckRequest{mayaCheck, second})
	if err != nil {
		t.Fatal(err)
	}
	want := []policy.Result{
		{Decision: policy.Deny, Reason: policy.ReasonAdultStranger, DecidedBy: policy.DecidedByRecipient, PolicyVersion: 42},
		{Decision: policy.Allow, Reason: policy.ReasonNotSupervised, DecidedBy: policy.DecidedByNone},
	}
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("got %v, want %v in order", got, want)
	}
	req := f.only(t)
	if req.Method != http.MethodPost || req.Path != "/api/v1/dm/check/batch" {
		t.Errorf("sent %s %s, want POST /api/v1/dm/check/batch", req.Method, req.Path)
	}
	if req.Header.Get("Authorization") != "Bearer "+testKey || req.Header.Get("Content-Type") != "application/json" {
		t.Errorf("headers %v", req.Header)
	}
	assertJSON(t, req.Body, `{"checks":[`+mayaCheckJSON+`,{"sender_id":"u_2","recipient_id":"u_3","context":{},"min_policy_version":0}]}`)
}

func TestCheckDMBatch_fails_closed_for_every_item(t *testing.T) {
	t.Parallel()
	reqs := []client.CheckRequest{mayaCheck, mayaCheck, mayaCheck}
	check := func(t *testing.T, res []policy.Result, err error, wantUnavailable bool) {
		t.Helper()
		if len(res) != len(reqs) {
			t.Fatalf("%d results for %d checks", len(res), len(reqs))
		}
		for _, r := range res {
			assertHold(t, r)
		}
		if err == nil || errors.Is(err, client.ErrUnavailable) != wantUnavailable {
			t.Errorf("error %v; want one that wraps ErrUnavailable: %v", err, wantUnavailable)
		}
	}
	servers := append(unavailableServers[:len(unavailableServers):len(unavailableServers)],
		brokenHearth{"too_few_results", func(_ *testing.T, w http.ResponseWriter, _ *http.Request) {
			answer(w, 200, `{"results":[{"decision":"allow","reason":"allowed","decided_by":"recipient","policy_version":1}]}`)
		}},
		brokenHearth{"too_many_results", func(_ *testing.T, w http.ResponseWriter, _ *http.Request) {
			one := `{"decision":"allow","reason":"allowed","decided_by":"recipient","policy_version":1}`
			answer(w, 200, `{"results":[`+strings.Repeat(one+",", 3)+one+`]}`)
		}},
		brokenHearth{"one_malformed_result", func(_ *testing.T, w http.ResponseWriter, _ *http.Request) {
			answer(w, 200, `{"results":[
				{"decision":"allow","reason":"allowed","decided_by":"recipient","policy_version":1},
				{"decision":"allow"},
				{"decision":"allow","reason":"allowed","decided_by":"recipient","policy_version":1}]}`)
		}},
	)
	for _, tc := range servers {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t, func(w http.ResponseWriter, r *http.Request, _ int) { tc.handle(t, w, r) })
			ctx, cancel := context.WithTimeout(context.Background(), liveness)
			defer cancel()
			start := time.Now()
			res, err := newClient(t, f.URL, client.Config{}).CheckDMBatch(ctx, reqs)
			if d := time.Since(start); d >= liveness {
				t.Errorf("took %v", d)
			}
			check(t, res, err, true)
		})
	}
	t.Run("down", func(t *testing.T) {
		t.Parallel()
		res, err := newClient(t, downURL(t), client.Config{}).CheckDMBatch(context.Background(), reqs)
		check(t, res, err, true)
	})
	t.Run("cancelled", func(t *testing.T) {
		t.Parallel()
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		res, err := newClient(t, downURL(t), client.Config{}).CheckDMBatch(ctx, reqs)
		check(t, res, err, true)
	})
	t.Run("422", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, func(w http.ResponseWriter, r *http.Request, _ int) {
			problem(w, 422, "validation", "The request has invalid fields", client.FieldError{Field: "checks[1].text", Message: "is not a field of this request"})
		})
		res, err := newClient(t, f.URL, client.Config{}).CheckDMBatch(context.Background(), reqs)
		check(t, res, err, false)
		var e *client.Error
		if !errors.As(err, &e) || e.Status != 422 {
			t.Errorf("error %v, want the 422 *Error", err)
		}
	})
}

func TestCheckDMBatch_size(t *testing.T) {
	t.Parallel()
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, _ int) { t.Error("Hearth was asked") })
	c := newClient(t, f.URL, client.Config{})

	res, err := c.CheckDMBatch(context.Background(), nil)
	if err != nil || len(res) != 0 {
		t.Errorf("no checks gave %v, %v; want no results and no error", res, err)
	}
	res, err = c.CheckDMBatch(context.Background(), make([]client.CheckRequest, client.MaxBatch+1))
	if !errors.Is(err, client.ErrInvalid) || len(res) != client.MaxBatch+1 {
		t.Fatalf("%d checks gave %d results and %v; want a hold each and ErrInvalid", client.MaxBatch+1, len(res), err)
	}
	for _, r := range res {
		assertHold(t, r)
	}
}
