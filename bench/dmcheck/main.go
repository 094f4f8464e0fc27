// Command dmcheck is the load benchmark of POST /api/v1/dm/check (issue 4,
// "Fast and consistent"). In one run it
//
//  1. builds hearth and the bare baseline (bench/bare) into a temporary
//     folder, makes a fresh database (SQLite, or a fresh schema of the
//     Postgres given with -db) and seeds it with `hearth demo --teens N`;
//  2. starts `hearth serve` and times it until /readyz answers 200, and
//     starts the bare baseline next to it;
//  3. drives both with the same mix of 10,000 distinct check bodies: wrk at
//     saturation (16 connections, closed loop) against the check, the bare
//     baseline and the check again, then vegeta at a fixed open-loop rate;
//  4. samples 1,000 sequential answers and checks they are well formed;
//  5. prints one markdown table with every figure, the goals and PASS/MISS.
//
// It reports rather than judges: the exit status is 0 whether goals pass or
// not, and 1 only when the benchmark could not run. Every step has a time
// limit, and every process it starts is stopped on the way out, Ctrl-C
// included.
//
//	go run ./bench/dmcheck -teens 100000
//	go run ./bench/dmcheck -teens 100000 -db 'postgres://postgres@127.0.0.1:5432/test?sslmode=disable'
//
// See bench/README.md.
package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	_ "embed"
	"encoding/base64"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver, for the fresh schema
)

//go:embed wrk.lua
var wrkScript []byte

// apiKey is the demo client's key in every run: 32+ characters of
// [A-Za-z0-9_], as `hearth demo --api-key` wants.
const apiKey = "bench_dmcheck_0123456789abcdefghijklmnopqrstuv"

const checkPath = "/api/v1/dm/check"

type options struct {
	teens      int
	db         string
	duration   time.Duration
	warmup     time.Duration
	conns      int
	threads    int
	rate       int
	rateDur    time.Duration
	bodies     int
	seed       uint64
	keep       bool
	vegetaBare bool
	timeout    time.Duration
	out        string
	rounds     int
	quietWait  time.Duration
	nice       int
}

func main() {
	var o options
	flag.IntVar(&o.teens, "teens", 100_000, "supervised teens to seed (hearth demo --teens N)")
	flag.StringVar(&o.db, "db", "", "postgres://… to benchmark on a fresh schema of this Postgres (default: a fresh SQLite file)")
	flag.DurationVar(&o.duration, "d", 15*time.Second, "duration of each closed-loop (wrk) run")
	flag.DurationVar(&o.warmup, "warmup", 3*time.Second, "closed-loop warm-up of each server before measuring")
	flag.IntVar(&o.conns, "c", 16, "wrk connections")
	flag.IntVar(&o.threads, "t", 2, "wrk threads")
	flag.IntVar(&o.rate, "rate", 5000, "open-loop (vegeta) rate, requests per second; 0 skips the open-loop run")
	flag.DurationVar(&o.rateDur, "rate-d", 15*time.Second, "duration of the open-loop run")
	flag.IntVar(&o.bodies, "bodies", 10_000, "distinct request bodies to rotate through")
	flag.Uint64Var(&o.seed, "seed", 1, "seed of the request mix")
	flag.BoolVar(&o.keep, "keep", false, "keep the temporary folder (logs, database, bodies) and the Postgres schema")
	flag.BoolVar(&o.vegetaBare, "vegeta-bare", true, "also run the open-loop load against the bare baseline, for reference")
	flag.DurationVar(&o.timeout, "timeout", 30*time.Minute, "give up after this long in all")
	flag.StringVar(&o.out, "out", "", "also write the markdown table to this file")
	flag.IntVar(&o.rounds, "rounds", 1, "closed-loop rounds: check, bare, … check (N bare runs between N+1 check runs); figures are medians")
	flag.DurationVar(&o.quietWait, "quiet-wait", 60*time.Second, "before each measured run, wait up to this long for other processes to leave the CPUs alone (0: do not wait)")
	flag.IntVar(&o.nice, "nice", 0, "run the servers and load tools at this nice value (e.g. -5 on a shared machine; needs root below 0)")
	flag.Parse()
	if o.teens < 1 || o.teens > 1_000_000 || o.bodies < 100 || o.conns < 1 || o.threads < 1 || o.threads > o.conns || o.rounds < 1 || o.rounds > 10 {
		fmt.Fprintln(os.Stderr, "dmcheck: need 1 ≤ -teens ≤ 1000000, -bodies ≥ 100, 1 ≤ -t ≤ -c and 1 ≤ -rounds ≤ 10")
		os.Exit(2)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	ctx, cancel := context.WithTimeout(ctx, o.timeout)
	b := &bench{o: o}
	err := b.run(ctx)
	b.cleanup()
	cancel()
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "dmcheck:", err)
		os.Exit(1)
	}
}

