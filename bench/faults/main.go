// Command faults drives Hearth under load on PostgreSQL while it breaks
// things, then checks that nothing unsafe happened. In one run it
//
//  1. builds hearth, makes a fresh Postgres database, seeds it with
//     `hearth demo --teens N`, and starts three `hearth serve` nodes on it;
//  2. drives, at once: DM checks from adult strangers to seeded teens (their
//     age defaults deny those: any allow means missing rules), DM checks to
//     Maya while her guardian keeps switching her DMs off and on (an allow
//     after "off" was acknowledged means stale rules), and signed moderation
//     event deliveries, each batch retried with the same event IDs until
//     some node answers 2xx;
//  3. meanwhile restarts Postgres, kills node A with SIGKILL (and starts it
//     again), and sends node B SIGTERM, timing its drain;
//  4. compares what was acknowledged with what is stored, and prints a
//     table of the faults and outcomes.
//
// Pass: every event answered 2xx is stored exactly once; no DM check is
// answered allow by stale or missing rules; SIGTERM drains within 25 s.
// It exits 1 when a pass condition fails or the run could not be made.
//
//	go run ./bench/faults
//	go run ./bench/faults -d 90s -teens 2000 -restart-pg 'pg_ctlcluster 15 main restart'
//
// It restarts the Postgres it is given: never point it at one that others
// are using. See bench/README.md.
package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib"
)

const (
	apiKey        = "bench_faults_0123456789abcdefghijklmnopqrstuvw"
	webhookSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwZmF1bHRz"
)

type options struct {
	db        string
	teens     int
	duration  time.Duration
	restartPG string
	keep      bool
	batch     int
}

func main() {
	var o options
	flag.StringVar(&o.db, "db", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable", "a Postgres this run may restart; a fresh database is made on it")
	flag.IntVar(&o.teens, "teens", 1000, "supervised teens to seed")
	flag.DurationVar(&o.duration, "d", 60*time.Second, "how long the load runs (faults at 20%, 45% and 65% of it)")
	flag.StringVar(&o.restartPG, "restart-pg", "", "command that restarts Postgres (default: pg_ctlcluster for the one cluster pg_lsclusters lists)")
	flag.BoolVar(&o.keep, "keep", false, "keep the temporary folder (logs) and the database")
	flag.IntVar(&o.batch, "batch", 20, "events per delivery")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	r := &run{o: o}
	err := r.run(ctx)
	r.cleanup()
	if err != nil {
		fmt.Fprintln(os.Stderr, "faults:", err)
		os.Exit(1)
	}
}

func say(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "[%s] %s\n", time.Now().Format("15:04:05"), fmt.Sprintf(format, args...))
}

type run struct {
	o        options
	tmp      string
	bin      string
	dbURL    string
	adminDB  *sql.DB
	dbName   string
	keys     string
	nodes    [3]*node
	cleanups []func()
	start    time.Time

	// what the load saw
	mu      sync.Mutex
	faults  []faultRow
	checks  [4]atomic.Int64 // allow, deny, hold, error: strangers to seeded teens
	wrongs  []string
	acked   map[string]bool // event IDs some node answered 2xx for
	sent    atomic.Int64
	retries atomic.Int64
	mayaChecks,
	mayaAllow,
	mayaDeny,
	mayaWrong atomic.Int64
	changes        atomic.Int64
	offAt          atomic.Int64 // unix nanos when "DMs off" was acknowledged; 0 while on
	onStart        atomic.Int64 // unix nanos when the last "DMs on" save began
	drain          time.Duration
	drained        bool
	inflightFailed atomic.Int64
}

type faultRow struct {
	fault, at, effect string
}

type node struct {
	name, addr string
	cmd        *exec.Cmd
	done       chan struct{}
	log        string
	down       atomic.Bool
}

func (r *run) cleanup() {
	for i := len(r.cleanups) - 1; i >= 0; i-- {
		r.cleanups[i]()
	}
}

