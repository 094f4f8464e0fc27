package store

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/hearth-safety/hearth/models"
)

// alertScope is what part of the alerts a viewer may read: the teens, and
// whether the viewer is a guardian (whose read state is their own) or the
// teen (who has nothing to acknowledge).
type alertScope struct {
	userID   int64
	guardian bool
	teens    []scopeTeen
}

type scopeTeen struct {
	ID          int64
	DisplayName string
	TimeZone    string
}

func (sc alertScope) ids() []int64 {
	out := make([]int64, len(sc.teens))
	for i, t := range sc.teens {
		out[i] = t.ID
	}
	return out
}

func (sc alertScope) name(teenID int64) string {
	for _, t := range sc.teens {
		if t.ID == teenID {
			return t.DisplayName
		}
	}
	return ""
}

// scopeAlerts decides whose alerts viewer may read: a guardian, those of
// every teen they have an active link with (a suspended or ended link shows
// nothing); a teen, their own. teenID narrows it to one teen, and a teen
// outside the viewer's scope is models.ErrNotFound, exactly like a teen that
// does not exist. Anyone else is models.ErrNotFound.
func scopeAlerts(db *gorm.DB, viewer models.Actor, teenID *int64) (alertScope, error) {
	sc := alertScope{userID: viewer.UserID}
	if viewer.UserID == 0 {
		return sc, models.ErrNotFound
	}
	switch viewer.Role {
	case models.RoleGuardian:
		sc.guardian = true
		q := db.Table("links").Select("teens.id, teens.display_name, teens.time_zone").
			Joins("JOIN teens ON teens.id = links.teen_id").
			Where("links.guardian_id = ? AND links.state = ?", viewer.UserID, string(models.LinkActive))
		if teenID != nil {
			q = q.Where("links.teen_id = ?", *teenID)
		}
		if err := q.Order("teens.display_name, teens.id").Scan(&sc.teens).Error; err != nil {
			return sc, err
		}
	case models.RoleTeen:
		q := db.Table("teens").Select("id, display_name, time_zone").Where("user_id = ?", viewer.UserID)
		if teenID != nil {
			q = q.Where("id = ?", *teenID)
		}
		if err := q.Scan(&sc.teens).Error; err != nil {
			return sc, err
		}
	default:
		return sc, models.ErrNotFound
	}
	if teenID != nil && len(sc.teens) == 0 {
		return sc, models.ErrNotFound
	}
	return sc, nil
}

// alertReadRow is an alert with the viewer's read state.
type alertReadRow struct {
	Row    alertRow `gorm:"embedded"`
	IsRead bool
}

// alertSQL builds the parts of an alert query for a scope and filter:
// the FROM with the viewer's watermark joined, the WHERE (without paging)
// and its arguments, and the read-state column. Everything a person typed
// goes in as an argument.
func alertSQL(sc alertScope, teens []int64, f models.AlertFilter) (from, where string, args []any, readCol string, readArgs []any) {
	readExists := "EXISTS (SELECT 1 FROM alert_reads r WHERE r.alert_id = alerts.id AND r.user_id = ?)"
	if sc.guardian {
		from = "alerts LEFT JOIN alert_watermarks w ON w.user_id = ? AND w.teen_id = alerts.teen_id"
		args = append(args, sc.userID)
		readCol = "CASE WHEN alerts.id <= COALESCE(w.read_through, 0) OR " + readExists + " THEN 1 ELSE 0 END"
		readArgs = []any{sc.userID}
	} else {
		from = "alerts"
		readCol = "1"
	}
	conds := []string{"alerts.teen_id IN ?"}
	args = append(args, teens)
	if f.Category != nil {
		conds = append(conds, "alerts.category = ?")
		args = append(args, string(*f.Category))
	}
	if f.MinSeverity != nil {
		conds = append(conds, "alerts.severity_rank >= ?")
		args = append(args, f.MinSeverity.Rank())
	}
	if sc.guardian {
		switch f.State {
		case models.AlertUnread:
			conds = append(conds, "alerts.id > COALESCE(w.read_through, 0) AND NOT "+readExists)
			args = append(args, sc.userID)
		case models.AlertRead:
			conds = append(conds, "(alerts.id <= COALESCE(w.read_through, 0) OR "+readExists+")")
			args = append(args, sc.userID)
		}
	} else if f.State == models.AlertUnread {
		conds = append(conds, "1 = 0") // the teen has nothing to acknowledge
	}
	return from, strings.Join(conds, " AND "), args, readCol, readArgs
}

