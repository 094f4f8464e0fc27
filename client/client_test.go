package client_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hearth-safety/hearth/client"
)

func TestNew(t *testing.T) {
	t.Parallel()
	ok := client.Config{BaseURL: "https://hearth.example.com", APIKey: testKey, WebhookSecret: vectorSecret}
	if _, err := client.New(ok); err != nil {
		t.Fatalf("New(%+v): %v", ok, err)
	}
	for _, tc := range []struct {
		name   string
		change func(*client.Config)
		want   string // in the message
	}{
		{"no_url", func(c *client.Config) { c.BaseURL = "" }, "BaseURL is empty"},
		{"relative_url", func(c *client.Config) { c.BaseURL = "hearth.example.com" }, "BaseURL"},
		{"other_scheme", func(c *client.Config) { c.BaseURL = "ftp://hearth.example.com" }, "BaseURL"},
		{"credentials_in_url", func(c *client.Config) { c.BaseURL = "https://me:pw@hearth.example.com" }, "BaseURL"},
		{"query_in_url", func(c *client.Config) { c.BaseURL = "https://hearth.example.com/?x=1" }, "query"},
		{"no_key", func(c *client.Config) { c.APIKey = "" }, "APIKey is empty"},
		{"key_with_newline", func(c *client.Config) { c.APIKey = testKey + "\n" }, "APIKey"},
		{"secret_without_prefix", func(c *client.Config) { c.WebhookSecret = "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw" }, "WebhookSecret"},
		{"secret_not_base64", func(c *client.Config) { c.WebhookSecret = "whsec_not*base64!" }, "WebhookSecret"},
		{"secret_too_short", func(c *client.Config) { c.WebhookSecret = "whsec_c2hvcnQ=" }, "decodes to 5 bytes"},
		{"negative_check_timeout", func(c *client.Config) { c.CheckTimeout = -time.Second }, "CheckTimeout"},
		{"negative_timeout", func(c *client.Config) { c.Timeout = -time.Second }, "Config.Timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			cfg := ok
			tc.change(&cfg)
			c, err := client.New(cfg)
			if err == nil || c != nil {
				t.Fatalf("New accepted %+v", cfg)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not mention %q", err, tc.want)
			}
			if cfg.WebhookSecret != "" && strings.Contains(err.Error(), strings.TrimPrefix(cfg.WebhookSecret, "whsec_")) {
				t.Errorf("error %q repeats the secret", err)
			}
		})
	}
	t.Run("all_problems_at_once", func(t *testing.T) {
		t.Parallel()
		_, err := client.New(client.Config{WebhookSecret: "nope"})
		for _, want := range []string{"BaseURL", "APIKey", "WebhookSecret"} {
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Errorf("error %v does not mention %s", err, want)
			}
		}
	})
}

func TestNew_keeps_a_path_prefix(t *testing.T) {
	t.Parallel()
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, _ int) { answer(w, 201, `{}`) })
	if _, err := newClient(t, f.URL+"/hearth/", client.Config{}).ProvisionTeen(context.Background(), "tk_maya", client.Teen{}); err != nil {
		t.Fatal(err)
	}
	if p := f.only(t).Path; p != "/hearth/api/v1/teens/tk_maya" {
		t.Errorf("path %q, want the prefix kept", p)
	}
}

