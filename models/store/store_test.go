package store_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hearth-safety/hearth/models"
	"github.com/hearth-safety/hearth/models/store"
	"github.com/hearth-safety/hearth/models/store/storetest"
)

var ctx = context.Background()

// clock is a settable fake clock for expiry tests.
type clock struct{ t atomic.Int64 }

func newClock(t time.Time) *clock { c := &clock{}; c.t.Store(t.UnixNano()); return c }
func (c *clock) Now() time.Time   { return time.Unix(0, c.t.Load()).UTC() }
func (c *clock) Add(d time.Duration) {
	c.t.Add(int64(d))
}

var day0 = time.Date(2026, 11, 27, 12, 0, 0, 0, time.UTC)

func guardian(t *testing.T, s *store.Store, email string) models.User {
	t.Helper()
	u, err := s.CreateUser(ctx, store.NewUser{Email: email, Name: "Pat Parent", Password: "correct horse battery", Role: models.RoleGuardian})
	if err != nil {
		t.Fatalf("create guardian: %v", err)
	}
	return u
}

func TestParseURL(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in      string
		dialect store.Dialect
		wantErr bool
	}{
		{"./hearth.db", store.SQLite, false},
		{"sqlite:hearth.db", store.SQLite, false},
		{"file:hearth.db?cache=shared", store.SQLite, false},
		{"postgres://postgres@127.0.0.1:5432/test", store.Postgres, false},
		{"postgresql://u:p@h/db?sslmode=disable", store.Postgres, false},
		{"", "", true},
		{":memory:", "", true},
		{"mysql://root@localhost/x", "", true},
		{"/no/such/folder/hearth.db", "", true},
	}
	for _, c := range cases {
		d, dsn, err := store.ParseURL(c.in)
		if (err != nil) != c.wantErr {
			t.Errorf("ParseURL(%q) error = %v, want error %v", c.in, err, c.wantErr)
			continue
		}
		if d != c.dialect {
			t.Errorf("ParseURL(%q) dialect = %q, want %q", c.in, d, c.dialect)
		}
		if d == store.SQLite && !contains(dsn, "_pragma=foreign_keys(1)") {
			t.Errorf("SQLite DSN %q lacks foreign keys pragma", dsn)
		}
		if d == store.Postgres && !contains(dsn, "statement_timeout=") {
			t.Errorf("Postgres DSN %q lacks a statement timeout", dsn)
		}
	}
}

func contains(s, sub string) bool { return len(s) >= len(sub) && (s == sub || indexOf(s, sub) >= 0) }
func indexOf(s, sub string) int {
	for i := 0; i+len(sub) <= len(s); i++ {
		if s[i:i+len(sub)] == sub {
			return i
		}
	}
	return -1
}

func TestStore_Migrations(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		cur, latest, err := s.MigrationVersions(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if cur != latest || latest < 1 {
			t.Fatalf("versions = %d/%d, want current = latest >= 1", cur, latest)
		}
		n, err := s.Migrate(ctx, nil)
		if err != nil || n != 0 {
			t.Fatalf("second Migrate ran %d migrations (err %v), want 0", n, err)
		}
		if empty, err := s.Empty(ctx); err != nil || !empty {
			t.Fatalf("Empty() = %v, %v on a new database", empty, err)
		}
	})
}

