package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Defaults for the zero values of Config.
const (
	DefaultCheckTimeout = 150 * time.Millisecond
	DefaultTimeout      = 5 * time.Second
	DefaultRetries      = 2
)

// MaxBatch is the most checks one CheckDMBatch call and the most events one
// ReportEvents call may carry, as the hook API allows.
const MaxBatch = 500

const (
	// maxAnswer caps how much of an answer the SDK reads: a full batch of
	// results is about 100 KB, so anything near this is not Hearth.
	maxAnswer = 4 << 20
	// backoffBase and backoffMax bound the wait between retries, before
	// jitter: 100ms, 200ms, 400ms … 2s.
	backoffBase = 100 * time.Millisecond
	backoffMax  = 2 * time.Second
	// maxRetryAfter is the longest Retry-After the SDK waits out; a longer
	// one means Hearth is shedding load for a while, and the caller should
	// hear about it now.
	maxRetryAfter = 10 * time.Second
	// minCheckRetry is the least budget worth a second DM check attempt.
	minCheckRetry = 5 * time.Millisecond
	userAgent     = "hearth-go-client/1"
)

// Config says where Hearth is and how to talk to it. Only BaseURL and APIKey
// are required.
type Config struct {
	// BaseURL is Hearth's address, such as https://hearth.example.com; a path
	// prefix is kept when Hearth sits behind one.
	BaseURL string
	// APIKey is the bearer key printed by `hearth client create`.
	APIKey string
	// WebhookSecret is the client's whsec_ secret from the same command. It
	// signs ReportEvents; empty is allowed when the service never reports
	// events. Verifying Hearth's webhooks takes the secret as an argument.
	WebhookSecret string
	// HTTPClient sends the requests. Nil means a client made for this one:
	// keep-alive connections sized for a DM check on every send, proxies
	// from the environment, and no redirects followed. A client given here
	// is used as it is; its own Timeout, if any, also applies.
	HTTPClient *http.Client
	// CheckTimeout bounds a whole DM check, retry included: past it the
	// check fails closed. Zero means DefaultCheckTimeout (150ms).
	CheckTimeout time.Duration
	// Timeout bounds each attempt of the other calls. Zero means
	// DefaultTimeout (5s). The caller's context bounds the whole call.
	Timeout time.Duration
	// Retries is how many times the other calls are tried again after a
	// connection error, a timeout, a 5xx or a 429. Zero means
	// DefaultRetries (2); a negative value turns retries off.
	Retries int
}

// Client calls Hearth's hook API. Make one with New and share it: it is safe
// for concurrent use, and it reuses connections.
type Client struct {
	base         string // scheme://host[/prefix], no trailing slash
	key          string
	secret       []byte // the decoded webhook secret; nil when not set
	http         *http.Client
	checkTimeout time.Duration
	timeout      time.Duration
	retries      int
	now          func() time.Time
}