// An inbox reads each teen's alerts as a separate newest-first index
// range and merges the few rows: each branch reads at most a page from the
// (teen_id, occurred_at, id) index, however many alerts exist. Branches go
// to the database branchChunk at a time (SQLite allows 500 parts in one
// compound query). Above branchTeens teens, one scan over all of them and
// a sort is cheaper than that many ranges.
const (
	branchTeens = 2000
	branchChunk = 200
)

// branching returns the store's limits: the constants above, unless a
// test set smaller ones to reach every path with a few teens.
func (s *Store) branching() (teens, chunk int) {
	teens, chunk = branchTeens, branchChunk
	if s.alertBranching[0] > 0 {
		teens, chunk = s.alertBranching[0], s.alertBranching[1]
	}
	return teens, chunk
}

// chunks splits ids into runs of at most chunk.
func chunks(ids []int64, chunk int) [][]int64 {
	var out [][]int64
	for lo := 0; lo < len(ids); lo += chunk {
		out = append(out, ids[lo:min(lo+chunk, len(ids))])
	}
	return out
}

// filterSQL is the part of f's conditions about the alerts themselves
// (category, severity), to AND onto a query.
func filterSQL(f models.AlertFilter) (string, []any) {
	var q string
	var args []any
	if f.Category != nil {
		q += " AND alerts.category = ?"
		args = append(args, string(*f.Category))
	}
	if f.MinSeverity != nil {
		q += " AND alerts.severity_rank >= ?"
		args = append(args, f.MinSeverity.Rank())
	}
	return q, args
}

// watermarks returns the guardian's "read through" alert id per teen.
func watermarks(db *gorm.DB, userID int64, teens []int64) (map[int64]int64, error) {
	var rows []struct {
		TeenID      int64
		ReadThrough int64
	}
	if err := db.Table("alert_watermarks").Select("teen_id, read_through").Where("user_id = ? AND teen_id IN ?", userID, teens).
		Scan(&rows).Error; err != nil {
		return nil, err
	}
	out := make(map[int64]int64, len(rows))
	for _, r := range rows {
		out[r.TeenID] = r.ReadThrough
	}
	return out, nil
}

// countCap is how far a count goes: one past models.AlertCountCap says
// "more than".
const countCap = models.AlertCountCap + 1

// countMatching counts the alerts of teens that match f's category and
// severity, whatever their read state, up to countCap.
func countMatching(db *gorm.DB, teens []int64, f models.AlertFilter) (int, error) {
	fq, fargs := filterSQL(f)
	var n int64
	err := db.Raw("SELECT count(*) FROM (SELECT 1 AS one FROM alerts WHERE alerts.teen_id IN ?"+fq+" LIMIT ?) AS c",
		append(append([]any{teens}, fargs...), countCap)...).Scan(&n).Error
	return int(n), err
}