func TestStore_Users(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		u := guardian(t, s, "Pat@Example.com")
		if u.Email != "pat@example.com" || u.Role != models.RoleGuardian || u.PasswordHash == "" {
			t.Fatalf("created user = %+v", u)
		}

		t.Run("duplicate_email_in_any_case_conflicts", func(t *testing.T) {
			_, err := s.CreateUser(ctx, store.NewUser{Email: "PAT@example.com", Name: "X", Password: "another good phrase", Role: models.RoleGuardian})
			if !errors.Is(err, models.ErrConflict) {
				t.Fatalf("err = %v, want ErrConflict", err)
			}
		})
		t.Run("bad_input_names_every_field", func(t *testing.T) {
			_, err := s.CreateUser(ctx, store.NewUser{Email: "not-an-email", Name: "", Password: "short", Role: models.RoleGuardian})
			fe := models.FieldErrors(err)
			for _, f := range []string{"email", "name", "password"} {
				if fe[f] == "" {
					t.Errorf("no error for %s in %v", f, err)
				}
			}
		})
		t.Run("common_password_refused", func(t *testing.T) {
			_, err := s.CreateUser(ctx, store.NewUser{Email: "c@example.com", Name: "C", Password: "Password123", Role: models.RoleGuardian})
			if models.FieldErrors(err)["password"] == "" {
				t.Fatalf("err = %v, want a password error", err)
			}
		})
		t.Run("authenticate", func(t *testing.T) {
			got, err := s.Authenticate(ctx, " pat@EXAMPLE.com ", "correct horse battery", models.RoleGuardian)
			if err != nil || got.ID != u.ID {
				t.Fatalf("Authenticate = %+v, %v", got, err)
			}
			for name, try := range map[string][2]string{
				"wrong_password": {"pat@example.com", "incorrect horse battery"},
				"unknown_email":  {"nobody@example.com", "correct horse battery"},
			} {
				if _, err := s.Authenticate(ctx, try[0], try[1]); !errors.Is(err, models.ErrInvalidCredentials) {
					t.Errorf("%s: err = %v, want ErrInvalidCredentials", name, err)
				}
			}
			if _, err := s.Authenticate(ctx, "pat@example.com", "correct horse battery", models.RoleStaff, models.RoleLead); !errors.Is(err, models.ErrInvalidCredentials) {
				t.Errorf("guardian signed in as staff: err = %v", err)
			}
		})
		t.Run("disabled_account_cannot_sign_in_and_loses_sessions", func(t *testing.T) {
			d := guardian(t, s, "dis@example.com")
			if err := s.CreateSession(ctx, store.Session{IDHash: "h-dis", UserID: d.ID, Data: "{}", CreatedAt: s.Now(), LastSeenAt: s.Now(), ExpiresAt: s.Now().Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
			if err := s.DisableUser(ctx, d.ID); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Authenticate(ctx, "dis@example.com", "correct horse battery"); !errors.Is(err, models.ErrInvalidCredentials) {
				t.Errorf("disabled user signed in: %v", err)
			}
			if _, err := s.SessionByHash(ctx, "h-dis"); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("session survived disable: %v", err)
			}
		})
	})
}

func TestStore_PasswordReset(t *testing.T) {
	c := newClock(day0)
	storetest.EachWith(t, storetest.Options{Now: c.Now}, func(t *testing.T, s *store.Store) {
		u := guardian(t, s, "reset@example.com")
		if _, _, err := s.CreatePasswordReset(ctx, "nobody@example.com"); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("unknown email: err = %v", err)
		}
		s.CreateSession(ctx, store.Session{IDHash: "h-old", UserID: u.ID, Data: "{}", CreatedAt: s.Now(), LastSeenAt: s.Now(), ExpiresAt: s.Now().Add(time.Hour)})

		first, _, err := s.CreatePasswordReset(ctx, "reset@example.com")
		if err != nil {
			t.Fatal(err)
		}
		tok, got, err := s.CreatePasswordReset(ctx, "reset@example.com")
		if err != nil || got.ID != u.ID {
			t.Fatalf("CreatePasswordReset = %v, %v", got, err)
		}
		if err := s.CheckPasswordReset(ctx, first); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("an earlier link still works after a new one: %v", err)
		}
		if _, err := s.ResetPassword(ctx, tok, "short"); models.FieldErrors(err)["password"] == "" {
			t.Errorf("weak new password accepted: %v", err)
		}
		if _, err := s.ResetPassword(ctx, tok, "a brand new passphrase"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Authenticate(ctx, "reset@example.com", "a brand new passphrase"); err != nil {
			t.Errorf("new password does not work: %v", err)
		}
		if _, err := s.SessionByHash(ctx, "h-old"); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("old session survived the reset: %v", err)
		}
		if _, err := s.ResetPassword(ctx, tok, "yet another passphrase"); !errors.Is(err, models.ErrUsed) {
			t.Errorf("reused token: err = %v, want ErrUsed", err)
		}
		expiring, _, _ := s.CreatePasswordReset(ctx, "reset@example.com")
		c.Add(store.PasswordResetTTL)
		if _, err := s.ResetPassword(ctx, expiring, "yet another passphrase"); !errors.Is(err, models.ErrExpired) {
			t.Errorf("expired token: err = %v, want ErrExpired", err)
		}
		if _, err := s.ResetPassword(ctx, "forged-token", "yet another passphrase"); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("forged token: err = %v, want ErrNotFound", err)
		}
	})
}

func newClient(t *testing.T, s *store.Store, name string) (models.ServiceClient, string) {
	t.Helper()
	c, key, err := s.CreateClient(ctx, store.NewClient{Name: name})
	if err != nil {
		t.Fatal(err)
	}
	return c, key
}

