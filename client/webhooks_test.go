package client_test

import (
	"encoding/base64"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hearth-safety/hearth/client"
)

var vectorTime = time.Unix(vectorTimestamp, 0)

// vectorHeaders returns the Standard Webhooks test vector's headers.
func vectorHeaders() http.Header {
	h := http.Header{}
	h.Set("webhook-id", vectorID)
	h.Set("webhook-timestamp", strconv.Itoa(vectorTimestamp))
	h.Set("webhook-signature", vectorSignature)
	return h
}

func TestSign_standard_webhooks_vector(t *testing.T) {
	t.Parallel()
	got, err := client.Sign(vectorSecret, vectorID, vectorTime, []byte(vectorBody))
	if err != nil || got != vectorSignature {
		t.Errorf("Sign = %q, %v; want %q", got, err, vectorSignature)
	}
	// Only whole seconds are signed, as the header carries them.
	if got, _ := client.Sign(vectorSecret, vectorID, vectorTime.Add(999*time.Millisecond), []byte(vectorBody)); got != vectorSignature {
		t.Errorf("Sign with milliseconds = %q", got)
	}
	for name, tc := range map[string]struct {
		secret, id string
		ts         time.Time
	}{
		"bad_secret":  {"whsec_???", vectorID, vectorTime},
		"empty_id":    {vectorSecret, "", vectorTime},
		"before_1970": {vectorSecret, vectorID, time.Unix(-1, 0)},
	} {
		if s, err := client.Sign(tc.secret, tc.id, tc.ts, []byte(vectorBody)); err == nil || s != "" {
			t.Errorf("%s: Sign = %q, %v; want an error", name, s, err)
		}
	}
}

func TestVerifyWebhook_accepts(t *testing.T) {
	t.Parallel()
	body := []byte(vectorBody)
	other := "whsec_" + base64.StdEncoding.EncodeToString([]byte("another secret, 32 bytes long!!!"))
	otherSig, _ := client.Sign(other, vectorID, vectorTime, body)
	for _, tc := range []struct {
		name   string
		header func(http.Header)
		now    time.Time
	}{
		{"vector", func(http.Header) {}, vectorTime},
		{"5_minutes_late", func(http.Header) {}, vectorTime.Add(5 * time.Minute)},
		{"5_minutes_early", func(http.Header) {}, vectorTime.Add(-5 * time.Minute)},
		{"rotation_new_first", func(h http.Header) { h.Set("webhook-signature", vectorSignature+" "+otherSig) }, vectorTime},
		{"rotation_old_first", func(h http.Header) { h.Set("webhook-signature", otherSig+" "+vectorSignature) }, vectorTime},
		{"other_versions_skipped", func(h http.Header) {
			h.Set("webhook-signature", "v1a,bm90IGFuIGVkMjU1MTkgc2lnbmF0dXJl v2,xyz "+vectorSignature)
		}, vectorTime},
		{"garbage_entries_skipped", func(h http.Header) { h.Set("webhook-signature", "v1,!!! v1 , "+vectorSignature) }, vectorTime},
		{"two_header_lines", func(h http.Header) {
			h.Set("webhook-signature", otherSig)
			h.Add("webhook-signature", vectorSignature)
		}, vectorTime},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := vectorHeaders()
			tc.header(h)
			if err := client.VerifyWebhook(vectorSecret, h, body, tc.now); err != nil {
				t.Errorf("refused: %v", err)
			}
		})
	}
}