// bench is one run: what it started, to stop on the way out, and what it
// measured.
type bench struct {
	o        options
	root     string // module root
	tmp      string
	cleanups []func()

	tools     struct{ wrk, vegeta string }
	dbURL     string
	seedWall  time.Duration
	seedTold  string
	startup   time.Duration
	hearth    *proc
	bare      *proc
	checkURL  string
	bareURL   string
	bodyLines []string
	bodyKinds []bodyKind
	rssWarm   memInfo
	rssAfter  memInfo
	checkRuns []*wrkResult // closed loop, in order
	bareRuns  []*wrkResult
	openCheck *vegetaResult
	openBare  *vegetaResult
	sample    sampleResult
	notes     []string
}

func (b *bench) defer_(f func()) { b.cleanups = append(b.cleanups, f) }

func (b *bench) cleanup() {
	for i := len(b.cleanups) - 1; i >= 0; i-- {
		b.cleanups[i]()
	}
}

func say(format string, args ...any) {
	fmt.Printf("· "+format+"\n", args...)
}

func (b *bench) run(ctx context.Context) error {
	if err := b.prepare(ctx); err != nil {
		return err
	}
	if err := b.seed(ctx); err != nil {
		return err
	}
	if err := b.startServers(ctx); err != nil {
		return err
	}
	if err := b.writeBodies(); err != nil {
		return err
	}
	b.load(ctx)
	if err := ctx.Err(); err != nil {
		b.notes = append(b.notes, fmt.Sprintf("interrupted (%v): the figures are partial", err))
	}
	b.report(os.Stdout)
	return ctx.Err()
}