func TestRetries(t *testing.T) {
	t.Parallel()
	provision := func(c *client.Client) error {
		_, err := c.ProvisionTeen(context.Background(), "tk_maya", client.Teen{DisplayName: "Maya", BirthMonth: "2012-06", Timezone: "Europe/London"})
		return err
	}

	for _, status := range []int{400, 401, 403, 404, 409, 413, 422} {
		t.Run(fmt.Sprintf("%d_not_retried", status), func(t *testing.T) {
			t.Parallel()
			f := newFake(t, func(w http.ResponseWriter, r *http.Request, _ int) { problem(w, status, "x", http.StatusText(status)) })
			err := provision(newClient(t, f.URL, client.Config{}))
			var e *client.Error
			if !errors.As(err, &e) || e.Status != status {
				t.Errorf("error %v, want the %d *Error", err, status)
			}
			if errors.Is(err, client.ErrUnavailable) {
				t.Errorf("a %d is reported as unavailability", status)
			}
			if n := len(f.requests()); n != 1 {
				t.Errorf("%d attempts, want 1", n)
			}
		})
	}
	for _, status := range []int{500, 502, 503, 504, 429} {
		t.Run(fmt.Sprintf("%d_retried_then_given_up", status), func(t *testing.T) {
			t.Parallel()
			f := newFake(t, func(w http.ResponseWriter, r *http.Request, _ int) { problem(w, status, "x", http.StatusText(status)) })
			err := provision(newClient(t, f.URL, client.Config{Retries: 2}))
			var e *client.Error
			if !errors.As(err, &e) || e.Status != status || !errors.Is(err, client.ErrUnavailable) {
				t.Errorf("error %v, want the %d *Error, which is ErrUnavailable", err, status)
			}
			if n := len(f.requests()); n != 3 {
				t.Errorf("%d attempts, want 1 + 2 retries", n)
			}
		})
	}
	t.Run("501_not_retried", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, func(w http.ResponseWriter, r *http.Request, _ int) { problem(w, 501, "x", "Not Implemented") })
		provision(newClient(t, f.URL, client.Config{}))
		if n := len(f.requests()); n != 1 {
			t.Errorf("%d attempts, want 1", n)
		}
	})
	t.Run("negative_turns_retries_off", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, func(w http.ResponseWriter, r *http.Request, _ int) { problem(w, 503, "x", "Unavailable") })
		provision(newClient(t, f.URL, client.Config{Retries: -1}))
		if n := len(f.requests()); n != 1 {
			t.Errorf("%d attempts, want 1", n)
		}
	})
	t.Run("each_attempt_has_its_timeout", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
			if n == 0 {
				hang(w, r)
				return
			}
			answer(w, 201, `{}`)
		})
		start := time.Now()
		if err := provision(newClient(t, f.URL, client.Config{Timeout: 100 * time.Millisecond})); err != nil {
			t.Fatalf("a hung first attempt was not retried: %v", err)
		}
		if d := time.Since(start); d >= liveness {
			t.Errorf("took %v", d)
		}
	})
	t.Run("connection_drop_retried", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, func(w http.ResponseWriter, r *http.Request, n int) {
			if n == 0 {
				dropConnection(t, w)
				return
			}
			answer(w, 200, `{}`)
		})
		if err := provision(newClient(t, f.URL, client.Config{})); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("long_retry_after_given_up_at_once", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, func(w http.ResponseWriter, r *http.Request, _ int) {
			w.Header().Set("Retry-After", "3600")
			problem(w, 503, "unavailable", "Down for maintenance")
		})
		start := time.Now()
		err := provision(newClient(t, f.URL, client.Config{}))
		if !errors.Is(err, client.ErrUnavailable) || len(f.requests()) != 1 || time.Since(start) >= liveness {
			t.Errorf("error %v after %d attempts; want one attempt and ErrUnavailable at once", err, len(f.requests()))
		}
	})
	t.Run("no_retry_past_the_callers_deadline", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, func(w http.ResponseWriter, r *http.Request, _ int) {
			w.Header().Set("Retry-After", "5")
			problem(w, 503, "unavailable", "Temporarily unavailable")
		})
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := newClient(t, f.URL, client.Config{}).ProvisionTeen(ctx, "tk_maya", client.Teen{})
		if !errors.Is(err, client.ErrUnavailable) || time.Since(start) >= 300*time.Millisecond {
			t.Errorf("error %v after %v; want ErrUnavailable before the deadline", err, time.Since(start))
		}
	})
	t.Run("down", func(t *testing.T) {
		t.Parallel()
		err := provision(newClient(t, downURL(t), client.Config{}))
		if !errors.Is(err, client.ErrUnavailable) {
			t.Errorf("error %v does not wrap ErrUnavailable", err)
		}
	})
	t.Run("cancelled_context_sends_nothing", func(t *testing.T) {
		t.Parallel()
		f := newFake(t, func(w http.ResponseWriter, r *http.Request, _ int) { answer(w, 201, `{}`) })
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err := newClient(t, f.URL, client.Config{}).ProvisionTeen(ctx, "tk_maya", client.Teen{})
		if !errors.Is(err, context.Canceled) || !errors.Is(err, client.ErrUnavailable) {
			t.Errorf("error %v, want context.Canceled and ErrUnavailable", err)
		}
		if n := len(f.requests()); n != 0 {
			t.Errorf("%d requests sent", n)
		}
	})
}

func TestError_message(t *testing.T) {
	t.Parallel()
	e := &client.Error{Status: 422, Type: "https://hearth.dev/problems/validation", Title: "The request has invalid fields",
		Detail: "Fix the fields listed in errors.", Errors: []client.FieldError{{Field: "text", Message: "is not a field of this request"}}}
	want := "hearth: 422 The request has invalid fields: Fix the fields listed in errors. (text: is not a field of this request)"
	if e.Error() != want {
		t.Errorf("Error() = %q, want %q", e.Error(), want)
	}
}
