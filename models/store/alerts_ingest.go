package store

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"hash/fnv"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	"gorm.io/gorm"

	"github.com/hearth-safety/hearth/models"
)

// ingestRowsSQLite is how many rows one INSERT of the ingestion path
// carries on SQLite, whose driver binds in time quadratic in the number of
// parameters (see seedRowsSQLite): 40 alerts are 520 parameters. Postgres
// takes a whole report (500 alerts, 6,500 parameters) in one statement.
const ingestRowsSQLite = 40

// ingestBurstLock is the first key of the Postgres advisory locks that
// serialize reports about the same burst (the second is a hash of the
// teen, category and other account). The two-key form never meets the
// one-key locks elsewhere (policySeqLock).
const ingestBurstLock = 0x48454152

// ingestAttempts bounds how often IngestEvents runs its transaction when
// Postgres aborts it as a deadlock or serialization failure. Retrying is
// safe: nothing of an aborted attempt was kept or answered.
const ingestAttempts = 3

// IngestEvents stores a report of moderation events from clientID, already
// validated (models.Event.Validate), in one transaction, and returns what
// became of them:
//
//   - An event about a teen the client did not provision, or whom nobody
//     supervises (no active or suspended link), is Ignored: nothing of it
//     is stored, not even its ID, so it may be sent again once the teen is
//     supervised.
//   - An event whose ID the client sent before (kept in received_events
//     for good), or that repeats an ID earlier in the same report, is a
//     Duplicate and changes nothing.
//   - Every other event is Accepted: its ID is remembered and it becomes an
//     alert, or grows a burst: when an alert about the same teen, category
//     and other account already spans to within models.BurstWindow of the
//     event (after its last event, or before its first when the event is
//     reported late), that alert's count grows, its times widen, and its
//     severity becomes the highest seen (with that event's action).
//
// The alerts made or grown are handed to the AlertNotifier, when one is
// set, inside the same transaction. The result is returned only after the
// commit, so an answer to the messaging service never claims what a crash
// could undo.
//
// Concurrent reports holding the same events store each once: the primary
// key of received_events decides, and on Postgres a second transaction
// inserting an ID waits for the first to commit and then counts it as a
// duplicate. Reports with events of the same burst (teen, category and
// other account) are serialized by a lock per burst, taken before the
// alerts are read (on SQLite the single writer serializes everything), so
// bursts group exactly while reports about other bursts, the usual case,
// run side by side.
func (s *Store) IngestEvents(ctx context.Context, clientID int64, events []models.Event) (models.IngestResult, error) {
	if len(events) == 0 {
		return models.IngestResult{}, nil
	}
	var res models.IngestResult
	var err error
	for attempt := 1; attempt <= ingestAttempts; attempt++ {
		res, err = s.ingestOnce(ctx, clientID, events)
		if err == nil || !retryable(err) || ctx.Err() != nil {
			break
		}
	}
	return res, err
}

// retryable reports whether Postgres aborted a transaction that may simply
// run again: a serialization failure or a deadlock.
func retryable(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && (pe.Code == "40001" || pe.Code == "40P01")
}

// ingestEvent is one event of a report on its way to an alert.
type ingestEvent struct {
	e      *models.Event
	teenID int64
	at     time.Time // OccurredAt in UTC, cut to microseconds
}

// burst is an alert the report makes or grows.
type burst struct {
	row   alertRow
	isNew bool
	grown bool
}

type burstKey struct {
	teenID      int64
	category    string
	counterpart string
}

