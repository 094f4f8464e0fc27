package main

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hearth-safety/hearth/models"
	"github.com/hearth-safety/hearth/models/store"
)

// demoKey is a TOTP key as an operator would pass it: base32, 160 bits.
const demoKey = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"

var recoveryLineRE = regexp.MustCompile(`(?m)^  ([a-z2-9]{5}-[a-z2-9]{5})$`)

func TestRun_demoStaffSecondFactor(t *testing.T) {
	t.Parallel()
	ctx := context.Background()

	t.Run("lead_enrols_at_first_sign_in_by_default", func(t *testing.T) {
		t.Parallel()
		c := newCLI(t)
		out := c.ok("", "demo")
		if !strings.Contains(out, "second factor") || !strings.Contains(out, "at the first sign-in") {
			t.Errorf("demo does not say that staff set up a second factor:\n%s", out)
		}
		st := c.store()
		lead, _ := st.UserByEmail(ctx, "support@example.com")
		if f, err := st.SecondFactor(ctx, lead.ID); err != nil || f.Enrolled() {
			t.Errorf("the demo lead has a second factor without --staff-totp-secret: %+v %v", f, err)
		}
	})

	t.Run("staff_totp_secret_pre_enrols_the_lead", func(t *testing.T) {
		t.Parallel()
		c := newCLI(t)
		out := c.ok("", "demo", "--staff-totp-secret", strings.ToLower(demoKey))
		if !strings.Contains(out, "oathtool --totp -b "+strings.ToLower(demoKey)) {
			t.Errorf("demo does not say how to make codes:\n%s", out)
		}
		codes := recoveryLineRE.FindAllStringSubmatch(out, -1)
		if len(codes) != models.RecoveryCodeCount {
			t.Fatalf("demo printed %d recovery codes, want %d:\n%s", len(codes), models.RecoveryCodeCount, out)
		}
		st := c.store()
		lead, _ := st.UserByEmail(ctx, "support@example.com")
		code, _ := models.TOTPCode(demoKey, time.Now())
		if _, err := st.VerifySecondFactor(ctx, lead.ID, code); err != nil {
			t.Errorf("a code from the given key does not work: %v", err)
		}
		if res, err := st.VerifySecondFactor(ctx, lead.ID, codes[0][1]); err != nil || !res.UsedRecoveryCode {
			t.Errorf("a printed recovery code does not work: %+v %v", res, err)
		}
		again := c.ok("", "demo", "--force", "--staff-totp-secret", demoKey)
		if !strings.Contains(again, "has a second factor already, kept") {
			t.Errorf("a second demo run did not keep the enrolled factor:\n%s", again)
		}
	})

	t.Run("refuses_a_bad_key_before_writing", func(t *testing.T) {
		t.Parallel()
		c := newCLI(t)
		c.fails("", []string{"demo", "--staff-totp-secret", "not-base32!"}, "--staff-totp-secret", "base32")
		c.fails("", []string{"demo", "--staff-totp-secret", "JBSWY3DP"}, "128 bits")
		c.ok("", "migrate")
		if empty, err := c.store().Empty(ctx); err != nil || !empty {
			t.Errorf("a refused demo wrote data (empty=%v, err=%v)", empty, err)
		}
	})
}

func TestRun_userResetSecondFactor(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	c := newCLI(t)
	c.ok(goodPassword+"\n", "user", "create", "--role", "lead", "--email", "lead@example.com")
	c.ok(goodPassword+"\n", "user", "create", "--role", "guardian", "--email", "pat@example.com")
	st := c.store()
	lead, _ := st.UserByEmail(ctx, "lead@example.com")

	c.fails("", []string{"user", "reset-second-factor", "--email", "lead@example.com"}, "no second factor to reset")
	if _, err := st.PreEnrolTOTP(ctx, lead.ID, demoKey); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	_, hash := store.NewToken()
	if err := st.CreateSession(ctx, store.Session{IDHash: hash, UserID: lead.ID, CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	out := c.ok("", "user", "reset-second-factor", "--email", "Lead@Example.com")
	if !strings.Contains(out, "lead@example.com") {
		t.Errorf("output %q does not name the account", out)
	}
	if f, _ := st.SecondFactor(ctx, lead.ID); f.Enrolled() {
		t.Error("the second factor survived the reset")
	}
	if n, _ := st.CountUserSessions(ctx, lead.ID); n != 0 {
		t.Errorf("%d sessions survived the reset", n)
	}
	other, _ := st.CreateUser(ctx, store.NewUser{Email: "other@example.com", Name: "Other Lead", Password: goodPassword, Role: models.RoleLead})
	es, err := st.StaffAuditEvents(ctx, models.Actor{UserID: other.ID, Role: models.RoleLead}, lead.ID, 1)
	if err != nil || len(es) != 1 || es[0].Action != models.StaffSecondFactorReset || es[0].ActorName != models.OperatorActorName {
		t.Errorf("the reset is not in the staff audit trail: %+v %v", es, err)
	}
	c.fails("", []string{"user", "reset-second-factor", "--email", "pat@example.com"}, "not a support agent or lead")
	c.fails("", []string{"user", "reset-second-factor", "--email", "nobody@example.com"}, "nobody@example.com")
	if _, err := st.UserByEmail(ctx, "pat@example.com"); errors.Is(err, models.ErrNotFound) {
		t.Error("the guardian vanished")
	}
}
