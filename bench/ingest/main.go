// Command ingest is the load benchmark of POST /api/v1/moderation/events
// (issue 5): at least 5,000 events/s into Postgres and 2,000/s into SQLite
// in batches of 100, with proof that no event was lost or doubled. For each
// database in one run it
//
//  1. builds hearth into a temporary folder, makes a fresh database (a
//     SQLite file there; a new schema hearth_bench_<random> on the Postgres
//     of -db, dropped at the end) and seeds it with `hearth demo --teens N`
//     and a fixed API key and webhook secret;
//
//  2. starts `hearth serve` and waits for /readyz;
//
//  3. writes the reports: -events events in batches of -batch, each event
//     about a supervised teen tk_load_… chosen at random (a few about tk_ava,
//     whom nobody supervises, to be ignored), of a random category and
//     severity, from one of -accounts other accounts, at a time within the
//     last ten minutes; -redeliver of the batches are sent twice, half of
//     them by two senders at the same moment and half again later;
//
//  4. posts them signed as Standard Webhooks from -senders concurrent
//     senders over keep-alive connections, timing each request;
//
//  5. stops the server and reads the database: every event acknowledged as
//     accepted must be in received_events exactly once, and the alerts'
//     occurrences must add up to the same number;
//
//  6. prints one markdown table row per database.
//
//     go run ./bench/ingest
//     go run ./bench/ingest -events 100000 -db off          # SQLite only
//
// See bench/README.md.
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
	mrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/hearth-safety/hearth/models"
	"github.com/hearth-safety/hearth/models/store"
)

// The demo client's key and secret in every run.
const (
	apiKey     = "bench_ingest_0123456789abcdefghijklmnopqrstuvw"
	secret     = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	eventsPath = "/api/v1/moderation/events"
)

type options struct {
	teens     int
	events    int
	batch     int
	senders   int
	accounts  int
	redeliver float64
	db        string
	sqlite    bool
	seed      uint64
	keep      bool
	timeout   time.Duration
	out       string
}

