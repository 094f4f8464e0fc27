package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"gorm.io/gorm"

	"github.com/hearth-safety/hearth/models"
	"github.com/hearth-safety/hearth/policy"
)

// SeedBatch is how many teens SeedSupervisedTeens writes per transaction.
// On Postgres they go in one INSERT per table: 1,000 rows of the widest
// table (policies, 16 columns) are 16,000 bind parameters, under its limit
// of 65,535.
const SeedBatch = 1000

// seedRowsSQLite is how many rows go in one INSERT on SQLite. Its driver
// (glebarez/go-sqlite, as modernc.org/sqlite) matches every "?" bind parameter
// against every argument when binding, which is quadratic in the number
// of parameters: with 1,000 rows per INSERT, binding took 80% of the time
// and 100,000 teens 15 s; with 25 rows (400 parameters) about 3 s. For the
// same reason lookups send at most seedInChunk IDs per IN list.
var seedRowsSQLite = 25

const seedInChunk = 250

// SeedZones are the time zones seeded teens live in, in turn.
var SeedZones = []string{"Europe/London", "America/New_York", "Asia/Tokyo", "Europe/Berlin", "Australia/Sydney"}

// SeedPlatformID is the platform user ID SeedSupervisedTeens gives teen
// number i (1-based) under prefix: the number padded to six digits, so
// "tk_load_" gives tk_load_000001, tk_load_000002, …
func SeedPlatformID(prefix string, i int) string {
	s := strconv.Itoa(i)
	for len(s) < 6 {
		s = "0" + s
	}
	return prefix + s
}

// SeedAge is the age SeedSupervisedTeens gives teen number i (1-based):
// 13, 14, 15, 16, 17, 13, … so both sets of age defaults are well
// represented.
func SeedAge(i int) int { return models.MinSupervisedAge + (i-1)%5 }

// seedBirthMonth makes someone age years old now and for the next several
// months: born age years and two months ago (as the demo world does).
func seedBirthMonth(now time.Time, age int) models.BirthMonth {
	t := time.Date(now.Year()-age, now.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -2, 0)
	return models.BirthMonth{Year: t.Year(), Month: t.Month()}
}

// SeedSupervisedTeens provisions n teens for the service client clientID,
// each supervised by the guardian guardianID, for load tests (`hearth demo
// --teens N`). Teen number i (1 to n) is SeedPlatformID(prefix, i), named
// "Teen i", aged SeedAge(i), living in SeedZones[(i-1)%5]. Each gets a teen
// account (users row), a teens row, an active link to the guardian, and the
// age-default rules (policy.Defaults) as version 1, supervised, with a seq
// of its own taken from the same sequence every other rules change uses
// (policy_seq: nextval under the seq advisory lock on Postgres, the
// counter row on SQLite), so running nodes load the teens like any other
// change and the announce hooks run (OnPolicyChanged in each transaction,
// AfterPolicyCommit after it).
//
// It writes in transactions of SeedBatch teens, with one multi-row INSERT
// per table in each, and calls progress (when not nil) after every
// committed transaction with how many of the n teens are done so far
// (created or skipped). A failure leaves the batches before it committed.
//
// It is idempotent: an ID the client already has when it starts is
// skipped as it is, whatever its state (an existing teen is not linked,
// relinked or given rules), so running it again after an interruption
// completes the set. Should the messaging service provision one of the IDs
// while it runs, that batch fails as models.ErrConflict, writing nothing;
// run it again.
//
// Seeding writes no audit entries and no notifications, on purpose: the
// audit log records what a person (or Hearth acting on a person's behalf)
// did to a teen, and no person acts here; these teens are synthetic
// fixtures for benchmarks, and 100,000 hash-chained entries and "you now
// supervise…" notifications would describe events that never happened and
// make seeding many times slower. Use the invitation flow for teens that
// must look real.
//
// The guardian must be an existing, enabled guardian account and the
// client an active service client; otherwise the result is
// models.ErrNotFound. A prefix that does not make valid platform IDs is a
// validation error on "prefix".
func (s *Store) SeedSupervisedTeens(ctx context.Context, clientID, guardianID int64, prefix string, n int, progress func(done int)) error {
	switch {
	case n < 0 || n > 9_999_999:
		return models.Invalid("n", "must be between 0 and 9999999")
	case n == 0:
		return nil
	case !models.PlatformIDOK(SeedPlatformID(prefix, n)):
		return models.Invalid("prefix", "must make platform IDs of at most 64 characters of A–Z, a–z, 0–9 and _ . : -")
	}
	db := s.db.WithContext(ctx)
	var g userRow
	if err := db.Where("id = ?", guardianID).Take(&g).Error; err != nil {
		return mapErr(err)
	}
	if g.Role != string(models.RoleGuardian) || g.DisabledAt != nil {
		return fmt.Errorf("seed: user %d is not an enabled guardian: %w", guardianID, models.ErrNotFound)
	}
	var cl clientRow
	if err := db.Where("id = ?", clientID).Take(&cl).Error; err != nil {
		return mapErr(err)
	}
	if cl.RevokedAt != nil {
		return fmt.Errorf("seed: client %d is revoked: %w", clientID, models.ErrNotFound)
	}

	now := s.stamp()
	// The rules depend only on the age (the zone is stored with the teen,
	// not in the rules), so the five possible rows are made once.
	defaults := map[int]models.DMPolicy{}
	for age := models.MinSupervisedAge; age <= models.MaxSupervisedAge; age++ {
		defaults[age] = models.DMPolicyFrom(0, policy.Defaults(age, nil))
	}
	// The IDs the client has under prefix already, read once: a lookup
	// per batch would scan the table on Postgres, whose statistics lag
	// behind a table growing this fast.
	var taken []string
	if err := db.Model(&teenRow{}).Where("client_id = ? AND substr(platform_user_id, 1, ?) = ?", clientID, len(prefix), prefix).
		Pluck("platform_user_id", &taken).Error; err != nil {
		return err
	}
	skip := make(map[string]bool, len(taken))
	for _, id := range taken {
		skip[id] = true
	}
	for lo := 1; lo <= n; lo += SeedBatch {
		hi := min(lo+SeedBatch-1, n)
		if err := s.seedBatch(ctx, clientID, guardianID, prefix, lo, hi, skip, defaults, now); err != nil {
			return fmt.Errorf("seed teens %d–%d: %w", lo, hi, err)
		}
		if progress != nil {
			progress(hi)
		}
	}
	return nil
}

