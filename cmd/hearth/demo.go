package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"reflect"
	"strings"
	"time"

	"github.com/hearth-safety/hearth/models"
	"github.com/hearth-safety/hearth/models/store"
	"github.com/hearth-safety/hearth/policy"
	"github.com/hearth-safety/hearth/web"
)

// demoAccounts are the documented demo people (DESIGN.md, "Demo world").
var demoAccounts = []store.NewUser{
	{Email: "parent@example.com", Name: "Priya Parent", Password: "demo-parent-pass", Role: models.RoleGuardian},
	{Email: "coparent@example.com", Name: "Chris Coparent", Password: "demo-coparent-pass", Role: models.RoleGuardian},
	{Email: "support@example.com", Name: "Sasha Support", Password: "demo-support-pass", Role: models.RoleLead},
	{Email: "agent@example.com", Name: "Alex Agent", Password: "demo-agent-pass", Role: models.RoleStaff},
}

// demoLead is the demo's support lead, who signs in with a second factor.
const demoLead = "support@example.com"

// demoDispute is the open case Leo filed, waiting in the support queue.
var demoDispute = store.NewDispute{Kind: models.DisputeRuleUnfair,
	Description: "Messages from accounts less than a week old go to my requests. My new team's coach just made an account, " +
		"so I keep missing practice updates. Could the limit be shorter, or could the coach be an approved contact?"}

// loadGuardian supervises the teens of `hearth demo --teens N`, so that
// load tests have N supervised teens without touching the documented
// demo families.
var loadGuardian = store.NewUser{Email: "load@example.com", Name: "Load Test Guardian", Password: "demo-load-pass", Role: models.RoleGuardian}

// loadTeenPrefix starts the platform IDs of the load-test teens:
// tk_load_000001, tk_load_000002, …
const loadTeenPrefix = "tk_load_"

// demoTeens are the documented demo teens with their ages today.
var demoTeens = []struct {
	ID, Name, Zone string
	Age            int
}{
	{"tk_maya", "Maya", "Europe/London", 14},
	{"tk_leo", "Leo", "America/New_York", 16},
	{"tk_sam", "Sam", "Asia/Tokyo", 15},
	{"tk_ava", "Ava", "Europe/Berlin", 17},
}

// birthMonthForAge returns a birth month that makes someone age years old
// now and for the next several months: born age years and two months ago.
func birthMonthForAge(now time.Time, age int) string {
	t := time.Date(now.Year()-age, now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -2, 0)
	return t.Format("2006-01")
}

