package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/kuayang/kuayang/internal/audit"
	"github.com/kuayang/kuayang/internal/store/sqlbase"
)

const auditCols = `seq, time, actor_kind, actor_id, action, org_id, case_id, session_id,
	ip, detail, prev_hash, hash`

func scanAudit(r rowScanner) (*audit.Entry, error) {
	var e audit.Entry
	err := r.Scan(&e.Seq, timeCol{&e.Time}, &e.ActorKind, &e.ActorID, &e.Action,
		&e.OrgID, &e.CaseID, &e.SessionID, &e.IP, &e.Detail, &e.PrevHash, &e.Hash)
	if err != nil {
		return nil, err
	}
	return &e, nil
}

// AppendAudit seals e after the last entry of the log (audit.Seal) and
// inserts it, setting e's Seq, Time, PrevHash and Hash. The read of the last
// entry and the insert are one write transaction, which SQLite runs alone
// (BEGIN IMMEDIATE takes the database's write lock, also against other
// processes), so concurrent appends never fork the chain. On error e is
// left as it was.
func (db *DB) AppendAudit(ctx context.Context, e *audit.Entry) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return writeErr("append audit", err)
	}
	defer func() { _ = tx.Rollback() }() // no-op after Commit
	prev, err := lastAudit(ctx, tx)
	if err != nil {
		return err
	}
	sealed := *e
	audit.Seal(prev, &sealed)
	if err := insertAudit(ctx, tx, &sealed); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return writeErr("append audit: commit", err)
	}
	*e = sealed
	return nil
}

// lastAudit returns the Seq and Hash of the last entry of the log, or nil
// if the log is empty.
func lastAudit(ctx context.Context, tx *sql.Tx) (*audit.Entry, error) {
	var prev audit.Entry
	err := tx.QueryRowContext(ctx, `SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1`).
		Scan(&prev.Seq, &prev.Hash)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("sqlite: append audit: last entry: %w", err)
	}
	return &prev, nil
}

func insertAudit(ctx context.Context, tx *sql.Tx, e *audit.Entry) error {
	_, err := tx.ExecContext(ctx,
		`INSERT INTO audit_log (`+auditCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		e.Seq, encTime(e.Time), e.ActorKind, e.ActorID, e.Action,
		e.OrgID, e.CaseID, e.SessionID, e.IP, e.Detail, e.PrevHash, e.Hash)
	if err != nil {
		return writeErr("append audit", err)
	}
	return nil
}

// AuditEntries returns the entries matching f, in Seq order: those of
// f.OrgID, f.CaseID and f.SessionID where not empty, of f.Actions if any,
// after f.AfterSeq, at most f.Limit of them (0 or less means 1000; at most
// 10000).
func (db *DB) AuditEntries(ctx context.Context, f audit.Filter) ([]*audit.Entry, error) {
	q := sqlbase.AuditEntries(sqlbase.Question, f, auditCols)
	rows, err := db.r.QueryContext(ctx, q.SQL, q.Args...)
	if err != nil {
		return nil, readErr("audit entries", err)
	}
	return collect(rows, scanAudit, "audit entries")
}