// New checks cfg and returns a Client. It refuses a BaseURL that is not an
// absolute http or https URL, an empty APIKey or one that cannot travel in a
// header, a WebhookSecret that is set but not "whsec_" and the base64 of
// 24–64 bytes, and negative timeouts, each with a message naming the field.
// New sends nothing: a Hearth that is down shows up at the first call.
func New(cfg Config) (*Client, error) {
	var errs []error
	bad := func(format string, args ...any) { errs = append(errs, fmt.Errorf("hearth: "+format, args...)) }

	u, err := url.Parse(strings.TrimSpace(cfg.BaseURL))
	switch {
	case cfg.BaseURL == "":
		bad("Config.BaseURL is empty; set it to Hearth's address, such as https://hearth.example.com")
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.User != nil:
		bad("Config.BaseURL %q is not an absolute http:// or https:// URL without credentials", cfg.BaseURL)
	case u.RawQuery != "" || u.Fragment != "":
		bad("Config.BaseURL %q has a query or fragment; give only scheme, host and an optional path prefix", cfg.BaseURL)
	}
	switch {
	case cfg.APIKey == "":
		bad("Config.APIKey is empty; use the key printed by `hearth client create`")
	case strings.ContainsFunc(cfg.APIKey, func(r rune) bool { return r <= ' ' || r == 0x7f || r > '~' }):
		bad("Config.APIKey contains spaces or control characters; paste only the key")
	}
	var secret []byte
	if cfg.WebhookSecret != "" {
		if secret, err = parseSecret(cfg.WebhookSecret); err != nil {
			errs = append(errs, fmt.Errorf("hearth: Config.WebhookSecret: %w", err))
		}
	}
	if cfg.CheckTimeout < 0 {
		bad("Config.CheckTimeout is negative (%v); zero means %v", cfg.CheckTimeout, DefaultCheckTimeout)
	}
	if cfg.Timeout < 0 {
		bad("Config.Timeout is negative (%v); zero means %v", cfg.Timeout, DefaultTimeout)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}

	c := &Client{
		base:         strings.TrimSuffix(u.String(), "/"),
		key:          cfg.APIKey,
		secret:       secret,
		http:         cfg.HTTPClient,
		checkTimeout: cmp(cfg.CheckTimeout, DefaultCheckTimeout),
		timeout:      cmp(cfg.Timeout, DefaultTimeout),
		retries:      cfg.Retries,
		now:          time.Now,
	}
	switch {
	case c.retries == 0:
		c.retries = DefaultRetries
	case c.retries < 0:
		c.retries = 0
	}
	if c.http == nil {
		c.http = defaultHTTPClient()
	}
	return c, nil
}

