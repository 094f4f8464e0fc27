// Package session keeps Hearth's sign-in sessions on the server, behind the
// gorilla/sessions Store interface. The cookie carries only a random session
// ID, signed; the database keeps its hash with the user, so signing out,
// resetting a password or disabling an account ends sessions at once.
package session

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"

	"github.com/gorilla/securecookie"
	"github.com/gorilla/sessions"

	"github.com/hearth-safety/hearth/models"
	"github.com/hearth-safety/hearth/models/store"
)

// Timeout is how long a session lives without activity (Idle) and at most
// (Absolute).
type Timeout struct {
	Idle, Absolute time.Duration
}

// Timeouts per role, from SECURITY.md: staff hold more power, so their
// sessions are shorter.
var Timeouts = map[models.Role]Timeout{
	models.RoleGuardian: {Idle: 30 * time.Minute, Absolute: 12 * time.Hour},
	models.RoleTeen:     {Idle: 30 * time.Minute, Absolute: 12 * time.Hour},
	models.RoleStaff:    {Idle: 15 * time.Minute, Absolute: 8 * time.Hour},
	models.RoleLead:     {Idle: 15 * time.Minute, Absolute: 8 * time.Hour},
}

// PendingTimeout bounds a session that has the password but still waits
// for staff's second factor: it grants nothing, and a code step left alone
// this long starts over from the password.
var PendingTimeout = Timeout{Idle: 10 * time.Minute, Absolute: 10 * time.Minute}

// timeoutFor returns the timeouts of a session of role, or of a pending one.
func timeoutFor(role models.Role, pending bool) (Timeout, bool) {
	if pending {
		return PendingTimeout, true
	}
	to, ok := Timeouts[role]
	return to, ok
}

// touchEvery limits writes: activity is recorded at most this often, which
// shortens the idle timeout by at most this much.
const touchEvery = 30 * time.Second

const (
	keyUserID = "uid"
	keyRole   = "role"
	// keyPending marks a session whose password was right but whose
	// second factor is still to come. Current treats it as nobody.
	keyPending = "mfa_pending"
	// keyStaffVerified marks a staff session made after the second factor.
	// A staff session without it (one from before staff had a second
	// factor) is nobody.
	keyStaffVerified = "mfa_done"
)

// Store is a server-side gorilla/sessions store on Hearth's database.
type Store struct {
	db     *store.Store
	codecs []securecookie.Codec
	// Options are applied to the cookie. Secure and the __Host- name are
	// set by the caller when Hearth is served over TLS.
	Options sessions.Options
	Name    string
}

// New returns a Store signing its cookie with keyPairs (hash key, optional
// block key; later pairs verify cookies signed with rotated-out keys).
func New(db *store.Store, name string, secure bool, keyPairs ...[]byte) *Store {
	codecs := securecookie.CodecsFromPairs(keyPairs...)
	for _, c := range codecs {
		if sc, ok := c.(*securecookie.SecureCookie); ok {
			sc.MaxAge(int(Timeouts[models.RoleGuardian].Absolute / time.Second))
		}
	}
	return &Store{db: db, codecs: codecs, Name: name, Options: sessions.Options{
		Path: "/", HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode,
	}}
}

// Get returns the request's session, cached for the request's lifetime.
func (s *Store) Get(r *http.Request, name string) (*sessions.Session, error) {
	return sessions.GetRegistry(r).Get(s, name)
}

// New loads the session named by the cookie, or returns a new empty one when
// there is none or it has ended (idle, absolute or revoked).
func (s *Store) New(r *http.Request, name string) (*sessions.Session, error) {
	sess := sessions.NewSession(s, name)
	opts := s.Options
	sess.Options = &opts
	sess.IsNew = true
	c, err := r.Cookie(name)
	if err != nil {
		return sess, nil
	}
	var id string
	if err := securecookie.DecodeMulti(name, c.Value, &id, s.codecs...); err != nil {
		return sess, nil // forged or signed with a retired key: start afresh
	}
	row, err := s.db.SessionByHash(r.Context(), store.HashToken(id))
	if errors.Is(err, models.ErrNotFound) {
		return sess, nil
	} else if err != nil {
		return sess, err
	}
	vals := map[string]any{}
	if err := json.Unmarshal([]byte(row.Data), &vals); err != nil {
		return sess, nil
	}
	if row.UserID == 0 {
		return sess, nil
	}
	vals[keyUserID] = row.UserID // the column is the truth; JSON would give a float
	role := models.Role(stringVal(vals[keyRole]))
	pending, _ := vals[keyPending].(bool)
	to, ok := timeoutFor(role, pending)
	now := s.db.Now()
	if !ok || now.Sub(row.LastSeenAt) > to.Idle {
		s.db.DeleteSession(r.Context(), row.IDHash)
		return sess, nil
	}
	if now.Sub(row.LastSeenAt) > touchEvery {
		if err := s.db.TouchSession(r.Context(), row.IDHash, now); err != nil {
			return sess, err
		}
	}
	sess.ID = id
	sess.IsNew = false
	for k, v := range vals {
		sess.Values[k] = v
	}
	return sess, nil
}

