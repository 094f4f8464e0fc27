package client_test

import (
	"context"
	"errors"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/hearth-safety/hearth/client"
	"github.com/hearth-safety/hearth/policy"
)

var maya = client.Teen{DisplayName: "Maya", BirthMonth: "2012-06", Timezone: "Europe/London"}

func TestProvisionTeen(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		status  int
		created bool
	}{{201, true}, {200, false}} {
		t.Run(http.StatusText(tc.status), func(t *testing.T) {
			t.Parallel()
			f := newFake(t, func(w http.ResponseWriter, r *http.Request, _ int) {
				answer(w, tc.status, `{"platform_user_id":"tk_maya","display_name":"Maya","birth_month":"2012-06","timezone":"Europe/London","age":14}`)
			})
			created, err := newClient(t, f.URL, client.Config{}).ProvisionTeen(context.Background(), "tk_maya", maya)
			if err != nil || created != tc.created {
				t.Fatalf("got %v, %v; want created %v", created, err, tc.created)
			}
			req := f.only(t)
			if req.Method != http.MethodPut || req.Path != "/api/v1/teens/tk_maya" {
				t.Errorf("sent %s %s, want PUT /api/v1/teens/tk_maya", req.Method, req.Path)
			}
			if req.Header.Get("Authorization") != "Bearer "+testKey || req.Header.Get("Content-Type") != "application/json" {
				t.Errorf("headers %v", req.Header)
			}
			assertJSON(t, req.Body, `{"display_name":"Maya","birth_month":"2012-06","timezone":"Europe/London"}`)
		})
	}
	t.Run("422_lists_the_fields", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, func(w http.ResponseWriter, r *http.Request, _ int) {
			problem(w, 422, "validation", "The request has invalid fields", client.FieldError{Field: "birth_month", Message: "must be 13 to 17 years ago"})
		})
		_, err := newClient(t, f.URL, client.Config{}).ProvisionTeen(context.Background(), "tk_maya", maya)
		var e *client.Error
		if !errors.As(err, &e) || e.Status != 422 || len(e.Errors) != 1 || e.Errors[0].Field != "birth_month" {
			t.Fatalf("error %v, want the 422 listing birth_month", err)
		}
	})
	t.Run("unexpected_2xx_is_malformed", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, func(w http.ResponseWriter, r *http.Request, _ int) { w.WriteHeader(204) })
		_, err := newClient(t, f.URL, client.Config{}).ProvisionTeen(context.Background(), "tk_maya", maya)
		if !errors.Is(err, client.ErrUnavailable) || !strings.Contains(err.Error(), "malformed") {
			t.Errorf("error %v, want a malformed answer", err)
		}
	})
	t.Run("flaky_server_retried", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
			if n == 0 {
				problem(w, 503, "unavailable", "Temporarily unavailable")
				return
			}
			answer(w, 201, `{}`)
		})
		created, err := newClient(t, f.URL, client.Config{}).ProvisionTeen(context.Background(), "tk_maya", maya)
		if err != nil || !created {
			t.Fatalf("got %v, %v; want created after one retry", created, err)
		}
		reqs := f.requests()
		if len(reqs) != 2 || string(reqs[0].Body) != string(reqs[1].Body) {
			t.Errorf("%d requests, want 2 with the same body", len(reqs))
		}
	})
}

func TestTeenIDs_in_paths_are_checked_before_sending(t *testing.T) {
	t.Parallel()
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, _ int) { t.Errorf("Hearth got %s %s", r.Method, r.URL) })
	c := newClient(t, f.URL, client.Config{})
	ctx := context.Background()
	for _, id := range []string{"", "tk/maya", "..", ".", "tk maya", "tk_maya?x=1", "tk%2Fmaya", strings.Repeat("a", 65), "tk_mäya"} {
		_, err1 := c.ProvisionTeen(ctx, id, maya)
		_, err2 := c.SignInLink(ctx, id)
		_, err3 := c.TeenPolicy(ctx, id)
		err4 := c.DeleteTeen(ctx, id)
		for _, err := range []error{err1, err2, err3, err4} {
			if !errors.Is(err, client.ErrInvalid) {
				t.Errorf("ID %q: error %v, want ErrInvalid", id, err)
			}
		}
	}
	// The longest and the oddest valid IDs go through as they are.
	for _, id := range []string{strings.Repeat("a", 64), "tk:maya.2-b_c"} {
		if _, err := newClient(t, downURL(t), client.Config{Retries: -1}).TeenPolicy(ctx, id); errors.Is(err, client.ErrInvalid) {
			t.Errorf("ID %q refused: %v", id, err)
		}
	}
}