// cmp returns d, or def when d is zero.
func cmp(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

// defaultHTTPClient keeps enough idle connections for a check on every DM
// (the default of 2 per host would open a new connection for most of them
// under load) and follows no redirects.
func defaultHTTPClient() *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConns = 256
	t.MaxIdleConnsPerHost = 128
	t.IdleConnTimeout = 90 * time.Second
	return &http.Client{
		Transport:     t,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// answer is a response read in full.
type answer struct {
	status int
	header http.Header
	body   []byte
}

// request is one logical call to Hearth, which may take several attempts.
type request struct {
	method, path string
	body         []byte // nil: no body
	// header, when set, adds headers to each attempt (a fresh signature).
	header func(h http.Header)
	// ok lists the statuses that mean success.
	ok []int
	// okOnRetry lists statuses that mean success after an attempt whose
	// outcome is unknown: a DELETE whose answer was lost is 404 the second
	// time.
	okOnRetry []int
}

// send makes one attempt and reads the whole answer, so that the
// connection goes back to the pool and the caller's deadline covers the
// body as well as the headers.
func (c *Client) send(ctx context.Context, r *request) (*answer, error) {
	var body io.Reader
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, c.base+r.path, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Authorization", "Bearer "+c.key)
	req.Header.Set("Accept", "application/json, application/problem+json")
	req.Header.Set("User-Agent", userAgent)
	if r.body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if r.header != nil {
		r.header(req.Header)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		// The *url.Error would repeat the method and URL the caller's
		// message already names.
		var ue *url.Error
		if errors.As(err, &ue) {
			return nil, ue.Err
		}
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswer+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxAnswer {
		return nil, fmt.Errorf("answer is larger than %d bytes", maxAnswer)
	}
	return &answer{status: resp.StatusCode, header: resp.Header, body: b}, nil
}

// do runs r with retries: each attempt bounded by Timeout, a connection
// error, timeout, 429 or 5xx tried again up to Retries times after a
// jittered, growing wait (or Retry-After, when longer), anything else
// returned at once. A status other than r.ok comes back as an *Error, or
// as a malformed answer when it is another 2xx.
func (c *Client) do(ctx context.Context, r *request) (*answer, error) {
	if err := ctx.Err(); err != nil {
		return nil, c.unavailable(r, err)
	}
	var last error
	uncertain := false // an earlier attempt may have done the work
	for attempt := 0; ; attempt++ {
		actx, cancel := context.WithTimeout(ctx, c.timeout)
		a, err := c.send(actx, r)
		timedOut := actx.Err() != nil
		cancel()
		var wait time.Duration
		switch {
		case err != nil && ctx.Err() != nil:
			return nil, c.unavailable(r, ctx.Err())
		case err != nil:
			if timedOut {
				err = fmt.Errorf("no answer within %v", c.timeout)
			}
			last = c.unavailable(r, err)
			uncertain = true
		case slices.Contains(r.ok, a.status), uncertain && slices.Contains(r.okOnRetry, a.status):
			return a, nil
		case a.status >= 200 && a.status < 300:
			return nil, badAnswer(r.method, r.path, fmt.Errorf("status %d, want %v", a.status, r.ok))
		case !retryableStatus(a.status):
			return nil, problemOf(a)
		default:
			last = problemOf(a)
			// A 500, 502 or 504 may come after the work was done; 503 and
			// 429 are refusals.
			uncertain = uncertain || a.status != http.StatusServiceUnavailable && a.status != http.StatusTooManyRequests && a.status != http.StatusRequestTimeout
			ra, ok := retryAfter(a.header, c.now())
			if ok && ra > maxRetryAfter {
				return nil, last
			}
			wait = ra
		}
		if attempt >= c.retries {
			return nil, last
		}
		wait = max(wait, backoff(attempt))
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < wait {
			return nil, last
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, c.unavailable(r, ctx.Err())
		case <-t.C:
		}
	}
}

// unavailable wraps the cause of a failed call with ErrUnavailable, naming
// the call but never its body.
func (c *Client) unavailable(r *request, cause error) error {
	return fmt.Errorf("hearth: %s %s: %w: %w", r.method, r.path, ErrUnavailable, cause)
}

// backoff returns the wait before retry number attempt+1: an exponential
// step from backoffBase up to backoffMax, jittered to between half and all
// of it, so that clients that failed together do not retry together.
func backoff(attempt int) time.Duration {
	d := backoffMax
	if attempt < 8 {
		d = min(backoffBase<<attempt, backoffMax)
	}
	return d/2 + rand.N(d/2+1)
}

// retryAfter reads a Retry-After header in seconds or as an HTTP date.
func retryAfter(h http.Header, now time.Time) (time.Duration, bool) {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if s, err := strconv.ParseInt(v, 10, 64); err == nil && s >= 0 {
		if s > int64(time.Hour/time.Second) {
			return time.Hour, true
		}
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}

// connectionError reports whether err, from one attempt, means the request
// never got an answer for a reason other than time: refused, reset, closed
// before the answer. Such an attempt is worth repeating at once, on a fresh
// connection, when the budget allows.
func connectionError(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
		return false
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return false
	}
	return true
}

// teenPath returns the path of a teen's resource, refusing IDs that Hearth
// would refuse and the two ("." and "..") that a URL path cannot carry as
// they are.
func teenPath(id string, rest string) (string, error) {
	if err := checkID("platform_user_id", id); err != nil {
		return "", err
	}
	return "/api/v1/teens/" + id + rest, nil
}

// checkID returns why id is not a platform user ID of the hook API (1–64
// characters of A–Z a–z 0–9 _ . : -), or nil. Only IDs that go into a URL
// path are checked here; IDs in bodies are Hearth's to judge.
func checkID(field, id string) error {
	switch {
	case id == "":
		return fmt.Errorf("hearth: %s is empty: %w", field, ErrInvalid)
	case len(id) > 64:
		return fmt.Errorf("hearth: %s is longer than 64 characters: %w", field, ErrInvalid)
	case id == "." || id == "..":
		return fmt.Errorf("hearth: %s %q cannot be used in a URL: %w", field, id, ErrInvalid)
	}
	for _, r := range id {
		if !('a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9' || r == '_' || r == '.' || r == ':' || r == '-') {
			// The ID itself stays out of the message: what fails here may be
			// anything, even text that was never meant to be an ID.
			return fmt.Errorf("hearth: %s may hold only letters, digits, _ . : and -: %w", field, ErrInvalid)
		}
	}
	return nil
}
