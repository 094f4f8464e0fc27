package handlers_test

import (
	"bytes"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hearth-safety/hearth/models"
	"github.com/hearth-safety/hearth/models/store"
	"github.com/hearth-safety/hearth/models/store/storetest"
	"github.com/hearth-safety/hearth/web/webtest"
)

// The canaries. contentCanary stands for message text: it goes where text
// would go (fields named text, content, body, snippet, message, and any
// other field Hearth does not know) and must then be found nowhere: not in
// a response, a log line or a table. idCanary stands for an ID the caller
// may send (a platform user ID, an event ID, a path segment): it may be
// stored only in the columns listed in idColumns, and never logged.
const (
	contentCanary = "CANARYc0ntent7f3a9"
	idCanary      = "u_CANARYid5e21"
)

// contentFields are the names a careless integration would put message
// text under; every one is sent, with contentCanary, to every route.
var contentFields = []string{"text", "content", "body", "snippet", "message", "preview", "attachment_name"}

// idColumns are the table columns where a caller-supplied ID may land.
var idColumns = map[string]bool{
	"teens.platform_user_id":           true,
	"policy_contacts.platform_user_id": true,
	"alerts.counterpart_id":            true,
	"alerts.event_id":                  true,
	"received_events.event_id":         true,
	// The audit log and outbound webhooks record the rules and the teen
	// they are about, IDs included.
	"audit_events.before":        true,
	"audit_events.after":         true,
	"webhook_deliveries.payload": true,
}

// TestCanary_ContentNeverEnters sends the canaries through every route, as
// every kind of caller, and then searches every response, log line and
// table for them.
func TestCanary_ContentNeverEnters(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) { canaryWalk(t, d) })
	}
}

func canaryWalk(t *testing.T, d store.Dialect) {
	{
		w := newWorld(t, webtest.Options{Dialect: d})
		apiKey := w.api.Key
		guardian, teen := supervisedMaya(t, w)
		if _, err := w.app.Store.CreateUser(bg, store.NewUser{Email: "lead@example.com", Name: "Lee Lead", Password: pw, Role: models.RoleLead}); err != nil {
			t.Fatal(err)
		}
		staff := canaryStaff(t, w, "lead@example.com")
		anon := w.app.Browser(t)
		for _, b := range []*webtest.Browser{guardian, teen, staff, anon} {
			b.Get("/") // sets the CSRF cookie
		}

		var responses bytes.Buffer
		passedCSRF := 0 // unsafe requests that reached a handler
		callers := []struct {
			name    string
			browser *webtest.Browser
			key     string
		}{{"anonymous", anon, ""}, {"guardian", guardian, ""}, {"teen", teen, ""}, {"staff", staff, ""}, {"api-client", anon, apiKey}}

		routes := make([]string, 0, len(w.app.Server.RouteGuards))
		for r := range w.app.Server.RouteGuards {
			routes = append(routes, r)
		}
		sort.Strings(routes)
		param := regexp.MustCompile(`:[a-z_]+`)
		for _, r := range routes {
			method, path, _ := strings.Cut(r, " ")
			if path == "/logout" || path == "/staff/logout" {
				continue // would end the sessions the walk needs
			}
			target := strings.ReplaceAll(param.ReplaceAllString(path, idCanary), "*", "x")
			query := url.Values{}
			for _, f := range contentFields {
				query.Set(f, contentCanary)
			}
			for _, c := range callers {
				req := canaryRequest(t, w.app, c.browser, c.key, w.client.WebhookSecret, method, target+"?"+query.Encode())
				res, err := c.browser.Client.Do(req)
				if err != nil {
					t.Fatalf("%s %s as %s: %v", method, target, c.name, err)
				}
				body, _ := io.ReadAll(res.Body)
				res.Body.Close()
				// A sign-in redirect hands the caller's own URL back to
				// them (next=…) so they return where they were; it is
				// neither stored nor shown to anyone else.
				res.Header.Del("Location")
				fmt.Fprintf(&responses, "%s %s as %s: %d %v\n%s\n", method, target, c.name, res.StatusCode, res.Header, body)
				if method != http.MethodGet && res.StatusCode != http.StatusForbidden && c.name != "anonymous" {
					passedCSRF++
				}
			}
		}

		if passedCSRF < 10 {
			t.Fatalf("only %d unsafe requests got past CSRF and authentication: the walk proves nothing", passedCSRF)
		}

		// The ID fields of the hook API, filled with idCanary: allowed to
		// be stored as IDs, never logged.
		for _, call := range []struct{ method, path, body string }{
			{"PUT", "/api/v1/teens/" + idCanary, `{"display_name":"Canary","birth_month":"2012-01","timezone":"Europe/London"}`},
			{"POST", "/api/v1/dm/check", `{"sender_id":"` + idCanary + `","recipient_id":"tk_maya","context":{"mutual_follow":true}}`},
			{"POST", "/api/v1/dm/check/batch", `{"checks":[{"sender_id":"tk_maya","recipient_id":"` + idCanary + `"}]}`},
			{"GET", "/api/v1/teens/" + idCanary + "/policy", ""},
			{"POST", "/api/v1/moderation/events", `{"events":[{"id":"` + idCanary + `","teen_id":"tk_maya","counterpart_id":"` + idCanary +
				`","direction":"inbound","category":"bullying","severity":"high","action_taken":"message_blocked","occurred_at":"` +
				w.app.Store.Now().UTC().Add(-time.Minute).Format(time.RFC3339) + `"}]}`},
		} {
			status, _, out := w.api.Do(call.method, call.path, call.body)
			if call.path == "/api/v1/moderation/events" {
				status, out = signedPost(t, w, call.path, call.body)
			}
			fmt.Fprintf(&responses, "%s %s: %d\n%s\n", call.method, call.path, status, out)
			if status >= 300 {
				t.Errorf("%s %s with an ID canary: %d %s", call.method, call.path, status, out)
			}
		}
		// And as a contact label and ID through the guardian's own form.
		page := guardian.Get("/teens/" + teenIDOf(t, guardian) + "/messages")
		if res := guardian.Submit(page, "form[method=post]", map[string]string{"blocked_id": idCanary, "blocked_label": "Canary contact"}); res.StatusCode != http.StatusSeeOther {
			t.Errorf("blocking by form: %d", res.StatusCode)
		}

		if strings.Contains(responses.String(), contentCanary) {
			t.Errorf("a response repeats the content canary:\n%s", excerpt(responses.String(), contentCanary))
		}
		logs := w.app.Logs.String()
		for _, c := range []string{contentCanary, idCanary} {
			if strings.Contains(logs, c) {
				t.Errorf("the logs hold %s:\n%s", c, excerpt(logs, c))
			}
		}
		for _, m := range w.app.Mail.Sent() {
			if strings.Contains(m.Subject+m.Text, contentCanary) {
				t.Errorf("email %q holds the content canary", m.Subject)
			}
		}
		found := scanTables(t, w.app.Store)
		if cells := found[contentCanary]; len(cells) > 0 {
			t.Errorf("tables hold the content canary in %v", cells)
		}
		var stray []string
		for _, cell := range found[idCanary] {
			if !idColumns[cell] {
				stray = append(stray, cell)
			}
		}
		if len(stray) > 0 {
			t.Errorf("tables hold the ID canary outside ID columns: %v", stray)
		}
		if len(found[idCanary]) == 0 {
			t.Error("the ID canary was stored nowhere: the walk did not reach the store, so it proves nothing")
		}
	}
}

