package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/term"

	"github.com/hearth-safety/hearth/models"
	"github.com/hearth-safety/hearth/models/store"
	"github.com/hearth-safety/hearth/web"
)

const usage = `Hearth: supervision of teens' direct messages without reading them.

Usage:
  hearth [serve]                     run the web server (migrates first)
  hearth migrate                     bring the database schema up to date
  hearth user create --role ROLE --email EMAIL [--name NAME]
                                     create a staff (agent), lead or guardian account;
                                     the password is asked for, or read from stdin
  hearth user disable --email EMAIL  stop an account signing in and end its sessions
  hearth user reset-second-factor --email EMAIL
                                     make a staff member set up their authenticator
                                     app again (lost phone) and end their sessions
  hearth client create --name NAME [--webhook-url URL]
                                     create a messaging-service client; prints its API
                                     key and webhook secret once
  hearth client list                 list service clients
  hearth client revoke --name NAME   revoke a client's key, at once
  hearth client rotate-secret NAME [--grace 24h] [--secret whsec_...]
                                     give a client a new webhook secret; the old one keeps
                                     working (and signing) for the grace period (0 to 720h)
  hearth client set-webhook --name NAME --url URL
                                     change where a client receives webhooks ("" turns them off)
  hearth client deliveries --name NAME [--state STATE] [--limit N]
                                     show a client's newest webhook deliveries (N up to 1000,
                                     default 50; STATE pending, delivered, failed or expired)
  hearth demo [--force] [--api-key KEY] [--webhook-secret SECRET] [--teens N]
            [--staff-totp-secret BASE32]
                                     fill an empty database with the demo world;
                                     --teens N adds N supervised teens for load tests;
                                     --staff-totp-secret enrols the demo lead's second
                                     factor with that key (else they enrol at first sign-in)
  hearth help                        this text

Configuration comes from HEARTH_* environment variables:
`

// run is the whole program, testable: arguments, environment and streams
// come in, an error goes out.
func run(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) error {
	cmd := "serve"
	if len(args) > 0 && (!strings.HasPrefix(args[0], "-") || args[0] == "-h" || args[0] == "--help") {
		cmd, args = args[0], args[1:]
	}
	if cmd == "help" || cmd == "-h" || cmd == "--help" {
		printUsage(stdout)
		return nil
	}
	cfg, err := web.Load(getenv)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	logger := web.NewLogger(cfg, stderr)
	switch cmd {
	case "serve", "migrate":
		if len(args) > 0 {
			printUsage(stderr)
			return fmt.Errorf("%s takes no arguments, got %q", cmd, strings.Join(args, " "))
		}
	}
	switch cmd {
	case "serve":
		return web.Serve(ctx, cfg, logger, stdout)
	case "migrate":
		st, err := web.OpenStore(ctx, cfg, logger)
		if err != nil {
			return err
		}
		defer st.Close()
		cur, _, err := st.MigrationVersions(ctx)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Database schema is at version %d.\n", cur)
		return nil
	case "user":
		return withStore(ctx, cfg, logger, func(st *store.Store) error { return userCmd(ctx, st, args, stdin, stdout, stderr) })
	case "client":
		return withStore(ctx, cfg, logger, func(st *store.Store) error { return clientCmd(ctx, st, args, stdout, stderr) })
	case "demo":
		return withStore(ctx, cfg, logger, func(st *store.Store) error { return demoCmd(ctx, st, cfg, args, stdout, stderr) })
	}
	printUsage(stderr)
	return fmt.Errorf("unknown command %q", cmd)
}

func printUsage(w io.Writer) {
	fmt.Fprint(w, usage)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, s := range web.Settings {
		fmt.Fprintf(tw, "  %s\t%s\n", s.Name, s.Default)
	}
	tw.Flush()
}

func withStore(ctx context.Context, cfg web.Config, logger *slog.Logger, fn func(*store.Store) error) error {
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	_ = logger
	st, err := web.OpenStore(ctx, cfg, quiet)
	if err != nil {
		return err
	}
	defer st.Close()
	return fn(st)
}

