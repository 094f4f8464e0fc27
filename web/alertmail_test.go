package web

import (
	"bytes"
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"mime/quotedprintable"
	"net"
	netmail "net/mail"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/rivertype"

	"github.com/hearth-safety/hearth/models"
	"github.com/hearth-safety/hearth/models/store"
	"github.com/hearth-safety/hearth/models/store/storetest"
	"github.com/hearth-safety/hearth/web/jobs"
	"github.com/hearth-safety/hearth/web/mail"
)

// memOutbox records the emails the store queues, as the job queue would
// take them.
type memOutbox struct {
	mu   sync.Mutex
	sent []mail.Message
}

func (o *memOutbox) EnqueueEmail(_ context.Context, tx *sql.Tx, to, subject, text string) error {
	if tx == nil {
		return fmt.Errorf("email to %s queued outside a transaction", to)
	}
	o.mu.Lock()
	defer o.mu.Unlock()
	o.sent = append(o.sent, mail.Message{To: to, Subject: subject, Text: text})
	return nil
}

// to returns the alert emails (immediate or digest) to addr, not the
// linking flows' ones.
func (o *memOutbox) to(addr string) []mail.Message {
	o.mu.Lock()
	defer o.mu.Unlock()
	var out []mail.Message
	for _, m := range o.sent {
		if m.To == addr && (strings.Contains(m.Subject, "safety alert") || strings.Contains(m.Subject, "weekly Hearth summary")) {
			out = append(out, m)
		}
	}
	return out
}

// addGuardian signs up a confirmed guardian directly and links them to the
// world's teen.
func (w *hookWorld) addGuardian(t *testing.T, email, name string) models.Actor {
	t.Helper()
	ctx := t.Context()
	now := w.st.Now()
	q := "INSERT INTO users (email, name, role, password_hash, email_verified_at, created_at, updated_at) VALUES (?, ?, 'guardian', '', ?, ?, ?)"
	sel := "SELECT id FROM users WHERE email = ?"
	if w.st.Dialect() == store.Postgres {
		q = "INSERT INTO users (email, name, role, password_hash, email_verified_at, created_at, updated_at) VALUES ($1, $2, 'guardian', '', $3, $4, $5)"
		sel = "SELECT id FROM users WHERE email = $1"
	}
	if _, err := w.st.SQLDB().ExecContext(ctx, q, email, name, now, now, now); err != nil {
		t.Fatal(err)
	}
	var id int64
	if err := w.st.SQLDB().QueryRowContext(ctx, sel, email).Scan(&id); err != nil {
		t.Fatal(err)
	}
	g := models.Actor{UserID: id, Role: models.RoleGuardian}
	_, code, err := w.st.CreateInvitation(ctx, g, "Maya")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.st.AcceptInvitation(ctx, models.Actor{UserID: w.teen.UserID, Role: models.RoleTeen}, code); err != nil {
		t.Fatal(err)
	}
	return g
}

