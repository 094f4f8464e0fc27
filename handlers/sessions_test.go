package handlers_test

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hearth-safety/hearth/models"
	"github.com/hearth-safety/hearth/models/store"
	"github.com/hearth-safety/hearth/web/webtest"
)

// replayCookie returns a fresh browser holding only the given session cookie.
func replayCookie(t *testing.T, app *webtest.App, value string) *webtest.Browser {
	t.Helper()
	b := app.Browser(t)
	u, _ := url.Parse(app.HTTP.URL)
	b.Client.Jar.SetCookies(u, []*http.Cookie{{Name: "hearth_session", Value: value}})
	return b
}

func TestSessions_CookieReplayAfterDisableIsRefused(t *testing.T) {
	t.Parallel()
	app := webtest.New(t, webtest.Options{})
	u, err := app.Store.CreateUser(bg, store.NewUser{Email: "pat@example.com", Name: "Pat Parent", Password: pw, Role: models.RoleGuardian})
	if err != nil {
		t.Fatal(err)
	}
	b := app.Browser(t)
	if res := b.Submit(b.Get("/login"), "form[action='/login']", map[string]string{"email": "pat@example.com", "password": pw}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign-in: %d", res.StatusCode)
	}
	stolen := b.Cookie("hearth_session")
	if res := replayCookie(t, app, stolen).Get("/notifications"); res.StatusCode != http.StatusOK {
		t.Fatalf("the copied cookie does not work before the account is disabled (%d): the test proves nothing", res.StatusCode)
	}
	if err := app.Store.DisableUser(bg, u.ID); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/", "/notifications"} {
		res := replayCookie(t, app, stolen).Get(path)
		if strings.Contains(res.Body, "Pat Parent") || res.StatusCode == http.StatusOK && path != "/" {
			t.Errorf("GET %s with a disabled account's cookie: %d, still signed in", path, res.StatusCode)
		}
	}
	res := b.Submit(b.Get("/login"), "form[action='/login']", map[string]string{"email": "pat@example.com", "password": pw})
	if res.StatusCode == http.StatusSeeOther {
		t.Error("a disabled account signed in again")
	}
}

// TestSessions_SignInTimingDoesNotRevealAccounts compares how long sign-in
// takes for an existing account with a wrong password and for an address
// nobody registered. Both must hash a password; an early return for unknown
// addresses would make them differ many times over, far beyond the noise
// of a shared machine. Attempts alternate so load drifts hit both alike.
func TestSessions_SignInTimingDoesNotRevealAccounts(t *testing.T) {
	t.Parallel()
	app := webtest.New(t, webtest.Options{})
	const rounds = 7 // two forms per round stay under the per-address limit of 20
	for i := range rounds {
		email := fmt.Sprintf("known%d@example.com", i)
		if _, err := app.Store.CreateUser(bg, store.NewUser{Email: email, Name: "Known", Password: pw, Role: models.RoleGuardian}); err != nil {
			t.Fatal(err)
		}
	}
	b := app.Browser(t)
	form := b.Get("/login")
	attempt := func(email string) time.Duration {
		start := time.Now()
		res := b.Submit(form, "form[action='/login']", map[string]string{"email": email, "password": "not the password at all"})
		d := time.Since(start)
		if res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("%s: status %d, want 401", email, res.StatusCode)
		}
		return d
	}
	var known, unknown []time.Duration
	for i := range rounds {
		known = append(known, attempt(fmt.Sprintf("known%d@example.com", i)))
		unknown = append(unknown, attempt(fmt.Sprintf("nobody%d@example.com", i)))
	}
	median := func(ds []time.Duration) time.Duration { slices.Sort(ds); return ds[len(ds)/2] }
	k, u := median(known), median(unknown)
	ratio := float64(k) / float64(u)
	t.Logf("median sign-in: known account %v, unknown address %v (ratio %.2f)", k, u, ratio)
	if ratio > 3 || ratio < 1.0/3 {
		t.Errorf("sign-in for known and unknown addresses differs %.1f×: timing reveals which addresses have accounts", ratio)
	}
}

// TestSessions_BruteForceIgnoresSpoofedForwardedFor guesses passwords for
// many different addresses, each request claiming a different client IP in
// X-Forwarded-For. Without a trusted proxy configured that header is not
// believed, so the per-address limit still stops the run.
func TestSessions_BruteForceIgnoresSpoofedForwardedFor(t *testing.T) {
	t.Parallel()
	app := webtest.New(t, webtest.Options{})
	b := app.Browser(t)
	form := b.Get("/login")
	csrf := b.Cookie("hearth_csrf")
	if csrf == "" || form.StatusCode != http.StatusOK {
		t.Fatal("no sign-in form")
	}
	limited := 0
	for i := range 30 {
		v := url.Values{"_csrf": {csrf}, "email": {fmt.Sprintf("guess%d@example.com", i)}, "password": {"guess"}}
		req, _ := http.NewRequest(http.MethodPost, app.HTTP.URL+"/login", strings.NewReader(v.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-For", fmt.Sprintf("203.0.113.%d", i+1))
		req.Header.Set("X-Real-IP", fmt.Sprintf("198.51.100.%d", i+1))
		if res := b.Do(req); res.StatusCode == http.StatusTooManyRequests {
			limited++
		}
	}
	if limited < 5 {
		t.Fatalf("%d of 30 guesses from one address with spoofed X-Forwarded-For were throttled; the per-address limit believed the header", limited)
	}
}
