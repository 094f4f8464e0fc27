package session_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/securecookie"

	"github.com/hearth-safety/hearth/models"
	"github.com/hearth-safety/hearth/models/store"
	"github.com/hearth-safety/hearth/models/store/storetest"
	"github.com/hearth-safety/hearth/web/session"
)

type clock struct{ ns atomic.Int64 }

func (c *clock) now() time.Time      { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) add(d time.Duration) { c.ns.Add(int64(d)) }
func newClock(t time.Time) *clock    { c := &clock{}; c.ns.Store(t.UnixNano()); return c }
func key(b byte) []byte              { k := make([]byte, 32); k[0] = b; return k }
func cookieOf(w *httptest.ResponseRecorder) *http.Cookie {
	for _, c := range w.Result().Cookies() {
		if c.Name == "hearth_session" {
			return c
		}
	}
	return nil
}

// signIn starts a session for u and returns its cookie.
func signIn(t *testing.T, s *session.Store, u models.User) *http.Cookie {
	t.Helper()
	w := httptest.NewRecorder()
	if err := s.SignIn(w, httptest.NewRequest("POST", "/login", nil), u); err != nil {
		t.Fatal(err)
	}
	c := cookieOf(w)
	if c == nil || !c.HttpOnly || c.SameSite != http.SameSiteLaxMode {
		t.Fatalf("session cookie %+v lacks HttpOnly/SameSite=Lax", c)
	}
	return c
}

// current reads who a request carrying c belongs to.
func current(t *testing.T, s *session.Store, c *http.Cookie) (int64, models.Role) {
	t.Helper()
	r := httptest.NewRequest("GET", "/", nil)
	if c != nil {
		r.AddCookie(c)
	}
	uid, role, err := s.Current(r)
	if err != nil {
		t.Fatal(err)
	}
	return uid, role
}

