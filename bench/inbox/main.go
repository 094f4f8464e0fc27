// Command inbox benchmarks the guardian's alert pages with 100,000 alerts
// in the database (issue 5: "p99 under 50 ms for the inbox"). For each
// database it
//
//  1. makes a fresh, migrated store (a SQLite file in a temporary folder, a
//     fresh schema on the Postgres given with -pg) and seeds it: a heavy
//     guardian with -heavy teens who get -heavy-share of the alerts, another
//     guardian with the other -teens teens who share the rest, all with
//     store.SeedAlerts; part of the heavy guardian's alerts are read (a
//     watermark on one teen, single acknowledgements on another), then
//     ANALYZE;
//
//  2. builds the real echo server (every middleware, the route table) and
//     signs in through POST /login and the teen's sign-in link, exactly as
//     a browser does, keeping the session cookies;
//
//  3. requests each page -n times in process (httptest, no network, so the
//     figures are the server's own: middleware, queries and rendering),
//     after -warm unmeasured requests, checking every answer is a 200 page;
//
//  4. prints one markdown table with p50, p95 and p99 per page and database,
//     and PASS/MISS against the goal (p99 < 50 ms).
//
//     go run ./bench/inbox
//     go run ./bench/inbox -alerts 100000 -n 300 -db sqlite
//
// See bench/README.md.
package main

import (
	"context"
	crand "crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver, for the fresh schema

	"github.com/hearth-safety/hearth/models"
	"github.com/hearth-safety/hearth/models/store"
	"github.com/hearth-safety/hearth/web"
	"github.com/hearth-safety/hearth/web/mail"
)

// goal is the p99 every page must stay under.
const goal = 50 * time.Millisecond

type options struct {
	alerts, teens, heavy int
	heavyShare           float64
	n, warm              int
	dbs                  string
	pg                   string
	out                  string
	seed                 uint64
	keep                 bool
}

func main() {
	var o options
	flag.IntVar(&o.alerts, "alerts", 100_000, "alerts to seed")
	flag.IntVar(&o.teens, "teens", 400, "teens of the second guardian, who share the rest of the alerts")
	flag.IntVar(&o.heavy, "heavy", 4, "teens of the heavy guardian")
	flag.Float64Var(&o.heavyShare, "heavy-share", 0.4, "share of the alerts that are about the heavy guardian's teens")
	flag.IntVar(&o.n, "n", 300, "measured requests per page")
	flag.IntVar(&o.warm, "warm", 30, "unmeasured requests per page first")
	flag.StringVar(&o.dbs, "db", "sqlite,postgres", "databases to run on: sqlite, postgres or both")
	flag.StringVar(&o.pg, "pg", "postgres://postgres@127.0.0.1:5432/test?sslmode=disable", "the Postgres to make a fresh schema on")
	flag.StringVar(&o.out, "out", "", "also write the table to this file")
	flag.Uint64Var(&o.seed, "seed", 1, "seed of the alert mix")
	flag.BoolVar(&o.keep, "keep", false, "keep the SQLite file and the Postgres schema, and print where they are")
	flag.Parse()
	if o.alerts < 1000 || o.teens < 1 || o.heavy < 1 || o.heavy > 16 || o.n < 10 || o.heavyShare <= 0 || o.heavyShare >= 1 {
		fmt.Fprintln(os.Stderr, "inbox: need -alerts ≥ 1000, -teens ≥ 1, 1 ≤ -heavy ≤ 16, -n ≥ 10 and 0 < -heavy-share < 1")
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var results []result
	for _, d := range strings.Split(o.dbs, ",") {
		rs, err := runOn(ctx, o, store.Dialect(strings.TrimSpace(d)))
		if err != nil {
			fmt.Fprintf(os.Stderr, "inbox: %s: %v\n", d, err)
			os.Exit(1)
		}
		results = append(results, rs...)
	}
	table := report(o, results)
	fmt.Print(table)
	if o.out != "" {
		if err := os.WriteFile(o.out, []byte(table), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "inbox:", err)
			os.Exit(1)
		}
	}
}

// result is one page's latencies on one database.
type result struct {
	db, page, path string
	lat            []time.Duration
	bytes          int
}

func (r result) pct(p float64) time.Duration {
	s := slices.Clone(r.lat)
	slices.Sort(s)
	i := int(p*float64(len(s))+0.5) - 1
	return s[max(0, min(i, len(s)-1))]
}

func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 1, 64)
}

