package client

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"github.com/hearth-safety/hearth/policy"
)

// Teen is what Hearth needs to know about a teen to supervise them. Its JSON
// is the body of PUT /api/v1/teens/{platform_user_id}.
type Teen struct {
	// DisplayName is the name guardians and support staff see.
	DisplayName string `json:"display_name"`
	// BirthMonth is "YYYY-MM"; Hearth never stores a birth date. Ages 13–17
	// only.
	BirthMonth string `json:"birth_month"`
	// Timezone is an IANA zone such as "Europe/London"; quiet hours are read
	// in it.
	Timezone string `json:"timezone"`
}

// ProvisionTeen creates or updates the teen with the messaging service's
// user ID platformUserID, and reports whether Hearth created them (201) or
// updated them (200). Calling it again with the same values is harmless, so
// it is retried. A 422 lists the refused fields (an age outside 13–17, an
// unknown zone) in the *Error.
func (c *Client) ProvisionTeen(ctx context.Context, platformUserID string, t Teen) (created bool, err error) {
	path, err := teenPath(platformUserID, "")
	if err != nil {
		return false, err
	}
	body, err := json.Marshal(t)
	if err != nil {
		return false, err
	}
	a, err := c.do(ctx, &request{method: http.MethodPut, path: path, body: body, ok: []int{http.StatusCreated, http.StatusOK}})
	if err != nil {
		return false, err
	}
	return a.status == http.StatusCreated, nil
}

// SignInLink is a single-use link that signs a teen in to Hearth, valid
// until ExpiresAt (ten minutes). It is a credential: hand it to the teen's
// app to open, and never log it.
type SignInLink struct {
	URL       string    `json:"url"`
	ExpiresAt time.Time `json:"expires_at"`
}

// SignInLink asks Hearth for a new sign-in link for the teen platformUserID,
// for the app to open when the teen taps "Safety settings" or similar. Each
// call makes a new link; a retried call may leave an unused one behind,
// which expires by itself. A teen Hearth does not know is a 404 *Error.
func (c *Client) SignInLink(ctx context.Context, platformUserID string) (SignInLink, error) {
	path, err := teenPath(platformUserID, "/signin-links")
	if err != nil {
		return SignInLink{}, err
	}
	a, err := c.do(ctx, &request{method: http.MethodPost, path: path, ok: []int{http.StatusCreated}})
	if err != nil {
		return SignInLink{}, err
	}
	var l SignInLink
	if err := json.Unmarshal(a.body, &l); err != nil {
		return SignInLink{}, badAnswer(http.MethodPost, path, err)
	}
	if u, err := url.Parse(l.URL); err != nil || !u.IsAbs() || l.ExpiresAt.IsZero() {
		return SignInLink{}, badAnswer(http.MethodPost, path, errors.New(`want an absolute "url" and an "expires_at"`))
	}
	return l, nil
}

// EffectivePolicy is a supervised teen's DM rules as Hearth applies them
// now, for the app to show the teen their limits. Its JSON is the body of
// GET /api/v1/teens/{platform_user_id}/policy.
type EffectivePolicy struct {
	// Version only grows; it is the version a DM check decided by, and what
	// CheckRequest.MinPolicyVersion refers to.
	Version int64 `json:"version"`
	// Audience is who may start a DM: everyone, friends, approved or nobody.
	Audience   policy.Audience `json:"audience"`
	QuietHours QuietHours      `json:"quiet_hours"`
	// BlockAdultStrangers denies DMs from adults who are not mutual
	// followers.
	BlockAdultStrangers bool `json:"block_adult_strangers"`
	// MediaFriendsOnly denies media and links from accounts that are not
	// mutual followers.
	MediaFriendsOnly bool `json:"media_friends_only"`
	// MinSenderAccountAgeDays sends DMs from younger accounts to requests;
	// 0 means no minimum.
	MinSenderAccountAgeDays int       `json:"min_sender_account_age_days"`
	ApprovedContacts        []Contact `json:"approved_contacts"`
	BlockedContacts         []Contact `json:"blocked_contacts"`
}