func (r *run) run(ctx context.Context) error {
	var err error
	if r.tmp, err = os.MkdirTemp("", "hearth-faults-"); err != nil {
		return err
	}
	if !r.o.keep {
		r.cleanups = append(r.cleanups, func() { os.RemoveAll(r.tmp) })
	}
	if r.o.restartPG == "" {
		out, err := exec.Command("pg_lsclusters", "-h").Output()
		f := strings.Fields(string(out))
		if err != nil || len(f) < 2 {
			return errors.New("cannot find the Postgres cluster to restart (pg_lsclusters); give -restart-pg")
		}
		r.o.restartPG = fmt.Sprintf("pg_ctlcluster --skip-systemctl-redirect %s %s restart", f[0], f[1])
	}
	say("building hearth")
	r.bin = filepath.Join(r.tmp, "hearth")
	if out, err := exec.CommandContext(ctx, "go", "build", "-o", r.bin, "./cmd/hearth").CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %v\n%s", err, out)
	}
	if err := r.freshDatabase(ctx); err != nil {
		return err
	}
	r.keys = hex.EncodeToString(randBytes(32))
	say("seeding %d supervised teens", r.o.teens)
	seed := exec.CommandContext(ctx, r.bin, "demo", "--teens", strconv.Itoa(r.o.teens), "--api-key", apiKey, "--webhook-secret", webhookSecret)
	seed.Env = r.env()
	if out, err := seed.CombinedOutput(); err != nil {
		return fmt.Errorf("hearth demo: %v\n%s", err, tail(string(out), 2000))
	}
	for i, name := range []string{"A", "B", "C"} {
		addr, err := freeAddr()
		if err != nil {
			return err
		}
		r.nodes[i] = &node{name: name, addr: addr}
		if err := r.startNode(ctx, r.nodes[i]); err != nil {
			return err
		}
	}
	g, err := r.signIn(ctx)
	if err != nil {
		return err
	}
	r.acked = map[string]bool{}
	r.start = time.Now()
	loadCtx, stopLoad := context.WithTimeout(ctx, r.o.duration)
	defer stopLoad()
	var wg sync.WaitGroup
	for i := range 4 {
		wg.Add(1)
		go func() { defer wg.Done(); r.strangerChecks(loadCtx, i) }()
	}
	wg.Add(3)
	go func() { defer wg.Done(); r.mayaChecker(loadCtx) }()
	go func() { defer wg.Done(); r.changer(loadCtx, g) }()
	var events sync.WaitGroup
	for i := range 3 {
		events.Add(1)
		go func() { defer events.Done(); r.deliver(loadCtx, ctx, i) }()
	}
	go func() { defer wg.Done(); r.inject(loadCtx) }()
	wg.Wait()
	say("load stopped; waiting for event deliveries to be acknowledged")
	events.Wait()
	return r.report(ctx)
}

// freshDatabase makes a database of its own on the given server.
func (r *run) freshDatabase(ctx context.Context) error {
	db, err := sql.Open("pgx", r.o.db)
	if err != nil {
		return err
	}
	if err := db.PingContext(ctx); err != nil {
		return fmt.Errorf("no Postgres at %s: %v", r.o.db, err)
	}
	r.adminDB = db
	r.dbName = "hearth_faults_" + hex.EncodeToString(randBytes(4))
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+r.dbName); err != nil {
		return err
	}
	u, _ := url.Parse(r.o.db)
	u.Path = "/" + r.dbName
	r.dbURL = u.String()
	if !r.o.keep {
		r.cleanups = append(r.cleanups, func() {
			c, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			defer cancel()
			for range 10 {
				if _, err := db.ExecContext(c, "DROP DATABASE IF EXISTS "+r.dbName+" WITH (FORCE)"); err == nil {
					break
				}
				time.Sleep(time.Second)
			}
			db.Close()
		})
	}
	return nil
}