func report(o options, rs []result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "\n%d alerts; heavy guardian: %d teens with %.0f%% of them; second guardian: %d teens; %d requests per page after %d warm-up, in process.\n\n",
		o.alerts, o.heavy, o.heavyShare*100, o.teens, o.n, o.warm)
	b.WriteString("| database | page | p50 ms | p95 ms | p99 ms | goal p99 < 50 ms |\n|---|---|---:|---:|---:|---|\n")
	for _, r := range rs {
		verdict := "PASS"
		if r.pct(0.99) >= goal {
			verdict = "MISS"
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %s | %s | %s |\n", r.db, r.page, ms(r.pct(0.5)), ms(r.pct(0.95)), ms(r.pct(0.99)), verdict)
	}
	return b.String()
}

func runOn(ctx context.Context, o options, d store.Dialect) ([]result, error) {
	dir, err := os.MkdirTemp("", "hearth-bench-inbox-")
	if err != nil {
		return nil, err
	}
	if o.keep {
		fmt.Fprintln(os.Stderr, "  keeping", dir)
	} else {
		defer os.RemoveAll(dir)
	}
	var raw string
	switch d {
	case store.SQLite:
		raw = filepath.Join(dir, "hearth.db")
	case store.Postgres:
		u, drop, err := freshSchema(o.pg)
		if err != nil {
			return nil, err
		}
		if o.keep {
			fmt.Fprintln(os.Stderr, "  keeping", u)
		} else {
			defer drop()
		}
		raw = u
	default:
		return nil, fmt.Errorf("unknown database %q (sqlite or postgres)", d)
	}
	st, err := store.Open(ctx, raw, store.Options{})
	if err != nil {
		return nil, err
	}
	defer st.Close()
	if _, err := st.Migrate(ctx, nil); err != nil {
		return nil, err
	}
	w, err := seed(ctx, o, st)
	if err != nil {
		return nil, fmt.Errorf("seed: %w", err)
	}

	env := map[string]string{"HEARTH_ENV": "development", "HEARTH_BASE_URL": "http://hearth.bench", "HEARTH_ADDR": "127.0.0.1:0", "HEARTH_LOG_LEVEL": "warn"}
	cfg, err := web.Load(func(k string) string { return env[k] })
	if err != nil {
		return nil, err
	}
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	policies, err := web.StartPolicies(ctx, st, 0, logger)
	if err != nil {
		return nil, err
	}
	defer policies.Stop(context.Background())
	srv, err := web.New(cfg, web.Deps{Store: st, Policies: policies, Mail: discardMail{}, Logger: logger})
	if err != nil {
		return nil, err
	}
	h := srv.Echo
	g, err := signIn(h, "/login", url.Values{"email": {heavyEmail}, "password": {password}})
	if err != nil {
		return nil, fmt.Errorf("guardian sign-in: %w", err)
	}
	g2, err := signIn(h, "/login", url.Values{"email": {manyEmail}, "password": {password}})
	if err != nil {
		return nil, fmt.Errorf("second guardian sign-in: %w", err)
	}
	tok, _, err := st.CreateSigninLink(ctx, w.clientID, w.heavyTeen)
	if err != nil {
		return nil, err
	}
	teen, err := signIn(h, "/t/signin/"+tok, url.Values{})
	if err != nil {
		return nil, fmt.Errorf("teen sign-in: %w", err)
	}

	rng := rand.New(rand.NewPCG(o.seed, 2))
	deep := func() string { return "/alerts?before=" + w.deep[rng.IntN(len(w.deep))] }
	fixed := func(p string) func() string { return func() string { return p } }
	pages := []struct {
		name    string
		cookies []*http.Cookie
		path    func() string
	}{
		{"inbox, first page", g, fixed("/alerts")},
		{"inbox, filtered: grooming, high and above", g, fixed("/alerts?category=grooming&severity=high")},
		{"inbox, filtered: unread only", g, fixed("/alerts?state=unread")},
		{"inbox, deep page (keyset, 2,000–20,000 down)", g, deep},
		{"one teen's page with the 8-week chart", g, fixed("/teens/" + strconv.FormatInt(w.heavyTeenID, 10) + "/alerts")},
		{"dashboard (unread counts)", g, fixed("/")},
		{fmt.Sprintf("inbox of a guardian of %d teens", o.teens), g2, fixed("/alerts")},
		{"teen's receipts", teen, fixed("/teen/alerts")},
	}
	var out []result
	for _, p := range pages {
		r := result{db: string(d), page: p.name}
		for i := range o.warm + o.n {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			path := p.path()
			req := httptest.NewRequest(http.MethodGet, path, nil)
			for _, c := range p.cookies {
				req.AddCookie(c)
			}
			rec := httptest.NewRecorder()
			start := time.Now()
			h.ServeHTTP(rec, req)
			took := time.Since(start)
			if rec.Code != http.StatusOK || !strings.Contains(rec.Body.String(), "</html>") {
				return nil, fmt.Errorf("%s: %d", path, rec.Code)
			}
			if i >= o.warm {
				r.lat = append(r.lat, took)
				r.bytes = rec.Body.Len()
			}
		}
		fmt.Fprintf(os.Stderr, "  %s: %s p99 %s ms\n", d, p.name, ms(r.pct(0.99)))
		out = append(out, r)
	}
	return out, nil
}

