package main

// Cross-node tests of the Consistency guarantee (DESIGN.md): once a
// guardian's change has been answered, no DM check on any node decides by
// the old rules; a node that cannot confirm it is current answers hold /
// supervision_unavailable. They build the real binary once and run two
// `hearth serve` processes on one Postgres schema, as a deployment would.

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"text/tabwriter"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/hearth-safety/hearth/models/store/storetest"
)

const (
	// clusterAPIKey is the demo client's key in every cluster test (40
	// characters of A-Z a-z 0-9 _).
	clusterAPIKey = "cluster_test_key_0123456789_abcdefghijkl"
	// clusterLease is the policy cache's lease as `hearth serve` runs it
	// (policycache.Config's default): how long a node trusts its copy
	// without a successful sync, and at most how long a writer waits.
	clusterLease = 2 * time.Second
	// clusterStartTimeout bounds seeding and each node's start-up.
	clusterStartTimeout = 45 * time.Second
	// clusterStopTimeout bounds a node's graceful stop before it is killed.
	clusterStopTimeout = 15 * time.Second
	// checkTimeout bounds one DM check.
	checkTimeout = 3 * time.Second
	// slowCheck is the latency over which an answer counts as not given in
	// time: the SDK gives a check 150 ms (client.DefaultCheckTimeout) and
	// then fails closed; this allows for a loaded test machine.
	slowCheck = 500 * time.Millisecond
)

// The binary is built once for all the cluster tests running at the same
// time (they run in parallel) and removed when the last of them ends.
var hearthBin struct {
	mu    sync.Mutex
	once  *sync.Once
	path  string
	err   error
	users int
}

// hearthBinary returns the path of a `hearth` binary built from this
// package with the go command on PATH.
func hearthBinary(t *testing.T) string {
	t.Helper()
	hearthBin.mu.Lock()
	if hearthBin.once == nil {
		hearthBin.once = new(sync.Once)
	}
	once := hearthBin.once
	hearthBin.users++
	hearthBin.mu.Unlock()
	t.Cleanup(func() {
		hearthBin.mu.Lock()
		defer hearthBin.mu.Unlock()
		if hearthBin.users--; hearthBin.users == 0 {
			if hearthBin.path != "" {
				os.RemoveAll(filepath.Dir(hearthBin.path))
			}
			hearthBin.once, hearthBin.path, hearthBin.err = nil, "", nil
		}
	})
	once.Do(func() {
		started := time.Now()
		goCmd, err := exec.LookPath("go")
		if err != nil {
			hearthBin.err = fmt.Errorf("the cluster tests build the hearth binary with the go command: %w", err)
			return
		}
		dir, err := os.MkdirTemp("", "hearth-cluster-test-")
		if err != nil {
			hearthBin.err = err
			return
		}
		bin := filepath.Join(dir, "hearth")
		if runtime.GOOS == "windows" {
			bin += ".exe"
		}
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		out, err := exec.CommandContext(ctx, goCmd, "build", "-o", bin, ".").CombinedOutput()
		if err != nil {
			os.RemoveAll(dir)
			hearthBin.err = fmt.Errorf("go build -o %s ./cmd/hearth: %v\n%s", bin, err, out)
			return
		}
		hearthBin.mu.Lock()
		hearthBin.path = bin
		hearthBin.mu.Unlock()
		t.Logf("built %s in %s", bin, time.Since(started).Round(time.Millisecond))
	})
	hearthBin.mu.Lock()
	defer hearthBin.mu.Unlock()
	if hearthBin.err != nil {
		t.Fatal(hearthBin.err)
	}
	return hearthBin.path
}

// requirePostgres returns the Postgres to run on, skipping loudly without
// one (failing under HEARTH_REQUIRE_POSTGRES=1).
func requirePostgres(t *testing.T) string {
	t.Helper()
	base, why := storetest.PostgresURL()
	if base == "" {
		if os.Getenv("HEARTH_REQUIRE_POSTGRES") == "1" {
			t.Fatalf("HEARTH_REQUIRE_POSTGRES=1 but %s", why)
		}
		t.Skipf("SKIPPED on PostgreSQL: %s (cluster tests run two serve processes on one Postgres)", why)
	}
	return base
}

// processContext ends a little before the test's deadline, so that the
// processes it started are killed even when the test times out (a timed
// out test binary exits without running cleanups).
func processContext(t *testing.T) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	if d, ok := t.Deadline(); ok {
		cancel()
		ctx, cancel = context.WithDeadline(context.Background(), d.Add(-5*time.Second))
	}
	t.Cleanup(cancel)
	return ctx
}

// childEnv is this process's environment without HEARTH_* variables, plus
// env.
func childEnv(env map[string]string) []string {
	var out []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "HEARTH_") {
			out = append(out, kv)
		}
	}
	for k, v := range env {
		out = append(out, k+"="+v)
	}
	return out
}