func TestSessions(t *testing.T) {
	clk := newClock(time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC))
	storetest.EachWith(t, storetest.Options{Now: clk.now}, func(t *testing.T, st *store.Store) {
		ctx := context.Background()
		g, err := st.CreateUser(ctx, store.NewUser{Email: "g@example.com", Name: "G", Password: "long enough phrase", Role: models.RoleGuardian})
		if err != nil {
			t.Fatal(err)
		}
		agent, _ := st.CreateUser(ctx, store.NewUser{Email: "s@example.com", Name: "S", Password: "long enough phrase", Role: models.RoleStaff})
		s := session.New(st, "hearth_session", false, key(1), nil)

		t.Run("sign_in_then_read_back", func(t *testing.T) {
			c := signIn(t, s, g)
			if uid, role := current(t, s, c); uid != g.ID || role != models.RoleGuardian {
				t.Fatalf("Current = %d %q", uid, role)
			}
		})
		t.Run("new_id_at_every_sign_in", func(t *testing.T) {
			first := signIn(t, s, g)
			r := httptest.NewRequest("POST", "/login", nil)
			r.AddCookie(first)
			w := httptest.NewRecorder()
			if err := s.SignIn(w, r, g); err != nil {
				t.Fatal(err)
			}
			second := cookieOf(w)
			if second.Value == first.Value {
				t.Fatal("signing in again kept the session ID")
			}
			if uid, _ := current(t, s, first); uid != 0 {
				t.Fatal("the session replaced at sign-in still works")
			}
		})
		t.Run("forged_and_foreign_cookies_are_nobody", func(t *testing.T) {
			c := signIn(t, s, g)
			other := session.New(st, "hearth_session", false, key(2), nil)
			if uid, _ := current(t, other, c); uid != 0 {
				t.Fatal("a cookie signed with another key was accepted")
			}
			if uid, _ := current(t, s, &http.Cookie{Name: "hearth_session", Value: "garbage"}); uid != 0 {
				t.Fatal("a garbage cookie was accepted")
			}
		})
		t.Run("rotated_keys_still_verify", func(t *testing.T) {
			c := signIn(t, s, g)
			rotated := session.New(st, "hearth_session", false, key(9), nil, key(1), nil)
			if uid, _ := current(t, rotated, c); uid != g.ID {
				t.Fatal("a cookie signed with the previous key stopped working after rotation")
			}
		})
		t.Run("idle_timeout_by_role", func(t *testing.T) {
			gc, sc := signIn(t, s, g), signIn(t, s, agent)
			clk.add(20 * time.Minute)
			if uid, _ := current(t, s, gc); uid != g.ID {
				t.Fatal("guardian session ended after 20 idle minutes (limit 30)")
			}
			if uid, _ := current(t, s, sc); uid != 0 {
				t.Fatal("staff session survived 20 idle minutes (limit 15)")
			}
			clk.add(31 * time.Minute)
			if uid, _ := current(t, s, gc); uid != 0 {
				t.Fatal("guardian session survived 31 idle minutes")
			}
		})
		t.Run("absolute_timeout_despite_activity", func(t *testing.T) {
			c := signIn(t, s, g)
			for i := 0; i < 25; i++ { // 25 × 29 min ≈ 12 h 5 min of steady use
				clk.add(29 * time.Minute)
				current(t, s, c)
			}
			if uid, _ := current(t, s, c); uid != 0 {
				t.Fatal("a busy guardian session outlived the 12 h absolute limit")
			}
		})
		t.Run("pending_second_factor_is_nobody_until_signed_in", func(t *testing.T) {
			w := httptest.NewRecorder()
			if err := s.SignInPending(w, httptest.NewRequest("POST", "/staff/login", nil), agent); err != nil {
				t.Fatal(err)
			}
			pending := cookieOf(w)
			if uid, _ := current(t, s, pending); uid != 0 {
				t.Fatal("a session waiting for the second factor counts as signed in")
			}
			r := httptest.NewRequest("GET", "/staff/login/code", nil)
			r.AddCookie(pending)
			if uid, role, err := s.Pending(r); err != nil || uid != agent.ID || role != models.RoleStaff {
				t.Fatalf("Pending = %d %q %v", uid, role, err)
			}
			// The second factor done, the session is replaced under a new ID.
			r = httptest.NewRequest("POST", "/staff/login/code", nil)
			r.AddCookie(pending)
			w = httptest.NewRecorder()
			if err := s.SignIn(w, r, agent); err != nil {
				t.Fatal(err)
			}
			full := cookieOf(w)
			if full.Value == pending.Value {
				t.Fatal("the session ID did not change after the second factor")
			}
			if uid, _ := current(t, s, full); uid != agent.ID {
				t.Fatal("the signed-in staff session is nobody")
			}
			if uid, _ := current(t, s, pending); uid != 0 {
				t.Fatal("the pending session outlived the sign-in")
			}
		})
		t.Run("pending_second_factor_lasts_ten_minutes", func(t *testing.T) {
			w := httptest.NewRecorder()
			if err := s.SignInPending(w, httptest.NewRequest("POST", "/staff/login", nil), agent); err != nil {
				t.Fatal(err)
			}
			clk.add(session.PendingTimeout.Idle + time.Second)
			r := httptest.NewRequest("GET", "/staff/login/code", nil)
			r.AddCookie(cookieOf(w))
			if uid, _, _ := s.Pending(r); uid != 0 {
				t.Fatal("a code step survived past its timeout")
			}
		})
		t.Run("staff_session_without_second_factor_mark_is_nobody", func(t *testing.T) {
			// A staff session stored before the second factor existed.
			raw, hash := store.NewToken()
			now := clk.now()
			if err := st.CreateSession(ctx, store.Session{IDHash: hash, UserID: agent.ID, Data: `{"role":"staff","uid":` + strconv.FormatInt(agent.ID, 10) + `}`,
				CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(time.Hour)}); err != nil {
				t.Fatal(err)
			}
			enc, err := securecookie.EncodeMulti("hearth_session", raw, securecookie.CodecsFromPairs(key(1), nil)...)
			if err != nil {
				t.Fatal(err)
			}
			if uid, _ := current(t, s, &http.Cookie{Name: "hearth_session", Value: enc}); uid != 0 {
				t.Fatal("a staff session made without the second factor is signed in")
			}
		})
		t.Run("staff_absolute_timeout_is_8_hours", func(t *testing.T) {
			c := signIn(t, s, agent)
			for i := 0; i < 34; i++ { // 34 × 14 min ≈ 7 h 56 min of steady use
				clk.add(14 * time.Minute)
				if uid, _ := current(t, s, c); uid != agent.ID {
					t.Fatalf("a busy staff session ended after %d minutes", (i+1)*14)
				}
			}
			clk.add(14 * time.Minute)
			if uid, _ := current(t, s, c); uid != 0 {
				t.Fatal("a busy staff session outlived the 8 h absolute limit")
			}
		})
		t.Run("sign_out_and_end_user", func(t *testing.T) {
			c := signIn(t, s, g)
			r := httptest.NewRequest("POST", "/logout", nil)
			r.AddCookie(c)
			w := httptest.NewRecorder()
			if err := s.SignOut(w, r); err != nil {
				t.Fatal(err)
			}
			if uid, _ := current(t, s, c); uid != 0 {
				t.Fatal("session works after sign-out")
			}
			c1, c2 := signIn(t, s, g), signIn(t, s, g)
			if err := s.EndUser(ctx, g.ID); err != nil {
				t.Fatal(err)
			}
			for _, c := range []*http.Cookie{c1, c2} {
				if uid, _ := current(t, s, c); uid != 0 {
					t.Fatal("a session survived EndUser")
				}
			}
		})
	})
}
