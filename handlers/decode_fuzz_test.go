package handlers

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hearth-safety/hearth/models"
)

// FuzzDecodeDMCheck feeds arbitrary bodies to the DM check's decoder and
// validation. Whatever comes in, it must not panic, and a body it accepts
// must name only the contract's fields: no field for message content can
// ever be decoded into a check.
func FuzzDecodeDMCheck(f *testing.F) {
	for _, seed := range []string{
		`{"sender_id":"u_1","recipient_id":"tk_maya","sent_at":"2026-11-27T21:30:00Z","context":{"mutual_follow":false,"sender_is_adult":true,"sender_account_age_days":3,"recipient_is_adult":false,"recipient_account_age_days":400,"has_media":false,"has_link":false},"min_policy_version":0}`,
		`{"sender_id":"a","recipient_id":"b","text":"x"}`,
		`{"sender_id":"a","recipient_id":"b","context":{"content":"x"}}`,
		`{"checks":[{"sender_id":"a","recipient_id":"b"}]}`,
		`{"sender_id":"a","recipient_id":"a"}`,
		`{"sender_id":"` + strings.Repeat("a", 65) + `","recipient_id":"b"}`,
		`{"sent_at":"yesterday"}`,
		`[]`, `null`, `{`, `{}{}`, ``,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var req dmCheck
		err := DecodeStrict(body, &req)
		if err != nil {
			return
		}
		ve := &models.ValidationError{}
		req.validate("", ve)
		if ve.Err() != nil {
			var e *models.ValidationError
			if !errors.As(ve.Err(), &e) || len(e.Errors) == 0 {
				t.Fatalf("validation failed without naming a field: %v", ve.Err())
			}
			return
		}
		// Accepted: every key in the body must be one the contract names.
		var raw map[string]json.RawMessage
		if json.Unmarshal(body, &raw) != nil {
			return
		}
		allowed := map[string]bool{"sender_id": true, "recipient_id": true, "sent_at": true, "context": true, "min_policy_version": true}
		for k := range raw {
			if !allowed[strings.ToLower(k)] {
				t.Fatalf("accepted a body with field %q", k)
			}
		}
		if !models.PlatformIDOK(*req.SenderID) || !models.PlatformIDOK(*req.RecipientID) {
			t.Fatalf("accepted invalid IDs %q %q", *req.SenderID, *req.RecipientID)
		}
	})
}

// FuzzDecodeEvents feeds arbitrary bodies to the moderation report's
// decoder and validation. It must not panic; a body it accepts must hold
// 1 to 500 events that pass models.Event.Validate and name only the
// contract's fields, so no field for message content is ever decoded; and
// a body it refuses must be refused with an error that says what is wrong.
func FuzzDecodeEvents(f *testing.F) {
	ev := `{"id":"evt_1","teen_id":"tk_maya","counterpart_id":"u_9","direction":"inbound","category":"grooming","severity":"high","action_taken":"message_blocked","occurred_at":"2026-11-27T21:30:00Z"}`
	for _, seed := range []string{
		`{"events":[` + ev + `]}`,
		`{"events":[` + ev + `,` + ev + `]}`,
		`{"events":[{"id":"e","teen_id":"t","direction":"outbound","category":"spam","severity":"low","action_taken":"none","occurred_at":"2026-01-01T00:00:00+05:30"}]}`,
		`{"events":[` + strings.TrimSuffix(ev, "}") + `,"text":"x"}]}`,
		`{"events":[` + strings.TrimSuffix(ev, "}") + `,"snippet":"x"}]}`,
		`{"events":[],"content":"x"}`,
		`{"events":[{"ID":"e"}]}`,
		`{"events":[{"occurred_at":"yesterday"}]}`,
		`{"events":[{"severity":4}]}`,
		`{"events":null}`,
		`[]`, `null`, `{`, `{}{}`, ``,
	} {
		f.Add([]byte(seed))
	}
	now := time.Date(2026, 11, 27, 22, 0, 0, 0, time.UTC)
	allowed := map[string]bool{"id": true, "teen_id": true, "counterpart_id": true, "direction": true, "category": true,
		"severity": true, "action_taken": true, "occurred_at": true}
	f.Fuzz(func(t *testing.T, body []byte) {
		events, err := decodeEvents(body, now)
		if err != nil {
			if err.Error() == "" {
				t.Fatal("refused without saying why")
			}
			var ve *models.ValidationError
			if errors.As(err, &ve) && len(ve.Errors) == 0 {
				t.Fatalf("validation failed without naming a field: %v", err)
			}
			return
		}
		if len(events) == 0 || len(events) > models.MaxEventsPerReport {
			t.Fatalf("accepted %d events", len(events))
		}
		for i, e := range events {
			ve := &models.ValidationError{}
			e.Validate("events", now, ve)
			if ve.Err() != nil {
				t.Fatalf("accepted event %d that does not validate: %v", i, ve.Err())
			}
		}
		var raw struct {
			Events []map[string]json.RawMessage `json:"events"`
		}
		if json.Unmarshal(body, &raw) != nil {
			return
		}
		for _, e := range raw.Events {
			for k := range e {
				if !allowed[k] {
					t.Fatalf("accepted an event with field %q", k)
				}
			}
		}
	})
}

// FuzzVerifySignature: whatever the headers and body, verification must
// not panic, and it may succeed only when one of the signatures is the
// right one, recomputed here.
func FuzzVerifySignature(f *testing.F) {
	const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	f.Add("msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", []byte(`{"test": 2432232314}`))
	f.Add("msg_p5jXN8AQM9LWM0D4loKWxJek", "1614265330", "v1,bad v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=", []byte(`{"test": 2432232314}`))
	f.Add("msg_1", "1614265330", "v2,abc", []byte(`{}`))
	f.Add("", "", "", []byte(nil))
	f.Add("msg_1", "-1", "v1,", []byte(`x`))
	f.Add("msg_1", "99999999999999999999", "v1,====", []byte(`x`))
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
	now := time.Unix(1614265330, 0)
	f.Fuzz(func(t *testing.T, id, ts, sig string, body []byte) {
		h := http.Header{}
		h.Set("webhook-id", id)
		h.Set("webhook-timestamp", ts)
		h.Set("webhook-signature", sig)
		err := VerifySignature([]string{secret}, h, body, now)
		if err == nil {
			m := hmac.New(sha256.New, key)
			m.Write([]byte(id + "." + ts + "."))
			m.Write(body)
			want := "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))
			if !slices.Contains(strings.Fields(sig), want) {
				t.Fatalf("accepted signature %q for id %q, timestamp %q", sig, id, ts)
			}
			return
		}
		var se *SignatureError
		if !errors.As(err, &se) || se.Detail == "" {
			t.Fatalf("refused with %v, want a *SignatureError saying why", err)
		}
		if strings.Contains(err.Error(), secret[6:]) {
			t.Fatal("the error repeats the secret")
		}
	})
}
