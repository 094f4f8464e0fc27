// Command example is a tiny messaging service that calls Hearth through the
// Go SDK on its send path. Start Hearth with the demo world, then run it
// with the key and secret that `hearth demo` printed:
//
//	go run ./cmd/hearth demo && go run ./cmd/hearth
//	go run ./client/example -url http://127.0.0.1:8080 -key hk_… -secret whsec_…
//
// It provisions a teen (-teen, tk_example) and asks for the teen's sign-in
// link, shows the DM rules of the demo world's tk_maya (-to), sends her a few
// DMs and acts on each decision (deliver, message requests, schedule,
// refuse), and reports a moderation event. With -webhooks 127.0.0.1:8090 it
// then receives Hearth's signed webhooks at /hearth/webhooks until
// interrupted. -key, -secret and -url may also come from HEARTH_API_KEY,
// HEARTH_WEBHOOK_SECRET and HEARTH_URL.
//
// Messages are placeholders ("message #1"): Hearth never sees message text,
// and neither does this program.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/hearth-safety/hearth/client"
	"github.com/hearth-safety/hearth/policy"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Getenv, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "example:", err)
		os.Exit(1)
	}
}

// run is the whole program, with its inputs and output passed in so that a
// test can run it against a fake Hearth.
func run(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("example", flag.ContinueOnError)
	fs.SetOutput(stdout)
	baseURL := fs.String("url", or(getenv("HEARTH_URL"), "http://127.0.0.1:8080"), "Hearth's address")
	key := fs.String("key", getenv("HEARTH_API_KEY"), "the API key printed by `hearth demo` or `hearth client create`")
	secret := fs.String("secret", getenv("HEARTH_WEBHOOK_SECRET"), "the whsec_ webhook secret printed with the key")
	teen := fs.String("teen", "tk_example", "the teen this run provisions and gets a sign-in link for")
	to := fs.String("to", "tk_maya", "the supervised teen the example DMs go to (the demo world's tk_maya has rules that give every decision)")
	webhooks := fs.String("webhooks", "", "after the send path, receive Hearth's webhooks on this address (such as 127.0.0.1:8090) until interrupted")
	deprovision := fs.Bool("delete", false, "deprovision -teen at the end, erasing its data in Hearth")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *key == "" {
		return errors.New("no API key: pass -key (or set HEARTH_API_KEY) with the key `hearth demo` or `hearth client create` printed")
	}

	hc, err := client.New(client.Config{BaseURL: *baseURL, APIKey: *key, WebhookSecret: *secret})
	if err != nil {
		return err
	}
	s := &service{hearth: hc, out: stdout, minVersion: map[string]int64{}}

	// Onboarding: the platform tells Hearth about a teen account, and hands
	// the teen a link into Hearth when they open "Safety settings".
	birth := time.Now().AddDate(-14, -1, 0).Format("2006-01")
	created, err := hc.ProvisionTeen(ctx, *teen, client.Teen{DisplayName: "Example teen", BirthMonth: birth, Timezone: "Europe/London"})
	if err != nil {
		return explain(*baseURL, err)
	}
	fmt.Fprintf(stdout, "provisioned %s (created: %v)\n", *teen, created)

	link, err := hc.SignInLink(ctx, *teen)
	if err != nil {
		return explain(*baseURL, err)
	}
	// The app opens this for the teen. It is a credential, printed here only
	// so that you can try it; a real service never logs it.
	fmt.Fprintf(stdout, "sign-in link for %s, valid until %s:\n  %s\n", *teen, link.ExpiresAt.Local().Format("15:04"), link.URL)

	// What the app shows the teen about their limits.
	if p, err := hc.TeenPolicy(ctx, *to); err != nil {
		fmt.Fprintf(stdout, "rules of %s: not available (%v)\n", *to, err)
	} else {
		fmt.Fprintf(stdout, "rules of %s (v%d): audience %s, quiet hours %s, adult strangers blocked: %v, media from friends only: %v, %d approved and %d blocked contacts\n",
			*to, p.Version, p.Audience, p.QuietHours, p.BlockAdultStrangers, p.MediaFriendsOnly, len(p.ApprovedContacts), len(p.BlockedContacts))
		s.raiseMinVersion(*to, p.Version)
	}

	// The send path: every DM to or from a supervised teen is checked.
	for _, m := range []dm{
		{"message #1", "u_grandma", *to, policy.Context{MutualFollow: new(true), SenderIsAdult: new(true), SenderAccountAgeDays: new(2000), HasMedia: new(false), HasLink: new(false)}},
		{"message #2", "u_example_classmate", *to, policy.Context{MutualFollow: new(true), SenderIsAdult: new(false), SenderAccountAgeDays: new(400), HasMedia: new(false), HasLink: new(false)}},
		{"message #3", "u_example_newkid", *to, policy.Context{MutualFollow: new(false), SenderIsAdult: new(false), SenderAccountAgeDays: new(2), HasMedia: new(false), HasLink: new(false)}},
		{"message #4", "u_example_adult", *to, policy.Context{MutualFollow: new(false), SenderIsAdult: new(true), SenderAccountAgeDays: new(3), HasMedia: new(false), HasLink: new(true)}},
		{"message #5", "u_stranger9", *to, policy.Context{}}, // facts unknown: Hearth reads them on the safe side
	} {
		s.send(ctx, m)
	}

	// The platform's classifier acted on a message; Hearth tells the
	// guardians what kind of harm it was, never what it said. The event ID
	// is fixed, so a second run reports a duplicate, not a second alert.
	rep, err := hc.ReportEvents(ctx, []client.Event{{
		ID: "evt_example_1", TeenID: *to, CounterpartID: "u_example_adult", Direction: client.DirectionInbound,
		Category: client.CategoryScam, Severity: client.SeverityMedium, ActionTaken: client.ActionMessageBlocked,
		OccurredAt: time.Now(),
	}})
	switch {
	case errors.Is(err, client.ErrInvalid):
		fmt.Fprintf(stdout, "moderation event not reported: %v\n", err)
	case errors.Is(err, client.ErrUnavailable):
		fmt.Fprintf(stdout, "moderation event not reported yet; sending it again later is safe (Hearth deduplicates by event ID): %v\n", err)
	case err != nil:
		fmt.Fprintf(stdout, "moderation event refused: %v\n", err)
	default:
		fmt.Fprintf(stdout, "moderation event reported: %d accepted, %d duplicates, %d ignored\n", rep.Accepted, rep.Duplicates, rep.Ignored)
	}

	if *deprovision {
		if err := hc.DeleteTeen(ctx, *teen); err != nil {
			fmt.Fprintf(stdout, "could not deprovision %s: %v\n", *teen, err)
		} else {
			fmt.Fprintf(stdout, "deprovisioned %s; Hearth erased its data\n", *teen)
		}
	}

	if *webhooks == "" {
		fmt.Fprintln(stdout, "to receive Hearth's webhooks, run again with -webhooks 127.0.0.1:8090 and give Hearth the URL http://127.0.0.1:8090/hearth/webhooks (hearth client create --webhook-url …)")
		return nil
	}
	return s.serveWebhooks(ctx, *webhooks, *secret)
}

