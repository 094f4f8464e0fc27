package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"
)

// bodyKind is who is supervised in a check, which fixes what a correct
// answer looks like.
type bodyKind int

const (
	toTeen     bodyKind = iota // someone writes to a supervised teen
	teenToTeen                 // both parties are supervised teens
	fromTeen                   // a supervised teen writes to someone Hearth does not supervise
	neither                    // nobody supervised: allow / not_supervised
)

var kindNames = [...]string{"to a supervised teen", "teen to teen", "from a supervised teen", "neither supervised"}

// The request shape of POST /api/v1/dm/check, with every field optional so
// the mix can leave facts out as a real caller may.
type checkContext struct {
	MutualFollow            *bool `json:"mutual_follow,omitempty"`
	SenderIsAdult           *bool `json:"sender_is_adult,omitempty"`
	SenderAccountAgeDays    *int  `json:"sender_account_age_days,omitempty"`
	RecipientIsAdult        *bool `json:"recipient_is_adult,omitempty"`
	RecipientAccountAgeDays *int  `json:"recipient_account_age_days,omitempty"`
	HasMedia                *bool `json:"has_media,omitempty"`
	HasLink                 *bool `json:"has_link,omitempty"`
}

type checkBody struct {
	SenderID         string        `json:"sender_id"`
	RecipientID      string        `json:"recipient_id"`
	SentAt           string        `json:"sent_at,omitempty"`
	Context          *checkContext `json:"context,omitempty"`
	MinPolicyVersion *int64        `json:"min_policy_version,omitempty"`
}

func ptr[T any](v T) *T { return &v }

// mixBase is the day the sent_at times fall in (over two days, so that
// quiet hours begin and end somewhere in every seeded time zone).
var mixBase = time.Date(2026, 11, 27, 0, 0, 0, 0, time.UTC)

// writeBodies makes the request mix, one JSON body per line, in
// bodies.txt:
//
//   - 60% to a supervised teen (tk_load_… chosen at random among the N)
//     from an adult stranger, a teen stranger, a friend, a stranger with
//     media, a friend with a link, a new account, or with facts missing;
//   - 10% teen to teen (both supervised, both policies evaluated);
//   - 5% from a supervised teen to an unsupervised account;
//   - 25% between two accounts nobody supervises;
//
// with sent_at spread over 48 hours (in and out of quiet hours in every
// zone) or left out (the server's now), and min_policy_version 0, 1 or
// left out. No body asks for a version above what is stored, which would
// make every check wait for a sync (a different path, not measured here).
func (b *bench) writeBodies() error {
	rng := mrandFor(b.o.seed)
	teen := func() string { return fmt.Sprintf("tk_load_%06d", 1+rng.IntN(b.o.teens)) }
	user := func() string { return fmt.Sprintf("u_%d", 1+rng.IntN(5_000_000)) }
	senderFacts := []func() *checkContext{
		func() *checkContext { // adult stranger
			return &checkContext{MutualFollow: ptr(false), SenderIsAdult: ptr(true), SenderAccountAgeDays: ptr(200 + rng.IntN(3000)), HasMedia: ptr(false), HasLink: ptr(false)}
		},
		func() *checkContext { // teen stranger
			return &checkContext{MutualFollow: ptr(false), SenderIsAdult: ptr(false), SenderAccountAgeDays: ptr(30 + rng.IntN(2000)), HasMedia: ptr(false), HasLink: ptr(false)}
		},
		func() *checkContext { // friend
			return &checkContext{MutualFollow: ptr(true), SenderIsAdult: ptr(rng.IntN(3) == 0), SenderAccountAgeDays: ptr(100 + rng.IntN(3000)),
				RecipientIsAdult: ptr(false), RecipientAccountAgeDays: ptr(400), HasMedia: ptr(false), HasLink: ptr(false)}
		},
		func() *checkContext { // stranger with media
			return &checkContext{MutualFollow: ptr(false), SenderIsAdult: ptr(false), SenderAccountAgeDays: ptr(500), HasMedia: ptr(true), HasLink: ptr(false)}
		},
		func() *checkContext { // friend with a link
			return &checkContext{MutualFollow: ptr(true), SenderIsAdult: ptr(false), SenderAccountAgeDays: ptr(900), HasMedia: ptr(false), HasLink: ptr(true)}
		},
		func() *checkContext { // new account
			return &checkContext{MutualFollow: ptr(false), SenderIsAdult: ptr(false), SenderAccountAgeDays: ptr(rng.IntN(7)), HasMedia: ptr(false), HasLink: ptr(false)}
		},
		func() *checkContext { return nil },                                    // no facts: the safe side
		func() *checkContext { return &checkContext{MutualFollow: ptr(true)} }, // some facts
	}
	f, err := os.Create(filepath.Join(b.tmp, "bodies.txt"))
	if err != nil {
		return err
	}
	defer f.Close()
	w := bufio.NewWriter(f)
	seen := map[string]bool{}
	for len(b.bodyLines) < b.o.bodies {
		var c checkBody
		var kind bodyKind
		switch r := rng.Float64(); {
		case r < 0.60:
			kind, c.SenderID, c.RecipientID = toTeen, user(), teen()
			c.Context = senderFacts[rng.IntN(len(senderFacts))]()
		case r < 0.70:
			kind, c.SenderID, c.RecipientID = teenToTeen, teen(), teen()
			c.Context = &checkContext{MutualFollow: ptr(rng.IntN(2) == 0), SenderIsAdult: ptr(false), RecipientIsAdult: ptr(false),
				SenderAccountAgeDays: ptr(rng.IntN(2000)), RecipientAccountAgeDays: ptr(rng.IntN(2000)), HasMedia: ptr(rng.IntN(4) == 0), HasLink: ptr(false)}
		case r < 0.75:
			kind, c.SenderID, c.RecipientID = fromTeen, teen(), user()
			c.Context = &checkContext{MutualFollow: ptr(rng.IntN(2) == 0), SenderIsAdult: ptr(false), RecipientIsAdult: ptr(rng.IntN(2) == 0),
				RecipientAccountAgeDays: ptr(rng.IntN(3000)), HasMedia: ptr(false), HasLink: ptr(false)}
		default:
			kind, c.SenderID, c.RecipientID = neither, user(), user()
			c.Context = senderFacts[rng.IntN(len(senderFacts))]()
		}
		if c.SenderID == c.RecipientID {
			continue
		}
		if rng.Float64() < 0.85 {
			c.SentAt = mixBase.Add(time.Duration(rng.IntN(48*3600)) * time.Second).Format(time.RFC3339)
		}
		switch r := rng.Float64(); {
		case r < 0.3:
			c.MinPolicyVersion = ptr(int64(0))
		case r < 0.5 && kind != neither:
			c.MinPolicyVersion = ptr(int64(1))
		}
		line, err := json.Marshal(c)
		if err != nil {
			return err
		}
		if seen[string(line)] {
			continue
		}
		seen[string(line)] = true
		b.bodyLines = append(b.bodyLines, string(line))
		b.bodyKinds = append(b.bodyKinds, kind)
		w.Write(line)
		w.WriteByte('\n')
	}
	if err := w.Flush(); err != nil {
		return err
	}
	say("wrote %d distinct request bodies", len(b.bodyLines))
	return nil
}