// signIn posts form to path as a same-origin browser would and returns the
// session cookies it is given.
func signIn(h http.Handler, path string, form url.Values) ([]*http.Cookie, error) {
	req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.RemoteAddr = "127.0.0.1:1"
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusSeeOther {
		return nil, fmt.Errorf("POST %s: %d", path, rec.Code)
	}
	cs := rec.Result().Cookies()
	if len(cs) == 0 {
		return nil, errors.New("no session cookie")
	}
	return cs, nil
}

type discardMail struct{}

func (discardMail) Enqueue(context.Context, mail.Message) error { return nil }

const (
	heavyEmail = "heavy@example.com"
	manyEmail  = "many@example.com"
	password   = "bench inbox password 1"
)

// world is what the pages need from the seeded database.
type world struct {
	clientID    int64
	heavyTeen   string // platform ID of the heavy guardian's first teen
	heavyTeenID int64
	deep        []string // cursors 2,000–20,000 alerts down the heavy inbox
}

var categories = []models.Category{models.CategorySpam, models.CategorySpam, models.CategorySpam, models.CategoryBullying, models.CategoryBullying,
	models.CategoryHarassment, models.CategoryScam, models.CategoryScam, models.CategoryHate, models.CategoryViolence, models.CategorySexualContent,
	models.CategoryGrooming, models.CategorySelfHarm, models.CategorySextortion, models.CategoryOther}

