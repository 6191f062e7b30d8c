package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kuayang/kuayang/internal/cases"
	"github.com/kuayang/kuayang/internal/store"
)

const settlementCols = `id, session_id, case_id, org_id, template, language, created_by, created_at,
	shared_version, final_key, final_bytes, final_sha, final_at, final_by, timestamp_key`

func scanSettlement(r pgx.Row) (*cases.Settlement, error) {
	var s cases.Settlement
	var key, by, ts *string
	var size *int64
	var sum []byte
	var at *time.Time
	err := r.Scan(&s.ID, &s.SessionID, &s.CaseID, &s.OrgID, &s.Template, &s.Language, &s.CreatedBy,
		&s.CreatedAt, &s.SharedVersion, &key, &size, &sum, &at, &by, &ts)
	if err != nil {
		return nil, err
	}
	if key != nil && size != nil && at != nil {
		s.Final = &cases.SettlementFinal{Key: *key, Bytes: *size, SHA256: sum, At: *at, By: valueOr(by), Timestamp: valueOr(ts)}
	}
	return &s, nil
}

// CreateSettlement inserts s; its versions and signatures are added apart.
func (db *DB) CreateSettlement(ctx context.Context, s *cases.Settlement) error {
	_, err := db.pool.Exec(ctx,
		`INSERT INTO settlements (id, session_id, case_id, org_id, template, language, created_by, created_at, shared_version)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`,
		s.ID, s.SessionID, s.CaseID, s.OrgID, s.Template, s.Language, s.CreatedBy, s.CreatedAt, s.SharedVersion)
	if err != nil {
		return writeErr("create settlement", err)
	}
	return nil
}

// Settlement returns the settlement with id, with its versions,
// signatures and final PDF.
func (db *DB) Settlement(ctx context.Context, id string) (*cases.Settlement, error) {
	s, err := scanSettlement(db.pool.QueryRow(ctx, `SELECT `+settlementCols+` FROM settlements WHERE id = $1`, id))
	if err != nil {
		return nil, readErr("settlement "+id, err)
	}
	return s, db.fillSettlement(ctx, s)
}

// SettlementsOfSession lists a session's settlements, oldest first.
func (db *DB) SettlementsOfSession(ctx context.Context, sessionID string) ([]*cases.Settlement, error) {
	return db.settlementsWhere(ctx, "session_id", sessionID)
}

// SettlementsOfCase lists a case's settlements, oldest first.
func (db *DB) SettlementsOfCase(ctx context.Context, caseID string) ([]*cases.Settlement, error) {
	return db.settlementsWhere(ctx, "case_id", caseID)
}

// settlementsWhere lists the settlements whose col (a constant) is v.
func (db *DB) settlementsWhere(ctx context.Context, col, v string) ([]*cases.Settlement, error) {
	rows, err := db.pool.Query(ctx, `SELECT `+settlementCols+` FROM settlements WHERE `+col+` = $1 ORDER BY created_at, id`, v)
	if err != nil {
		return nil, readErr("settlements", err)
	}
	list, err := collect(rows, scanSettlement, "settlements")
	if err != nil {
		return nil, err
	}
	for _, s := range list {
		if err := db.fillSettlement(ctx, s); err != nil {
			return nil, err
		}
	}
	return list, nil
}