func main() {
	var o options
	flag.IntVar(&o.teens, "teens", 2000, "supervised teens to seed (hearth demo --teens N)")
	flag.IntVar(&o.events, "events", 50_000, "distinct events to report to each database")
	flag.IntVar(&o.batch, "batch", 100, "events per request (1 to 500)")
	flag.IntVar(&o.senders, "senders", 8, "concurrent senders")
	flag.IntVar(&o.accounts, "accounts", 5000, "other accounts the events are about (fewer make more bursts)")
	flag.Float64Var(&o.redeliver, "redeliver", 0.05, "share of batches sent twice (half at once by two senders, half later)")
	flag.StringVar(&o.db, "db", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable", `Postgres to benchmark on a fresh schema of; "off" skips Postgres`)
	flag.BoolVar(&o.sqlite, "sqlite", true, "benchmark a fresh SQLite file too")
	flag.Uint64Var(&o.seed, "seed", 1, "seed of the event mix")
	flag.BoolVar(&o.keep, "keep", false, "keep the temporary folder (logs, databases) and the Postgres schema")
	flag.DurationVar(&o.timeout, "timeout", 30*time.Minute, "give up after this long in all")
	flag.StringVar(&o.out, "out", "", "also write the markdown table to this file")
	flag.Parse()
	if o.teens < 1 || o.events < o.batch || o.batch < 1 || o.batch > models.MaxEventsPerReport || o.senders < 1 ||
		o.accounts < 1 || o.redeliver < 0 || o.redeliver > 1 {
		fmt.Fprintln(os.Stderr, "ingest: need -teens ≥ 1, 1 ≤ -batch ≤ 500, -events ≥ -batch, -senders ≥ 1, -accounts ≥ 1 and 0 ≤ -redeliver ≤ 1")
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
		fmt.Fprintln(os.Stderr, "ingest:", err)
		os.Exit(1)
	}
}

// bench is one run: what it started, to stop on the way out, and the rows
// it measured.
type bench struct {
	o        options
	root     string
	tmp      string
	cleanups []func()
	rows     []result
}

// result is one database's row of the table.
type result struct {
	database    string
	events      int // events posted, redeliveries included
	batches     int
	distinct    int // distinct events about supervised teens
	ignored     int
	duplicates  int
	duration    time.Duration
	p50, p99    time.Duration
	failed      int // requests not answered 202
	lost        int // acknowledged, not stored
	doubled     int // stored or acknowledged more than once
	alerts      int
	storedIDs   int
	occurrences int
	serverCPU   time.Duration // hearth serve's CPU while sending (Linux only)
}

func (b *bench) defer_(f func()) { b.cleanups = append(b.cleanups, f) }

func (b *bench) cleanup() {
	for i := len(b.cleanups) - 1; i >= 0; i-- {
		b.cleanups[i]()
	}
}

func say(format string, args ...any) { fmt.Printf("· "+format+"\n", args...) }

func (b *bench) run(ctx context.Context) error {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil || strings.TrimSpace(string(out)) == "" || strings.TrimSpace(string(out)) == os.DevNull {
		return errors.New("run this inside the hearth module (go env GOMOD is empty)")
	}
	b.root = filepath.Dir(strings.TrimSpace(string(out)))
	if b.tmp, err = os.MkdirTemp("", "hearth-ingest-"); err != nil {
		return err
	}
	b.defer_(func() {
		if b.o.keep {
			fmt.Printf("kept %s\n", b.tmp)
			return
		}
		os.RemoveAll(b.tmp)
	})
	say("working in %s; building ./cmd/hearth", b.tmp)
	bctx, cancel := context.WithTimeout(ctx, 10*time.Minute)
	cmd := exec.CommandContext(bctx, "go", "build", "-o", filepath.Join(b.tmp, "hearth"), "./cmd/hearth")
	cmd.Dir = b.root
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	err = cmd.Run()
	cancel()
	if err != nil {
		return fmt.Errorf("build hearth: %w", err)
	}

	var dbs []string
	if b.o.sqlite {
		dbs = append(dbs, "sqlite")
	}
	if b.o.db != "off" && b.o.db != "" {
		dbs = append(dbs, "postgres")
	}
	for _, d := range dbs {
		r, err := b.one(ctx, d)
		if err != nil {
			return fmt.Errorf("%s: %w", d, err)
		}
		b.rows = append(b.rows, r)
	}
	b.report(os.Stdout)
	return nil
}

// freshDB makes an empty database of kind d and returns its URL.
func (b *bench) freshDB(ctx context.Context, d string) (string, error) {
	if d == "sqlite" {
		return filepath.Join(b.tmp, "hearth.db"), nil
	}
	if !strings.HasPrefix(b.o.db, "postgres://") && !strings.HasPrefix(b.o.db, "postgresql://") {
		return "", errors.New(`-db must be a postgres:// URL or "off"`)
	}
	schema := "hearth_bench_" + randHex(6)
	st, err := store.Open(ctx, b.o.db, store.Options{MaxOpenConns: 1})
	if err != nil {
		return "", err
	}
	defer st.Close()
	if _, err := st.SQLDB().ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		return "", fmt.Errorf("create schema %s: %w", schema, err)
	}
	b.defer_(func() {
		if b.o.keep {
			fmt.Printf("kept Postgres schema %s\n", schema)
			return
		}
		dctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		st, err := store.Open(dctx, b.o.db, store.Options{MaxOpenConns: 1})
		if err != nil {
			return
		}
		defer st.Close()
		if _, err := st.SQLDB().ExecContext(dctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			fmt.Fprintf(os.Stderr, "ingest: drop schema %s: %v\n", schema, err)
		}
	})
	u, err := url.Parse(b.o.db)
	if err != nil {
		return "", err
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	say("database: fresh Postgres schema %s", schema)
	return u.String(), nil
}

// env is a hearth process's environment: this one's without HEARTH_
// settings, plus kv.
func env(kv ...string) []string {
	var out []string
	for _, e := range os.Environ() {
		if !strings.HasPrefix(e, "HEARTH_") {
			out = append(out, e)
		}
	}
	return append(out, kv...)
}

// one benchmarks one database from a fresh start.
func (b *bench) one(ctx context.Context, d string) (result, error) {
	r := result{database: d}
	dbURL, err := b.freshDB(ctx, d)
	if err != nil {
		return r, err
	}
	say("%s: seeding hearth demo --teens %d", d, b.o.teens)
	sctx, cancel := context.WithTimeout(ctx, 20*time.Minute)
	seed := exec.CommandContext(sctx, filepath.Join(b.tmp, "hearth"), "demo", "--teens", strconv.Itoa(b.o.teens),
		"--api-key", apiKey, "--webhook-secret", secret)
	seed.Env = env("HEARTH_DATABASE_URL="+dbURL, "HEARTH_LOG_LEVEL=warn")
	var seedOut bytes.Buffer
	seed.Stdout, seed.Stderr = &seedOut, &seedOut
	err = seed.Run()
	cancel()
	if err != nil {
		return r, fmt.Errorf("hearth demo: %w\n%s", err, tail(seedOut.String(), 2000))
	}
	before, err := counts(ctx, dbURL)
	if err != nil {
		return r, err
	}

	addr, err := freeAddr()
	if err != nil {
		return r, err
	}
	logPath := filepath.Join(b.tmp, d+"-serve.log")
	srv, err := startServe(filepath.Join(b.tmp, "hearth"), logPath, env("HEARTH_ENV=production", "HEARTH_SESSION_KEYS="+randHex(32),
		"HEARTH_LOG_LEVEL=warn", "HEARTH_API_RATE=1000000", "HEARTH_ADDR="+addr, "HEARTH_DATABASE_URL="+dbURL))
	if err != nil {
		return r, err
	}
	b.defer_(srv.stop)
	if err := waitReady(ctx, srv, "http://"+addr+"/readyz"); err != nil {
		return r, err
	}
	say("%s: hearth ready on %s; sending %d events in batches of %d from %d senders", d, addr, b.o.events, b.o.batch, b.o.senders)

	batches, supervised := b.makeBatches(d)
	r.distinct = len(supervised)
	cpu0 := procCPU(srv.cmd.Process.Pid)
	stats := b.send(ctx, "http://"+addr+eventsPath, batches)
	r.serverCPU = procCPU(srv.cmd.Process.Pid) - cpu0
	srv.stop()
	if ctx.Err() != nil {
		return r, ctx.Err()
	}
	r.events, r.batches, r.duration, r.failed = stats.events, stats.requests, stats.wall, stats.failed
	r.ignored, r.duplicates = stats.ignored, stats.duplicates
	slices.Sort(stats.latencies)
	r.p50, r.p99 = pct(stats.latencies, 0.50), pct(stats.latencies, 0.99)

	// Every event acknowledged as accepted is stored once; nothing else.
	stored, err := storedIDs(ctx, dbURL)
	if err != nil {
		return r, err
	}
	after, err := counts(ctx, dbURL)
	if err != nil {
		return r, err
	}
	r.storedIDs = after.ids - before.ids
	r.occurrences = after.occurrences - before.occurrences
	r.alerts = after.alerts - before.alerts
	for id := range stats.acked {
		if !stored[id] {
			r.lost++
		}
	}
	// Doubled: an event acknowledged as accepted more than once, or more
	// occurrences in the alerts than remembered event IDs.
	r.doubled = max(0, stats.accepted-len(stats.acked)) + max(0, r.occurrences-r.storedIDs)
	if len(stats.acked) != r.distinct {
		fmt.Printf("· %s: %d distinct supervised events were sent, %d acknowledged as accepted (%d requests failed)\n",
			d, r.distinct, len(stats.acked), r.failed)
	}
	if r.storedIDs != len(stats.acked) {
		fmt.Printf("· %s: %d event IDs stored, %d acknowledged\n", d, r.storedIDs, len(stats.acked))
	}
	say("%s: %d events in %s: %.0f events/s; %d alerts hold %d occurrences of %d stored events; lost %d, doubled %d",
		d, r.events, r.duration.Round(time.Millisecond), float64(r.events)/r.duration.Seconds(), r.alerts, r.occurrences, r.storedIDs, r.lost, r.doubled)
	return r, nil
}

// batch is one report: its body and which of its events are about
// supervised teens.
type batch struct {
	events     []event
	supervised []string
}

type event struct {
	ID            string `json:"id"`
	TeenID        string `json:"teen_id"`
	CounterpartID string `json:"counterpart_id,omitempty"`
	Direction     string `json:"direction"`
	Category      string `json:"category"`
	Severity      string `json:"severity"`
	ActionTaken   string `json:"action_taken"`
	OccurredAt    string `json:"occurred_at"`
}

// makeBatches writes the event mix and the order of sending, with the
// redeliveries in it: half right after their batch (two senders post it at
// the same moment), half at a random later place.
func (b *bench) makeBatches(d string) ([]*batch, map[string]bool) {
	rnd := mrand.New(mrand.NewPCG(b.o.seed, 0x696e676573740001))
	now := time.Now().UTC()
	supervised := map[string]bool{}
	var order []*batch
	run := randHex(4)
	for n := 0; n < b.o.events; n += b.o.batch {
		bt := &batch{}
		for i := n; i < min(n+b.o.batch, b.o.events); i++ {
			e := event{ID: fmt.Sprintf("ev_%s_%s_%07d", d, run, i), Direction: string(models.DirectionInbound),
				Category:    string(models.Categories[rnd.IntN(len(models.Categories))]),
				Severity:    string(models.Severities[rnd.IntN(len(models.Severities))]),
				ActionTaken: string(models.Actions[rnd.IntN(len(models.Actions))]),
				OccurredAt:  now.Add(-time.Duration(rnd.IntN(600_000)) * time.Millisecond).Format(time.RFC3339Nano)}
			if rnd.IntN(4) == 0 {
				e.Direction = string(models.DirectionOutbound)
			}
			if rnd.IntN(10) > 0 {
				e.CounterpartID = "u_" + strconv.Itoa(rnd.IntN(b.o.accounts))
			}
			if rnd.IntN(50) == 0 {
				e.TeenID = "tk_ava" // provisioned, supervised by nobody: ignored
			} else {
				e.TeenID = store.SeedPlatformID("tk_load_", 1+rnd.IntN(b.o.teens))
				bt.supervised = append(bt.supervised, e.ID)
				supervised[e.ID] = true
			}
			bt.events = append(bt.events, e)
		}
		order = append(order, bt)
		if rnd.Float64() < b.o.redeliver/2 {
			order = append(order, bt) // at once, by the next free sender
		}
	}
	base := len(order)
	for i := 0; i < base; i++ {
		if rnd.Float64() < b.o.redeliver/2 {
			j := i + 1 + rnd.IntN(len(order)-i)
			order = slices.Insert(order, j, order[i])
		}
	}
	return order, supervised
}

// sendStats is what the senders saw.
type sendStats struct {
	mu                   sync.Mutex
	events, requests     int
	failed               int
	accepted, duplicates int
	ignored              int
	acked                map[string]bool // events of batches answered 202 with accepted > 0
	latencies            []time.Duration
	wall                 time.Duration
	firstError           string
}

// send posts the batches in order from the senders and records every
// answer.
func (b *bench) send(ctx context.Context, target string, order []*batch) *sendStats {
	st := &sendStats{acked: map[string]bool{}}
	client := &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{
		MaxIdleConnsPerHost: b.o.senders, MaxConnsPerHost: b.o.senders, DisableCompression: true}}
	work := make(chan *batch)
	var wg sync.WaitGroup
	started := time.Now()
	for range b.o.senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for bt := range work {
				body, _ := json.Marshal(struct {
					Events []event `json:"events"`
				}{bt.events})
				id := "msg_" + randHex(12)
				ts := strconv.FormatInt(time.Now().Unix(), 10)
				req, _ := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("Authorization", "Bearer "+apiKey)
				req.Header.Set("webhook-id", id)
				req.Header.Set("webhook-timestamp", ts)
				req.Header.Set("webhook-signature", sign(id, ts, body))
				t0 := time.Now()
				resp, err := client.Do(req)
				lat := time.Since(t0)
				var res models.IngestResult
				status := 0
				if err == nil {
					status = resp.StatusCode
					raw, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					if status == http.StatusAccepted {
						err = json.Unmarshal(raw, &res)
					} else {
						err = fmt.Errorf("HTTP %d: %s", status, tail(string(raw), 300))
					}
				}
				st.mu.Lock()
				st.requests++
				st.events += len(bt.events)
				st.latencies = append(st.latencies, lat)
				if err != nil {
					st.failed++
					if st.firstError == "" {
						st.firstError = err.Error()
						fmt.Println("· request failed:", err)
					}
				} else {
					st.accepted += res.Accepted
					st.duplicates += res.Duplicates
					st.ignored += res.Ignored
					if res.Accepted > 0 {
						// Which of a partly duplicated batch were accepted
						// is not told; a batch is fresh or a redelivery
						// here, never partly both, unless it raced its twin.
						for _, id := range bt.supervised {
							st.acked[id] = true
						}
					}
				}
				st.mu.Unlock()
			}
		}()
	}
	for _, bt := range order {
		select {
		case work <- bt:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(work)
	wg.Wait()
	st.wall = time.Since(started)
	return st
}

// sign is the webhook-signature of body, as a Standard Webhook.
func sign(id, ts string, body []byte) string {
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	m := hmac.New(sha256.New, key)
	m.Write([]byte(id + "." + ts + "."))
	m.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
}

type tally struct{ ids, alerts, occurrences int }

// counts reads how many event IDs and alerts the database holds.
func counts(ctx context.Context, dbURL string) (tally, error) {
	st, err := store.Open(ctx, dbURL, store.Options{MaxOpenConns: 1})
	if err != nil {
		return tally{}, err
	}
	defer st.Close()
	var t tally
	var occ sql.NullInt64
	db := st.SQLDB()
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*) FROM received_events").Scan(&t.ids); err != nil {
		return t, err
	}
	if err := db.QueryRowContext(ctx, "SELECT COUNT(*), SUM(occurrences) FROM alerts").Scan(&t.alerts, &occ); err != nil {
		return t, err
	}
	t.occurrences = int(occ.Int64)
	return t, nil
}

