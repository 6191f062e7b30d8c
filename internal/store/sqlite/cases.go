package sqlite

import (
	"context"
	"time"

	"github.com/kuayang/kuayang/internal/cases"
	"github.com/kuayang/kuayang/internal/store/sqlbase"
)

const caseCols = `id, org_id, kind, number, title, status, created_by, created_at`

func scanCase(r rowScanner) (*cases.Case, error) {
	var c cases.Case
	err := r.Scan(&c.ID, &c.OrgID, &c.Kind, &c.Number, &c.Title, &c.Status,
		nullStringCol{&c.CreatedBy}, timeCol{&c.CreatedAt})
	if err != nil {
		return nil, err
	}
	return &c, nil
}

// CreateCase inserts c. A duplicate id, or a number already used in the
// organization, is store.ErrConflict. An empty CreatedBy is stored as NULL;
// a non-empty one must name an account. The search forms of the number
// and title (sqlbase.Fold) are stored beside them.
func (db *DB) CreateCase(ctx context.Context, c *cases.Case) error {
	_, err := db.w.ExecContext(ctx,
		`INSERT INTO cases (`+caseCols+`, number_fold, title_fold) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		c.ID, c.OrgID, string(c.Kind), c.Number, c.Title, c.Status,
		encNullString(c.CreatedBy), encTime(c.CreatedAt), sqlbase.Fold(c.Number), sqlbase.Fold(c.Title))
	if err != nil {
		return writeErr("create case", err)
	}
	return nil
}

// Case returns the case with id.
func (db *DB) Case(ctx context.Context, id string) (*cases.Case, error) {
	c, err := scanCase(db.r.QueryRowContext(ctx,
		`SELECT `+caseCols+` FROM cases WHERE id = ?`, id))
	if err != nil {
		return nil, readErr("case "+id, err)
	}
	return c, nil
}

// CaseByNumber returns the case of the organization with number.
func (db *DB) CaseByNumber(ctx context.Context, orgID, number string) (*cases.Case, error) {
	c, err := scanCase(db.r.QueryRowContext(ctx,
		`SELECT `+caseCols+` FROM cases WHERE org_id = ? AND number = ?`, orgID, number))
	if err != nil {
		return nil, readErr("case by number", err)
	}
	return c, nil
}

const sessionCols = `id, case_id, org_id, title, scheduled_start, scheduled_end, time_zone,
	record, waiting_room, state, started_at, ended_at, created_at`

func scanSession(r rowScanner) (*cases.Session, error) {
	var s cases.Session
	err := r.Scan(&s.ID, &s.CaseID, &s.OrgID, &s.Title,
		timeCol{&s.ScheduledStart}, timeCol{&s.ScheduledEnd}, &s.TimeZone,
		&s.Record, &s.WaitingRoom, &s.State,
		nullTimeCol{&s.StartedAt}, nullTimeCol{&s.EndedAt}, timeCol{&s.CreatedAt})
	if err != nil {
		return nil, err
	}
	return &s, nil
}

// CreateSession inserts s. Its OrgID must be the organization of its case.
// A zero ScheduledEnd is stored as NULL.
func (db *DB) CreateSession(ctx context.Context, s *cases.Session) error {
	_, err := db.w.ExecContext(ctx,
		`INSERT INTO sessions (`+sessionCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		s.ID, s.CaseID, s.OrgID, s.Title,
		encTime(s.ScheduledStart), encZeroTime(s.ScheduledEnd), s.TimeZone,
		s.Record, s.WaitingRoom, s.State,
		encNullTime(s.StartedAt), encNullTime(s.EndedAt), encTime(s.CreatedAt))
	if err != nil {
		return writeErr("create session", err)
	}
	return nil
}

// Session returns the session with id.
func (db *DB) Session(ctx context.Context, id string) (*cases.Session, error) {
	s, err := scanSession(db.r.QueryRowContext(ctx,
		`SELECT `+sessionCols+` FROM sessions WHERE id = ?`, id))
	if err != nil {
		return nil, readErr("session "+id, err)
	}
	return s, nil
}

// SessionsOfCase returns the sessions of the case, oldest (CreatedAt, then
// ID) first; none if the case has none or does not exist.
func (db *DB) SessionsOfCase(ctx context.Context, caseID string) ([]*cases.Session, error) {
	rows, err := db.r.QueryContext(ctx,
		`SELECT `+sessionCols+` FROM sessions WHERE case_id = ? ORDER BY created_at, id`, caseID)
	if err != nil {
		return nil, readErr("sessions of case", err)
	}
	return collect(rows, scanSession, "sessions of case")
}

// MarkSessionLive sets the session's state to live and, the first time
// only, its StartedAt to at.
func (db *DB) MarkSessionLive(ctx context.Context, id string, at time.Time) error {
	res, err := db.w.ExecContext(ctx,
		`UPDATE sessions SET state = 'live', started_at = coalesce(started_at, ?) WHERE id = ?`,
		encTime(at), id)
	return updated("mark session live "+id, res, err)
}
