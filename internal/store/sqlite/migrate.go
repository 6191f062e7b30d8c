package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"time"

	"github.com/kuayang/kuayang/internal/store/sqlbase"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrations returns the embedded migrations, sorted by version.
func migrations() ([]sqlbase.Migration, error) {
	ms, err := sqlbase.Load(migrationFiles, "migrations")
	if err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	return ms, nil
}

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    INTEGER PRIMARY KEY,
	applied_at TEXT NOT NULL
)`

// Migrate applies, in order and each in its own transaction, the embedded
// migrations the database has not recorded in schema_migrations yet, and
// returns their versions. Running it again applies nothing. It fails if the
// database has a version this program does not know (a newer program wrote
// it). It then fills the search forms that rows written before migration
// 4 lack (refold).
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
// of rows per transaction. Once they are all there, it costs one indexed
// query per table.
func (db *DB) refold(ctx context.Context) error {
	for _, t := range sqlbase.FoldTargets {
		for {
			n, err := db.refoldBatch(ctx, t)
			if err != nil {
				return fmt.Errorf("sqlite: refold %s: %w", t.Table, err)
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
func (db *DB) refoldBatch(ctx context.Context, t sqlbase.FoldTarget) (int, error) {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer func() { _ = tx.Rollback() }() // no-op after Commit
	rows, err := tx.QueryContext(ctx, t.Unfolded())
	if err != nil {
		return 0, err
	}
	var updates [][]any
	for rows.Next() {
		src := make([]string, 1+len(t.Sources))
		dst := make([]any, len(src))
		for i := range src {
			dst[i] = &src[i]
		}
		if err := rows.Scan(dst...); err != nil {
			_ = rows.Close()
			return 0, err
		}
		args := make([]any, 0, len(src))
		for _, v := range src[1:] {
			args = append(args, sqlbase.Fold(v))
		}
		updates = append(updates, append(args, src[0]))
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return 0, err
	}
	for _, args := range updates {
		if _, err := tx.ExecContext(ctx, t.Update(sqlbase.Question), args...); err != nil {
			return 0, err
		}
	}
	return len(updates), tx.Commit()
}

func (db *DB) migrate(ctx context.Context, ms []sqlbase.Migration) ([]int, error) {
	if _, err := db.w.ExecContext(ctx, createMigrationsTable); err != nil {
		return nil, fmt.Errorf("sqlite: migrate: %w", err)
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

// checkKnown refuses a database whose schema is newer than ms.
func (db *DB) checkKnown(ctx context.Context, ms []sqlbase.Migration) error {
	v, err := schemaVersion(ctx, db.w)
	if err != nil {
		return err
	}
	if latest := sqlbase.Latest(ms); v > latest {
		return fmt.Errorf("sqlite: migrate: database schema version %d is newer than this program's %d", v, latest)
	}
	return nil
}

// apply runs m in a transaction unless it is already recorded, and reports
// whether it ran. The check is inside the transaction, which holds the
// write lock from BEGIN (IMMEDIATE), so two processes opening the same file
// do not both apply m.
func (db *DB) apply(ctx context.Context, m sqlbase.Migration) (bool, error) {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("sqlite: migration %s: %w", m.Name, err)
	}
	defer func() { _ = tx.Rollback() }() // no-op after Commit
	ran, err := applyIn(ctx, tx, m)
	if err != nil || !ran {
		return false, err
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("sqlite: migration %s: commit: %w", m.Name, err)
	}
	return true, nil
}

func applyIn(ctx context.Context, tx *sql.Tx, m sqlbase.Migration) (bool, error) {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, m.Version).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("sqlite: migration %s: %w", m.Name, err)
	}
	if n > 0 {
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
		return false, fmt.Errorf("sqlite: migration %s: %w", m.Name, err)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`,
		m.Version, encTime(time.Now()))
	if err != nil {
		return false, fmt.Errorf("sqlite: migration %s: record: %w", m.Name, err)
	}
	return true, nil
}

// SchemaVersion returns the highest migration version applied to the
// database, 0 if none.
func (db *DB) SchemaVersion(ctx context.Context) (int, error) {
	return schemaVersion(ctx, db.r)
}

func schemaVersion(ctx context.Context, q *sql.DB) (int, error) {
	var v int
	err := q.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_migrations`).Scan(&v)
	if err != nil {
		return 0, fmt.Errorf("sqlite: schema version: %w", err)
	}
	return v, nil
}
