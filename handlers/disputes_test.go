package handlers_test

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"github.com/hearth-safety/hearth/models"
	"github.com/hearth-safety/hearth/models/store"
	"github.com/hearth-safety/hearth/web/webtest"
)

// signInStaff creates a support account of role and signs it in through
// the staff sign-in page. Every staff test here signs in through it, so a
// change to how staff sign in is made in one place.
func signInStaff(t *testing.T, app *webtest.App, email, name string, role models.Role) *webtest.Browser {
	t.Helper()
	if _, err := app.Store.CreateUser(bg, store.NewUser{Email: email, Name: name, Password: pw, Role: role}); err != nil {
		t.Fatal(err)
	}
	b := app.Browser(t)
	b.SignInStaff(t, email, pw)
	return b
}

// press posts the form matching sel with the button whose formaction is
// action (or the form's own action when empty): hidden fields as the page
// has them, then values on top.
func press(t *testing.T, b *webtest.Browser, p *webtest.Page, sel, action string, values map[string]string) *webtest.Page {
	t.Helper()
	form := p.Doc.Find(sel).First()
	if form.Length() == 0 {
		t.Fatalf("no form %q on page (status %d)", sel, p.StatusCode)
	}
	v := url.Values{}
	form.Find(`input[type="hidden"]`).Each(func(_ int, s *goquery.Selection) {
		n, _ := s.Attr("name")
		val, _ := s.Attr("value")
		v.Set(n, val)
	})
	for k, val := range values {
		v.Set(k, val)
	}
	if action == "" {
		action, _ = form.Attr("action")
	} else if form.Find(`button[formaction="`+action+`"]`).Length() == 0 && form.AttrOr("action", "") != action {
		t.Fatalf("form %q has no button for %s", sel, action)
	}
	return b.Post(action, v)
}

// linked makes Pat supervise a teen of age and returns everyone signed in.
func linked(t *testing.T, w *world, id, name string, age int) (teen, pat *webtest.Browser) {
	t.Helper()
	teen = w.teen(id, name, age)
	pat = w.guardian("pat@example.com", "Pat Parent")
	if res := w.accept(teen, w.invite(pat, name)); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("accept: %d", res.StatusCode)
	}
	return teen, pat
}

func TestDisputes_TeenFilesConfidentially(t *testing.T) {
	t.Parallel()
	w := newWorld(t, webtest.Options{})
	maya, pat := linked(t, w, "tk_maya", "Maya", 14)

	help := maya.Get("/teen/help")
	if help.Doc.Find(`a[href="/teen/disputes/new"]`).Length() == 0 {
		t.Fatal("the help page does not link to reporting a problem")
	}
	form := maya.Get("/teen/disputes/new")
	if form.StatusCode != http.StatusOK || !strings.Contains(form.Text("main"), "don't paste private messages") {
		t.Fatalf("form: %d", form.StatusCode)
	}
	link, _ := form.Doc.Find(`select[name="link"] option[value!=""]`).First().Attr("value")
	if link == "" {
		t.Fatal("no guardian to choose")
	}

	t.Run("bad_input_keeps_what_was_typed", func(t *testing.T) {
		res := maya.Submit(form, "main form", map[string]string{"kind": "not_my_guardian", "link": "", "description": "He is not my dad."})
		if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "Choose which guardian this is about.") ||
			res.Text("textarea[name=description]") != "He is not my dad." {
			t.Errorf("missing link: %d", res.StatusCode)
		}
		res = maya.Submit(form, "main form", map[string]string{"kind": "custody_change", "description": "x"})
		if res.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("a guardian's kind from a teen: %d", res.StatusCode)
		}
		res = maya.Submit(form, "main form", map[string]string{"kind": "other", "description": strings.Repeat("a", 2001)})
		if res.StatusCode != http.StatusUnprocessableEntity {
			t.Errorf("overlong description: %d", res.StatusCode)
		}
	})

	t.Run("someone_elses_link_is_not_found", func(t *testing.T) {
		leo := w.teen("tk_leo", "Leo", 16)
		res := leo.Submit(leo.Get("/teen/disputes/new"), "main form", map[string]string{"kind": "not_my_guardian", "link": link, "description": "x"})
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("another teen's link: %d", res.StatusCode)
		}
	})

	res := maya.Submit(form, "main form", map[string]string{"kind": "not_my_guardian", "link": link, "description": "I don't know who this is."})
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/teen/disputes/") {
		t.Fatalf("file: %d %q", res.StatusCode, res.Header.Get("Location"))
	}
	page := maya.Follow(res)
	if page.StatusCode != http.StatusOK || !strings.Contains(page.Text("main"), "I don't know who this is.") || !strings.Contains(page.Text("main"), "About Pat Parent") {
		t.Fatalf("case page: %d", page.StatusCode)
	}
	casePath := res.Header.Get("Location")
	if list := maya.Get("/teen/disputes"); list.Doc.Find(`a[href="`+casePath+`"]`).Length() != 1 {
		t.Error("the case is not in the teen's list")
	}

	// Pat learns nothing: not on any page, not in notifications, not by email.
	for _, path := range []string{"/", "/notifications", "/disputes"} {
		if body := pat.Get(path).Text("body"); strings.Contains(body, "don't know who this is") || strings.Contains(body, "not my parent") {
			t.Errorf("%s shows the case to the guardian", path)
		}
	}
	if p := pat.Get(casePath); p.StatusCode != http.StatusNotFound {
		t.Errorf("guardian reading the teen's case: %d", p.StatusCode)
	}
	if p := pat.Get(strings.Replace(casePath, "/teen", "", 1)); p.StatusCode != http.StatusNotFound {
		t.Errorf("guardian reading the case at /disputes: %d", p.StatusCode)
	}
	for _, m := range w.app.Mail.Sent() {
		if strings.Contains(m.Text, "report") || strings.Contains(m.Text, "case") {
			t.Errorf("email about the case: %s %q", m.To, m.Subject)
		}
	}
}

