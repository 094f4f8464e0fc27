package policycache_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hearth-safety/hearth/models"
	"github.com/hearth-safety/hearth/models/store"
	"github.com/hearth-safety/hearth/models/store/storetest"
	"github.com/hearth-safety/hearth/policy"
	"github.com/hearth-safety/hearth/web/policycache"
)

var ctx = context.Background()

// linkedTeen provisions a 14-year-old and links a guardian, so the teen is
// supervised with the age defaults. It returns the client, teen and
// guardian.
func linkedTeen(t *testing.T, s *store.Store, id string) (models.ServiceClient, models.Teen, models.User) {
	t.Helper()
	cl, _, err := s.CreateClient(ctx, store.NewClient{Name: "chat-" + id})
	if err != nil {
		t.Fatal(err)
	}
	now := s.Now()
	born := time.Date(now.Year()-14, now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -2, 0).Format("2006-01")
	teen, _, err := s.UpsertTeen(ctx, cl.ID, id, store.TeenInput{DisplayName: "Maya", BirthMonth: born, TimeZone: "Europe/London"})
	if err != nil {
		t.Fatal(err)
	}
	g, err := s.CreateUser(ctx, store.NewUser{Email: id + "@example.com", Name: "Pat", Password: "long enough phrase", Role: models.RoleGuardian})
	if err != nil {
		t.Fatal(err)
	}
	_, code, err := s.CreateInvitation(ctx, models.Actor{UserID: g.ID, Role: models.RoleGuardian}, "Maya")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AcceptInvitation(ctx, models.Actor{UserID: teen.UserID, Role: models.RoleTeen}, code); err != nil {
		t.Fatal(err)
	}
	return cl, teen, g
}

func TestCache_LoadsAndFollowsChanges(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		cl, teen, g := linkedTeen(t, s, "tk_maya")
		a := policycache.New(s, policycache.Config{Poll: time.Hour}) // syncs only when told
		if err := a.Start(ctx); err != nil {
			t.Fatal(err)
		}
		defer a.Stop(ctx)
		e := a.Lookup(cl.ID, "tk_maya")
		if e == nil || e.Policy.Audience != policy.AudienceFriends || !e.Policy.BlockAdultStrangers {
			t.Fatalf("loaded entry %+v, want the 14-year-old defaults", e)
		}
		if a.Lookup(cl.ID, "u_stranger") != nil || a.Lookup(cl.ID+1, "tk_maya") != nil {
			t.Fatal("an unsupervised ID or another client's teen is in the cache")
		}
		if !a.Current() {
			t.Fatal("a freshly synced cache is not current")
		}
		if _, ok, current := a.Client(cl.KeyHash); !ok || !current {
			t.Fatal("the client's key is not cached")
		}

		// A change through the store, awaited the way writers do, is in
		// this node's copy when the write returns.
		s.AfterPolicyCommit = func(ctx context.Context, seq int64) {
			if err := a.AwaitApplied(ctx, seq, time.Now()); err != nil {
				t.Errorf("AwaitApplied: %v", err)
			}
		}
		defer func() { s.AfterPolicyCommit = nil }()
		cur, err := s.TeenPolicy(ctx, models.Actor{UserID: g.ID, Role: models.RoleGuardian}, teen.ID)
		if err != nil {
			t.Fatal(err)
		}
		next := cur
		next.Audience = policy.AudienceNobody
		if _, err := s.UpdatePolicy(ctx, models.Actor{UserID: g.ID, Role: models.RoleGuardian}, teen.ID, store.PolicyChange{Rules: next, ExpectVersion: cur.Version}); err != nil {
			t.Fatal(err)
		}
		if e := a.Lookup(cl.ID, "tk_maya"); e == nil || e.Policy.Audience != policy.AudienceNobody || e.Policy.Version != cur.Version+1 {
			t.Fatalf("after the change the cache holds %+v", e)
		}

		// Ending the last link removes the teen from the copy.
		links, err := s.TeenGuardians(ctx, models.Actor{UserID: teen.UserID, Role: models.RoleTeen})
		if err != nil || len(links) != 1 {
			t.Fatal(links, err)
		}
		if err := s.EndLink(ctx, models.Actor{UserID: g.ID, Role: models.RoleGuardian}, links[0].ID, ""); err != nil {
			t.Fatal(err)
		}
		if a.Lookup(cl.ID, "tk_maya") != nil {
			t.Fatal("a teen nobody supervises is still in the cache")
		}
	})
}