func userCmd(ctx context.Context, st *store.Store, args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("user: say create, disable or reset-second-factor, e.g. hearth user create --role staff --email agent@example.com")
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("user "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	email := fs.String("email", "", "email address")
	switch sub {
	case "create":
		roleName := fs.String("role", "", "staff, lead or guardian")
		name := fs.String("name", "", "display name (default: the part of the email before @)")
		if err := fs.Parse(args); err != nil {
			return err
		}
		role, err := models.ParseRole(*roleName)
		if err != nil || role == models.RoleTeen {
			return errors.New("user create: --role must be staff, lead or guardian (teens come from the messaging service)")
		}
		if *email == "" {
			return errors.New("user create: --email is required")
		}
		if *name == "" {
			*name, _, _ = strings.Cut(*email, "@")
		}
		pw, err := readPassword(stdin, stdout)
		if err != nil {
			return err
		}
		u, err := st.CreateUser(ctx, store.NewUser{Email: *email, Name: *name, Password: pw, Role: role})
		if errors.Is(err, models.ErrConflict) {
			return fmt.Errorf("user create: %s already has an account", models.NormalizeEmail(*email))
		}
		if fe := models.FieldErrors(err); fe != nil {
			return fmt.Errorf("user create: %s", err)
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Created %s account %s (%s).\n", strings.ToLower(u.Role.Label()), u.Email, u.Name)
		if role.IsStaff() {
			fmt.Fprintln(stdout, "They sign in at /staff/login and set up an authenticator app (second factor) the first time.")
		}
		return nil
	case "disable":
		if err := fs.Parse(args); err != nil {
			return err
		}
		u, err := st.UserByEmail(ctx, *email)
		if errors.Is(err, models.ErrNotFound) {
			return fmt.Errorf("user disable: no account with email %q", *email)
		} else if err != nil {
			return fmt.Errorf("user disable: %w", err)
		}
		if err := st.DisableUser(ctx, u.ID); err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Disabled %s; their sessions have ended.\n", u.Email)
		return nil
	case "reset-second-factor":
		if err := fs.Parse(args); err != nil {
			return err
		}
		u, err := st.UserByEmail(ctx, *email)
		if errors.Is(err, models.ErrNotFound) {
			return fmt.Errorf("user reset-second-factor: no account with email %q", *email)
		} else if err != nil {
			return fmt.Errorf("user reset-second-factor: %w", err)
		}
		switch err := st.ResetSecondFactorByOperator(ctx, u.ID); {
		case errors.Is(err, models.ErrNotFound):
			return fmt.Errorf("user reset-second-factor: %s is not a support agent or lead", u.Email)
		case errors.Is(err, models.ErrConflict):
			return fmt.Errorf("user reset-second-factor: %s has no second factor to reset; they set one up at their next sign-in", u.Email)
		case err != nil:
			return err
		}
		fmt.Fprintf(stdout, "Reset the second factor of %s; their sessions have ended. They set up an authenticator app at their next sign-in.\n", u.Email)
		return nil
	}
	return fmt.Errorf("user: unknown subcommand %q (use create, disable or reset-second-factor)", sub)
}

// readPassword prompts on a terminal without echo, or reads one line from a
// pipe (for scripts: echo "$PW" | hearth user create ...).
func readPassword(stdin io.Reader, stdout io.Writer) (string, error) {
	if f, ok := stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(stdout, "Password (8–128 characters): ")
		b, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stdout)
		if err != nil {
			return "", err
		}
		fmt.Fprint(stdout, "Same password again: ")
		b2, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(stdout)
		if err != nil {
			return "", err
		}
		if string(b) != string(b2) {
			return "", errors.New("the two passwords are different")
		}
		return string(b), nil
	}
	line, err := bufio.NewReader(stdin).ReadString('\n')
	if err != nil && (err != io.EOF || line == "") {
		return "", errors.New("no password given: type it at the prompt or pipe it on stdin")
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func clientCmd(ctx context.Context, st *store.Store, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		return errors.New("client: say create, list, revoke, rotate-secret, set-webhook or deliveries")
	}
	sub, args := args[0], args[1:]
	fs := flag.NewFlagSet("client "+sub, flag.ContinueOnError)
	fs.SetOutput(stderr)
	name := fs.String("name", "", "client name")
	switch sub {
	case "create":
		hook := fs.String("webhook-url", "", "where Hearth posts signed change webhooks")
		if err := fs.Parse(args); err != nil {
			return err
		}
		c, key, err := st.CreateClient(ctx, store.NewClient{Name: *name, WebhookURL: *hook})
		if errors.Is(err, models.ErrConflict) {
			return fmt.Errorf("client create: a client named %q exists already", *name)
		}
		if err != nil {
			return fmt.Errorf("client create: %w", err)
		}
		fmt.Fprintf(stdout, "Created service client %q.\n\n", c.Name)
		fmt.Fprintf(stdout, "API key (send as Authorization: Bearer <key>):\n  %s\n", key)
		fmt.Fprintf(stdout, "Webhook secret (signs moderation events and Hearth's webhooks):\n  %s\n\n", c.WebhookSecret)
		fmt.Fprintln(stdout, "Store both now: the key is shown only this once.")
		return nil
	case "list":
		if err := fs.Parse(args); err != nil {
			return err
		}
		cs, err := st.Clients(ctx)
		if err != nil {
			return err
		}
		if len(cs) == 0 {
			fmt.Fprintln(stdout, "No service clients yet. Create one with: hearth client create --name NAME")
			return nil
		}
		now := st.Now()
		tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
		fmt.Fprintln(tw, "NAME\tKEY\tCREATED\tSTATE\tOLD SECRET\tWEBHOOK URL")
		for _, c := range cs {
			state := "active"
			if c.Revoked() {
				state = "revoked " + c.RevokedAt.Format("2006-01-02")
			}
			// Whether a rotated-out secret still works, and until when.
			old := "-"
			if len(c.WebhookSecrets(now)) > 1 && !c.Revoked() {
				old = "until " + c.PreviousSecretExpiresAt.UTC().Format("2006-01-02 15:04 MST")
			}
			fmt.Fprintf(tw, "%s\t%s…\t%s\t%s\t%s\t%s\n", c.Name, c.KeyPrefix, c.CreatedAt.Format("2006-01-02"), state, old, c.WebhookURL)
		}
		return tw.Flush()
	case "revoke":
		if err := fs.Parse(args); err != nil {
			return err
		}
		if err := st.RevokeClient(ctx, *name); errors.Is(err, models.ErrNotFound) {
			return fmt.Errorf("client revoke: no active client named %q", *name)
		} else if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Revoked %q: its key stopped working.\n", *name)
		return nil
	case "set-webhook":
		hook := fs.String("url", "", `where Hearth posts signed change webhooks; "" turns them off`)
		if err := fs.Parse(args); err != nil {
			return err
		}
		given := false
		fs.Visit(func(f *flag.Flag) { given = given || f.Name == "url" })
		if *name == "" || !given {
			return errors.New(`client set-webhook: --name and --url are required (--url "" turns webhooks off)`)
		}
		err := st.SetClientWebhookURL(ctx, *name, *hook)
		if errors.Is(err, models.ErrNotFound) {
			return fmt.Errorf("client set-webhook: no active client named %q", *name)
		} else if err != nil {
			return fmt.Errorf("client set-webhook: %w", err)
		}
		if *hook == "" {
			fmt.Fprintf(stdout, "Webhooks for %q are off. Deliveries still pending will fail.\n", *name)
		} else {
			fmt.Fprintf(stdout, "Webhooks for %q now go to %s, pending ones included.\n", *name, *hook)
		}
		return nil
	case "rotate-secret":
		return rotateSecretCmd(ctx, st, fs, name, args, stdout)
	case "deliveries":
		return deliveriesCmd(ctx, st, fs, name, args, stdout)
	}
	return fmt.Errorf("client: unknown subcommand %q (use create, list, revoke, rotate-secret, set-webhook or deliveries)", sub)
}

// rotateSecretCmd gives a client a new webhook secret and prints it, with
// when the old one stops working. The name comes first (or as --name), and
// the flags may come before or after it.
func rotateSecretCmd(ctx context.Context, st *store.Store, fs *flag.FlagSet, name *string, args []string, stdout io.Writer) error {
	grace := fs.Duration("grace", 24*time.Hour, "how long the old secret keeps working (0 to 720h)")
	secret := fs.String("secret", "", "the new secret (whsec_ and the base64 of 24–64 bytes); generated when not given")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if rest := fs.Args(); len(rest) > 0 {
		if *name != "" {
			return fmt.Errorf("client rotate-secret: name the client once (got --name %q and %q)", *name, rest[0])
		}
		*name = rest[0]
		if err := fs.Parse(rest[1:]); err != nil {
			return err
		}
		if len(fs.Args()) > 0 {
			return fmt.Errorf("client rotate-secret: unexpected %q; usage: hearth client rotate-secret NAME [--grace 24h] [--secret whsec_...]", strings.Join(fs.Args(), " "))
		}
	}
	if *name == "" {
		return errors.New("client rotate-secret: name the client: hearth client rotate-secret NAME [--grace 24h] [--secret whsec_...]")
	}
	c, err := st.RotateWebhookSecret(ctx, *name, *grace, *secret)
	switch {
	case errors.Is(err, models.ErrNotFound):
		return fmt.Errorf("client rotate-secret: no active client named %q", *name)
	case err != nil:
		fe := models.FieldErrors(err)
		if msg, ok := fe["grace"]; ok {
			return fmt.Errorf("client rotate-secret: --grace %v %s", *grace, msg)
		}
		if msg, ok := fe["webhook_secret"]; ok {
			// The secret given is never repeated: it may be a real one.
			return fmt.Errorf("client rotate-secret: --secret %s", msg)
		}
		return fmt.Errorf("client rotate-secret: %w", err)
	}
	fmt.Fprintf(stdout, "New webhook secret for %q (signs moderation events and Hearth's webhooks):\n  %s\n\n", c.Name, c.WebhookSecret)
	if len(c.WebhookSecrets(st.Now())) > 1 {
		fmt.Fprintf(stdout, "The old secret keeps working until %s (%v from now): Hearth accepts events\n", c.PreviousSecretExpiresAt.UTC().Format("2006-01-02 15:04:05 MST"), *grace)
		fmt.Fprintln(stdout, "signed with either, and signs its webhooks with both. Switch the messaging service before then.")
	} else {
		fmt.Fprintln(stdout, "The old secret stopped working now (--grace 0).")
	}
	return nil
}

// deliveriesCmd prints a client's newest webhook deliveries, newest first.
func deliveriesCmd(ctx context.Context, st *store.Store, fs *flag.FlagSet, name *string, args []string, stdout io.Writer) error {
	stateName := fs.String("state", "", "only deliveries in this state: pending, delivered, failed or expired")
	limit := fs.Int("limit", 50, "how many of the newest to show (1 to 1000)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *name == "" {
		return errors.New("client deliveries: --name is required")
	}
	f := models.WebhookFilter{ClientName: *name, Limit: *limit}
	if *stateName != "" {
		state, err := models.ParseWebhookState(*stateName)
		if err != nil {
			return errors.New("client deliveries: --state must be pending, delivered, failed or expired")
		}
		f.State = &state
	}
	if *limit < 1 || *limit > 1000 {
		return errors.New("client deliveries: --limit must be 1 to 1000")
	}
	ds, err := st.WebhookDeliveries(ctx, f)
	if errors.Is(err, models.ErrNotFound) {
		return fmt.Errorf("client deliveries: no client named %q", *name)
	} else if err != nil {
		return fmt.Errorf("client deliveries: %w", err)
	}
	if len(ds) == 0 {
		if f.State != nil {
			fmt.Fprintf(stdout, "No %s webhook deliveries for %q.\n", *f.State, *name)
		} else {
			fmt.Fprintf(stdout, "No webhook deliveries for %q yet.\n", *name)
		}
		return nil
	}
	const stamp = "2006-01-02 15:04:05Z"
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "CREATED\tTYPE\tTEEN\tSTATE\tATTEMPTS\tLAST STATUS\tLAST ERROR\tNEXT ATTEMPT\tWEBHOOK ID")
	for _, d := range ds {
		status, next := "-", "-"
		if d.LastStatus != nil {
			status = strconv.Itoa(*d.LastStatus)
		}
		if d.NextAttemptAt != nil && d.State == models.WebhookPending {
			next = d.NextAttemptAt.UTC().Format(stamp)
		}
		lastErr := d.LastError
		if lastErr == "" {
			lastErr = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\t%s\n", d.CreatedAt.UTC().Format(stamp), d.Type, d.TeenPlatformID,
			d.State, d.Attempts, status, lastErr, next, d.MsgID)
	}
	return tw.Flush()
}