func (w *hookWorld) exec(t *testing.T, q string, args ...any) {
	t.Helper()
	if w.st.Dialect() == store.Postgres {
		for i := 1; strings.Contains(q, "?"); i++ {
			q = strings.Replace(q, "?", fmt.Sprintf("$%d", i), 1)
		}
	}
	if _, err := w.st.SQLDB().ExecContext(t.Context(), q, args...); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// alert stores one alert about Maya and returns its ID.
func (w *hookWorld) alert(t *testing.T, id string, cat models.Category, sev models.Severity, at time.Time) int64 {
	t.Helper()
	ids, err := w.st.SeedAlerts(t.Context(), w.client.ID, []store.SeedAlert{{Event: models.Event{
		ID: id, TeenID: "tk_maya", CounterpartID: "u_other42", Direction: models.DirectionInbound,
		Category: cat, Severity: sev, ActionTaken: models.ActionSenderWarned, OccurredAt: at}}})
	if err != nil {
		t.Fatal(err)
	}
	return ids[0]
}

func notifyJob(attempt int, ids ...int64) *river.Job[notifyAlertsArgs] {
	return &river.Job[notifyAlertsArgs]{
		JobRow: &rivertype.JobRow{ID: 1, Attempt: attempt, MaxAttempts: notifyAlertsMaxAttempts, Kind: KindNotifyAlerts},
		Args:   notifyAlertsArgs{AlertIDs: ids},
	}
}

func TestNotifyAlertsWorker(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			w := newHookWorld(t, d, time.Now, nil)
			out := &memOutbox{}
			w.st.SetOutbox(out, "http://hearth.test")
			pat := "pat@example.com" // the world's guardian, on defaults
			w.addGuardian(t, "mo@example.com", "Mo Medium")
			sus := w.addGuardian(t, "sus@example.com", "Sus Pended")
			w.exec(t, "UPDATE links SET state = 'suspended' WHERE guardian_id = ?", sus.UserID)
			for _, who := range []string{"mo@example.com", "sus@example.com"} {
				w.exec(t, "INSERT INTO alert_preferences (user_id, category, immediate_from) SELECT id, 'bullying', 'medium' FROM users WHERE email = ?", who)
			}
			wk := &notifyAlertsWorker{st: w.st, logger: slog.New(slog.DiscardHandler)}
			at := time.Now().Add(-time.Minute)

			low := w.alert(t, "evt_low", models.CategoryBullying, models.SeverityLow, at)
			medium := w.alert(t, "evt_medium", models.CategoryBullying, models.SeverityMedium, at)
			if err := wk.Work(t.Context(), notifyJob(1, low, medium)); err != nil {
				t.Fatal(err)
			}
			if n := len(out.to(pat)); n != 0 {
				t.Errorf("low and medium emailed the default guardian %d times", n)
			}
			if n := len(out.to("mo@example.com")); n != 1 {
				t.Errorf("the medium-and-above guardian got %d emails, want 1", n)
			}
			if n := len(out.to("sus@example.com")); n != 0 {
				t.Errorf("the suspended guardian got %d emails", n)
			}

			// The same job again, as River retries it: nobody twice.
			if err := wk.Work(t.Context(), notifyJob(2, low, medium)); err != nil {
				t.Fatal(err)
			}
			if n := len(out.to("mo@example.com")); n != 1 {
				t.Errorf("after a retry the medium guardian has %d emails, want 1", n)
			}

			// The burst grows to high: the default guardian crosses their
			// threshold now; the other already knows.
			w.exec(t, "UPDATE alerts SET severity = 'high', severity_rank = 3, occurrences = 2 WHERE id = ?", medium)
			if err := wk.Work(t.Context(), notifyJob(1, medium)); err != nil {
				t.Fatal(err)
			}
			if got := out.to(pat); len(got) != 1 || got[0].Subject != "High safety alert about Maya" {
				t.Errorf("default guardian after the burst grew: %+v", got)
			}
			if n := len(out.to("mo@example.com")); n != 1 {
				t.Errorf("the medium guardian was emailed again (%d)", n)
			}
		})
	}
}

// TestAlertEmails_OneJobInTheIngestTransaction stores the notifier's job
// through a real River inserter: a rolled-back transaction leaves no job,
// a committed one exactly one with the alert IDs.
func TestAlertEmails_OneJobInTheIngestTransaction(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			st := storetest.Open(t, d, storetest.Options{})
			cfg := jobConfig(st, slog.New(slog.DiscardHandler), nil)
			if err := jobs.Migrate(ctx, cfg); err != nil {
				t.Fatal(err)
			}
			ins, err := jobs.NewInserter(cfg)
			if err != nil {
				t.Fatal(err)
			}
			n := AlertEmails{Jobs: ins}
			ingest := func(commit bool, ids ...int64) {
				t.Helper()
				tx, err := st.SQLDB().BeginTx(ctx, nil)
				if err != nil {
					t.Fatal(err)
				}
				if err := n.AlertsStored(ctx, tx, ids); err != nil {
					t.Fatal(err)
				}
				if commit {
					err = tx.Commit()
				} else {
					err = tx.Rollback()
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			ingest(false, 1, 2)
			ingest(true, 3, 4, 5)
			ingest(true) // nothing stored: no job
			if err := n.AlertsStored(ctx, nil, []int64{6}); err == nil {
				t.Error("AlertsStored without a transaction succeeded")
			}
			q := "SELECT args::text FROM river_job WHERE kind = '" + KindNotifyAlerts + "'"
			if d == store.SQLite {
				q = "SELECT json(args) FROM river_job WHERE kind = '" + KindNotifyAlerts + "'" // stored as JSONB
			}
			rows, err := st.SQLDB().QueryContext(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var args []string
			for rows.Next() {
				var a []byte
				if err := rows.Scan(&a); err != nil {
					t.Fatal(err)
				}
				args = append(args, strings.ReplaceAll(string(a), " ", ""))
			}
			if !slices.Equal(args, []string{`{"alert_ids":[3,4,5]}`}) {
				t.Errorf("notify_alerts jobs = %q, want one for 3, 4, 5", args)
			}
		})
	}
}