func withQuery(dsn, key, value string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		panic(err)
	}
	q := u.Query()
	q.Set(key, value)
	u.RawQuery = q.Encode()
	return u.String()
}

func withHost(dsn, hostport string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		panic(err)
	}
	u.Host = hostport
	return u.String()
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

// runHearth runs one hearth command to completion and returns its stdout.
func runHearth(t *testing.T, ctx context.Context, bin string, env map[string]string, timeout time.Duration, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Env = childEnv(env)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		t.Fatalf("hearth %s: %v (within %s)\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, timeout, stdout.String(), stderr.String())
	}
	return stdout.String()
}

// hearthProc is one `hearth serve` process.
type hearthProc struct {
	name           string
	base           string // http://127.0.0.1:port
	cmd            *exec.Cmd
	stdout, stderr *syncBuffer
	exited         chan struct{}
	waitErr        error // set once exited is closed
}

// startNode starts `hearth serve` as name on its own port. It is stopped
// (SIGTERM, then killed) when the test ends; call waitReady before use.
func startNode(t *testing.T, ctx context.Context, bin, name, dsn, sessionKeys string) *hearthProc {
	t.Helper()
	addr := freeAddr(t)
	p := &hearthProc{name: name, base: "http://" + addr, stdout: &syncBuffer{}, stderr: &syncBuffer{}, exited: make(chan struct{})}
	p.cmd = exec.CommandContext(ctx, bin, "serve")
	p.cmd.Env = childEnv(map[string]string{
		"HEARTH_ENV":          "development",
		"HEARTH_ADDR":         addr,
		"HEARTH_DATABASE_URL": dsn,
		"HEARTH_SESSION_KEYS": sessionKeys,
		"HEARTH_LOG_LEVEL":    "info",
	})
	p.cmd.Stdout, p.cmd.Stderr = p.stdout, p.stderr
	p.cmd.WaitDelay = 5 * time.Second
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", name, err)
	}
	go func() {
		p.waitErr = p.cmd.Wait()
		close(p.exited)
	}()
	t.Cleanup(func() {
		p.stop(t)
		if t.Failed() {
			t.Logf("%s stdout:\n%s\n%s stderr (last 6 KiB):\n%s", name, p.stdout.String(), name, tail(p.stderr.String(), 6<<10))
		}
	})
	return p
}

// waitReady waits until the node says where it listens and /readyz
// answers 200.
func (p *hearthProc) waitReady(t *testing.T) {
	t.Helper()
	want := "Hearth is listening on " + p.base
	waitUntil(t, clusterStartTimeout, p.name+" to listen and be ready", func() bool {
		select {
		case <-p.exited:
			t.Fatalf("%s exited before it was ready: %v\nstderr:\n%s", p.name, p.waitErr, p.stderr.String())
		default:
		}
		return strings.Contains(p.stdout.String(), want) && getStatus(t, p.base+"/readyz") == http.StatusOK
	})
}

// stop asks the process to shut down and kills it if it does not within
// clusterStopTimeout.
func (p *hearthProc) stop(t *testing.T) {
	select {
	case <-p.exited:
		return
	default:
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		p.cmd.Process.Kill()
	}
	select {
	case <-p.exited:
	case <-time.After(clusterStopTimeout):
		t.Errorf("%s did not stop within %s of SIGTERM; killed", p.name, clusterStopTimeout)
		p.cmd.Process.Kill()
		<-p.exited
	}
}

// logLines returns the lines of the node's log that mention any of words.
func (p *hearthProc) logLines(words ...string) []string {
	var out []string
	for _, l := range strings.Split(p.stderr.String(), "\n") {
		for _, w := range words {
			if strings.Contains(l, w) {
				out = append(out, l)
				break
			}
		}
	}
	return out
}

// cluster is two nodes, A and B, on one fresh schema seeded by `hearth
// demo`.
type cluster struct {
	ctx       context.Context
	base      string // the Postgres the tests use (for pg_stat_activity)
	dsn       string // the schema's URL, straight to Postgres
	A, B      *hearthProc
	appA      string // application_name of A's and B's Postgres sessions
	appB      string
	proxy     *tcpProxy // between B and Postgres, when asked for
	api       *http.Client
	checkBody []byte
}