// seedBatch writes teens lo to hi (inclusive) in one transaction.
func (s *Store) seedBatch(ctx context.Context, clientID, guardianID int64, prefix string, lo, hi int,
	skip map[string]bool, defaults map[int]models.DMPolicy, now time.Time) error {
	ids := make([]string, 0, hi-lo+1)
	for i := lo; i <= hi; i++ {
		ids = append(ids, SeedPlatformID(prefix, i))
	}
	rowsPer := SeedBatch
	if s.dialect == SQLite {
		rowsPer = seedRowsSQLite
	}
	return mapErr(s.policyTx(ctx, func(tx *gorm.DB) error {
		type want struct {
			num int
			id  string
		}
		var todo []want
		for i := lo; i <= hi; i++ {
			if id := ids[i-lo]; !skip[id] {
				todo = append(todo, want{i, id})
			}
		}
		if len(todo) == 0 {
			return nil
		}

		// Teen accounts. Names are unique within the batch ("Teen 123"),
		// which pairs each new account with its teen below without
		// trusting the order of RETURNING (SQLite leaves it unspecified).
		users := make([]userRow, len(todo))
		for k, w := range todo {
			users[k] = userRow{Name: "Teen " + strconv.Itoa(w.num), Role: string(models.RoleTeen), CreatedAt: now, UpdatedAt: now}
		}
		if err := tx.CreateInBatches(&users, rowsPer).Error; err != nil {
			return err
		}
		userIDs := make([]int64, len(users))
		for k := range users {
			userIDs[k] = users[k].ID
		}
		var made []struct {
			ID   int64
			Name string
		}
		if err := inChunks(userIDs, func(part []int64) error {
			var some []struct {
				ID   int64
				Name string
			}
			err := tx.Model(&userRow{}).Select("id, name").Where("id IN ?", part).Scan(&some).Error
			made = append(made, some...)
			return err
		}); err != nil {
			return err
		}
		userByName := make(map[string]int64, len(made))
		for _, u := range made {
			userByName[u.Name] = u.ID
		}

		teens := make([]teenRow, len(todo))
		for k, w := range todo {
			name := "Teen " + strconv.Itoa(w.num)
			uid, ok := userByName[name]
			if !ok {
				return fmt.Errorf("store: seeded account %q not found after insert", name)
			}
			teens[k] = teenRow{UserID: uid, ClientID: clientID, PlatformUserID: w.id, DisplayName: name,
				BirthMonth: seedBirthMonth(now, SeedAge(w.num)).String(), TimeZone: SeedZones[(w.num-1)%len(SeedZones)],
				CreatedAt: now, UpdatedAt: now}
		}
		if err := tx.CreateInBatches(&teens, rowsPer).Error; err != nil {
			return err
		}
		// Pair teens by their platform ID, unique per client.
		var teenIDs []struct {
			ID             int64
			PlatformUserID string
		}
		newIDs := make([]int64, len(teens))
		for k := range teens {
			newIDs[k] = teens[k].ID
		}
		if err := inChunks(newIDs, func(part []int64) error {
			var some []struct {
				ID             int64
				PlatformUserID string
			}
			err := tx.Model(&teenRow{}).Select("id, platform_user_id").Where("id IN ?", part).Scan(&some).Error
			teenIDs = append(teenIDs, some...)
			return err
		}); err != nil {
			return err
		}
		teenByPID := make(map[string]int64, len(teenIDs))
		for _, t := range teenIDs {
			teenByPID[t.PlatformUserID] = t.ID
		}

		links := make([]linkRow, len(todo))
		for k, w := range todo {
			links[k] = linkRow{TeenID: teenByPID[w.id], GuardianID: guardianID, State: string(models.LinkActive), CreatedAt: now}
		}
		if err := tx.CreateInBatches(&links, rowsPer).Error; err != nil {
			return err
		}

		first, err := s.reserveSeqs(tx, len(todo))
		if err != nil {
			return err
		}
		rows := make([]policyRow, len(todo))
		for k, w := range todo {
			tid := teenByPID[w.id]
			if tid == 0 {
				return fmt.Errorf("store: seeded teen %q not found after insert", w.id)
			}
			d := defaults[SeedAge(w.num)]
			// Seqs in teen order: a node applies them in the same order.
			rows[k] = policyRow{TeenID: tid, Version: 1, Audience: d.Audience.String(), QuietEnabled: d.QuietEnabled,
				QuietStart: int(d.QuietStart), QuietEnd: int(d.QuietEnd), QuietApprovedExempt: d.QuietApprovedExempt,
				BlockAdultStrangers: d.BlockAdultStrangers, MediaFriendsOnly: d.MediaFriendsOnly,
				MinSenderAccountAgeDays: d.MinSenderAccountAgeDays, Supervised: true, Seq: first + int64(k),
				UpdatedAt: now, UpdatedByName: systemActor.name}
		}
		if err := tx.CreateInBatches(&rows, rowsPer).Error; err != nil {
			return err
		}
		return s.announce(tx, first+int64(len(todo))-1)
	}))
}

