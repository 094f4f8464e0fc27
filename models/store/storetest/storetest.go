// Package storetest gives tests a real, migrated store: SQLite in a temporary
// folder always, and PostgreSQL too when one can be reached. Each Postgres
// test gets a schema of its own, so tests run in parallel without meeting.
package storetest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver, for schema set-up

	"github.com/hearth-safety/hearth/models/store"
)

// DefaultPostgresURL is where the development and CI machines run Postgres.
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

var (
	pgOnce sync.Once
	pgURL  string
	pgWhy  string
)

// PostgresURL returns the Postgres to test against, or "" and the reason
// there is none. HEARTH_TEST_DATABASE_URL names it; unset, the default local
// server is tried; "off" turns Postgres tests off. With
// HEARTH_REQUIRE_POSTGRES=1 (as CI sets) a missing Postgres is a failure
// rather than a skip.
func PostgresURL() (string, string) {
	pgOnce.Do(func() {
		u := os.Getenv("HEARTH_TEST_DATABASE_URL")
		switch u {
		case "off":
			pgWhy = "HEARTH_TEST_DATABASE_URL=off"
			return
		case "":
			u = DefaultPostgresURL
		}
		db, err := sql.Open("pgx", u)
		if err == nil {
			ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
			err = db.PingContext(ctx)
			cancel()
			db.Close()
		}
		if err != nil {
			pgWhy = fmt.Sprintf("no PostgreSQL at %s (%v)", redact(u), err)
			return
		}
		pgURL = u
	})
	return pgURL, pgWhy
}

func redact(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Redacted()
	}
	return "(unparseable URL)"
}

// Options adjust the store a test gets.
type Options struct {
	Now func() time.Time
}

// Dialects lists the engines tests run on here: SQLite always, Postgres when
// reachable.
func Dialects(t testing.TB) []store.Dialect {
	if u, why := PostgresURL(); u != "" {
		return []store.Dialect{store.SQLite, store.Postgres}
	} else if os.Getenv("HEARTH_REQUIRE_POSTGRES") == "1" {
		t.Fatalf("HEARTH_REQUIRE_POSTGRES=1 but %s", why)
	}
	return []store.Dialect{store.SQLite}
}

// Each runs fn as a subtest on every dialect in Dialects, each with a fresh
// store. When Postgres is missing it says so in the test output.
func Each(t *testing.T, fn func(t *testing.T, s *store.Store)) {
	t.Helper()
	EachWith(t, Options{}, fn)
}

// EachWith is Each with options.
func EachWith(t *testing.T, opts Options, fn func(t *testing.T, s *store.Store)) {
	t.Helper()
	for _, d := range Dialects(t) {
		t.Run(string(d), func(t *testing.T) {
			fn(t, Open(t, d, opts))
		})
	}
	if u, why := PostgresURL(); u == "" {
		t.Logf("SKIPPED on PostgreSQL: %s", why)
	}
}

// Open returns a fresh migrated store of dialect d, removed when t ends.
func Open(t testing.TB, d store.Dialect, opts Options) *store.Store {
	t.Helper()
	ctx := context.Background()
	var raw string
	switch d {
	case store.SQLite:
		raw = filepath.Join(t.TempDir(), "hearth.db")
	case store.Postgres:
		base, why := PostgresURL()
		if base == "" {
			t.Skipf("SKIPPED on PostgreSQL: %s", why)
		}
		raw = NewSchema(t, base)
	}
	s, err := store.Open(ctx, raw, store.Options{Now: opts.Now, MaxOpenConns: 8})
	if err != nil {
		t.Fatalf("open %s store: %v", d, err)
	}
	t.Cleanup(func() { s.Close() })
	if _, err := s.Migrate(ctx, nil); err != nil {
		t.Fatalf("migrate %s store: %v", d, err)
	}
	return s
}

// NewSchema creates an empty schema on the Postgres at base, drops it when t
// ends, and returns a URL whose connections use it.
func NewSchema(t testing.TB, base string) string {
	t.Helper()
	b := make([]byte, 6)
	rand.Read(b)
	schema := "hearth_t_" + hex.EncodeToString(b)
	db, err := sql.Open("pgx", base)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Exec("CREATE SCHEMA " + schema); err != nil {
		t.Fatalf("create test schema: %v", err)
	}
	t.Cleanup(func() {
		db, err := sql.Open("pgx", base)
		if err != nil {
			return
		}
		defer db.Close()
		db.Exec("DROP SCHEMA " + schema + " CASCADE")
	})
	u, _ := url.Parse(base)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
