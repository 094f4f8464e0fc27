package store

import (
	"cmp"
	"context"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/hearth-safety/hearth/models"
	"github.com/hearth-safety/hearth/policy"
)

// dayLayout is how rule_counts.day is written: the teen's local date.
const dayLayout = "2006-01-02"

// ruleCountBatch bounds the rows of one upsert statement (4 parameters a
// row, well under SQLite's and Postgres's limits) and the IDs of one
// lookup.
const ruleCountBatch = 500

type ruleCountKey struct {
	teenID int64
	day    string
	reason string
}

// AddRuleCounts adds counted DM decisions to the daily totals, in one
// transaction. Each delta names its teen as the messaging service knows
// them; deltas for a teen Hearth no longer has (deleted meanwhile) are
// dropped and reported in dropped. Rows are added to, never overwritten, so
// any number of nodes may flush at once. Deltas with a count of 0 or less,
// or a malformed day, are ignored.
func (s *Store) AddRuleCounts(ctx context.Context, deltas []models.RuleCountDelta) (dropped int, err error) {
	if len(deltas) == 0 {
		return 0, nil
	}
	err = s.tx(ctx, func(tx *gorm.DB) error {
		dropped = 0
		// Resolve (client, platform ID) to teen IDs: one query per client
		// and batch of IDs, which in practice is one query per flush.
		byClient := map[int64][]string{}
		for _, d := range deltas {
			byClient[d.ClientID] = append(byClient[d.ClientID], d.PlatformUserID)
		}
		type ref struct {
			client int64
			id     string
		}
		teens := map[ref]int64{}
		for client, ids := range byClient {
			slices.Sort(ids)
			ids = slices.Compact(ids)
			for chunk := range slices.Chunk(ids, ruleCountBatch) {
				var rows []teenRow
				if err := tx.Select("id", "platform_user_id").Where("client_id = ? AND platform_user_id IN ?", client, chunk).
					Find(&rows).Error; err != nil {
					return err
				}
				for _, r := range rows {
					teens[ref{client, r.PlatformUserID}] = r.ID
				}
			}
		}
		// Merge, so that no statement touches a row twice (Postgres refuses).
		sums := map[ruleCountKey]int64{}
		var order []ruleCountKey
		for _, d := range deltas {
			if d.Count <= 0 || !validDay(d.Day) {
				continue
			}
			id, ok := teens[ref{d.ClientID, d.PlatformUserID}]
			if !ok {
				dropped++
				continue
			}
			k := ruleCountKey{id, d.Day, d.Reason.String()}
			if _, seen := sums[k]; !seen {
				order = append(order, k)
			}
			sums[k] += d.Count
		}
		// A fixed order keeps concurrent flushes from deadlocking on Postgres.
		slices.SortFunc(order, func(a, b ruleCountKey) int {
			return cmp.Or(cmp.Compare(a.teenID, b.teenID), strings.Compare(a.day, b.day), strings.Compare(a.reason, b.reason))
		})
		for chunk := range slices.Chunk(order, ruleCountBatch) {
			var q strings.Builder
			q.WriteString("INSERT INTO rule_counts (teen_id, day, reason, count) VALUES ")
			args := make([]any, 0, 4*len(chunk))
			for i, k := range chunk {
				if i > 0 {
					q.WriteString(", ")
				}
				q.WriteString("(?, ?, ?, ?)")
				args = append(args, k.teenID, k.day, k.reason, sums[k])
			}
			q.WriteString(" ON CONFLICT (teen_id, day, reason) DO UPDATE SET count = rule_counts.count + excluded.count")
			if err := tx.Exec(q.String(), args...).Error; err != nil {
				return err
			}
		}
		return nil
	})
	return dropped, err
}

// validDay reports whether s is a real date written as YYYY-MM-DD.
func validDay(s string) bool {
	_, err := time.Parse(dayLayout, s)
	return err == nil
}

// RuleCounts returns, for teenID, how many DMs each rule decided over the
// last days days (models.RuleCountDays when days < 1, at most
// models.RuleCountRetentionDays), today included, counting days in the
// teen's time zone. Only reasons with a count are returned, in rule order
// (policy.AllReasons). The teen themself, a guardian with an active link
// and staff may ask; anyone else, and a missing teen, get
// models.ErrNotFound.
//
// Counts reach the database every few seconds (see package rulecounts), so
// the last few seconds of checks may not show yet.
func (s *Store) RuleCounts(ctx context.Context, viewer models.Actor, teenID int64, days int) ([]models.RuleCount, error) {
	db := s.db.WithContext(ctx)
	var teen teenRow
	if err := db.Select("id", "user_id", "time_zone").Where("id = ?", teenID).Take(&teen).Error; err != nil {
		return nil, mapErr(err)
	}
	if viewer.UserID == 0 || !viewer.Role.IsStaff() {
		if _, err := policyViewer(db, viewer, teen); err != nil {
			return nil, err
		}
	}
	switch {
	case days < 1:
		days = models.RuleCountDays
	case days > models.RuleCountRetentionDays:
		days = models.RuleCountRetentionDays
	}
	loc, err := time.LoadLocation(teen.TimeZone)
	if err != nil {
		loc = time.UTC
	}
	y, m, d := s.now().In(loc).Date()
	today := time.Date(y, m, d, 12, 0, 0, 0, time.UTC)
	from := today.AddDate(0, 0, -(days - 1))
	var rows []struct {
		Reason string
		Total  int64
	}
	if err := db.Table("rule_counts").Select("reason, CAST(SUM(count) AS BIGINT) AS total").
		Where("teen_id = ? AND day >= ? AND day <= ?", teenID, from.Format(dayLayout), today.Format(dayLayout)).
		Group("reason").Scan(&rows).Error; err != nil {
		return nil, err
	}
	out := make([]models.RuleCount, 0, len(rows))
	for _, r := range rows {
		reason, err := policy.ParseReason(r.Reason)
		if err != nil || r.Total <= 0 {
			continue // a reason this version does not know: nothing to say about it
		}
		out = append(out, models.RuleCount{Reason: reason, Count: r.Total})
	}
	slices.SortFunc(out, func(a, b models.RuleCount) int { return int(a.Reason) - int(b.Reason) })
	return out, nil
}

// DeleteOldRuleCounts deletes the daily totals of days before olderThan's
// date (UTC) and reports how many rows went. Days are the teens' local
// dates, so the cut is exact to within a day, which is all retention needs.
func (s *Store) DeleteOldRuleCounts(ctx context.Context, olderThan time.Time) (int64, error) {
	res := s.db.WithContext(ctx).Exec("DELETE FROM rule_counts WHERE day < ?", olderThan.UTC().Format(dayLayout))
	return res.RowsAffected, mapErr(res.Error)
}