func TestVerifyWebhook_refuses(t *testing.T) {
	t.Parallel()
	body := []byte(vectorBody)
	otherSecret := "whsec_" + base64.StdEncoding.EncodeToString([]byte("another secret, 32 bytes long!!!"))
	for _, tc := range []struct {
		name   string
		secret string
		header func(http.Header)
		body   []byte
		now    time.Time
		want   error // besides ErrInvalidWebhook
	}{
		{"wrong_secret", otherSecret, nil, body, vectorTime, client.ErrWebhookSignature},
		{"tampered_body", vectorSecret, nil, []byte(`{"test": 2432232315}`), vectorTime, client.ErrWebhookSignature},
		{"body_with_extra_space", vectorSecret, nil, []byte(vectorBody + " "), vectorTime, client.ErrWebhookSignature},
		{"empty_body", vectorSecret, nil, nil, vectorTime, client.ErrWebhookSignature},
		{"other_id", vectorSecret, func(h http.Header) { h.Set("webhook-id", "msg_other") }, body, vectorTime, client.ErrWebhookSignature},
		{"shifted_timestamp_in_window", vectorSecret, func(h http.Header) { h.Set("webhook-timestamp", strconv.Itoa(vectorTimestamp+1)) }, body, vectorTime, client.ErrWebhookSignature},
		{"stale", vectorSecret, nil, body, vectorTime.Add(5*time.Minute + time.Second), client.ErrWebhookTimestamp},
		{"replayed_a_day_later", vectorSecret, nil, body, vectorTime.Add(24 * time.Hour), client.ErrWebhookTimestamp},
		{"future", vectorSecret, nil, body, vectorTime.Add(-5*time.Minute - time.Second), client.ErrWebhookTimestamp},
		{"timestamp_in_ms", vectorSecret, func(h http.Header) { h.Set("webhook-timestamp", strconv.Itoa(vectorTimestamp)+"000") }, body, vectorTime, client.ErrWebhookTimestamp},
		{"timestamp_fraction", vectorSecret, func(h http.Header) { h.Set("webhook-timestamp", strconv.Itoa(vectorTimestamp)+".0") }, body, vectorTime, client.ErrWebhookTimestamp},
		{"timestamp_signed", vectorSecret, func(h http.Header) { h.Set("webhook-timestamp", "+"+strconv.Itoa(vectorTimestamp)) }, body, vectorTime, client.ErrWebhookTimestamp},
		{"timestamp_overflow", vectorSecret, func(h http.Header) { h.Set("webhook-timestamp", "99999999999999999999") }, body, vectorTime, client.ErrWebhookTimestamp},
		{"timestamp_rfc3339", vectorSecret, func(h http.Header) { h.Set("webhook-timestamp", vectorTime.UTC().Format(time.RFC3339)) }, body, vectorTime, client.ErrWebhookTimestamp},
		{"no_timestamp", vectorSecret, func(h http.Header) { h.Del("webhook-timestamp") }, body, vectorTime, client.ErrWebhookTimestamp},
		{"no_id", vectorSecret, func(h http.Header) { h.Del("webhook-id") }, body, vectorTime, nil},
		{"empty_id", vectorSecret, func(h http.Header) { h.Set("webhook-id", "") }, body, vectorTime, nil},
		{"two_ids", vectorSecret, func(h http.Header) { h.Add("webhook-id", "msg_other") }, body, vectorTime, nil},
		{"no_signature", vectorSecret, func(h http.Header) { h.Del("webhook-signature") }, body, vectorTime, nil},
		{"empty_signature", vectorSecret, func(h http.Header) { h.Set("webhook-signature", "") }, body, vectorTime, client.ErrWebhookSignature},
		{"signature_without_version", vectorSecret, func(h http.Header) { h.Set("webhook-signature", strings.TrimPrefix(vectorSignature, "v1,")) }, body, vectorTime, client.ErrWebhookSignature},
		{"signature_as_v1a", vectorSecret, func(h http.Header) { h.Set("webhook-signature", "v1a,"+strings.TrimPrefix(vectorSignature, "v1,")) }, body, vectorTime, client.ErrWebhookSignature},
		{"signature_truncated", vectorSecret, func(h http.Header) { h.Set("webhook-signature", vectorSignature[:20]) }, body, vectorTime, client.ErrWebhookSignature},
		{"signature_hex", vectorSecret, func(h http.Header) {
			raw, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(vectorSignature, "v1,"))
			h.Set("webhook-signature", "v1,"+hex.EncodeToString(raw))
		}, body, vectorTime, client.ErrWebhookSignature},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			h := vectorHeaders()
			if tc.header != nil {
				tc.header(h)
			}
			err := client.VerifyWebhook(tc.secret, h, tc.body, tc.now)
			if !errors.Is(err, client.ErrInvalidWebhook) {
				t.Fatalf("error %v, want ErrInvalidWebhook", err)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("error %v, want %v", err, tc.want)
			}
			if errors.Is(err, client.ErrInvalidSecret) {
				t.Errorf("error %v blames the secret", err)
			}
		})
	}
}

