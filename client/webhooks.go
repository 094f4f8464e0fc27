package client

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The Standard Webhooks headers.
const (
	headerID        = "webhook-id"
	headerTimestamp = "webhook-timestamp"
	headerSignature = "webhook-signature"
)

// WebhookTolerance is how far a webhook's timestamp may be from the
// receiver's clock, either way, for VerifyWebhook to accept it. Older
// deliveries may be replays; newer ones come from a clock that is off.
const WebhookTolerance = 5 * time.Minute

// MaxWebhookBody is the largest webhook body ParseWebhook reads. Hearth's
// webhooks are a few hundred bytes.
const MaxWebhookBody = 1 << 20

// The types of the webhooks Hearth sends.
const (
	WebhookPolicyUpdated      = "policy.updated"
	WebhookSupervisionStarted = "supervision.started"
	WebhookSupervisionEnded   = "supervision.ended"
)

// Errors of webhook signing and verification. Every error VerifyWebhook and
// ParseWebhook return for a request that is not a genuine, fresh webhook
// from Hearth wraps ErrInvalidWebhook; answer those with a 4xx. A secret that
// is not "whsec_" and the base64 of 24–64 bytes is ErrInvalidSecret instead:
// the receiver's configuration is wrong, not the request.
var (
	ErrInvalidSecret    = errors.New(`webhook secret must be "whsec_" and the standard base64 of 24 to 64 bytes`)
	ErrInvalidWebhook   = errors.New("webhook not verified")
	ErrWebhookTimestamp = errors.New("webhook timestamp missing, malformed or more than 5 minutes from now")
	ErrWebhookSignature = errors.New("no webhook signature matches")
)

// webhookError is a verification failure: always ErrInvalidWebhook, and
// also the more precise reason when there is one.
type webhookError struct {
	reason error
	detail string
}

func (e *webhookError) Error() string { return "hearth: webhook not verified: " + e.detail }

func (e *webhookError) Unwrap() []error {
	if e.reason == nil {
		return []error{ErrInvalidWebhook}
	}
	return []error{ErrInvalidWebhook, e.reason}
}

// parseSecret returns the key inside a "whsec_<base64>" secret. Errors never
// quote the secret.
func parseSecret(s string) ([]byte, error) {
	raw, ok := strings.CutPrefix(s, "whsec_")
	if !ok {
		return nil, fmt.Errorf(`it does not start with "whsec_": %w`, ErrInvalidSecret)
	}
	key, err := base64.StdEncoding.DecodeString(raw)
	if err != nil {
		return nil, fmt.Errorf(`what follows "whsec_" is not standard base64: %w`, ErrInvalidSecret)
	}
	if len(key) < 24 || len(key) > 64 {
		return nil, fmt.Errorf("it decodes to %d bytes: %w", len(key), ErrInvalidSecret)
	}
	return key, nil
}

// mac returns HMAC-SHA256(key, id "." timestamp "." body), the Standard
// Webhooks signed content.
func mac(key []byte, id, timestamp string, body []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte(id))
	h.Write([]byte{'.'})
	h.Write([]byte(timestamp))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}

// signature returns the webhook-signature header value for one key.
func signature(key []byte, id, timestamp string, body []byte) string {
	return "v1," + base64.StdEncoding.EncodeToString(mac(key, id, timestamp, body))
}

// Sign returns the webhook-signature header value for a message with
// webhook-id id, sent at ts (whole Unix seconds), carrying body, signed with
// secret: "v1," and the base64 of HMAC-SHA256 over "id.timestamp.body".
// ReportEvents signs with it; it is exported for tests of webhook
// receivers, which need deliveries that verify. It refuses a malformed
// secret, an empty id and a time before 1970.
func Sign(secret, id string, ts time.Time, body []byte) (string, error) {
	key, err := parseSecret(secret)
	if err != nil {
		return "", fmt.Errorf("hearth: sign: %w", err)
	}
	if id == "" {
		return "", fmt.Errorf("hearth: sign: empty webhook-id: %w", ErrInvalid)
	}
	if ts.Unix() < 0 {
		return "", fmt.Errorf("hearth: sign: timestamp before 1970: %w", ErrInvalid)
	}
	return signature(key, id, strconv.FormatInt(ts.Unix(), 10), body), nil
}

