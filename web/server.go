// Package web assembles Hearth's HTTP server: configuration, the echo
// instance with its middleware, the one route table, and the process
// lifecycle (start, migrate, serve, drain, stop).
package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/time/rate"

	"github.com/hearth-safety/hearth/handlers"
	"github.com/hearth-safety/hearth/models/store"
	"github.com/hearth-safety/hearth/web/jobs"
	"github.com/hearth-safety/hearth/web/mail"
	"github.com/hearth-safety/hearth/web/policycache"
	"github.com/hearth-safety/hearth/web/rulecounts"
	"github.com/hearth-safety/hearth/web/session"
)

// Server is one Hearth web process.
type Server struct {
	Echo     *echo.Echo
	Config   Config
	Store    *store.Store
	Logger   *slog.Logger
	Health   *handlers.Health
	Registry *prometheus.Registry
	Mailbox  *mail.DevMailbox
	// RouteGuards maps "METHOD /path" to its guard for every route, for
	// the test that fails on a route without one.
	RouteGuards map[string]Guard
}

// Deps are the parts New needs from outside: the store, where mail goes,
// the in-memory rules, and the logger.
type Deps struct {
	Store    *store.Store
	Policies *policycache.Cache
	// RuleCounts counts DM decisions per teen and reason (nil: none).
	RuleCounts *rulecounts.Counter
	Mail       handlers.Mailer
	Mailbox    *mail.DevMailbox
	Logger     *slog.Logger
}

// New builds the echo instance with every middleware and route.
func New(cfg Config, d Deps) (*Server, error) {
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.Logger.SetOutput(io.Discard)
	e.IPExtractor = ipExtractor(cfg)

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	cookieName, flashName := "hearth_session", "hearth_flash"
	csrfName := "hearth_csrf"
	if cfg.TLS() {
		// __Host- cookies are Secure, host-only and path /, so a sibling
		// subdomain cannot plant or read them.
		cookieName, flashName, csrfName = "__Host-hearth_session", "__Host-hearth_flash", "__Host-hearth_csrf"
	}
	var pairs [][]byte
	for _, k := range cfg.SessionKeys {
		pairs = append(pairs, k, nil) // sign only: the cookie holds an opaque ID
	}
	sessions := session.New(d.Store, cookieName, cfg.TLS(), pairs...)
	h := handlers.New(handlers.Deps{
		Store:          d.Store,
		Sessions:       sessions,
		Flashes:        handlers.NewFlashStore(flashName, cfg.TLS(), pairs...),
		Mail:           d.Mail,
		Mailbox:        d.Mailbox,
		Policies:       d.Policies,
		RuleCounts:     d.RuleCounts,
		BaseURL:        cfg.BaseURL,
		Dev:            cfg.Dev(),
		Logger:         d.Logger,
		AlertRetention: cfg.AlertRetention,
		Throttle: middleware.NewRateLimiterMemoryStoreWithConfig(middleware.RateLimiterMemoryStoreConfig{
			Rate: rate.Every(12 * time.Second), Burst: 10, ExpiresIn: 10 * time.Minute,
		}),
	})
	e.HTTPErrorHandler = h.ErrorHandler
	s := &Server{Echo: e, Config: cfg, Store: d.Store, Logger: d.Logger, Health: handlers.NewHealth(h), Registry: reg, Mailbox: d.Mailbox, RouteGuards: map[string]Guard{}}

	m := newMetrics(reg)
	e.Use(
		middleware.RequestIDWithConfig(middleware.RequestIDConfig{Generator: requestIDs()}),
		securityHeaders(cfg.TLS()),
		requestLogger(d.Logger),
		m.middleware,
		middleware.RecoverWithConfig(middleware.RecoverConfig{
			LogErrorFunc: func(c echo.Context, err error, stack []byte) error {
				d.Logger.Error("panic", "err", err, "route", c.Path(), "request_id", c.Response().Header().Get(echo.HeaderXRequestID), "stack", string(stack))
				return err
			},
		}),
	)
	routes(e, s, h, cfg, csrfName)
	return s, nil
}

