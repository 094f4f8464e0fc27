package handlers_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/hearth-safety/hearth/models"
	"github.com/hearth-safety/hearth/models/store"
	"github.com/hearth-safety/hearth/web/webtest"
)

var bg = context.Background()

const pw = "a fine long passphrase"

// signUpAndConfirm registers a guardian through the pages and the emailed
// link, and returns their signed-in browser.
func signUpAndConfirm(t *testing.T, app *webtest.App, email string) *webtest.Browser {
	t.Helper()
	b := app.Browser(t)
	form := b.Get("/signup")
	res := b.Submit(form, "form[action='/signup']", map[string]string{"name": "Pat Parent", "email": email, "password": pw})
	if res.StatusCode != http.StatusOK || !strings.Contains(res.Text("h1"), "Check your email") {
		t.Fatalf("sign-up answered %d %q", res.StatusCode, res.Text("h1"))
	}
	link := webtest.Link(t, app.Mail.Last(t, email), "/signup/confirm/")
	confirm := b.Get(link)
	done := b.Submit(confirm, "form", nil)
	if done.StatusCode != http.StatusSeeOther || done.Header.Get("Location") != "/" {
		t.Fatalf("confirm answered %d → %q", done.StatusCode, done.Header.Get("Location"))
	}
	return b
}

func TestSignup(t *testing.T) {
	t.Parallel()
	app := webtest.New(t, webtest.Options{})

	b := signUpAndConfirm(t, app, "pat@example.com")
	dash := b.Get("/")
	if dash.StatusCode != http.StatusOK || !strings.Contains(dash.Body, "Pat Parent") {
		t.Fatalf("dashboard %d does not greet the guardian", dash.StatusCode)
	}
	if cc := dash.Header.Get("Cache-Control"); cc != "no-store" {
		t.Errorf("signed-in page Cache-Control = %q, want no-store", cc)
	}

	t.Run("duplicate_email_answers_the_same_and_tells_the_owner", func(t *testing.T) {
		other := app.Browser(t)
		before := len(app.Mail.Sent())
		res := other.Submit(other.Get("/signup"), "form[action='/signup']", map[string]string{"name": "Someone", "email": "PAT@example.com", "password": "some other phrase"})
		if res.StatusCode != http.StatusOK || res.Text("h1") != "Check your email" {
			t.Fatalf("duplicate sign-up answered %d %q", res.StatusCode, res.Text("h1"))
		}
		sent := app.Mail.Sent()
		if len(sent) != before+1 || !strings.Contains(sent[len(sent)-1].Subject, "tried to create") {
			t.Fatalf("owner not told of the attempt: %+v", sent[before:])
		}
		if _, err := app.Store.Authenticate(bg, "pat@example.com", "some other phrase"); err == nil {
			t.Fatal("a duplicate sign-up changed the password")
		}
	})

	t.Run("bad_input", func(t *testing.T) {
		for name, tc := range map[string]struct {
			email, password, field string
		}{
			"empty_password":  {"a@example.com", "", "password"},
			"weak_password":   {"a@example.com", "Qz7#kw", "password"},
			"common_password": {"a@example.com", "password123", "password"},
			"long_password":   {"a@example.com", strings.Repeat("x", 129), "password"},
			"bad_email":       {"not-an-address", pw, "email"},
		} {
			t.Run(name, func(t *testing.T) {
				nb := app.Browser(t)
				res := nb.Submit(nb.Get("/signup"), "form[action='/signup']", map[string]string{"name": "A", "email": tc.email, "password": tc.password})
				if res.StatusCode != http.StatusUnprocessableEntity {
					t.Fatalf("status %d, want 422", res.StatusCode)
				}
				input := res.Doc.Find("input[name='" + tc.field + "']")
				if v, _ := input.Attr("aria-invalid"); v != "true" {
					t.Errorf("%s input not marked invalid", tc.field)
				}
				if tc.field == "password" && strings.Contains(res.Body, tc.password) && tc.password != "" {
					t.Errorf("the page echoes the rejected password back")
				}
			})
		}
	})

	t.Run("csrf_token_missing_is_refused", func(t *testing.T) {
		nb := app.Browser(t)
		nb.Get("/signup")
		res := nb.Post("/signup", url.Values{"name": {"X"}, "email": {"x@example.com"}, "password": {pw}})
		if res.StatusCode != http.StatusForbidden {
			t.Fatalf("status %d, want 403", res.StatusCode)
		}
		if _, err := app.Store.UserByEmail(bg, "x@example.com"); err == nil {
			t.Fatal("an account was created without a CSRF token")
		}
	})
}