func TestSignInLink(t *testing.T) {
	t.Parallel()
	t.Run("contract", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, func(w http.ResponseWriter, r *http.Request, _ int) {
			answer(w, 201, `{"url":"https://hearth.example.com/t/signin/abc123","expires_at":"2026-11-27T21:40:00Z"}`)
		})
		l, err := newClient(t, f.URL, client.Config{}).SignInLink(context.Background(), "tk_maya")
		if err != nil {
			t.Fatal(err)
		}
		want := client.SignInLink{URL: "https://hearth.example.com/t/signin/abc123", ExpiresAt: time.Date(2026, 11, 27, 21, 40, 0, 0, time.UTC)}
		if l.URL != want.URL || !l.ExpiresAt.Equal(want.ExpiresAt) {
			t.Errorf("got %+v, want %+v", l, want)
		}
		req := f.only(t)
		if req.Method != http.MethodPost || req.Path != "/api/v1/teens/tk_maya/signin-links" || len(req.Body) != 0 {
			t.Errorf("sent %s %s with %d bytes, want POST /api/v1/teens/tk_maya/signin-links without a body", req.Method, req.Path, len(req.Body))
		}
		if req.Header.Get("Authorization") != "Bearer "+testKey || req.Header.Get("Content-Type") != "" {
			t.Errorf("headers %v", req.Header)
		}
	})
	for name, body := range map[string]string{
		"no_url":         `{"expires_at":"2026-11-27T21:40:00Z"}`,
		"relative_url":   `{"url":"/t/signin/abc","expires_at":"2026-11-27T21:40:00Z"}`,
		"no_expiry":      `{"url":"https://hearth.example.com/t/signin/abc"}`,
		"not_json":       `<html></html>`,
		"bad_expiry":     `{"url":"https://hearth.example.com/t/signin/abc","expires_at":"soon"}`,
		"array_not_link": `[]`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			f := newFake(t, func(w http.ResponseWriter, r *http.Request, _ int) { answer(w, 201, body) })
			l, err := newClient(t, f.URL, client.Config{}).SignInLink(context.Background(), "tk_maya")
			if !errors.Is(err, client.ErrUnavailable) || l != (client.SignInLink{}) {
				t.Errorf("got %+v, %v; want no link and ErrUnavailable", l, err)
			}
		})
	}
	t.Run("unknown_teen", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, func(w http.ResponseWriter, r *http.Request, _ int) { problem(w, 404, "not-found", "Not found") })
		_, err := newClient(t, f.URL, client.Config{}).SignInLink(context.Background(), "tk_nobody")
		var e *client.Error
		if !errors.As(err, &e) || e.Status != 404 {
			t.Errorf("error %v, want the 404 *Error", err)
		}
	})
}

