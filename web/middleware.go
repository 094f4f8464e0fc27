package web

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"
)

// securityHeaders sets the browser protections on every response, errors
// included: a CSP with a fresh nonce per request (templ puts it on the
// script tags it renders), no framing, no sniffing, a strict referrer
// policy, and HSTS over TLS.
func securityHeaders(tls bool) echo.MiddlewareFunc {
	// Header values shared by every response. net/http only reads them, so
	// one slice each serves all requests without an allocation apiece (the
	// DM check runs thousands of times a second).
	var (
		nosniff  = []string{"nosniff"}
		referrer = []string{"same-origin"}
		hsts     = []string{"max-age=63072000; includeSubDomains"}
		apiCSP   = []string{"default-src 'none'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"}
		noStore  = []string{"no-store"}
	)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			h := c.Response().Header()
			h["X-Content-Type-Options"] = nosniff
			h["Referrer-Policy"] = referrer
			if tls {
				h["Strict-Transport-Security"] = hsts
			}
			if strings.HasPrefix(c.Request().URL.Path, "/api/") {
				// JSON for machines: nothing to run, so a fixed policy and
				// no per-request nonce on the hot path.
				h["Content-Security-Policy"] = apiCSP
				h["Cache-Control"] = noStore
				return next(c)
			}
			b := make([]byte, 16)
			rand.Read(b)
			nonce := base64.StdEncoding.EncodeToString(b)
			h.Set("Content-Security-Policy", "default-src 'self'; script-src 'nonce-"+nonce+"' 'strict-dynamic'; style-src 'self'; img-src 'self' data:; "+
				"connect-src 'self'; form-action 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'")
			h.Set("X-Frame-Options", "DENY")
			h.Set("Cross-Origin-Opener-Policy", "same-origin")
			h.Set("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
			req := c.Request()
			c.SetRequest(req.WithContext(templ.WithNonce(req.Context(), nonce)))
			return next(c)
		}
	}
}

// requestLogger logs one line per request: the route pattern (never the raw
// path, which can hold single-use tokens), status, time and request ID. No
// bodies, query strings, cookies or keys are logged.
func requestLogger(logger *slog.Logger) echo.MiddlewareFunc {
	return middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		LogStatus: true, LogLatency: true, LogMethod: true, LogRoutePath: true, LogRequestID: true, LogRemoteIP: true, LogError: true,
		HandleError: true,
		Skipper: func(c echo.Context) bool {
			// DM checks arrive thousands a second: the metrics count them,
			// and the error handler logs any that fail on our side.
			p := c.Path()
			return p == "/healthz" || p == "/readyz" || p == "/static/*" || strings.HasPrefix(p, "/api/v1/dm/check")
		},
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			level := slog.LevelInfo
			if v.Status >= 500 {
				level = slog.LevelError
			}
			logger.LogAttrs(c.Request().Context(), level, "request",
				slog.String("method", v.Method), slog.String("route", v.RoutePath), slog.Int("status", v.Status),
				slog.Duration("latency", v.Latency), slog.String("request_id", v.RequestID), slog.String("ip", v.RemoteIP))
			return nil
		},
	})
}

// metrics counts requests and their latency by route pattern.
type metrics struct {
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "hearth_http_requests_total", Help: "HTTP requests by method, route pattern and status.",
		}, []string{"method", "route", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "hearth_http_request_duration_seconds", Help: "HTTP request latency by method and route pattern.",
			Buckets: []float64{.0002, .0005, .001, .002, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"method", "route"}),
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

// requestIDs makes request IDs: a random per-process prefix and a counter.
// They only need to be unique, to find a request in the logs, not secret;
// echo's default draws 32 random characters for every request.
func requestIDs() func() string {
	b := make([]byte, 6)
	rand.Read(b)
	prefix := hex.EncodeToString(b) + "-"
	var n atomic.Uint64
	return func() string {
		return prefix + strconv.FormatUint(n.Add(1), 36)
	}
}
