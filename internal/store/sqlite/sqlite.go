// Package sqlite is the embedded implementation of store.Store on SQLite,
// through the pure-Go driver modernc.org/sqlite (no cgo).
//
// The database runs in WAL mode with foreign keys on. Writes go through a
// pool of one connection, so they queue in Go instead of contending for the
// SQLite write lock; reads use a separate pool of several connections, which
// WAL lets run alongside the writer. The schema is versioned by the SQL
// files in migrations/, applied by Open.
//
// Times are stored as TEXT in UTC with a fixed nine-digit fraction
// (2006-01-02T15:04:05.000000000Z), so they round-trip to the nanosecond
// and sort as text; they are read back as UTC. A nil *time.Time, and a zero
// Session.ScheduledEnd or RetainUntil, and an empty Recording.ManifestSHA,
// are stored as NULL. Media offsets are whole microseconds.
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/kuayang/kuayang/internal/store"
)

var _ store.Store = (*DB)(nil)

// readConns is the size of the read pool. WAL readers do not block each
// other nor the writer.
const readConns = 4

// DB is a store.Store kept in one SQLite database file. It is safe for
// concurrent use.
type DB struct {
	w *sql.DB // writes and migrations: a single connection
	r *sql.DB // reads
}

// Open opens (creating if needed) the database file at path, switches it to
// WAL mode and applies pending migrations. The path must name a file: an
// in-memory database cannot be shared by the two connection pools.
func Open(ctx context.Context, path string) (*DB, error) {
	if path == "" || path == ":memory:" {
		return nil, fmt.Errorf("sqlite: open: need a file path, got %q", path)
	}
	w, err := openPool(ctx, dsn(path, true), 1)
	if err != nil {
		return nil, err
	}
	db := &DB{w: w}
	if _, err := db.Migrate(ctx); err != nil {
		_ = w.Close()
		return nil, err
	}
	if db.r, err = openPool(ctx, dsn(path, false), readConns); err != nil {
		_ = w.Close()
		return nil, err
	}
	return db, nil
}

// dsn is the driver's data source name for path. The writer sets the
// persistent WAL journal mode and takes the write lock at BEGIN (immediate),
// so that a transaction never fails half-way to upgrade its lock; readers
// are query-only.
func dsn(path string, writer bool) string {
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(5000)")
	q.Add("_pragma", "foreign_keys(1)")
	q.Add("_pragma", "synchronous(NORMAL)")
	if writer {
		q.Add("_pragma", "journal_mode(WAL)")
		q.Set("_txlock", "immediate")
	} else {
		q.Add("_pragma", "query_only(1)")
	}
	// Escape the path so that '?', '#' and '%' in it survive the URI form.
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + q.Encode()
}

func openPool(ctx context.Context, dsn string, conns int) (*sql.DB, error) {
	p, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	p.SetMaxOpenConns(conns)
	p.SetMaxIdleConns(conns)
	if err := p.PingContext(ctx); err != nil {
		_ = p.Close()
		return nil, fmt.Errorf("sqlite: open: %w", err)
	}
	return p, nil
}

// Ping checks that both connection pools answer.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.w.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	if err := db.r.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: ping: %w", err)
	}
	return nil
}

// Close closes the database. Pending operations finish first.
func (db *DB) Close() error {
	return errors.Join(db.r.Close(), db.w.Close())
}