func newCluster(t *testing.T, proxyB bool) *cluster {
	t.Helper()
	started := time.Now()
	c := &cluster{base: requirePostgres(t)}
	bin := hearthBinary(t)
	c.ctx = processContext(t)
	c.dsn = storetest.NewSchema(t, c.base)
	out := runHearth(t, c.ctx, bin, map[string]string{"HEARTH_DATABASE_URL": withQuery(c.dsn, "application_name", "seed")},
		clusterStartTimeout, "demo", "--api-key", clusterAPIKey)
	if !strings.Contains(out, clusterAPIKey) {
		t.Fatalf("hearth demo did not take the API key:\n%s", out)
	}
	seeded := time.Now()
	sessionKeys := randomHex(32)
	// Each node's sessions carry its name and this cluster's, so that
	// pg_stat_activity tells them from other tests' nodes.
	tag := randomHex(3)
	c.appA, c.appB = "nodeA-"+tag, "nodeB-"+tag
	bDSN := withQuery(c.dsn, "application_name", c.appB)
	if proxyB {
		u, _ := url.Parse(c.dsn)
		target := u.Host
		if u.Port() == "" {
			target = net.JoinHostPort(u.Hostname(), "5432")
		}
		c.proxy = startProxy(t, target)
		bDSN = withHost(bDSN, c.proxy.Addr())
	}
	c.A = startNode(t, c.ctx, bin, "nodeA", withQuery(c.dsn, "application_name", c.appA), sessionKeys)
	c.B = startNode(t, c.ctx, bin, "nodeB", bDSN, sessionKeys)
	c.A.waitReady(t)
	c.B.waitReady(t)
	c.api = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 4, IdleConnTimeout: 30 * time.Second}}
	t.Cleanup(c.api.CloseIdleConnections)
	day := time.Now().UTC()
	noon := time.Date(day.Year(), day.Month(), day.Day(), 12, 0, 0, 0, time.UTC) // outside Maya's quiet hours (London)
	c.checkBody = fmt.Appendf(nil, `{"sender_id":"u_friend","recipient_id":"tk_maya","sent_at":%q,"context":{"mutual_follow":true,"sender_is_adult":false}}`,
		noon.Format(time.RFC3339))
	via := "directly"
	if proxyB {
		via = "through the test's proxy " + c.proxy.Addr()
	}
	t.Logf("cluster up in %s (binary, migrations and demo seed %s; nodes ready %s): nodeA %s (Postgres directly, sessions %s), nodeB %s (Postgres %s, sessions %s)",
		time.Since(started).Round(time.Millisecond), seeded.Sub(started).Round(time.Millisecond), time.Since(seeded).Round(time.Millisecond),
		c.A.base, c.appA, c.B.base, via, c.appB)
	return c
}

// dmAnswer is one answer to POST /api/v1/dm/check.
type dmAnswer struct {
	Status        int    `json:"-"`
	Err           error  `json:"-"`
	Body          string `json:"-"` // of a non-200 answer
	Decision      string `json:"decision"`
	Reason        string `json:"reason"`
	DecidedBy     string `json:"decided_by"`
	PolicyVersion int64  `json:"policy_version"`
}

// kind is the answer without its version, for tallies.
func (a dmAnswer) kind() string {
	switch {
	case a.Err != nil && a.Status == 0:
		return "no answer (transport error)"
	case a.Err != nil:
		return fmt.Sprintf("HTTP %d, unreadable body", a.Status)
	case a.Status != http.StatusOK:
		return fmt.Sprintf("HTTP %d", a.Status)
	}
	return a.Decision + "/" + a.Reason + " by " + a.DecidedBy
}

func (a dmAnswer) String() string {
	switch {
	case a.Err != nil:
		return fmt.Sprintf("%s: %v", a.kind(), a.Err)
	case a.Status != http.StatusOK:
		return fmt.Sprintf("HTTP %d %s", a.Status, tail(a.Body, 300))
	}
	return fmt.Sprintf("%s v%d", a.kind(), a.PolicyVersion)
}

func (a dmAnswer) is(decision, reason string) bool {
	return a.Err == nil && a.Status == http.StatusOK && a.Decision == decision && a.Reason == reason
}

// isHold is the fail-closed answer of a node that cannot confirm it is
// current.
func (a dmAnswer) isHold() bool {
	return a.is("hold", "supervision_unavailable") && a.DecidedBy == "none"
}

// check asks node whether u_friend (a mutual follow, not an adult) may DM
// Maya now (at noon UTC today, outside her quiet hours).
func (c *cluster) check(node *hearthProc, key string) dmAnswer {
	ctx, cancel := context.WithTimeout(context.Background(), checkTimeout)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, node.base+"/api/v1/dm/check", bytes.NewReader(c.checkBody))
	req.Header.Set("Authorization", "Bearer "+key)
	req.Header.Set("Content-Type", "application/json")
	resp, err := c.api.Do(req)
	if err != nil {
		return dmAnswer{Err: err}
	}
	defer resp.Body.Close()
	a := dmAnswer{Status: resp.StatusCode}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	switch {
	case err != nil:
		a.Err = err
	case resp.StatusCode == http.StatusOK:
		if err := json.Unmarshal(body, &a); err != nil {
			a.Err = fmt.Errorf("decoding %q: %w", body, err)
		}
	default:
		a.Body = string(body)
	}
	return a
}