// countUnread counts, per teen, the alerts matching f that the guardian
// has not read, up to countCap each: those above their watermark (an
// index range on (teen_id, id), cut off after the cap) less those above it
// they acknowledged one by one (a handful, on user_id). A large backlog
// costs a bounded count, never a lookup per alert.
func (s *Store) countUnread(db *gorm.DB, userID int64, teens []int64, wms map[int64]int64, f models.AlertFilter) (map[int64]int, error) {
	maxTeens, chunk := s.branching()
	fq, fargs := filterSQL(f)
	type teenCount struct {
		TeenID int64
		N      int
	}
	var acked []teenCount
	if err := db.Raw("SELECT alerts.teen_id, count(*) AS n FROM alert_reads r JOIN alerts ON alerts.id = r.alert_id"+
		" LEFT JOIN alert_watermarks w ON w.user_id = r.user_id AND w.teen_id = alerts.teen_id"+
		" WHERE r.user_id = ? AND alerts.teen_id IN ? AND alerts.id > COALESCE(w.read_through, 0)"+fq+" GROUP BY alerts.teen_id",
		append([]any{userID, teens}, fargs...)...).Scan(&acked).Error; err != nil {
		return nil, err
	}
	ackedBy := map[int64]int{}
	for _, r := range acked {
		ackedBy[r.TeenID] = r.N
	}
	var above []teenCount
	if len(teens) <= maxTeens {
		for _, part := range chunks(teens, chunk) {
			parts := make([]string, len(part))
			var args []any
			for i, t := range part {
				parts[i] = "SELECT c.teen_id, count(*) AS n FROM (SELECT alerts.teen_id FROM alerts WHERE alerts.teen_id = ? AND alerts.id > ?" + fq +
					" LIMIT ?) AS c GROUP BY c.teen_id"
				args = append(append(append(args, t, wms[t]), fargs...), countCap+ackedBy[t])
			}
			var got []teenCount
			if err := db.Raw(strings.Join(parts, " UNION ALL "), args...).Scan(&got).Error; err != nil {
				return nil, err
			}
			above = append(above, got...)
		}
	} else if err := db.Raw("SELECT alerts.teen_id, count(*) AS n FROM alerts LEFT JOIN alert_watermarks w ON w.user_id = ? AND w.teen_id = alerts.teen_id"+
		" WHERE alerts.teen_id IN ? AND alerts.id > COALESCE(w.read_through, 0)"+fq+" GROUP BY alerts.teen_id",
		append([]any{userID, teens}, fargs...)...).Scan(&above).Error; err != nil {
		return nil, err
	}
	out := make(map[int64]int, len(above))
	for _, r := range above {
		if n := min(r.N-ackedBy[r.TeenID], countCap); n > 0 {
			out[r.TeenID] = n
		}
	}
	return out, nil
}