// prepare finds the module and the load tools, builds both servers and
// makes the database.
func (b *bench) prepare(ctx context.Context) error {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil || strings.TrimSpace(string(out)) == "" || strings.TrimSpace(string(out)) == os.DevNull {
		return errors.New("run this inside the hearth module (go env GOMOD is empty)")
	}
	b.root = filepath.Dir(strings.TrimSpace(string(out)))
	if b.tmp, err = os.MkdirTemp("", "hearth-dmcheck-"); err != nil {
		return err
	}
	b.defer_(func() {
		if b.o.keep {
			fmt.Printf("kept %s\n", b.tmp)
			return
		}
		os.RemoveAll(b.tmp)
	})
	say("working in %s", b.tmp)

	if p, err := exec.LookPath("wrk"); err == nil {
		b.tools.wrk = p
	} else {
		b.note("wrk not found: the closed-loop runs were skipped (install it with `apt-get install -y wrk`)")
	}
	if b.o.rate > 0 {
		b.tools.vegeta = b.findVegeta(ctx)
	}

	for _, t := range []struct{ out, pkg string }{{"hearth", "./cmd/hearth"}, {"bare", "./bench/bare"}} {
		say("building %s", t.pkg)
		bctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
		cmd := exec.CommandContext(bctx, "go", "build", "-o", filepath.Join(b.tmp, t.out), t.pkg)
		cmd.Dir = b.root
		cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
		err := cmd.Run()
		cancel()
		if err != nil {
			return fmt.Errorf("build %s: %w", t.pkg, err)
		}
	}

	if b.o.db == "" {
		b.dbURL = filepath.Join(b.tmp, "hearth.db")
		say("database: fresh SQLite file %s", b.dbURL)
		return nil
	}
	if !strings.HasPrefix(b.o.db, "postgres://") && !strings.HasPrefix(b.o.db, "postgresql://") {
		return errors.New("-db must be a postgres:// URL (SQLite is the default)")
	}
	schema := "hearth_bench_" + randHex(6)
	db, err := sql.Open("pgx", b.o.db)
	if err != nil {
		return err
	}
	defer db.Close()
	cctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	if _, err := db.ExecContext(cctx, "CREATE SCHEMA "+schema); err != nil {
		return fmt.Errorf("create schema %s: %w", schema, err)
	}
	b.defer_(func() {
		if b.o.keep {
			fmt.Printf("kept Postgres schema %s\n", schema)
			return
		}
		db, err := sql.Open("pgx", b.o.db)
		if err != nil {
			return
		}
		defer db.Close()
		dctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := db.ExecContext(dctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			fmt.Fprintf(os.Stderr, "dmcheck: drop schema %s: %v\n", schema, err)
		}
	})
	u, err := url.Parse(b.o.db)
	if err != nil {
		return err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	b.dbURL = u.String()
	say("database: fresh Postgres schema %s", schema)
	return nil
}

// findVegeta looks for vegeta on PATH and in GOPATH/bin, and otherwise
// installs the documented version into the temporary folder.
func (b *bench) findVegeta(ctx context.Context) string {
	if p, err := exec.LookPath("vegeta"); err == nil {
		return p
	}
	if out, err := exec.CommandContext(ctx, "go", "env", "GOPATH").Output(); err == nil {
		for _, dir := range filepath.SplitList(strings.TrimSpace(string(out))) {
			if p := filepath.Join(dir, "bin", "vegeta"); isExec(p) {
				return p
			}
		}
	}
	say("vegeta not found: go install github.com/tsenart/vegeta/v12@v12.13.0 (into the temporary folder)")
	ictx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ictx, "go", "install", "github.com/tsenart/vegeta/v12@v12.13.0")
	cmd.Dir = b.tmp
	cmd.Env = append(os.Environ(), "GOBIN="+b.tmp, "GOFLAGS=")
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	if err := cmd.Run(); err != nil {
		b.note("vegeta could not be installed (%v): the open-loop run was skipped", err)
		return ""
	}
	return filepath.Join(b.tmp, "vegeta")
}

func isExec(p string) bool {
	st, err := os.Stat(p)
	return err == nil && !st.IsDir() && st.Mode()&0o111 != 0
}

func (b *bench) note(format string, args ...any) {
	n := fmt.Sprintf(format, args...)
	b.notes = append(b.notes, n)
	say("%s", n)
}

// env is the environment of a hearth process: this one's without any
// HEARTH_ setting (so a developer's shell cannot change the benchmark),
// plus kv.
func env(kv ...string) []string {
	var out []string
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "HEARTH_") {
			out = append(out, e)
		}
	}
	return append(out, kv...)
}

var seededRE = regexp.MustCompile(`seeded (\d+) of (\d+) supervised teens in (\S+)`)

