package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/kuayang/kuayang/internal/audit"
	"github.com/kuayang/kuayang/internal/store/sqlbase"
)

// lockAudit takes the transaction-scoped advisory lock that serializes the
// appenders of the audit chain kept in the current schema, whichever node
// or pool they are in. The key pairs a constant ("audt") with the schema,
// as lockMigrations does, so that stores in other schemas of the database
// do not wait for each other.
const lockAudit = `SELECT pg_advisory_xact_lock(
	x'61756474'::int, -- "audt"
	hashtext(coalesce(current_schema(), '')))`

const auditCols = `seq, time, actor_kind, actor_id, action, org_id, case_id, session_id,
	ip, detail, prev_hash, hash`

func scanAudit(r pgx.Row) (*audit.Entry, error) {
	var e audit.Entry
	err := r.Scan(&e.Seq, &e.Time, &e.ActorKind, &e.ActorID, &e.Action,
		&e.OrgID, &e.CaseID, &e.SessionID, &e.IP, &e.Detail, &e.PrevHash, &e.Hash)
	if err != nil {
		return nil, err
	}
	return &e, nil
}

// AppendAudit seals e after the last entry of the log (audit.Seal) and
// inserts it, setting e's Seq, Time, PrevHash and Hash. It does so in a
// transaction that first takes the audit lock, so that appenders, in this
// process or on other nodes, take turns and never fork the chain; the
// primary key on seq would refuse a fork anyway. The transaction is READ
// COMMITTED, whatever the server's default, so that the read of the last
// entry sees the appends committed before the lock was granted. On error e
// is left as it was.
func (db *DB) AppendAudit(ctx context.Context, e *audit.Entry) error {
	tx, err := db.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return fmt.Errorf("postgres: append audit: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }() // no-op after Commit
	if _, err := tx.Exec(ctx, lockAudit); err != nil {
		return fmt.Errorf("postgres: append audit: lock: %w", err)
	}
	prev, err := lastAudit(ctx, tx)
	if err != nil {
		return err
	}
	sealed := *e
	audit.Seal(prev, &sealed)
	if err := insertAudit(ctx, tx, &sealed); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return writeErr("append audit: commit", err)
	}
	*e = sealed
	return nil
}

// lastAudit returns the Seq and Hash of the last entry of the log, or nil
// if the log is empty.
func lastAudit(ctx context.Context, tx pgx.Tx) (*audit.Entry, error) {
	var prev audit.Entry
	err := tx.QueryRow(ctx, `SELECT seq, hash FROM audit_log ORDER BY seq DESC LIMIT 1`).
		Scan(&prev.Seq, &prev.Hash)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return nil, nil
	case err != nil:
		return nil, fmt.Errorf("postgres: append audit: last entry: %w", err)
	}
	return &prev, nil
}

func insertAudit(ctx context.Context, tx pgx.Tx, e *audit.Entry) error {
	_, err := tx.Exec(ctx,
		`INSERT INTO audit_log (`+auditCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
		e.Seq, e.Time, e.ActorKind, e.ActorID, e.Action,
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
	q := sqlbase.AuditEntries(sqlbase.Dollar, f, auditCols)
	rows, err := db.pool.Query(ctx, q.SQL, q.Args...)
	if err != nil {
		return nil, readErr("audit entries", err)
	}
	return collect(rows, scanAudit, "audit entries")
}