// Alerts returns the alerts viewer may see that match f, newest first
// (occurred_at, then id, descending), at most f.AlertLimit() of them: the
// first ones, or those just older than f.Before, or just newer than f.After.
// total counts every alert matching f, on every page. A guardian sees the
// alerts of each teen they have an active link with, each marked read or
// not for them; the teen sees all their own, all read. f.TeenID outside the
// viewer's scope, and anyone else, is models.ErrNotFound.
func (s *Store) Alerts(ctx context.Context, viewer models.Actor, f models.AlertFilter) ([]models.Alert, int, error) {
	db := s.db.WithContext(ctx)
	sc, err := scopeAlerts(db, viewer, f.TeenID)
	if err != nil {
		return nil, 0, err
	}
	if len(sc.teens) == 0 || (!sc.guardian && f.State == models.AlertUnread) {
		return []models.Alert{}, 0, nil
	}
	ids := sc.ids()
	var wms map[int64]int64
	if sc.guardian {
		if wms, err = watermarks(db, sc.userID, ids); err != nil {
			return nil, 0, err
		}
	}
	total, err := s.countAlerts(db, sc, ids, wms, f)
	if err != nil {
		return nil, 0, err
	}
	limit := f.AlertLimit()
	order, cmp := "DESC", "<"
	var cur *models.AlertCursor
	switch {
	case f.After != nil:
		order, cmp, cur = "ASC", ">", f.After
	case f.Before != nil:
		cur = f.Before
	}
	// position keeps the keyset condition an index range: occurred_at
	// bounds the scan, the id breaks ties at the cursor's own time.
	position := func() (string, []any) {
		if cur == nil {
			return "", nil
		}
		at := cur.At.UTC()
		eq := "<="
		if cmp == ">" {
			eq = ">="
		}
		return " AND alerts.occurred_at " + eq + " ? AND (alerts.occurred_at " + cmp + " ? OR alerts.id " + cmp + " ?)", []any{at, at, cur.ID}
	}
	tail := " ORDER BY alerts.occurred_at " + order + ", alerts.id " + order + " LIMIT ?"
	var rows []alertReadRow
	maxTeens, chunk := s.branching()
	if len(ids) > maxTeens {
		from, where, args, _, _ := alertSQL(sc, ids, f)
		pq, pargs := position()
		q := "SELECT alerts.*, 0 AS is_read FROM " + from + " WHERE " + where + pq + tail
		if err := db.Raw(q, append(append(append([]any{}, args...), pargs...), limit)...).Scan(&rows).Error; err != nil {
			return nil, 0, err
		}
	} else {
		for _, part := range chunks(ids, chunk) {
			parts := make([]string, len(part))
			var qargs []any
			for i, t := range part {
				b, bargs := s.alertBranch(sc, t, wms[t], f)
				pq, pargs := position()
				parts[i] = fmt.Sprintf("SELECT * FROM (%s%s%s) AS b%d", b, pq, tail, i)
				qargs = append(append(append(qargs, bargs...), pargs...), limit)
			}
			q := strings.Join(parts, " UNION ALL ") + " ORDER BY occurred_at " + order + ", id " + order + " LIMIT ?"
			var got []alertReadRow
			if err := db.Raw(q, append(qargs, limit)...).Scan(&got).Error; err != nil {
				return nil, 0, err
			}
			rows = append(rows, got...)
		}
		if len(rows) > limit {
			// Several chunks: merge them in the list's order.
			slices.SortFunc(rows, func(a, b alertReadRow) int {
				c := a.Row.OccurredAt.Compare(b.Row.OccurredAt)
				if c == 0 {
					c = cmpInt(a.Row.ID, b.Row.ID)
				}
				if order == "DESC" {
					return -c
				}
				return c
			})
			rows = rows[:limit]
		}
	}
	if f.After != nil {
		slices.Reverse(rows)
	}
	acked := map[int64]bool{}
	if sc.guardian && len(rows) > 0 {
		page := make([]int64, len(rows))
		for i, r := range rows {
			page[i] = r.Row.ID
		}
		var ids []int64
		if err := db.Table("alert_reads").Where("user_id = ? AND alert_id IN ?", sc.userID, page).Pluck("alert_id", &ids).Error; err != nil {
			return nil, 0, err
		}
		for _, id := range ids {
			acked[id] = true
		}
	}
	out := make([]models.Alert, len(rows))
	for i, r := range rows {
		out[i] = r.Row.model()
		out[i].TeenName = sc.name(r.Row.TeenID)
		out[i].Read = !sc.guardian || r.Row.ID <= wms[r.Row.TeenID] || acked[r.Row.ID]
	}
	return out, total, nil
}

// alertBranch is the query of one teen's matching alerts (Alerts works
// out the read state of the page afterwards), wm being the guardian's watermark for the teen (a constant,
// so the planner sees a plain range).
func (s *Store) alertBranch(sc alertScope, teenID, wm int64, f models.AlertFilter) (string, []any) {
	fq, fargs := filterSQL(f)
	if !sc.guardian {
		return "SELECT alerts.*, 1 AS is_read FROM alerts WHERE alerts.teen_id = ?" + fq, append([]any{teenID}, fargs...)
	}
	acked := "EXISTS (SELECT 1 FROM alert_reads r WHERE r.alert_id = alerts.id AND r.user_id = ?)"
	q := "SELECT alerts.*, 0 AS is_read FROM alerts WHERE alerts.teen_id = ?" + fq
	args := append([]any{teenID}, fargs...)
	switch f.State {
	case models.AlertUnread:
		q += " AND alerts.id > ? AND NOT " + acked
		args = append(args, wm, sc.userID)
	case models.AlertRead:
		q += " AND (alerts.id <= ? OR " + acked + ")"
		args = append(args, wm, sc.userID)
	}
	return q, args
}

