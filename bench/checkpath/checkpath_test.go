// Package checkpath measures where the time of one POST /api/v1/dm/check
// goes, in process, without the network and without a load generator
// competing for the CPU: the whole Hearth stack (web.New, every middleware,
// the real handler on a real store with seeded teens), the bare baseline of
// bench/bare, stacks in between, and the parts on their own. Use it to find
// the cost centres that bench/dmcheck's figures come from:
//
//	go test ./bench/checkpath -bench . -benchmem -run '^$'
//	go test ./bench/checkpath -bench 'Stack/hearth$' -run '^$' -cpuprofile /tmp/check.prof
//	go tool pprof -top /tmp/check.prof
//
// -teens sets how many supervised teens are seeded (default 100,000).
package checkpath_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	jsonv2 "github.com/go-json-experiment/json"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/time/rate"

	"github.com/hearth-safety/hearth/handlers"
	"github.com/hearth-safety/hearth/models"
	"github.com/hearth-safety/hearth/models/store"
	"github.com/hearth-safety/hearth/policy"
	"github.com/hearth-safety/hearth/web"
	"github.com/hearth-safety/hearth/web/policycache"
)

var teens = flag.Int("teens", 100_000, "supervised teens to seed")

const (
	apiKey    = "bench_checkpath_0123456789abcdefghijklmnop"
	checkPath = "/api/v1/dm/check"
)

// world is the seeded store, its rules cache and the full server, made
// once for every benchmark.
type world struct {
	st     *store.Store
	cache  *policycache.Cache
	srv    *web.Server
	h      *handlers.Handlers
	client models.ServiceClient
	bodies [][]byte
}

var (
	once   sync.Once
	shared *world
	setErr error
	dir    string
)

func TestMain(m *testing.M) {
	flag.Parse()
	code := m.Run()
	if dir != "" {
		os.RemoveAll(dir)
	}
	os.Exit(code)
}

func setup(b *testing.B) *world {
	b.Helper()
	once.Do(func() { shared, setErr = build() })
	if setErr != nil {
		b.Fatal(setErr)
	}
	return shared
}

func build() (*world, error) {
	ctx := context.Background()
	var err error
	if dir, err = os.MkdirTemp("", "hearth-checkpath-"); err != nil {
		return nil, err
	}
	dbPath := filepath.Join(dir, "hearth.db")
	st, err := store.Open(ctx, dbPath, store.Options{})
	if err != nil {
		return nil, err
	}
	if _, err := st.Migrate(ctx, nil); err != nil {
		return nil, err
	}
	cl, _, err := st.CreateClient(ctx, store.NewClient{Name: "bench", Key: apiKey})
	if err != nil {
		return nil, err
	}
	g, err := st.CreateUser(ctx, store.NewUser{Email: "load@example.com", Name: "Load Test Guardian", Password: "demo-load-pass", Role: models.RoleGuardian})
	if err != nil {
		return nil, err
	}
	if err := st.SeedSupervisedTeens(ctx, cl.ID, g.ID, "tk_load_", *teens, nil); err != nil {
		return nil, err
	}
	logger := slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelWarn}))
	cache, err := web.StartPolicies(ctx, st, 0, logger)
	if err != nil {
		return nil, err
	}
	env := map[string]string{
		"HEARTH_ENV": "production", "HEARTH_SESSION_KEYS": strings.Repeat("ab", 32), "HEARTH_LOG_LEVEL": "warn",
		"HEARTH_API_RATE": "1000000", "HEARTH_DATABASE_URL": dbPath,
	}
	cfg, err := web.Load(func(k string) string { return env[k] })
	if err != nil {
		return nil, err
	}
	srv, err := web.New(cfg, web.Deps{Store: st, Policies: cache, Logger: logger})
	if err != nil {
		return nil, err
	}
	h := handlers.New(handlers.Deps{Store: st, Policies: cache, Logger: logger})
	return &world{st: st, cache: cache, srv: srv, h: h, client: cl, bodies: mix(*teens, 1000)}, nil
}