// TestWeeklyDigestJob_UniquePerHour inserts the digest job twice, as two
// processes' leaders might around a leadership change: River keeps one.
func TestWeeklyDigestJob_UniquePerHour(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			st := storetest.Open(t, d, storetest.Options{})
			cfg := jobConfig(st, slog.New(slog.DiscardHandler), nil)
			if err := jobs.Migrate(ctx, cfg); err != nil {
				t.Fatal(err)
			}
			for range 2 {
				ins, err := jobs.NewInserter(cfg)
				if err != nil {
					t.Fatal(err)
				}
				if err := ins.Enqueue(ctx, nil, weeklyDigestArgs{}, nil); err != nil {
					t.Fatal(err)
				}
			}
			var n int
			if err := st.SQLDB().QueryRowContext(ctx, "SELECT COUNT(*) FROM river_job WHERE kind = '"+KindSendWeeklyDigests+"'").Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != 1 {
				t.Errorf("%d digest jobs after two inserts in one hour, want 1", n)
			}
		})
	}
}

func TestWeeklyDigestWorker(t *testing.T) {
	t.Parallel()
	w := newHookWorld(t, store.SQLite, time.Now, nil)
	out := &memOutbox{}
	w.st.SetOutbox(out, "http://hearth.test")
	w.addGuardian(t, "off@example.com", "Oz Off")
	w.exec(t, "INSERT INTO digest_settings (user_id, weekly) SELECT id, FALSE FROM users WHERE email = ?", "off@example.com")
	wk := &weeklyDigestWorker{st: w.st, logger: slog.New(slog.DiscardHandler)}
	job := &river.Job[weeklyDigestArgs]{JobRow: &rivertype.JobRow{ID: 1, Attempt: 1}}

	// Nothing to report: no email.
	if err := wk.Work(t.Context(), job); err != nil {
		t.Fatal(err)
	}
	if got := out.to("pat@example.com"); len(got) != 0 {
		t.Fatalf("a week without alerts sent %+v", got)
	}
	// The week is done for everyone; a new alert waits for next week.
	w.exec(t, "UPDATE digest_settings SET last_sent_at = NULL")
	w.alert(t, "evt_1", models.CategorySpam, models.SeverityLow, time.Now().Add(-time.Hour))
	if err := wk.Work(t.Context(), job); err != nil {
		t.Fatal(err)
	}
	if got := out.to("pat@example.com"); len(got) != 1 || !strings.Contains(got[0].Text, "Maya: 1 alert\n  - spam: 1\n") {
		t.Errorf("Pat's digests: %+v", got)
	}
	if got := out.to("off@example.com"); len(got) != 0 {
		t.Errorf("the opted-out guardian got %+v", got)
	}
	if err := wk.Work(t.Context(), job); err != nil {
		t.Fatal(err)
	}
	if n := len(out.to("pat@example.com")); n != 1 {
		t.Errorf("a second run sent Pat %d digests in all, want 1", n)
	}
}

// smtpInbox is a real SMTP server (github.com/emersion/go-smtp) on
// 127.0.0.1 that keeps what it receives.
type smtpInbox struct {
	addr string
	mu   sync.Mutex
	msgs []smtpMessage
}

type smtpMessage struct {
	to     []string
	header netmail.Header
	body   string
}

func startSMTPInbox(t *testing.T) *smtpInbox {
	t.Helper()
	in := &smtpInbox{}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &smtpInboxSession{in: in}, nil }))
	srv.Domain = "localhost"
	srv.ReadTimeout, srv.WriteTimeout = 10*time.Second, 10*time.Second
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	in.addr = l.Addr().String()
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	return in
}

func (in *smtpInbox) all() []smtpMessage {
	in.mu.Lock()
	defer in.mu.Unlock()
	return slices.Clone(in.msgs)
}