// or returns s, or def when s is empty.
func or(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

// explain turns the first call's failure into advice.
func explain(baseURL string, err error) error {
	var e *client.Error
	switch {
	case errors.Is(err, client.ErrUnavailable) && !errors.As(err, &e):
		return fmt.Errorf("cannot reach Hearth at %s; is it running? Start it with `go run ./cmd/hearth` (%w)", baseURL, err)
	case errors.As(err, &e) && e.Status == http.StatusUnauthorized:
		return fmt.Errorf("the API key was refused; use the one `hearth demo` or `hearth client create` printed (%w)", err)
	}
	return err
}

// dm is one direct message on its way, as the platform knows it: who to
// whom, and facts about the sender and the message. Its text stays with the
// platform; the label stands in for it here.
type dm struct {
	label    string
	from, to string
	facts    policy.Context
}

// service is the messaging service's side of the send path: it asks Hearth
// and then delivers, files, schedules or refuses. Here each of those is a
// line of output.
type service struct {
	hearth *client.Client
	out    io.Writer

	mu sync.Mutex
	// minVersion is the newest policy version seen per teen (from the policy
	// read or a policy.updated webhook); checks ask Hearth to decide by rules
	// at least that new.
	minVersion map[string]int64
}

// send checks m with Hearth and acts on the decision. Errors are logged and
// never change what happens: the Result is already the safe answer.
func (s *service) send(ctx context.Context, m dm) {
	s.mu.Lock()
	minVersion := s.minVersion[m.to]
	s.mu.Unlock()
	res, err := s.hearth.CheckDM(ctx, client.CheckRequest{
		SenderID: m.from, RecipientID: m.to, SentAt: time.Now(), Context: m.facts, MinPolicyVersion: minVersion,
	})
	if err != nil {
		fmt.Fprintf(s.out, "  (Hearth could not decide %s: %v)\n", m.label, err)
	}
	fmt.Fprintf(s.out, "%s from %s to %s: %s %s → ", m.label, m.from, m.to, res.Decision, res.Reason)
	switch res.Decision {
	case policy.Allow:
		fmt.Fprintln(s.out, "delivered")
	case policy.Request:
		fmt.Fprintln(s.out, "put in the message-request folder, without a notification")
	case policy.Hold:
		if res.HoldUntil.IsZero() {
			// supervision_unavailable: nobody knows when Hearth will answer,
			// so the message is checked again, never delivered blind.
			fmt.Fprintln(s.out, "kept; will be checked again in 30 seconds")
		} else {
			fmt.Fprintf(s.out, "scheduled for %s\n", res.HoldUntil.Format(time.RFC3339))
		}
	default: // policy.Deny, and anything unknown
		fmt.Fprintf(s.out, "refused; the sender is told it could not be delivered (%s)\n", res.Reason)
	}
}

// raiseMinVersion records that teen's rules are at least version v.
func (s *service) raiseMinVersion(teen string, v int64) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.minVersion[teen] = max(s.minVersion[teen], v)
}

