package handlers

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

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
