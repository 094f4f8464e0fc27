package handlers_test

import (
	"bufio"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hearth-safety/hearth/models"
	"github.com/hearth-safety/hearth/models/store"
	"github.com/hearth-safety/hearth/web/webtest"
)

var updateMatrix = flag.Bool("update-matrix", false, "rewrite testdata/authz_matrix.txt from what the routes do (review the diff!)")

// matrixFile is the checked-in table of who may use which route: one line
// per route, one cell per caller, "A" allowed and "D" denied, as
// "own/other" for routes about someone's data (the teen Maya's world, where
// the caller has whatever relation its name says, and another family's).
const matrixFile = "testdata/authz_matrix.txt"

// matrixCallers are the columns, in order.
var matrixCallers = []string{"anonymous", "teen", "linked", "unlinked", "ended", "agent", "lead", "client"}

// matrixCast is the world the matrix is walked in. Maya (14) is supervised
// by the linked guardian; the ended guardian once supervised her; the
// unlinked guardian never did. Noah (15), of another family and another
// service client, is everyone's "someone else".
type matrixCast struct {
	app      *webtest.App
	callers  map[string]*webtest.Browser
	keyA     string // the service client that provisioned Maya
	secretA  string // and its webhook secret, which signs its event reports
	mayaID   int64
	noahID   int64
	mayaLink int64 // the linked guardian's link
	endLink  int64 // the ended guardian's link
	noahLink int64
	mayaInv  int64 // the linked guardian's pending invitation
	noahInv  int64
	mayaReq  int64 // Maya asked to end supervision
	noahReq  int64
	notes    map[string]int64 // a notification of each person's own
	noahNote int64
	signIn   func(who string) *webtest.Browser
	agentID  int64 // staff accounts: "own" is the agent's, "other" the lead's
	leadID   int64

	mayaCase, linkedCase, noahCase, noahGuardianCase int64
	proposal                                         int64 // on Maya's case
	mayaAlert, noahAlert                             int64
}

func TestAuthorizationMatrix(t *testing.T) {
	t.Parallel()
	c := newMatrixCast(t)
	var want map[string][]string
	if !*updateMatrix {
		want = readMatrix(t)
	}
	got := map[string][]string{}
	var routes []string
	for r := range c.app.Server.RouteGuards {
		routes = append(routes, r)
	}
	sort.Slice(routes, func(i, j int) bool {
		return matrixOrder(routes[i]) < matrixOrder(routes[j]) || matrixOrder(routes[i]) == matrixOrder(routes[j]) && routes[i] < routes[j]
	})
	for _, r := range routes {
		method, path, _ := strings.Cut(r, " ")
		if path == "/static/*" || strings.HasPrefix(path, "/dev/") {
			continue
		}
		cells := make([]string, len(matrixCallers))
		for i, who := range matrixCallers {
			own := c.outcome(t, who, method, path, false)
			if strings.Contains(path, ":") {
				own += "/" + c.outcome(t, who, method, path, true)
			}
			cells[i] = own
		}
		got[r] = cells
	}
	if *updateMatrix {
		writeMatrix(t, got)
		return
	}
	for r, cells := range got {
		exp, ok := want[r]
		if !ok {
			t.Errorf("%s is not in %s: add a line for it (got %s)", r, matrixFile, strings.Join(cells, " "))
			continue
		}
		for i, cell := range cells {
			if cell == exp[i] {
				continue
			}
			kind := "differs"
			if strings.Count(cell, "A") > strings.Count(exp[i], "A") {
				kind = "UNEXPECTED ALLOW"
			}
			t.Errorf("%s as %s: %s (got %s, table says %s)", r, matrixCallers[i], kind, cell, exp[i])
		}
	}
	for r := range want {
		if _, ok := got[r]; !ok {
			t.Errorf("%s is in %s but not a route any more", r, matrixFile)
		}
	}
}

