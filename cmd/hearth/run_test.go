package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hearth-safety/hearth/models"
	"github.com/hearth-safety/hearth/models/store"
	"github.com/hearth-safety/hearth/policy"
	"github.com/hearth-safety/hearth/web"
)

// commandTimeout bounds one CLI command; the slowest (demo --teens 50 under
// -race) takes a few seconds.
const commandTimeout = 60 * time.Second

// cli is one test's Hearth installation: an environment with its own SQLite
// file, and the commands run against it.
type cli struct {
	t   *testing.T
	env map[string]string
}

func newCLI(t *testing.T) *cli {
	t.Helper()
	return &cli{t: t, env: map[string]string{
		"HEARTH_DATABASE_URL": filepath.Join(t.TempDir(), "hearth.db"),
	}}
}

func (c *cli) getenv(k string) string { return c.env[k] }

// run runs `hearth args…` with stdin and returns what it wrote and its error.
func (c *cli) run(stdin string, args ...string) (stdout, stderr string, err error) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), commandTimeout)
	defer cancel()
	var out, errOut syncBuffer
	err = run(ctx, args, c.getenv, strings.NewReader(stdin), &out, &errOut)
	if ctx.Err() != nil {
		c.t.Fatalf("hearth %s: did not finish within %s", strings.Join(args, " "), commandTimeout)
	}
	return out.String(), errOut.String(), err
}

// ok runs a command that must succeed and returns its stdout.
func (c *cli) ok(stdin string, args ...string) string {
	c.t.Helper()
	out, errOut, err := c.run(stdin, args...)
	if err != nil {
		c.t.Fatalf("hearth %s: %v\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), err, out, errOut)
	}
	return out
}

// fails runs a command that must fail and returns its error message, which
// must contain every one of want.
func (c *cli) fails(stdin string, args []string, want ...string) string {
	c.t.Helper()
	out, _, err := c.run(stdin, args...)
	if err == nil {
		c.t.Fatalf("hearth %s succeeded, want an error; stdout:\n%s", strings.Join(args, " "), out)
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			c.t.Errorf("hearth %s: error %q does not mention %q", strings.Join(args, " "), err, w)
		}
	}
	return err.Error()
}

// store opens the test's database (already migrated by a command) for
// checking what the commands did. It is closed when the test ends.
func (c *cli) store() *store.Store {
	c.t.Helper()
	st, err := store.Open(context.Background(), c.env["HEARTH_DATABASE_URL"], store.Options{})
	if err != nil {
		c.t.Fatalf("open store: %v", err)
	}
	c.t.Cleanup(func() { st.Close() })
	return st
}

// syncBuffer is an io.Writer that goroutines may share and tests may read
// while it is written.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// everyVariable is every HEARTH_ variable the configuration reads, written
// out so that dropping one from web.Settings (and so from help) fails here.
var everyVariable = []string{
	"HEARTH_ENV", "HEARTH_ADDR", "HEARTH_BASE_URL", "HEARTH_DATABASE_URL", "HEARTH_SESSION_KEYS",
	"HEARTH_SMTP_URL", "HEARTH_MAIL_FROM", "HEARTH_METRICS_ADDR", "HEARTH_TRUSTED_PROXIES",
	"HEARTH_LOG_FORMAT", "HEARTH_LOG_LEVEL", "HEARTH_API_RATE", "HEARTH_SHUTDOWN_TIMEOUT",
}

func TestRun_help(t *testing.T) {
	t.Parallel()
	for _, arg := range []string{"help", "-h", "--help"} {
		t.Run(arg, func(t *testing.T) {
			t.Parallel()
			c := newCLI(t)
			// Help must work even when the configuration is broken: it is
			// where an operator looks for how to fix it.
			c.env["HEARTH_ADDR"] = "nonsense"
			out, errOut, err := c.run("", arg)
			if err != nil {
				t.Fatalf("hearth %s: %v", arg, err)
			}
			if errOut != "" {
				t.Errorf("hearth %s wrote to stderr: %q", arg, errOut)
			}
			for _, want := range []string{"Usage:", "hearth migrate", "hearth user create", "hearth user disable",
				"hearth client create", "hearth client list", "hearth client revoke", "hearth client rotate-secret", "hearth demo"} {
				if !strings.Contains(out, want) {
					t.Errorf("help does not mention %q", want)
				}
			}
			names := append([]string(nil), everyVariable...)
			for _, s := range web.Settings {
				names = append(names, s.Name)
			}
			for _, name := range names {
				if !regexp.MustCompile(`(?m)^\s+` + name + `\s`).MatchString(out) {
					t.Errorf("help does not list %s on a line of its own", name)
				}
			}
			if _, err := os.Stat(c.env["HEARTH_DATABASE_URL"]); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("help touched the database (stat: %v)", err)
			}
		})
	}
}