func (r *run) env() []string {
	var out []string
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "HEARTH_") {
			out = append(out, e)
		}
	}
	return append(out, "HEARTH_DATABASE_URL="+r.dbURL, "HEARTH_SESSION_KEYS="+r.keys, "HEARTH_LOG_LEVEL=warn",
		"HEARTH_DRAIN_DELAY=1s", "HEARTH_API_RATE=100000")
}

func (r *run) startNode(ctx context.Context, n *node) error {
	n.log = filepath.Join(r.tmp, "node-"+n.name+".log")
	logf, err := os.OpenFile(n.log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	n.cmd = exec.Command(r.bin, "serve")
	n.cmd.Env = append(r.env(), "HEARTH_ADDR="+n.addr)
	n.cmd.Stdout, n.cmd.Stderr = logf, logf
	n.cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := n.cmd.Start(); err != nil {
		return err
	}
	n.done = make(chan struct{})
	done := n.done
	cmd := n.cmd
	go func() { cmd.Wait(); logf.Close(); close(done) }()
	r.cleanups = append(r.cleanups, func() {
		select {
		case <-done:
		default:
			syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			<-done
		}
	})
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get("http://" + n.addr + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				n.down.Store(false)
				return nil
			}
		}
		select {
		case <-done:
			return fmt.Errorf("node %s exited at start:\n%s", n.name, tailFile(n.log, 2000))
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return fmt.Errorf("node %s not ready within 60 s:\n%s", n.name, tailFile(n.log, 2000))
}

var client = &http.Client{Timeout: 5 * time.Second}

// pick returns the nodes to try, starting at a different one each time.
func (r *run) pick(i int) []*node {
	var out []*node
	for k := range 3 {
		n := r.nodes[(i+k)%3]
		if !n.down.Load() {
			out = append(out, n)
		}
	}
	return out
}

type answer struct {
	Decision string `json:"decision"`
	Reason   string `json:"reason"`
}

func (r *run) check(ctx context.Context, n *node, body string) (answer, error) {
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+n.addr+"/api/v1/dm/check", strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+apiKey)
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	var a answer
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, resp.Body)
		return a, fmt.Errorf("status %d", resp.StatusCode)
	}
	return a, json.NewDecoder(resp.Body).Decode(&a)
}

// strangerChecks asks about adult strangers writing to seeded teens, whose
// age defaults deny them: an allow can only come from missing rules.
func (r *run) strangerChecks(ctx context.Context, w int) {
	for i := 0; ctx.Err() == nil; i++ {
		teen := fmt.Sprintf("tk_load_%06d", 1+(i*7+w*131)%r.o.teens)
		body := fmt.Sprintf(`{"sender_id":"u_adult_%d","recipient_id":%q,"sent_at":"2026-11-27T12:00:00Z","context":{"mutual_follow":false,"sender_is_adult":true,"sender_account_age_days":900}}`, i, teen)
		ns := r.pick(i + w)
		if len(ns) == 0 {
			r.checks[3].Add(1)
			time.Sleep(10 * time.Millisecond)
			continue
		}
		a, err := r.check(ctx, ns[0], body)
		switch {
		case err != nil:
			if ctx.Err() == nil {
				r.checks[3].Add(1)
			}
		case a.Decision == "allow":
			r.checks[0].Add(1)
			r.wrong(fmt.Sprintf("node %s allowed an adult stranger to %s (%s)", ns[0].name, teen, a.Reason))
		case a.Decision == "deny":
			r.checks[1].Add(1)
		default:
			r.checks[2].Add(1)
		}
	}
}

func (r *run) wrong(s string) {
	r.mu.Lock()
	if len(r.wrongs) < 20 {
		r.wrongs = append(r.wrongs, s)
	}
	r.mu.Unlock()
}

