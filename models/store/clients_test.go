package store_test

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/hearth-safety/hearth/models"
	"github.com/hearth-safety/hearth/models/store"
	"github.com/hearth-safety/hearth/models/store/storetest"
)

func TestStore_RotateWebhookSecret(t *testing.T) {
	c := newClock(day0)
	storetest.EachWith(t, storetest.Options{Now: c.Now}, func(t *testing.T, s *store.Store) {
		c.t.Store(day0.UnixNano())
		cl, key := newClient(t, s, "chat")
		first := cl.WebhookSecret
		if got := cl.WebhookSecrets(c.Now()); !slices.Equal(got, []string{first}) {
			t.Fatalf("before any rotation the secrets in force are %d, want the one", len(got))
		}

		rotated, err := s.RotateWebhookSecret(ctx, "chat", 24*time.Hour, "")
		if err != nil {
			t.Fatal(err)
		}
		second := rotated.WebhookSecret
		if second == first || store.ValidateWebhookSecret(second) != nil {
			t.Fatalf("rotation gave secret %q", second)
		}
		if rotated.PreviousWebhookSecret != first || rotated.PreviousSecretExpiresAt == nil || !rotated.PreviousSecretExpiresAt.Equal(day0.Add(24*time.Hour)) {
			t.Fatalf("after rotation: previous %q until %v, want the first secret until %v", rotated.PreviousWebhookSecret, rotated.PreviousSecretExpiresAt, day0.Add(24*time.Hour))
		}
		stored, err := s.ClientByKey(ctx, key)
		if err != nil {
			t.Fatal(err)
		}
		if stored.WebhookSecret != second || stored.PreviousWebhookSecret != first || !stored.PreviousSecretExpiresAt.Equal(*rotated.PreviousSecretExpiresAt) {
			t.Errorf("stored client does not match the rotation: %q, %q, %v", stored.WebhookSecret, stored.PreviousWebhookSecret, stored.PreviousSecretExpiresAt)
		}
		if byID, err := s.ActiveClient(ctx, cl.ID); err != nil || byID.WebhookSecret != second || byID.PreviousWebhookSecret != first {
			t.Errorf("ActiveClient = %q, %q, %v", byID.WebhookSecret, byID.PreviousWebhookSecret, err)
		}
		active, err := s.ActiveClients(ctx)
		if err != nil || len(active) != 1 || active[0].PreviousWebhookSecret != first || active[0].PreviousSecretExpiresAt == nil {
			t.Errorf("ActiveClients (what nodes cache) lacks the previous secret: %+v, %v", active, err)
		}
		if got := stored.WebhookSecrets(c.Now().Add(24*time.Hour - time.Second)); !slices.Equal(got, []string{second, first}) {
			t.Errorf("in the grace period %d secrets are in force, want the new then the old", len(got))
		}
		if got := stored.WebhookSecrets(c.Now().Add(24 * time.Hour)); !slices.Equal(got, []string{second}) {
			t.Errorf("once the grace period ends %d secrets are in force, want only the new", len(got))
		}

		// A given secret; the one still in its grace period is dropped.
		given := "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
		c.Add(time.Hour)
		third, err := s.RotateWebhookSecret(ctx, "chat", 0, given)
		if err != nil {
			t.Fatal(err)
		}
		if third.WebhookSecret != given || third.PreviousWebhookSecret != second {
			t.Errorf("second rotation: %q after %q", third.WebhookSecret, third.PreviousWebhookSecret)
		}
		if got := third.WebhookSecrets(c.Now()); !slices.Equal(got, []string{given}) {
			t.Errorf("a grace of 0 keeps %d secrets in force, want 1", len(got))
		}

		for name, tc := range map[string]struct {
			grace  time.Duration
			secret string
			field  string
		}{
			"negative_grace": {-time.Second, "", "grace"},
			"grace_too_long": {store.MaxSecretGrace + time.Second, "", "grace"},
			"not_whsec":      {time.Hour, "secret_abc", "webhook_secret"},
			"too_short":      {time.Hour, "whsec_AAAA", "webhook_secret"},
			"same_as_now":    {time.Hour, given, "webhook_secret"},
		} {
			_, err := s.RotateWebhookSecret(ctx, "chat", tc.grace, tc.secret)
			if _, ok := models.FieldErrors(err)[tc.field]; !ok {
				t.Errorf("%s: err = %v, want a validation error on %s", name, err, tc.field)
			}
		}
		if after, _ := s.ClientByKey(ctx, key); after.WebhookSecret != given {
			t.Errorf("a refused rotation changed the secret")
		}
		if _, err := s.RotateWebhookSecret(ctx, "nobody", time.Hour, ""); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("unknown client: err = %v, want ErrNotFound", err)
		}
		if err := s.RevokeClient(ctx, "chat"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.RotateWebhookSecret(ctx, "chat", time.Hour, ""); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("revoked client: err = %v, want ErrNotFound", err)
		}
		if _, err := s.ActiveClient(ctx, cl.ID); !errors.Is(err, models.ErrNotFound) {
			t.Errorf("ActiveClient of a revoked client: err = %v, want ErrNotFound", err)
		}
	})
}
