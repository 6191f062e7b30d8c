package sqlite

import (
	"context"
	"time"

	"github.com/kuayang/kuayang/internal/cases"
	"github.com/kuayang/kuayang/internal/store/sqlbase"
)

const participantCols = `id, session_id, account_id, role, display_name, language, time_zone,
	email, consent_at, joined_at, left_at, last_ip, created_at, interprets_for`

func scanParticipant(r rowScanner) (*cases.Participant, error) {
	var p cases.Participant
	err := r.Scan(&p.ID, &p.SessionID, nullStringCol{&p.AccountID}, &p.Role,
		&p.DisplayName, &p.Language, &p.TimeZone, &p.Email,
		nullTimeCol{&p.ConsentAt}, nullTimeCol{&p.JoinedAt}, nullTimeCol{&p.LeftAt},
		&p.LastIP, timeCol{&p.CreatedAt}, nullStringCol{&p.InterpretsFor})
	if err != nil {
		return nil, err
	}
	return &p, nil
}

// CreateParticipant inserts p. An empty AccountID (a party or interpreter)
// is stored as NULL; a non-empty one must name an account. So is an empty
// InterpretsFor; a non-empty one must name a participant. The search form
// of the name (sqlbase.Fold) is stored beside it.
func (db *DB) CreateParticipant(ctx context.Context, p *cases.Participant) error {
	_, err := db.w.ExecContext(ctx,
		`INSERT INTO participants (`+participantCols+`, name_fold) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		p.ID, p.SessionID, encNullString(p.AccountID), string(p.Role),
		p.DisplayName, p.Language, p.TimeZone, p.Email,
		encNullTime(p.ConsentAt), encNullTime(p.JoinedAt), encNullTime(p.LeftAt),
		p.LastIP, encTime(p.CreatedAt), encNullString(p.InterpretsFor), sqlbase.Fold(p.DisplayName))
	if err != nil {
		return writeErr("create participant", err)
	}
	return nil
}

// Participant returns the participant with id.
func (db *DB) Participant(ctx context.Context, id string) (*cases.Participant, error) {
	p, err := scanParticipant(db.r.QueryRowContext(ctx,
		`SELECT `+participantCols+` FROM participants WHERE id = ?`, id))
	if err != nil {
		return nil, readErr("participant "+id, err)
	}
	return p, nil
}

// ParticipantsOfSession returns the participants of the session, oldest
// (CreatedAt, then ID) first.
func (db *DB) ParticipantsOfSession(ctx context.Context, sessionID string) ([]*cases.Participant, error) {
	rows, err := db.r.QueryContext(ctx,
		`SELECT `+participantCols+` FROM participants WHERE session_id = ? ORDER BY created_at, id`,
		sessionID)
	if err != nil {
		return nil, readErr("participants of session", err)
	}
	return collect(rows, scanParticipant, "participants of session")
}

// MarkJoined records a join at at from ip: JoinedAt is set the first time
// only, LastIP every time, and LeftAt is cleared, so a participant is
// present when JoinedAt is set and LeftAt is nil.
func (db *DB) MarkJoined(ctx context.Context, participantID string, at time.Time, ip string) error {
	res, err := db.w.ExecContext(ctx,
		`UPDATE participants SET joined_at = coalesce(joined_at, ?), last_ip = ?, left_at = NULL WHERE id = ?`,
		encTime(at), ip, participantID)
	return updated("mark joined "+participantID, res, err)
}

// MarkLeft records a leave: LeftAt is set to at, every time.
func (db *DB) MarkLeft(ctx context.Context, participantID string, at time.Time) error {
	res, err := db.w.ExecContext(ctx,
		`UPDATE participants SET left_at = ? WHERE id = ?`, encTime(at), participantID)
	return updated("mark left "+participantID, res, err)
}

// MarkConsent sets ConsentAt to at, the first time only.
func (db *DB) MarkConsent(ctx context.Context, participantID string, at time.Time) error {
	res, err := db.w.ExecContext(ctx,
		`UPDATE participants SET consent_at = coalesce(consent_at, ?) WHERE id = ?`,
		encTime(at), participantID)
	return updated("mark consent "+participantID, res, err)
}

const inviteCols = `id, participant_id, session_id, token_hash, expires_at, revoked_at, created_at`

func scanInvite(r rowScanner) (*cases.Invite, error) {
	var i cases.Invite
	err := r.Scan(&i.ID, &i.ParticipantID, &i.SessionID, &i.TokenHash,
		timeCol{&i.ExpiresAt}, nullTimeCol{&i.RevokedAt}, timeCol{&i.CreatedAt})
	if err != nil {
		return nil, err
	}
	return &i, nil
}

// CreateInvite inserts i. Its SessionID must be the session of its
// participant. A duplicate id or token hash is store.ErrConflict.
func (db *DB) CreateInvite(ctx context.Context, i *cases.Invite) error {
	_, err := db.w.ExecContext(ctx,
		`INSERT INTO invites (`+inviteCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		i.ID, i.ParticipantID, i.SessionID, i.TokenHash,
		encTime(i.ExpiresAt), encNullTime(i.RevokedAt), encTime(i.CreatedAt))
	if err != nil {
		return writeErr("create invite", err)
	}
	return nil
}

// InviteByTokenHash returns the invite whose token hashes to hash, whether
// or not it is still usable.
func (db *DB) InviteByTokenHash(ctx context.Context, hash []byte) (*cases.Invite, error) {
	i, err := scanInvite(db.r.QueryRowContext(ctx,
		`SELECT `+inviteCols+` FROM invites WHERE token_hash = ?`, hash))
	if err != nil {
		return nil, readErr("invite by token hash", err)
	}
	return i, nil
}

// InvitesOfParticipant returns the participant's invites, oldest
// (CreatedAt, then ID) first.
func (db *DB) InvitesOfParticipant(ctx context.Context, participantID string) ([]*cases.Invite, error) {
	rows, err := db.r.QueryContext(ctx,
		`SELECT `+inviteCols+` FROM invites WHERE participant_id = ? ORDER BY created_at, id`,
		participantID)
	if err != nil {
		return nil, readErr("invites of participant", err)
	}
	return collect(rows, scanInvite, "invites of participant")
}

// RevokeInvite sets the invite's RevokedAt to at, the first time only.
func (db *DB) RevokeInvite(ctx context.Context, id string, at time.Time) error {
	res, err := db.w.ExecContext(ctx,
		`UPDATE invites SET revoked_at = coalesce(revoked_at, ?) WHERE id = ?`, encTime(at), id)
	return updated("revoke invite "+id, res, err)
}

// Invite returns the invite with id.
func (db *DB) Invite(ctx context.Context, id string) (*cases.Invite, error) {
	i, err := scanInvite(db.r.QueryRowContext(ctx,
		`SELECT `+inviteCols+` FROM invites WHERE id = ?`, id))
	if err != nil {
		return nil, readErr("invite "+id, err)
	}
	return i, nil
}