func TestRun_unknownCommand(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	_, errOut, err := c.run("", "frobnicate", "--now")
	if err == nil || !strings.Contains(err.Error(), "frobnicate") {
		t.Fatalf("error = %v, want one naming the command frobnicate", err)
	}
	if !strings.Contains(errOut, "Usage:") {
		t.Errorf("no usage on stderr after an unknown command; stderr:\n%s", errOut)
	}
	if _, err := os.Stat(c.env["HEARTH_DATABASE_URL"]); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("an unknown command created the database (stat: %v)", err)
	}
}

func TestRun_unknownSubcommands(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	c.fails("", []string{"user", "promote"}, "promote")
	c.fails("", []string{"client", "delete"}, "delete")
	c.fails("", []string{"user"}, "create")
	c.fails("", []string{"client"}, "create")
}

func TestRun_badConfiguration(t *testing.T) {
	t.Parallel()
	for _, args := range [][]string{nil, {"serve"}, {"migrate"}, {"demo"}, {"user", "create", "--role", "staff", "--email", "a@example.com"}, {"client", "list"}} {
		t.Run(strings.Join(append([]string{"hearth"}, args...), "_"), func(t *testing.T) {
			t.Parallel()
			c := newCLI(t)
			c.env["HEARTH_ADDR"] = "nonsense"
			c.env["HEARTH_LOG_LEVEL"] = "loud"
			msg := c.fails("long enough password\n", args, "HEARTH_ADDR", "nonsense", "HEARTH_LOG_LEVEL")
			if strings.Contains(msg, "HEARTH_DATABASE_URL") {
				t.Errorf("error blames a variable that is fine: %q", msg)
			}
			if _, err := os.Stat(c.env["HEARTH_DATABASE_URL"]); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("a bad configuration still opened the database (stat: %v)", err)
			}
		})
	}
}