// flaky wraps the store and fails every read while down is set, as a node
// cut off from its database would see.
type flaky struct {
	*store.Store
	down atomic.Bool
}

func (f *flaky) PolicySnapshots(ctx context.Context, after int64) ([]models.PolicySnapshot, int64, error) {
	if f.down.Load() {
		return nil, 0, errors.New("connection refused")
	}
	return f.Store.PolicySnapshots(ctx, after)
}

func TestCache_WriterWaitsOutANodeThatCannotSync(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		cl, teen, g := linkedTeen(t, s, "tk_maya")
		lease := 300 * time.Millisecond
		writer := policycache.New(s, policycache.Config{Lease: lease, Poll: 20 * time.Millisecond})
		cut := &flaky{Store: s}
		other := policycache.New(cut, policycache.Config{Lease: lease, Poll: 20 * time.Millisecond})
		for _, c := range []*policycache.Cache{writer, other} {
			if err := c.Start(ctx); err != nil {
				t.Fatal(err)
			}
			defer c.Stop(ctx)
		}
		cut.down.Store(true)
		cur, _ := s.TeenPolicy(ctx, models.Actor{UserID: g.ID, Role: models.RoleGuardian}, teen.ID)
		next := cur
		next.Audience = policy.AudienceNobody
		var waited time.Duration
		s.AfterPolicyCommit = func(ctx context.Context, seq int64) {
			start := time.Now()
			// The cut-off node never confirms; the writer waits until its
			// heartbeat is a lease old, when it can no longer be current.
			if err := writer.AwaitApplied(ctx, seq, start); err != nil && !errors.Is(err, policycache.ErrNotConfirmed) {
				t.Errorf("AwaitApplied with a node cut off = %v", err)
			}
			waited = time.Since(start)
		}
		defer func() { s.AfterPolicyCommit = nil }()
		if _, err := s.UpdatePolicy(ctx, models.Actor{UserID: g.ID, Role: models.RoleGuardian}, teen.ID, store.PolicyChange{Rules: next, ExpectVersion: cur.Version}); err != nil {
			t.Fatal(err)
		}
		if waited < lease/2 {
			t.Errorf("the writer returned after %v without the cut-off node confirming", waited)
		}
		// The guarantee: once the write has returned, the cut-off node is
		// no longer current, so it does not decide by the old rules.
		if other.Current() {
			t.Fatal("a node that could not sync is still current after the write returned")
		}
		// Once its database is back it catches up and is current again.
		cut.down.Store(false)
		deadline := time.Now().Add(2 * time.Second)
		for time.Now().Before(deadline) && !(other.Current() && other.Applied() >= writer.Applied()) {
			time.Sleep(10 * time.Millisecond)
		}
		if e := other.Lookup(cl.ID, "tk_maya"); !other.Current() || e == nil || e.Policy.Audience != policy.AudienceNobody {
			t.Fatalf("after recovery the node is current=%v with %+v", other.Current(), e)
		}
	})
}

