package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"gorm.io/gorm"
	"gorm.io/gorm/clause"

	"github.com/hearth-safety/hearth/models"
)

// Alert emails. The notify_alerts job calls QueueAlertEmails with the
// alerts an ingest transaction stored; the weekly digest job calls
// SendWeeklyDigests. Both queue their emails through the outbox inside
// their own transaction, together with the record that they did
// (alert_emails, digest_settings.last_sent_at), so a job that is retried or
// run on two nodes at once never emails anyone twice.

// alertEmailRow records that a guardian was emailed at once about an alert.
type alertEmailRow struct {
	AlertID      int64 `gorm:"primaryKey;autoIncrement:false"`
	UserID       int64 `gorm:"primaryKey;autoIncrement:false"`
	SeverityRank int
	QueuedAt     time.Time
}

func (alertEmailRow) TableName() string { return "alert_emails" }

// alertRecipient is a guardian who may be emailed about a teen.
type alertRecipient struct {
	ID    int64
	Name  string
	Email string
}

// alertRecipients lists the guardians with an active link to teenID who can
// be emailed: suspended and ended links get nothing, nor do disabled
// accounts.
func alertRecipients(tx *gorm.DB, teenID int64) ([]alertRecipient, error) {
	var rs []alertRecipient
	err := tx.Table("links").Select("users.id, users.name, users.email").
		Joins("JOIN users ON users.id = links.guardian_id").
		Where("links.teen_id = ? AND links.state = ? AND users.role = ? AND users.disabled_at IS NULL AND users.email IS NOT NULL",
			teenID, string(models.LinkActive), string(models.RoleGuardian)).
		Order("links.id").Scan(&rs).Error
	return rs, err
}

// sqlTxOf is the *sql.Tx under a gorm transaction, which the outbox needs.
func sqlTxOf(tx *gorm.DB) (*sql.Tx, error) {
	sqlTx, ok := tx.Statement.ConnPool.(*sql.Tx)
	if !ok {
		return nil, errors.New("store: alert emails are queued only inside a transaction")
	}
	return sqlTx, nil
}