// webhookHandler receives Hearth's webhooks: verify first (with the same
// secret that signs event reports), then act by type, and answer 2xx only
// once the webhook is handled, so that Hearth retries otherwise.
func (s *service) webhookHandler(secret string) http.Handler {
	var seen sync.Map // webhook-id → struct{}: retries of one delivery repeat the ID
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			w.Header().Set("Allow", http.MethodPost)
			http.Error(w, "POST only", http.StatusMethodNotAllowed)
			return
		}
		hook, err := client.ParseWebhook(secret, r, time.Now())
		switch {
		case errors.Is(err, client.ErrInvalidWebhook):
			fmt.Fprintf(s.out, "webhook refused: %v\n", err)
			http.Error(w, "not a webhook from Hearth", http.StatusBadRequest)
			return
		case err != nil:
			fmt.Fprintf(s.out, "webhook not handled: %v\n", err)
			http.Error(w, "webhook not handled", http.StatusInternalServerError)
			return
		}
		if _, dup := seen.LoadOrStore(hook.ID, struct{}{}); dup {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		switch hook.Type {
		case client.WebhookPolicyUpdated:
			// DESIGN.md does not fix the payload; a teen ID and the new
			// version are what a service needs to keep checks current.
			var d struct {
				TeenID  string `json:"teen_id"`
				Version int64  `json:"version"`
			}
			if json.Unmarshal(hook.Data, &d) == nil && d.TeenID != "" && d.Version > 0 {
				s.raiseMinVersion(d.TeenID, d.Version)
			}
			fmt.Fprintf(s.out, "webhook %s: %s, checks now ask for rules this new\n", hook.Type, hook.Data)
		case client.WebhookSupervisionStarted, client.WebhookSupervisionEnded:
			fmt.Fprintf(s.out, "webhook %s: %s\n", hook.Type, hook.Data)
		default:
			fmt.Fprintf(s.out, "webhook %s (not used here)\n", hook.Type)
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// serveWebhooks receives webhooks on addr until ctx ends.
func (s *service) serveWebhooks(ctx context.Context, addr, secret string) error {
	if secret == "" {
		return errors.New("-webhooks needs -secret: webhooks are verified with the client's whsec_ secret")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("/hearth/webhooks", s.webhookHandler(secret))
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	fmt.Fprintf(s.out, "receiving webhooks at http://%s/hearth/webhooks; Ctrl-C to stop\n", ln.Addr())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ln) }()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(shutdown)
}