// reserveSeqs takes k consecutive change numbers inside a policyTx and
// returns the first, by the mechanism nextSeq uses for one: on Postgres
// nextval('policy_seq') under the advisory lock that orders seqs (held
// until the transaction ends, so no other writer takes a number in
// between), on SQLite the counter row, which the single writer serializes.
func (s *Store) reserveSeqs(tx *gorm.DB, k int) (int64, error) {
	if c, _ := tx.Statement.Context.Value(seqCollectorKey{}).(*seqCollector); c == nil {
		return 0, errors.New("store: a policy change outside policyTx would skip AfterPolicyCommit")
	}
	if k <= 0 {
		return 0, errors.New("store: reserveSeqs needs k >= 1")
	}
	if s.dialect == Postgres {
		if err := tx.Exec("SELECT pg_advisory_xact_lock(?)", policySeqLock).Error; err != nil {
			return 0, err
		}
		// Under the lock nobody else calls nextval, so the k numbers are
		// consecutive (the sequence has no cache and increments by 1).
		var seqs []int64
		if err := tx.Raw("SELECT nextval('policy_seq') FROM generate_series(1, ?)", k).Scan(&seqs).Error; err != nil {
			return 0, err
		}
		if len(seqs) != k {
			return 0, fmt.Errorf("store: asked policy_seq for %d numbers, got %d", k, len(seqs))
		}
		lo, hi := seqs[0], seqs[0]
		for _, v := range seqs {
			lo, hi = min(lo, v), max(hi, v)
		}
		if hi-lo+1 != int64(k) {
			return 0, fmt.Errorf("store: policy_seq gave non-consecutive numbers %d–%d for %d", lo, hi, k)
		}
		return lo, nil
	}
	var last int64
	if err := tx.Raw("UPDATE policy_seq SET value = value + ? WHERE id = 1 RETURNING value", k).Scan(&last).Error; err != nil {
		return 0, err
	}
	if last == 0 {
		return 0, errors.New("store: the policy_seq counter row is missing")
	}
	return last - int64(k) + 1, nil
}

// inChunks calls fn with consecutive parts of list of at most seedInChunk
// elements, stopping at the first error.
func inChunks[T any](list []T, fn func(part []T) error) error {
	for len(list) > 0 {
		k := min(len(list), seedInChunk)
		if err := fn(list[:k]); err != nil {
			return err
		}
		list = list[k:]
	}
	return nil
}