// storedIDs reads the benchmark's event IDs from received_events.
func storedIDs(ctx context.Context, dbURL string) (map[string]bool, error) {
	st, err := store.Open(ctx, dbURL, store.Options{MaxOpenConns: 1})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	rows, err := st.SQLDB().QueryContext(ctx, "SELECT event_id FROM received_events WHERE event_id LIKE 'ev\\_%' ESCAPE '\\'")
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out[id] = true
	}
	return out, rows.Err()
}

// serve is the hearth serve process.
type serve struct {
	cmd  *exec.Cmd
	done chan struct{}
	log  string
}

func startServe(bin, logPath string, environ []string) (*serve, error) {
	logf, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "serve")
	cmd.Env = environ
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, err
	}
	s := &serve{cmd: cmd, done: make(chan struct{}), log: logPath}
	go func() {
		cmd.Wait()
		logf.Close()
		close(s.done)
	}()
	return s, nil
}

// stop ends the server's process group: SIGTERM, then SIGKILL after 10 s.
func (s *serve) stop() {
	select {
	case <-s.done:
		return
	default:
	}
	syscall.Kill(-s.cmd.Process.Pid, syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(10 * time.Second):
		syscall.Kill(-s.cmd.Process.Pid, syscall.SIGKILL)
		<-s.done
	}
}