func TestDisputes_GuardianFiles(t *testing.T) {
	t.Parallel()
	w := newWorld(t, webtest.Options{})
	_, pat := linked(t, w, "tk_leo", "Leo", 16)
	w.teen("tk_other", "Other", 15)

	form := pat.Get("/disputes/new")
	if form.Doc.Find(`select[name="teen"] option`).Length() != 1 {
		t.Fatalf("teens offered: %d", form.Doc.Find(`select[name="teen"] option`).Length())
	}
	res := pat.Submit(form, "main form", map[string]string{"kind": "custody_change", "description": "Leo lives with his mum now."})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("file: %d", res.StatusCode)
	}
	if m := w.app.Mail.Last(t, "pat@example.com"); m.Subject != "We've got your report" {
		t.Errorf("email = %q", m.Subject)
	}
	res = pat.Submit(form, "main form", map[string]string{"kind": "other", "teen": "999", "description": "x"})
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("a teen the guardian has nothing to do with: %d", res.StatusCode)
	}
	list := pat.Get("/disputes")
	if list.Doc.Find(".case-item").Length() != 1 || !strings.Contains(list.Text(".case-item"), "About Leo") {
		t.Errorf("guardian's list = %q", list.Text("main"))
	}
}

// fileAsTeen files a "not my parent" case as the teen through the pages
// and returns its ID path under /staff.
func fileAsTeen(t *testing.T, teen *webtest.Browser) string {
	t.Helper()
	form := teen.Get("/teen/disputes/new")
	link, _ := form.Doc.Find(`select[name="link"] option[value!=""]`).First().Attr("value")
	res := teen.Submit(form, "main form", map[string]string{"kind": "not_my_guardian", "link": link, "description": "Not my dad."})
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("file: %d", res.StatusCode)
	}
	return "/staff/disputes/" + strings.TrimPrefix(res.Header.Get("Location"), "/teen/disputes/")
}

