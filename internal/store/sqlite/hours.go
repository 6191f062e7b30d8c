package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/kuayang/kuayang/internal/cases"
	"github.com/kuayang/kuayang/internal/store"
)

// PutOfficeHours creates or replaces the hours of h.OrgID.
func (db *DB) PutOfficeHours(ctx context.Context, h *cases.OfficeHours) error {
	_, err := db.w.ExecContext(ctx,
		`INSERT INTO office_hours (org_id, time_zone, slot_minutes, weekly, closed, updated_at, updated_by)
		VALUES (?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (org_id) DO UPDATE SET time_zone = excluded.time_zone, slot_minutes = excluded.slot_minutes,
			weekly = excluded.weekly, closed = excluded.closed, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
		h.OrgID, h.TimeZone, h.SlotMinutes, cases.EncodeWeekly(h.Weekly), cases.EncodeDates(h.Closed),
		encTime(h.UpdatedAt), encNullString(h.UpdatedBy))
	if err != nil {
		return writeErr("put office hours", err)
	}
	return nil
}

// OfficeHours returns the hours of an organization.
func (db *DB) OfficeHours(ctx context.Context, orgID string) (*cases.OfficeHours, error) {
	h := cases.OfficeHours{OrgID: orgID}
	var weekly, closed string
	err := db.r.QueryRowContext(ctx,
		`SELECT time_zone, slot_minutes, weekly, closed, updated_at, updated_by FROM office_hours WHERE org_id = ?`, orgID).
		Scan(&h.TimeZone, &h.SlotMinutes, &weekly, &closed, timeCol{&h.UpdatedAt}, nullStringCol{&h.UpdatedBy})
	if err != nil {
		return nil, readErr("office hours of "+orgID, err)
	}
	if h.Weekly, err = cases.DecodeWeekly(weekly); err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	if h.Closed, err = cases.DecodeDates(closed); err != nil {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	return &h, nil
}

// OpenSelfBooking opens the session for self-booking (once).
func (db *DB) OpenSelfBooking(ctx context.Context, sessionID string, at time.Time) error {
	_, err := db.w.ExecContext(ctx,
		`INSERT INTO session_booking (session_id, opened_at) VALUES (?, ?) ON CONFLICT (session_id) DO NOTHING`,
		sessionID, encTime(at))
	if err != nil {
		return writeErr("open self-booking", err)
	}
	return nil
}

// SelfBooking returns the self-booking of a session.
func (db *DB) SelfBooking(ctx context.Context, sessionID string) (*cases.SelfBooking, error) {
	b := cases.SelfBooking{SessionID: sessionID}
	err := db.r.QueryRowContext(ctx,
		`SELECT opened_at, booked_at, booked_by FROM session_booking WHERE session_id = ?`, sessionID).
		Scan(timeCol{&b.OpenedAt}, nullTimeCol{&b.BookedAt}, nullStringCol{&b.BookedBy})
	if err != nil {
		return nil, readErr("self-booking of "+sessionID, err)
	}
	return &b, nil
}

// querier is what reads need of a pool or a transaction.
type querier interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// BusySessions lists the organization's sessions that occupy [from, to).
func (db *DB) BusySessions(ctx context.Context, orgID string, from, to time.Time) ([]*cases.BusySession, error) {
	return busySessions(ctx, db.r, orgID, from, to)
}

func busySessions(ctx context.Context, q querier, orgID string, from, to time.Time) ([]*cases.BusySession, error) {
	rows, err := q.QueryContext(ctx,
		`SELECT s.id, s.scheduled_start, s.scheduled_end FROM sessions s
		WHERE s.org_id = ? AND s.state <> 'ended' AND s.ended_at IS NULL AND s.scheduled_start < ?
		AND (s.scheduled_end > ? OR (s.scheduled_end IS NULL AND s.scheduled_start > ?))
		AND NOT EXISTS (SELECT 1 FROM session_booking b WHERE b.session_id = s.id AND b.booked_at IS NULL)
		ORDER BY s.scheduled_start, s.id`,
		orgID, encTime(to), encTime(from), encTime(from.Add(-cases.DefaultSessionLength)))
	if err != nil {
		return nil, readErr("busy sessions", err)
	}
	busy, err := collect(rows, func(r rowScanner) (*cases.BusySession, error) {
		var b cases.BusySession
		if err := r.Scan(&b.SessionID, timeCol{&b.Start}, timeCol{&b.End}); err != nil {
			return nil, err
		}
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
	rows, err := q.QueryContext(ctx,
		`SELECT DISTINCT account_id FROM participants
		WHERE session_id = ? AND account_id IS NOT NULL AND role IN (?, ?, ?) ORDER BY account_id`,
		sessionID, string(cases.RoleMediator), string(cases.RoleNotary), string(cases.RoleJudge))
	if err != nil {
		return nil, readErr("presiders", err)
	}
	return collect(rows, func(r rowScanner) (string, error) {
		var id string
		return id, r.Scan(&id)
	}, "presiders")
}

// BookSession books the session's time in one write transaction (the
// single writer makes concurrent bookings take turns).
func (db *DB) BookSession(ctx context.Context, b *cases.Booking) error {
	const what = "book session"
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return writeErr(what, err)
	}
	defer func() { _ = tx.Rollback() }() // no-op after Commit
	var orgID, state string
	var started, ended *time.Time
	err = tx.QueryRowContext(ctx, `SELECT org_id, state, started_at, ended_at FROM sessions WHERE id = ?`, b.SessionID).
		Scan(&orgID, &state, nullTimeCol{&started}, nullTimeCol{&ended})
	if err != nil {
		return readErr(what+": session "+b.SessionID, err)
	}
	var open int
	err = tx.QueryRowContext(ctx, `SELECT 1 FROM session_booking WHERE session_id = ?`, b.SessionID).Scan(&open)
	if errors.Is(err, sql.ErrNoRows) || state != "scheduled" || started != nil || ended != nil {
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
	if _, err := tx.ExecContext(ctx, `UPDATE sessions SET scheduled_start = ?, scheduled_end = ? WHERE id = ?`,
		encTime(b.Start), encTime(b.End), b.SessionID); err != nil {
		return writeErr(what, err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE session_booking SET booked_at = ?, booked_by = ? WHERE session_id = ?`,
		encTime(b.At), encNullString(b.ParticipantID), b.SessionID); err != nil {
		return writeErr(what, err)
	}
	if err := tx.Commit(); err != nil {
		return writeErr(what+": commit", err)
	}
	return nil
}
