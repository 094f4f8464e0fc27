package handlers_test

import (
	"net/http"

	"github.com/PuerkitoBio/goquery"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/hearth-safety/hearth/web/webtest"
)

func TestEveryRouteHasAGuard(t *testing.T) {
	t.Parallel()
	app := webtest.New(t, webtest.Options{})
	n := 0
	for _, r := range app.Server.Echo.Routes() {
		if strings.HasPrefix(r.Name, "github.com/labstack") && r.Path == "" {
			continue
		}
		n++
		if g := app.Server.RouteGuards[r.Method+" "+r.Path]; g == "" {
			t.Errorf("%s %s has no guard in the route table", r.Method, r.Path)
		}
	}
	if n < 10 {
		t.Fatalf("only %d routes found", n)
	}
}

func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	app := webtest.New(t, webtest.Options{})
	b := app.Browser(t)
	for _, path := range []string{"/", "/login", "/no-such-page", "/api/v1/teens/x"} {
		res := b.Get(path)
		csp := res.Header.Get("Content-Security-Policy")
		wants := []string{"object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'", "script-src 'nonce-"}
		if strings.HasPrefix(path, "/api/") {
			// JSON answers run nothing: everything is refused.
			wants = []string{"default-src 'none'", "frame-ancestors 'none'"}
		}
		for _, want := range wants {
			if !strings.Contains(csp, want) {
				t.Errorf("%s: CSP %q lacks %q", path, csp, want)
			}
		}
		if res.Header.Get("X-Content-Type-Options") != "nosniff" || res.Header.Get("Referrer-Policy") == "" {
			t.Errorf("%s: missing nosniff or Referrer-Policy", path)
		}
		if res.Header.Get("X-Request-Id") == "" {
			t.Errorf("%s: no request ID", path)
		}
	}
	page := b.Get("/")
	nonce := regexp.MustCompile(`'nonce-([^']+)'`).FindStringSubmatch(page.Header.Get("Content-Security-Policy"))[1]
	scripts := page.Doc.Find("script")
	if scripts.Length() == 0 {
		t.Fatal("no scripts on the page (htmx missing)")
	}
	scripts.Each(func(i int, s *goquery.Selection) {
		if n, _ := s.Attr("nonce"); n != nonce {
			t.Errorf("script %d has nonce %q, want the response's %q", i, n, nonce)
		}
	})
	if second := b.Get("/"); strings.Contains(second.Header.Get("Content-Security-Policy"), nonce) {
		t.Error("the nonce is reused across responses")
	}
	notFound := b.Get("/no-such-page")
	if notFound.StatusCode != http.StatusNotFound || notFound.Text("h1") == "" {
		t.Errorf("404 page: %d %q", notFound.StatusCode, notFound.Text("h1"))
	}
}

func TestCSRFFetchMetadata(t *testing.T) {
	t.Parallel()
	app := webtest.New(t, webtest.Options{})
	post := func(site string) int {
		b := app.Browser(t)
		b.Get("/signup")
		req, _ := http.NewRequest(http.MethodPost, app.HTTP.URL+"/password/forgot", strings.NewReader(url.Values{"email": {"a@example.com"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if site != "" {
			req.Header.Set("Sec-Fetch-Site", site)
		}
		return b.Do(req).StatusCode
	}
	// A browser that says the post came from this origin passes without a
	// token; another site is refused; a same-site (sibling subdomain) or
	// header-less client must present the token, and has none here.
	for site, want := range map[string]int{"same-origin": 200, "cross-site": 403, "same-site": 403, "": 403} {
		if got := post(site); got != want {
			t.Errorf("Sec-Fetch-Site %q without token: %d, want %d", site, got, want)
		}
	}
}

func TestHealth(t *testing.T) {
	t.Parallel()
	app := webtest.New(t, webtest.Options{})
	api := app.API(t, "")
	if s, _, _ := api.Do("GET", "/healthz", ""); s != 200 {
		t.Errorf("/healthz %d", s)
	}
	if s, _, body := api.Do("GET", "/readyz", ""); s != 200 || !strings.Contains(body, "ready") {
		t.Errorf("/readyz %d %s", s, body)
	}
	app.Server.Health.Drain()
	if s, _, _ := api.Do("GET", "/readyz", ""); s != 503 {
		t.Errorf("/readyz while draining: %d, want 503", s)
	}
	app.Store.Close()
	if s, _, _ := api.Do("GET", "/healthz", ""); s != 200 {
		t.Errorf("/healthz must not depend on the database: %d", s)
	}
}

func TestStaticAssetsAreCachedForGood(t *testing.T) {
	t.Parallel()
	app := webtest.New(t, webtest.Options{})
	b := app.Browser(t)
	href, ok := b.Get("/").Doc.Find("link[rel=stylesheet]").Attr("href")
	if !ok || !strings.Contains(href, "?v=") {
		t.Fatalf("stylesheet href %q has no version", href)
	}
	res := b.Get(href)
	if res.StatusCode != 200 || !strings.Contains(res.Header.Get("Cache-Control"), "immutable") {
		t.Fatalf("stylesheet: %d %q", res.StatusCode, res.Header.Get("Cache-Control"))
	}
}