func TestDisputes_StaffWorkTheCase(t *testing.T) {
	t.Parallel()
	w := newWorld(t, webtest.Options{})
	maya, pat := linked(t, w, "tk_maya", "Maya", 14)
	casePath := fileAsTeen(t, maya)
	agent := signInStaff(t, w.app, "agent@example.com", "Alex Agent", models.RoleStaff)
	agent2 := signInStaff(t, w.app, "agent2@example.com", "Sam Second", models.RoleStaff)
	lead := signInStaff(t, w.app, "lead@example.com", "Lee Lead", models.RoleLead)

	queue := agent.Get("/staff")
	row := queue.Doc.Find("tr[data-case]")
	if row.Length() != 1 || !strings.Contains(row.Text(), "This is not my parent or guardian") || !strings.Contains(row.Text(), "Confidential") {
		t.Fatalf("queue = %q", queue.Text("main"))
	}
	if q := agent.Get("/staff?age=16-17"); q.Doc.Find("tr[data-case]").Length() != 0 {
		t.Error("the 16–17 filter shows a 14-year-old's case")
	}
	if q := agent.Get("/staff?status=bogus"); q.StatusCode != http.StatusBadRequest {
		t.Errorf("unknown filter: %d", q.StatusCode)
	}
	if p := pat.Get(casePath); p.StatusCode != http.StatusNotFound {
		t.Errorf("guardian on the staff case page: %d", p.StatusCode)
	}
	if p := maya.Get(casePath); p.StatusCode != http.StatusNotFound {
		t.Errorf("teen on the staff case page: %d", p.StatusCode)
	}

	page := agent.Get(casePath)
	if page.StatusCode != http.StatusOK {
		t.Fatalf("case page: %d", page.StatusCode)
	}
	linkForm := "form[action$='/suspend']"

	t.Run("empty_reason_is_refused", func(t *testing.T) {
		res := press(t, agent, page, linkForm, "", map[string]string{"reason": " "})
		if res.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(res.Body, "Write a reason") {
			t.Errorf("empty reason: %d", res.StatusCode)
		}
	})

	t.Run("second_agent_sees_the_change_and_keeps_their_text", func(t *testing.T) {
		stale := agent2.Get(casePath)
		if res := press(t, agent, page, "form[action$='/assign']", "", map[string]string{"assignee": "me", "reason": "Taking it."}); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("assign: %d", res.StatusCode)
		}
		res := press(t, agent2, stale, linkForm, "", map[string]string{"reason": "Pausing while we check."})
		if res.StatusCode != http.StatusConflict {
			t.Fatalf("stale action: %d", res.StatusCode)
		}
		if got := res.Text("#case-changed"); !strings.Contains(got, "changed since you opened it") || !strings.Contains(got, "Assigned the case to Alex Agent.") {
			t.Errorf("change not shown: %q", got)
		}
		if res.Doc.Find("textarea").FilterFunction(func(_ int, s *goquery.Selection) bool { return s.Text() == "Pausing while we check." }).Length() != 1 {
			t.Error("the second agent's text was lost")
		}
		if st := linkStateOf(t, w, "Maya"); st != "active" {
			t.Errorf("stale action changed the link: %s", st)
		}
	})

	page = agent.Get(casePath)
	if res := press(t, agent, page, linkForm, "", map[string]string{"reason": "Teen says he is not her father."}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("suspend: %d %s", res.StatusCode, res.Text("main"))
	}
	if st := linkStateOf(t, w, "Maya"); st != "suspended" {
		t.Fatalf("link = %s", st)
	}
	if p := pat.Get("/notifications"); !strings.Contains(p.Body, "Hearth support paused your supervision of Maya.") || strings.Contains(p.Body, "father") {
		t.Error("guardian not told neutrally")
	}

	t.Run("agent_cannot_end_and_is_audited", func(t *testing.T) {
		page := agent.Get(casePath)
		if page.Doc.Find(`button[formaction$="/end"]`).Length() != 0 {
			t.Error("the agent is offered to end the link")
		}
		v := url.Values{"_csrf": {page.Doc.Find(`input[name="_csrf"]`).First().AttrOr("value", "")},
			"version": {page.Doc.Find(`input[name="version"]`).First().AttrOr("value", "")},
			"link":    {page.Doc.Find(`input[name="link"]`).First().AttrOr("value", "")}, "reason": {"Not her father."}}
		res := agent.Post(casePath+"/end", v)
		if res.StatusCode != http.StatusForbidden || !strings.Contains(res.Body, "Only a support lead can do this") {
			t.Fatalf("agent ending: %d", res.StatusCode)
		}
		if !strings.Contains(lead.Get(casePath).Body, "tried a lead-only action") {
			t.Error("the refused attempt is not in the audit trail")
		}
	})

	page = lead.Get(casePath)
	if res := press(t, lead, page, linkForm, casePath+"/end", map[string]string{"reason": "School confirmed he is not her father."}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("lead ends: %d %s", res.StatusCode, res.Text("main"))
	}
	if st := linkStateOf(t, w, "Maya"); st != "ended" {
		t.Fatalf("link = %s", st)
	}
	page = lead.Get(casePath)
	if res := press(t, lead, page, "form[action$='/resolve']", "", map[string]string{"reason": "Pat no longer supervises you."}); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("resolve: %d", res.StatusCode)
	}
	if p := maya.Get(strings.Replace(casePath, "/staff", "/teen", 1)); !strings.Contains(p.Text(".case-outcome"), "Pat no longer supervises you.") {
		t.Errorf("teen does not see the outcome: %q", p.Text("main"))
	}
	res := press(t, lead, page, "form[action$='/notes']", "", map[string]string{"reason": "late"})
	if res.StatusCode != http.StatusConflict || !strings.Contains(res.Body, "This case is closed") {
		t.Errorf("acting on a closed case: %d", res.StatusCode)
	}
	if d := pat.Get("/"); !strings.Contains(d.Body, "Hearth support ended this supervision.") || strings.Contains(d.Body, "father") {
		t.Error("guardian's dashboard does not show the neutral outcome")
	}
}

