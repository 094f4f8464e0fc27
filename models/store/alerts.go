package store

import (
	"context"
	"fmt"
	"slices"
	"strconv"
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

// teenMark is a teen whose alerts a query reads, with the guardian's
// watermark for them (every alert up to it is read; 0 for none, and for a
// teen viewer).
type teenMark struct{ teen, wm int64 }

func teenMarks(teens []int64, wms map[int64]int64) []teenMark {
	out := make([]teenMark, len(teens))
	for i, t := range teens {
		out[i] = teenMark{t, wms[t]}
	}
	return out
}

// teenRows returns a FROM item s with one row (teen_id, wm) per teen, and
// its arguments: a JSON array on SQLite, two arrays on Postgres. However
// many teens a guardian has, a query over them is one small statement the
// database reads teen by teen.
func (s *Store) teenRows(ms []teenMark) (string, []any) {
	var a, b strings.Builder
	if s.dialect == Postgres {
		a.WriteByte('{')
		b.WriteByte('{')
		for i, m := range ms {
			if i > 0 {
				a.WriteByte(',')
				b.WriteByte(',')
			}
			a.WriteString(strconv.FormatInt(m.teen, 10))
			b.WriteString(strconv.FormatInt(m.wm, 10))
		}
		a.WriteByte('}')
		b.WriteByte('}')
		return "unnest(CAST(? AS bigint[]), CAST(? AS bigint[])) AS s (teen_id, wm)", []any{a.String(), b.String()}
	}
	a.WriteByte('[')
	for i, m := range ms {
		if i > 0 {
			a.WriteByte(',')
		}
		fmt.Fprintf(&a, "[%d,%d]", m.teen, m.wm)
	}
	a.WriteByte(']')
	return "(SELECT value ->> 0 AS teen_id, value ->> 1 AS wm FROM json_each(?)) AS s", []any{a.String()}
}

// indexed names the index a query over alerts reads, on SQLite, whose
// planner would otherwise trade a covering range for one it can group or
// filter on (alerts_burst by category) and then read every alert of a teen
// from the table. Postgres chooses well from its statistics.
func (s *Store) indexed(index string) string {
	if s.dialect == Postgres {
		return ""
	}
	return " INDEXED BY " + index
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

// stateSQL is the condition on the guardian userID's read state, to AND
// onto a query over teenRows (s.wm is the teen's watermark): unread is
// above it and not acknowledged, read is up to it or acknowledged.
func stateSQL(state models.AlertState, userID int64) (string, []any) {
	acked := "EXISTS (SELECT 1 FROM alert_reads r WHERE r.alert_id = alerts.id AND r.user_id = ?)"
	switch state {
	case models.AlertUnread:
		return " AND alerts.id > s.wm AND NOT " + acked, []any{userID}
	case models.AlertRead:
		return " AND (alerts.id <= s.wm OR " + acked + ")", []any{userID}
	}
	return "", nil
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

// ackedAbove counts, per teen, the alerts matching f that the guardian
// acknowledged one by one above their watermark (a handful, on user_id).
func ackedAbove(db *gorm.DB, userID int64, teens []int64, f models.AlertFilter) (map[int64]int, error) {
	fq, fargs := filterSQL(f)
	var rows []struct {
		TeenID int64
		N      int
	}
	if err := db.Raw("SELECT alerts.teen_id, count(*) AS n FROM alert_reads r JOIN alerts ON alerts.id = r.alert_id"+
		" LEFT JOIN alert_watermarks w ON w.user_id = r.user_id AND w.teen_id = alerts.teen_id"+
		" WHERE r.user_id = ? AND alerts.teen_id IN ? AND alerts.id > COALESCE(w.read_through, 0)"+fq+" GROUP BY alerts.teen_id",
		append([]any{userID, teens}, fargs...)...).Scan(&rows).Error; err != nil {
		return nil, err
	}
	out := make(map[int64]int, len(rows))
	for _, r := range rows {
		out[r.TeenID] = r.N
	}
	return out, nil
}

// countCap is how far a count goes: one past models.AlertCountCap says
// "more than".
const countCap = models.AlertCountCap + 1

// countMatching counts the alerts of teens that match f's category and
// severity, whatever their read state, up to countCap.
func (s *Store) countMatching(db *gorm.DB, teens []int64, f models.AlertFilter) (int, error) {
	fq, fargs := filterSQL(f)
	var n int64
	err := db.Raw("SELECT count(*) FROM (SELECT 1 AS one FROM alerts"+s.indexed("alerts_teen_unread")+" WHERE alerts.teen_id IN ?"+fq+" LIMIT ?) AS c",
		append(append([]any{teens}, fargs...), countCap)...).Scan(&n).Error
	return int(n), err
}

// countSide counts the alerts of ms matching f above each teen's watermark
// (or up to it), up to limit in all: per teen an index range on (teen_id,
// id), and the count stops at the limit however many teens there are.
func (s *Store) countSide(db *gorm.DB, ms []teenMark, f models.AlertFilter, above bool, limit int) (int, error) {
	if len(ms) == 0 {
		return 0, nil
	}
	from, args := s.teenRows(ms)
	side := "alerts.id > s.wm"
	if !above {
		side = "alerts.id <= s.wm"
	}
	fq, fargs := filterSQL(f)
	var n int64
	err := db.Raw("SELECT count(*) FROM (SELECT 1 AS one FROM "+from+" JOIN alerts"+s.indexed("alerts_teen_unread")+" ON alerts.teen_id = s.teen_id AND "+side+
		" WHERE 1 = 1"+fq+" LIMIT ?) AS c", append(append(args, fargs...), limit)...).Scan(&n).Error
	return int(n), err
}

// countAlerts counts the alerts of ms matching f, state included, up to
// countCap. acked is ackedAbove for f (guardians with a state filter).
func (s *Store) countAlerts(db *gorm.DB, sc alertScope, ms []teenMark, acked map[int64]int, f models.AlertFilter) (int, error) {
	if !sc.guardian || f.State == "" {
		return s.countMatching(db, sc.ids(), f)
	}
	nAcked := 0
	for _, n := range acked {
		nAcked += n
	}
	if f.State == models.AlertUnread {
		// Those above the watermarks less those acknowledged there: count
		// far enough that the difference still reaches the cap.
		above, err := s.countSide(db, ms, f, true, countCap+nAcked)
		return min(max(above-nAcked, 0), countCap), err
	}
	var marked []teenMark
	for _, m := range ms {
		if m.wm > 0 {
			marked = append(marked, m)
		}
	}
	below, err := s.countSide(db, marked, f, false, countCap)
	return min(below+nAcked, countCap), err
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
	var acked map[int64]int
	if sc.guardian {
		if wms, err = watermarks(db, sc.userID, ids); err != nil {
			return nil, 0, err
		}
		if f.State != "" {
			if acked, err = ackedAbove(db, sc.userID, ids, f); err != nil {
				return nil, 0, err
			}
		}
	}
	ms := teenMarks(ids, wms)
	total, err := s.countAlerts(db, sc, ms, acked, f)
	if err != nil {
		return nil, 0, err
	}
	if sc.guardian && f.State == models.AlertRead {
		// A teen with no watermark and nothing acknowledged has nothing
		// read: leave their alerts unread rather than test each.
		ms = slices.DeleteFunc(ms, func(m teenMark) bool { return m.wm == 0 && acked[m.teen] == 0 })
	}
	var rows []alertRow
	if len(ms) > 0 {
		if rows, err = s.alertPage(db, sc, ms, f); err != nil {
			return nil, 0, err
		}
	}
	out, err := s.withReadState(db, sc, rows, wms)
	return out, total, err
}

// alertPage reads one page of the alerts of ms matching f, in the list's
// order: per teen a newest-first range of the alerts_teen_inbox index
// (from the index alone: it holds what the filters test), at most a page
// of it, merged. On SQLite one join over the teens does it, since SQLite
// leaves a teen's range as soon as its next entry could no longer make the
// page; on Postgres a LATERAL subquery limits each teen's range. Only the
// page's rows are then read from the table.
func (s *Store) alertPage(db *gorm.DB, sc alertScope, ms []teenMark, f models.AlertFilter) ([]alertRow, error) {
	limit := f.AlertLimit()
	order, cmp := "DESC", "<"
	var cur *models.AlertCursor
	switch {
	case f.After != nil:
		order, cmp, cur = "ASC", ">", f.After
	case f.Before != nil:
		cur = f.Before
	}
	cond, args := filterSQL(f)
	if sc.guardian {
		q, a := stateSQL(f.State, sc.userID)
		cond, args = cond+q, append(args, a...)
	}
	if cur != nil {
		// occurred_at bounds the range, the id breaks ties at the cursor's
		// own time.
		at := cur.At.UTC()
		cond += " AND alerts.occurred_at " + cmp + "= ? AND (alerts.occurred_at " + cmp + " ? OR alerts.id " + cmp + " ?)"
		args = append(args, at, at, cur.ID)
	}
	from, fromArgs := s.teenRows(ms)
	var pick string
	var pickArgs []any
	if s.dialect == Postgres {
		pick = "SELECT a.id FROM " + from + " CROSS JOIN LATERAL (SELECT alerts.id, alerts.occurred_at FROM alerts" +
			" WHERE alerts.teen_id = s.teen_id" + cond + " ORDER BY alerts.occurred_at " + order + ", alerts.id " + order + " LIMIT ?) AS a" +
			" ORDER BY a.occurred_at " + order + ", a.id " + order + " LIMIT ?"
		pickArgs = append(append(fromArgs, args...), limit, limit)
	} else {
		pick = "SELECT alerts.id FROM " + from + " JOIN alerts" + s.indexed("alerts_teen_inbox") + " ON alerts.teen_id = s.teen_id" +
			" WHERE 1 = 1" + cond + " ORDER BY alerts.occurred_at " + order + ", alerts.id " + order + " LIMIT ?"
		pickArgs = append(append(fromArgs, args...), limit)
	}
	var rows []alertRow
	err := db.Raw("SELECT alerts.* FROM alerts WHERE alerts.id IN ("+pick+") ORDER BY alerts.occurred_at "+order+", alerts.id "+order,
		pickArgs...).Scan(&rows).Error
	if f.After != nil {
		slices.Reverse(rows)
	}
	return rows, err
}

// withReadState makes rows the viewer's alerts: named, and read for a
// guardian when up to their watermark (wms) or acknowledged, which is
// looked up for these rows only; a teen has nothing to acknowledge.
func (s *Store) withReadState(db *gorm.DB, sc alertScope, rows []alertRow, wms map[int64]int64) ([]models.Alert, error) {
	acked := map[int64]bool{}
	if sc.guardian && len(rows) > 0 {
		page := make([]int64, len(rows))
		for i, r := range rows {
			page[i] = r.ID
		}
		var ids []int64
		if err := db.Table("alert_reads").Where("user_id = ? AND alert_id IN ?", sc.userID, page).Pluck("alert_id", &ids).Error; err != nil {
			return nil, err
		}
		for _, id := range ids {
			acked[id] = true
		}
	}
	out := make([]models.Alert, len(rows))
	for i, r := range rows {
		out[i] = r.model()
		out[i].TeenName = sc.name(r.TeenID)
		out[i].Read = !sc.guardian || r.ID <= wms[r.TeenID] || acked[r.ID]
	}
	return out, nil
}

// Alert returns one alert as viewer may see it (see Alerts), with the
// viewer's read state. Anyone else's is models.ErrNotFound.
func (s *Store) Alert(ctx context.Context, viewer models.Actor, id int64) (models.Alert, error) {
	db := s.db.WithContext(ctx)
	row, sc, err := s.visibleAlert(db, viewer, id)
	if err != nil {
		return models.Alert{}, err
	}
	var wms map[int64]int64
	if sc.guardian {
		if wms, err = watermarks(db, sc.userID, []int64{row.TeenID}); err != nil {
			return models.Alert{}, err
		}
	}
	out, err := s.withReadState(db, sc, []alertRow{row}, wms)
	if err != nil {
		return models.Alert{}, err
	}
	return out[0], nil
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
// supervises, how many alerts are unread for them, up to one past
// models.AlertCountCap; teens with none are left out. Anyone but a
// guardian gets models.ErrNotFound.
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
	acked, err := ackedAbove(db, sc.userID, ids, models.AlertFilter{})
	if err != nil {
		return nil, err
	}
	// Per teen, those above the watermark (an index range on (teen_id,
	// id), cut off far enough that less the acknowledged ones it still
	// reaches the cap), in one statement however many teens.
	most := 0
	for _, n := range acked {
		most = max(most, n)
	}
	from, args := s.teenRows(teenMarks(ids, wms))
	var rows []struct {
		TeenID int64
		N      int
	}
	if err := db.Raw("SELECT s.teen_id AS teen_id, (SELECT count(*) FROM (SELECT 1 AS one FROM alerts"+s.indexed("alerts_teen_unread")+
		" WHERE alerts.teen_id = s.teen_id AND alerts.id > s.wm LIMIT ?) AS c) AS n FROM "+from,
		append([]any{countCap + most}, args...)...).Scan(&rows).Error; err != nil {
		return nil, err
	}
	out := make(map[int64]int, len(rows))
	for _, r := range rows {
		if n := min(r.N-acked[r.TeenID], countCap); n > 0 {
			out[r.TeenID] = n
		}
	}
	return out, nil
}

// UnreadAlertTotal returns how many alerts, across every teen the
// guardian viewer actively supervises, are unread for them, up to one past
// models.AlertCountCap: what the nav's badge and the inbox need, counted
// until the cap and no further however many teens there are. Anyone but a
// guardian gets models.ErrNotFound.
func (s *Store) UnreadAlertTotal(ctx context.Context, viewer models.Actor) (int, error) {
	if viewer.Role != models.RoleGuardian {
		return 0, models.ErrNotFound
	}
	db := s.db.WithContext(ctx)
	sc, err := scopeAlerts(db, viewer, nil)
	if err != nil || len(sc.teens) == 0 {
		return 0, err
	}
	ids := sc.ids()
	wms, err := watermarks(db, sc.userID, ids)
	if err != nil {
		return 0, err
	}
	f := models.AlertFilter{State: models.AlertUnread}
	acked, err := ackedAbove(db, sc.userID, ids, f)
	if err != nil {
		return 0, err
	}
	return s.countAlerts(db, sc, teenMarks(ids, wms), acked, f)
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
	// One count per week, grouped by category, each a range of the
	// alerts_teen_inbox index (which holds the category): a few thousand
	// index entries for a busy teen, nothing evaluated per alert but the
	// range itself.
	first := models.WeekStart(now).AddDate(0, 0, -7*(models.AlertChartWeeks-1))
	weeks := make([]models.AlertWeek, models.AlertChartWeeks)
	parts := make([]string, len(weeks))
	var args []any
	for i := range weeks {
		start := first.AddDate(0, 0, 7*i)
		weeks[i] = models.AlertWeek{Start: start, Counts: map[models.Category]int{}}
		parts[i] = fmt.Sprintf("SELECT %d AS week, category, count(*) AS n FROM alerts%s"+
			" WHERE teen_id = ? AND occurred_at >= ? AND occurred_at < ? GROUP BY category", i, s.indexed("alerts_teen_inbox"))
		args = append(args, teenID, start, start.AddDate(0, 0, 7))
	}
	var rows []struct {
		Week     int
		Category string
		N        int
	}
	if err := db.Raw(strings.Join(parts, " UNION ALL "), args...).Scan(&rows).Error; err != nil {
		return nil, err
	}
	for _, r := range rows {
		weeks[r.Week].Counts[models.Category(r.Category)] += r.N
		weeks[r.Week].Total += r.N
	}
	return weeks, nil
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