func TestStore_Clients(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		c, key := newClient(t, s, "chat app")
		if len(key) < 32 || c.KeyHash == key || c.KeyHash != store.HashToken(key) {
			t.Fatalf("key %q stored as %q", key, c.KeyHash)
		}
		if err := store.ValidateWebhookSecret(c.WebhookSecret); err != nil {
			t.Fatalf("generated secret invalid: %v", err)
		}
		got, err := s.ClientByKey(ctx, key)
		if err != nil || got.ID != c.ID {
			t.Fatalf("ClientByKey = %+v, %v", got, err)
		}
		if _, _, err := s.CreateClient(ctx, store.NewClient{Name: "chat app"}); !errors.Is(err, models.ErrConflict) {
			t.Errorf("duplicate name: %v", err)
		}
		for name, in := range map[string]store.NewClient{
			"short_key":    {Name: "x1", Key: "tooshort"},
			"bad_secret":   {Name: "x2", Secret: "whsec_notbase64!!"},
			"small_secret": {Name: "x3", Secret: "whsec_AAAA"},
			"bad_url":      {Name: "x4", WebhookURL: "ftp://x"},
			"bad_name":     {Name: ""},
		} {
			if _, _, err := s.CreateClient(ctx, in); models.FieldErrors(err) == nil {
				t.Errorf("%s: err = %v, want a validation error", name, err)
			}
		}
		fixed := "demo_key_0123456789_abcdefghijklmnop"
		if _, k, err := s.CreateClient(ctx, store.NewClient{Name: "fixed", Key: fixed, Secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"}); err != nil || k != fixed {
			t.Fatalf("fixed key: %q, %v", k, err)
		}
		if err := s.RevokeClient(ctx, "chat app"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.ClientByKey(ctx, key); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("revoked key still works: %v", err)
		}
		if err := s.RevokeClient(ctx, "chat app"); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("second revoke: %v", err)
		}
		all, err := s.Clients(ctx)
		if err != nil || len(all) != 2 || !all[0].Revoked() {
			t.Errorf("Clients() = %+v, %v", all, err)
		}
	})
}

func TestStore_Teens(t *testing.T) {
	c := newClock(day0)
	storetest.EachWith(t, storetest.Options{Now: c.Now}, func(t *testing.T, s *store.Store) {
		cl, _ := newClient(t, s, "app")
		other, _ := newClient(t, s, "other app")
		in := store.TeenInput{DisplayName: "Maya", BirthMonth: "2012-06", TimeZone: "Europe/London"}
		teen, created, err := s.UpsertTeen(ctx, cl.ID, "tk_maya", in)
		if err != nil || !created || teen.Age(c.Now()) != 14 {
			t.Fatalf("UpsertTeen = %+v, %v, %v", teen, created, err)
		}
		in.DisplayName = "Maya R."
		again, created, err := s.UpsertTeen(ctx, cl.ID, "tk_maya", in)
		if err != nil || created || again.ID != teen.ID || again.DisplayName != "Maya R." {
			t.Fatalf("update = %+v, %v, %v", again, created, err)
		}
		if _, err := s.TeenByPlatformID(ctx, other.ID, "tk_maya"); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("another client sees the teen: %v", err)
		}

		t.Run("invalid_input", func(t *testing.T) {
			for name, tc := range map[string]struct {
				id    string
				in    store.TeenInput
				field string
			}{
				"id_too_long":  {string(make([]byte, 65)), in, "platform_user_id"},
				"id_bad_chars": {"tk maya", in, "platform_user_id"},
				"under_13":     {"tk_kid", store.TeenInput{DisplayName: "K", BirthMonth: "2015-01", TimeZone: "UTC"}, "birth_month"},
				"adult":        {"tk_adult", store.TeenInput{DisplayName: "A", BirthMonth: "2000-01", TimeZone: "UTC"}, "birth_month"},
				"bad_month":    {"tk_x", store.TeenInput{DisplayName: "A", BirthMonth: "2012-13", TimeZone: "UTC"}, "birth_month"},
				"bad_zone":     {"tk_x", store.TeenInput{DisplayName: "A", BirthMonth: "2012-01", TimeZone: "Mars/Olympus"}, "timezone"},
				"offset_zone":  {"tk_x", store.TeenInput{DisplayName: "A", BirthMonth: "2012-01", TimeZone: "+02:00"}, "timezone"},
				"no_name":      {"tk_x", store.TeenInput{DisplayName: " ", BirthMonth: "2012-01", TimeZone: "UTC"}, "display_name"},
			} {
				_, _, err := s.UpsertTeen(ctx, cl.ID, tc.id, tc.in)
				if models.FieldErrors(err)[tc.field] == "" {
					t.Errorf("%s: err = %v, want an error on %s", name, err, tc.field)
				}
			}
		})

		t.Run("signin_links_are_single_use_and_expire", func(t *testing.T) {
			tok, exp, err := s.CreateSigninLink(ctx, cl.ID, "tk_maya")
			if err != nil || !exp.Equal(c.Now().Add(store.SigninLinkTTL)) {
				t.Fatalf("CreateSigninLink = %v, %v", exp, err)
			}
			if _, _, err := s.CreateSigninLink(ctx, other.ID, "tk_maya"); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("other client made a link: %v", err)
			}
			var wg sync.WaitGroup
			var wins atomic.Int32
			for range 4 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if u, err := s.ConsumeSigninLink(ctx, tok); err == nil && u.ID == teen.UserID {
						wins.Add(1)
					}
				}()
			}
			wg.Wait()
			if wins.Load() != 1 {
				t.Fatalf("%d concurrent uses succeeded, want exactly 1", wins.Load())
			}
			if _, err := s.ConsumeSigninLink(ctx, tok); !errors.Is(err, models.ErrUsed) {
				t.Errorf("reuse: %v", err)
			}
			old, _, _ := s.CreateSigninLink(ctx, cl.ID, "tk_maya")
			c.Add(store.SigninLinkTTL + time.Second)
			if _, err := s.ConsumeSigninLink(ctx, old); !errors.Is(err, models.ErrExpired) {
				t.Errorf("expired: %v", err)
			}
			if _, err := s.ConsumeSigninLink(ctx, "forged"); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("forged: %v", err)
			}
			if n, err := s.DeleteExpired(ctx); err != nil || n < 1 {
				t.Errorf("DeleteExpired = %d, %v", n, err)
			}
		})

		t.Run("teen_for_user_is_only_for_the_teen", func(t *testing.T) {
			got, err := s.TeenForUser(ctx, models.Actor{UserID: teen.UserID, Role: models.RoleTeen})
			if err != nil || got.ID != teen.ID {
				t.Errorf("own teen: %+v, %v", got, err)
			}
			if _, err := s.TeenForUser(ctx, models.Actor{UserID: teen.UserID, Role: models.RoleGuardian}); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("non-teen viewer: %v", err)
			}
		})
	})
}