func seed(ctx context.Context, o options, st *store.Store) (world, error) {
	var w world
	started := time.Now()
	cl, _, err := st.CreateClient(ctx, store.NewClient{Name: "bench"})
	if err != nil {
		return w, err
	}
	w.clientID = cl.ID
	heavy, err := st.CreateUser(ctx, store.NewUser{Email: heavyEmail, Name: "Heavy Guardian", Password: password, Role: models.RoleGuardian})
	if err != nil {
		return w, err
	}
	many, err := st.CreateUser(ctx, store.NewUser{Email: manyEmail, Name: "Many Teens", Password: password, Role: models.RoleGuardian})
	if err != nil {
		return w, err
	}
	if err := st.SeedSupervisedTeens(ctx, cl.ID, heavy.ID, "tk_heavy_", o.heavy, nil); err != nil {
		return w, err
	}
	if err := st.SeedSupervisedTeens(ctx, cl.ID, many.ID, "tk_many_", o.teens, nil); err != nil {
		return w, err
	}
	w.heavyTeen = store.SeedPlatformID("tk_heavy_", 1)
	t, err := st.TeenByPlatformID(ctx, cl.ID, w.heavyTeen)
	if err != nil {
		return w, err
	}
	w.heavyTeenID = t.ID

	rng := rand.New(rand.NewPCG(o.seed, 1))
	now := time.Now().UTC()
	span := 90 * 24 * time.Hour // retention keeps 90 days
	batch := make([]store.SeedAlert, 0, 5000)
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		_, err := st.SeedAlerts(ctx, cl.ID, batch)
		batch = batch[:0]
		return err
	}
	for i := range o.alerts {
		teen := store.SeedPlatformID("tk_many_", 1+rng.IntN(o.teens))
		if rng.Float64() < o.heavyShare {
			teen = store.SeedPlatformID("tk_heavy_", 1+rng.IntN(o.heavy))
		}
		sev := models.Severities[min(3, int(rng.ExpFloat64()))]
		dir := models.DirectionInbound
		if rng.IntN(10) == 0 {
			dir = models.DirectionOutbound
		}
		batch = append(batch, store.SeedAlert{Occurrences: 1 + rng.IntN(2)*rng.IntN(4), Event: models.Event{
			ID: "bench_" + strconv.Itoa(i), TeenID: teen, CounterpartID: "u_" + strconv.Itoa(rng.IntN(5000)), Direction: dir,
			Category: categories[rng.IntN(len(categories))], Severity: sev, ActionTaken: models.Actions[rng.IntN(len(models.Actions))],
			OccurredAt: now.Add(-time.Duration(rng.Int64N(int64(span)))).Truncate(time.Second)}})
		if len(batch) == cap(batch) {
			if err := flush(); err != nil {
				return w, err
			}
		}
	}
	if err := flush(); err != nil {
		return w, err
	}
	// Some of the heavy guardian's alerts are read: all of the first teen's
	// (one watermark) and one in five of the second teen's, one by one.
	g := models.Actor{UserID: heavy.ID, Role: models.RoleGuardian}
	if err := st.MarkAllAlertsRead(ctx, g, &w.heavyTeenID); err != nil {
		return w, err
	}
	if o.heavy > 1 {
		second, err := st.TeenByPlatformID(ctx, cl.ID, store.SeedPlatformID("tk_heavy_", 2))
		if err != nil {
			return w, err
		}
		as, _, err := st.Alerts(ctx, g, models.AlertFilter{TeenID: &second.ID, Limit: models.MaxAlertLimit})
		for err == nil && len(as) > 0 {
			for i, a := range as {
				if i%5 == 0 {
					if err := st.AcknowledgeAlert(ctx, g, a.ID); err != nil {
						return w, err
					}
				}
			}
			cur := models.CursorOf(as[len(as)-1])
			as, _, err = st.Alerts(ctx, g, models.AlertFilter{TeenID: &second.ID, Limit: models.MaxAlertLimit, Before: &cur})
		}
		if err != nil {
			return w, err
		}
	}
	// Statistics as a database in use has them (autovacuum on Postgres).
	stats := "ANALYZE"
	if st.Dialect() == store.Postgres {
		stats = "VACUUM ANALYZE"
	}
	if _, err := st.SQLDB().ExecContext(ctx, stats); err != nil {
		return w, err
	}
	w.deep, err = deepCursors(ctx, st, heavy.ID)
	fmt.Fprintf(os.Stderr, "  %s: seeded %d alerts in %s\n", st.Dialect(), o.alerts, time.Since(started).Round(time.Millisecond))
	return w, err
}

// deepCursors returns positions 2,000 to 20,000 alerts down the heavy
// guardian's inbox, as ?before= values.
func deepCursors(ctx context.Context, st *store.Store, guardianID int64) ([]string, error) {
	q := `SELECT a.occurred_at, a.id FROM alerts a JOIN links l ON l.teen_id = a.teen_id AND l.guardian_id = ` + strconv.FormatInt(guardianID, 10) +
		` ORDER BY a.occurred_at DESC, a.id DESC LIMIT 1 OFFSET `
	var out []string
	for off := 2000; off <= 20000; off += 2000 {
		var at time.Time
		var id int64
		err := st.SQLDB().QueryRowContext(ctx, q+strconv.Itoa(off)).Scan(&at, &id)
		if errors.Is(err, sql.ErrNoRows) {
			break
		}
		if err != nil {
			return nil, err
		}
		out = append(out, models.AlertCursor{At: at, ID: id}.String())
	}
	if len(out) == 0 {
		return nil, errors.New("the heavy inbox has fewer than 2,000 alerts; raise -alerts")
	}
	return out, nil
}

// freshSchema makes a new schema on the Postgres at base and returns a URL
// that uses it, and a function that drops it.
func freshSchema(base string) (string, func(), error) {
	b := make([]byte, 6)
	crand.Read(b)
	schema := "hearth_bench_" + hex.EncodeToString(b)
	db, err := sql.Open("pgx", base)
	if err != nil {
		return "", nil, err
	}
	if _, err := db.Exec("CREATE SCHEMA " + schema); err != nil {
		db.Close()
		return "", nil, fmt.Errorf("create schema on %s: %w", base, err)
	}
	drop := func() {
		db.Exec("DROP SCHEMA " + schema + " CASCADE")
		db.Close()
	}
	u, err := url.Parse(base)
	if err != nil {
		drop()
		return "", nil, err
	}
	q := u.Query()
	q.Set("search_path", schema)
	// Seeding 100,000 alerts and VACUUM take longer than the serving
	// default of 5 s a statement.
	q.Set("statement_timeout", "300000")
	u.RawQuery = q.Encode()
	return u.String(), drop, nil
}