// matrixOrder runs reads first and the requests that sign people out last,
// so one walk over a shared world sees every route with its sessions alive.
func matrixOrder(r string) int {
	switch {
	case strings.HasSuffix(r, "/logout"):
		return 4
	case strings.HasPrefix(r, "DELETE "):
		return 3 // erases the teen the rest are about
	case strings.HasPrefix(r, "GET "):
		return 0
	case strings.Contains(r, "/end") || strings.Contains(r, "/approve") || strings.Contains(r, "/decline"):
		return 2
	}
	return 1
}

func newMatrixCast(t *testing.T) *matrixCast {
	t.Helper()
	// Each request comes from an address of its own (through a trusted
	// proxy), so the per-address limits on sign-in and invitation codes
	// never answer for the guards.
	w := newWorld(t, webtest.Options{Env: map[string]string{"HEARTH_TRUSTED_PROXIES": "127.0.0.1/32,::1/128"}})
	app, st := w.app, w.app.Store
	c := &matrixCast{app: app, callers: map[string]*webtest.Browser{}, keyA: w.api.Key, secretA: w.client.WebhookSecret, notes: map[string]int64{}}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	newGuardian := func(email string) models.User {
		u, err := st.CreateUser(bg, store.NewUser{Email: email, Name: strings.Split(email, "@")[0], Password: pw, Role: models.RoleGuardian})
		must(err)
		return u
	}
	as := func(u models.User) models.Actor { return models.Actor{UserID: u.ID, Role: u.Role} }
	born := func(age int) string {
		now := st.Now()
		return time.Date(now.Year()-age, now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -2, 0).Format("2006-01")
	}
	provision := func(clientID int64, id, name string, age int) models.Teen {
		teen, _, err := st.UpsertTeen(bg, clientID, id, store.TeenInput{DisplayName: name, BirthMonth: born(age), TimeZone: "Europe/London"})
		must(err)
		return teen
	}
	teenActor := func(teen models.Teen) models.Actor { return models.Actor{UserID: teen.UserID, Role: models.RoleTeen} }
	link := func(g models.User, teen models.Teen) models.Link {
		_, code, err := st.CreateInvitation(bg, as(g), teen.DisplayName)
		must(err)
		l, err := st.AcceptInvitation(bg, teenActor(teen), code)
		must(err)
		return l
	}

	linked, ended, other := newGuardian("linked@example.com"), newGuardian("ended@example.com"), newGuardian("noahs@example.com")
	newGuardian("unlinked@example.com")
	maya := provision(w.client.ID, "tk_maya", "Maya", 14)
	clientB, _, err := st.CreateClient(bg, store.NewClient{Name: "other-chat"})
	must(err)
	noah := provision(clientB.ID, "tk_noah", "Noah", 15)
	c.mayaID, c.noahID = maya.ID, noah.ID
	provision(w.client.ID, "tk_erasable", "Erin", 16)
	c.mayaLink = link(linked, maya).ID
	c.endLink = link(ended, maya).ID
	must(st.EndLink(bg, as(ended), c.endLink, "Moving on"))
	c.noahLink = link(other, noah).ID
	inv, _, err := st.CreateInvitation(bg, as(linked), "Sam")
	must(err)
	c.mayaInv = inv.ID
	inv, _, err = st.CreateInvitation(bg, as(other), "Noah's cousin")
	must(err)
	c.noahInv = inv.ID
	req, err := st.RequestEndSupervision(bg, teenActor(maya), c.mayaLink, "")
	must(err)
	c.mayaReq = req.ID
	req, err = st.RequestEndSupervision(bg, teenActor(noah), c.noahLink, "")
	must(err)
	c.noahReq = req.ID
	for who, actor := range map[string]models.Actor{"linked": as(linked), "ended": as(ended), "teen": teenActor(maya), "noah": as(other)} {
		notes, _, err := st.Notifications(bg, actor, models.Page{})
		must(err)
		if len(notes) == 0 {
			t.Fatalf("%s has no notification to try", who)
		}
		c.notes[who] = notes[0].ID
	}
	c.noahNote = c.notes["noah"]
	agent, err := st.CreateUser(bg, store.NewUser{Email: "agent@example.com", Name: "Agent", Password: pw, Role: models.RoleStaff})
	must(err)
	lead, err := st.CreateUser(bg, store.NewUser{Email: "lead@example.com", Name: "Lead", Password: pw, Role: models.RoleLead})
	must(err)
	c.agentID, c.leadID = agent.ID, lead.ID

	// An alert about each teen.
	seedAlert := func(clientID int64, teen, id string) int64 {
		ids, err := st.SeedAlerts(bg, clientID, []store.SeedAlert{{Event: models.Event{ID: id, TeenID: teen, CounterpartID: "u_9",
			Direction: models.DirectionInbound, Category: models.CategoryBullying, Severity: models.SeverityHigh,
			ActionTaken: models.ActionMessageBlocked, OccurredAt: st.Now().Add(-time.Hour)}}})
		must(err)
		return ids[0]
	}
	c.mayaAlert = seedAlert(w.client.ID, "tk_maya", "evt_matrix_maya")
	c.noahAlert = seedAlert(clientB.ID, "tk_noah", "evt_matrix_noah")

	// Support cases: Maya's about her guardian, her guardian's about her,
	// and Noah's, with a proposal waiting on a lead on Maya's.
	open := func(who models.Actor, in store.NewDispute) models.Dispute {
		d, err := st.OpenDispute(bg, who, in)
		must(err)
		return d
	}
	mayaCase := open(teenActor(maya), store.NewDispute{Kind: models.DisputeGuardianMisuse, LinkID: c.mayaLink, Description: "They read too much into things."})
	c.mayaCase = mayaCase.ID
	c.linkedCase = open(as(linked), store.NewDispute{Kind: models.DisputeLostAccess, TeenID: maya.ID, Description: "I cannot see Maya's page."}).ID
	c.noahCase = open(teenActor(noah), store.NewDispute{Kind: models.DisputeRuleUnfair, Description: "Quiet hours start too early."}).ID
	c.noahGuardianCase = open(as(other), store.NewDispute{Kind: models.DisputeCustodyChange, TeenID: noah.ID, Description: "A custody change."}).ID
	_, err = st.ActOnDispute(bg, as(agent), mayaCase.ID, models.DisputeAction{Kind: models.ActPropose, Version: mayaCase.Version,
		Reason: "The teen asks for it.", Proposal: models.ProposeEndLink, LinkID: c.mayaLink})
	must(err)
	caseView, err := st.DisputeCaseFor(bg, as(lead), mayaCase.ID)
	must(err)
	if len(caseView.Proposals) != 1 {
		t.Fatalf("the case has %d proposals, want 1", len(caseView.Proposals))
	}
	c.proposal = caseView.Proposals[0].ID

	browser := func() *webtest.Browser {
		b := app.Browser(t)
		b.Client.Transport = &addressPerRequest{}
		return b
	}
	c.signIn = func(who string) *webtest.Browser {
		var b *webtest.Browser
		switch who {
		case "anonymous", "client":
			b = browser()
		case "linked", "unlinked", "ended":
			b = browser()
			if res := b.Submit(b.Get("/login"), "form[action='/login']", map[string]string{"email": who + "@example.com", "password": pw}); res.StatusCode != http.StatusSeeOther {
				t.Fatalf("%s sign-in: %d", who, res.StatusCode)
			}
		case "agent", "lead":
			b = browser()
			b.SignInStaff(t, who+"@example.com", pw)
		case "teen":
			tok, _, err := st.CreateSigninLink(bg, w.client.ID, "tk_maya")
			must(err)
			b = browser()
			if res := b.Submit(b.Get("/t/signin/"+tok), "form", nil); res.StatusCode != http.StatusSeeOther {
				t.Fatalf("teen sign-in: %d", res.StatusCode)
			}
		}
		b.Get("/") // the CSRF cookie
		return b
	}
	for _, who := range matrixCallers {
		c.callers[who] = c.signIn(who)
	}
	return c
}