// mayaChecker asks about a friend writing to Maya at noon, which her rules
// allow while her DMs are on. Once "off" was acknowledged, and until the
// next "on" save began, an allow is a decision by stale rules.
func (r *run) mayaChecker(ctx context.Context) {
	body := `{"sender_id":"u_friend","recipient_id":"tk_maya","sent_at":"2026-11-27T12:00:00Z","context":{"mutual_follow":true,"sender_is_adult":false,"sender_account_age_days":900}}`
	for i := 0; ctx.Err() == nil; i++ {
		ns := r.pick(i)
		if len(ns) == 0 {
			time.Sleep(10 * time.Millisecond)
			continue
		}
		started := time.Now().UnixNano()
		off := r.offAt.Load()
		a, err := r.check(ctx, ns[0], body)
		if err != nil {
			continue
		}
		r.mayaChecks.Add(1)
		switch a.Decision {
		case "allow":
			r.mayaAllow.Add(1)
		case "deny":
			r.mayaDeny.Add(1)
		}
		if a.Decision == "allow" && off != 0 && started > off && r.onStart.Load() < off {
			r.mayaWrong.Add(1)
			r.wrong(fmt.Sprintf("node %s allowed a DM to Maya %v after her DMs were turned off", ns[0].name, time.Duration(started-off)))
		}
	}
}

// guardian is the demo parent signed in, with Maya's Messages page.
type guardian struct {
	jar  http.CookieJar
	path string
}

var teenLinkRE = regexp.MustCompile(`href="(/teens/[0-9]+)"[^>]*>[^<]*Maya`)

func (r *run) signIn(ctx context.Context) (*guardian, error) {
	jar, _ := cookiejar.New(nil)
	g := &guardian{jar: jar}
	base := "http://" + r.nodes[0].addr
	resp, err := r.browse(ctx, g, r.nodes[0], "POST", "/login", url.Values{"email": {"parent@example.com"}, "password": {"demo-parent-pass"}})
	if err != nil || resp.status != http.StatusSeeOther {
		return nil, fmt.Errorf("signing in as the demo parent on %s: %v %d", base, err, resp.status)
	}
	dash, err := r.browse(ctx, g, r.nodes[0], "GET", "/", nil)
	if err != nil {
		return nil, err
	}
	m := teenLinkRE.FindStringSubmatch(dash.body)
	if m == nil {
		return nil, errors.New("no link to Maya on the demo parent's dashboard")
	}
	g.path = m[1] + "/messages"
	return g, nil
}

type page struct {
	status int
	body   string
}

// browse sends a same-origin browser request (Sec-Fetch-Site lets it past
// CSRF, as a real browser's would be) with the guardian's cookies.
func (r *run) browse(ctx context.Context, g *guardian, n *node, method, path string, form url.Values) (page, error) {
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, _ := http.NewRequestWithContext(ctx, method, "http://"+n.addr+path, body)
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	u, _ := url.Parse("http://127.0.0.1/")
	for _, c := range g.jar.Cookies(u) {
		req.AddCookie(c)
	}
	c := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Do(req)
	if err != nil {
		return page{}, err
	}
	defer resp.Body.Close()
	g.jar.SetCookies(u, resp.Cookies())
	b, _ := io.ReadAll(resp.Body)
	return page{status: resp.StatusCode, body: string(b)}, nil
}

var versionRE = regexp.MustCompile(`name="version" value="([0-9]+)"`)