func TestStore_SignUpGuardian(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		in := store.NewUser{Email: "new@example.com", Name: "New Parent", Password: "a long enough phrase"}
		su, err := s.SignUpGuardian(ctx, in)
		if err != nil || su.Existing || su.VerifyToken == "" || su.User.Role != models.RoleGuardian {
			t.Fatalf("SignUpGuardian = %+v, %v", su, err)
		}
		if _, err := s.Authenticate(ctx, "new@example.com", "a long enough phrase"); !errors.Is(err, models.ErrEmailUnverified) {
			t.Fatalf("unconfirmed account: err = %v, want ErrEmailUnverified", err)
		}
		if _, err := s.Authenticate(ctx, "new@example.com", "the wrong phrase here"); !errors.Is(err, models.ErrInvalidCredentials) {
			t.Fatalf("unconfirmed account, wrong password: err = %v, want ErrInvalidCredentials", err)
		}
		again, err := s.SignUpGuardian(ctx, store.NewUser{Email: "NEW@example.com", Name: "Impostor", Password: "attacker chosen phrase"})
		if err != nil || !again.Existing || again.User.ID != su.User.ID {
			t.Fatalf("second sign-up = %+v, %v", again, err)
		}
		if _, err := s.VerifyEmail(ctx, su.VerifyToken); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("superseded confirmation link still works: %v", err)
		}
		u, err := s.VerifyEmail(ctx, again.VerifyToken)
		if err != nil || u.EmailVerifiedAt == nil || u.Name != "New Parent" {
			t.Fatalf("VerifyEmail = %+v, %v", u, err)
		}
		if _, err := s.Authenticate(ctx, "new@example.com", "attacker chosen phrase"); !errors.Is(err, models.ErrInvalidCredentials) {
			t.Errorf("a repeated sign-up changed the password: %v", err)
		}
		if _, err := s.Authenticate(ctx, "new@example.com", "a long enough phrase"); err != nil {
			t.Errorf("confirmed account cannot sign in: %v", err)
		}
		if _, err := s.VerifyEmail(ctx, again.VerifyToken); !errors.Is(err, models.ErrUsed) {
			t.Errorf("reused confirmation link: %v", err)
		}
		third, err := s.SignUpGuardian(ctx, in)
		if err != nil || !third.Existing || third.VerifyToken != "" {
			t.Errorf("sign-up over a confirmed account = %+v, %v; want Existing and no token", third, err)
		}
	})
}