// mix is a smaller version of bench/dmcheck's request mix.
func mix(n, count int) [][]byte {
	rng := rand.New(rand.NewPCG(1, 2))
	var out [][]byte
	for len(out) < count {
		teen := fmt.Sprintf("tk_load_%06d", 1+rng.IntN(n))
		other := fmt.Sprintf("u_%d", 1+rng.IntN(5_000_000))
		sender, recipient := other, teen
		switch r := rng.IntN(20); {
		case r < 5:
			sender, recipient = fmt.Sprintf("u_%d", rng.IntN(1000)), other
		case r < 7:
			sender = fmt.Sprintf("tk_load_%06d", 1+rng.IntN(n))
		}
		at := time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC).Add(time.Duration(rng.IntN(48*3600)) * time.Second)
		mutual, adult := rng.IntN(2) == 0, rng.IntN(2) == 0
		out = append(out, fmt.Appendf(nil, `{"sender_id":%q,"recipient_id":%q,"sent_at":%q,"context":{"mutual_follow":%t,"sender_is_adult":%t,"sender_account_age_days":%d,"recipient_is_adult":false,"recipient_account_age_days":400,"has_media":%t,"has_link":false},"min_policy_version":0}`,
			sender, recipient, at.Format(time.RFC3339), mutual, adult, rng.IntN(2000), rng.IntN(4) == 0))
	}
	return out
}

// sink is a ResponseWriter that keeps nothing, so the benchmark measures
// the server and not httptest.ResponseRecorder.
type sink struct {
	h      http.Header
	status int
}

func (s *sink) Header() http.Header         { return s.h }
func (s *sink) Write(p []byte) (int, error) { return len(p), nil }
func (s *sink) WriteHeader(code int)        { s.status = code }

type bodyReader struct{ bytes.Reader }

func (*bodyReader) Close() error { return nil }

// serve runs b.N checks through h, rotating the bodies, as one client.
func serve(b *testing.B, w *world, h http.Handler) {
	b.Helper()
	req := httptest.NewRequest(http.MethodPost, checkPath, nil)
	req.RemoteAddr = "127.0.0.1:40000"
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+apiKey)
	out := &sink{h: http.Header{}}
	body := &bodyReader{}
	// One check first, to fail fast on a wrong set-up.
	body.Reset(w.bodies[0])
	req.Body, req.ContentLength = body, int64(len(w.bodies[0]))
	h.ServeHTTP(out, req)
	if out.status != http.StatusOK {
		b.Fatalf("status %d", out.status)
	}
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuTime()
	n := 0
	for i := 0; b.Loop(); i++ {
		bd := w.bodies[i%len(w.bodies)]
		body.Reset(bd)
		req.Body, req.ContentLength = body, int64(len(bd))
		clear(out.h)
		out.status = 0
		h.ServeHTTP(out, req)
		n++
	}
	reportCPU(b, cpu, n)
}

// cpuTime is the CPU this process has used so far, all threads (the
// garbage collector's included).
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU adds cpu-ns/op: the CPU the process spent per operation since
// start. Unlike ns/op it hardly moves when other processes compete for
// the cores (this machine is shared), and it counts the garbage
// collector's work on the other core, which a saturated server pays too.
func reportCPU(b *testing.B, start time.Duration, n int) {
	if n > 0 {
		b.ReportMetric(float64(cpuTime()-start)/float64(n), "cpu-ns/op")
	}
}

// serveParallel is serve from GOMAXPROCS goroutines, for contention.
func serveParallel(b *testing.B, w *world, h http.Handler) {
	b.ReportAllocs()
	cpu := cpuTime()
	defer func() { reportCPU(b, cpu, b.N) }()
	b.RunParallel(func(pb *testing.PB) {
		req := httptest.NewRequest(http.MethodPost, checkPath, nil)
		req.RemoteAddr = "127.0.0.1:40000"
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+apiKey)
		out := &sink{h: http.Header{}}
		body := &bodyReader{}
		for i := 0; pb.Next(); i++ {
			bd := w.bodies[i%len(w.bodies)]
			body.Reset(bd)
			req.Body, req.ContentLength = body, int64(len(bd))
			clear(out.h)
			h.ServeHTTP(out, req)
		}
	})
}