// changer switches Maya's DMs off and on through her guardian's page,
// recording when each "off" was acknowledged and each "on" began.
func (r *run) changer(ctx context.Context, g *guardian) {
	audience := "nobody"
	for i := 0; ctx.Err() == nil; i++ {
		ns := r.pick(i)
		if len(ns) == 0 {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		n := ns[0]
		pg, err := r.browse(ctx, g, n, "GET", g.path, nil)
		m := versionRE.FindStringSubmatch(pg.body)
		if err != nil || pg.status != http.StatusOK || m == nil {
			time.Sleep(200 * time.Millisecond)
			continue
		}
		form := url.Values{"version": {m[1]}, "action": {"save"}, "audience": {audience},
			"quiet_enabled": {"yes"}, "quiet_start": {"21:30"}, "quiet_end": {"07:00"}, "quiet_approved_exempt": {"yes"},
			"block_adult_strangers": {"yes"}, "media_friends_only": {"yes"}, "min_sender_account_age_days": {"0"},
			"approved_id": {"u_grandma"}, "approved_label": {"Grandma"}, "blocked_id": {"u_stranger9"}, "blocked_label": {"Stranger"}}
		if audience == "everyone" {
			r.onStart.Store(time.Now().UnixNano())
		}
		res, err := r.browse(ctx, g, n, "POST", g.path, form)
		if err != nil || res.status != http.StatusSeeOther {
			if audience == "everyone" {
				// not acknowledged: the change may or may not have
				// happened, so "off" no longer holds for sure
				r.offAt.Store(0)
			}
			time.Sleep(200 * time.Millisecond)
			continue
		}
		r.changes.Add(1)
		if audience == "nobody" {
			r.offAt.Store(time.Now().UnixNano())
			audience = "everyone"
		} else {
			r.offAt.Store(0)
			audience = "nobody"
		}
		select {
		case <-ctx.Done():
		case <-time.After(700 * time.Millisecond):
		}
	}
}

// deliver posts signed batches of events, each retried with the same IDs
// until a node answers 2xx or end (well after the load) passes.
func (r *run) deliver(loadCtx, ctx context.Context, w int) {
	giveUp := time.Now().Add(r.o.duration + 60*time.Second)
	for b := 0; loadCtx.Err() == nil; b++ {
		ids := make([]string, r.o.batch)
		var events []string
		for k := range ids {
			ids[k] = fmt.Sprintf("evt_f%d_%d_%d", w, b, k)
			teen := fmt.Sprintf("tk_load_%06d", 1+(w*1009+b*31+k*7)%r.o.teens)
			events = append(events, fmt.Sprintf(`{"id":%q,"teen_id":%q,"counterpart_id":"u_%d","direction":"inbound","category":%q,"severity":%q,"action_taken":"message_blocked","occurred_at":%q}`,
				ids[k], teen, k%5, []string{"bullying", "spam", "scam", "harassment"}[k%4], []string{"low", "medium", "high"}[k%3], time.Now().UTC().Add(-time.Minute).Format(time.RFC3339)))
		}
		body := []byte(`{"events":[` + strings.Join(events, ",") + `]}`)
		r.sent.Add(int64(len(ids)))
		for attempt := 0; ; attempt++ {
			if time.Now().After(giveUp) || ctx.Err() != nil {
				r.wrong(fmt.Sprintf("batch evt_f%d_%d never acknowledged", w, b))
				return
			}
			if attempt > 0 {
				r.retries.Add(1)
				time.Sleep(time.Duration(min(attempt, 10)) * 100 * time.Millisecond)
			}
			ns := r.pick(w + b + attempt)
			if len(ns) == 0 {
				continue
			}
			if r.post(ctx, ns[0], body) {
				r.mu.Lock()
				for _, id := range ids {
					r.acked[id] = true
				}
				r.mu.Unlock()
				break
			}
		}
	}
}

func (r *run) post(ctx context.Context, n *node, body []byte) bool {
	id := "msg_" + hex.EncodeToString(randBytes(8))
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(webhookSecret, "whsec_"))
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id + "." + ts + "."))
	m.Write(body)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, "http://"+n.addr+"/api/v1/moderation/events", bytes.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+apiKey)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("webhook-id", id)
	req.Header.Set("webhook-timestamp", ts)
	req.Header.Set("webhook-signature", "v1,"+base64.StdEncoding.EncodeToString(m.Sum(nil)))
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	if resp.StatusCode >= 400 && resp.StatusCode < 500 && resp.StatusCode != http.StatusTooManyRequests {
		r.wrong(fmt.Sprintf("node %s refused a delivery: %d", n.name, resp.StatusCode))
	}
	return resp.StatusCode >= 200 && resp.StatusCode < 300
}

