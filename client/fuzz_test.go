package client_test

import (
	"bytes"
	"encoding/base64"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hearth-safety/hearth/client"
)

// FuzzVerifyWebhook feeds VerifyWebhook arbitrary secrets, headers, bodies
// and clocks. Whatever comes in, it must not panic, and:
//
//   - what it accepts, it accepts again (no hidden state), and it accepts
//     only because one v1 entry is exactly the HMAC Sign computes for that
//     secret, id, timestamp and body;
//   - what it accepts stops verifying when one byte is added to the body;
//   - whatever Sign produces for a valid secret verifies at its own time.
//
// The seed corpus is in testdata/fuzz/FuzzVerifyWebhook and runs with every
// `go test`; skew moves the clock away from the timestamp of the test
// vector, in seconds.
func FuzzVerifyWebhook(f *testing.F) {
	f.Add(vectorSecret, vectorID, strconv.Itoa(vectorTimestamp), vectorSignature, []byte(vectorBody), int64(0))
	f.Fuzz(func(t *testing.T, secret, id, ts, sig string, body []byte, skew int64) {
		now := vectorTime.Add(time.Duration(skew%1_000_000) * time.Second)
		h := http.Header{}
		h["Webhook-Id"] = []string{id}
		h["Webhook-Timestamp"] = []string{ts}
		h["Webhook-Signature"] = []string{sig}

		err := client.VerifyWebhook(secret, h, body, now)
		if err == nil {
			if err := client.VerifyWebhook(secret, h, body, now); err != nil {
				t.Fatalf("verified once, then refused: %v", err)
			}
			assertSignedBy(t, secret, id, ts, sig, body)
			tampered := append(bytes.Clone(body), 'x')
			if err := client.VerifyWebhook(secret, h, tampered, now); !errors.Is(err, client.ErrWebhookSignature) {
				t.Fatalf("a tampered body gave %v, want ErrWebhookSignature", err)
			}
		} else if !errors.Is(err, client.ErrInvalidWebhook) && !errors.Is(err, client.ErrInvalidSecret) {
			t.Fatalf("error %v is neither ErrInvalidWebhook nor ErrInvalidSecret", err)
		}

		// Round trip at the fuzzed clock, when the clock is after 1970.
		if now.Unix() < 0 {
			return
		}
		own, err := client.Sign(secret, id, now, body)
		if err != nil {
			return // a malformed secret or an empty id
		}
		h["Webhook-Timestamp"] = []string{strconv.FormatInt(now.Unix(), 10)}
		h["Webhook-Signature"] = []string{own}
		if err := client.VerifyWebhook(secret, h, body, now); err != nil {
			t.Fatalf("Sign's own signature %q for id %q refused: %v", own, id, err)
		}
	})
}

// assertSignedBy fails unless one v1 entry of sig decodes to the HMAC of
// id.ts.body under secret, computed independently of VerifyWebhook. A
// timestamp with leading zeros is signed as written, so Sign (which writes
// it without them) can only be compared when the two spellings agree.
func assertSignedBy(t *testing.T, secret, id, ts, sig string, body []byte) {
	t.Helper()
	n, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		t.Fatalf("verified with timestamp %q, which is not a number", ts)
	}
	if strconv.FormatInt(n, 10) != ts {
		return
	}
	want, err := client.Sign(secret, id, time.Unix(n, 0), body)
	if err != nil {
		t.Fatalf("verified with a secret or id Sign refuses: %v", err)
	}
	wantMAC, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(want, "v1,"))
	for _, entry := range strings.Fields(sig) {
		if v, s, ok := strings.Cut(entry, ","); ok && v == "v1" {
			if got, err := base64.StdEncoding.DecodeString(s); err == nil && bytes.Equal(got, wantMAC) {
				return
			}
		}
	}
	t.Fatalf("verified, but no v1 entry of %q is the signature %q", sig, want)
}