func waitReady(ctx context.Context, s *serve, readyURL string) error {
	client := &http.Client{Timeout: 2 * time.Second}
	deadline := time.Now().Add(60 * time.Second)
	for {
		select {
		case <-s.done:
			return fmt.Errorf("hearth serve exited during start-up:\n%s", tailFile(s.log, 3000))
		default:
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("hearth serve did not become ready within 60 s:\n%s", tailFile(s.log, 3000))
		}
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if resp, err := client.Get(readyURL); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return nil
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// report prints the table, and writes it to -out.
func (b *bench) report(w io.Writer) {
	var t strings.Builder
	fmt.Fprintf(&t, "\n%d events per database in batches of %d, %d concurrent senders, %d supervised teens, %.0f%% of batches redelivered\n\n",
		b.o.events, b.o.batch, b.o.senders, b.o.teens, 100*b.o.redeliver)
	fmt.Fprintln(&t, "| database | events | batches | duration | events/s | p50 | p99 | lost | doubled | goal |")
	fmt.Fprintln(&t, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
	for _, r := range b.rows {
		eps := float64(r.events) / r.duration.Seconds()
		goal := 2000.0
		if r.database == "postgres" {
			goal = 5000
		}
		verdict := "PASS"
		if eps < goal || r.lost > 0 || r.doubled > 0 || r.failed > 0 {
			verdict = "MISS"
		}
		fmt.Fprintf(&t, "| %s | %d | %d | %s | %.0f | %s | %s | %d | %d | ≥ %.0f/s, none lost or doubled: %s |\n",
			r.database, r.events, r.batches, r.duration.Round(time.Millisecond), eps, ms(r.p50), ms(r.p99), r.lost, r.doubled, goal, verdict)
	}
	fmt.Fprintln(&t)
	for _, r := range b.rows {
		if r.serverCPU > 0 && r.batches > 0 {
			fmt.Fprintf(&t, "- %s: hearth serve used %.2f cores while sending, %.1f ms of CPU per batch (the database's own work is not counted).\n",
				r.database, r.serverCPU.Seconds()/r.duration.Seconds(), float64(r.serverCPU)/float64(r.batches)/float64(time.Millisecond))
		}
		fmt.Fprintf(&t, "- %s: %d distinct events about supervised teens stored once each (%d IDs remembered; %d alerts hold %d occurrences, bursts grouped); %d duplicates and %d ignored answered; %d requests failed.\n",
			r.database, r.distinct, r.storedIDs, r.alerts, r.occurrences, r.duplicates, r.ignored, r.failed)
	}
	fmt.Fprint(w, t.String())
	if b.o.out != "" {
		if err := os.WriteFile(b.o.out, []byte(t.String()), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "ingest: write -out:", err)
		}
	}
}

// procCPU is the CPU time process pid has used (user and system), read
// from /proc; 0 where there is none.
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// Fields after the command name, which is in parentheses and may hold
	// spaces: utime and stime are the 12th and 13th of them, in clock ticks
	// (100 a second on Linux).
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return time.Duration(u+st) * 10 * time.Millisecond
}

func pct(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(q*float64(len(sorted))+0.5) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond)) }

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func randHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func tail(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return "…" + s[len(s)-n:]
}

func tailFile(path string, n int) string {
	b, _ := os.ReadFile(path)
	return tail(string(b), n)
}