// canaryStaff signs a support agent or lead in, second factor included.
func canaryStaff(t *testing.T, w *world, email string) *webtest.Browser {
	t.Helper()
	b := w.app.Browser(t)
	b.SignInStaff(t, email, pw)
	return b
}

// canaryRequest builds method path as the caller: a form with the CSRF
// token and every content field for pages, a signed JSON body with every
// content field for the hook API.
func canaryRequest(t *testing.T, app *webtest.App, b *webtest.Browser, key, secret, method, target string) *http.Request {
	t.Helper()
	var body io.Reader
	var signed http.Header
	contentType := ""
	if method != http.MethodGet {
		if strings.HasPrefix(target, "/api/") {
			fields := make([]string, 0, len(contentFields))
			for _, f := range contentFields {
				fields = append(fields, fmt.Sprintf("%q:%q", f, contentCanary))
			}
			// Also as unknown fields of an event, where text would be
			// most tempting to send.
			fields = append(fields, `"events":[{"id":"evt_c","teen_id":"tk_maya",`+strings.Join(fields, ",")+`}]`)
			raw := "{" + strings.Join(fields, ",") + "}"
			body = strings.NewReader(raw)
			contentType = "application/json"
			if key != "" {
				signed = sign(secret, "msg_canary", app.Store.Now(), raw)
			}
		} else {
			form := url.Values{"_csrf": {b.Cookie("hearth_csrf")}}
			for _, f := range contentFields {
				form.Set(f, contentCanary)
			}
			body = strings.NewReader(form.Encode())
			contentType = "application/x-www-form-urlencoded"
		}
	}
	req, err := http.NewRequest(method, app.HTTP.URL+target, body)
	if err != nil {
		t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	for k, v := range signed {
		req.Header[k] = v
	}
	return req
}

// signedPost sends body to path as the world's service client, signed.
func signedPost(t *testing.T, w *world, path, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, w.app.HTTP.URL+path, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+w.api.Key)
	for k, v := range sign(w.client.WebhookSecret, "msg_canary_ids", w.app.Store.Now(), body) {
		req.Header[k] = v
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	out, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(out)
}

// scanTables reads every cell of every table, River's included, and
// returns where each canary occurs as "table.column".
func scanTables(t *testing.T, st *store.Store) map[string][]string {
	t.Helper()
	db := st.SQLDB()
	q := `SELECT name FROM sqlite_master WHERE type = 'table'`
	if st.Dialect() == store.Postgres {
		q = `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'`
	}
	names := queryStrings(t, db, q)
	if len(names) < 10 {
		t.Fatalf("found only %d tables: %v", len(names), names)
	}
	found := map[string][]string{}
	for _, table := range names {
		rows, err := db.Query(`SELECT * FROM "` + table + `"`)
		if err != nil {
			t.Fatalf("read %s: %v", table, err)
		}
		cols, _ := rows.Columns()
		cells := make([]sql.RawBytes, len(cols))
		ptrs := make([]any, len(cols))
		for i := range cells {
			ptrs[i] = &cells[i]
		}
		for rows.Next() {
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatalf("scan %s: %v", table, err)
			}
			for i, cell := range cells {
				for _, c := range []string{contentCanary, idCanary} {
					if bytes.Contains(cell, []byte(c)) {
						found[c] = append(found[c], table+"."+cols[i])
					}
				}
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatalf("read %s: %v", table, err)
		}
		rows.Close()
	}
	return found
}

func queryStrings(t *testing.T, db *sql.DB, q string) []string {
	t.Helper()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		out = append(out, s)
	}
	return out
}

// excerpt returns the text around the first occurrence of needle.
func excerpt(haystack, needle string) string {
	i := strings.Index(haystack, needle)
	lo, hi := max(0, i-300), min(len(haystack), i+len(needle)+100)
	return haystack[lo:hi]
}
