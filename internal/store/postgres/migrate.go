package postgres

import (
	"context"
	"embed"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/kuayang/kuayang/internal/store/sqlbase"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrations returns the embedded migrations, sorted by version.
func migrations() ([]sqlbase.Migration, error) {
	ms, err := sqlbase.Load(migrationFiles, "migrations")
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	return ms, nil
}

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    integer     NOT NULL PRIMARY KEY,
	applied_at timestamptz NOT NULL DEFAULT now()
)`

// lockMigrations takes the transaction-scoped advisory lock that
// serializes migrators of the schema the tables go to (the first schema
// of search_path), so that nodes starting at once apply each migration
// once. Migrators of other schemas in the same database do not wait.
const lockMigrations = `SELECT pg_advisory_xact_lock(
	x'6b756179'::int, -- "kuay"
	hashtext(coalesce(current_schema(), '')))`

// Migrate applies, in order and each in its own transaction, the embedded
// migrations the database has not recorded in schema_migrations yet, and
// returns their versions. Running it again applies nothing. Concurrent
// migrators of the same schema (other nodes starting at once) take turns.
// It fails if the database has a version this program does not know (a
// newer program wrote it). It then fills the search forms that rows
// written before migration 4 lack (refold).
func (db *DB) Migrate(ctx context.Context) (applied []int, err error) {
	ms, err := migrations()
	if err != nil {
		return nil, err
	}
	if applied, err = db.migrate(ctx, ms); err != nil {
		return applied, err
	}
	return applied, db.refold(ctx)
}

// refold computes the missing search forms (sqlbase.FoldTargets), a batch
// of rows per transaction. Nodes refolding at once write the same values.
// Once they are all there, it costs one indexed query per table.
func (db *DB) refold(ctx context.Context) error {
	for _, t := range sqlbase.FoldTargets {
		for {
			var n int
			err := pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
				var err error
				n, err = refoldBatch(ctx, tx, t)
				return err
			})
			if err != nil {
				return fmt.Errorf("postgres: refold %s: %w", t.Table, err)
			}
			if !t.Batch(n) {
				break
			}
		}
	}
	return nil
}

// refoldBatch folds one batch of the rows of t that lack their forms and
// returns how many it read.
func refoldBatch(ctx context.Context, tx pgx.Tx, t sqlbase.FoldTarget) (int, error) {
	rows, err := tx.Query(ctx, t.Unfolded())
	if err != nil {
		return 0, err
	}
	updates, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) ([]any, error) {
		src := make([]string, 1+len(t.Sources))
		dst := make([]any, len(src))
		for i := range src {
			dst[i] = &src[i]
		}
		if err := r.Scan(dst...); err != nil {
			return nil, err
		}
		args := make([]any, 0, len(src))
		for _, v := range src[1:] {
			args = append(args, sqlbase.Fold(v))
		}
		return append(args, src[0]), nil
	})
	if err != nil {
		return 0, err
	}
	for _, args := range updates {
		if _, err := tx.Exec(ctx, t.Update(sqlbase.Dollar), args...); err != nil {
			return 0, err
		}
	}
	return len(updates), nil
}

func (db *DB) migrate(ctx context.Context, ms []sqlbase.Migration) ([]int, error) {
	err := db.inLockedTx(ctx, func(tx pgx.Tx) error {
		_, err := tx.Exec(ctx, createMigrationsTable)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("postgres: migrate: %w", err)
	}
	if err := db.checkKnown(ctx, ms); err != nil {
		return nil, err
	}
	var applied []int
	for _, m := range ms {
		done, err := db.apply(ctx, m)
		if err != nil {
			return applied, err
		}
		if done {
			applied = append(applied, m.Version)
		}
	}
	return applied, nil
}

// inLockedTx runs fn in a transaction that holds the migration lock, and
// commits if fn succeeds.
func (db *DB) inLockedTx(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, db.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, lockMigrations); err != nil {
			return fmt.Errorf("lock: %w", err)
		}
		return fn(tx)
	})
}

// checkKnown refuses a database whose schema is newer than ms.
func (db *DB) checkKnown(ctx context.Context, ms []sqlbase.Migration) error {
	v, err := db.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	if latest := sqlbase.Latest(ms); v > latest {
		return fmt.Errorf("postgres: migrate: database schema version %d is newer than this program's %d", v, latest)
	}
	return nil
}

// apply runs m in a transaction unless it is already recorded, and reports
// whether it ran. The check is made holding the migration lock, so that
// two nodes starting at once do not both apply m.
func (db *DB) apply(ctx context.Context, m sqlbase.Migration) (bool, error) {
	var ran bool
	err := db.inLockedTx(ctx, func(tx pgx.Tx) error {
		var err error
		ran, err = applyIn(ctx, tx, m)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("postgres: migration %s: %w", m.Name, err)
	}
	return ran, nil
}

func applyIn(ctx context.Context, tx pgx.Tx, m sqlbase.Migration) (bool, error) {
	var done bool
	err := tx.QueryRow(ctx,
		`SELECT EXISTS (SELECT 1 FROM schema_migrations WHERE version = $1)`, m.Version).Scan(&done)
	if err != nil || done {
		return false, err
	}
	// No arguments: the simple protocol runs every statement of the file.
	if _, err := tx.Exec(ctx, m.SQL); err != nil {
		return false, err
	}
	_, err = tx.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, m.Version)
	if err != nil {
		return false, fmt.Errorf("record: %w", err)
	}
	return true, nil
}

// SchemaVersion returns the highest migration version applied to the
// database, 0 if none.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	var v int
	err := db.pool.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("postgres: schema version: %w", err)
	}
	return v, nil
}