// bare is bench/bare's handler.
func bare() *echo.Echo {
	type checkContext struct {
		MutualFollow            *bool `json:"mutual_follow,omitempty"`
		SenderIsAdult           *bool `json:"sender_is_adult,omitempty"`
		SenderAccountAgeDays    *int  `json:"sender_account_age_days,omitempty"`
		RecipientIsAdult        *bool `json:"recipient_is_adult,omitempty"`
		RecipientAccountAgeDays *int  `json:"recipient_account_age_days,omitempty"`
		HasMedia                *bool `json:"has_media,omitempty"`
		HasLink                 *bool `json:"has_link,omitempty"`
	}
	type check struct {
		SenderID         *string       `json:"sender_id"`
		RecipientID      *string       `json:"recipient_id"`
		SentAt           *string       `json:"sent_at"`
		Context          *checkContext `json:"context"`
		MinPolicyVersion *int64        `json:"min_policy_version"`
	}
	type result struct {
		Decision      string `json:"decision"`
		Reason        string `json:"reason"`
		DecidedBy     string `json:"decided_by"`
		PolicyVersion int64  `json:"policy_version"`
	}
	constant := result{Decision: "allow", Reason: "not_supervised", DecidedBy: "none"}
	e := echo.New()
	e.Logger.SetOutput(io.Discard)
	e.POST(checkPath, func(c echo.Context) error {
		var req check
		dec := json.NewDecoder(c.Request().Body)
		dec.DisallowUnknownFields()
		if err := dec.Decode(&req); err != nil {
			return echo.NewHTTPError(http.StatusBadRequest, err.Error())
		}
		return c.JSON(http.StatusOK, constant)
	})
	return e
}

// BenchmarkStack runs one check through whole stacks: the bare baseline,
// Hearth's handler behind only the key check, and the full server.
func BenchmarkStack(b *testing.B) {
	w := setup(b)
	handlerOnly := echo.New()
	handlerOnly.HTTPErrorHandler = w.h.ErrorHandler
	handlerOnly.POST(checkPath, w.h.CheckDM, w.h.RequireClient)
	b.Run("bare", func(b *testing.B) { serve(b, w, bare()) })
	b.Run("handler+auth", func(b *testing.B) { serve(b, w, handlerOnly) })
	b.Run("hearth", func(b *testing.B) { serve(b, w, w.srv.Echo) })
	b.Run("bare/parallel", func(b *testing.B) { serveParallel(b, w, bare()) })
	b.Run("hearth/parallel", func(b *testing.B) { serveParallel(b, w, w.srv.Echo) })
}

// BenchmarkMiddleware adds one middleware at a time to the handler and
// key check, so each one's cost is its row minus "none". The middlewares
// that live unexported in package web are mirrored here from
// web/middleware.go (securityHeaders' /api/ branch, requestLogger,
// metrics); keep them in step.
func BenchmarkMiddleware(b *testing.B) {
	w := setup(b)
	logger := slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelWarn}))
	apiLimit := middleware.RateLimiterWithConfig(middleware.RateLimiterConfig{
		Store: middleware.NewRateLimiterMemoryStoreWithConfig(middleware.RateLimiterMemoryStoreConfig{
			Rate: rate.Limit(1e6), Burst: 2e6, ExpiresIn: 10 * time.Minute,
		}),
	})
	stacks := []struct {
		name string
		mw   []echo.MiddlewareFunc // global (e.Use)
		rmw  []echo.MiddlewareFunc // route
	}{
		{"none", nil, nil},
		{"request-id", []echo.MiddlewareFunc{middleware.RequestID()}, nil},
		{"security-headers", []echo.MiddlewareFunc{apiSecurityHeaders}, nil},
		{"request-logger", []echo.MiddlewareFunc{requestLogger(logger)}, nil},
		{"metrics", []echo.MiddlewareFunc{newMetrics(prometheus.NewRegistry()).middleware}, nil},
		{"recover", []echo.MiddlewareFunc{middleware.Recover()}, nil},
		{"rate-limit", nil, []echo.MiddlewareFunc{apiLimit}},
		{"body-limit", nil, []echo.MiddlewareFunc{middleware.BodyLimit("2M")}},
		{"none-again", nil, nil}, // drift check: should match "none"
	}
	for _, s := range stacks {
		e := echo.New()
		e.HTTPErrorHandler = w.h.ErrorHandler
		e.Use(s.mw...)
		e.POST(checkPath, w.h.CheckDM, append(s.rmw, w.h.RequireClient)...)
		b.Run(s.name, func(b *testing.B) { serve(b, w, e) })
	}
}