// countAlerts counts the alerts of teens matching f, state included, up
// to countCap.
func (s *Store) countAlerts(db *gorm.DB, sc alertScope, teens []int64, wms map[int64]int64, f models.AlertFilter) (int, error) {
	if !sc.guardian || f.State == "" {
		return countMatching(db, teens, f)
	}
	unread, err := s.countUnread(db, sc.userID, teens, wms, f)
	if err != nil {
		return 0, err
	}
	n := 0
	for _, v := range unread {
		n += v
	}
	if f.State == models.AlertUnread {
		return min(n, countCap), nil
	}
	return s.countRead(db, sc.userID, teens, wms, f)
}

// countRead counts the alerts matching f the guardian has read, up to
// countCap: those up to their watermark per teen (an index range, cut off
// after the cap) and those above it acknowledged one by one.
func (s *Store) countRead(db *gorm.DB, userID int64, teens []int64, wms map[int64]int64, f models.AlertFilter) (int, error) {
	maxTeens, chunk := s.branching()
	fq, fargs := filterSQL(f)
	var n int64
	if err := db.Raw("SELECT count(*) FROM alert_reads r JOIN alerts ON alerts.id = r.alert_id"+
		" LEFT JOIN alert_watermarks w ON w.user_id = r.user_id AND w.teen_id = alerts.teen_id"+
		" WHERE r.user_id = ? AND alerts.teen_id IN ? AND alerts.id > COALESCE(w.read_through, 0)"+fq,
		append([]any{userID, teens}, fargs...)...).Scan(&n).Error; err != nil {
		return 0, err
	}
	total := int(n)
	if len(teens) > maxTeens {
		var below int64
		err := db.Raw("SELECT count(*) FROM (SELECT 1 AS one FROM alerts JOIN alert_watermarks w ON w.user_id = ? AND w.teen_id = alerts.teen_id"+
			" WHERE alerts.teen_id IN ? AND alerts.id <= w.read_through"+fq+" LIMIT ?) AS c",
			append(append([]any{userID, teens}, fargs...), countCap)...).Scan(&below).Error
		return min(total+int(below), countCap), err
	}
	var marked []int64
	for _, t := range teens {
		if wms[t] > 0 {
			marked = append(marked, t)
		}
	}
	for _, part := range chunks(marked, chunk) {
		parts := make([]string, len(part))
		var args []any
		for i, t := range part {
			parts[i] = "SELECT count(*) AS n FROM (SELECT 1 AS one FROM alerts WHERE alerts.teen_id = ? AND alerts.id <= ?" + fq + " LIMIT ?) AS c"
			args = append(append(append(args, t, wms[t]), fargs...), countCap)
		}
		var got []int64
		if err := db.Raw(strings.Join(parts, " UNION ALL "), args...).Scan(&got).Error; err != nil {
			return 0, err
		}
		for _, v := range got {
			total += int(v)
		}
	}
	return min(total, countCap), nil
}

// Alert returns one alert as viewer may see it (see Alerts), with the
// viewer's read state. Anyone else's is models.ErrNotFound.
func (s *Store) Alert(ctx context.Context, viewer models.Actor, id int64) (models.Alert, error) {
	db := s.db.WithContext(ctx)
	row, sc, err := s.visibleAlert(db, viewer, id)
	if err != nil {
		return models.Alert{}, err
	}
	from, where, args, readCol, readArgs := alertSQL(sc, []int64{row.TeenID}, models.AlertFilter{})
	var r alertReadRow
	all := append(append(append([]any{}, readArgs...), args...), id)
	if err := db.Raw("SELECT alerts.*, "+readCol+" AS is_read FROM "+from+" WHERE "+where+" AND alerts.id = ?", all...).Scan(&r).Error; err != nil {
		return models.Alert{}, err
	}
	a := r.Row.model()
	a.TeenName, a.Read = sc.name(row.TeenID), r.IsRead
	return a, nil
}