// addressPerRequest sends each request as if from a client address of its
// own (through the trusted proxy), so the per-address limits on sign-in
// and invitation codes never answer for the guards.
type addressPerRequest struct{ n atomic.Int64 }

func (a *addressPerRequest) RoundTrip(req *http.Request) (*http.Response, error) {
	n := a.n.Add(1)
	req = req.Clone(req.Context())
	req.Header.Set("X-Forwarded-For", fmt.Sprintf("10.%d.%d.%d", n>>16&255, n>>8&255, n&255))
	return http.DefaultTransport.RoundTrip(req)
}

var matrixParam = regexp.MustCompile(`:[a-z_]+`)

// fill puts the caller's own object, or someone else's, into the path.
func (c *matrixCast) fill(t *testing.T, who, method, path string, other bool) string {
	t.Helper()
	pick := func(own, theirs int64) string {
		if other {
			return strconv.FormatInt(theirs, 10)
		}
		return strconv.FormatInt(own, 10)
	}
	return matrixParam.ReplaceAllStringFunc(path, func(p string) string {
		switch {
		case strings.HasPrefix(path, "/api/v1/teens/"):
			switch {
			case other:
				return "tk_noah"
			case method == http.MethodDelete:
				return "tk_erasable" // Maya stays for the routes after
			}
			return "tk_maya"
		case p == ":token" || p == ":code":
			return "not-a-real-token-000000" // the same for everyone: these pages are public
		case strings.HasPrefix(path, "/teens/"):
			return pick(c.mayaID, c.noahID)
		case strings.HasPrefix(path, "/invitations/"):
			return pick(c.mayaInv, c.noahInv)
		case strings.HasPrefix(path, "/requests/"), strings.HasPrefix(path, "/teen/requests/"):
			return pick(c.mayaReq, c.noahReq)
		case strings.HasPrefix(path, "/teen/links/"):
			return pick(c.mayaLink, c.noahLink)
		case p == ":pid":
			return strconv.FormatInt(c.proposal, 10) // on Maya's case; on Noah's it is not found
		case strings.HasPrefix(path, "/teen/disputes/"):
			return pick(c.mayaCase, c.noahCase)
		case strings.HasPrefix(path, "/disputes/"):
			return pick(c.linkedCase, c.noahGuardianCase)
		case strings.HasPrefix(path, "/staff/disputes/"):
			return pick(c.mayaCase, c.noahCase)
		case strings.HasPrefix(path, "/alerts/"):
			return pick(c.mayaAlert, c.noahAlert)
		case strings.HasPrefix(path, "/staff/accounts/"):
			return pick(c.agentID, c.leadID)
		case strings.HasPrefix(path, "/notifications/"):
			own, ok := c.notes[who]
			if !ok {
				own = c.notes["linked"]
			}
			return pick(own, c.noahNote)
		}
		t.Fatalf("no object for %s in %s: teach the matrix test what it names", p, path)
		return ""
	})
}