func TestLogin(t *testing.T) {
	t.Parallel()
	app := webtest.New(t, webtest.Options{})
	signUpAndConfirm(t, app, "pat@example.com")

	t.Run("wrong_password_and_unknown_email_answer_alike", func(t *testing.T) {
		var bodies []string
		for _, email := range []string{"pat@example.com", "nobody@example.com"} {
			b := app.Browser(t)
			res := b.Submit(b.Get("/login"), "form[action='/login']", map[string]string{"email": email, "password": "not the password"})
			if res.StatusCode != http.StatusUnauthorized {
				t.Fatalf("%s: status %d, want 401", email, res.StatusCode)
			}
			bodies = append(bodies, res.Text("#login-error"))
		}
		if bodies[0] == "" || bodies[0] != bodies[1] {
			t.Fatalf("messages differ: %q vs %q", bodies[0], bodies[1])
		}
	})

	t.Run("sign_in_goes_to_next_and_sign_out_revokes_the_cookie", func(t *testing.T) {
		b := app.Browser(t)
		login := b.Get("/teen-not-a-page")
		_ = login
		res := b.Submit(b.Get("/login?next=/privacy"), "form[action='/login']", map[string]string{"email": "pat@example.com", "password": pw})
		if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/privacy" {
			t.Fatalf("sign-in answered %d → %q", res.StatusCode, res.Header.Get("Location"))
		}
		stolen := b.Cookie("hearth_session")
		if stolen == "" {
			t.Fatal("no session cookie")
		}
		dash := b.Get("/")
		out := b.Submit(dash, "form[action='/logout']", nil)
		if out.StatusCode != http.StatusSeeOther {
			t.Fatalf("sign-out answered %d", out.StatusCode)
		}
		replay := app.Browser(t)
		u, _ := url.Parse(app.HTTP.URL)
		replay.Client.Jar.SetCookies(u, []*http.Cookie{{Name: "hearth_session", Value: stolen}})
		if res := replay.Get("/"); strings.Contains(res.Body, "Pat Parent") {
			t.Fatal("a session cookie still works after signing out")
		}
	})

	t.Run("open_redirects_are_refused", func(t *testing.T) {
		b := app.Browser(t)
		res := b.Submit(b.Get("/login?next=//evil.example/"), "form[action='/login']", map[string]string{"email": "pat@example.com", "password": pw})
		if loc := res.Header.Get("Location"); loc != "/" {
			t.Fatalf("redirected to %q, want /", loc)
		}
	})

	t.Run("unconfirmed_account_gets_a_new_link", func(t *testing.T) {
		b := app.Browser(t)
		b.Submit(b.Get("/signup"), "form[action='/signup']", map[string]string{"name": "New", "email": "new@example.com", "password": pw})
		before := len(app.Mail.Sent())
		res := b.Submit(b.Get("/login"), "form[action='/login']", map[string]string{"email": "new@example.com", "password": pw})
		if res.StatusCode != http.StatusForbidden || !strings.Contains(res.Body, "Confirm your email") {
			t.Fatalf("status %d", res.StatusCode)
		}
		if len(app.Mail.Sent()) != before+1 {
			t.Fatal("no new confirmation email")
		}
	})

	t.Run("attempts_are_throttled_per_account", func(t *testing.T) {
		var last int
		for i := 0; i < 12; i++ {
			b := app.Browser(t)
			last = b.Submit(b.Get("/login"), "form[action='/login']", map[string]string{"email": "victim@example.com", "password": "guess"}).StatusCode
		}
		if last != http.StatusTooManyRequests {
			t.Fatalf("12th attempt answered %d, want 429", last)
		}
	})
}