// guardian is Maya's guardian signed in on node A, editing her rules on
// the Messages page.
type guardian struct {
	b    *browser
	path string // /teens/{id}/messages
}

// signIn signs in as the demo parent on node A and finds Maya's Messages
// page from the dashboard.
func (c *cluster) signIn(t *testing.T) *guardian {
	t.Helper()
	b := newBrowser(t, c.A.base)
	login := b.get("/login", http.StatusOK)
	f := login.form(t, `form[action="/login"]`)
	f.Set("email", "parent@example.com")
	f.Set("password", "demo-parent-pass")
	resp := b.postRaw("/login", f)
	if resp.StatusCode != http.StatusSeeOther {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("signing in as parent@example.com: %d, want 303\n%s", resp.StatusCode, tail(string(body), 2000))
	}
	dash := b.get("/", http.StatusOK)
	var teenPath string
	dash.doc.Find("a[href^='/teens/']").EachWithBreak(func(_ int, s *goquery.Selection) bool {
		href, _ := s.Attr("href")
		if strings.Contains(s.Text(), "Maya") && regexpTeenPath.MatchString(href) {
			teenPath = href
			return false
		}
		return true
	})
	if teenPath == "" {
		t.Fatalf("no /teens/{id} link for Maya on the dashboard:\n%s", tail(dash.body, 4000))
	}
	return &guardian{b: b, path: teenPath + "/messages"}
}

var regexpTeenPath = regexp.MustCompile(`^/teens/[0-9]+$`)

// load reads the Messages form as a browser would submit it unchanged,
// with its version and CSRF token.
func (g *guardian) load(t *testing.T) (url.Values, int64) {
	t.Helper()
	pg := g.b.get(g.path, http.StatusOK)
	vals := formValues(t, pg, fmt.Sprintf(`form[action=%q]`, g.path))
	v, err := strconv.ParseInt(vals.Get("version"), 10, 64)
	if err != nil || vals.Get("_csrf") == "" {
		t.Fatalf("the Messages form lacks its version (%q) or CSRF token:\n%v", vals.Get("version"), vals)
	}
	return vals, v
}