// QueueAlertEmails queues the immediate emails that alertIDs call for:
// for each alert, one to every guardian with an active link to the teen
// whose preference for the alert's category says its severity emails at
// once, unless that guardian was already emailed about it. A burst that
// grew past a guardian's threshold therefore emails them once it does, and
// a second run (a retried job) emails nobody again. Alerts deleted since
// are skipped. It returns how many emails it queued. Called by the
// notify_alerts job; it needs an outbox (SetOutbox).
func (s *Store) QueueAlertEmails(ctx context.Context, alertIDs []int64) (int, error) {
	if s.outbox == nil {
		return 0, errors.New("store: no email outbox set; alert emails cannot be queued")
	}
	ids := slices.Clone(alertIDs)
	slices.Sort(ids) // the same order in every job, so concurrent jobs never deadlock
	ids = slices.Compact(ids)
	queued := 0
	err := s.tx(ctx, func(tx *gorm.DB) error {
		sqlTx, err := sqlTxOf(tx)
		if err != nil {
			return err
		}
		now := s.stamp()
		for _, id := range ids {
			var a alertRow
			if err := tx.Where("id = ?", id).Take(&a).Error; errors.Is(err, gorm.ErrRecordNotFound) {
				continue
			} else if err != nil {
				return err
			}
			var t teenRow
			if err := tx.Where("id = ?", a.TeenID).Take(&t).Error; err != nil {
				return err
			}
			rs, err := alertRecipients(tx, a.TeenID)
			if err != nil {
				return err
			}
			gids := make([]int64, len(rs))
			for i, r := range rs {
				gids[i] = r.ID
			}
			prefs, err := loadAlertPreferences(tx, gids)
			if err != nil {
				return err
			}
			sev, cat := models.Severity(a.Severity), models.Category(a.Category)
			n := 0
			for _, r := range rs {
				if !prefs[r.ID].For(cat).Emails(sev) {
					continue
				}
				// The record first: when another job for this alert holds
				// it, this waits for that job's commit and then does nothing.
				res := tx.Clauses(clause.OnConflict{DoNothing: true}).
					Create(&alertEmailRow{AlertID: a.ID, UserID: r.ID, SeverityRank: a.SeverityRank, QueuedAt: now})
				if res.Error != nil {
					return res.Error
				}
				if res.RowsAffected == 0 {
					continue // already emailed about this alert
				}
				subject, text := s.alertEmailText(r, t, a)
				if err := s.outbox.EnqueueEmail(ctx, sqlTx, r.Email, subject, text); err != nil {
					return err
				}
				n++
			}
			if n > 0 && a.EmailedAt == nil {
				if err := tx.Model(&alertRow{}).Where("id = ? AND emailed_at IS NULL", a.ID).Update("emailed_at", now).Error; err != nil {
					return err
				}
			}
			queued += n
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return queued, nil
}

// alertEmailText is the immediate email about a: what kind, how severe,
// when in the teen's own time, what the platform did, and a link to the
// teen's alerts in Hearth. Never the other account's ID, and never what a
// message said (Hearth has no such thing). The subject names only the teen
// and the severity, since subjects show on lock screens.
func (s *Store) alertEmailText(r alertRecipient, t teenRow, a alertRow) (subject, text string) {
	sev := models.Severity(a.Severity)
	subject = capitalize(string(sev)) + " safety alert about " + t.DisplayName
	when := inWords(a.LastOccurredAt, t.TimeZone, t.DisplayName)
	var b strings.Builder
	fmt.Fprintf(&b, "Hello %s,\n\n", r.Name)
	fmt.Fprintf(&b, "The messaging platform reported a %s-severity safety alert about %s.\n\n", sev, t.DisplayName)
	fmt.Fprintf(&b, "What kind: %s\n", models.Category(a.Category).Label())
	fmt.Fprintf(&b, "When: %s\n", when)
	if models.Direction(a.Direction) == models.DirectionOutbound {
		fmt.Fprintf(&b, "Which message: one %s sent\n", t.DisplayName)
	} else {
		fmt.Fprintf(&b, "Which message: one sent to %s\n", t.DisplayName)
	}
	fmt.Fprintf(&b, "What the platform did: %s\n", actionWords(models.Action(a.ActionTaken), models.Direction(a.Direction), t.DisplayName))
	if a.Occurrences > 1 {
		fmt.Fprintf(&b, "How often: %d times about the same account within an hour, the first on %s\n",
			a.Occurrences, inWords(a.OccurredAt, t.TimeZone, t.DisplayName))
	}
	fmt.Fprintf(&b, "\nSee the alert, and guidance on talking about it, in Hearth:\n%s\n\n", s.baseURL+guardianTeenPath(t.ID)+"/alerts")
	b.WriteString("Hearth never sees what messages say, so this email can't tell you either.\n\n")
	b.WriteString("— Hearth\n")
	fmt.Fprintf(&b, "You get this email because you supervise %s on Hearth. Choose which alerts email you at once: %s\n",
		t.DisplayName, s.baseURL+"/account/alerts")
	return subject, b.String()
}

// inWords is t in the teen's time zone, for people: "Friday 27 November
// 2026 at 21:30, Maya's time (Europe/London)". An unknown zone reads as UTC.
func inWords(t time.Time, zone, name string) string {
	loc, err := time.LoadLocation(zone)
	if err != nil || zone == "" {
		return t.UTC().Format("Monday 2 January 2006 at 15:04") + " UTC"
	}
	return t.In(loc).Format("Monday 2 January 2006 at 15:04") + ", " + possessiveName(name) + " time (" + zone + ")"
}

func possessiveName(name string) string {
	if strings.HasSuffix(name, "s") {
		return name + "’"
	}
	return name + "’s"
}

func capitalize(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

// actionWords says what the platform did, as the end of "The platform …".
// In an outbound alert the sender is the teen.
func actionWords(a models.Action, d models.Direction, teen string) string {
	sender := "the sender"
	senders := "the sender’s"
	if d == models.DirectionOutbound {
		sender, senders = teen, possessiveName(teen)
	}
	switch a {
	case models.ActionMessageBlocked:
		return "blocked the message"
	case models.ActionMessageHeld:
		return "held the message back"
	case models.ActionSenderWarned:
		return "warned " + sender
	case models.ActionSenderRestricted:
		return "restricted " + senders + " account"
	case models.ActionSenderSuspended:
		return "suspended " + senders + " account"
	}
	return "nothing yet"
}

// digestAlert is one alert a weekly digest counts.
type digestAlert struct {
	ID          int64
	TeenID      int64
	DisplayName string
	Category    string
	Severity    string
}

// SendWeeklyDigests sends the weekly digest to every guardian who is due:
// one with an active link who has not turned the digest off and has had
// none since the latest digest slot (models.DigestSlot). Each guardian's
// digest counts, per teen and category, the alerts Hearth received since
// their last digest (at most models.DigestPeriod back) about teens they
// actively supervise that did not email them at once. A guardian with
// nothing to report gets no email, but their week is still marked done.
// Each guardian is claimed in a transaction with their email, by moving
// digest_settings.last_sent_at past the slot, so restarts and several
// nodes running the job never send anyone two. It returns how many digests
// it queued; one guardian's failure does not stop the others.
func (s *Store) SendWeeklyDigests(ctx context.Context) (int, error) {
	if s.outbox == nil {
		return 0, errors.New("store: no email outbox set; digests cannot be queued")
	}
	now := s.stamp()
	slot := models.DigestSlot(now)
	var ids []int64
	err := s.db.WithContext(ctx).Table("users").Distinct("users.id").
		Joins("JOIN links ON links.guardian_id = users.id AND links.state = ?", string(models.LinkActive)).
		Joins("LEFT JOIN digest_settings ON digest_settings.user_id = users.id").
		Where("users.role = ? AND users.disabled_at IS NULL AND users.email IS NOT NULL", string(models.RoleGuardian)).
		Where("digest_settings.user_id IS NULL OR (digest_settings.weekly = ? AND (digest_settings.last_sent_at IS NULL OR digest_settings.last_sent_at < ?))", true, slot).
		Order("users.id").Pluck("users.id", &ids).Error
	if err != nil {
		return 0, err
	}
	sent := 0
	var errs []error
	for _, id := range ids {
		ok, err := s.sendDigest(ctx, id, now, slot)
		if err != nil {
			errs = append(errs, fmt.Errorf("digest for user %d: %w", id, err))
			continue
		}
		if ok {
			sent++
		}
	}
	return sent, errors.Join(errs...)
}

// sendDigest claims userID's digest for slot and, when there is anything to
// report, queues it. It reports whether an email was queued.
func (s *Store) sendDigest(ctx context.Context, userID int64, now, slot time.Time) (bool, error) {
	sent := false
	err := s.tx(ctx, func(tx *gorm.DB) error {
		sqlTx, err := sqlTxOf(tx)
		if err != nil {
			return err
		}
		if err := tx.Clauses(clause.OnConflict{DoNothing: true}).Select("user_id").
			Create(&digestSettingsRow{UserID: userID}).Error; err != nil {
			return err
		}
		var ds digestSettingsRow
		if err := tx.Where("user_id = ?", userID).Take(&ds).Error; err != nil {
			return err
		}
		// The claim: only one transaction moves last_sent_at past the
		// slot. On Postgres a concurrent one waits for this one's commit,
		// then finds the condition false and changes nothing.
		res := tx.Model(&digestSettingsRow{}).
			Where("user_id = ? AND weekly = ? AND (last_sent_at IS NULL OR last_sent_at < ?)", userID, true, slot).
			Update("last_sent_at", now)
		if res.Error != nil || res.RowsAffected == 0 {
			return res.Error
		}
		since := now.Add(-models.DigestPeriod)
		if ds.LastSentAt != nil && ds.LastSentAt.After(since) {
			since = ds.LastSentAt.UTC()
		}

		var u userRow
		if err := tx.Where("id = ?", userID).Take(&u).Error; err != nil {
			return err
		}
		prefs, err := loadAlertPreferences(tx, []int64{userID})
		if err != nil {
			return err
		}
		var rows []digestAlert
		err = tx.Table("alerts").
			Select("alerts.id, alerts.teen_id, teens.display_name, alerts.category, alerts.severity").
			Joins("JOIN teens ON teens.id = alerts.teen_id").
			Joins("JOIN links ON links.teen_id = alerts.teen_id AND links.guardian_id = ? AND links.state = ?", userID, string(models.LinkActive)).
			Where("alerts.received_at > ? AND alerts.received_at <= ?", since, now).
			Where("NOT EXISTS (SELECT 1 FROM alert_emails WHERE alert_emails.alert_id = alerts.id AND alert_emails.user_id = ?)", userID).
			Order("teens.display_name, alerts.teen_id, alerts.id").Scan(&rows).Error
		if err != nil {
			return err
		}
		// Alerts the guardian's choices send at once are theirs by email
		// (or will be, when their job has not run yet), not the digest's.
		p := prefs[userID]
		rows = slices.DeleteFunc(rows, func(a digestAlert) bool {
			return p.For(models.Category(a.Category)).Emails(models.Severity(a.Severity))
		})
		if len(rows) == 0 || u.Email == nil {
			return nil
		}
		subject, text := s.digestText(u.Name, rows, since, now)
		if err := s.outbox.EnqueueEmail(ctx, sqlTx, *u.Email, subject, text); err != nil {
			return err
		}
		ids := make([]int64, len(rows))
		for i, a := range rows {
			ids[i] = a.ID
		}
		for chunk := range slices.Chunk(ids, 500) {
			if err := tx.Model(&alertRow{}).Where("id IN ? AND digested_at IS NULL", chunk).Update("digested_at", now).Error; err != nil {
				return err
			}
		}
		sent = true
		return nil
	})
	return sent, err
}

// digestText is the weekly digest: per teen, how many alerts of each
// category, and a link to the inbox. Counts only: no other account's ID,
// no times, and never what a message said.
func (s *Store) digestText(name string, rows []digestAlert, since, now time.Time) (subject, text string) {
	type teenCounts struct {
		name   string
		total  int
		counts map[models.Category]int
	}
	var order []int64
	byTeen := map[int64]*teenCounts{}
	for _, a := range rows {
		tc, ok := byTeen[a.TeenID]
		if !ok {
			tc = &teenCounts{name: a.DisplayName, counts: map[models.Category]int{}}
			byTeen[a.TeenID] = tc
			order = append(order, a.TeenID)
		}
		tc.total++
		tc.counts[models.Category(a.Category)]++
	}
	var b strings.Builder
	fmt.Fprintf(&b, "Hello %s,\n\n", name)
	fmt.Fprintf(&b, "Here is your weekly summary of the safety alerts Hearth received from %s to %s that did not email you at the time.\n\n",
		since.UTC().Format("2 January"), now.UTC().Format("2 January 2006"))
	for _, id := range order {
		tc := byTeen[id]
		fmt.Fprintf(&b, "%s: %s\n", tc.name, countWords(tc.total, "alert", "alerts"))
		for _, c := range models.Categories {
			if n := tc.counts[c]; n > 0 {
				fmt.Fprintf(&b, "  - %s: %d\n", c.Label(), n)
			}
		}
		b.WriteString("\n")
	}
	fmt.Fprintf(&b, "See them all in Hearth:\n%s\n\n", s.baseURL+"/alerts")
	b.WriteString("Hearth never sees what messages say, so this summary can't tell you either.\n\n")
	b.WriteString("— Hearth\n")
	fmt.Fprintf(&b, "You get this summary once a week because you supervise a teen on Hearth. Turn it off, or choose which alerts email you at once: %s\n",
		s.baseURL+"/account/alerts")
	return "Your weekly Hearth summary", b.String()
}

func countWords(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.Itoa(n) + " " + many
}