// BenchmarkParts times the pieces of the handler on their own.
func BenchmarkParts(b *testing.B) {
	w := setup(b)
	b.Run("hash-key", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			store.HashToken(apiKey)
		}
	})
	b.Run("decode-strict", func(b *testing.B) {
		type dmCheck struct {
			SenderID         *string         `json:"sender_id"`
			RecipientID      *string         `json:"recipient_id"`
			SentAt           *string         `json:"sent_at"`
			Context          *policy.Context `json:"context"`
			MinPolicyVersion *int64          `json:"min_policy_version"`
		}
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			var v dmCheck
			if err := handlers.DecodeStrict(w.bodies[i%len(w.bodies)], &v); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("parse-sent-at", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			time.Parse(time.RFC3339Nano, "2026-11-27T21:30:00Z")
		}
	})
	b.Run("lookup-and-decide", func(b *testing.B) {
		ids := make([]string, 1000)
		for i := range ids {
			ids[i] = fmt.Sprintf("tk_load_%06d", 1+(i*7919)%*teens)
		}
		yes, no, age := true, false, 400
		c := &policy.Context{MutualFollow: &no, SenderIsAdult: &yes, SenderAccountAgeDays: &age, HasMedia: &no, HasLink: &no}
		at := time.Date(2026, 11, 27, 21, 30, 0, 0, time.UTC)
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			id := ids[i%len(ids)]
			s, r := w.cache.Lookup(w.client.ID, "u_1"), w.cache.Lookup(w.client.ID, id)
			var sp, rp *policy.Policy
			if s != nil {
				sp = &s.Policy
			}
			if r != nil {
				rp = &r.Policy
			}
			policy.DecideDM(sp, rp, "u_1", id, c, at)
		}
	})
	b.Run("encode-result", func(b *testing.B) {
		res := policy.Result{Decision: policy.Hold, Reason: policy.ReasonQuietHours, DecidedBy: policy.DecidedByRecipient, PolicyVersion: 1,
			HoldUntil: time.Date(2026, 11, 28, 7, 0, 0, 0, time.UTC)}
		b.ReportAllocs()
		for b.Loop() {
			json.NewEncoder(io.Discard).Encode(res)
		}
	})
}

// apiSecurityHeaders mirrors securityHeaders (web/middleware.go) for /api/
// paths.
func apiSecurityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		if strings.HasPrefix(c.Request().URL.Path, "/api/") {
			h.Set("Content-Security-Policy", "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
			h.Set("Cache-Control", "no-store")
			return next(c)
		}
		return next(c)
	}
}

// requestLogger mirrors web/middleware.go's requestLogger.
func requestLogger(logger *slog.Logger) echo.MiddlewareFunc {
	return middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		LogStatus: true, LogLatency: true, LogMethod: true, LogRoutePath: true, LogRequestID: true, LogRemoteIP: true, LogError: true,
		HandleError: true,
		Skipper: func(c echo.Context) bool {
			p := c.Path()
			return p == "/healthz" || p == "/readyz" || p == "/static/*"
		},
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			if v.Status < 400 && strings.HasPrefix(v.RoutePath, "/api/v1/dm/check") {
				return nil
			}
			logger.LogAttrs(c.Request().Context(), slog.LevelInfo, "request", slog.String("route", v.RoutePath), slog.Int("status", v.Status))
			return nil
		},
	})
}

// metrics mirrors web/middleware.go's metrics.
type metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hearth_http_requests_total", Help: "h"}, []string{"method", "route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "hearth_http_request_duration_seconds", Help: "h",
			Buckets: []float64{.0002, .0005, .001, .002, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}}, []string{"method", "route"}),
	}
	reg.MustRegister(m.requests, m.latency)
	return m
}