// ipExtractor decides where the client IP comes from. Echo's default
// believes X-Forwarded-For from anyone, which would let a client pick its
// own rate-limit bucket; Hearth believes it only from configured proxies.
func ipExtractor(cfg Config) echo.IPExtractor {
	if len(cfg.TrustedProxies) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, p := range cfg.TrustedProxies {
		_, ipnet, err := net.ParseCIDR(p.String())
		if err == nil {
			opts = append(opts, echo.TrustIPRange(ipnet))
		}
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

// NewLogger builds the process logger: text for people in development,
// JSON for machines in production.
func NewLogger(cfg Config, w io.Writer) *slog.Logger {
	var level slog.Level
	level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// OpenStore opens the configured database and brings its schema (Hearth's
// tables and the job queue's) up to date, saying what it does.
func OpenStore(ctx context.Context, cfg Config, logger *slog.Logger) (*store.Store, error) {
	st, err := store.Open(ctx, cfg.DatabaseURL, store.Options{})
	if err != nil {
		return nil, err
	}
	n, err := st.Migrate(ctx, nil)
	if err != nil {
		st.Close()
		return nil, err
	}
	if err := jobs.Migrate(ctx, jobConfig(st, logger, nil)); err != nil {
		st.Close()
		return nil, fmt.Errorf("migrate job queue: %w", err)
	}
	cur, _, _ := st.MigrationVersions(ctx)
	logger.Info("database ready", "dialect", st.Dialect(), "migrations_applied", n, "schema_version", cur)
	return st, nil
}

func jobConfig(st *store.Store, logger *slog.Logger, sender mail.Sender) jobs.Config {
	cfg := jobs.Config{Dialect: jobs.SQLite, SQLDB: st.SQLDB(), Mail: sender, Logger: logger}
	if st.Dialect() == store.Postgres {
		cfg.Dialect = jobs.Postgres
		cfg.PGURL = st.DSN()
	}
	return cfg
}

// Serve runs Hearth until ctx ends (SIGTERM or SIGINT), then drains:
// readiness fails first, in-flight requests finish, jobs stop, the database
// closes. It prints where it listens to stdout.
func Serve(ctx context.Context, cfg Config, logger *slog.Logger, stdout io.Writer) (err error) {
	// Listen first: a busy port should fail before anything else starts,
	// and everything started below is undone on every way out.
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		return fmt.Errorf("HEARTH_ADDR: cannot listen on %s: %w", cfg.Addr, err)
	}
	defer ln.Close()
	var mln net.Listener
	if cfg.MetricsAddr != "" {
		if mln, err = net.Listen("tcp", cfg.MetricsAddr); err != nil {
			return fmt.Errorf("HEARTH_METRICS_ADDR: cannot listen on %s: %w", cfg.MetricsAddr, err)
		}
		defer mln.Close()
	}

	st, err := OpenStore(ctx, cfg, logger)
	if err != nil {
		return err
	}
	defer st.Close()

	var sender mail.Sender
	var mailbox *mail.DevMailbox
	if cfg.SMTPURL != "" {
		smtp, err := mail.NewSMTP(cfg.SMTPURL, cfg.MailFrom)
		if err != nil {
			return fmt.Errorf("HEARTH_SMTP_URL: %w", err)
		}
		sender = smtp
	} else {
		mailbox = mail.NewDevMailbox(logger)
		sender = mailbox
		if !cfg.Dev() {
			logger.Warn("HEARTH_SMTP_URL is not set: emails are only written to the log")
		}
	}
	// The store queues jobs from the first moment anything can change,
	// including the jobs the runner works at start: give it an inserter
	// before the runner starts, never a runner that is not there yet.
	jobCfg := alertEmailJobs(maintenance(jobConfig(st, logger, sender), st, logger, cfg.AlertRetention), st, logger)
	inserter, err := jobs.NewInserter(jobCfg)
	if err != nil {
		return fmt.Errorf("job queue: %w", err)
	}
	st.SetOutbox(Outbox{inserter}, cfg.BaseURL.String())
	st.SetWebhookOutbox(WebhookOutbox{inserter})
	st.SetAlertNotifier(AlertEmails{inserter})
	runner, err := jobs.Start(ctx, jobCfg)
	if err != nil {
		return fmt.Errorf("start job queue: %w", err)
	}
	// Jobs stop before the database closes (defers run last-in first-out).
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if serr := runner.Stop(sctx); serr != nil {
			logger.Error("job queue shutdown", "err", serr)
		}
	}()
	policies, err := StartPolicies(ctx, st, 0, logger)
	if err != nil {
		return fmt.Errorf("load policies: %w", err)
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		policies.Stop(sctx)
	}()
	// Rule counts are flushed every 10 s and once more when Serve returns:
	// this defer runs after the HTTP server has drained (so the last checks
	// are counted) and before the database closes. Counts since the last
	// flush are lost only if the process dies without shutting down.
	counts := rulecounts.New(st, rulecounts.Config{Logger: logger})
	counts.Start()
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		counts.Stop(sctx)
	}()
	if !cfg.Dev() {
		mailbox = nil // the dev mailbox page exists only in development
	}
	srv, err := New(cfg, Deps{Store: st, Policies: policies, RuleCounts: counts, Mail: EmailQueue{runner}, Mailbox: mailbox, Logger: logger})
	if err != nil {
		return err
	}
	if cfg.SessionKeysGenerated {
		logger.Warn("HEARTH_SESSION_KEYS is not set: using random keys, so restarting signs everyone out")
	}

	httpSrv := &http.Server{
		Handler:           srv.Echo,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 2)
	go func() { errc <- httpSrv.Serve(ln) }()
	var metricsSrv *http.Server
	if mln != nil {
		mux := http.NewServeMux()
		mux.Handle("/metrics", promhttp.HandlerFor(srv.Registry, promhttp.HandlerOpts{Registry: srv.Registry}))
		metricsSrv = &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: 10 * time.Second, IdleTimeout: 60 * time.Second}
		go func() { errc <- metricsSrv.Serve(mln) }()
		fmt.Fprintf(stdout, "Metrics at http://%s/metrics\n", mln.Addr())
	}
	fmt.Fprintf(stdout, "Hearth is listening on http://%s (%s, %s database)\n", ln.Addr(), cfg.Env, st.Dialect())
	if cfg.BaseURL.Host != ln.Addr().String() {
		fmt.Fprintf(stdout, "Public URL: %s\n", cfg.BaseURL)
	}

	select {
	case err = <-errc:
		logger.Error("server stopped unexpectedly", "err", err)
	case <-ctx.Done():
	}
	logger.Info("shutting down: readiness now fails, then in-flight requests finish", "drain_delay", cfg.DrainDelay, "timeout", cfg.ShutdownTimeout)
	srv.Health.Drain()
	if cfg.DrainDelay > 0 && err == nil {
		time.Sleep(cfg.DrainDelay)
	}
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	if serr := httpSrv.Shutdown(sctx); serr != nil {
		logger.Error("http shutdown", "err", serr)
	}
	if metricsSrv != nil {
		metricsSrv.Shutdown(sctx)
	}
	if err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	logger.Info("stopped")
	return nil
}

// EmailQueue sends handlers' emails through the durable job queue.
type EmailQueue struct{ Runner *jobs.Runner }

// Enqueue queues m outside any transaction.
func (q EmailQueue) Enqueue(ctx context.Context, m mail.Message) error {
	return q.Runner.EnqueueEmail(ctx, nil, m)
}