// Save writes the session's values, creating the row and cookie for a new
// one. A negative MaxAge deletes the session and the cookie.
func (s *Store) Save(r *http.Request, w http.ResponseWriter, sess *sessions.Session) error {
	ctx := r.Context()
	if sess.Options.MaxAge < 0 {
		if sess.ID != "" {
			if err := s.db.DeleteSession(ctx, store.HashToken(sess.ID)); err != nil {
				return err
			}
		}
		http.SetCookie(w, sessions.NewCookie(sess.Name(), "", sess.Options))
		return nil
	}
	data, err := encode(sess.Values)
	if err != nil {
		return err
	}
	if sess.ID != "" && !sess.IsNew {
		return s.db.UpdateSessionData(ctx, store.HashToken(sess.ID), data)
	}
	uid, _ := sess.Values[keyUserID].(int64)
	role := models.Role(stringVal(sess.Values[keyRole]))
	pending, _ := sess.Values[keyPending].(bool)
	to, ok := timeoutFor(role, pending)
	if uid == 0 || !ok {
		return errors.New("session: only signed-in sessions are stored")
	}
	raw, hash := store.NewToken()
	now := s.db.Now()
	if err := s.db.CreateSession(ctx, store.Session{IDHash: hash, UserID: uid, Data: data,
		CreatedAt: now, LastSeenAt: now, ExpiresAt: now.Add(to.Absolute)}); err != nil {
		return err
	}
	sess.ID = raw
	sess.IsNew = false
	encoded, err := securecookie.EncodeMulti(sess.Name(), raw, s.codecs...)
	if err != nil {
		return err
	}
	opts := *sess.Options
	opts.MaxAge = int(to.Absolute / time.Second)
	http.SetCookie(w, sessions.NewCookie(sess.Name(), encoded, &opts))
	return nil
}

// SignIn replaces whatever session the request had with a new one for u:
// a fresh ID at every sign-in defeats session fixation. Support staff get
// here only after their second factor (see SignInPending); their session
// is marked as having passed it.
func (s *Store) SignIn(w http.ResponseWriter, r *http.Request, u models.User) error {
	return s.start(w, r, u, false)
}

// SignInPending replaces the request's session with one that only says
// staff member u gave the right password. It grants nothing: Current sees
// nobody, Pending sees u, and SignIn replaces it (with a new ID) once the
// second factor is right. It lasts PendingTimeout.
func (s *Store) SignInPending(w http.ResponseWriter, r *http.Request, u models.User) error {
	return s.start(w, r, u, true)
}

func (s *Store) start(w http.ResponseWriter, r *http.Request, u models.User, pending bool) error {
	if old, err := s.Get(r, s.Name); err == nil && old.ID != "" {
		s.db.DeleteSession(r.Context(), store.HashToken(old.ID))
	}
	sess := sessions.NewSession(s, s.Name)
	opts := s.Options
	sess.Options = &opts
	sess.IsNew = true
	sess.Values[keyUserID] = u.ID
	sess.Values[keyRole] = string(u.Role)
	if pending {
		sess.Values[keyPending] = true
	} else if u.Role.IsStaff() {
		sess.Values[keyStaffVerified] = true
	}
	return s.Save(r, w, sess)
}

// SignOut ends the request's session, server-side and in the browser.
func (s *Store) SignOut(w http.ResponseWriter, r *http.Request) error {
	sess, err := s.Get(r, s.Name)
	if err != nil {
		return err
	}
	sess.Options.MaxAge = -1
	return s.Save(r, w, sess)
}

// Current returns who the request's session belongs to: the user ID and
// role, or zero values when nobody is signed in. A session still waiting
// for a second factor is nobody here (see Pending).
func (s *Store) Current(r *http.Request) (int64, models.Role, error) {
	uid, role, pending, err := s.identity(r)
	if pending {
		return 0, "", err
	}
	return uid, role, err
}

// Pending returns the staff member whose session has the right password
// but not yet the second factor, or zero values when the session is not
// such a one.
func (s *Store) Pending(r *http.Request) (int64, models.Role, error) {
	uid, role, pending, err := s.identity(r)
	if !pending {
		return 0, "", err
	}
	return uid, role, err
}

func (s *Store) identity(r *http.Request) (int64, models.Role, bool, error) {
	sess, err := s.Get(r, s.Name)
	if err != nil || sess.IsNew {
		return 0, "", false, err
	}
	uid, _ := sess.Values[keyUserID].(int64)
	pending, _ := sess.Values[keyPending].(bool)
	role := models.Role(stringVal(sess.Values[keyRole]))
	if verified, _ := sess.Values[keyStaffVerified].(bool); role.IsStaff() && !pending && !verified {
		return 0, "", false, nil
	}
	return uid, role, pending, nil
}

// EndUser ends every session of a user, wherever they are signed in.
func (s *Store) EndUser(ctx context.Context, userID int64) error {
	return s.db.DeleteUserSessions(ctx, userID)
}

func stringVal(v any) string {
	s, _ := v.(string)
	return s
}

// encode stores values as JSON with string keys.
func encode(vals map[any]any) (string, error) {
	m := make(map[string]any, len(vals))
	for k, v := range vals {
		ks, ok := k.(string)
		if !ok {
			return "", errors.New("session: keys must be strings")
		}
		m[ks] = v
	}
	b, err := json.Marshal(m)
	return string(b), err
}