func TestRun_migrate(t *testing.T) {
	t.Parallel()
	c := newCLI(t)
	re := regexp.MustCompile(`^Database schema is at version (\d+)\.\n$`)
	first := c.ok("", "migrate")
	m := re.FindStringSubmatch(first)
	if m == nil {
		t.Fatalf("migrate printed %q, want the schema version", first)
	}
	// A second run has nothing to do and says the same.
	if second := c.ok("", "migrate"); second != first {
		t.Errorf("second migrate printed %q, first %q", second, first)
	}
	st := c.store()
	cur, latest, err := st.MigrationVersions(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if cur != latest || m[1] != fmt.Sprint(cur) {
		t.Errorf("printed version %s; database at %d, latest %d", m[1], cur, latest)
	}
	// The job queue's tables come with it: serve and the CLI share them.
	var n int64
	if err := st.SQLDB().QueryRow("SELECT count(*) FROM river_job").Scan(&n); err != nil {
		t.Errorf("River's tables are missing after migrate: %v", err)
	}
	if empty, err := st.Empty(context.Background()); err != nil || !empty {
		t.Errorf("migrate left the database non-empty (%v, %v)", empty, err)
	}
}

const goodPassword = "correct horse battery staple"

func TestRun_userCreate(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	roles := []struct {
		flag, name string
		role       models.Role
		staffLogin bool
	}{
		{"staff", "", models.RoleStaff, true},
		{"lead", "Lee Lead", models.RoleLead, true},
		{"guardian", "Gail Guardian", models.RoleGuardian, false},
	}
	for _, r := range roles {
		t.Run(r.flag, func(t *testing.T) {
			t.Parallel()
			c := newCLI(t)
			args := []string{"user", "create", "--role", r.flag, "--email", "A@Example.com"}
			if r.name != "" {
				args = append(args, "--name", r.name)
			}
			out := c.ok(goodPassword+"\n", args...)
			if !strings.Contains(out, "a@example.com") || !strings.Contains(out, strings.ToLower(r.role.Label())) {
				t.Errorf("output %q does not say which account was made", out)
			}
			if got := strings.Contains(out, "/staff/login"); got != r.staffLogin {
				t.Errorf("output mentions /staff/login: %v, want %v; output %q", got, r.staffLogin, out)
			}
			if strings.Contains(out, goodPassword) {
				t.Error("output repeats the password")
			}

			st := c.store()
			u, err := st.Authenticate(ctx, "a@example.com", goodPassword, r.role)
			if err != nil {
				t.Fatalf("the new %s cannot sign in: %v", r.flag, err)
			}
			wantName := r.name
			if wantName == "" {
				wantName = "A" // the part of the email before @, as typed
			}
			if u.Role != r.role || u.Name != wantName || u.Email != "a@example.com" {
				t.Errorf("account = %s %q %q, want %s %q a@example.com", u.Role, u.Name, u.Email, r.role, wantName)
			}
			if _, err := st.Authenticate(ctx, "a@example.com", "not the password", r.role); !errors.Is(err, models.ErrInvalidCredentials) {
				t.Errorf("wrong password: err = %v, want ErrInvalidCredentials", err)
			}
			if _, err := st.Authenticate(ctx, "a@example.com", goodPassword, models.RoleTeen); !errors.Is(err, models.ErrInvalidCredentials) {
				t.Errorf("signing in with another role: err = %v, want ErrInvalidCredentials", err)
			}
		})
	}

	t.Run("password_line_endings_are_not_part_of_it", func(t *testing.T) {
		t.Parallel()
		c := newCLI(t)
		c.ok(goodPassword+"\r\n", "user", "create", "--role", "staff", "--email", "crlf@example.com")
		if _, err := c.store().Authenticate(ctx, "crlf@example.com", goodPassword); err != nil {
			t.Errorf("password piped with CRLF does not work: %v", err)
		}
	})

	refused := []struct {
		name, stdin string
		args        []string
		want        []string
	}{
		{"teen_role", goodPassword + "\n", []string{"--role", "teen", "--email", "a@example.com"}, []string{"--role", "teens come from the messaging service"}},
		{"unknown_role", goodPassword + "\n", []string{"--role", "admin", "--email", "a@example.com"}, []string{"--role"}},
		{"no_role", goodPassword + "\n", []string{"--email", "a@example.com"}, []string{"--role"}},
		{"missing_email", goodPassword + "\n", []string{"--role", "staff"}, []string{"--email"}},
		{"invalid_email", goodPassword + "\n", []string{"--role", "staff", "--email", "not-an-email"}, []string{"email"}},
		{"short_password", "short\n", []string{"--role", "staff", "--email", "a@example.com"}, []string{"password", "at least 8 characters"}},
		{"common_password", "password\n", []string{"--role", "staff", "--email", "a@example.com"}, []string{"password", "commonly used"}},
		{"no_password", "", []string{"--role", "staff", "--email", "a@example.com"}, []string{"no password given"}},
		{"empty_password", "\n", []string{"--role", "staff", "--email", "a@example.com"}, []string{"password"}},
	}
	for _, tc := range refused {
		t.Run("refuses_"+tc.name, func(t *testing.T) {
			t.Parallel()
			c := newCLI(t)
			c.fails(tc.stdin, append([]string{"user", "create"}, tc.args...), tc.want...)
			c.ok("", "migrate") // the refused command may not have created the database
			if empty, err := c.store().Empty(ctx); err != nil || !empty {
				t.Errorf("a refused user create still stored something (empty=%v, err=%v)", empty, err)
			}
		})
	}

	t.Run("refuses_duplicate_email", func(t *testing.T) {
		t.Parallel()
		c := newCLI(t)
		c.ok(goodPassword+"\n", "user", "create", "--role", "staff", "--email", "dup@example.com")
		c.fails("another fine password\n", []string{"user", "create", "--role", "lead", "--email", " DUP@example.com"}, "dup@example.com", "already has an account")
		u, err := c.store().Authenticate(ctx, "dup@example.com", goodPassword)
		if err != nil {
			t.Fatalf("the first account no longer signs in: %v", err)
		}
		if u.Role != models.RoleStaff {
			t.Errorf("the duplicate changed the account's role to %s", u.Role)
		}
	})
}

func TestRun_userDisable(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newCLI(t)
	c.ok(goodPassword+"\n", "user", "create", "--role", "staff", "--email", "agent@example.com")
	c.ok(goodPassword+"\n", "user", "create", "--role", "staff", "--email", "other@example.com")

	st := c.store()
	agent, err := st.UserByEmail(ctx, "agent@example.com")
	if err != nil {
		t.Fatal(err)
	}
	other, err := st.UserByEmail(ctx, "other@example.com")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	for i, uid := range []int64{agent.ID, agent.ID, other.ID} {
		_, hash := store.NewToken()
		if err := st.CreateSession(ctx, store.Session{IDHash: hash, UserID: uid, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatalf("session %d: %v", i, err)
		}
	}

	out := c.ok("", "user", "disable", "--email", "Agent@Example.com")
	if !strings.Contains(out, "agent@example.com") {
		t.Errorf("output %q does not name the account", out)
	}
	if n, err := st.CountUserSessions(ctx, agent.ID); err != nil || n != 0 {
		t.Errorf("disabled account has %d sessions (err %v), want 0", n, err)
	}
	if n, err := st.CountUserSessions(ctx, other.ID); err != nil || n != 1 {
		t.Errorf("another account has %d sessions (err %v), want its 1 kept", n, err)
	}
	if _, err := st.Authenticate(ctx, "agent@example.com", goodPassword); !errors.Is(err, models.ErrInvalidCredentials) {
		t.Errorf("disabled account signs in: err = %v", err)
	}
	if _, err := st.Authenticate(ctx, "other@example.com", goodPassword); err != nil {
		t.Errorf("disabling one account broke another: %v", err)
	}

	c.fails("", []string{"user", "disable", "--email", "nobody@example.com"}, "nobody@example.com")
}

var (
	clientKeyRE    = regexp.MustCompile(`API key \(send as Authorization: Bearer <key>\):\n  (\S+)\n`)
	clientSecretRE = regexp.MustCompile(`Webhook secret [^\n]*:\n  (\S+)\n`)
	apiKeyFormat   = regexp.MustCompile(`^[A-Za-z0-9_]{32,}$`)
)

func TestRun_client(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newCLI(t)

	if out := c.ok("", "client", "list"); !strings.Contains(out, "No service clients yet") {
		t.Errorf("empty list printed %q", out)
	}

	out := c.ok("", "client", "create", "--name", "chat", "--webhook-url", "https://x.example/hook")
	km, sm := clientKeyRE.FindStringSubmatch(out), clientSecretRE.FindStringSubmatch(out)
	if km == nil || sm == nil {
		t.Fatalf("client create did not print a key and a secret:\n%s", out)
	}
	key, secret := km[1], sm[1]
	if !apiKeyFormat.MatchString(key) {
		t.Errorf("key %q is not 32+ characters of [A-Za-z0-9_]", key)
	}
	if err := store.ValidateWebhookSecret(secret); err != nil {
		t.Errorf("secret %q: %v", secret, err)
	}

	st := c.store()
	cl, err := st.ClientByKey(ctx, key)
	if err != nil {
		t.Fatalf("the printed key does not authenticate: %v", err)
	}
	if cl.Name != "chat" || cl.WebhookURL != "https://x.example/hook" || cl.WebhookSecret != secret {
		t.Errorf("stored client = %q %q %q, want chat, the URL and the printed secret", cl.Name, cl.WebhookURL, cl.WebhookSecret)
	}

	c.ok("", "client", "create", "--name", "other")
	list := c.ok("", "client", "list")
	if strings.Contains(list, key) || strings.Contains(list, key[len(key)-12:]) {
		t.Errorf("client list prints the key:\n%s", list)
	}
	if strings.Contains(list, secret) {
		t.Errorf("client list prints the webhook secret:\n%s", list)
	}
	chat := lineWith(t, list, "chat")
	for _, want := range []string{"active", "https://x.example/hook", key[:8]} {
		if !strings.Contains(chat, want) {
			t.Errorf("list line %q does not show %q", chat, want)
		}
	}

	c.fails("", []string{"client", "create", "--name", "chat"}, "chat", "exists")
	c.fails("", []string{"client", "create", "--name", "bad", "--webhook-url", "ftp://x.example"}, "webhook_url")
	c.fails("", []string{"client", "create", "--name", ""}, "name")

	if out := c.ok("", "client", "revoke", "--name", "chat"); !strings.Contains(out, "chat") {
		t.Errorf("revoke printed %q", out)
	}
	list = c.ok("", "client", "list")
	if chat := lineWith(t, list, "chat"); !strings.Contains(chat, "revoked") {
		t.Errorf("revoked client listed as %q", chat)
	}
	if other := lineWith(t, list, "other"); !strings.Contains(other, "active") || strings.Contains(other, "revoked") {
		t.Errorf("revoking chat changed other: %q", other)
	}
	if _, err := st.ClientByKey(ctx, key); !errors.Is(err, models.ErrNotFound) {
		t.Errorf("revoked key still authenticates: err = %v", err)
	}

	c.fails("", []string{"client", "revoke", "--name", "chat"}, "chat")
	c.fails("", []string{"client", "revoke", "--name", "no-such-client"}, "no-such-client")
}

var rotatedSecretRE = regexp.MustCompile(`New webhook secret for "chat" [^\n]*:\n  (\S+)\n`)

func TestRun_clientRotateSecret(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newCLI(t)
	out := c.ok("", "client", "create", "--name", "chat")
	km, sm := clientKeyRE.FindStringSubmatch(out), clientSecretRE.FindStringSubmatch(out)
	if km == nil || sm == nil {
		t.Fatalf("client create printed:\n%s", out)
	}
	key, first := km[1], sm[1]
	if list := lineWith(t, c.ok("", "client", "list"), "chat"); !strings.Contains(list, " - ") {
		t.Errorf("before a rotation the list shows an old secret in force: %q", list)
	}

	before := time.Now().UTC()
	out = c.ok("", "client", "rotate-secret", "chat", "--grace", "36h")
	m := rotatedSecretRE.FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("rotate-secret did not print the new secret:\n%s", out)
	}
	second := m[1]
	if second == first || store.ValidateWebhookSecret(second) != nil {
		t.Fatalf("new secret %q", second)
	}
	if strings.Contains(out, first) {
		t.Errorf("rotate-secret printed the old secret:\n%s", out)
	}
	st := c.store()
	cl, err := st.ClientByKey(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	if cl.WebhookSecret != second || cl.PreviousWebhookSecret != first || cl.PreviousSecretExpiresAt == nil {
		t.Fatalf("stored: %q, previous %q until %v", cl.WebhookSecret, cl.PreviousWebhookSecret, cl.PreviousSecretExpiresAt)
	}
	if d := cl.PreviousSecretExpiresAt.Sub(before); d < 36*time.Hour-time.Minute || d > 36*time.Hour+time.Minute {
		t.Errorf("old secret expires %v after the rotation, want 36h", d)
	}
	until := cl.PreviousSecretExpiresAt.UTC().Format("2006-01-02 15:04")
	if !strings.Contains(out, until) {
		t.Errorf("rotate-secret does not say when the old secret stops (%s):\n%s", until, out)
	}
	if list := c.ok("", "client", "list"); !strings.Contains(lineWith(t, list, "chat"), "until "+until) {
		t.Errorf("the list does not show when the old secret expires (%s):\n%s", until, list)
	} else if strings.Contains(list, first) || strings.Contains(list, second) {
		t.Errorf("the list prints a secret:\n%s", list)
	}

	// --name, flags first, a given secret, and no grace.
	given := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	out = c.ok("", "client", "rotate-secret", "--grace", "0", "--secret", given, "--name", "chat")
	if m := rotatedSecretRE.FindStringSubmatch(out); m == nil || m[1] != given || !strings.Contains(out, "stopped working now") {
		t.Errorf("rotate-secret --secret --grace 0 printed:\n%s", out)
	}
	if list := c.ok("", "client", "list"); !strings.Contains(lineWith(t, list, "chat"), " - ") {
		t.Errorf("after --grace 0 the list shows an old secret in force:\n%s", list)
	}

	bad := "whsec_c2hvcnQ="
	msg := c.fails("", []string{"client", "rotate-secret", "chat", "--secret", bad}, "--secret", "24 to 64")
	if strings.Contains(msg, bad) {
		t.Errorf("the error repeats the secret given: %q", msg)
	}
	c.fails("", []string{"client", "rotate-secret", "chat", "--secret", "not-a-secret"}, "--secret", "whsec_")
	c.fails("", []string{"client", "rotate-secret", "chat", "--grace", "-1h"}, "--grace", "between 0 and")
	c.fails("", []string{"client", "rotate-secret", "chat", "--grace", "721h"}, "--grace", "between 0 and")
	c.fails("", []string{"client", "rotate-secret", "chat", "--grace", "soon"}, "grace")
	c.fails("", []string{"client", "rotate-secret"}, "name the client")
	c.fails("", []string{"client", "rotate-secret", "chat", "extra"}, "extra")
	c.fails("", []string{"client", "rotate-secret", "nobody"}, "no active client", "nobody")
	if after, _ := st.ClientByKey(ctx, key); after.WebhookSecret != given {
		t.Errorf("a refused rotation changed the secret")
	}
	c.ok("", "client", "revoke", "--name", "chat")
	c.fails("", []string{"client", "rotate-secret", "chat"}, "no active client")
}

// lineWith returns the one line of out that starts with name and a space.
func lineWith(t *testing.T, out, name string) string {
	t.Helper()
	var found []string
	for _, l := range strings.Split(out, "\n") {
		if strings.HasPrefix(l, name+" ") {
			found = append(found, l)
		}
	}
	if len(found) != 1 {
		t.Fatalf("want one line for %q, found %d in:\n%s", name, len(found), out)
	}
	return found[0]
}

var demoKeyRE = regexp.MustCompile(`(?m)^  API key:\s+(\S+)$`)

// demoClient returns the demo's service client.
func demoClient(t *testing.T, st *store.Store) models.ServiceClient {
	t.Helper()
	cs, err := st.Clients(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var found []models.ServiceClient
	for _, c := range cs {
		if c.Name == "demo-messenger" {
			found = append(found, c)
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d demo-messenger clients, want 1 (all clients: %d)", len(found), len(cs))
	}
	return found[0]
}

func TestRun_demo(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("fills_an_empty_database", func(t *testing.T) {
		t.Parallel()
		c := newCLI(t)
		out := c.ok("", "demo")
		st := c.store()

		accounts := []struct {
			email, password string
			role            models.Role
		}{
			{"parent@example.com", "demo-parent-pass", models.RoleGuardian},
			{"coparent@example.com", "demo-coparent-pass", models.RoleGuardian},
			{"support@example.com", "demo-support-pass", models.RoleLead},
			{"agent@example.com", "demo-agent-pass", models.RoleStaff},
		}
		for _, a := range accounts {
			if _, err := st.Authenticate(ctx, a.email, a.password, a.role); err != nil {
				t.Errorf("%s / %s cannot sign in as %s: %v", a.email, a.password, a.role, err)
			}
		}

		cl := demoClient(t, st)
		m := demoKeyRE.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("demo did not print the API key:\n%s", out)
		}
		if got, err := st.ClientByKey(ctx, m[1]); err != nil || got.ID != cl.ID {
			t.Errorf("the printed key %q does not authenticate as the demo client (err %v)", m[1], err)
		}
		if !strings.Contains(out, cl.WebhookSecret) {
			t.Errorf("demo did not print the webhook secret")
		}

		now := time.Now()
		teens := []struct {
			id, name, zone string
			age            int
		}{
			{"tk_maya", "Maya", "Europe/London", 14},
			{"tk_leo", "Leo", "America/New_York", 16},
			{"tk_sam", "Sam", "Asia/Tokyo", 15},
			{"tk_ava", "Ava", "Europe/Berlin", 17},
		}
		for _, w := range teens {
			teen, err := st.TeenByPlatformID(ctx, cl.ID, w.id)
			if err != nil {
				t.Errorf("%s: %v", w.id, err)
				continue
			}
			if teen.DisplayName != w.name || teen.TimeZone != w.zone {
				t.Errorf("%s = %q in %s, want %q in %s", w.id, teen.DisplayName, teen.TimeZone, w.name, w.zone)
			}
			// The documented ages must hold today and for a while yet, or
			// shared fixtures drift between runs.
			for _, at := range []time.Time{now, now.AddDate(0, 6, 0)} {
				if got := teen.Age(at); got != w.age {
					t.Errorf("%s is %d on %s (birth month %s), want %d", w.id, got, at.Format("2006-01-02"), teen.BirthMonth, w.age)
				}
			}
		}
		if _, err := st.TeenByPlatformID(ctx, cl.ID, "tk_load_000001"); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("demo without --teens made load teens: err = %v", err)
		}

		// Leo's open case waits in the queue, as the lead and the agent see it.
		for _, email := range []string{"support@example.com", "agent@example.com"} {
			u, err := st.UserByEmail(ctx, email)
			if err != nil {
				t.Fatal(err)
			}
			q, err := st.DisputeQueueFor(ctx, models.Actor{UserID: u.ID, Role: u.Role}, store.DisputeFilter{})
			if err != nil || len(q.Items) != 1 {
				t.Fatalf("%s's queue = %+v, %v", email, q.Items, err)
			}
			d := q.Items[0]
			if d.TeenName != "Leo" || d.FilerName != "Leo" || d.Kind != models.DisputeRuleUnfair || d.Status != models.DisputeOpen || !d.Confidential {
				t.Errorf("demo case = %+v", d)
			}
		}
		checkDemoAlerts(t, st, cl.ID)
	})

	t.Run("honours_api_key_and_webhook_secret", func(t *testing.T) {
		t.Parallel()
		c := newCLI(t)
		key := "demo_key_0123456789_abcdefghijklmnop"
		secret := store.NewWebhookSecret()
		out := c.ok("", "demo", "--api-key", key, "--webhook-secret", secret)
		if !strings.Contains(out, key) || !strings.Contains(out, secret) {
			t.Errorf("demo did not print the given key and secret:\n%s", out)
		}
		st := c.store()
		cl, err := st.ClientByKey(ctx, key)
		if err != nil {
			t.Fatalf("--api-key does not authenticate: %v", err)
		}
		if cl.Name != "demo-messenger" || cl.WebhookSecret != secret {
			t.Errorf("client %q has secret %q, want demo-messenger with %q", cl.Name, cl.WebhookSecret, secret)
		}
	})

	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"refuses_short_api_key", []string{"--api-key", "too_short"}, "--api-key"},
		{"refuses_api_key_with_dashes", []string{"--api-key", "demo-key-0123456789-abcdefghijklmnop"}, "--api-key"},
		{"refuses_bad_webhook_secret", []string{"--webhook-secret", "whsec_notbase64!"}, "--webhook-secret"},
		{"refuses_negative_teens", []string{"--teens", "-1"}, "--teens"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := newCLI(t)
			c.fails("", append([]string{"demo"}, tc.args...), tc.want)
			// A refused demo must leave the database as it found it, so the
			// operator can fix the flag and run it again.
			c.ok("", "migrate")
			if empty, err := c.store().Empty(ctx); err != nil || !empty {
				t.Fatalf("a refused demo left the database changed (empty=%v, err=%v), so a plain demo would refuse", empty, err)
			}
			c.ok("", "demo")
		})
	}

	t.Run("refuses_a_database_in_use_unless_forced", func(t *testing.T) {
		t.Parallel()
		c := newCLI(t)
		c.ok(goodPassword+"\n", "user", "create", "--role", "staff", "--email", "agent@example.com")
		c.fails("", []string{"demo"}, "--force")
		st := c.store()
		if _, err := st.UserByEmail(ctx, "parent@example.com"); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("a refused demo created the parent: err = %v", err)
		}

		c.ok("", "demo", "--force")
		if _, err := st.Authenticate(ctx, "parent@example.com", "demo-parent-pass"); err != nil {
			t.Errorf("demo --force did not create the parent: %v", err)
		}
		if _, err := st.Authenticate(ctx, "agent@example.com", goodPassword); err != nil {
			t.Errorf("demo --force broke the existing account: %v", err)
		}
	})

	t.Run("second_run_refuses_then_force_keeps_everything", func(t *testing.T) {
		t.Parallel()
		c := newCLI(t)
		out := c.ok("", "demo")
		firstKey := demoKeyRE.FindStringSubmatch(out)
		c.fails("", []string{"demo"}, "--force")

		out = c.ok("", "demo", "--force")
		if !strings.Contains(out, "exists already, kept") {
			t.Errorf("demo --force does not say it kept existing records:\n%s", out)
		}
		st := c.store()
		cl := demoClient(t, st) // still exactly one
		if firstKey != nil {
			if got, err := st.ClientByKey(ctx, firstKey[1]); err != nil || got.ID != cl.ID {
				t.Errorf("demo --force changed the demo client's key (err %v)", err)
			}
		}
		if _, err := st.Authenticate(ctx, "coparent@example.com", "demo-coparent-pass", models.RoleGuardian); err != nil {
			t.Errorf("coparent after demo --force: %v", err)
		}
		if _, err := st.TeenByPlatformID(ctx, cl.ID, "tk_maya"); err != nil {
			t.Errorf("tk_maya after demo --force: %v", err)
		}
		var n int64
		if err := st.SQLDB().QueryRow("SELECT count(*) FROM disputes").Scan(&n); err != nil || n != 1 {
			t.Errorf("%d cases after demo --force (err %v), want Leo's one", n, err)
		}
		if !strings.Contains(out, "demo alerts exist already, kept") {
			t.Errorf("demo --force does not say it kept the alerts:\n%s", out)
		}
		checkDemoAlerts(t, st, cl.ID)
	})

	t.Run("teens_adds_that_many", func(t *testing.T) {
		t.Parallel()
		c := newCLI(t)
		c.ok("", "demo", "--teens", "50")
		st := c.store()
		cl := demoClient(t, st)
		now := time.Now()
		for i := 1; i <= 50; i++ {
			id := fmt.Sprintf("tk_load_%06d", i)
			teen, err := st.TeenByPlatformID(ctx, cl.ID, id)
			if err != nil {
				t.Fatalf("%s: %v", id, err)
			}
			if age := teen.Age(now); age < models.MinSupervisedAge || age > models.MaxSupervisedAge {
				t.Errorf("%s is %d, outside supervision ages", id, age)
			}
		}
		if _, err := st.TeenByPlatformID(ctx, cl.ID, "tk_load_000051"); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("a 51st load teen exists: err = %v", err)
		}
		var n int64
		if err := st.SQLDB().QueryRow("SELECT count(*) FROM teens").Scan(&n); err != nil || n != 54 {
			t.Errorf("%d teens (err %v), want 4 demo teens and 50 more", n, err)
		}
	})
}