// QuietHours is the daily window, in the teen's time zone, during which DMs
// are held. Start and End are "HH:MM"; a Start later than End runs past
// midnight.
type QuietHours struct {
	// Enabled is false when the teen has no quiet hours; Start and End may
	// still hold the window that switching them on would use.
	Enabled bool   `json:"enabled"`
	Start   string `json:"start"`
	End     string `json:"end"`
	// ApprovedExempt lets approved contacts through during quiet hours.
	ApprovedExempt bool `json:"approved_exempt"`
}

// UnmarshalJSON reads quiet hours with or without an "enabled" field: an
// object without one means the window is on, and null means off.
func (q *QuietHours) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		*q = QuietHours{}
		return nil
	}
	var w struct {
		Enabled        *bool  `json:"enabled"`
		Start          string `json:"start"`
		End            string `json:"end"`
		ApprovedExempt bool   `json:"approved_exempt"`
	}
	if err := json.Unmarshal(b, &w); err != nil {
		return err
	}
	*q = QuietHours{Enabled: w.Enabled == nil || *w.Enabled, Start: w.Start, End: w.End, ApprovedExempt: w.ApprovedExempt}
	if q.Enabled {
		if _, err := time.Parse("15:04", q.Start); err != nil {
			return fmt.Errorf("quiet_hours.start %q is not HH:MM", q.Start)
		}
		if _, err := time.Parse("15:04", q.End); err != nil {
			return fmt.Errorf("quiet_hours.end %q is not HH:MM", q.End)
		}
	}
	return nil
}

// String returns "22:00–07:00", or "off".
func (q QuietHours) String() string {
	if !q.Enabled {
		return "off"
	}
	return q.Start + "–" + q.End
}

// Contact is an approved or blocked contact: the other account's platform
// user ID and the label a guardian gave it.
type Contact struct {
	ID    string `json:"id"`
	Label string `json:"label"`
}

// TeenPolicy returns the DM rules Hearth applies to the teen platformUserID
// now. A teen Hearth does not know, or nobody supervises, is a 404 *Error.
func (c *Client) TeenPolicy(ctx context.Context, platformUserID string) (EffectivePolicy, error) {
	path, err := teenPath(platformUserID, "/policy")
	if err != nil {
		return EffectivePolicy{}, err
	}
	a, err := c.do(ctx, &request{method: http.MethodGet, path: path, ok: []int{http.StatusOK}})
	if err != nil {
		return EffectivePolicy{}, err
	}
	// Version and audience must be there: a missing audience would read as
	// "everyone", the loosest, and show the teen limits they do not have.
	var present struct {
		Version  *int64           `json:"version"`
		Audience *policy.Audience `json:"audience"`
	}
	var p EffectivePolicy
	if err := json.Unmarshal(a.body, &present); err != nil {
		return EffectivePolicy{}, badAnswer(http.MethodGet, path, err)
	}
	if err := json.Unmarshal(a.body, &p); err != nil {
		return EffectivePolicy{}, badAnswer(http.MethodGet, path, err)
	}
	if present.Version == nil || present.Audience == nil {
		return EffectivePolicy{}, badAnswer(http.MethodGet, path, errors.New(`want "version" and "audience"`))
	}
	return p, nil
}

// DeleteTeen deprovisions the teen platformUserID: Hearth ends their
// supervision and erases their data. A teen Hearth does not know is a 404
// *Error, so that a wrong ID shows; but a 404 that answers a retry, after an
// attempt whose outcome is unknown (its answer lost, or a 500, 502 or 504),
// means that attempt did the work, and DeleteTeen returns nil.
func (c *Client) DeleteTeen(ctx context.Context, platformUserID string) error {
	path, err := teenPath(platformUserID, "")
	if err != nil {
		return err
	}
	_, err = c.do(ctx, &request{method: http.MethodDelete, path: path,
		ok: []int{http.StatusNoContent, http.StatusOK, http.StatusAccepted}, okOnRetry: []int{http.StatusNotFound}})
	return err
}

// badAnswer is the error for a success status whose body is not what the
// contract promises.
func badAnswer(method, path string, err error) error {
	return fmt.Errorf("hearth: %s %s: %w: malformed answer: %w", method, path, ErrUnavailable, err)
}