func demoCmd(ctx context.Context, st *store.Store, cfg web.Config, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	force := fs.Bool("force", false, "seed even though the database already has data (existing demo records are reused)")
	apiKey := fs.String("api-key", "", "use this API key for the demo client (32+ characters of A-Z a-z 0-9 _)")
	secret := fs.String("webhook-secret", "", "use this webhook secret (whsec_ and base64 of 24–64 bytes)")
	staffSecret := fs.String("staff-totp-secret", "", "enrol "+demoLead+"'s second factor with this TOTP key (base32, 26+ characters) instead of at first sign-in")
	extra := fs.Int("teens", 0, "also add N supervised teens tk_load_000001… for load tests, each linked to "+loadGuardian.Email+" with the age-default rules")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *extra < 0 || *extra > 1_000_000 {
		return errors.New("demo: --teens must be between 0 and 1000000")
	}
	// Check the client's credentials before writing anything, so a typo
	// cannot leave a half-filled database behind.
	if *apiKey != "" {
		if err := store.ValidateAPIKey(*apiKey); err != nil {
			return fmt.Errorf("demo: --api-key %s", models.FieldErrors(err)["api_key"])
		}
	}
	if *secret != "" {
		if err := store.ValidateWebhookSecret(*secret); err != nil {
			return fmt.Errorf("demo: --webhook-secret %s", models.FieldErrors(err)["webhook_secret"])
		}
	}
	if *staffSecret != "" {
		if err := store.ValidateTOTPSecret(*staffSecret); err != nil {
			return fmt.Errorf("demo: --staff-totp-secret %s", models.FieldErrors(err)["secret"])
		}
	}
	empty, err := st.Empty(ctx)
	if err != nil {
		return err
	}
	if !empty && !*force {
		return errors.New("demo: the database already has accounts or clients; the demo only fills an empty one (use --force to add the demo world anyway)")
	}
	now := st.Now()

	fmt.Fprintln(stdout, "Creating demo accounts…")
	for _, a := range demoAccounts {
		_, err := st.CreateUser(ctx, a)
		switch {
		case errors.Is(err, models.ErrConflict):
			fmt.Fprintf(stdout, "  %s exists already, kept\n", a.Email)
		case err != nil:
			return fmt.Errorf("demo: create %s: %w", a.Email, err)
		default:
			fmt.Fprintf(stdout, "  %-22s %-20s %s\n", a.Email, a.Password, a.Role.Label())
		}
	}

	fmt.Fprintln(stdout, "Creating the demo service client…")
	client, key, err := st.CreateClient(ctx, store.NewClient{Name: "demo-messenger", Key: *apiKey, Secret: *secret})
	switch {
	case errors.Is(err, models.ErrConflict):
		cs, lerr := st.Clients(ctx)
		if lerr != nil {
			return lerr
		}
		for _, c := range cs {
			if c.Name == "demo-messenger" {
				client = c
			}
		}
		key = "(unchanged: shown only when the client was created)"
		fmt.Fprintln(stdout, "  demo-messenger exists already, kept")
	case err != nil:
		return fmt.Errorf("demo: %w", err)
	}

	fmt.Fprintln(stdout, "Provisioning demo teens…")
	for _, t := range demoTeens {
		if _, _, err := st.UpsertTeen(ctx, client.ID, t.ID, store.TeenInput{DisplayName: t.Name, BirthMonth: birthMonthForAge(now, t.Age), TimeZone: t.Zone}); err != nil {
			return fmt.Errorf("demo: provision %s: %w", t.ID, err)
		}
		fmt.Fprintf(stdout, "  %-8s %-6s age %d, %s\n", t.ID, t.Name, t.Age, t.Zone)
	}
	fmt.Fprintln(stdout, "Linking guardians and teens (each teen accepts an invitation)…")
	samCode, err := demoLinks(ctx, st, client.ID, stdout)
	if err != nil {
		return err
	}
	if err := demoRules(ctx, st, client.ID, stdout); err != nil {
		return err
	}

	if err := demoDisputes(ctx, st, client.ID, stdout); err != nil {
		return err
	}

	fmt.Fprintln(stdout, "Adding a few weeks of alerts for Maya and Leo…")
	if err := demoAlerts(ctx, st, client.ID, now, stdout); err != nil {
		return err
	}

	if *extra > 0 {
		if err := demoLoadTeens(ctx, st, client.ID, *extra, stdout); err != nil {
			return err
		}
	}

	if samCode != "" {
		fmt.Fprintf(stdout, "\nSam's pending invitation code from parent@example.com: %s (valid 48 hours)\n", samCode)
	}
	fmt.Fprintf(stdout, "\nDemo service client %q\n  API key:        %s\n  Webhook secret: %s\n", client.Name, key, client.WebhookSecret)
	fmt.Fprintf(stdout, "\nSign in at %s/login as parent@example.com / demo-parent-pass,\nor as support at %s/staff/login with support@example.com / demo-support-pass (a lead)\nor agent@example.com / demo-agent-pass (an agent).\n", cfg.BaseURL, cfg.BaseURL)
	if err := demoStaffSecondFactor(ctx, st, *staffSecret, stdout); err != nil {
		return err
	}
	fmt.Fprintf(stdout, "A teen signs in through a link: curl -X POST -H 'Authorization: Bearer <API key>' %s/api/v1/teens/tk_maya/signin-links\n", cfg.BaseURL)
	return nil
}

// demoLinks links the demo guardians to Maya and Leo the way people do it
// (an invitation the teen accepts) and leaves one invitation waiting for
// Sam. It returns Sam's code ("" when the links were there already).
// demoRuleSets are Maya's and Leo's rules as the demo world documents
// them; the other fields start from the age defaults.
var demoRuleSets = map[string]func(p *models.DMPolicy){
	"tk_maya": func(p *models.DMPolicy) {
		p.Audience = policy.AudienceFriends
		p.QuietEnabled, p.QuietStart, p.QuietEnd, p.QuietApprovedExempt = true, 21*60+30, 7*60, true
		p.BlockAdultStrangers, p.MediaFriendsOnly, p.MinSenderAccountAgeDays = true, true, 0
		p.Approved = []models.Contact{{PlatformUserID: "u_grandma", Label: "Grandma"}}
		p.Blocked = []models.Contact{{PlatformUserID: "u_stranger9", Label: "Stranger who kept messaging"}}
	},
	"tk_leo": func(p *models.DMPolicy) {
		p.Audience = policy.AudienceEveryone
		p.QuietEnabled = false
		p.BlockAdultStrangers, p.MediaFriendsOnly, p.MinSenderAccountAgeDays = false, false, 7
		p.Approved, p.Blocked = nil, nil
	},
}