// save posts the form with audience changed and action=save, and returns
// how long the answer took. Anything but 303 fails the test.
func (g *guardian) save(t *testing.T, form url.Values, audience string) time.Duration {
	t.Helper()
	v := url.Values{}
	for k, vs := range form {
		v[k] = append([]string(nil), vs...)
	}
	v.Set("audience", audience)
	v.Set("action", "save")
	started := time.Now()
	resp, err := g.b.client.PostForm(g.b.base+g.path, v)
	took := time.Since(started)
	if err != nil {
		t.Fatalf("saving audience=%s after %s: %v", audience, took, err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		msg := string(body)
		if doc, err := goquery.NewDocumentFromReader(bytes.NewReader(body)); err == nil {
			msg = strings.Join(strings.Fields(doc.Find("main").Text()), " ")
		}
		t.Fatalf("saving audience=%s: %d after %s, want 303\n%s", audience, resp.StatusCode, took, tail(msg, 2000))
	}
	return took
}

// formValues returns what a browser would submit from the form matching
// sel without touching it: hidden and text inputs, checked boxes and
// radios, selected options.
func formValues(t *testing.T, pg *page, sel string) url.Values {
	t.Helper()
	f := pg.doc.Find(sel).First()
	if f.Length() == 0 {
		t.Fatalf("no form %s on the page:\n%s", sel, tail(pg.body, 4000))
	}
	v := url.Values{}
	f.Find("input, select, textarea").Each(func(_ int, s *goquery.Selection) {
		name, _ := s.Attr("name")
		if name == "" {
			return
		}
		if _, disabled := s.Attr("disabled"); disabled {
			return
		}
		switch goquery.NodeName(s) {
		case "select":
			opt := s.Find("option[selected]").First()
			if opt.Length() == 0 {
				opt = s.Find("option").First()
			}
			v.Add(name, opt.AttrOr("value", opt.Text()))
		case "textarea":
			v.Add(name, s.Text())
		default:
			switch strings.ToLower(s.AttrOr("type", "text")) {
			case "submit", "button", "reset", "image", "file":
			case "checkbox", "radio":
				if _, checked := s.Attr("checked"); checked {
					v.Add(name, s.AttrOr("value", "on"))
				}
			default:
				v.Add(name, s.AttrOr("value", ""))
			}
		}
	})
	return v
}

// TestCluster_ChangeThroughOneCheckThroughOther changes Maya's rules
// through node A and checks through node B right after each change is
// answered: B must decide by the new rules every time, never by the old
// ones and never holding.
func TestCluster_ChangeThroughOneCheckThroughOther(t *testing.T) {
	t.Parallel()
	c := newCluster(t, false)
	g := c.signIn(t)
	_, v0 := g.load(t)
	t.Logf("Maya's rules are at version %d; flipping her audience through nodeA, checking through nodeB", v0)

	const rounds = 30
	var saves, checks []time.Duration
	failures := 0
	for i := 1; i <= rounds; i++ {
		audience, decision, reason := "nobody", "deny", "dms_off"
		if i%2 == 0 {
			audience, decision, reason = "everyone", "allow", "allowed"
		}
		form, v := g.load(t)
		if want := v0 + int64(i-1); v != want {
			t.Fatalf("round %d: the form shows version %d, want %d", i, v, want)
		}
		saved := g.save(t, form, audience)
		started := time.Now()
		a := c.check(c.B, clusterAPIKey)
		checked := time.Since(started)
		saves, checks = append(saves, saved), append(checks, checked)
		t.Logf("round %2d: nodeA saved audience=%-8s in %6s; nodeB answered %s in %s", i, audience, saved.Round(time.Millisecond), a, checked.Round(100*time.Microsecond))
		wantVersion := v0 + int64(i)
		switch {
		case !a.is(decision, reason) || a.DecidedBy != "recipient":
			failures++
			t.Errorf("round %d: right after nodeA answered the change to audience=%s, nodeB answered %s, want %s/%s by recipient v%d", i, audience, a, decision, reason, wantVersion)
		case a.PolicyVersion != wantVersion:
			failures++
			t.Errorf("round %d: nodeB decided by version %d, want %d (one more per change)", i, a.PolicyVersion, wantVersion)
		}
		if failures >= 5 {
			t.Fatalf("stopping after %d failed rounds", failures)
		}
	}
	t.Logf("saves on nodeA: %s; checks on nodeB: %s", durStats(saves), durStats(checks))
}

// TestCluster_NodeCutOffFromDatabaseHolds cuts node B off from Postgres
// (every connection closed, new ones refused), changes Maya's rules through
// node A, and hammers B: once A has answered the change, B must never allow
// by the old rules; within a lease (plus slack) of the cut it must answer
// hold / supervision_unavailable; once reconnected it decides by the new
// rules.
func TestCluster_NodeCutOffFromDatabaseHolds(t *testing.T) {
	t.Parallel()
	testNodeOffDatabase(t, false)
}

// TestCluster_NodePartitionedFromDatabaseHolds is the same with a network
// that drops packets instead: node B's connections stay open but nothing
// passes either way (so nothing fails fast; waits end only on timeouts).
func TestCluster_NodePartitionedFromDatabaseHolds(t *testing.T) {
	t.Parallel()
	testNodeOffDatabase(t, true)
}

// testNodeOffDatabase cuts node B off its database (closing its
// connections, or silencing them when silent), changes the rules through
// node A, and judges every answer B gives meanwhile.
func testNodeOffDatabase(t *testing.T, silent bool) {
	c := newCluster(t, true)
	g := c.signIn(t)
	admin, err := sql.Open("pgx", c.base)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Close() })
	conns := func(app string) int {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		defer cancel()
		var n int
		if err := admin.QueryRowContext(ctx, "SELECT count(*) FROM pg_stat_activity WHERE application_name = $1", app).Scan(&n); err != nil {
			t.Fatalf("counting %s's connections: %v", app, err)
		}
		return n
	}

	// The old rules let friends write: a node deciding by them allows.
	form, v := g.load(t)
	g.save(t, form, "everyone")
	vOld := v + 1
	if a := c.check(c.B, clusterAPIKey); !a.is("allow", "allowed") || a.PolicyVersion != vOld {
		t.Fatalf("before the cut, nodeB answered %s, want allow/allowed v%d", a, vOld)
	}
	t.Logf("before the cut: audience=everyone (v%d), nodeB allows; nodeB has %d Postgres connections, all through the proxy", vOld, conns(c.appB))
	form, _ = g.load(t) // the form for the change, fetched before the cut
	vNew := vOld + 1

	h := startHammer(c, c.B, 20*time.Millisecond)
	defer h.stop()
	time.Sleep(100 * time.Millisecond) // a few answers from before the cut
	tCut := time.Now()
	if silent {
		c.proxy.silence()
		t.Logf("t=0: silenced nodeB's link to Postgres (connections stay open, no byte passes either way)")
	} else {
		closed := c.proxy.cut()
		t.Logf("t=0: cut nodeB off from Postgres (closed %d proxied sockets; new connections are closed at once)", closed)
	}

	took := g.save(t, form, "nobody")
	tAnswered := time.Now()
	t.Logf("t=%s: nodeA answered the change to audience=nobody (v%d) after %s", since(tCut, tAnswered), vNew, took.Round(time.Millisecond))
	if took > clusterLease+1500*time.Millisecond {
		t.Errorf("nodeA took %s to answer the change; a writer should wait at most about a lease (%s) for a node that does not confirm", took, clusterLease)
	}
	if a := c.check(c.A, clusterAPIKey); !a.is("deny", "dms_off") || a.PolicyVersion != vNew {
		t.Errorf("nodeA itself answered %s after its change, want deny/dms_off v%d", a, vNew)
	}
	holdBy := tCut.Add(clusterLease + time.Second)
	until := tAnswered.Add(3 * time.Second)
	if until.Before(holdBy.Add(time.Second)) {
		until = holdBy.Add(time.Second)
	}
	time.Sleep(time.Until(until))
	if !silent {
		// The cut is real: Postgres ended every session of nodeB (a backend
		// notices its client is gone when it next reads, at the latest once
		// its statement ends, within statement_timeout).
		if n := conns(c.appB); n > 0 {
			t.Logf("t=%s: Postgres still shows %d nodeB sessions (ending once they next read):\n%s", since(tCut, time.Now()), n, sessions(admin, c.appB, tCut))
		}
		if err := waitFor(5*time.Second, func() bool { return conns(c.appB) == 0 }); err != nil {
			t.Errorf("at t=%s Postgres still shows nodeB sessions although the proxy closed them:\n%s", since(tCut, time.Now()), sessions(admin, c.appB, tCut))
		} else {
			t.Logf("t=%s: Postgres shows no nodeB session", since(tCut, time.Now()))
		}
	}
	accepted, refused := c.proxy.stats()
	tRestore := time.Now()
	c.proxy.restore()
	t.Logf("t=%s: restored nodeB's connection (the proxy refused %d connection attempts during the cut; %d forwarded in all)", since(tCut, tRestore), refused, accepted)

	var tRecovered time.Time
	waitUntil(t, 10*time.Second, "nodeB to decide by the new rules after the cut", func() bool {
		for _, s := range h.samples() {
			if s.start.After(tRestore) && s.ans.is("deny", "dms_off") && s.ans.PolicyVersion == vNew {
				tRecovered = s.end
				return true
			}
		}
		return false
	})
	time.Sleep(200 * time.Millisecond) // a few answers after recovery
	h.stop()
	t.Logf("t=%s: nodeB decides by the new rules again, %s after the restore", since(tCut, tRecovered), tRecovered.Sub(tRestore).Round(time.Millisecond))

	// Judge every answer B gave, by when its request was sent.
	phases := []struct {
		name     string
		from, to time.Time
	}{
		{"before the cut", time.Time{}, tCut},
		{"cut, change not yet answered", tCut, tAnswered},
		{"change answered, within lease+1s of cut", tAnswered, holdBy},
		{"lease+1s after cut, until restore", holdBy, tRestore},
		{"after restore", tRestore, time.Now().Add(time.Hour)},
	}
	phaseOf := func(s sample) int {
		for i, p := range phases {
			if !s.start.Before(p.from) && s.start.Before(p.to) {
				return i
			}
		}
		return len(phases) - 1
	}
	tally := make([]map[string]int, len(phases))
	latency := make([][]time.Duration, len(phases))
	for i := range tally {
		tally[i] = map[string]int{}
	}
	var stale, notHolding, bad []string
	var firstHold, lastAllow time.Time
	for _, s := range h.samples() {
		i := phaseOf(s)
		tally[i][s.kind()]++
		latency[i] = append(latency[i], s.end.Sub(s.start))
		at := fmt.Sprintf("sent t=%s, answered t=%s (%s): %s", since(tCut, s.start), since(tCut, s.end), s.end.Sub(s.start).Round(time.Millisecond), s.ans)
		if s.ans.isHold() && !s.slow() && firstHold.IsZero() && s.start.After(tCut) {
			firstHold = s.start
		}
		if s.ans.is("allow", "allowed") {
			lastAllow = s.start
		}
		switch {
		case s.start.After(tAnswered) && s.ans.Decision == "allow":
			stale = append(stale, at)
		case s.start.After(holdBy) && s.start.Before(tRestore) && (!s.ans.isHold() || s.slow()):
			notHolding = append(notHolding, at)
		case s.start.After(tAnswered) && !s.ans.isHold() && !(s.ans.is("deny", "dms_off") && s.ans.PolicyVersion == vNew):
			bad = append(bad, at)
		case s.ans.Err != nil || s.ans.Status != http.StatusOK || s.slow():
			bad = append(bad, at)
		}
	}
	var tb strings.Builder
	tw := tabwriter.NewWriter(&tb, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "phase (by when the check was sent)\tfrom\tto\tlatency p50 / max\tanswers of nodeB")
	for i, p := range phases {
		from, to := "", "end"
		if !p.from.IsZero() {
			from = "t=" + since(tCut, p.from)
		}
		if i < len(phases)-1 {
			to = "t=" + since(tCut, p.to)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", p.name, from, to, p50max(latency[i]), formatTally(tally[i]))
	}
	tw.Flush()
	t.Logf("nodeB's answers, one check every 20 ms (t=0 is the cut):\n%s", tb.String())
	if !firstHold.IsZero() {
		t.Logf("nodeB first held at t=%s (lease %s); last allowed (old rules) at t=%s", since(tCut, firstHold), clusterLease, since(tCut, lastAllow))
	}
	for _, n := range []*hearthProc{c.A, c.B} {
		if lines := n.logLines("policy cache", "rules change", "did not confirm", "listener"); len(lines) > 0 {
			t.Logf("%s's log about the policy copy:\n  %s", n.name, strings.Join(lines, "\n  "))
		}
	}

	report := func(what string, list []string) {
		if len(list) > 0 {
			if len(list) > 8 {
				list = append(list[:8:8], fmt.Sprintf("… and %d more", len(list)-8))
			}
			t.Errorf("%s (%d answers):\n  %s", what, len(list), strings.Join(list, "\n  "))
		}
	}
	report("STALE: nodeB allowed by the old rules after nodeA had answered the change", stale)
	report(fmt.Sprintf("nodeB, cut off for over lease+1s (%s), did not answer hold/supervision_unavailable by none within %s", clusterLease+time.Second, slowCheck), notHolding)
	report(fmt.Sprintf("nodeB answered neither by the new rules nor hold/supervision_unavailable, or not with a decision at all, or not within %s", slowCheck), bad)
	if tally[3]["hold/supervision_unavailable by none"] == 0 {
		t.Errorf("nodeB gave no timely hold/supervision_unavailable answer to checks sent between lease+1s after the cut and the restore")
	}
}