// visibleAlert loads alert id when viewer may see it.
func (s *Store) visibleAlert(db *gorm.DB, viewer models.Actor, id int64) (alertRow, alertScope, error) {
	if viewer.UserID == 0 {
		return alertRow{}, alertScope{}, models.ErrNotFound
	}
	var row alertRow
	if err := db.Where("id = ?", id).Take(&row).Error; err != nil {
		return alertRow{}, alertScope{}, mapErr(err)
	}
	sc, err := scopeAlerts(db, viewer, &row.TeenID)
	if err != nil {
		return alertRow{}, alertScope{}, err
	}
	return row, sc, nil
}

// guardianAlert loads alert id for a guardian with an active link to its
// teen; anyone else gets models.ErrNotFound.
func (s *Store) guardianAlert(db *gorm.DB, viewer models.Actor, id int64) (alertRow, alertScope, error) {
	if viewer.Role != models.RoleGuardian {
		return alertRow{}, alertScope{}, models.ErrNotFound
	}
	return s.visibleAlert(db, viewer, id)
}

// AcknowledgeAlert marks alert id read for the guardian viewer only (each
// guardian keeps their own read state). Acknowledging it again changes
// nothing. Anyone but a guardian with an active link to the alert's teen
// gets models.ErrNotFound.
func (s *Store) AcknowledgeAlert(ctx context.Context, viewer models.Actor, id int64) error {
	db := s.db.WithContext(ctx)
	if _, _, err := s.guardianAlert(db, viewer, id); err != nil {
		return err
	}
	return db.Exec("INSERT INTO alert_reads (alert_id, user_id, read_at) VALUES (?, ?, ?) ON CONFLICT (alert_id, user_id) DO NOTHING",
		id, viewer.UserID, s.stamp()).Error
}

// MarkAllAlertsRead marks every alert so far of teenID (nil: of every teen
// the guardian viewer actively supervises) read for the viewer, with one
// write per teen: the viewer's watermark moves to the teen's newest alert
// id, and the single acknowledgements it now covers are dropped. Alerts
// that arrive afterwards are unread. A teen outside the viewer's scope, and
// anyone but a guardian, is models.ErrNotFound.
func (s *Store) MarkAllAlertsRead(ctx context.Context, viewer models.Actor, teenID *int64) error {
	if viewer.Role != models.RoleGuardian {
		return models.ErrNotFound
	}
	return s.tx(ctx, func(tx *gorm.DB) error {
		sc, err := scopeAlerts(tx, viewer, teenID)
		if err != nil {
			return err
		}
		if len(sc.teens) == 0 {
			return nil
		}
		var tops []struct {
			TeenID int64
			Top    int64
		}
		if err := tx.Raw("SELECT teen_id, MAX(id) AS top FROM alerts WHERE teen_id IN ? GROUP BY teen_id", sc.ids()).Scan(&tops).Error; err != nil {
			return err
		}
		now := s.stamp()
		for _, t := range tops {
			if err := tx.Exec(`INSERT INTO alert_watermarks (user_id, teen_id, read_through, updated_at) VALUES (?, ?, ?, ?)
				ON CONFLICT (user_id, teen_id) DO UPDATE SET
				read_through = CASE WHEN excluded.read_through > alert_watermarks.read_through THEN excluded.read_through ELSE alert_watermarks.read_through END,
				updated_at = excluded.updated_at`, viewer.UserID, t.TeenID, t.Top, now).Error; err != nil {
				return err
			}
			if err := tx.Exec("DELETE FROM alert_reads WHERE user_id = ? AND alert_id IN (SELECT id FROM alerts WHERE teen_id = ? AND id <= ?)",
				viewer.UserID, t.TeenID, t.Top).Error; err != nil {
				return err
			}
		}
		return nil
	})
}