// outcome tries the route as who and says whether it was let through (A)
// or turned away (D). Reaching the handler and failing validation is A:
// the guard let the caller act.
func (c *matrixCast) outcome(t *testing.T, who, method, path string, other bool) string {
	t.Helper()
	if strings.HasSuffix(path, "/logout") {
		// Each sign-out route gets sessions of its own, or the first
		// would end them for the second.
		c.callers[who] = c.signIn(who)
	}
	b := c.callers[who]
	target := c.fill(t, who, method, path, other)
	var req *http.Request
	if strings.HasPrefix(path, "/api/") {
		body := strings.NewReader("{}")
		req, _ = http.NewRequest(method, c.app.HTTP.URL+target, body)
		req.Header.Set("Content-Type", "application/json")
		if who == "client" {
			req.Header.Set("Authorization", "Bearer "+c.keyA)
			for k, v := range sign(c.secretA, "msg_matrix", c.app.Store.Now(), "{}") {
				req.Header[k] = v
			}
		}
	} else {
		form := url.Values{"_csrf": {b.Cookie("hearth_csrf")}}
		req, _ = http.NewRequest(method, c.app.HTTP.URL+target, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	res := b.Do(req)
	loc := res.Header.Get("Location")
	switch {
	case res.StatusCode == http.StatusTooManyRequests:
		t.Fatalf("%s %s as %s was throttled: the matrix cannot tell", method, target, who)
	case strings.HasSuffix(path, "/logout") && res.StatusCode == http.StatusSeeOther:
		return "A" // signed out, and sent to sign in again
	case res.StatusCode == http.StatusUnauthorized, res.StatusCode == http.StatusForbidden, res.StatusCode == http.StatusNotFound:
		return "D"
	case res.StatusCode >= 300 && res.StatusCode < 400 && (strings.HasPrefix(loc, "/login") || strings.HasPrefix(loc, "/staff/login")):
		return "D"
	case method == http.MethodGet && res.StatusCode == http.StatusSeeOther && (loc == "/" || loc == "/teen" || loc == "/staff"):
		return "D" // sent home: sign-in pages for the signed in, staff steps for others
	}
	return "A"
}

func readMatrix(t *testing.T) map[string][]string {
	t.Helper()
	f, err := os.Open(matrixFile)
	if err != nil {
		t.Fatalf("%v (run go test ./handlers -run TestAuthorizationMatrix -update-matrix to write it, then review every cell)", err)
	}
	defer f.Close()
	out := map[string][]string{}
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		if len(fields) != 2+len(matrixCallers) {
			t.Fatalf("%s:%d: want method, path and %d cells, got %q", matrixFile, n, len(matrixCallers), line)
		}
		for _, cell := range fields[2:] {
			for _, part := range strings.Split(cell, "/") {
				if part != "A" && part != "D" {
					t.Fatalf("%s:%d: cell %q is not A, D, A/D, …", matrixFile, n, cell)
				}
			}
		}
		out[fields[0]+" "+fields[1]] = fields[2:]
	}
	return out
}

func writeMatrix(t *testing.T, got map[string][]string) {
	t.Helper()
	var b strings.Builder
	b.WriteString("# Who may use which route: A allowed, D denied (401, 403, 404 or sent to sign in).\n")
	b.WriteString("# Routes about someone's data have two results, own/other: the teen Maya's world, where each\n")
	b.WriteString("# caller is what its column says (her teen account, her linked guardian, a guardian with no link,\n")
	b.WriteString("# a guardian whose link ended, support staff, her service client), and another family's.\n")
	b.WriteString("# handlers/authz_test.go checks every route against this table; a route missing here fails.\n")
	fmt.Fprintf(&b, "%-7s %-42s", "#method", "path")
	for _, c := range matrixCallers {
		fmt.Fprintf(&b, " %-9s", c)
	}
	b.WriteString("\n")
	keys := make([]string, 0, len(got))
	for k := range got {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b string) int {
		_, pa, _ := strings.Cut(a, " ")
		_, pb, _ := strings.Cut(b, " ")
		return strings.Compare(pa+" "+a, pb+" "+b)
	})
	for _, k := range keys {
		method, path, _ := strings.Cut(k, " ")
		fmt.Fprintf(&b, "%-7s %-42s", method, path)
		for _, cell := range got[k] {
			fmt.Fprintf(&b, " %-9s", cell)
		}
		b.WriteString("\n")
	}
	if err := os.WriteFile(matrixFile, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
}
