package web

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	netmail "net/mail"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/hearth-safety/hearth/models/store"
	"github.com/hearth-safety/hearth/web/mail"
)

// Config is Hearth's configuration, read from HEARTH_* environment variables.
// Every setting has a safe default for running on a laptop; Load checks each
// one and says exactly what is wrong.
type Config struct {
	Env         string // development | production
	Addr        string
	BaseURL     *url.URL
	DatabaseURL string
	SessionKeys [][]byte
	// SessionKeysGenerated is true when no keys were configured and random
	// ones were made for this process (development only).
	SessionKeysGenerated bool
	SMTPURL              string
	MailFrom             string
	MetricsAddr          string
	TrustedProxies       []netip.Prefix
	LogFormat            string // text | json
	LogLevel             string
	APIRate              float64 // requests per second per client IP on /api/v1
	ShutdownTimeout      time.Duration
	// DrainDelay is how long readiness fails before the server stops
	// taking requests, so load balancers notice first.
	DrainDelay time.Duration
	// AlertRetention is how long a moderation alert is kept after its
	// latest event; the hourly clean-up deletes older ones.
	AlertRetention time.Duration
}

// Dev reports whether Hearth runs in development mode, which shows the dev
// mailbox and logs outgoing mail.
func (c Config) Dev() bool { return c.Env == "development" }

// TLS reports whether browsers reach Hearth over HTTPS, which turns on
// Secure and __Host- cookies and HSTS.
func (c Config) TLS() bool { return c.BaseURL.Scheme == "https" }

// Setting documents one environment variable, for the README and `hearth help`.
type Setting struct {
	Name, Default, Meaning string
}

// Settings lists every variable Load reads.
var Settings = []Setting{
	{"HEARTH_ENV", "development", "development or production. Production requires HEARTH_SESSION_KEYS, logs JSON and hides the dev mailbox."},
	{"HEARTH_ADDR", "127.0.0.1:8080", "Address the web server listens on."},
	{"HEARTH_BASE_URL", "http://<HEARTH_ADDR>", "Public URL of Hearth, used in emails and sign-in links. https:// turns on secure cookies and HSTS."},
	{"HEARTH_DATABASE_URL", "./hearth.db", "A SQLite file path, or postgres://user@host:5432/db for PostgreSQL."},
	{"HEARTH_SESSION_KEYS", "random per process (development)", "Comma-separated keys, each 32 or more bytes as hex or base64, that sign session cookies; the first signs, the rest still verify (for rotation)."},
	{"HEARTH_SMTP_URL", "(none: mail goes to the log and the dev mailbox)", "smtp://user:pass@host:587 (STARTTLS), smtps://host:465, or smtp://host:25?tls=none for a local relay."},
	{"HEARTH_MAIL_FROM", "Hearth <no-reply@localhost>", "Sender address of Hearth's emails."},
	{"HEARTH_METRICS_ADDR", "(off)", "Address of a separate listener serving Prometheus metrics at /metrics, e.g. 127.0.0.1:9464."},
	{"HEARTH_TRUSTED_PROXIES", "(none)", "Comma-separated CIDRs of reverse proxies whose X-Forwarded-For is believed. Without it the client IP is the TCP peer."},
	{"HEARTH_LOG_FORMAT", "text (development), json (production)", "Log format: text or json."},
	{"HEARTH_LOG_LEVEL", "info", "debug, info, warn or error."},
	{"HEARTH_API_RATE", "20000", "Requests per second allowed per client IP on /api/v1 (bursts of twice that)."},
	{"HEARTH_SHUTDOWN_TIMEOUT", "15s", "How long SIGTERM waits for in-flight requests to finish (1s–15s); jobs get 5s more."},
	{"HEARTH_DRAIN_DELAY", "0s", "After SIGTERM, how long /readyz fails before the server stops accepting requests, so a load balancer stops sending traffic first (0s–3s)."},
	{"HEARTH_ALERT_RETENTION", "90d", "How long moderation alerts are kept after their latest event, in days (\"90d\") or as a Go duration (\"2160h\"); 1 day to 3 years. The \"Your data\" page shows it."},
}