// MarkAlertNotUseful keeps a guardian's judgement that alert id did not
// help them (feedback on the platform's classifier): the first guardian's
// mark stands, marking again changes nothing. Anyone but a guardian with an
// active link to the alert's teen gets models.ErrNotFound.
func (s *Store) MarkAlertNotUseful(ctx context.Context, viewer models.Actor, id int64) error {
	db := s.db.WithContext(ctx)
	if _, _, err := s.guardianAlert(db, viewer, id); err != nil {
		return err
	}
	return db.Model(&alertRow{}).Where("id = ? AND not_useful_at IS NULL", id).
		Updates(map[string]any{"not_useful_at": s.stamp(), "not_useful_by": viewer.UserID}).Error
}

// UnreadAlertCounts returns, per teen the guardian viewer actively
// supervises, how many alerts are unread for them; teens with none are
// left out. Anyone but a guardian gets models.ErrNotFound.
func (s *Store) UnreadAlertCounts(ctx context.Context, viewer models.Actor) (map[int64]int, error) {
	if viewer.Role != models.RoleGuardian {
		return nil, models.ErrNotFound
	}
	db := s.db.WithContext(ctx)
	sc, err := scopeAlerts(db, viewer, nil)
	if err != nil {
		return nil, err
	}
	if len(sc.teens) == 0 {
		return map[int64]int{}, nil
	}
	ids := sc.ids()
	wms, err := watermarks(db, sc.userID, ids)
	if err != nil {
		return nil, err
	}
	return s.countUnread(db, sc.userID, ids, wms, models.AlertFilter{})
}

// AlertChart returns teenID's alerts per category in each of the last
// models.AlertChartWeeks weeks (Monday to Sunday, UTC), oldest week first,
// the last one holding now. Who may see it is as for Alerts; anyone else
// gets models.ErrNotFound.
func (s *Store) AlertChart(ctx context.Context, viewer models.Actor, teenID int64, now time.Time) ([]models.AlertWeek, error) {
	db := s.db.WithContext(ctx)
	if _, err := scopeAlerts(db, viewer, &teenID); err != nil {
		return nil, err
	}
	first := models.WeekStart(now).AddDate(0, 0, -7*(models.AlertChartWeeks-1))
	weeks := make([]models.AlertWeek, models.AlertChartWeeks)
	cols := make([]string, len(weeks))
	var args []any
	for i := range weeks {
		start := first.AddDate(0, 0, 7*i)
		weeks[i] = models.AlertWeek{Start: start, Counts: map[models.Category]int{}}
		cols[i] = fmt.Sprintf("SUM(CASE WHEN occurred_at >= ? AND occurred_at < ? THEN 1 ELSE 0 END) AS w%d", i)
		args = append(args, start, start.AddDate(0, 0, 7))
	}
	end := first.AddDate(0, 0, 7*models.AlertChartWeeks)
	args = append(args, teenID, first, end)
	rows, err := db.Raw("SELECT category, "+strings.Join(cols, ", ")+
		" FROM alerts WHERE teen_id = ? AND occurred_at >= ? AND occurred_at < ? GROUP BY category", args...).Rows()
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var cat string
		counts := make([]int64, len(weeks))
		dst := []any{&cat}
		for i := range counts {
			dst = append(dst, &counts[i])
		}
		if err := rows.Scan(dst...); err != nil {
			return nil, err
		}
		for i, n := range counts {
			if n > 0 {
				weeks[i].Counts[models.Category(cat)] += int(n)
				weeks[i].Total += int(n)
			}
		}
	}
	return weeks, rows.Err()
}

