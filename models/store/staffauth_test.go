package store_test

import (
	"errors"
	"net/url"
	"testing"
	"time"

	"github.com/hearth-safety/hearth/models"
	"github.com/hearth-safety/hearth/models/store"
	"github.com/hearth-safety/hearth/models/store/storetest"
)

func staffUser(t *testing.T, s *store.Store, email string, role models.Role) models.User {
	t.Helper()
	u, err := s.CreateUser(ctx, store.NewUser{Email: email, Name: "Staff " + email, Password: "correct horse battery", Role: role})
	if err != nil {
		t.Fatalf("create staff: %v", err)
	}
	return u
}

// codeAt is the code an authenticator app holding secret shows at t.
func codeAt(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := models.TOTPCode(secret, at)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// enrol starts and confirms u's enrolment at the clock's time and returns
// the secret and the recovery codes.
func enrol(t *testing.T, s *store.Store, c *clock, u models.User) (string, []string) {
	t.Helper()
	enr, err := s.StartTOTPEnrolment(ctx, u)
	if err != nil {
		t.Fatalf("start enrolment: %v", err)
	}
	codes, err := s.ConfirmTOTPEnrolment(ctx, u.ID, codeAt(t, enr.Secret, c.Now()))
	if err != nil {
		t.Fatalf("confirm enrolment: %v", err)
	}
	return enr.Secret, codes
}

func TestStore_SecondFactorEnrolment(t *testing.T) {
	c := newClock(day0)
	storetest.EachWith(t, storetest.Options{Now: c.Now}, func(t *testing.T, s *store.Store) {
		agent := staffUser(t, s, "agent@example.com", models.RoleStaff)

		f, err := s.SecondFactor(ctx, agent.ID)
		if err != nil || f.Enrolled() {
			t.Fatalf("a new agent's factor = %+v, %v; want not enrolled", f, err)
		}
		if _, err := s.VerifySecondFactor(ctx, agent.ID, "123456"); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("verifying before enrolment: %v, want ErrNotFound", err)
		}
		if _, err := s.PendingTOTPEnrolment(ctx, agent); !errors.Is(err, models.ErrNotFound) {
			t.Fatalf("an enrolment nobody started: %v, want ErrNotFound", err)
		}
		enr, err := s.StartTOTPEnrolment(ctx, agent)
		if err != nil {
			t.Fatal(err)
		}
		if shown, err := s.PendingTOTPEnrolment(ctx, agent); err != nil || shown != enr {
			t.Fatalf("the started enrolment reads back as %+v, %v", shown, err)
		}
		u, err := url.Parse(enr.URL)
		if err != nil || u.Scheme != "otpauth" || u.Host != "totp" || u.Query().Get("secret") != enr.Secret || u.Query().Get("issuer") != "Hearth" ||
			u.Query().Get("period") != "30" || u.Query().Get("digits") != "6" {
			t.Fatalf("enrolment URL %q does not carry the secret with Hearth's settings", enr.URL)
		}
		again, _ := s.StartTOTPEnrolment(ctx, agent)
		if again.Secret != enr.Secret {
			t.Fatal("reloading the enrolment page changed the secret an app may already hold")
		}
		if _, err := s.ConfirmTOTPEnrolment(ctx, agent.ID, codeAt(t, enr.Secret, c.Now().Add(-2*models.TOTPPeriod))); !errors.Is(err, models.ErrInvalidCode) {
			t.Fatalf("a code two steps old confirmed enrolment: %v", err)
		}
		codes, err := s.ConfirmTOTPEnrolment(ctx, agent.ID, codeAt(t, enr.Secret, c.Now()))
		if err != nil {
			t.Fatal(err)
		}
		if len(codes) != models.RecoveryCodeCount {
			t.Fatalf("%d recovery codes, want %d", len(codes), models.RecoveryCodeCount)
		}
		seen := map[string]bool{}
		for _, rc := range codes {
			if len(rc) != 11 || rc[5] != '-' || seen[rc] {
				t.Errorf("recovery code %q is malformed or repeated", rc)
			}
			seen[rc] = true
		}
		f, _ = s.SecondFactor(ctx, agent.ID)
		if !f.Enrolled() || f.RecoveryLeft != models.RecoveryCodeCount {
			t.Fatalf("after enrolment: %+v", f)
		}
		if _, err := s.StartTOTPEnrolment(ctx, agent); !errors.Is(err, models.ErrConflict) {
			t.Fatalf("an enrolled secret was shown again: %v", err)
		}
		if _, err := s.PendingTOTPEnrolment(ctx, agent); !errors.Is(err, models.ErrConflict) {
			t.Fatalf("an enrolled secret reads back: %v", err)
		}
		if _, err := s.ConfirmTOTPEnrolment(ctx, agent.ID, codeAt(t, enr.Secret, c.Now())); !errors.Is(err, models.ErrConflict) {
			t.Fatalf("confirming twice: %v", err)
		}
		guardian := guardian(t, s, "pat@example.com")
		if _, err := s.StartTOTPEnrolment(ctx, guardian); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("a guardian got a staff second factor: %v", err)
		}
	})
}