// VerifyWebhook checks that a request with these headers and this body is a
// webhook signed with secret, as the Standard Webhooks specification says:
// webhook-id present, webhook-timestamp a Unix time within WebhookTolerance
// of now (pass time.Now()), and webhook-signature a space-separated list in
// which at least one "v1,<base64>" entry is the HMAC-SHA256 of
// "id.timestamp.body", compared in constant time. Several entries let Hearth
// sign with an old and a new secret while one is being rotated; entries of
// other versions are skipped. It returns nil for a genuine, fresh webhook,
// an error wrapping ErrInvalidWebhook (and ErrWebhookTimestamp or
// ErrWebhookSignature where they apply) for anything else, and one wrapping
// ErrInvalidSecret when secret itself is malformed.
//
// Verify before decoding, over the body exactly as received, and keep the
// webhook-id: retries of one delivery repeat it, so it is the key to skip
// duplicates by.
func VerifyWebhook(secret string, headers http.Header, body []byte, now time.Time) error {
	key, err := parseSecret(secret)
	if err != nil {
		return fmt.Errorf("hearth: webhook secret: %w", err)
	}
	id, err := oneHeader(headers, headerID)
	if err != nil {
		return err
	}
	ts, err := oneHeader(headers, headerTimestamp)
	if err != nil {
		return err
	}
	sent, ok := parseUnix(ts)
	if !ok {
		return &webhookError{ErrWebhookTimestamp, "webhook-timestamp is not a Unix time in seconds"}
	}
	tol := int64(WebhookTolerance / time.Second)
	switch n := now.Unix(); {
	case sent < n-tol:
		return &webhookError{ErrWebhookTimestamp, fmt.Sprintf("webhook-timestamp is %s old, more than %v (a replay, or a delivery retried too late)", time.Duration(n-sent)*time.Second, WebhookTolerance)}
	case sent > n+tol:
		return &webhookError{ErrWebhookTimestamp, fmt.Sprintf("webhook-timestamp is %s in the future, more than %v (check the clocks)", time.Duration(sent-n)*time.Second, WebhookTolerance)}
	}
	sigs := headers.Values(headerSignature)
	if len(sigs) == 0 {
		return &webhookError{nil, "no webhook-signature header"}
	}
	want := mac(key, id, ts, body)
	for _, v := range sigs {
		for _, entry := range strings.Fields(v) {
			version, sig, ok := strings.Cut(entry, ",")
			if !ok || version != "v1" {
				continue
			}
			got, err := base64.StdEncoding.DecodeString(sig)
			if err == nil && hmac.Equal(got, want) {
				return nil
			}
		}
	}
	return &webhookError{ErrWebhookSignature, "no v1 signature in webhook-signature matches this body with this secret"}
}

// oneHeader returns the only value of header name, refusing a missing,
// empty or repeated one: two different IDs or timestamps would leave the
// signed content ambiguous.
func oneHeader(h http.Header, name string) (string, error) {
	vs := h.Values(name)
	switch {
	case len(vs) == 0 || vs[0] == "":
		reason := error(nil)
		if name == headerTimestamp {
			reason = ErrWebhookTimestamp
		}
		return "", &webhookError{reason, "no " + name + " header"}
	case len(vs) > 1:
		return "", &webhookError{nil, name + " header given more than once"}
	}
	return vs[0], nil
}

// parseUnix reads a timestamp of 1 to 19 ASCII digits (no sign, no spaces),
// so that the string signed and the time checked are the same thing.
func parseUnix(s string) (int64, bool) {
	if len(s) == 0 || len(s) > 19 {
		return 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, false
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return n, err == nil
}

// Webhook is one verified webhook from Hearth: what happened (Type, one of
// the Webhook constants), when, and the event's data, left raw for the
// receiver to decode by Type.
type Webhook struct {
	// ID is the webhook-id header: every retry of one delivery carries the
	// same ID, so a receiver that has seen it may answer 2xx and skip it.
	ID        string          `json:"-"`
	Type      string          `json:"type"`
	Timestamp time.Time       `json:"timestamp"`
	Data      json.RawMessage `json:"data"`
}

// ParseWebhook reads r's body (up to MaxWebhookBody), verifies it with
// VerifyWebhook, and decodes the {"type","timestamp","data"} payload.
// Errors wrap ErrInvalidWebhook for a request that is not a genuine, fresh
// webhook (answer 400 or 401), and ErrInvalidSecret for a malformed secret
// (fix the configuration). r.Body is replaced by a fresh reader over the
// same bytes, so the handler can still read it.
func ParseWebhook(secret string, r *http.Request, now time.Time) (Webhook, error) {
	if r.Body == nil {
		return Webhook{}, &webhookError{nil, "no body"}
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, MaxWebhookBody+1))
	r.Body.Close()
	if err != nil {
		return Webhook{}, &webhookError{nil, "reading the body: " + err.Error()}
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	if len(body) > MaxWebhookBody {
		return Webhook{}, &webhookError{nil, fmt.Sprintf("body larger than %d bytes", MaxWebhookBody)}
	}
	if err := VerifyWebhook(secret, r.Header, body, now); err != nil {
		return Webhook{}, err
	}
	var w struct {
		Type      *string         `json:"type"`
		Timestamp *time.Time      `json:"timestamp"`
		Data      json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal(body, &w); err != nil {
		return Webhook{}, fmt.Errorf("hearth: webhook verified but its payload is not JSON: %w", err)
	}
	if w.Type == nil || *w.Type == "" || w.Timestamp == nil || len(w.Data) == 0 || string(w.Data) == "null" {
		return Webhook{}, errors.New(`hearth: webhook verified but its payload lacks "type", "timestamp" or "data"`)
	}
	return Webhook{ID: r.Header.Get(headerID), Type: *w.Type, Timestamp: *w.Timestamp, Data: w.Data}, nil
}