func (m *metrics) middleware(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		start := time.Now()
		err := next(c)
		status := c.Response().Status
		if err != nil {
			if he, ok := err.(*echo.HTTPError); ok {
				status = he.Code
			} else if status < 400 {
				status = http.StatusInternalServerError
			}
		}
		route := c.Path()
		if route == "" {
			route = "unmatched"
		}
		m.requests.WithLabelValues(c.Request().Method, route, strconv.Itoa(status)).Inc()
		m.latency.WithLabelValues(c.Request().Method, route).Observe(time.Since(start).Seconds())
		return err
	}
}

// compose applies mws to h once, as echo does on every request for route
// and global middleware (echo v4's applyMiddleware runs per request).
func compose(h echo.HandlerFunc, mws ...echo.MiddlewareFunc) echo.HandlerFunc {
	for i := len(mws) - 1; i >= 0; i-- {
		h = mws[i](h)
	}
	return h
}

// mirrorStack is web.New's middleware and the API route's, mirrored (see
// BenchmarkMiddleware), as separate lists.
func mirrorStack(w *world) (global, route []echo.MiddlewareFunc) {
	logger := slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: slog.LevelWarn}))
	apiLimit := middleware.RateLimiterWithConfig(middleware.RateLimiterConfig{
		Store: middleware.NewRateLimiterMemoryStoreWithConfig(middleware.RateLimiterMemoryStoreConfig{
			Rate: rate.Limit(1e6), Burst: 2e6, ExpiresIn: 10 * time.Minute,
		}),
	})
	global = []echo.MiddlewareFunc{middleware.RequestID(), apiSecurityHeaders, requestLogger(logger),
		newMetrics(prometheus.NewRegistry()).middleware, middleware.Recover()}
	route = []echo.MiddlewareFunc{apiLimit, middleware.BodyLimit("2M"), w.h.RequireClient}
	return global, route
}

// BenchmarkProposals measures changes to the check path before anyone
// makes them in handlers/ or web/: each row is the mirrored full stack
// with one change, to compare with "as-is".
func BenchmarkProposals(b *testing.B) {
	w := setup(b)
	newEcho := func() *echo.Echo {
		e := echo.New()
		e.HTTPErrorHandler = w.h.ErrorHandler
		e.Logger.SetOutput(io.Discard)
		return e
	}
	// As web.New and routes.go do it today.
	asIs := newEcho()
	{
		g, r := mirrorStack(w)
		asIs.Use(g...)
		asIs.POST(checkPath, w.h.CheckDM, r...)
	}
	// Route middleware composed once at registration.
	routeOnce := newEcho()
	{
		g, r := mirrorStack(w)
		routeOnce.Use(g...)
		routeOnce.POST(checkPath, compose(w.h.CheckDM, r...))
	}
	// Everything composed once (no e.Use): the upper bound of that change.
	allOnce := newEcho()
	{
		g, r := mirrorStack(w)
		allOnce.POST(checkPath, compose(w.h.CheckDM, append(g, r...)...))
	}
	// The handler rewritten: JSON v2 decoding (unknown members refused),
	// the answer appended by hand, the key's hash cached.
	tuned := newEcho()
	{
		g, r := mirrorStack(w)
		r[len(r)-1] = cachedKey(w)
		tuned.Use(g...)
		tuned.POST(checkPath, tunedCheck(w), r...)
	}
	tunedOnce := newEcho()
	{
		g, r := mirrorStack(w)
		r[len(r)-1] = cachedKey(w)
		tunedOnce.POST(checkPath, compose(tunedCheck(w), append(g, r...)...))
	}
	b.Run("as-is", func(b *testing.B) { serve(b, w, asIs) })
	b.Run("route-mw-once", func(b *testing.B) { serve(b, w, routeOnce) })
	b.Run("all-mw-once", func(b *testing.B) { serve(b, w, allOnce) })
	b.Run("tuned-handler", func(b *testing.B) { serve(b, w, tuned) })
	b.Run("tuned-handler+all-mw-once", func(b *testing.B) { serve(b, w, tunedOnce) })
	b.Run("as-is-again", func(b *testing.B) { serve(b, w, asIs) })
}

