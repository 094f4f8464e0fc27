package static

import (
	"io"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

var versioned = regexp.MustCompile(`^/static/(.+)\?v=([0-9a-f]{10})$`)

func TestPath(t *testing.T) {
	t.Parallel()
	names := 0
	err := fs.WalkDir(FS(), ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		names++
		m := versioned.FindStringSubmatch(Path(name))
		if m == nil || m[1] != name {
			t.Errorf("Path(%q) = %q, want /static/%s?v=<10 hex>", name, Path(name), name)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"css/hearth.css", "js/htmx.min.js", "img/logo.svg", "img/favicon.svg"} {
		if _, err := fs.Stat(FS(), want); err != nil {
			t.Errorf("%s is not embedded: %v", want, err)
		}
	}
	if names < 4 {
		t.Errorf("embedded %d files, want at least 4", names)
	}

	t.Run("leading_slash_is_ignored", func(t *testing.T) {
		if got, want := Path("/css/hearth.css"), Path("css/hearth.css"); got != want {
			t.Errorf("Path with slash = %q, want %q", got, want)
		}
	})
	t.Run("unknown_name_has_no_version", func(t *testing.T) {
		if got := Path("css/missing.css"); got != "/static/css/missing.css" {
			t.Errorf("Path(missing) = %q", got)
		}
	})
	t.Run("hash_follows_content", func(t *testing.T) {
		a, b := Path("css/hearth.css"), Path("js/htmx.min.js")
		if a[len(a)-10:] == b[len(b)-10:] {
			t.Errorf("different files share a hash: %s %s", a, b)
		}
	})
}

func TestVendoredHTMX(t *testing.T) {
	t.Parallel()
	data, err := fs.ReadFile(FS(), "js/htmx.min.js")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(data), `version:"2.0.11"`) {
		t.Error("js/htmx.min.js is not htmx 2.0.11")
	}
	lic, err := fs.ReadFile(FS(), "js/htmx.min.js.LICENSE.txt")
	if err != nil || !strings.Contains(string(lic), "Zero-Clause BSD") {
		t.Errorf("htmx license text missing: %v", err)
	}
}

func get(t *testing.T, method, target string, header http.Header) *http.Response {
	t.Helper()
	req := httptest.NewRequest(method, target, nil)
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	Handler().ServeHTTP(rec, req)
	return rec.Result()
}

func TestHandler(t *testing.T) {
	t.Parallel()
	css, err := fs.ReadFile(FS(), "css/hearth.css")
	if err != nil {
		t.Fatal(err)
	}

	t.Run("versioned_request_is_immutable", func(t *testing.T) {
		res := get(t, http.MethodGet, Path("css/hearth.css"), nil)
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("status %d", res.StatusCode)
		}
		if got := res.Header.Get("Cache-Control"); got != "public, max-age=31536000, immutable" {
			t.Errorf("Cache-Control = %q", got)
		}
		if got := res.Header.Get("Content-Type"); got != "text/css; charset=utf-8" {
			t.Errorf("Content-Type = %q", got)
		}
		if string(body) != string(css) {
			t.Error("body differs from the embedded file")
		}
		m := versioned.FindStringSubmatch(Path("css/hearth.css"))
		if got := res.Header.Get("ETag"); got != `"`+m[2]+`"` {
			t.Errorf("ETag = %q, want %q", got, `"`+m[2]+`"`)
		}
		if got := res.Header.Get("X-Content-Type-Options"); got != "nosniff" {
			t.Errorf("X-Content-Type-Options = %q", got)
		}
	})

	t.Run("unversioned_or_stale_request_revalidates", func(t *testing.T) {
		for _, target := range []string{"/static/css/hearth.css", "/static/css/hearth.css?v=0123456789"} {
			res := get(t, http.MethodGet, target, nil)
			if res.StatusCode != http.StatusOK {
				t.Errorf("%s: status %d", target, res.StatusCode)
			}
			if got := res.Header.Get("Cache-Control"); got != "no-cache" {
				t.Errorf("%s: Cache-Control = %q, want no-cache", target, got)
			}
		}
	})

	t.Run("content_types", func(t *testing.T) {
		for name, want := range map[string]string{
			"js/htmx.min.js":  "text/javascript; charset=utf-8",
			"img/logo.svg":    "image/svg+xml",
			"img/favicon.svg": "image/svg+xml",
		} {
			res := get(t, http.MethodGet, Path(name), nil)
			if got := res.Header.Get("Content-Type"); got != want {
				t.Errorf("%s: Content-Type = %q, want %q", name, got, want)
			}
		}
	})

	t.Run("etag_match_is_304", func(t *testing.T) {
		first := get(t, http.MethodGet, "/static/img/logo.svg", nil)
		etag := first.Header.Get("ETag")
		res := get(t, http.MethodGet, "/static/img/logo.svg", http.Header{"If-None-Match": {etag}})
		if res.StatusCode != http.StatusNotModified {
			t.Errorf("status %d, want 304", res.StatusCode)
		}
	})

	t.Run("head_has_no_body", func(t *testing.T) {
		res := get(t, http.MethodHead, Path("css/hearth.css"), nil)
		body, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK || len(body) != 0 {
			t.Errorf("HEAD: status %d, %d body bytes", res.StatusCode, len(body))
		}
	})

	t.Run("prefix_already_stripped", func(t *testing.T) {
		res := get(t, http.MethodGet, "/css/hearth.css", nil)
		if res.StatusCode != http.StatusOK {
			t.Errorf("status %d", res.StatusCode)
		}
	})

	t.Run("other_methods_are_405", func(t *testing.T) {
		res := get(t, http.MethodPost, Path("css/hearth.css"), nil)
		if res.StatusCode != http.StatusMethodNotAllowed || res.Header.Get("Allow") != "GET, HEAD" {
			t.Errorf("status %d, Allow %q", res.StatusCode, res.Header.Get("Allow"))
		}
	})

	t.Run("unknown_and_directories_are_404", func(t *testing.T) {
		for _, target := range []string{
			"/static/css/nope.css",
			"/static/css",
			"/static/css/",
			"/static/",
			"/static/../static.go",
			"/static/static.go",
		} {
			if res := get(t, http.MethodGet, target, nil); res.StatusCode != http.StatusNotFound {
				t.Errorf("%s: status %d, want 404", target, res.StatusCode)
			}
		}
	})
}

// TestStylesheetBracesBalance catches a rule left open (as a bad merge can
// leave one): a browser then folds every later rule into it and pages lose
// their styles with no error anywhere.
func TestStylesheetBracesBalance(t *testing.T) {
	t.Parallel()
	b, err := fs.ReadFile(FS(), "css/hearth.css")
	if err != nil {
		t.Fatal(err)
	}
	css := regexp.MustCompile(`(?s)/\*.*?\*/`).ReplaceAllString(string(b), "")
	depth, line := 0, 1
	for _, c := range css {
		switch c {
		case '\n':
			line++
		case '{':
			depth++
		case '}':
			if depth--; depth < 0 {
				t.Fatalf("hearth.css: a } with no rule open, near line %d (comments removed)", line)
			}
		}
	}
	if depth != 0 {
		t.Fatalf("hearth.css ends with %d rule(s) still open", depth)
	}
}