func (r *run) since() string { return time.Since(r.start).Round(100 * time.Millisecond).String() }

func (r *run) addFault(fault, at, effect string) {
	r.mu.Lock()
	r.faults = append(r.faults, faultRow{fault, at, effect})
	r.mu.Unlock()
	say("%s at %s: %s", fault, at, effect)
}

// inject breaks things on schedule.
func (r *run) inject(ctx context.Context) {
	wait := func(frac float64) bool {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(time.Until(r.start.Add(time.Duration(frac * float64(r.o.duration))))):
			return true
		}
	}
	if !wait(0.2) {
		return
	}
	at := r.since()
	before := r.checks[2].Load()
	started := time.Now()
	out, err := exec.Command("sh", "-c", r.o.restartPG).CombinedOutput()
	if err != nil {
		r.addFault("Postgres restarted", at, fmt.Sprintf("restart command failed: %v %s", err, strings.TrimSpace(string(out))))
	} else {
		r.addFault("Postgres restarted", at, fmt.Sprintf("down and back in %s; %d stranger checks held meanwhile", time.Since(started).Round(100*time.Millisecond), r.checks[2].Load()-before))
	}

	if !wait(0.45) {
		return
	}
	a := r.nodes[0]
	at = r.since()
	a.down.Store(true)
	syscall.Kill(-a.cmd.Process.Pid, syscall.SIGKILL)
	<-a.done
	time.Sleep(2 * time.Second)
	restarted := time.Now()
	if err := r.startNode(ctx, a); err != nil {
		r.addFault("node A killed (SIGKILL)", at, "could not start it again: "+err.Error())
	} else {
		r.addFault("node A killed (SIGKILL)", at, fmt.Sprintf("started again after 2 s, ready in %s", time.Since(restarted).Round(10*time.Millisecond)))
	}

	if !wait(0.65) {
		return
	}
	b := r.nodes[1]
	at = r.since()
	// In-flight requests on B: a few slow-ish batch checks sent just before.
	var inflight sync.WaitGroup
	for i := range 8 {
		inflight.Add(1)
		go func() {
			defer inflight.Done()
			var checks []string
			for k := range 500 {
				checks = append(checks, fmt.Sprintf(`{"sender_id":"u_x%d","recipient_id":"tk_load_%06d"}`, k, 1+(i*500+k)%r.o.teens))
			}
			req, _ := http.NewRequest(http.MethodPost, "http://"+b.addr+"/api/v1/dm/check/batch", strings.NewReader(`{"checks":[`+strings.Join(checks, ",")+`]}`))
			req.Header.Set("Authorization", "Bearer "+apiKey)
			req.Header.Set("Content-Type", "application/json")
			resp, err := client.Do(req)
			if err != nil {
				r.inflightFailed.Add(1)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				r.inflightFailed.Add(1)
			}
		}()
	}
	time.Sleep(5 * time.Millisecond)
	sent := time.Now()
	syscall.Kill(b.cmd.Process.Pid, syscall.SIGTERM)
	go func() { time.Sleep(1200 * time.Millisecond); b.down.Store(true) }() // after the drain delay, as a balancer would
	select {
	case <-b.done:
		r.drain, r.drained = time.Since(sent), true
	case <-time.After(30 * time.Second):
	}
	b.down.Store(true)
	inflight.Wait()
	if r.drained {
		r.addFault("node B stopped (SIGTERM)", at, fmt.Sprintf("exited after %s; %d of 8 in-flight batch checks failed", r.drain.Round(10*time.Millisecond), r.inflightFailed.Load()))
	} else {
		r.addFault("node B stopped (SIGTERM)", at, "still running 30 s later")
	}
}

