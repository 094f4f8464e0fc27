package handlers_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hearth-safety/hearth/models/store"
	"github.com/hearth-safety/hearth/models/store/storetest"
	"github.com/hearth-safety/hearth/web/webtest"
)

type problem struct {
	Type   string `json:"type"`
	Title  string `json:"title"`
	Status int    `json:"status"`
	Detail string `json:"detail"`
	Errors []struct {
		Field, Message string
	} `json:"errors"`
}

func decodeProblem(t *testing.T, ct, body string) problem {
	t.Helper()
	if ct != "application/problem+json" {
		t.Fatalf("content type %q, want application/problem+json (body %s)", ct, body)
	}
	var p problem
	if err := json.Unmarshal([]byte(body), &p); err != nil {
		t.Fatalf("problem body %q: %v", body, err)
	}
	if p.Type == "" || p.Title == "" || p.Status == 0 {
		t.Fatalf("incomplete problem %+v", p)
	}
	return p
}

func newClient(t *testing.T, app *webtest.App, name string) string {
	t.Helper()
	_, key, err := app.Store.CreateClient(bg, store.NewClient{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	return key
}

const mayaBody = `{"display_name":"Maya","birth_month":"2012-06","timezone":"Europe/London"}`

func TestAPI_Teens(t *testing.T) {
	for _, d := range storetest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
			app := webtest.New(t, webtest.Options{Dialect: d, Now: func() time.Time { return now }})
			api := app.API(t, newClient(t, app, "chat"))

			status, _, body := api.Do("PUT", "/api/v1/teens/tk_maya", mayaBody)
			if status != http.StatusCreated || !strings.Contains(body, `"age":14`) {
				t.Fatalf("create: %d %s", status, body)
			}
			if status, _, _ := api.Do("PUT", "/api/v1/teens/tk_maya", `{"display_name":"Maya R","birth_month":"2012-06","timezone":"Europe/London"}`); status != http.StatusOK {
				t.Fatalf("update: %d", status)
			}

			cases := []struct {
				name, method, path, body string
				status                   int
				field                    string
			}{
				{"unknown_field_is_named", "PUT", "/api/v1/teens/tk_x", `{"display_name":"X","birth_month":"2012-06","timezone":"UTC","text":"hello"}`, 422, "text"},
				{"content_field_refused", "PUT", "/api/v1/teens/tk_x", `{"display_name":"X","birth_month":"2012-06","timezone":"UTC","content":"x"}`, 422, "content"},
				{"malformed_json", "PUT", "/api/v1/teens/tk_x", `{"display_name":`, 400, ""},
				{"not_an_object", "PUT", "/api/v1/teens/tk_x", `[1,2]`, 400, ""},
				{"trailing_data", "PUT", "/api/v1/teens/tk_x", mayaBody + `{}`, 400, ""},
				{"wrong_type", "PUT", "/api/v1/teens/tk_x", `{"display_name":5,"birth_month":"2012-06","timezone":"UTC"}`, 422, "display_name"},
				{"missing_fields", "PUT", "/api/v1/teens/tk_x", `{}`, 422, "birth_month"},
				{"id_too_long", "PUT", "/api/v1/teens/" + strings.Repeat("a", 65), mayaBody, 422, "platform_user_id"},
				{"id_bad_chars", "PUT", "/api/v1/teens/tk%20x", mayaBody, 422, "platform_user_id"},
				{"under_13", "PUT", "/api/v1/teens/tk_x", `{"display_name":"X","birth_month":"2015-01","timezone":"UTC"}`, 422, "birth_month"},
				{"adult", "PUT", "/api/v1/teens/tk_x", `{"display_name":"X","birth_month":"2006-01","timezone":"UTC"}`, 422, "birth_month"},
				{"bad_zone", "PUT", "/api/v1/teens/tk_x", `{"display_name":"X","birth_month":"2012-01","timezone":"Moon/Base"}`, 422, "timezone"},
				{"oversize_body", "PUT", "/api/v1/teens/tk_x", `{"display_name":"` + strings.Repeat("x", 3<<20) + `"}`, 413, ""},
				{"signin_link_unknown_teen", "POST", "/api/v1/teens/tk_nobody/signin-links", "", 404, ""},
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					status, ct, body := api.Do(c.method, c.path, c.body)
					if status != c.status {
						t.Fatalf("status %d, want %d (%s)", status, c.status, body)
					}
					p := decodeProblem(t, ct, body)
					if c.field != "" {
						found := false
						for _, e := range p.Errors {
							found = found || e.Field == c.field
						}
						if !found {
							t.Fatalf("no error names %q: %+v", c.field, p.Errors)
						}
					}
					if strings.Contains(body, "hello") {
						t.Error("the problem echoes input back")
					}
				})
			}
			if _, err := app.Store.TeenByPlatformID(bg, 1, "tk_x"); err == nil {
				t.Error("a refused request stored a teen")
			}
		})
	}
}