func TestPasswordReset(t *testing.T) {
	t.Parallel()
	app := webtest.New(t, webtest.Options{})
	signed := signUpAndConfirm(t, app, "pat@example.com")

	b := app.Browser(t)
	unknown := b.Submit(b.Get("/password/forgot"), "form", map[string]string{"email": "nobody@example.com"})
	known := b.Submit(b.Get("/password/forgot"), "form", map[string]string{"email": "pat@example.com"})
	if unknown.StatusCode != known.StatusCode || unknown.Text("main") != strings.ReplaceAll(known.Text("main"), "pat@example.com", "nobody@example.com") {
		t.Fatalf("reset answers differ for known and unknown addresses:\n%q\n%q", unknown.Text("main"), known.Text("main"))
	}
	link := webtest.Link(t, app.Mail.Last(t, "pat@example.com"), "/password/reset/")

	mismatch := b.Submit(b.Get(link), "form", map[string]string{"password": "new phrase one", "password_confirm": "new phrase two"})
	if mismatch.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("mismatched confirmation: %d", mismatch.StatusCode)
	}
	res := b.Submit(b.Get(link), "form", map[string]string{"password": "a brand new phrase", "password_confirm": "a brand new phrase"})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/login" {
		t.Fatalf("reset answered %d → %q", res.StatusCode, res.Header.Get("Location"))
	}
	if strings.Contains(signed.Get("/").Body, "Pat Parent") {
		t.Error("the old session survived a password reset")
	}
	if _, err := app.Store.Authenticate(bg, "pat@example.com", "a brand new phrase"); err != nil {
		t.Errorf("new password does not work: %v", err)
	}
	reused := b.Get(link)
	if reused.StatusCode != http.StatusGone {
		t.Errorf("reused link answered %d, want 410", reused.StatusCode)
	}
	if forged := b.Get("/password/reset/forged"); forged.StatusCode != http.StatusGone {
		t.Errorf("forged link answered %d, want 410", forged.StatusCode)
	}
}

func TestStaffLogin(t *testing.T) {
	t.Parallel()
	app := webtest.New(t, webtest.Options{})
	if _, err := app.Store.CreateUser(bg, store.NewUser{Email: "agent@example.com", Name: "Alex Agent", Password: pw, Role: models.RoleStaff}); err != nil {
		t.Fatal(err)
	}
	guardian := signUpAndConfirm(t, app, "pat@example.com")
	if res := guardian.Get("/staff"); res.StatusCode != http.StatusNotFound {
		t.Errorf("guardian sees /staff: %d", res.StatusCode)
	}
	b := app.Browser(t)
	if res := b.Get("/staff"); res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/staff/login") {
		t.Fatalf("anonymous /staff answered %d → %q", res.StatusCode, res.Header.Get("Location"))
	}
	bad := b.Submit(b.Get("/staff/login"), "form", map[string]string{"email": "pat@example.com", "password": pw})
	if bad.StatusCode != http.StatusUnauthorized {
		t.Errorf("guardian credentials on staff sign-in: %d", bad.StatusCode)
	}
	b.SignInStaff(t, "agent@example.com", pw)
	home := b.Get("/staff")
	if home.StatusCode != http.StatusOK || !strings.Contains(home.Body, "Support agent") {
		t.Fatalf("/staff answered %d without the role shown", home.StatusCode)
	}
	u, _ := app.Store.UserByEmail(bg, "agent@example.com")
	if err := app.Store.DisableUser(bg, u.ID); err != nil {
		t.Fatal(err)
	}
	if res := b.Get("/staff"); res.StatusCode == http.StatusOK {
		t.Error("a disabled staff account's session still works")
	}
}