func (r *run) report(ctx context.Context) error {
	db, err := sql.Open("pgx", r.dbURL)
	if err != nil {
		return err
	}
	defer db.Close()
	stored := map[string]bool{}
	rows, err := db.QueryContext(ctx, `SELECT event_id FROM received_events WHERE event_id LIKE 'evt_f%'`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var id string
		rows.Scan(&id)
		stored[id] = true
	}
	rows.Close()
	var occurrences int64
	if err := db.QueryRowContext(ctx, `SELECT COALESCE(SUM(a.occurrences), 0) FROM alerts a JOIN teens t ON t.id = a.teen_id WHERE t.platform_user_id LIKE 'tk_load_%'`).Scan(&occurrences); err != nil {
		return err
	}
	lost := 0
	for id := range r.acked {
		if !stored[id] {
			lost++
		}
	}
	doubled := occurrences - int64(len(stored))
	wrongAllows := r.checks[0].Load() + r.mayaWrong.Load()

	pass := func(ok bool) string {
		if ok {
			return "PASS"
		}
		return "FAIL"
	}
	fmt.Printf("\n## Faults under load (PostgreSQL, 3 nodes, %d supervised teens, %s)\n\n", r.o.teens, r.o.duration)
	fmt.Println("| fault | at | what happened |")
	fmt.Println("|---|---|---|")
	for _, f := range r.faults {
		fmt.Printf("| %s | %s | %s |\n", f.fault, f.at, f.effect)
	}
	fmt.Println()
	fmt.Println("| outcome | figure | goal | result |")
	fmt.Println("|---|---|---|---|")
	fmt.Printf("| events sent (unique IDs) / acknowledged 2xx | %d / %d (%d retried deliveries) | all acknowledged in the end | %s |\n", r.sent.Load(), len(r.acked), r.retries.Load(), pass(int64(len(r.acked)) == r.sent.Load()))
	fmt.Printf("| acknowledged events not stored | %d | 0 | %s |\n", lost, pass(lost == 0))
	fmt.Printf("| events stored twice (alert occurrences − stored IDs) | %d | 0 | %s |\n", doubled, pass(doubled == 0))
	fmt.Printf("| stranger checks: deny / hold / allow / no answer | %d / %d / %d / %d | no allow | %s |\n", r.checks[1].Load(), r.checks[2].Load(), r.checks[0].Load(), r.checks[3].Load(), pass(r.checks[0].Load() == 0))
	fmt.Printf("| checks to Maya while her guardian switched DMs off and on %d times: allow / deny / other | %d / %d / %d | no allow once \"off\" was acknowledged: %d | %s |\n",
		r.changes.Load(), r.mayaAllow.Load(), r.mayaDeny.Load(), r.mayaChecks.Load()-r.mayaAllow.Load()-r.mayaDeny.Load(), r.mayaWrong.Load(),
		pass(r.mayaWrong.Load() == 0 && r.mayaAllow.Load() > 0 && r.mayaDeny.Load() > 0))
	fmt.Printf("| SIGTERM drain (node B) | %s, %d in-flight failed | under 25 s, none failed | %s |\n", r.drain.Round(10*time.Millisecond), r.inflightFailed.Load(), pass(r.drained && r.drain < 25*time.Second && r.inflightFailed.Load() == 0))
	for _, w := range r.wrongs {
		fmt.Println("- " + w)
	}
	if lost > 0 || doubled != 0 || wrongAllows > 0 || r.mayaAllow.Load() == 0 || r.mayaDeny.Load() == 0 || !r.drained || r.drain >= 25*time.Second || r.inflightFailed.Load() > 0 || int64(len(r.acked)) != r.sent.Load() {
		if r.o.keep {
			say("logs kept in %s", r.tmp)
		}
		return errors.New("a pass condition failed (see the table)")
	}
	return nil
}

func randBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func tail(s string, n int) string {
	if len(s) > n {
		return s[len(s)-n:]
	}
	return s
}

func tailFile(path string, n int) string {
	b, _ := os.ReadFile(path)
	return tail(string(b), n)
}