// demoRules sets Maya's and Leo's rules, as the parent, unless they are set
// already.
func demoRules(ctx context.Context, st *store.Store, clientID int64, stdout io.Writer) error {
	parent, err := st.UserByEmail(ctx, "parent@example.com")
	if err != nil {
		return err
	}
	as := models.Actor{UserID: parent.ID, Role: models.RoleGuardian}
	for _, id := range []string{"tk_maya", "tk_leo"} {
		t, err := st.TeenByPlatformID(ctx, clientID, id)
		if err != nil {
			return err
		}
		cur, err := st.TeenPolicy(ctx, as, t.ID)
		if err != nil {
			return fmt.Errorf("demo: %s's rules: %w", t.DisplayName, err)
		}
		want := cur
		want.Approved = append([]models.Contact(nil), cur.Approved...)
		want.Blocked = append([]models.Contact(nil), cur.Blocked...)
		demoRuleSets[id](&want)
		if reflect.DeepEqual(cur.Engine(time.UTC), want.Engine(time.UTC)) {
			fmt.Fprintf(stdout, "  %s's rules are set already, kept\n", t.DisplayName)
			continue
		}
		if _, err := st.UpdatePolicy(ctx, as, t.ID, store.PolicyChange{Rules: want, ExpectVersion: cur.Version}); err != nil {
			return fmt.Errorf("demo: set %s's rules: %w", t.DisplayName, err)
		}
		fmt.Fprintf(stdout, "  set %s's rules\n", t.DisplayName)
	}
	return nil
}

func demoLinks(ctx context.Context, st *store.Store, clientID int64, stdout io.Writer) (string, error) {
	parent, err := st.UserByEmail(ctx, "parent@example.com")
	if err != nil {
		return "", err
	}
	coparent, err := st.UserByEmail(ctx, "coparent@example.com")
	if err != nil {
		return "", err
	}
	asGuardian := func(u models.User) models.Actor { return models.Actor{UserID: u.ID, Role: models.RoleGuardian} }
	link := func(g models.User, teenID, name string) error {
		t, err := st.TeenByPlatformID(ctx, clientID, teenID)
		if err != nil {
			return err
		}
		_, code, err := st.CreateInvitation(ctx, asGuardian(g), name)
		if err != nil {
			return fmt.Errorf("demo: invite %s: %w", name, err)
		}
		_, err = st.AcceptInvitation(ctx, models.Actor{UserID: t.UserID, Role: models.RoleTeen}, code)
		switch {
		case errors.Is(err, models.ErrAlreadySupervised):
			fmt.Fprintf(stdout, "  %s already supervises %s, kept\n", g.Name, name)
		case err != nil:
			return fmt.Errorf("demo: %s accepts %s: %w", name, g.Name, err)
		default:
			fmt.Fprintf(stdout, "  %s supervises %s\n", g.Name, name)
		}
		return nil
	}
	for _, l := range []struct {
		g          models.User
		teen, name string
	}{{parent, "tk_maya", "Maya"}, {coparent, "tk_maya", "Maya"}, {parent, "tk_leo", "Leo"}} {
		if err := link(l.g, l.teen, l.name); err != nil {
			return "", err
		}
	}
	invs, err := st.Invitations(ctx, asGuardian(parent))
	if err != nil {
		return "", err
	}
	for _, inv := range invs {
		if inv.Label == "Sam" && inv.State == models.InvitationPending && !inv.Expired(st.Now()) {
			fmt.Fprintln(stdout, "  an invitation for Sam is already waiting, kept")
			return "", nil
		}
	}
	_, code, err := st.CreateInvitation(ctx, asGuardian(parent), "Sam")
	if err != nil {
		return "", fmt.Errorf("demo: invite Sam: %w", err)
	}
	fmt.Fprintln(stdout, "  Priya Parent invited Sam (not accepted yet)")
	return code, nil
}