func TestCache_ForgetsErasedTeens(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		cl, _, _ := linkedTeen(t, s, "tk_maya")
		leoClient, _, _ := linkedTeen(t, s, "tk_leo")
		samClient, _, _ := linkedTeen(t, s, "tk_sam")
		var offset atomic.Int64
		clock := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
		a := policycache.New(s, policycache.Config{Poll: time.Hour})
		b := policycache.New(s, policycache.Config{Poll: time.Hour, Now: clock})
		for _, c := range []*policycache.Cache{a, b} {
			if err := c.Start(ctx); err != nil {
				t.Fatal(err)
			}
			defer c.Stop(ctx)
		}
		if a.Lookup(cl.ID, "tk_maya") == nil || b.Lookup(leoClient.ID, "tk_leo") == nil {
			t.Fatal("the supervised teens are not loaded")
		}

		// The writer's node has forgotten Maya when the erasure returns;
		// another node forgets her at its next sync.
		s.AfterPolicyCommit = func(ctx context.Context, seq int64) { a.AwaitApplied(ctx, seq, time.Now()) }
		defer func() { s.AfterPolicyCommit = nil }()
		if err := s.EraseTeen(ctx, cl.ID, "tk_maya"); err != nil {
			t.Fatal(err)
		}
		if a.Lookup(cl.ID, "tk_maya") != nil {
			t.Fatal("the writer's node still has the erased teen's rules")
		}
		if err := b.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		if b.Lookup(cl.ID, "tk_maya") != nil {
			t.Fatal("another node still has the erased teen's rules after a sync")
		}

		// A node that missed an erasure whose tombstone is gone still
		// forgets the teen once it has been silent long enough to reload.
		s.AfterPolicyCommit = nil
		if err := s.EraseTeen(ctx, leoClient.ID, "tk_leo"); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SQLDB().ExecContext(ctx, "DELETE FROM policy_tombstones"); err != nil {
			t.Fatal(err)
		}
		if err := b.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		if b.Lookup(leoClient.ID, "tk_leo") == nil {
			t.Fatal("without the tombstone a recent node should not know of the erasure (the test proves nothing)")
		}
		offset.Store(int64(25 * time.Hour))
		if err := b.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		if b.Lookup(leoClient.ID, "tk_leo") != nil {
			t.Error("a node silent for over a day did not reload: the erased teen is still there")
		}
		if b.Lookup(samClient.ID, "tk_sam") == nil || b.Lookup(cl.ID, "tk_maya") != nil {
			t.Error("the reload lost a supervised teen or brought back an erased one")
		}
	})
}

// TestCache_ClientSecretRotation: a sync brings a rotated client's new
// secret and the previous one with its expiry, so a node that answers from
// its copy knows both.
func TestCache_ClientSecretRotation(t *testing.T) {
	storetest.Each(t, func(t *testing.T, s *store.Store) {
		cl, _, err := s.CreateClient(ctx, store.NewClient{Name: "chat"})
		if err != nil {
			t.Fatal(err)
		}
		a := policycache.New(s, policycache.Config{Poll: time.Hour}) // syncs only when told
		if err := a.Start(ctx); err != nil {
			t.Fatal(err)
		}
		defer a.Stop(ctx)
		rotated, err := s.RotateWebhookSecret(ctx, "chat", time.Hour, "")
		if err != nil {
			t.Fatal(err)
		}
		if got, _, _ := a.Client(cl.KeyHash); got.WebhookSecret != cl.WebhookSecret || got.PreviousWebhookSecret != "" {
			t.Fatal("the copy changed before a sync")
		}
		if err := a.Sync(ctx); err != nil {
			t.Fatal(err)
		}
		got, ok, _ := a.Client(cl.KeyHash)
		if !ok || got.WebhookSecret != rotated.WebhookSecret || got.PreviousWebhookSecret != cl.WebhookSecret ||
			got.PreviousSecretExpiresAt == nil || !got.PreviousSecretExpiresAt.Equal(*rotated.PreviousSecretExpiresAt) {
			t.Fatalf("after a sync the copy holds %q, previous %q until %v", got.WebhookSecret, got.PreviousWebhookSecret, got.PreviousSecretExpiresAt)
		}
		if n := len(got.WebhookSecrets(s.Now())); n != 2 {
			t.Errorf("%d secrets in force in the grace period, want 2", n)
		}
	})
}
