// Package postgres is a store.Store kept in a PostgreSQL database, through
// the pure-Go driver github.com/jackc/pgx/v5 and its connection pool.
//
// The schema is versioned by the SQL files in migrations/, applied by Open
// each in its own transaction. Several nodes may open the same database at
// once: a transaction-scoped advisory lock lets one of them apply a
// migration while the others wait and then find it applied.
//
// Times are timestamptz, so they keep microseconds (a time.Time's
// nanoseconds are truncated) and are read back in UTC. A nil *time.Time, a
// zero Session.ScheduledEnd or RetainUntil, an empty Recording.ManifestSHA,
// and an empty Case.CreatedBy or Participant.AccountID are stored as NULL.
// Media offsets are whole microseconds. Emails are unique, and looked
// up, ignoring case (lower(email)).
//
// The tables live in the first schema of the connection's search_path
// (public by default); set search_path in the URL, as in
// postgres://host/db?search_path=kuayang, to use another.
package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/kuayang/kuayang/internal/store"
)

var _ store.Store = (*DB)(nil)

// DB is a store.Store kept in a PostgreSQL database. It is safe for
// concurrent use.
type DB struct {
	pool *pgxpool.Pool
}

// Open connects to the database at url (a postgres:// URL or a libpq
// key=value string), checks that it answers and applies pending
// migrations. The pool's size and other settings can be given in url
// (pool_max_conns and the like, see pgxpool.ParseConfig).
func Open(ctx context.Context, url string) (*DB, error) {
	if url == "" {
		return nil, errors.New("postgres: open: need a connection URL")
	}
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	return openConfig(ctx, cfg)
}

// openConfig opens a pool with cfg, pings it and migrates the schema.
func openConfig(ctx context.Context, cfg *pgxpool.Config) (*DB, error) {
	db, err := connect(ctx, cfg)
	if err != nil {
		return nil, err
	}
	if _, err := db.Migrate(ctx); err != nil {
		db.pool.Close()
		return nil, err
	}
	return db, nil
}

// connect opens a pool with (a copy of) cfg and pings it, without
// migrating.
func connect(ctx context.Context, cfg *pgxpool.Config) (*DB, error) {
	cfg = cfg.Copy()
	next := cfg.AfterConnect
	cfg.AfterConnect = func(ctx context.Context, c *pgx.Conn) error {
		scanTimesInUTC(c)
		if next != nil {
			return next(ctx, c)
		}
		return nil
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: open: %w", err)
	}
	return &DB{pool: pool}, nil
}

// scanTimesInUTC makes the connection return timestamptz values in UTC
// rather than in the process's local time zone.
func scanTimesInUTC(c *pgx.Conn) {
	c.TypeMap().RegisterType(&pgtype.Type{
		Name:  "timestamptz",
		OID:   pgtype.TimestamptzOID,
		Codec: &pgtype.TimestamptzCodec{ScanLocation: time.UTC},
	})
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	if err := db.pool.Ping(ctx); err != nil {
		return fmt.Errorf("postgres: ping: %w", err)
	}
	return nil
}

// Close closes the pool, waiting for connections in use to be returned.
// It always returns nil.
func (db *DB) Close() error {
	db.pool.Close()
	return nil
}