// seed runs `hearth demo --teens N` on the fresh database.
func (b *bench) seed(ctx context.Context) error {
	say("seeding: hearth demo --teens %d", b.o.teens)
	sctx, cancel := context.WithTimeout(ctx, 20*time.Minute)
	defer cancel()
	logPath := filepath.Join(b.tmp, "demo.log")
	logf, err := os.Create(logPath)
	if err != nil {
		return err
	}
	defer logf.Close()
	cmd := exec.CommandContext(sctx, filepath.Join(b.tmp, "hearth"), "demo", "--teens", strconv.Itoa(b.o.teens), "--api-key", apiKey)
	cmd.Env = env("HEARTH_DATABASE_URL="+b.dbURL, "HEARTH_LOG_LEVEL=warn")
	var buf bytes.Buffer
	cmd.Stdout = io.MultiWriter(logf, &buf)
	cmd.Stderr = io.MultiWriter(logf, &buf)
	setGroup(cmd)
	started := time.Now()
	err = cmd.Run()
	b.seedWall = time.Since(started)
	if err != nil {
		return fmt.Errorf("hearth demo: %w\n%s", err, tail(buf.String(), 2000))
	}
	if m := seededRE.FindStringSubmatch(buf.String()); m != nil {
		b.seedTold = m[3]
	}
	say("seeded in %s (whole demo command %s)", b.seedTold, b.seedWall.Round(time.Millisecond))
	return nil
}

// proc is a server this run started.
type proc struct {
	cmd  *exec.Cmd
	done chan struct{}
	log  string
}

func (p *proc) pid() int { return p.cmd.Process.Pid }

func (p *proc) alive() bool {
	select {
	case <-p.done:
		return false
	default:
		return true
	}
}

// stop ends the process group: SIGTERM, then SIGKILL after 5 s.
func (p *proc) stop() {
	if !p.alive() {
		return
	}
	syscall.Kill(-p.pid(), syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(5 * time.Second):
		syscall.Kill(-p.pid(), syscall.SIGKILL)
		<-p.done
	}
}

// setGroup puts cmd in a process group of its own, which is ended as a
// whole when ctx ends.
func setGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 5 * time.Second
}