// BlockAlertCounterpart adds alert id's other account to its teen's
// blocked contacts, as the guardian viewer, through the same path as any
// change to the rules: a new version on every node before it returns, the
// audit entry with before and after, the policy.updated webhook, and the
// teen and the other guardians told. Blocking is stricter, so it needs
// nobody's approval. An account that is an approved contact is taken off
// that list (a contact cannot be both). When it was blocked already nothing
// changes and the result says so. An alert without another account is a
// *models.ValidationError; anyone but a guardian with an active link to
// the teen gets models.ErrNotFound.
func (s *Store) BlockAlertCounterpart(ctx context.Context, viewer models.Actor, id int64) (models.BlockResult, error) {
	var res models.BlockResult
	if viewer.Role != models.RoleGuardian || viewer.UserID == 0 {
		return res, models.ErrNotFound
	}
	err := s.policyTx(ctx, func(tx *gorm.DB) error {
		now := s.stamp()
		var a alertRow
		if err := tx.Where("id = ?", id).Take(&a).Error; err != nil {
			return err
		}
		teen, err := lockTeen(tx, "id = ?", a.TeenID)
		if err != nil {
			return err
		}
		if _, err := policyViewer(tx, viewer, teen); err != nil {
			return err
		}
		res = models.BlockResult{TeenID: teen.ID, TeenName: teen.DisplayName, CounterpartID: a.CounterpartID}
		if a.CounterpartID == "" {
			return models.Invalid("counterpart", "This alert does not name another account, so there is nobody to block.")
		}
		row, contacts, err := loadPolicy(tx, teen.ID)
		if err != nil {
			return err
		}
		if !row.Supervised {
			return models.ErrNotFound
		}
		cur := row.model(contacts)
		next := cloneRules(cur)
		for _, c := range next.Blocked {
			if c.PlatformUserID == a.CounterpartID {
				res.AlreadyBlocked = true
				return nil
			}
		}
		next.Approved = slices.DeleteFunc(next.Approved, func(c models.Contact) bool {
			if c.PlatformUserID == a.CounterpartID {
				res.WasApproved = true
				return true
			}
			return false
		})
		cat := models.Category(a.Category)
		label := "From a " + cat.Label() + " alert"
		next.Blocked = append(next.Blocked, models.Contact{PlatformUserID: a.CounterpartID, Label: label})
		next.Normalize()
		if err := next.Validate(); err != nil {
			return err
		}
		me, err := loadPerson(tx, viewer.UserID)
		if err != nil {
			return err
		}
		reason := "Blocked from a " + cat.Label() + " alert of " + a.OccurredAt.UTC().Format("2 Jan 2006") + "."
		changes, err := s.changeRules(tx, teen, row, contacts, next, actorOf(me), reason, nil, now)
		if err != nil {
			return err
		}
		summary := models.SummarizeChanges(changes)
		toTeen := me.Name + " changed your message rules after a safety alert: " + summary + "."
		toGuardians := me.Name + " changed " + teen.DisplayName + "'s message rules after a safety alert: " + summary + "."
		return s.tellPolicyChange(tx, teen, me.ID, models.NotifyPolicyChanged, toTeen, toGuardians)
	})
	if err != nil {
		return models.BlockResult{}, err
	}
	return res, nil
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// BlockedContacts returns, for each of teenIDs the guardian viewer
// actively supervises, the platform IDs on the teen's blocked list (teens
// outside the viewer's scope are left out), so the inbox can say an
// account is blocked already. Anyone but a guardian gets models.ErrNotFound.
func (s *Store) BlockedContacts(ctx context.Context, viewer models.Actor, teenIDs []int64) (map[int64]map[string]bool, error) {
	if viewer.Role != models.RoleGuardian || viewer.UserID == 0 {
		return nil, models.ErrNotFound
	}
	out := map[int64]map[string]bool{}
	if len(teenIDs) == 0 {
		return out, nil
	}
	var rows []contactRow
	if err := s.db.WithContext(ctx).Table("policy_contacts").Select("policy_contacts.teen_id, policy_contacts.platform_user_id").
		Joins("JOIN links ON links.teen_id = policy_contacts.teen_id AND links.guardian_id = ? AND links.state = ?", viewer.UserID, string(models.LinkActive)).
		Where("policy_contacts.teen_id IN ? AND policy_contacts.kind = ?", teenIDs, contactBlocked).Scan(&rows).Error; err != nil {
		return nil, err
	}
	for _, r := range rows {
		if out[r.TeenID] == nil {
			out[r.TeenID] = map[string]bool{}
		}
		out[r.TeenID][r.PlatformUserID] = true
	}
	return out, nil
}
