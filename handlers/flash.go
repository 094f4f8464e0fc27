package handlers

import (
	"net/http"

	"github.com/gorilla/sessions"
	"github.com/labstack/echo/v4"

	"github.com/hearth-safety/hearth/views"
)

// FlashStore carries one-time messages across a redirect in a signed cookie,
// so pages shown to signed-out visitors need no server-side session. Only
// fixed texts from this package go in, never user input.
type FlashStore struct {
	cookies *sessions.CookieStore
	name    string
}

// NewFlashStore signs flash cookies with keyPairs (see securecookie).
func NewFlashStore(name string, secure bool, keyPairs ...[]byte) *FlashStore {
	cs := sessions.NewCookieStore(keyPairs...)
	cs.Options = &sessions.Options{Path: "/", MaxAge: 300, HttpOnly: true, Secure: secure, SameSite: http.SameSiteLaxMode}
	return &FlashStore{cookies: cs, name: name}
}

// Add queues a message for the next page this browser sees.
func (f *FlashStore) Add(c echo.Context, kind, message string) {
	s, _ := f.cookies.Get(c.Request(), f.name)
	s.AddFlash(kind + "|" + message)
	s.Save(c.Request(), c.Response())
}

// Take returns and clears the queued messages.
func (f *FlashStore) Take(c echo.Context) []views.Flash {
	if f == nil {
		return nil
	}
	if _, err := c.Cookie(f.name); err != nil {
		return nil
	}
	s, err := f.cookies.Get(c.Request(), f.name)
	if err != nil {
		return nil
	}
	raw := s.Flashes()
	if len(raw) == 0 {
		return nil
	}
	s.Save(c.Request(), c.Response())
	out := make([]views.Flash, 0, len(raw))
	for _, r := range raw {
		str, _ := r.(string)
		for i := 0; i < len(str); i++ {
			if str[i] == '|' {
				out = append(out, views.Flash{Kind: str[:i], Message: str[i+1:]})
				break
			}
		}
	}
	return out
}