// cachedKey is RequireClient with the SHA-256 of the key remembered per
// raw key (a real version must forget entries when the cache's client set
// changes, and bound the map).
func cachedKey(w *world) echo.MiddlewareFunc {
	var mu sync.RWMutex
	ids := map[string]int64{}
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			key, ok := strings.CutPrefix(c.Request().Header.Get(echo.HeaderAuthorization), "Bearer ")
			if !ok {
				return echo.ErrUnauthorized
			}
			mu.RLock()
			id, hit := ids[key]
			mu.RUnlock()
			if !hit {
				if store.HashToken(key) != store.HashToken(apiKey) {
					return echo.ErrUnauthorized
				}
				id = w.client.ID
				mu.Lock()
				ids[key] = id
				mu.Unlock()
			}
			c.Set("hearth.client.id", id)
			return next(c)
		}
	}
}

// tunedCheck is CheckDM with v2 decoding and a hand-written answer; the
// validation is the handler's, shortened to what the mix exercises.
func tunedCheck(w *world) echo.HandlerFunc {
	type dmCheck struct {
		SenderID         *string         `json:"sender_id"`
		RecipientID      *string         `json:"recipient_id"`
		SentAt           *string         `json:"sent_at"`
		Context          *policy.Context `json:"context"`
		MinPolicyVersion *int64          `json:"min_policy_version"`
	}
	return func(c echo.Context) error {
		body, err := io.ReadAll(c.Request().Body)
		if err != nil {
			return err
		}
		var req dmCheck
		if err := jsonv2.Unmarshal(body, &req, jsonv2.RejectUnknownMembers(true)); err != nil {
			return echo.NewHTTPError(http.StatusBadRequest, err.Error())
		}
		if req.SenderID == nil || req.RecipientID == nil || !models.PlatformIDOK(*req.SenderID) || !models.PlatformIDOK(*req.RecipientID) {
			return echo.NewHTTPError(http.StatusUnprocessableEntity, "ids")
		}
		at := time.Now()
		if req.SentAt != nil {
			if at, err = time.Parse(time.RFC3339Nano, *req.SentAt); err != nil {
				return echo.NewHTTPError(http.StatusUnprocessableEntity, "sent_at")
			}
		}
		client, _ := c.Get("hearth.client.id").(int64)
		s, r := w.cache.Lookup(client, *req.SenderID), w.cache.Lookup(client, *req.RecipientID)
		var sp, rp *policy.Policy
		if s != nil {
			sp = &s.Policy
		}
		if r != nil {
			rp = &r.Policy
		}
		res := policy.DecideDM(sp, rp, *req.SenderID, *req.RecipientID, req.Context, at)
		buf := make([]byte, 0, 160)
		buf = append(buf, `{"decision":"`...)
		buf = append(buf, res.Decision.String()...)
		buf = append(buf, `","reason":"`...)
		buf = append(buf, res.Reason.String()...)
		buf = append(buf, `","decided_by":"`...)
		buf = append(buf, res.DecidedBy.String()...)
		buf = append(buf, `","policy_version":`...)
		buf = strconv.AppendInt(buf, res.PolicyVersion, 10)
		if !res.HoldUntil.IsZero() {
			buf = append(buf, `,"hold_until":"`...)
			buf = res.HoldUntil.AppendFormat(buf, time.RFC3339Nano)
			buf = append(buf, '"')
		}
		buf = append(buf, "}\n"...)
		return c.Blob(http.StatusOK, echo.MIMEApplicationJSON, buf)
	}
}

// BenchmarkDecode compares encoding/json (as handlers.DecodeStrict uses
// it) with github.com/go-json-experiment/json (JSON v2, already in go.mod)
// on the mix's bodies.
func BenchmarkDecode(b *testing.B) {
	w := setup(b)
	type dmCheck struct {
		SenderID         *string         `json:"sender_id"`
		RecipientID      *string         `json:"recipient_id"`
		SentAt           *string         `json:"sent_at"`
		Context          *policy.Context `json:"context"`
		MinPolicyVersion *int64          `json:"min_policy_version"`
	}
	b.Run("v1-DecodeStrict", func(b *testing.B) {
		b.ReportAllocs()
		cpu := cpuTime()
		n := 0
		for i := 0; b.Loop(); i++ {
			var v dmCheck
			if err := handlers.DecodeStrict(w.bodies[i%len(w.bodies)], &v); err != nil {
				b.Fatal(err)
			}
			n++
		}
		reportCPU(b, cpu, n)
	})
	b.Run("v2-Unmarshal", func(b *testing.B) {
		b.ReportAllocs()
		cpu := cpuTime()
		n := 0
		for i := 0; b.Loop(); i++ {
			var v dmCheck
			if err := jsonv2.Unmarshal(w.bodies[i%len(w.bodies)], &v, jsonv2.RejectUnknownMembers(true)); err != nil {
				b.Fatal(err)
			}
			n++
		}
		reportCPU(b, cpu, n)
	})
}