func TestStore_VerifySecondFactor(t *testing.T) {
	c := newClock(day0)
	storetest.EachWith(t, storetest.Options{Now: c.Now}, func(t *testing.T, s *store.Store) {
		agent := staffUser(t, s, "agent@example.com", models.RoleStaff)
		secret, recovery := enrol(t, s, c, agent)

		t.Run("code_of_the_enrolment_step_is_spent", func(t *testing.T) {
			if _, err := s.VerifySecondFactor(ctx, agent.ID, codeAt(t, secret, c.Now())); !errors.Is(err, models.ErrUsed) {
				t.Fatalf("the code that confirmed enrolment worked again: %v", err)
			}
		})
		t.Run("skew_of_one_step_and_replay_refused", func(t *testing.T) {
			c.Add(5 * models.TOTPPeriod)
			// The phone runs one step behind: its code still works, once.
			late := codeAt(t, secret, c.Now().Add(-models.TOTPPeriod))
			if _, err := s.VerifySecondFactor(ctx, agent.ID, late); err != nil {
				t.Fatalf("a code one step old was refused: %v", err)
			}
			if _, err := s.VerifySecondFactor(ctx, agent.ID, late); !errors.Is(err, models.ErrUsed) {
				t.Fatalf("the same code worked twice: %v", err)
			}
			now := codeAt(t, secret, c.Now())
			if _, err := s.VerifySecondFactor(ctx, agent.ID, " "+now[:3]+" "+now[3:]); err != nil {
				t.Fatalf("the current code, typed with spaces, was refused: %v", err)
			}
			if _, err := s.VerifySecondFactor(ctx, agent.ID, now); !errors.Is(err, models.ErrUsed) {
				t.Fatalf("the current code was replayed within its window: %v", err)
			}
			c.Add(models.TOTPPeriod)
			if _, err := s.VerifySecondFactor(ctx, agent.ID, codeAt(t, secret, c.Now())); err != nil {
				t.Fatalf("the next step's code was refused: %v", err)
			}
			if _, err := s.VerifySecondFactor(ctx, agent.ID, codeAt(t, secret, c.Now().Add(-2*models.TOTPPeriod))); !errors.Is(err, models.ErrInvalidCode) {
				t.Fatalf("a code two steps old: %v, want ErrInvalidCode", err)
			}
		})
		t.Run("recovery_codes_are_single_use", func(t *testing.T) {
			res, err := s.VerifySecondFactor(ctx, agent.ID, recovery[0])
			if err != nil || !res.UsedRecoveryCode || res.RecoveryLeft != models.RecoveryCodeCount-1 {
				t.Fatalf("recovery code: %+v, %v", res, err)
			}
			if _, err := s.VerifySecondFactor(ctx, agent.ID, recovery[0]); !errors.Is(err, models.ErrInvalidCode) {
				t.Fatalf("a used recovery code worked again: %v", err)
			}
			// Typed in capitals without the dash, it is the same code.
			res, err = s.VerifySecondFactor(ctx, agent.ID, upperNoDash(recovery[1]))
			if err != nil || res.RecoveryLeft != models.RecoveryCodeCount-2 {
				t.Fatalf("recovery code typed differently: %+v, %v", res, err)
			}
			other := staffUser(t, s, "other@example.com", models.RoleStaff)
			enrol(t, s, c, other)
			if _, err := s.VerifySecondFactor(ctx, other.ID, recovery[2]); !errors.Is(err, models.ErrInvalidCode) {
				t.Fatalf("one agent's recovery code worked for another: %v", err)
			}
		})
		t.Run("lockout_after_wrong_codes", func(t *testing.T) {
			c.Add(10 * models.TOTPPeriod)
			wrong := "000000"
			if wrong == codeAt(t, secret, c.Now()) {
				wrong = "111111"
			}
			for i := 1; i < models.MaxCodeAttempts; i++ {
				if _, err := s.VerifySecondFactor(ctx, agent.ID, wrong); !errors.Is(err, models.ErrInvalidCode) {
					t.Fatalf("wrong code %d: %v", i, err)
				}
			}
			var locked *models.LockedError
			if _, err := s.VerifySecondFactor(ctx, agent.ID, wrong); !errors.As(err, &locked) || !locked.Until.Equal(c.Now().Add(models.CodeLockout)) {
				t.Fatalf("wrong code %d: %v, want a lockout until %s", models.MaxCodeAttempts, err, c.Now().Add(models.CodeLockout))
			}
			if _, err := s.VerifySecondFactor(ctx, agent.ID, codeAt(t, secret, c.Now())); !errors.As(err, &locked) {
				t.Fatalf("the right code was checked during the lockout: %v", err)
			}
			if f, _ := s.SecondFactor(ctx, agent.ID); f.LockedUntil == nil {
				t.Error("SecondFactor does not show the lockout")
			}
			c.Add(models.CodeLockout)
			if _, err := s.VerifySecondFactor(ctx, agent.ID, codeAt(t, secret, c.Now())); err != nil {
				t.Fatalf("the right code after the lockout: %v", err)
			}
			// A success starts the count again.
			for i := 1; i < models.MaxCodeAttempts; i++ {
				if _, err := s.VerifySecondFactor(ctx, agent.ID, wrong); !errors.Is(err, models.ErrInvalidCode) {
					t.Fatalf("wrong code %d after a success: %v", i, err)
				}
			}
		})
	})
}