// demoDisputes files Leo's open case ("a rule is unfair"), unless Leo has
// one already, so the support queue is not empty.
func demoDisputes(ctx context.Context, st *store.Store, clientID int64, stdout io.Writer) error {
	fmt.Fprintln(stdout, "Filing Leo's support case…")
	leo, err := st.TeenByPlatformID(ctx, clientID, "tk_leo")
	if err != nil {
		return err
	}
	asLeo := models.Actor{UserID: leo.UserID, Role: models.RoleTeen}
	mine, err := st.FilerDisputes(ctx, asLeo)
	if err != nil {
		return err
	}
	if len(mine) > 0 {
		fmt.Fprintln(stdout, "  Leo's case exists already, kept")
		return nil
	}
	d, err := st.OpenDispute(ctx, asLeo, demoDispute)
	if err != nil {
		return fmt.Errorf("demo: Leo's case: %w", err)
	}
	fmt.Fprintf(stdout, "  case #%d from Leo: %s (open, in the queue at /staff)\n", d.ID, d.Kind.Label())
	return nil
}

// demoLoadTeens adds n supervised teens for load tests (--teens N): each
// linked to loadGuardian (created here when missing) with the age-default
// rules, written in bulk by store.SeedSupervisedTeens (see there for what
// it does and does not write). Teens that exist already are kept as they
// are, so --force completes an interrupted run.
func demoLoadTeens(ctx context.Context, st *store.Store, clientID int64, n int, stdout io.Writer) error {
	g, err := st.CreateUser(ctx, loadGuardian)
	switch {
	case errors.Is(err, models.ErrConflict):
		if g, err = st.UserByEmail(ctx, loadGuardian.Email); err != nil {
			return fmt.Errorf("demo: %s: %w", loadGuardian.Email, err)
		}
		fmt.Fprintf(stdout, "  %s exists already, kept\n", loadGuardian.Email)
	case err != nil:
		return fmt.Errorf("demo: create %s: %w", loadGuardian.Email, err)
	default:
		fmt.Fprintf(stdout, "  %-22s %-20s %s (supervises the load-test teens)\n", loadGuardian.Email, loadGuardian.Password, loadGuardian.Role.Label())
	}
	fmt.Fprintf(stdout, "Seeding %d supervised teens (%s to %s), supervised by %s…\n",
		n, store.SeedPlatformID(loadTeenPrefix, 1), store.SeedPlatformID(loadTeenPrefix, n), loadGuardian.Email)
	started := time.Now()
	const every = 10_000
	next := every
	err = st.SeedSupervisedTeens(ctx, clientID, g.ID, loadTeenPrefix, n, func(done int) {
		for done >= next && next < n {
			fmt.Fprintf(stdout, "  seeded %d of %d supervised teens\n", next, n)
			next += every
		}
	})
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	fmt.Fprintf(stdout, "  seeded %d of %d supervised teens in %s\n", n, n, time.Since(started).Round(time.Millisecond))
	return nil
}

// demoStaffSecondFactor says how the demo lead passes the second factor:
// by setting up an authenticator app at the first sign-in (the real flow),
// or, with --staff-totp-secret, with the key given, enrolled now, so that
// scripts can compute codes (oathtool --totp -b KEY). Staff sign-in has no
// way around the second factor, not even in the demo.
func demoStaffSecondFactor(ctx context.Context, st *store.Store, secret string, stdout io.Writer) error {
	if secret == "" {
		fmt.Fprintf(stdout, "Support staff use a second factor: at the first sign-in %s scans a QR code into an\n"+
			"authenticator app (or types the key shown), confirms a code, and is shown recovery codes once.\n"+
			"(hearth demo --staff-totp-secret KEY enrols it in advance with a key you choose.)\n", demoLead)
		return nil
	}
	lead, err := st.UserByEmail(ctx, demoLead)
	if err != nil {
		return fmt.Errorf("demo: %s: %w", demoLead, err)
	}
	codes, err := st.PreEnrolTOTP(ctx, lead.ID, secret)
	switch {
	case errors.Is(err, models.ErrConflict):
		fmt.Fprintf(stdout, "%s has a second factor already, kept (hearth user reset-second-factor --email %s starts over).\n", demoLead, demoLead)
		return nil
	case models.FieldErrors(err) != nil:
		return fmt.Errorf("demo: --staff-totp-secret %s", models.FieldErrors(err)["secret"])
	case err != nil:
		return fmt.Errorf("demo: %w", err)
	}
	fmt.Fprintf(stdout, "Second factor of %s enrolled with the TOTP key you gave (30 s, 6 digits, SHA-1);\n"+
		"codes: oathtool --totp -b %s\nRecovery codes (each works once):\n", demoLead, strings.ReplaceAll(secret, " ", ""))
	for _, c := range codes {
		fmt.Fprintf(stdout, "  %s\n", c)
	}
	return nil
}

