package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"
)

// sampleResult is what 1,000 sequential checks answered.
type sampleResult struct {
	n          int
	byDecision map[string]int
	byReason   map[string]int
	bad        int
	problems   []string
	took       time.Duration
}

type answer struct {
	Decision      string `json:"decision"`
	Reason        string `json:"reason"`
	DecidedBy     string `json:"decided_by"`
	PolicyVersion int64  `json:"policy_version"`
	HoldUntil     string `json:"hold_until"`
}

// sampleDecisions sends the first 1,000 bodies one after the other and
// checks every answer: 200, JSON, exactly the documented fields with
// known values, hold_until with (and only with) a quiet-hours hold, and
// the party that must decide: a supervised teen's policy whenever one is
// involved, nobody's otherwise.
func (b *bench) sampleDecisions(ctx context.Context) {
	s := sampleResult{byDecision: map[string]int{}, byReason: map[string]int{}}
	client := &http.Client{Timeout: 5 * time.Second}
	problem := func(i int, format string, args ...any) {
		s.bad++
		if len(s.problems) < 5 {
			s.problems = append(s.problems, fmt.Sprintf("body %d (%s): ", i+1, kindNames[b.bodyKinds[i]])+fmt.Sprintf(format, args...))
		}
	}
	started := time.Now()
	n := min(1000, len(b.bodyLines))
	for i := range n {
		if ctx.Err() != nil {
			break
		}
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, b.checkURL, strings.NewReader(b.bodyLines[i]))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+apiKey)
		resp, err := client.Do(req)
		if err != nil {
			problem(i, "%v", err)
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		s.n++
		if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
			problem(i, "%d %s: %s", resp.StatusCode, resp.Header.Get("Content-Type"), tail(string(body), 200))
			continue
		}
		var a answer
		dec := json.NewDecoder(bytes.NewReader(body))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&a); err != nil {
			problem(i, "not the documented answer: %v: %s", err, body)
			continue
		}
		s.byDecision[a.Decision]++
		s.byReason[a.Reason]++
		switch {
		case a.Decision != "allow" && a.Decision != "request" && a.Decision != "hold" && a.Decision != "deny":
			problem(i, "unknown decision %q", a.Decision)
		case a.DecidedBy != "recipient" && a.DecidedBy != "sender" && a.DecidedBy != "none":
			problem(i, "unknown decided_by %q", a.DecidedBy)
		case a.Reason == "":
			problem(i, "no reason")
		case (a.HoldUntil != "") != (a.Decision == "hold" && a.Reason == "quiet_hours"):
			problem(i, "hold_until %q with %s %s", a.HoldUntil, a.Decision, a.Reason)
		case a.HoldUntil != "" && !parses(a.HoldUntil):
			problem(i, "hold_until %q is not RFC 3339", a.HoldUntil)
		case b.bodyKinds[i] == neither && (a.Decision != "allow" || a.Reason != "not_supervised" || a.DecidedBy != "none"):
			problem(i, "nobody is supervised, yet %s %s by %s", a.Decision, a.Reason, a.DecidedBy)
		case b.bodyKinds[i] != neither && (a.DecidedBy == "none" || a.PolicyVersion < 1):
			problem(i, "a supervised teen is involved, yet %s %s by %s v%d (rules not loaded?)", a.Decision, a.Reason, a.DecidedBy, a.PolicyVersion)
		}
	}
	s.took = time.Since(started)
	b.sample = s
	say("sample of %d sequential checks: %d allow, %d request, %d hold, %d deny; %d not as documented",
		s.n, s.byDecision["allow"], s.byDecision["request"], s.byDecision["hold"], s.byDecision["deny"], s.bad)
	for _, p := range s.problems {
		say("  %s", p)
	}
}

func parses(s string) bool {
	_, err := time.Parse(time.RFC3339Nano, s)
	return err == nil
}