func (s *Store) ingestOnce(ctx context.Context, clientID int64, events []models.Event) (models.IngestResult, error) {
	var res models.IngestResult
	// Repeats inside the report are duplicates before anything is asked.
	seen := make(map[string]bool, len(events))
	uniq := make([]*models.Event, 0, len(events))
	teenSet := make(map[string]bool)
	for i := range events {
		e := &events[i]
		if seen[e.ID] {
			res.Duplicates++
			continue
		}
		seen[e.ID] = true
		uniq = append(uniq, e)
		teenSet[e.TeenID] = true
	}
	teenPIDs := make([]string, 0, len(teenSet))
	for id := range teenSet {
		teenPIDs = append(teenPIDs, id)
	}
	slices.Sort(teenPIDs)
	rowsPer := len(events)
	if s.dialect == SQLite {
		rowsPer = ingestRowsSQLite
	}

	err := s.tx(ctx, func(tx *gorm.DB) error {
		now := s.stamp()

		// 1. The supervised teens among those named.
		teens := make(map[string]int64, len(teenPIDs))
		if err := inChunks(teenPIDs, func(part []string) error {
			rows, err := tx.Raw(`SELECT t.id, t.platform_user_id FROM teens t
				WHERE t.client_id = ? AND t.platform_user_id IN ?
				AND EXISTS (SELECT 1 FROM links l WHERE l.teen_id = t.id AND l.state IN ?)`, clientID, part, liveStates).Rows()
			if err != nil {
				return err
			}
			defer rows.Close()
			for rows.Next() {
				var id int64
				var pid string
				if err := rows.Scan(&id, &pid); err != nil {
					return err
				}
				teens[pid] = id
			}
			return rows.Err()
		}); err != nil {
			return err
		}

		// 2. Remember the IDs of events about supervised teens; those
		// already remembered are duplicates. IDs go in sorted order, so
		// concurrent reports take the key locks in one order.
		cands := make([]ingestEvent, 0, len(uniq))
		for _, e := range uniq {
			if id, ok := teens[e.TeenID]; ok {
				cands = append(cands, ingestEvent{e: e, teenID: id, at: e.OccurredAt.UTC().Truncate(time.Microsecond)})
			} else {
				res.Ignored++
			}
		}
		if len(cands) == 0 {
			return nil
		}
		slices.SortFunc(cands, func(a, b ingestEvent) int { return strings.Compare(a.e.ID, b.e.ID) })
		fresh := make(map[string]bool, len(cands))
		for lo := 0; lo < len(cands); lo += rowsPer {
			part := cands[lo:min(lo+rowsPer, len(cands))]
			var b strings.Builder
			args := make([]any, 0, 3*len(part))
			b.WriteString("INSERT INTO received_events (client_id, event_id, received_at) VALUES ")
			for i, c := range part {
				if i > 0 {
					b.WriteByte(',')
				}
				b.WriteString("(?, ?, ?)")
				args = append(args, clientID, c.e.ID, now)
			}
			b.WriteString(" ON CONFLICT DO NOTHING RETURNING event_id")
			rows, err := tx.Raw(b.String(), args...).Rows()
			if err != nil {
				return err
			}
			for rows.Next() {
				var id string
				if err := rows.Scan(&id); err != nil {
					rows.Close()
					return err
				}
				fresh[id] = true
			}
			if err := rows.Err(); err != nil {
				rows.Close()
				return err
			}
			rows.Close()
		}
		accepted := cands[:0]
		for _, c := range cands {
			if fresh[c.e.ID] {
				accepted = append(accepted, c)
			} else {
				res.Duplicates++
			}
		}
		res.Accepted = len(accepted)
		if len(accepted) == 0 {
			return nil
		}

		// 3. Group into bursts, oldest event first, starting from the
		// alerts that could take them.
		slices.SortFunc(accepted, func(a, b ingestEvent) int {
			return cmp.Or(a.at.Compare(b.at), strings.Compare(a.e.ID, b.e.ID))
		})
		if err := s.lockBurstKeys(tx, accepted); err != nil {
			return err
		}
		bursts, err := s.burstCandidates(tx, accepted)
		if err != nil {
			return err
		}
		var made []*burst
		for _, c := range accepted {
			k := burstKey{c.teenID, string(c.e.Category), c.e.CounterpartID}
			var into *burst
			for _, b := range bursts[k] {
				r := &b.row
				if !c.at.Before(r.OccurredAt.Add(-models.BurstWindow)) && !c.at.After(r.LastOccurredAt.Add(models.BurstWindow)) &&
					(into == nil || r.LastOccurredAt.After(into.row.LastOccurredAt)) {
					into = b
				}
			}
			if into == nil {
				b := &burst{isNew: true, row: alertRow{TeenID: c.teenID, ClientID: clientID, EventID: c.e.ID,
					CounterpartID: c.e.CounterpartID, Direction: string(c.e.Direction), Category: string(c.e.Category),
					Severity: string(c.e.Severity), SeverityRank: c.e.Severity.Rank(), ActionTaken: string(c.e.ActionTaken),
					OccurredAt: c.at, LastOccurredAt: c.at, Occurrences: 1, ReceivedAt: now}}
				bursts[k] = append(bursts[k], b)
				made = append(made, b)
				continue
			}
			r := &into.row
			r.Occurrences++
			if c.at.After(r.LastOccurredAt) {
				r.LastOccurredAt = c.at
			}
			if c.at.Before(r.OccurredAt) {
				r.OccurredAt = c.at
			}
			if rank := c.e.Severity.Rank(); rank > r.SeverityRank {
				r.Severity, r.SeverityRank, r.ActionTaken = string(c.e.Severity), rank, string(c.e.ActionTaken)
			}
			if !into.isNew && !into.grown {
				into.grown = true
				made = append(made, into)
			}
		}

		// 4. Write: new alerts in multi-row INSERTs, grown ones by ID.
		var created []*burst
		var grown []*burst
		for _, b := range made {
			if b.isNew {
				created = append(created, b)
			} else {
				grown = append(grown, b)
			}
		}
		if err := s.insertAlerts(tx, created, rowsPer); err != nil {
			return err
		}
		slices.SortFunc(grown, func(a, b *burst) int { return cmp.Compare(a.row.ID, b.row.ID) })
		for _, b := range grown {
			r := &b.row
			if err := tx.Exec(`UPDATE alerts SET occurrences = ?, occurred_at = ?, last_occurred_at = ?, severity = ?,
				severity_rank = ?, action_taken = ? WHERE id = ?`, r.Occurrences, r.OccurredAt, r.LastOccurredAt, r.Severity,
				r.SeverityRank, r.ActionTaken, r.ID).Error; err != nil {
				return err
			}
		}

		// 5. Whoever emails about alerts hears of these in this
		// transaction.
		if s.notifier == nil {
			return nil
		}
		ids := make([]int64, 0, len(made))
		for _, b := range made {
			ids = append(ids, b.row.ID)
		}
		slices.Sort(ids)
		sqlTx, ok := tx.Statement.ConnPool.(*sql.Tx)
		if !ok {
			return errors.New("store: alerts are announced only in the transaction that stores them")
		}
		return s.notifier.AlertsStored(tx.Statement.Context, sqlTx, ids)
	})
	if err != nil {
		return models.IngestResult{}, fmt.Errorf("ingest events: %w", err)
	}
	return res, nil
}