// fillSettlement reads s's versions and signatures.
func (db *DB) fillSettlement(ctx context.Context, s *cases.Settlement) error {
	rows, err := db.pool.Query(ctx,
		`SELECT version, text, sha256, created_at, shared_at FROM settlement_versions WHERE settlement_id = $1 ORDER BY version`, s.ID)
	if err != nil {
		return readErr("settlement versions", err)
	}
	s.Versions, err = collect(rows, func(r pgx.Row) (cases.SettlementVersion, error) {
		v := cases.SettlementVersion{SettlementID: s.ID}
		err := r.Scan(&v.Version, &v.Text, &v.SHA256, &v.CreatedAt, &v.SharedAt)
		return v, err
	}, "settlement versions")
	if err != nil {
		return err
	}
	rows, err = db.pool.Query(ctx,
		`SELECT version, participant_id, role, typed_name, name_matches, name_confirmed_by, strokes, signed_at, confirmed_at, confirmed_by
		FROM settlement_signatures WHERE settlement_id = $1 ORDER BY version, signed_at, participant_id`, s.ID)
	if err != nil {
		return readErr("settlement signatures", err)
	}
	s.Signatures, err = collect(rows, func(r pgx.Row) (cases.SettlementSignature, error) {
		g := cases.SettlementSignature{SettlementID: s.ID}
		err := r.Scan(&g.Version, &g.ParticipantID, &g.Role, &g.TypedName, &g.NameMatches, &g.NameConfirmedBy,
			&g.Strokes, &g.SignedAt, &g.ConfirmedAt, &g.ConfirmedBy)
		return g, err
	}, "settlement signatures")
	return err
}

// AddSettlementVersion appends v; ErrConflict if its number exists.
func (db *DB) AddSettlementVersion(ctx context.Context, v *cases.SettlementVersion) error {
	_, err := db.pool.Exec(ctx,
		`INSERT INTO settlement_versions (settlement_id, version, text, sha256, created_at, shared_at) VALUES ($1, $2, $3, $4, $5, $6)`,
		v.SettlementID, v.Version, v.Text, v.SHA256, v.CreatedAt, v.SharedAt)
	if err != nil {
		return writeErr("add settlement version", err)
	}
	return nil
}

// ShareSettlementVersion makes version the shared one.
func (db *DB) ShareSettlementVersion(ctx context.Context, id string, version int, at time.Time) error {
	tx, err := db.pool.Begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres: share settlement: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	res, err := tx.Exec(ctx, `UPDATE settlement_versions SET shared_at = coalesce(shared_at, $1) WHERE settlement_id = $2 AND version = $3`,
		at, id, version)
	if err := updated("share settlement version", res, err); err != nil {
		return err
	}
	res, err = tx.Exec(ctx, `UPDATE settlements SET shared_version = $1 WHERE id = $2`, version, id)
	if err := updated("share settlement", res, err); err != nil {
		return err
	}
	return tx.Commit(ctx)
}

// PutSettlementSignature creates or replaces a signature.
func (db *DB) PutSettlementSignature(ctx context.Context, g *cases.SettlementSignature) error {
	_, err := db.pool.Exec(ctx,
		`INSERT INTO settlement_signatures (settlement_id, version, participant_id, role, typed_name, name_matches,
			name_confirmed_by, strokes, signed_at, confirmed_at, confirmed_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
		ON CONFLICT (settlement_id, version, participant_id) DO UPDATE SET
			role = excluded.role, typed_name = excluded.typed_name, name_matches = excluded.name_matches,
			name_confirmed_by = excluded.name_confirmed_by, strokes = excluded.strokes, signed_at = excluded.signed_at,
			confirmed_at = excluded.confirmed_at, confirmed_by = excluded.confirmed_by`,
		g.SettlementID, g.Version, g.ParticipantID, string(g.Role), g.TypedName, g.NameMatches,
		g.NameConfirmedBy, g.Strokes, g.SignedAt, g.ConfirmedAt, g.ConfirmedBy)
	if err != nil {
		return writeErr("put settlement signature", err)
	}
	return nil
}

// FinalizeSettlement records the signed PDF, once.
func (db *DB) FinalizeSettlement(ctx context.Context, id string, f *cases.SettlementFinal) error {
	res, err := db.pool.Exec(ctx,
		`UPDATE settlements SET final_key = $1, final_bytes = $2, final_sha = $3, final_at = $4, final_by = $5, timestamp_key = $6
		WHERE id = $7 AND final_key IS NULL`,
		f.Key, f.Bytes, f.SHA256, f.At, f.By, nullString(f.Timestamp), id)
	err = updated("finalize settlement "+id, res, err)
	if errors.Is(err, store.ErrNotFound) {
		if _, gerr := db.Settlement(ctx, id); gerr == nil {
			return fmt.Errorf("%w: settlement %s is already final", store.ErrConflict, id)
		}
	}
	return err
}