// checkDemoAlerts checks the demo's alerts as the parent sees them: a few
// weeks for Maya and Leo, varied as DESIGN.md's demo world promises, some
// read, and each stored once.
func checkDemoAlerts(t *testing.T, st *store.Store, clientID int64) {
	t.Helper()
	checkDemoRules(t, st, clientID)
	ctx := context.Background()
	parent, err := st.UserByEmail(ctx, "parent@example.com")
	if err != nil {
		t.Fatal(err)
	}
	viewer := models.Actor{UserID: parent.ID, Role: models.RoleGuardian}
	all, total, err := st.Alerts(ctx, viewer, models.AlertFilter{Limit: 100})
	if err != nil || total != 12 || len(all) != 12 {
		t.Fatalf("the parent sees %d alerts (total %d, err %v), want the demo's 12", len(all), total, err)
	}
	byTeen := map[string]int{}
	var groomingHigh, selfHarm, burst, outbound, read bool
	oldest := all[0].OccurredAt
	for _, a := range all {
		byTeen[a.TeenName]++
		groomingHigh = groomingHigh || (a.TeenName == "Maya" && a.Category == models.CategoryGrooming && a.Severity == models.SeverityHigh && a.CounterpartID == "u_stranger9")
		selfHarm = selfHarm || (a.Category == models.CategorySelfHarm && a.Severity.Rank() <= models.SeverityMedium.Rank())
		burst = burst || (a.CounterpartID == "u_9" && a.Occurrences > 1)
		outbound = outbound || a.Direction == models.DirectionOutbound
		read = read || a.Read
		if a.OccurredAt.Before(oldest) {
			oldest = a.OccurredAt
		}
	}
	if byTeen["Maya"] == 0 || byTeen["Leo"] == 0 || len(byTeen) != 2 {
		t.Errorf("alerts per teen = %v, want Maya and Leo", byTeen)
	}
	if !groomingHigh || !selfHarm || !burst || !outbound || !read {
		t.Errorf("demo alerts lack variety: grooming high %v, self-harm %v, u_9 burst %v, outbound %v, some read %v", groomingHigh, selfHarm, burst, outbound, read)
	}
	if span := time.Since(oldest); span < 14*24*time.Hour {
		t.Errorf("demo alerts span %v, want a few weeks", span)
	}
	unread, err := st.UnreadAlertCounts(ctx, viewer)
	if err != nil || unread[all[0].TeenID] == 0 {
		t.Errorf("no unread demo alerts for the parent: %v, %v", unread, err)
	}
}