// Load reads the configuration through getenv and validates it, reporting
// every problem at once.
func Load(getenv func(string) string) (Config, error) {
	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", name, fmt.Sprintf(format, args...)))
	}
	get := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}
	c := Config{
		Env:         get("HEARTH_ENV", "development"),
		Addr:        get("HEARTH_ADDR", "127.0.0.1:8080"),
		DatabaseURL: get("HEARTH_DATABASE_URL", "./hearth.db"),
		SMTPURL:     get("HEARTH_SMTP_URL", ""),
		MailFrom:    get("HEARTH_MAIL_FROM", "Hearth <no-reply@localhost>"),
		MetricsAddr: get("HEARTH_METRICS_ADDR", ""),
		LogLevel:    get("HEARTH_LOG_LEVEL", "info"),
	}
	if c.Env != "development" && c.Env != "production" {
		bad("HEARTH_ENV", "is %q; use development or production", c.Env)
	}
	if _, _, err := net.SplitHostPort(c.Addr); err != nil {
		bad("HEARTH_ADDR", "is %q; use host:port such as 127.0.0.1:8080", c.Addr)
	}
	if c.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			bad("HEARTH_METRICS_ADDR", "is %q; use host:port such as 127.0.0.1:9464", c.MetricsAddr)
		}
	}
	base := get("HEARTH_BASE_URL", "")
	if base == "" {
		// Links in emails must open: ":8080" or "0.0.0.0:8080" listen on
		// every interface, but only "localhost" is somewhere to go.
		host, port, _ := net.SplitHostPort(c.Addr)
		if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
			host = "localhost"
		}
		base = "http://" + net.JoinHostPort(host, port)
	}
	if u, err := url.Parse(base); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
		bad("HEARTH_BASE_URL", "is %q; use the public origin such as https://hearth.example.com", base)
	} else {
		u.Path = ""
		c.BaseURL = u
	}
	c.LogFormat = get("HEARTH_LOG_FORMAT", map[bool]string{true: "text", false: "json"}[c.Env == "development"])
	if c.LogFormat != "text" && c.LogFormat != "json" {
		bad("HEARTH_LOG_FORMAT", "is %q; use text or json", c.LogFormat)
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad("HEARTH_LOG_LEVEL", "is %q; use debug, info, warn or error", c.LogLevel)
	}
	if keys := get("HEARTH_SESSION_KEYS", ""); keys != "" {
		for i, k := range strings.Split(keys, ",") {
			b, err := decodeKey(strings.TrimSpace(k))
			if err != nil {
				bad("HEARTH_SESSION_KEYS", "key %d: %v", i+1, err)
				continue
			}
			c.SessionKeys = append(c.SessionKeys, b)
		}
	} else if c.Env == "production" {
		bad("HEARTH_SESSION_KEYS", "is required in production (for example the output of `openssl rand -hex 32`)")
	} else {
		k := make([]byte, 32)
		rand.Read(k)
		c.SessionKeys, c.SessionKeysGenerated = [][]byte{k}, true
	}
	for _, p := range strings.Split(get("HEARTH_TRUSTED_PROXIES", ""), ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		pfx, err := netip.ParsePrefix(p)
		if err != nil {
			if a, aerr := netip.ParseAddr(p); aerr == nil {
				pfx = netip.PrefixFrom(a, a.BitLen())
			} else {
				bad("HEARTH_TRUSTED_PROXIES", "%q is not a CIDR such as 10.0.0.0/8", p)
				continue
			}
		}
		c.TrustedProxies = append(c.TrustedProxies, pfx)
	}
	rate, err := strconv.ParseFloat(get("HEARTH_API_RATE", "20000"), 64)
	if err != nil || !(rate > 0) || rate > 1e7 {
		bad("HEARTH_API_RATE", "must be a number of requests per second between 1 and 10000000")
	}
	c.APIRate = rate
	c.ShutdownTimeout, err = time.ParseDuration(get("HEARTH_SHUTDOWN_TIMEOUT", "15s"))
	if err != nil || c.ShutdownTimeout < time.Second || c.ShutdownTimeout > 15*time.Second {
		bad("HEARTH_SHUTDOWN_TIMEOUT", "must be a duration between 1s and 15s, such as 15s (with the drain delay and 5s for jobs, shutdown stays under 25s)")
	}
	c.DrainDelay, err = time.ParseDuration(get("HEARTH_DRAIN_DELAY", "0s"))
	if err != nil || c.DrainDelay < 0 || c.DrainDelay > 3*time.Second {
		bad("HEARTH_DRAIN_DELAY", "must be a duration between 0s and 3s, such as 2s")
	}
	if c.AlertRetention, err = ParseRetention(get("HEARTH_ALERT_RETENTION", "90d")); err != nil {
		bad("HEARTH_ALERT_RETENTION", "%v", err)
	}
	if c.SMTPURL != "" {
		if _, err := mail.NewSMTP(c.SMTPURL, c.MailFrom); err != nil {
			bad("HEARTH_SMTP_URL", "%v", err)
		}
	}
	if a, err := netmail.ParseAddress(c.MailFrom); err != nil || !strings.Contains(a.Address, "@") {
		bad("HEARTH_MAIL_FROM", "is %q; use an address such as Hearth <no-reply@example.com>", c.MailFrom)
	}
	if _, _, err := store.ParseURL(c.DatabaseURL); err != nil {
		bad("HEARTH_DATABASE_URL", "%v", err)
	}
	return c, errors.Join(errs...)
}

// Bounds of HEARTH_ALERT_RETENTION: at least a day, so the guardians'
// inbox is never emptied before they could read it; at most 3 years, beyond
// which alerts stop being useful and start being a risk.
const (
	MinAlertRetention = 24 * time.Hour
	MaxAlertRetention = 3 * 365 * 24 * time.Hour
)

// ParseRetention reads a retention period: whole days such as "90d", or a
// Go duration such as "2160h", between MinAlertRetention and
// MaxAlertRetention.
func ParseRetention(v string) (time.Duration, error) {
	const want = "use whole days such as 90d, or a duration such as 2160h, between 1d and 1095d (3 years)"
	var d time.Duration
	if days, ok := strings.CutSuffix(v, "d"); ok {
		n, err := strconv.Atoi(days)
		if err != nil || n < 0 || n > 100000 {
			return 0, fmt.Errorf("is %q; %s", v, want)
		}
		d = time.Duration(n) * 24 * time.Hour
	} else {
		var err error
		if d, err = time.ParseDuration(v); err != nil {
			return 0, fmt.Errorf("is %q; %s", v, want)
		}
	}
	if d < MinAlertRetention || d > MaxAlertRetention {
		return 0, fmt.Errorf("is %q, which is out of range; %s", v, want)
	}
	return d, nil
}

func decodeKey(k string) ([]byte, error) {
	if b, err := hex.DecodeString(k); err == nil {
		if len(b) < 32 {
			return nil, fmt.Errorf("is %d bytes; use at least 32", len(b))
		}
		return b, nil
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(k); err == nil {
			if len(b) < 32 {
				return nil, fmt.Errorf("is %d bytes; use at least 32", len(b))
			}
			return b, nil
		}
	}
	return nil, errors.New("is neither hex nor base64")
}
