package handlers

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// Moderation events arrive signed as Standard Webhooks
// (https://www.standardwebhooks.com): the headers below, and
// "v1,<base64 HMAC-SHA256 of id.timestamp.body>" under the client's whsec_
// secret. The bearer key says which client sends; the signature proves the
// body is the one it sent, recently.
const (
	headerWebhookID        = "webhook-id"
	headerWebhookTimestamp = "webhook-timestamp"
	headerWebhookSignature = "webhook-signature"
)

// SignatureTolerance is how far webhook-timestamp may be from Hearth's
// clock, either way. Older requests may be replays; newer ones come from a
// clock that is off.
const SignatureTolerance = 5 * time.Minute

// maxWebhookIDLen bounds webhook-id: generous for any ID scheme, small
// enough that a header cannot make Hearth hash megabytes.
const maxWebhookIDLen = 256

// SignatureError is a request whose signature does not verify. It answers
// 401 with its own problem type, and says what is wrong without repeating
// the secret, the signatures or the body.
type SignatureError struct {
	Detail string
}

func (e *SignatureError) Error() string { return "signature not verified: " + e.Detail }

// VerifySignature checks that a request with these headers and body was
// signed, as a Standard Webhook, with one of secrets (each "whsec_" and
// base64; malformed ones are skipped) within SignatureTolerance of now.
// webhook-signature may hold several space-separated entries (and be
// repeated); entries of versions other than v1 are skipped; one matching
// entry suffices. Every comparison is in constant time (hmac.Equal). It
// returns nil, or a *SignatureError naming the first thing wrong. It reads
// nothing but the headers and the raw body: call it before decoding.
func VerifySignature(secrets []string, h http.Header, body []byte, now time.Time) error {
	id, err := singleHeader(h, headerWebhookID)
	if err != nil {
		return err
	}
	if len(id) > maxWebhookIDLen {
		return &SignatureError{fmt.Sprintf("%s is longer than %d characters", headerWebhookID, maxWebhookIDLen)}
	}
	ts, err := singleHeader(h, headerWebhookTimestamp)
	if err != nil {
		return err
	}
	sent, ok := unixSeconds(ts)
	if !ok {
		return &SignatureError{headerWebhookTimestamp + " must be the Unix time in whole seconds (digits only)"}
	}
	tol := int64(SignatureTolerance / time.Second)
	switch n := now.Unix(); {
	case sent < n-tol:
		return &SignatureError{fmt.Sprintf("%s is %v old, more than the %v allowed: sign each attempt with the time it is sent (an old request may be a replay)",
			headerWebhookTimestamp, time.Duration(n-sent)*time.Second, SignatureTolerance)}
	case sent > n+tol:
		return &SignatureError{fmt.Sprintf("%s is %v in the future, more than the %v allowed: check the sender's clock",
			headerWebhookTimestamp, time.Duration(sent-n)*time.Second, SignatureTolerance)}
	}
	values := h.Values(headerWebhookSignature)
	if len(values) == 0 {
		return &SignatureError{"the " + headerWebhookSignature + ` header is missing: send "v1," and the base64 HMAC-SHA256 of "webhook-id.webhook-timestamp.body" under the client's webhook secret`}
	}
	macs := make([][]byte, 0, len(secrets))
	for _, s := range secrets {
		raw, ok := strings.CutPrefix(s, "whsec_")
		if !ok {
			continue
		}
		key, err := base64.StdEncoding.DecodeString(raw)
		if err != nil || len(key) == 0 {
			continue
		}
		m := hmac.New(sha256.New, key)
		m.Write([]byte(id))
		m.Write([]byte{'.'})
		m.Write([]byte(ts))
		m.Write([]byte{'.'})
		m.Write(body)
		macs = append(macs, m.Sum(nil))
	}
	var buf [48]byte // room for any base64 that could decode to 32 bytes
	v1 := 0
	for _, v := range values {
		for _, entry := range strings.Fields(v) {
			version, sig, ok := strings.Cut(entry, ",")
			if !ok || version != "v1" {
				continue
			}
			v1++
			// A signature of any other length cannot match; decoding it
			// into a fixed buffer keeps a huge header from allocating.
			if base64.StdEncoding.DecodedLen(len(sig)) > len(buf) {
				continue
			}
			n, err := base64.StdEncoding.Decode(buf[:], []byte(sig))
			if err != nil || n != sha256.Size {
				continue
			}
			for _, want := range macs {
				if hmac.Equal(buf[:n], want) {
					return nil
				}
			}
		}
	}
	if v1 == 0 {
		return &SignatureError{headerWebhookSignature + ` has no "v1,<base64>" entry`}
	}
	return &SignatureError{"no signature in " + headerWebhookSignature + " matches this body under the client's webhook secret (HMAC-SHA256 of webhook-id, \".\", webhook-timestamp, \".\" and the body exactly as sent)"}
}

// singleHeader returns the one value of header name: a missing, empty or
// repeated one is refused, since two IDs or times would leave what was
// signed ambiguous.
func singleHeader(h http.Header, name string) (string, error) {
	vs := h.Values(name)
	switch {
	case len(vs) == 0 || vs[0] == "":
		return "", &SignatureError{"the " + name + " header is missing: sign moderation events as Standard Webhooks (webhook-id, webhook-timestamp, webhook-signature)"}
	case len(vs) > 1:
		return "", &SignatureError{"the " + name + " header is given more than once"}
	}
	return vs[0], nil
}

// unixSeconds reads 1 to 19 ASCII digits, so the text signed and the time
// checked are the same thing (no sign, spaces or fractions).
func unixSeconds(s string) (int64, bool) {
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