func TestTeenPolicy(t *testing.T) {
	t.Parallel()
	const full = `{"version":42,"audience":"friends",
		"quiet_hours":{"start":"21:30","end":"07:00","approved_exempt":true},
		"block_adult_strangers":true,"media_friends_only":true,"min_sender_account_age_days":0,
		"approved_contacts":[{"id":"u_grandma","label":"Grandma"}],
		"blocked_contacts":[{"id":"u_stranger9","label":""}]}`
	get := func(t *testing.T, body string) (client.EffectivePolicy, received, error) {
		t.Helper()
		f := newFake(t, func(w http.ResponseWriter, r *http.Request, _ int) { answer(w, 200, body) })
		p, err := newClient(t, f.URL, client.Config{}).TeenPolicy(context.Background(), "tk_maya")
		return p, f.only(t), err
	}

	t.Run("contract", func(t *testing.T) {
		t.Parallel()
		p, req, err := get(t, full)
		if err != nil {
			t.Fatal(err)
		}
		if req.Method != http.MethodGet || req.Path != "/api/v1/teens/tk_maya/policy" || req.Header.Get("Authorization") != "Bearer "+testKey {
			t.Errorf("sent %s %s %v", req.Method, req.Path, req.Header)
		}
		want := client.EffectivePolicy{
			Version: 42, Audience: policy.AudienceFriends,
			QuietHours:          client.QuietHours{Enabled: true, Start: "21:30", End: "07:00", ApprovedExempt: true},
			BlockAdultStrangers: true, MediaFriendsOnly: true,
			ApprovedContacts: []client.Contact{{ID: "u_grandma", Label: "Grandma"}},
			BlockedContacts:  []client.Contact{{ID: "u_stranger9"}},
		}
		if !reflect.DeepEqual(p, want) {
			t.Errorf("got %+v\nwant %+v", p, want)
		}
	})
	t.Run("quiet_hours_forms", func(t *testing.T) {
		t.Parallel()
		for _, tc := range []struct {
			json string
			want client.QuietHours
		}{
			{`{"start":"22:00","end":"07:00","approved_exempt":true}`, client.QuietHours{Enabled: true, Start: "22:00", End: "07:00", ApprovedExempt: true}},
			{`{"enabled":true,"start":"22:00","end":"07:00","approved_exempt":false}`, client.QuietHours{Enabled: true, Start: "22:00", End: "07:00"}},
			{`{"enabled":false,"start":"22:00","end":"07:00","approved_exempt":true}`, client.QuietHours{Start: "22:00", End: "07:00", ApprovedExempt: true}},
			{`null`, client.QuietHours{}},
		} {
			p, _, err := get(t, `{"version":3,"audience":"everyone","quiet_hours":`+tc.json+`}`)
			if err != nil || p.QuietHours != tc.want {
				t.Errorf("quiet_hours %s read as %+v, %v; want %+v", tc.json, p.QuietHours, err, tc.want)
			}
		}
		p, _, err := get(t, `{"version":3,"audience":"everyone"}`)
		if err != nil || p.QuietHours.Enabled {
			t.Errorf("no quiet_hours read as %+v, %v; want off", p.QuietHours, err)
		}
	})
	for name, body := range map[string]string{
		"no_audience":        `{"version":42}`,
		"no_version":         `{"audience":"friends"}`,
		"unknown_audience":   `{"version":42,"audience":"grown-ups"}`,
		"bad_quiet_time":     `{"version":42,"audience":"friends","quiet_hours":{"start":"10pm","end":"07:00"}}`,
		"not_json":           `<html></html>`,
		"contacts_not_array": `{"version":42,"audience":"friends","approved_contacts":"u_grandma"}`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			if _, _, err := get(t, body); !errors.Is(err, client.ErrUnavailable) {
				t.Errorf("error %v, want a malformed answer (ErrUnavailable)", err)
			}
		})
	}
	t.Run("json_names_are_snake_case", func(t *testing.T) {
		t.Parallel()
		p, _, err := get(t, full)
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"version", "audience", "quiet_hours", "start", "end", "approved_exempt", "block_adult_strangers",
			"media_friends_only", "min_sender_account_age_days", "approved_contacts", "blocked_contacts", "id", "label"} {
			if b := mustJSON(t, p); !strings.Contains(b, `"`+name+`":`) {
				t.Errorf("EffectivePolicy JSON %s lacks %q", b, name)
			}
		}
	})
}

func TestDeleteTeen(t *testing.T) {
	t.Parallel()
	t.Run("contract", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, func(w http.ResponseWriter, r *http.Request, _ int) { w.WriteHeader(204) })
		if err := newClient(t, f.URL, client.Config{}).DeleteTeen(context.Background(), "tk_maya"); err != nil {
			t.Fatal(err)
		}
		req := f.only(t)
		if req.Method != http.MethodDelete || req.Path != "/api/v1/teens/tk_maya" || req.Header.Get("Authorization") != "Bearer "+testKey || len(req.Body) != 0 {
			t.Errorf("sent %s %s %v", req.Method, req.Path, req.Header)
		}
	})
	t.Run("unknown_teen_is_404", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, func(w http.ResponseWriter, r *http.Request, _ int) { problem(w, 404, "not-found", "Not found") })
		err := newClient(t, f.URL, client.Config{}).DeleteTeen(context.Background(), "tk_nobody")
		var e *client.Error
		if !errors.As(err, &e) || e.Status != 404 {
			t.Errorf("error %v, want the 404 *Error", err)
		}
	})
	t.Run("404_after_a_lost_answer_is_done", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
			if n == 0 { // deleted, then the answer is lost
				dropConnection(t, w)
				return
			}
			problem(w, 404, "not-found", "Not found")
		})
		if err := newClient(t, f.URL, client.Config{}).DeleteTeen(context.Background(), "tk_maya"); err != nil {
			t.Errorf("error %v; the first attempt may have deleted the teen", err)
		}
		if n := len(f.requests()); n != 2 {
			t.Errorf("%d attempts, want 2", n)
		}
	})
	t.Run("404_after_503_is_still_404", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
			if n == 0 {
				problem(w, 503, "unavailable", "Temporarily unavailable")
				return
			}
			problem(w, 404, "not-found", "Not found")
		})
		err := newClient(t, f.URL, client.Config{}).DeleteTeen(context.Background(), "tk_nobody")
		var e *client.Error
		if !errors.As(err, &e) || e.Status != 404 {
			t.Errorf("error %v; a 503 did nothing, so the 404 stands", err)
		}
	})
}