// lockBurstKeys takes, on Postgres, a transaction-scoped advisory lock per
// burst key of events, in the order of the lock keys so that two reports
// never wait on each other in a circle. Taken before the candidates are
// read, it makes a report see the alerts a report holding one of its keys
// committed, so one burst never becomes two alerts and a count never loses
// an update. Advisory locks live in memory: locking rows instead would
// write them, and their WAL, on every report. A hash collision only makes
// two reports wait for each other.
func (s *Store) lockBurstKeys(tx *gorm.DB, events []ingestEvent) error {
	if s.dialect != Postgres {
		return nil
	}
	set := make(map[int32]bool)
	for _, e := range events {
		h := fnv.New32a()
		fmt.Fprintf(h, "%d\x00%s\x00%s", e.teenID, e.e.Category, e.e.CounterpartID)
		set[int32(h.Sum32())] = true
	}
	keys := make([]int32, 0, len(set))
	for k := range set {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	args := make([]any, 0, len(keys)+1)
	args = append(args, ingestBurstLock)
	b.WriteString("SELECT COUNT(pg_advisory_xact_lock(?, k)) FROM (SELECT k FROM (VALUES ")
	for i, k := range keys {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString("(CAST(? AS INTEGER))")
		args = append(args, k)
	}
	b.WriteString(") AS v(k) ORDER BY k) AS sorted")
	return tx.Exec(b.String(), args...).Error
}

// burstCandidates loads the alerts that events (sorted by time) could
// join: those with one of the events' teen, category and account, reaching
// to within models.BurstWindow of the events' time span. One query per
// chunk of keys, matched through the alerts_burst index, scanned by hand
// (no reflection: this runs on every report).
func (s *Store) burstCandidates(tx *gorm.DB, events []ingestEvent) (map[burstKey][]*burst, error) {
	out := make(map[burstKey][]*burst)
	lo := events[0].at.Add(-models.BurstWindow)
	hi := events[len(events)-1].at.Add(models.BurstWindow)
	keySet := make(map[burstKey]bool)
	var keys []burstKey
	for _, e := range events {
		k := burstKey{e.teenID, string(e.e.Category), e.e.CounterpartID}
		if !keySet[k] {
			keySet[k] = true
			keys = append(keys, k)
		}
	}
	per := len(keys)
	if s.dialect == SQLite {
		per = ingestRowsSQLite * 3
	}
	for len(keys) > 0 {
		part := keys[:min(per, len(keys))]
		keys = keys[len(part):]
		var b strings.Builder
		args := make([]any, 0, 3*len(part)+2)
		b.WriteString(`SELECT id, teen_id, category, counterpart_id, occurred_at, last_occurred_at, occurrences,
			severity, severity_rank, action_taken FROM alerts WHERE (teen_id, category, counterpart_id) IN (VALUES `)
		for i, k := range part {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString("(CAST(? AS BIGINT), ?, ?)")
			args = append(args, k.teenID, k.category, k.counterpart)
		}
		b.WriteString(") AND last_occurred_at >= ? AND occurred_at <= ?")
		args = append(args, lo, hi)
		rows, err := tx.Raw(b.String(), args...).Rows()
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var r alertRow
			if err := rows.Scan(&r.ID, &r.TeenID, &r.Category, &r.CounterpartID, &r.OccurredAt, &r.LastOccurredAt,
				&r.Occurrences, &r.Severity, &r.SeverityRank, &r.ActionTaken); err != nil {
				rows.Close()
				return nil, err
			}
			r.OccurredAt, r.LastOccurredAt = r.OccurredAt.UTC(), r.LastOccurredAt.UTC()
			k := burstKey{r.TeenID, r.Category, r.CounterpartID}
			out[k] = append(out[k], &burst{row: r})
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// insertAlerts inserts the new bursts, rowsPer to a statement, and sets
// each one's ID. RETURNING pairs rows with IDs by the first event's ID
// (unique among new alerts: each is an event just remembered), since
// SQLite does not promise RETURNING's order.
func (s *Store) insertAlerts(tx *gorm.DB, bursts []*burst, rowsPer int) error {
	byEvent := make(map[string]*burst, len(bursts))
	for _, b := range bursts {
		byEvent[b.row.EventID] = b
	}
	for lo := 0; lo < len(bursts); lo += rowsPer {
		part := bursts[lo:min(lo+rowsPer, len(bursts))]
		var sb strings.Builder
		args := make([]any, 0, 13*len(part))
		sb.WriteString(`INSERT INTO alerts (teen_id, client_id, event_id, counterpart_id, direction, category, severity,
			severity_rank, action_taken, occurred_at, last_occurred_at, occurrences, received_at) VALUES `)
		for i, b := range part {
			if i > 0 {
				sb.WriteByte(',')
			}
			sb.WriteString("(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)")
			r := &b.row
			args = append(args, r.TeenID, r.ClientID, r.EventID, r.CounterpartID, r.Direction, r.Category, r.Severity,
				r.SeverityRank, r.ActionTaken, r.OccurredAt, r.LastOccurredAt, r.Occurrences, r.ReceivedAt)
		}
		sb.WriteString(" RETURNING id, event_id")
		rows, err := tx.Raw(sb.String(), args...).Rows()
		if err != nil {
			return err
		}
		n := 0
		for rows.Next() {
			var id int64
			var ev string
			if err := rows.Scan(&id, &ev); err != nil {
				rows.Close()
				return err
			}
			if b := byEvent[ev]; b != nil {
				b.row.ID = id
				n++
			}
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return err
		}
		if n != len(part) {
			return fmt.Errorf("store: inserted %d alerts, got %d IDs back", len(part), n)
		}
	}
	return nil
}