func TestVerifyWebhook_malformed_secret(t *testing.T) {
	t.Parallel()
	for name, secret := range map[string]string{
		"empty":          "",
		"no_prefix":      "MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
		"other_prefix":   "whsk_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
		"not_base64":     "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaS!",
		"url_base64":     "whsec_" + base64.URLEncoding.EncodeToString([]byte("\xff\xfe 24 bytes of secret \xfb\xff")),
		"too_short":      "whsec_" + base64.StdEncoding.EncodeToString(make([]byte, 23)),
		"too_long":       "whsec_" + base64.StdEncoding.EncodeToString(make([]byte, 65)),
		"only_prefix":    "whsec_",
		"trailing_space": vectorSecret + " ",
	} {
		err := client.VerifyWebhook(secret, vectorHeaders(), []byte(vectorBody), vectorTime)
		if !errors.Is(err, client.ErrInvalidSecret) || errors.Is(err, client.ErrInvalidWebhook) {
			t.Errorf("%s: error %v, want ErrInvalidSecret alone", name, err)
		}
		if raw := strings.TrimPrefix(secret, "whsec_"); len(raw) > 4 && err != nil && strings.Contains(err.Error(), raw) {
			t.Errorf("%s: error %q repeats the secret", name, err)
		}
	}
}

// hearthWebhook returns a request as Hearth sends a webhook, signed with
// secret at ts.
func hearthWebhook(t *testing.T, secret, id string, ts time.Time, body string) *http.Request {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, "/hearth/webhooks", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	r.Header.Set("webhook-id", id)
	r.Header.Set("webhook-timestamp", strconv.FormatInt(ts.Unix(), 10))
	sig, err := client.Sign(secret, id, ts, []byte(body))
	if err != nil {
		t.Fatal(err)
	}
	r.Header.Set("webhook-signature", sig)
	return r
}

func TestParseWebhook(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 11, 27, 21, 30, 0, 0, time.UTC)
	const payload = `{"type":"policy.updated","timestamp":"2026-11-27T21:29:58Z","data":{"teen_id":"tk_maya","version":43}}`

	t.Run("genuine", func(t *testing.T) {
		t.Parallel()
		r := hearthWebhook(t, vectorSecret, "msg_1", now, payload)
		w, err := client.ParseWebhook(vectorSecret, r, now.Add(time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if w.ID != "msg_1" || w.Type != client.WebhookPolicyUpdated || !w.Timestamp.Equal(time.Date(2026, 11, 27, 21, 29, 58, 0, time.UTC)) ||
			string(w.Data) != `{"teen_id":"tk_maya","version":43}` {
			t.Errorf("parsed %+v", w)
		}
		if rest, _ := io.ReadAll(r.Body); string(rest) != payload {
			t.Errorf("body after parsing is %q, want it readable again", rest)
		}
	})
	for _, tc := range []struct {
		name string
		req  func(t *testing.T) *http.Request
	}{
		{"unsigned", func(t *testing.T) *http.Request {
			return httptest.NewRequest(http.MethodPost, "/hearth/webhooks", strings.NewReader(payload))
		}},
		{"other_secret", func(t *testing.T) *http.Request {
			return hearthWebhook(t, "whsec_"+base64.StdEncoding.EncodeToString([]byte("another secret, 32 bytes long!!!")), "msg_1", now, payload)
		}},
		{"replayed_later", func(t *testing.T) *http.Request {
			return hearthWebhook(t, vectorSecret, "msg_1", now.Add(-time.Hour), payload)
		}},
		{"tampered", func(t *testing.T) *http.Request {
			r := hearthWebhook(t, vectorSecret, "msg_1", now, payload)
			r.Body = io.NopCloser(strings.NewReader(strings.Replace(payload, "43", "44", 1)))
			return r
		}},
		{"too_large", func(t *testing.T) *http.Request {
			big := `{"type":"policy.updated","timestamp":"2026-11-27T21:29:58Z","data":"` + strings.Repeat("x", client.MaxWebhookBody) + `"}`
			return hearthWebhook(t, vectorSecret, "msg_1", now, big)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			w, err := client.ParseWebhook(vectorSecret, tc.req(t), now)
			if !errors.Is(err, client.ErrInvalidWebhook) || w.Type != "" {
				t.Errorf("got %+v, %v; want ErrInvalidWebhook", w, err)
			}
		})
	}
	for _, body := range []string{`not json`, `{}`, `{"type":"","timestamp":"2026-11-27T21:29:58Z","data":{}}`,
		`{"type":"policy.updated","data":{}}`, `{"type":"policy.updated","timestamp":"2026-11-27T21:29:58Z"}`,
		`{"type":"policy.updated","timestamp":"2026-11-27T21:29:58Z","data":null}`} {
		t.Run("verified_but_not_an_event", func(t *testing.T) {
			t.Parallel()
			w, err := client.ParseWebhook(vectorSecret, hearthWebhook(t, vectorSecret, "msg_1", now, body), now)
			if err == nil || errors.Is(err, client.ErrInvalidWebhook) || w.Type != "" {
				t.Errorf("payload %s: got %+v, %v; want an error that is not about the signature", body, w, err)
			}
		})
	}
}