func upperNoDash(s string) string {
	out := []byte{}
	for i := 0; i < len(s); i++ {
		ch := s[i]
		if ch == '-' {
			continue
		}
		if ch >= 'a' && ch <= 'z' {
			ch -= 'a' - 'A'
		}
		out = append(out, ch)
	}
	return string(out)
}

func TestStore_StaffAccounts(t *testing.T) {
	c := newClock(day0)
	storetest.EachWith(t, storetest.Options{Now: c.Now}, func(t *testing.T, s *store.Store) {
		lead := staffUser(t, s, "lead@example.com", models.RoleLead)
		agent := staffUser(t, s, "agent@example.com", models.RoleStaff)
		g := guardian(t, s, "pat@example.com")
		asLead := models.Actor{UserID: lead.ID, Role: models.RoleLead}
		asAgent := models.Actor{UserID: agent.ID, Role: models.RoleStaff}
		session := func(uid int64) {
			_, hash := store.NewToken()
			if err := s.CreateSession(ctx, store.Session{IDHash: hash, UserID: uid, Data: "{}", CreatedAt: c.Now(), LastSeenAt: c.Now(), ExpiresAt: c.Now().Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
		}
		sessions := func(uid int64) int64 {
			n, err := s.CountUserSessions(ctx, uid)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}

		t.Run("only_leads_list_and_act", func(t *testing.T) {
			if _, err := s.StaffAccounts(ctx, asAgent); !errors.Is(err, models.ErrForbidden) {
				t.Errorf("an agent listed staff accounts: %v", err)
			}
			if _, err := s.StaffAuditEvents(ctx, asAgent, 0, 10); !errors.Is(err, models.ErrForbidden) {
				t.Errorf("an agent read the staff audit trail: %v", err)
			}
			other := staffUser(t, s, "other@example.com", models.RoleStaff)
			if err := s.SetStaffDisabled(ctx, asAgent, other.ID, true, "because"); !errors.Is(err, models.ErrForbidden) {
				t.Errorf("an agent disabled another: %v", err)
			}
			if err := s.ResetSecondFactor(ctx, asAgent, other.ID, "because"); !errors.Is(err, models.ErrForbidden) {
				t.Errorf("an agent reset a second factor: %v", err)
			}
			if err := s.SetStaffDisabled(ctx, asLead, lead.ID, true, "tired"); !errors.Is(err, models.ErrForbidden) {
				t.Errorf("a lead disabled themselves: %v", err)
			}
			if err := s.SetStaffDisabled(ctx, asLead, g.ID, true, "not staff"); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("a guardian was disabled through the staff pages: %v", err)
			}
			if err := s.SetStaffDisabled(ctx, asLead, agent.ID, true, "   "); models.FieldErrors(err)["reason"] == "" {
				t.Errorf("disabling without a reason: %v", err)
			}
			list, err := s.StaffAccounts(ctx, asLead)
			if err != nil {
				t.Fatal(err)
			}
			var emails []string
			for _, a := range list {
				emails = append(emails, a.User.Email)
			}
			if len(list) != 3 || list[0].User.ID != lead.ID {
				t.Errorf("staff accounts = %v, want the lead first and two agents, no guardian", emails)
			}
			if u, _ := s.User(ctx, agent.ID); u.Disabled() {
				t.Error("a refused action changed the account")
			}
		})

		t.Run("disable_ends_sessions_and_is_audited", func(t *testing.T) {
			session(agent.ID)
			session(agent.ID)
			session(lead.ID)
			if err := s.SetStaffDisabled(ctx, asLead, agent.ID, true, "Left the team on Friday"); err != nil {
				t.Fatal(err)
			}
			if n := sessions(agent.ID); n != 0 {
				t.Errorf("%d sessions of the disabled agent survive", n)
			}
			if n := sessions(lead.ID); n != 1 {
				t.Errorf("the lead's own session count = %d, want 1", n)
			}
			if _, err := s.Authenticate(ctx, "agent@example.com", "correct horse battery", models.RoleStaff); !errors.Is(err, models.ErrInvalidCredentials) {
				t.Errorf("a disabled agent signs in: %v", err)
			}
			if err := s.SetStaffDisabled(ctx, asLead, agent.ID, true, "again"); !errors.Is(err, models.ErrConflict) {
				t.Errorf("disabling twice: %v", err)
			}
			if err := s.SetStaffDisabled(ctx, asLead, agent.ID, false, "Back from leave"); err != nil {
				t.Fatal(err)
			}
			if _, err := s.Authenticate(ctx, "agent@example.com", "correct horse battery", models.RoleStaff); err != nil {
				t.Errorf("a re-enabled agent cannot sign in: %v", err)
			}
			es, err := s.StaffAuditEvents(ctx, asLead, agent.ID, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(es) != 2 || es[0].Action != models.StaffEnabled || es[1].Action != models.StaffDisabled ||
				es[1].Reason != "Left the team on Friday" || es[1].ActorID != lead.ID || es[1].ActorName != lead.Name || es[1].SubjectEmail != "agent@example.com" {
				t.Fatalf("audit trail = %+v", es)
			}
		})

		t.Run("reset_second_factor", func(t *testing.T) {
			secret, recovery := enrol(t, s, c, agent)
			session(agent.ID)
			if err := s.ResetSecondFactor(ctx, asLead, agent.ID, "Lost their phone"); err != nil {
				t.Fatal(err)
			}
			if n := sessions(agent.ID); n != 0 {
				t.Errorf("%d sessions survive a reset", n)
			}
			if f, _ := s.SecondFactor(ctx, agent.ID); f.Enrolled() || f.RecoveryLeft != 0 {
				t.Errorf("after reset: %+v", f)
			}
			c.Add(models.TOTPPeriod)
			if _, err := s.VerifySecondFactor(ctx, agent.ID, recovery[0]); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("an old recovery code after reset: %v", err)
			}
			enr, err := s.StartTOTPEnrolment(ctx, agent)
			if err != nil || enr.Secret == secret {
				t.Errorf("re-enrolment after reset: secret reused=%v, err %v", enr.Secret == secret, err)
			}
			if err := s.ResetSecondFactor(ctx, asLead, g.ID, "x"); !errors.Is(err, models.ErrNotFound) {
				t.Errorf("resetting a guardian: %v", err)
			}
			es, _ := s.StaffAuditEvents(ctx, asLead, agent.ID, 1)
			if len(es) != 1 || es[0].Action != models.StaffSecondFactorReset || es[0].Reason != "Lost their phone" {
				t.Errorf("newest audit entry = %+v", es)
			}
		})

		t.Run("operator_disable_is_audited_and_ends_sessions", func(t *testing.T) {
			ops := staffUser(t, s, "ops@example.com", models.RoleStaff)
			session(ops.ID)
			if err := s.DisableUser(ctx, ops.ID); err != nil {
				t.Fatal(err)
			}
			if n := sessions(ops.ID); n != 0 {
				t.Errorf("%d sessions survive hearth user disable", n)
			}
			es, _ := s.StaffAuditEvents(ctx, asLead, ops.ID, 10)
			if len(es) != 1 || es[0].Action != models.StaffDisabled || es[0].ActorID != 0 || es[0].ActorName != models.OperatorActorName {
				t.Errorf("operator disable audit = %+v", es)
			}
			if err := s.DisableUser(ctx, g.ID); err != nil {
				t.Fatal(err)
			}
			if es, _ := s.StaffAuditEvents(ctx, asLead, g.ID, 10); len(es) != 0 {
				t.Errorf("disabling a guardian wrote to the staff audit trail: %+v", es)
			}
		})
	})
}