func TestAPI_Auth(t *testing.T) {
	t.Parallel()
	app := webtest.New(t, webtest.Options{})
	key := newClient(t, app, "chat")
	otherKey := newClient(t, app, "other")
	app.API(t, key).Do("PUT", "/api/v1/teens/tk_maya", mayaBody)

	for name, k := range map[string]string{"missing": "", "invalid": "hk_not_a_real_key_0000000000000000000000"} {
		status, ct, body := app.API(t, k).Do("PUT", "/api/v1/teens/tk_maya", mayaBody)
		if status != http.StatusUnauthorized {
			t.Errorf("%s key: %d", name, status)
		}
		decodeProblem(t, ct, body)
	}
	if status, _, _ := app.API(t, otherKey).Do("POST", "/api/v1/teens/tk_maya/signin-links", ""); status != http.StatusNotFound {
		t.Errorf("another client's teen: %d, want 404", status)
	}
	if err := app.Store.RevokeClient(bg, "chat"); err != nil {
		t.Fatal(err)
	}
	if status, _, _ := app.API(t, key).Do("POST", "/api/v1/teens/tk_maya/signin-links", ""); status != http.StatusUnauthorized {
		t.Errorf("revoked key: %d, want 401", status)
	}
}

func TestTeenSignin(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)
	clock := &now
	app := webtest.New(t, webtest.Options{Now: func() time.Time { return *clock }})
	api := app.API(t, newClient(t, app, "chat"))
	api.Do("PUT", "/api/v1/teens/tk_maya", mayaBody)

	status, _, body := api.Do("POST", "/api/v1/teens/tk_maya/signin-links", "")
	var link struct {
		URL       string    `json:"url"`
		ExpiresAt time.Time `json:"expires_at"`
	}
	if err := json.Unmarshal([]byte(body), &link); status != http.StatusCreated || err != nil {
		t.Fatalf("signin-links: %d %s", status, body)
	}
	if !link.ExpiresAt.Equal(now.Add(10 * time.Minute)) {
		t.Errorf("expires_at %v, want 10 minutes from now", link.ExpiresAt)
	}
	path := strings.TrimPrefix(link.URL, app.HTTP.URL)

	b := app.Browser(t)
	landing := b.Get(path)
	if landing.StatusCode != http.StatusOK {
		t.Fatalf("landing: %d", landing.StatusCode)
	}
	if again := b.Get(path); again.StatusCode != http.StatusOK {
		t.Fatalf("opening the link twice (as a link preview would) spent it: %d", again.StatusCode)
	}
	res := b.Submit(landing, "form", nil)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/teen" {
		t.Fatalf("sign-in answered %d → %q", res.StatusCode, res.Header.Get("Location"))
	}
	home := b.Get("/teen")
	if home.StatusCode != http.StatusOK || !strings.Contains(home.Body, "Maya") {
		t.Fatalf("/teen: %d", home.StatusCode)
	}

	other := app.Browser(t)
	if used := other.Get(path); used.StatusCode != http.StatusGone || !strings.Contains(strings.ToLower(used.Body), "already") {
		t.Errorf("used link: %d", used.StatusCode)
	}
	if forged := other.Get("/t/signin/not-a-token"); forged.StatusCode != http.StatusGone {
		t.Errorf("forged link: %d", forged.StatusCode)
	}
	_, _, body = api.Do("POST", "/api/v1/teens/tk_maya/signin-links", "")
	json.Unmarshal([]byte(body), &link)
	later := now.Add(11 * time.Minute)
	clock = &later
	if expired := other.Get(strings.TrimPrefix(link.URL, app.HTTP.URL)); expired.StatusCode != http.StatusGone || !strings.Contains(expired.Body, "expired") {
		t.Errorf("expired link: %d", expired.StatusCode)
	}
	if res := app.Browser(t).Get("/teen"); res.StatusCode == http.StatusOK {
		t.Error("/teen is open to a signed-out visitor")
	}
}