// TestCluster_RevokedKeyStopsEverywhere revokes the demo client's key with
// `hearth client revoke` and checks that both nodes refuse it within one
// poll.
func TestCluster_RevokedKeyStopsEverywhere(t *testing.T) {
	t.Parallel()
	c := newCluster(t, false)
	for _, n := range []*hearthProc{c.A, c.B} {
		if a := c.check(n, clusterAPIKey); a.Status != http.StatusOK || a.Err != nil {
			t.Fatalf("before the revoke, %s answered %s, want a decision", n.name, a)
		}
	}
	out := runHearth(t, c.ctx, hearthBinary(t), map[string]string{"HEARTH_DATABASE_URL": withQuery(c.dsn, "application_name", "cli")},
		clusterStartTimeout, "client", "revoke", "--name", "demo-messenger")
	revoked := time.Now()
	t.Logf("hearth client revoke: %s", strings.TrimSpace(out))

	const within = time.Second
	first := map[string]time.Duration{}
	var after []string
	deadline := revoked.Add(within + 2*time.Second)
	for time.Now().Before(deadline) && (len(first) < 2 || time.Since(revoked) < within+300*time.Millisecond) {
		for _, n := range []*hearthProc{c.A, c.B} {
			a := c.check(n, clusterAPIKey)
			_, refused := first[n.name]
			switch {
			case a.Status == http.StatusUnauthorized && !refused:
				first[n.name] = time.Since(revoked)
			case a.Status != http.StatusUnauthorized && refused:
				after = append(after, fmt.Sprintf("%s at +%s: %s", n.name, time.Since(revoked).Round(time.Millisecond), a))
			case a.Status != http.StatusUnauthorized && a.Status != http.StatusOK:
				after = append(after, fmt.Sprintf("%s at +%s: %s", n.name, time.Since(revoked).Round(time.Millisecond), a))
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	for _, n := range []*hearthProc{c.A, c.B} {
		d, ok := first[n.name]
		switch {
		case !ok:
			t.Errorf("%s still accepted the revoked key %s after the revoke", n.name, time.Since(revoked).Round(time.Millisecond))
		case d > within:
			t.Errorf("%s first refused the revoked key %s after the revoke, want within %s", n.name, d.Round(time.Millisecond), within)
		default:
			t.Logf("%s refuses the revoked key (401) from +%s", n.name, d.Round(time.Millisecond))
		}
	}
	if len(after) > 0 {
		t.Errorf("after refusing it, a node answered the revoked key otherwise than 401, or with an error:\n  %s", strings.Join(after, "\n  "))
	}
}

// waitFor polls cond every 10 ms until it holds or timeout passes.
func waitFor(timeout time.Duration, cond func() bool) error {
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("not within %s", timeout)
		}
		time.Sleep(pollInterval)
	}
	return nil
}

// sessions describes the Postgres sessions of application app.
func sessions(db *sql.DB, app string, t0 time.Time) string {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	rows, err := db.QueryContext(ctx, `SELECT pid, coalesce(state, ''), backend_start, coalesce(wait_event, ''), left(query, 100)
		FROM pg_stat_activity WHERE application_name = $1`, app)
	if err != nil {
		return err.Error()
	}
	defer rows.Close()
	var b strings.Builder
	for rows.Next() {
		var pid int
		var state, wait, q string
		var started time.Time
		if err := rows.Scan(&pid, &state, &started, &wait, &q); err != nil {
			return err.Error()
		}
		fmt.Fprintf(&b, "  pid %d %s, started t=%s, waiting on %q: %s\n", pid, state, since(t0, started), wait, q)
	}
	return b.String()
}

// sample is one check sent by a hammer.
type sample struct {
	start, end time.Time
	ans        dmAnswer
}

func (s sample) slow() bool { return s.end.Sub(s.start) > slowCheck }

// kind is the answer's kind, marked when it came too late to count.
func (s sample) kind() string {
	if s.slow() && s.ans.Err == nil {
		return s.ans.kind() + fmt.Sprintf(" (after >%s)", slowCheck)
	}
	return s.ans.kind()
}

// hammer sends a check to one node at a fixed interval until stopped,
// without waiting for earlier answers (so a hanging node cannot slow it).
type hammer struct {
	mu       sync.Mutex
	got      []sample
	quit     chan struct{}
	done     chan struct{}
	stopOnce sync.Once
}

func startHammer(c *cluster, node *hearthProc, every time.Duration) *hammer {
	h := &hammer{quit: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(h.done)
		var inflight sync.WaitGroup
		defer inflight.Wait()
		limit := make(chan struct{}, 256) // checks in flight, each bounded by checkTimeout
		tick := time.NewTicker(every)
		defer tick.Stop()
		for {
			select {
			case limit <- struct{}{}:
				inflight.Add(1)
				go func() {
					defer func() { <-limit; inflight.Done() }()
					s := sample{start: time.Now()}
					s.ans = c.check(node, clusterAPIKey)
					s.end = time.Now()
					h.mu.Lock()
					h.got = append(h.got, s)
					h.mu.Unlock()
				}()
			default: // too many checks hang: skip a beat
			}
			select {
			case <-h.quit:
				return
			case <-tick.C:
			}
		}
	}()
	return h
}

// samples returns the answers so far, in the order their checks were sent.
func (h *hammer) samples() []sample {
	h.mu.Lock()
	out := append([]sample(nil), h.got...)
	h.mu.Unlock()
	sort.Slice(out, func(i, j int) bool { return out[i].start.Before(out[j].start) })
	return out
}

func (h *hammer) stop() {
	h.stopOnce.Do(func() { close(h.quit) })
	<-h.done
}

// since formats b-a in milliseconds, signed.
func since(a, b time.Time) string {
	return fmt.Sprintf("%+.3fs", b.Sub(a).Seconds())
}

func formatTally(m map[string]int) string {
	if len(m) == 0 {
		return "(none)"
	}
	kinds := make([]string, 0, len(m))
	for k := range m {
		kinds = append(kinds, k)
	}
	sort.Slice(kinds, func(i, j int) bool {
		return m[kinds[i]] > m[kinds[j]] || m[kinds[i]] == m[kinds[j]] && kinds[i] < kinds[j]
	})
	parts := make([]string, len(kinds))
	for i, k := range kinds {
		parts[i] = fmt.Sprintf("%d× %s", m[k], k)
	}
	return strings.Join(parts, ", ")
}

// p50max formats the median and the largest of ds.
func p50max(ds []time.Duration) string {
	if len(ds) == 0 {
		return "-"
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	return s[len(s)/2].Round(100*time.Microsecond).String() + " / " + s[len(s)-1].Round(100*time.Microsecond).String()
}

func durStats(ds []time.Duration) string {
	if len(ds) == 0 {
		return "none"
	}
	s := append([]time.Duration(nil), ds...)
	sort.Slice(s, func(i, j int) bool { return s[i] < s[j] })
	var sum time.Duration
	for _, d := range s {
		sum += d
	}
	return fmt.Sprintf("min %s, median %s, max %s, mean %s", s[0].Round(100*time.Microsecond), s[len(s)/2].Round(100*time.Microsecond),
		s[len(s)-1].Round(100*time.Microsecond), (sum / time.Duration(len(s))).Round(100*time.Microsecond))
}