// waitFor returns the first message to addr whose subject has subjectPart.
func (in *smtpInbox) waitFor(t *testing.T, addr, subjectPart string) smtpMessage {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		for _, m := range in.all() {
			subject, _ := new(mime.WordDecoder).DecodeHeader(m.header.Get("Subject"))
			if slices.Contains(m.to, addr) && strings.Contains(subject, subjectPart) {
				return m
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no email to %s with %q in the subject within 30 s; got %d emails", addr, subjectPart, len(in.all()))
	return smtpMessage{}
}

type smtpInboxSession struct {
	in *smtpInbox
	to []string
}

func (s *smtpInboxSession) Mail(string, *smtp.MailOptions) error { return nil }
func (s *smtpInboxSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.to = append(s.to, to)
	return nil
}
func (s *smtpInboxSession) Reset()        { s.to = nil }
func (s *smtpInboxSession) Logout() error { return nil }
func (s *smtpInboxSession) Data(r io.Reader) error {
	msg, err := netmail.ReadMessage(r)
	if err != nil {
		return err
	}
	var body io.Reader = msg.Body
	if strings.EqualFold(msg.Header.Get("Content-Transfer-Encoding"), "quoted-printable") {
		body = quotedprintable.NewReader(body)
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	s.in.mu.Lock()
	defer s.in.mu.Unlock()
	s.in.msgs = append(s.in.msgs, smtpMessage{to: s.to, header: msg.Header, body: string(bytes.ReplaceAll(b, []byte("\r\n"), []byte("\n")))})
	return nil
}

// TestAlertEmails_EndToEnd runs the alert emails as `hearth serve` wires
// them: the job queue with every worker, the notifier on the store, and a
// real SMTP server. A low alert from before the start is in the weekly
// digest the first run sends; a high alert stored through the notifier
// arrives as an immediate email with the kind, the teen, the time and the
// link, and nothing else.
func TestAlertEmails_EndToEnd(t *testing.T) {
	t.Parallel()
	for _, d := range storetest.Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			inbox := startSMTPInbox(t)
			w := newHookWorld(t, d, time.Now, nil)
			logs := &syncLog{}
			logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			t.Cleanup(func() {
				if t.Failed() {
					t.Logf("logs:\n%s", logs.String())
				}
			})
			now := time.Now()
			w.alert(t, "evt_earlier_low", models.CategoryScam, models.SeverityLow, now.Add(-2*time.Hour))

			sender, err := mail.NewSMTP("smtp://"+inbox.addr+"?tls=none", "Hearth <no-reply@hearth.test>")
			if err != nil {
				t.Fatal(err)
			}
			cfg := jobConfig(w.st, logger, sender)
			if err := jobs.Migrate(ctx, cfg); err != nil {
				t.Fatal(err)
			}
			runner, err := jobs.Start(ctx, alertEmailJobs(maintenance(cfg, w.st, logger, models.DefaultAlertRetention), w.st, logger))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() {
				sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()
				if err := runner.Stop(sctx); err != nil {
					t.Errorf("Stop: %v", err)
				}
			})
			const base = "http://hearth.example"
			w.st.SetOutbox(Outbox{runner}, base)
			w.st.SetAlertNotifier(AlertEmails{runner})

			digest := inbox.waitFor(t, "pat@example.com", "weekly Hearth summary")
			if !strings.Contains(digest.body, "Maya: 1 alert\n  - scam: 1\n") || !strings.Contains(digest.body, base+"/alerts\n") {
				t.Errorf("digest body:\n%s", digest.body)
			}

			// As ingestion does: the alert and the notifier's job in one
			// transaction.
			at := time.Date(2026, 11, 27, 21, 30, 0, 0, time.UTC)
			id := w.alert(t, "evt_grooming_high", models.CategoryGrooming, models.SeverityHigh, at)
			tx, err := w.st.SQLDB().BeginTx(ctx, nil)
			if err != nil {
				t.Fatal(err)
			}
			if err := (AlertEmails{runner}).AlertsStored(ctx, tx, []int64{id}); err != nil {
				t.Fatal(err)
			}
			if err := tx.Commit(); err != nil {
				t.Fatal(err)
			}

			m := inbox.waitFor(t, "pat@example.com", "safety alert about Maya")
			subject, _ := new(mime.WordDecoder).DecodeHeader(m.header.Get("Subject"))
			if subject != "High safety alert about Maya" {
				t.Errorf("subject %q", subject)
			}
			if ct := m.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
				t.Errorf("Content-Type %q, want plain text", ct)
			}
			want := "Hello Pat Parent,\n\n" +
				"The messaging platform reported a high-severity safety alert about Maya.\n\n" +
				"What kind: grooming\n" +
				"When: Friday 27 November 2026 at 21:30, Maya’s time (Europe/London)\n" +
				"Which message: one sent to Maya\n" +
				"What the platform did: warned the sender\n\n" +
				"See the alert, and guidance on talking about it, in Hearth:\n" +
				fmt.Sprintf("%s/teens/%d/alerts\n\n", base, w.teen.ID) +
				"Hearth never sees what messages say, so this email can't tell you either.\n\n" +
				"— Hearth\n" +
				"You get this email because you supervise Maya on Hearth. Choose which alerts email you at once: " + base + "/account/alerts\n"
			if strings.TrimSpace(m.body) != strings.TrimSpace(want) {
				t.Errorf("body:\n%s\nwant exactly:\n%s", m.body, want)
			}
			for _, never := range []string{"u_other42", "evt_", "tk_maya", "app"} {
				if strings.Contains(subject+m.body, never) {
					t.Errorf("the email contains %q", never)
				}
			}
			// Delivered once: the job finished and nothing else followed.
			time.Sleep(300 * time.Millisecond)
			n := 0
			for _, got := range inbox.all() {
				if s, _ := new(mime.WordDecoder).DecodeHeader(got.header.Get("Subject")); strings.Contains(s, "safety alert") {
					n++
				}
			}
			if n != 1 {
				t.Errorf("%d alert emails delivered, want 1", n)
			}
		})
	}
}

type syncLog struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *syncLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *syncLog) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}
