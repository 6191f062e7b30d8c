package postgres

import (
	"context"
	"errors"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kuayang/kuayang/internal/cases"
	"github.com/kuayang/kuayang/internal/store/sqlbase"
)

// dialect is what the shared statements need to know of PostgreSQL. The
// escape character is written E'\\' so that it is one backslash whatever
// standard_conforming_strings says; text sorts by code point (COLLATE
// "C"), as in SQLite, whatever the database's collation.
var dialect = sqlbase.Dialect{Ph: sqlbase.Dollar, Time: func(t time.Time) any { return t }, Escape: `ESCAPE E'\\'`,
	Bytewise: ` COLLATE "C"`}

// SearchCases returns a page of the cases of q.OrgID matching q, in the
// order q asks for (CreatedAt descending by default; ties by ID), and the
// number of all matches. Text matches, in its search form (sqlbase.Fold:
// ignoring case, accents and character width), a substring of the case
// number, the title or the display name of a participant of any session
// of the case; LIKE metacharacters in it match themselves. A Limit of 0
// means 50, others are clamped to 1..200; a negative Offset counts as 0.
// Both results are read from one snapshot, so they agree.
func (db *DB) SearchCases(ctx context.Context, cq cases.CaseQuery) ([]*cases.Case, int, error) {
	if cq.OrgID == "" {
		return nil, 0, errors.New("postgres: search cases: no organization given")
	}
	count, page := sqlbase.CaseSearch(dialect, cq, caseCols)
	tx, err := db.snapshot(ctx)
	if err != nil {
		return nil, 0, readErr("search cases", err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	var total int
	if err := tx.QueryRow(ctx, count.SQL, count.Args...).Scan(&total); err != nil {
		return nil, 0, readErr("search cases: count", err)
	}
	rows, err := tx.Query(ctx, page.SQL, page.Args...)
	if err != nil {
		return nil, 0, readErr("search cases", err)
	}
	list, err := collect(rows, scanCase, "search cases")
	if err != nil {
		return nil, 0, err
	}
	return list, total, nil
}

// snapshot begins a read-only transaction that sees one snapshot.
func (db *DB) snapshot(ctx context.Context) (pgx.Tx, error) {
	return db.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
}

// CaseSummaries returns the summary (cases.CaseSummary) of each of the
// cases ids, keyed by id: a case without sessions, or an unknown id, has a
// zero summary. Both parts are read from one snapshot.
func (db *DB) CaseSummaries(ctx context.Context, ids []string) (map[string]*cases.CaseSummary, error) {
	sums := sqlbase.NewSummaries(ids)
	if len(ids) == 0 {
		return sums, nil
	}
	sessions, presiders := sqlbase.CaseSummaries(sqlbase.Dollar, ids)
	tx, err := db.snapshot(ctx)
	if err != nil {
		return nil, readErr("case summaries", err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	err = eachRow(ctx, tx, sessions, func(r pgx.Row) error {
		var id string
		var n int
		var last *time.Time
		if err := r.Scan(&id, &n, &last); err != nil {
			return err
		}
		sums[id].Sessions, sums[id].LastSessionAt = n, last
		return nil
	})
	if err != nil {
		return nil, readErr("case summaries: sessions", err)
	}
	err = eachRow(ctx, tx, presiders, func(r pgx.Row) error {
		var id string
		var p cases.Presider
		if err := r.Scan(&id, &p.AccountID, &p.Name, &p.Role); err != nil {
			return err
		}
		sums[id].Presiders = append(sums[id].Presiders, p)
		return nil
	})
	if err != nil {
		return nil, readErr("case summaries: presiders", err)
	}
	sqlbase.SortPresiders(sums)
	return sums, nil
}

// eachRow runs stmt in tx and calls fn with each row.
func eachRow(ctx context.Context, tx pgx.Tx, stmt sqlbase.Stmt, fn func(pgx.Row) error) error {
	rows, err := tx.Query(ctx, stmt.SQL, stmt.Args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}
