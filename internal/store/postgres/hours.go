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

// PutOfficeHours creates or replaces the hours of h.OrgID.
func (db *DB) PutOfficeHours(ctx context.Context, h *cases.OfficeHours) error {
	_, err := db.pool.Exec(ctx,
		`INSERT INTO office_hours (org_id, time_zone, slot_minutes, weekly, closed, updated_at, updated_by)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (org_id) DO UPDATE SET time_zone = excluded.time_zone, slot_minutes = excluded.slot_minutes,
			weekly = excluded.weekly, closed = excluded.closed, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
		h.OrgID, h.TimeZone, h.SlotMinutes, cases.EncodeWeekly(h.Weekly), cases.EncodeDates(h.Closed),
		h.UpdatedAt, nullString(h.UpdatedBy))
	if err != nil {
		return writeErr("put office hours", err)
	}
	return nil
}

// OfficeHours returns the hours of an organization.
func (db *DB) OfficeHours(ctx context.Context, orgID string) (*cases.OfficeHours, error) {
	h := cases.OfficeHours{OrgID: orgID}
	var weekly, closed string
	var by *string
	err := db.pool.QueryRow(ctx,
		`SELECT time_zone, slot_minutes, weekly, closed, updated_at, updated_by FROM office_hours WHERE org_id = $1`, orgID).
		Scan(&h.TimeZone, &h.SlotMinutes, &weekly, &closed, &h.UpdatedAt, &by)
	if err != nil {
		return nil, readErr("office hours of "+orgID, err)
	}
	h.UpdatedBy = valueOr(by)
	if h.Weekly, err = cases.DecodeWeekly(weekly); err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if h.Closed, err = cases.DecodeDates(closed); err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	return &h, nil
}

// OpenSelfBooking opens the session for self-booking (once).
func (db *DB) OpenSelfBooking(ctx context.Context, sessionID string, at time.Time) error {
	_, err := db.pool.Exec(ctx,
		`INSERT INTO session_booking (session_id, opened_at) VALUES ($1, $2) ON CONFLICT (session_id) DO NOTHING`,
		sessionID, at)
	if err != nil {
		return writeErr("open self-booking", err)
	}
	return nil
}

// SelfBooking returns the self-booking of a session.
func (db *DB) SelfBooking(ctx context.Context, sessionID string) (*cases.SelfBooking, error) {
	b := cases.SelfBooking{SessionID: sessionID}
	var by *string
	err := db.pool.QueryRow(ctx,
		`SELECT opened_at, booked_at, booked_by FROM session_booking WHERE session_id = $1`, sessionID).
		Scan(&b.OpenedAt, &b.BookedAt, &by)
	if err != nil {
		return nil, readErr("self-booking of "+sessionID, err)
	}
	b.BookedBy = valueOr(by)
	return &b, nil
}

// querier is what reads need of a pool or a transaction.
type querier interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// BusySessions lists the organization's sessions that occupy [from, to).
func (db *DB) BusySessions(ctx context.Context, orgID string, from, to time.Time) ([]*cases.BusySession, error) {
	return busySessions(ctx, db.pool, orgID, from, to)
}

func busySessions(ctx context.Context, q querier, orgID string, from, to time.Time) ([]*cases.BusySession, error) {
	rows, err := q.Query(ctx,
		`SELECT s.id, s.scheduled_start, s.scheduled_end FROM sessions s
		WHERE s.org_id = $1 AND s.state <> 'ended' AND s.ended_at IS NULL AND s.scheduled_start < $2
		AND (s.scheduled_end > $3 OR (s.scheduled_end IS NULL AND s.scheduled_start > $4))
		AND NOT EXISTS (SELECT 1 FROM session_booking b WHERE b.session_id = s.id AND b.booked_at IS NULL)
		ORDER BY s.scheduled_start, s.id`,
		orgID, to, from, from.Add(-cases.DefaultSessionLength))
	if err != nil {
		return nil, readErr("busy sessions", err)
	}
	busy, err := collect(rows, func(r pgx.Row) (*cases.BusySession, error) {
		var b cases.BusySession
		var end *time.Time
		if err := r.Scan(&b.SessionID, &b.Start, &end); err != nil {
			return nil, err
		}
		b.End = valueOr(end)
		if b.End.IsZero() {
			b.End = b.Start.Add(cases.DefaultSessionLength)
		}
		return &b, nil
	}, "busy sessions")
	if err != nil {
		return nil, err
	}
	for _, b := range busy {
		if b.Presiders, err = presiders(ctx, q, b.SessionID); err != nil {
			return nil, err
		}
	}
	return busy, nil
}

// presiders lists the accounts presiding over a session, sorted.
func presiders(ctx context.Context, q querier, sessionID string) ([]string, error) {
	rows, err := q.Query(ctx,
		`SELECT DISTINCT account_id FROM participants
		WHERE session_id = $1 AND account_id IS NOT NULL AND role IN ($2, $3, $4) ORDER BY account_id`,
		sessionID, string(cases.RoleMediator), string(cases.RoleNotary), string(cases.RoleJudge))
	if err != nil {
		return nil, readErr("presiders", err)
	}
	return collect(rows, func(r pgx.Row) (string, error) {
		var id string
		return id, r.Scan(&id)
	}, "presiders")
}

// BookSession books the session's time in a transaction that first locks
// the session's organization row, so that bookings in one organization
// take turns (on every node sharing the database).
func (db *DB) BookSession(ctx context.Context, b *cases.Booking) error {
	const what = "book session"
	tx, err := db.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.ReadCommitted})
	if err != nil {
		return fmt.Errorf("postgres: %s: %w", what, err)
	}
	defer func() { _ = tx.Rollback(ctx) }() // no-op after Commit
	var orgID string
	if err := tx.QueryRow(ctx, `SELECT org_id FROM sessions WHERE id = $1`, b.SessionID).Scan(&orgID); err != nil {
		return readErr(what+": session "+b.SessionID, err)
	}
	var one int
	if err := tx.QueryRow(ctx, `SELECT 1 FROM orgs WHERE id = $1 FOR NO KEY UPDATE`, orgID).Scan(&one); err != nil {
		return readErr(what+": org "+orgID, err)
	}
	var state string
	var started, ended *time.Time
	err = tx.QueryRow(ctx, `SELECT state, started_at, ended_at FROM sessions WHERE id = $1`, b.SessionID).
		Scan(&state, &started, &ended)
	if err != nil {
		return readErr(what+": session "+b.SessionID, err)
	}
	err = tx.QueryRow(ctx, `SELECT 1 FROM session_booking WHERE session_id = $1`, b.SessionID).Scan(&one)
	if errors.Is(err, pgx.ErrNoRows) || state != "scheduled" || started != nil || ended != nil {
		return fmt.Errorf("%w: session %s", store.ErrBookingClosed, b.SessionID)
	} else if err != nil {
		return readErr(what, err)
	}
	own, err := presiders(ctx, tx, b.SessionID)
	if err != nil {
		return err
	}
	busy, err := busySessions(ctx, tx, orgID, b.Start, b.End)
	if err != nil {
		return err
	}
	for _, o := range busy {
		if o.SessionID != b.SessionID && o.Blocks(b.Start, b.End, own) {
			return fmt.Errorf("%w: %s overlaps session %s", store.ErrSlotTaken, b.Start.UTC().Format(time.RFC3339), o.SessionID)
		}
	}
	if _, err := tx.Exec(ctx, `UPDATE sessions SET scheduled_start = $1, scheduled_end = $2 WHERE id = $3`,
		b.Start, b.End, b.SessionID); err != nil {
		return writeErr(what, err)
	}
	if _, err := tx.Exec(ctx, `UPDATE session_booking SET booked_at = $1, booked_by = $2 WHERE session_id = $3`,
		b.At, nullString(b.ParticipantID), b.SessionID); err != nil {
		return writeErr(what, err)
	}
	if err := tx.Commit(ctx); err != nil {
		return writeErr(what+": commit", err)
	}
	return nil
}