func (b *bench) startProc(name string, args []string, environ []string) (*proc, error) {
	logPath := filepath.Join(b.tmp, name+".log")
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = environ
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	b.renice(cmd.Process.Pid)
	p := &proc{cmd: cmd, done: make(chan struct{}), log: logPath}
	go func() {
		cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	b.defer_(p.stop)
	return p, nil
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// startServers starts hearth serve (timing it until /readyz answers 200)
// and the bare baseline.
func (b *bench) startServers(ctx context.Context) error {
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	say("starting hearth serve on %s", addr)
	started := time.Now()
	b.hearth, err = b.startProc("hearth-serve", []string{filepath.Join(b.tmp, "hearth"), "serve"}, env(
		"HEARTH_ENV=production", "HEARTH_SESSION_KEYS="+randHex(32), "HEARTH_LOG_LEVEL=warn",
		"HEARTH_API_RATE=1000000", "HEARTH_ADDR="+addr, "HEARTH_DATABASE_URL="+b.dbURL))
	if err != nil {
		return err
	}
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if !b.hearth.alive() {
			return fmt.Errorf("hearth serve exited during start-up:\n%s", tailFile(b.hearth.log, 3000))
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("hearth serve did not become ready within 60 s:\n%s", tailFile(b.hearth.log, 3000))
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		resp, err := client.Get("http://" + addr + "/readyz")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	b.startup = time.Since(started)
	b.checkURL = "http://" + addr + checkPath
	say("hearth ready in %s", b.startup.Round(time.Millisecond))

	baddr, err := freeAddr()
	if err != nil {
		return err
	}
	b.bare, err = b.startProc("bare", []string{filepath.Join(b.tmp, "bare"), "-addr", baddr}, env())
	if err != nil {
		return err
	}
	b.bareURL = "http://" + baddr + checkPath
	deadline = time.Now().Add(20 * time.Second)
	for {
		if !b.bare.alive() || time.Now().After(deadline) {
			return fmt.Errorf("the bare baseline did not start:\n%s", tailFile(b.bare.log, 2000))
		}
		resp, err := client.Post(b.bareURL, "application/json", strings.NewReader(`{"sender_id":"a","recipient_id":"b"}`))
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		time.Sleep(5 * time.Millisecond)
	}
	say("bare baseline on %s", baddr)
	return nil
}

// load runs the closed-loop and open-loop loads and the sample.
func (b *bench) load(ctx context.Context) {
	bodies := filepath.Join(b.tmp, "bodies.txt")
	if b.tools.wrk != "" {
		for _, w := range []struct{ name, url string }{{"check", b.checkURL}, {"bare", b.bareURL}} {
			say("warm-up: wrk %s against %s", b.o.warmup, w.name)
			if _, err := b.wrk(ctx, nil, w.url, b.o.warmup, bodies); err != nil {
				b.note("warm-up against %s failed: %v", w.name, err)
			}
		}
	}
	b.rssWarm = readMem(b.hearth.pid())
	b.sampleDecisions(ctx)
	if b.tools.wrk != "" {
		type run struct {
			name   string
			server *proc
			url    string
			dst    *[]*wrkResult
		}
		check := run{"check", b.hearth, b.checkURL, &b.checkRuns}
		var runs []run
		for range b.o.rounds {
			runs = append(runs, check, run{"bare", b.bare, b.bareURL, &b.bareRuns})
		}
		runs = append(runs, check)
		for _, r := range runs {
			if ctx.Err() != nil {
				return
			}
			b.waitQuiet(ctx, "a closed-loop run against "+r.name)
			say("closed loop: wrk -t %d -c %d -d %s --latency against %s", b.o.threads, b.o.conns, b.o.duration, r.name)
			res, err := b.wrk(ctx, r.server, r.url, b.o.duration, bodies)
			if err != nil {
				b.note("wrk against %s failed: %v", r.name, err)
				continue
			}
			*r.dst = append(*r.dst, res)
			say("  %.0f requests/s, p50 %s, p99 %s, p99.9 %s, non-2xx %d, socket errors %d; CPU server/wrk/irq/others/steal %s cores",
				res.rps(), us(res.P50), us(res.P99), us(res.P999), res.StatusErrors,
				res.ConnectErrors+res.ReadErrors+res.WriteErrors+res.Timeouts, res.CPU)
		}
	}
	if b.tools.vegeta != "" && b.o.rate > 0 {
		if err := b.writeTargets(); err != nil {
			b.note("vegeta targets: %v", err)
		} else {
			type run struct {
				name   string
				server *proc
				url    string
				dst    **vegetaResult
			}
			runs := []run{{"check", b.hearth, b.checkURL, &b.openCheck}}
			if b.o.vegetaBare {
				runs = append(runs, run{"bare", b.bare, b.bareURL, &b.openBare})
			}
			for _, r := range runs {
				if ctx.Err() != nil {
					return
				}
				b.waitQuiet(ctx, "the open-loop run against "+r.name)
				say("open loop: vegeta attack -rate %d -duration %s against %s", b.o.rate, b.o.rateDur, r.name)
				res, err := b.vegeta(ctx, r.server, r.name)
				if err != nil {
					b.note("vegeta against %s failed: %v", r.name, err)
					continue
				}
				*r.dst = res
				say("  %.0f requests/s achieved, p50 %s, p99 %s, p99.9 %s, success %.2f%%; CPU server/vegeta/irq/others/steal %s cores",
					res.Rate, ns(res.P50), ns(res.P99), ns(res.P999), 100*res.Success, res.CPU)
			}
		}
	}
	b.rssAfter = readMem(b.hearth.pid())
	if !b.hearth.alive() {
		b.note("hearth serve exited during the run:\n%s", tailFile(b.hearth.log, 2000))
	}
}

// runTool runs a load tool in its own process group (at -nice), returning
// its output and the CPU it used.
func (b *bench) runTool(cmd *exec.Cmd) ([]byte, time.Duration, error) {
	setGroup(cmd)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		return nil, 0, err
	}
	b.renice(cmd.Process.Pid)
	err := cmd.Wait()
	var used time.Duration
	if cmd.ProcessState != nil {
		used = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
	}
	return out.Bytes(), used, err
}

// wrkResult is what the script's done() prints.
type wrkResult struct {
	Requests      int64   `json:"requests"`
	DurationUS    int64   `json:"duration_us"`
	Bytes         int64   `json:"bytes"`
	ConnectErrors int64   `json:"connect_errors"`
	ReadErrors    int64   `json:"read_errors"`
	WriteErrors   int64   `json:"write_errors"`
	StatusErrors  int64   `json:"status_errors"`
	Timeouts      int64   `json:"timeouts"`
	MeanUS        float64 `json:"mean_us"`
	P50           int64   `json:"p50_us"`
	P90           int64   `json:"p90_us"`
	P99           int64   `json:"p99_us"`
	P999          int64   `json:"p999_us"`
	MaxUS         int64   `json:"max_us"`
	CPU           *cpuUse `json:"-"`
}

func (r *wrkResult) rps() float64 {
	if r == nil || r.DurationUS == 0 {
		return 0
	}
	return float64(r.Requests) / (float64(r.DurationUS) / 1e6)
}

// wrk runs one closed-loop load against target; server (when not nil)
// is the process whose CPU is measured.
func (b *bench) wrk(ctx context.Context, server *proc, target string, d time.Duration, bodies string) (*wrkResult, error) {
	script := filepath.Join(b.tmp, "wrk.lua")
	if err := os.WriteFile(script, wrkScript, 0o644); err != nil {
		return nil, err
	}
	wctx, cancel := context.WithTimeout(ctx, d+30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(wctx, b.tools.wrk, "-t", strconv.Itoa(b.o.threads), "-c", strconv.Itoa(b.o.conns),
		"-d", fmt.Sprintf("%ds", max(1, int(d.Round(time.Second)/time.Second))), "--latency", "--timeout", "5s",
		"-s", script, target, "--", bodies, apiKey)
	meter := b.startMeter(server)
	out, used, err := b.runTool(cmd)
	cpu := meter.stop(used)
	if err != nil {
		return nil, fmt.Errorf("%w: %s", err, tail(string(out), 1000))
	}
	for _, line := range strings.Split(string(out), "\n") {
		if j, ok := strings.CutPrefix(line, "WRKJSON "); ok {
			var r wrkResult
			if err := json.Unmarshal([]byte(j), &r); err != nil {
				return nil, err
			}
			r.CPU = cpu
			return &r, nil
		}
	}
	return nil, fmt.Errorf("no summary in wrk's output: %s", tail(string(out), 1000))
}

// vegetaResult is one open-loop run.
type vegetaResult struct {
	Requests       int
	Rate           float64 // achieved request rate
	Success        float64 // share of 200s
	P50, P99, P999 time.Duration
	Max            time.Duration
	Codes          map[string]int
	Errors         []string
	CPU            *cpuUse
}

func (b *bench) writeTargets() error {
	for _, t := range []struct{ name, url string }{{"check", b.checkURL}, {"bare", b.bareURL}} {
		f, err := os.Create(filepath.Join(b.tmp, "targets-"+t.name+".json"))
		if err != nil {
			return err
		}
		w := bufio.NewWriter(f)
		enc := json.NewEncoder(w)
		hdr := map[string][]string{"Content-Type": {"application/json"}, "Authorization": {"Bearer " + apiKey}}
		for _, body := range b.bodyLines {
			enc.Encode(map[string]any{"method": "POST", "url": t.url, "header": hdr, "body": base64.StdEncoding.EncodeToString([]byte(body))})
		}
		if err := w.Flush(); err != nil {
			f.Close()
			return err
		}
		if err := f.Close(); err != nil {
			return err
		}
	}
	return nil
}

func (b *bench) vegeta(ctx context.Context, server *proc, name string) (*vegetaResult, error) {
	results := filepath.Join(b.tmp, "vegeta-"+name+".bin")
	vctx, cancel := context.WithTimeout(ctx, b.o.rateDur+60*time.Second)
	defer cancel()
	attack := exec.CommandContext(vctx, b.tools.vegeta, "attack", "-format", "json", "-targets", filepath.Join(b.tmp, "targets-"+name+".json"),
		"-rate", strconv.Itoa(b.o.rate), "-duration", b.o.rateDur.String(), "-timeout", "5s", "-output", results)
	meter := b.startMeter(server)
	out, used, err := b.runTool(attack)
	cpu := meter.stop(used)
	if err != nil {
		return nil, fmt.Errorf("attack: %w: %s", err, tail(string(out), 1000))
	}
	rep := exec.CommandContext(vctx, b.tools.vegeta, "report", "-type", "json", results)
	setGroup(rep)
	out, err = rep.Output()
	if err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	var report struct {
		Requests    int            `json:"requests"`
		Rate        float64        `json:"rate"`
		Success     float64        `json:"success"`
		StatusCodes map[string]int `json:"status_codes"`
		Errors      []string       `json:"errors"`
	}
	if err := json.Unmarshal(out, &report); err != nil {
		return nil, fmt.Errorf("report: %w", err)
	}
	// The JSON report stops at p99; p99.9 comes from the raw results.
	enc := exec.CommandContext(vctx, b.tools.vegeta, "encode", "-to", "csv", results)
	setGroup(enc)
	raw, err := enc.Output()
	if err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	rows, err := csv.NewReader(bytes.NewReader(raw)).ReadAll()
	if err != nil {
		return nil, fmt.Errorf("encode: %w", err)
	}
	lat := make([]time.Duration, 0, len(rows))
	for _, r := range rows {
		if len(r) < 3 {
			continue
		}
		n, err := strconv.ParseInt(r[2], 10, 64)
		if err == nil {
			lat = append(lat, time.Duration(n))
		}
	}
	slices.Sort(lat)
	res := &vegetaResult{Requests: report.Requests, Rate: report.Rate, Success: report.Success, Codes: report.StatusCodes, Errors: report.Errors,
		P50: pct(lat, 50), P99: pct(lat, 99), P999: pct(lat, 99.9), CPU: cpu}
	if len(lat) > 0 {
		res.Max = lat[len(lat)-1]
	}
	return res, nil
}

// pct is the q-th percentile of sorted (nearest rank).
func pct(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(float64(len(sorted))*q/100+0.999999) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// memInfo is the server's resident memory from /proc/<pid>/status.
type memInfo struct{ rssKB, hwmKB int64 }

func readMem(pid int) memInfo {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return memInfo{}
	}
	var m memInfo
	for _, line := range strings.Split(string(b), "\n") {
		f := strings.Fields(line)
		if len(f) < 2 {
			continue
		}
		n, _ := strconv.ParseInt(f[1], 10, 64)
		switch f[0] {
		case "VmRSS:":
			m.rssKB = n
		case "VmHWM:":
			m.hwmKB = n
		}
	}
	return m
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func tail(s string, n int) string {
	if len(s) > n {
		return "…" + s[len(s)-n:]
	}
	return s
}

func tailFile(path string, n int) string {
	b, _ := os.ReadFile(path)
	return tail(string(b), n)
}

func us(v int64) string { return ns(time.Duration(v) * time.Microsecond) }

func ns(d time.Duration) string {
	switch {
	case d <= 0:
		return "–"
	case d < time.Millisecond:
		return fmt.Sprintf("%d µs", d.Microseconds())
	case d < time.Second:
		return fmt.Sprintf("%.2f ms", float64(d)/float64(time.Millisecond))
	}
	return fmt.Sprintf("%.2f s", d.Seconds())
}

// mrandFor gives the mix its own deterministic source.
func mrandFor(seed uint64) *mrand.Rand { return mrand.New(mrand.NewPCG(seed, 0x6865617274680001)) }