// checkDemoRules checks Maya's and Leo's rules are the demo world's, as
// DESIGN.md's table gives them.
func checkDemoRules(t *testing.T, st *store.Store, clientID int64) {
	t.Helper()
	ctx := context.Background()
	for _, c := range []struct {
		teen string
		ok   func(p models.DMPolicy) bool
	}{
		{"tk_maya", func(p models.DMPolicy) bool {
			return p.Audience == policy.AudienceFriends && p.QuietEnabled && p.QuietStart == 21*60+30 && p.QuietEnd == 7*60 &&
				p.QuietApprovedExempt && p.BlockAdultStrangers && p.MediaFriendsOnly && p.MinSenderAccountAgeDays == 0 &&
				len(p.Approved) == 1 && p.Approved[0].PlatformUserID == "u_grandma" && len(p.Blocked) == 1 && p.Blocked[0].PlatformUserID == "u_stranger9"
		}},
		{"tk_leo", func(p models.DMPolicy) bool {
			return p.Audience == policy.AudienceEveryone && !p.QuietEnabled && !p.BlockAdultStrangers && !p.MediaFriendsOnly &&
				p.MinSenderAccountAgeDays == 7 && len(p.Approved) == 0 && len(p.Blocked) == 0
		}},
	} {
		p, ok, err := st.TeenPolicyByPlatformID(ctx, clientID, c.teen)
		if err != nil || !ok {
			t.Fatalf("%s's rules: %v (supervised %v)", c.teen, err, ok)
		}
		if !c.ok(p) {
			t.Errorf("%s's rules are not the demo world's: %+v", c.teen, p)
		}
	}
}