// BenchmarkGCHeap times a full garbage collection with 100,000 rules held
// the way policycache holds them (64 shards of map[key]*Entry, a string in
// each key, a *time.Location and two map pointers in each policy) and the
// same held without pointers (a map from the key's 64-bit hash to an index
// into one slice of fixed-size records, zones and contact lists by index).
// The garbage collector has to trace every pointer of the first on every
// cycle and none of the second. Run it on its own (the others' shared
// world would be in the heap too):
//
//	go test ./bench/checkpath -bench GCHeap -run '^$'
func BenchmarkGCHeap(b *testing.B) {
	n := *teens
	locs := []*time.Location{}
	for _, z := range store.SeedZones {
		l, _ := time.LoadLocation(z)
		locs = append(locs, l)
	}
	b.Run("as-policycache", func(b *testing.B) {
		type key struct {
			client int64
			id     string
		}
		type entry struct{ Policy policy.Policy }
		var shards [64]map[key]*entry
		for i := range shards {
			shards[i] = map[key]*entry{}
		}
		for i := range n {
			k := key{1, fmt.Sprintf("tk_load_%06d", i+1)}
			p := policy.Defaults(13+i%5, locs[i%len(locs)])
			p.Approved, p.Blocked = nil, nil
			shards[i%64][k] = &entry{Policy: p}
		}
		gcLoop(b)
		runtime.KeepAlive(shards)
	})
	b.Run("entries-slice+hash-index", func(b *testing.B) {
		// The same policy.Policy values, in one slice, found through a
		// pointer-free map from the key's hash (the id kept in the entry
		// to confirm a hit): the collector scans one large object instead
		// of 200,000 small ones, and not the map at all.
		type entry struct {
			id     string
			Policy policy.Policy
		}
		index := make(map[uint64]uint32, n)
		entries := make([]entry, 0, n)
		for i := range n {
			p := policy.Defaults(13+i%5, locs[i%len(locs)])
			p.Approved, p.Blocked = nil, nil
			index[uint64(i)*0x9E3779B97F4A7C15] = uint32(len(entries))
			entries = append(entries, entry{id: fmt.Sprintf("tk_load_%06d", i+1), Policy: p})
		}
		gcLoop(b)
		runtime.KeepAlive(index)
		runtime.KeepAlive(entries)
	})
	b.Run("pointer-free", func(b *testing.B) {
		type record struct {
			version              int64
			audience             uint8
			quietOn, exempt      bool
			blockAdult, mediaFO  bool
			quietStart, quietEnd uint16
			zone                 uint16 // index into a small table of *time.Location
			minAgeDays           int32
			contacts             int32 // index into a side table, -1 for none
		}
		index := make(map[uint64]uint32, n) // hash of (client, id) → record; collisions go to a small side map
		records := make([]record, 0, n)
		for i := range n {
			index[uint64(i)*0x9E3779B97F4A7C15] = uint32(len(records))
			records = append(records, record{version: 1, audience: 1, quietOn: true, exempt: true, blockAdult: true,
				quietStart: 1320, quietEnd: 420, zone: uint16(i % len(locs)), contacts: -1})
		}
		gcLoop(b)
		runtime.KeepAlive(index)
		runtime.KeepAlive(records)
	})
}

func gcLoop(b *testing.B) {
	runtime.GC()
	b.ReportAllocs()
	cpu := cpuTime()
	n := 0
	for b.Loop() {
		runtime.GC()
		n++
	}
	reportCPU(b, cpu, n)
}