// demoAlert is one of the demo's alerts: ago before the demo runs, read by
// the parent when read is set.
type demoAlert struct {
	teen, other string
	dir         models.Direction
	cat         models.Category
	sev         models.Severity
	act         models.Action
	ago         time.Duration
	n           int
	read        bool
}

// demoAlertList is a few weeks of varied alerts for Maya and Leo: a high
// grooming alert from a stranger, a self-harm check-in, a bullying burst
// from u_9, spam, a scam, and one of Leo's own messages flagged. The older
// ones are read by the parent; the coparent has read nothing.
var demoAlertList = []demoAlert{
	{"tk_maya", "u_9", models.DirectionInbound, models.CategoryBullying, models.SeverityMedium, models.ActionMessageBlocked, 24*day + 5*time.Hour, 1, true},
	{"tk_maya", "u_promo_deals", models.DirectionInbound, models.CategorySpam, models.SeverityLow, models.ActionMessageHeld, 22 * day, 1, true},
	{"tk_maya", "u_9", models.DirectionInbound, models.CategoryHarassment, models.SeverityMedium, models.ActionSenderWarned, 17*day + 3*time.Hour, 1, true},
	{"tk_maya", "u_friend_jo", models.DirectionInbound, models.CategorySelfHarm, models.SeverityMedium, models.ActionNone, 9*day + 2*time.Hour, 1, false},
	{"tk_maya", "u_promo_deals", models.DirectionInbound, models.CategorySpam, models.SeverityLow, models.ActionMessageBlocked, 6 * day, 4, false},
	{"tk_maya", "u_9", models.DirectionInbound, models.CategoryBullying, models.SeverityHigh, models.ActionMessageBlocked, 2*day + 4*time.Hour, 3, false},
	{"tk_maya", "u_stranger9", models.DirectionInbound, models.CategoryGrooming, models.SeverityHigh, models.ActionSenderSuspended, 6 * time.Hour, 1, false},
	{"tk_leo", "u_win_big", models.DirectionInbound, models.CategoryScam, models.SeverityMedium, models.ActionMessageBlocked, 19 * day, 1, true},
	{"tk_leo", "u_gamer_x", models.DirectionInbound, models.CategoryViolence, models.SeverityLow, models.ActionNone, 12 * day, 1, true},
	{"tk_leo", "u_rival", models.DirectionOutbound, models.CategoryHarassment, models.SeverityMedium, models.ActionSenderWarned, 5*day + 7*time.Hour, 1, false},
	{"tk_leo", "u_botnet_44", models.DirectionInbound, models.CategorySpam, models.SeverityLow, models.ActionMessageBlocked, 3 * day, 6, false},
	{"tk_leo", "u_win_big", models.DirectionInbound, models.CategoryScam, models.SeverityHigh, models.ActionSenderRestricted, 20 * time.Hour, 1, false},
}

const day = 24 * time.Hour

// demoAlerts stores demoAlertList, as the messaging service would have
// reported it, unless a run before did.
func demoAlerts(ctx context.Context, st *store.Store, clientID int64, now time.Time, stdout io.Writer) error {
	parent, err := st.UserByEmail(ctx, "parent@example.com")
	if err != nil {
		return err
	}
	in := make([]store.SeedAlert, len(demoAlertList))
	for i, a := range demoAlertList {
		at := now.Add(-a.ago).Truncate(time.Minute)
		in[i] = store.SeedAlert{Occurrences: a.n, Event: models.Event{ID: fmt.Sprintf("demo_evt_%03d", i+1), TeenID: a.teen,
			CounterpartID: a.other, Direction: a.dir, Category: a.cat, Severity: a.sev, ActionTaken: a.act, OccurredAt: at}}
		if a.read {
			in[i].ReadBy = []int64{parent.ID}
		}
	}
	_, err = st.SeedAlerts(ctx, clientID, in)
	switch {
	case errors.Is(err, models.ErrConflict):
		fmt.Fprintln(stdout, "  demo alerts exist already, kept")
		return nil
	case err != nil:
		return fmt.Errorf("demo: alerts: %w", err)
	}
	fmt.Fprintf(stdout, "  %d alerts for Maya and Leo over the last 4 weeks (the older ones read by %s)\n", len(in), parent.Email)
	return nil
}