func linkStateOf(t *testing.T, w *world, teenName string) string {
	t.Helper()
	var st string
	if err := w.app.Store.SQLDB().QueryRowContext(bg, "SELECT links.state FROM links JOIN teens ON teens.id = links.teen_id WHERE teens.display_name = ? ORDER BY links.id DESC LIMIT 1",
		teenName).Scan(&st); err != nil {
		t.Fatal(err)
	}
	return st
}

// TestDisputes_WhoMayOpenWhat walks every dispute route as each kind of
// visitor. Anything not expected to work must be refused: 404 for people
// of another role or without a link to the case (nothing leaks), a sign-in
// redirect or 401 for nobody signed in.
func TestDisputes_WhoMayOpenWhat(t *testing.T) {
	t.Parallel()
	w := newWorld(t, webtest.Options{})
	maya, pat := linked(t, w, "tk_maya", "Maya", 14)
	staffCase := fileAsTeen(t, maya)
	id := strings.TrimPrefix(staffCase, "/staff/disputes/")
	leo := w.teen("tk_leo", "Leo", 16)
	other := w.guardian("other@example.com", "Olive Other")
	agent := signInStaff(t, w.app, "agent@example.com", "Alex Agent", models.RoleStaff)
	anon := w.app.Browser(t)

	type visit struct {
		name string
		b    *webtest.Browser
		want int
	}
	gets := map[string][]visit{
		"/teen/disputes/" + id: {{"owner", maya, 200}, {"other_teen", leo, 404}, {"guardian_it_is_about", pat, 404}, {"agent", agent, 404}, {"anonymous", anon, 401}},
		"/disputes/" + id:      {{"guardian_it_is_about", pat, 404}, {"other_guardian", other, 404}, {"teen", maya, 404}, {"agent", agent, 404}},
		staffCase:              {{"agent", agent, 200}, {"teen", maya, 404}, {"guardian", pat, 404}, {"anonymous", anon, 303}},
		"/staff":               {{"agent", agent, 200}, {"teen", maya, 404}, {"guardian", pat, 404}},
		"/teen/disputes/new":   {{"teen", maya, 200}, {"guardian", pat, 404}, {"agent", agent, 404}},
		"/disputes/new":        {{"guardian", pat, 200}, {"teen", maya, 404}, {"agent", agent, 404}},
	}
	for path, vs := range gets {
		for _, v := range vs {
			if res := v.b.Get(path); res.StatusCode != v.want {
				t.Errorf("GET %s as %s: %d, want %d", path, v.name, res.StatusCode, v.want)
			}
		}
	}
	// Posts from people who may not act: the teen's own CSRF token, so
	// only the role decides.
	page := maya.Get("/teen/disputes/" + id)
	token := page.Doc.Find(`input[name="_csrf"]`).First().AttrOr("value", "")
	for _, path := range []string{staffCase + "/reply", staffCase + "/suspend", staffCase + "/end", staffCase + "/resolve"} {
		res := maya.Post(path, url.Values{"_csrf": {token}, "reason": {"x"}, "version": {"1"}})
		if res.StatusCode != http.StatusNotFound {
			t.Errorf("teen POST %s: %d, want 404", path, res.StatusCode)
		}
	}
	gp := pat.Get("/disputes/new")
	gtoken := gp.Doc.Find(`input[name="_csrf"]`).First().AttrOr("value", "")
	if res := pat.Post("/disputes/"+id+"/reply", url.Values{"_csrf": {gtoken}, "body": {"hello"}}); res.StatusCode != http.StatusNotFound {
		t.Errorf("guardian replying on the teen's case: %d", res.StatusCode)
	}
	th, err := w.app.Store.DisputeCaseFor(bg, models.Actor{UserID: 1, Role: models.RoleLead}, mustID(t, id))
	if err != nil || len(th.Messages) != 0 {
		t.Errorf("a refused post left a message: %+v %v", th.Messages, err)
	}
}

func mustID(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatalf("not an ID: %q", s)
	}
	return n
}
