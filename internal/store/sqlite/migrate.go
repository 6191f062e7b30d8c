package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one schema change: the SQL of migrations/NNNN_name.sql.
type migration struct {
	version int
	name    string
	sql     string
}

// loadMigrations reads the *.sql files of dir in fsys, sorted by version.
// File names must start with a positive version number followed by '_'.
func loadMigrations(fsys fs.FS, dir string) ([]migration, error) {
	entries, err := fs.ReadDir(fsys, dir)
	if err != nil {
		return nil, fmt.Errorf("sqlite: migrations: %w", err)
	}
	var ms []migration
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".sql") {
			continue
		}
		m, err := readMigration(fsys, path.Join(dir, e.Name()))
		if err != nil {
			return nil, err
		}
		ms = append(ms, m)
	}
	slices.SortFunc(ms, func(a, b migration) int { return a.version - b.version })
	for i := 1; i < len(ms); i++ {
		if ms[i].version == ms[i-1].version {
			return nil, fmt.Errorf("sqlite: migrations %s and %s share version %d", ms[i-1].name, ms[i].name, ms[i].version)
		}
	}
	return ms, nil
}

func readMigration(fsys fs.FS, name string) (migration, error) {
	base := path.Base(name)
	num, _, ok := strings.Cut(base, "_")
	v, err := strconv.Atoi(num)
	if !ok || err != nil || v <= 0 {
		return migration{}, fmt.Errorf("sqlite: migration %s: name must be NNNN_description.sql", base)
	}
	b, err := fs.ReadFile(fsys, name)
	if err != nil {
		return migration{}, fmt.Errorf("sqlite: migration %s: %w", base, err)
	}
	return migration{version: v, name: base, sql: string(b)}, nil
}

const createMigrationsTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
	version    INTEGER PRIMARY KEY,
	applied_at TEXT NOT NULL
)`

// Migrate applies, in order and each in its own transaction, the embedded
// migrations the database has not recorded in schema_migrations yet, and
// returns their versions. Running it again applies nothing. It fails if the
// database has a version this program does not know (a newer program wrote
// it).
func (db *DB) Migrate(ctx context.Context) (applied []int, err error) {
	ms, err := loadMigrations(migrationFiles, "migrations")
	if err != nil {
		return nil, err
	}
	return db.migrate(ctx, ms)
}

func (db *DB) migrate(ctx context.Context, ms []migration) ([]int, error) {
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
			applied = append(applied, m.version)
		}
	}
	return applied, nil
}

// checkKnown refuses a database whose schema is newer than ms.
func (db *DB) checkKnown(ctx context.Context, ms []migration) error {
	v, err := schemaVersion(ctx, db.w)
	if err != nil {
		return err
	}
	latest := 0
	if len(ms) > 0 {
		latest = ms[len(ms)-1].version
	}
	if v > latest {
		return fmt.Errorf("sqlite: migrate: database schema version %d is newer than this program's %d", v, latest)
	}
	return nil
}

// apply runs m in a transaction unless it is already recorded, and reports
// whether it ran. The check is inside the transaction, which holds the
// write lock from BEGIN (IMMEDIATE), so two processes opening the same file
// do not both apply m.
func (db *DB) apply(ctx context.Context, m migration) (bool, error) {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("sqlite: migration %s: %w", m.name, err)
	}
	defer func() { _ = tx.Rollback() }() // no-op after Commit
	ran, err := applyIn(ctx, tx, m)
	if err != nil || !ran {
		return false, err
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("sqlite: migration %s: commit: %w", m.name, err)
	}
	return true, nil
}

func applyIn(ctx context.Context, tx *sql.Tx, m migration) (bool, error) {
	var n int
	err := tx.QueryRowContext(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, m.version).Scan(&n)
	if err != nil {
		return false, fmt.Errorf("sqlite: migration %s: %w", m.name, err)
	}
	if n > 0 {
		return false, nil
	}
	if _, err := tx.ExecContext(ctx, m.sql); err != nil {
		return false, fmt.Errorf("sqlite: migration %s: %w", m.name, err)
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)`,
		m.version, encTime(time.Now()))
	if err != nil {
		return false, fmt.Errorf("sqlite: migration %s: record: %w", m.name, err)
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
