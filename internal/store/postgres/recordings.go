package postgres

import (
	"context"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/kuayang/kuayang/internal/cases"
	"github.com/kuayang/kuayang/internal/store/sqlbase"
)

// EndSession sets the session's state to ended and, the first time only,
// its EndedAt to at.
func (db *DB) EndSession(ctx context.Context, id string, at time.Time) error {
	tag, err := db.pool.Exec(ctx,
		`UPDATE sessions SET state = 'ended', ended_at = coalesce(ended_at, $1) WHERE id = $2`,
		at, id)
	return updated("end session "+id, tag, err)
}

const recordingCols = `session_id, state, started_at, ended_at, sealed_at, manifest_key,
	manifest_sha, chain_head, key_id, failure, legal_hold, retain_until, gap_count`

func scanRecording(r pgx.Row) (*cases.Recording, error) {
	var rec cases.Recording
	var retain *time.Time
	err := r.Scan(&rec.SessionID, &rec.State, &rec.StartedAt,
		&rec.EndedAt, &rec.SealedAt, &rec.ManifestKey,
		&rec.ManifestSHA, &rec.ChainHead, &rec.KeyID, &rec.Failure, &rec.LegalHold,
		&retain, &rec.GapCount)
	if err != nil {
		return nil, err
	}
	rec.RetainUntil = valueOr(retain)
	return &rec, nil
}

// PutRecording inserts r, or replaces every field of the recording of
// r.SessionID. The session must exist. An empty ManifestSHA, a zero
// RetainUntil and a nil GapCount are stored as NULL and read back as nil,
// zero and nil.
func (db *DB) PutRecording(ctx context.Context, r *cases.Recording) error {
	_, err := db.pool.Exec(ctx,
		`INSERT INTO recordings (`+recordingCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)
		ON CONFLICT (session_id) DO UPDATE SET
			state = excluded.state, started_at = excluded.started_at,
			ended_at = excluded.ended_at, sealed_at = excluded.sealed_at,
			manifest_key = excluded.manifest_key, manifest_sha = excluded.manifest_sha,
			chain_head = excluded.chain_head, key_id = excluded.key_id,
			failure = excluded.failure, legal_hold = excluded.legal_hold,
			retain_until = excluded.retain_until, gap_count = excluded.gap_count`,
		r.SessionID, r.State, r.StartedAt,
		r.EndedAt, r.SealedAt, r.ManifestKey,
		nullBytes(r.ManifestSHA), r.ChainHead, r.KeyID, r.Failure, r.LegalHold,
		zeroTimeNull(r.RetainUntil), r.GapCount)
	if err != nil {
		return writeErr("put recording", err)
	}
	return nil
}

// Recording returns the recording of the session.
func (db *DB) Recording(ctx context.Context, sessionID string) (*cases.Recording, error) {
	r, err := scanRecording(db.pool.QueryRow(ctx,
		`SELECT `+recordingCols+` FROM recordings WHERE session_id = $1`, sessionID))
	if err != nil {
		return nil, readErr("recording "+sessionID, err)
	}
	return r, nil
}

// RecordingsInState returns the recordings in state, oldest (StartedAt,
// then SessionID) first.
func (db *DB) RecordingsInState(ctx context.Context, state string) ([]*cases.Recording, error) {
	rows, err := db.pool.Query(ctx,
		`SELECT `+recordingCols+` FROM recordings WHERE state = $1 ORDER BY started_at, session_id`, state)
	if err != nil {
		return nil, readErr("recordings in state", err)
	}
	return collect(rows, scanRecording, "recordings in state")
}

const segmentCols = `session_id, participant_id, idx, key, content_type, bytes, sha256,
	wall_start, wall_end, media_start_us, media_end_us, codecs, width, height, gaps,
	recovered, uploaded_at, retain_until, speaking`

func scanSegment(r pgx.Row) (*cases.Segment, error) {
	var s cases.Segment
	var mediaStart, mediaEnd int64
	var codecs string
	var retain *time.Time
	var speaking *string
	err := r.Scan(&s.SessionID, &s.ParticipantID, &s.Index, &s.Key, &s.ContentType,
		&s.Bytes, &s.SHA256, &s.WallStart, &s.WallEnd,
		&mediaStart, &mediaEnd, &codecs, &s.Width, &s.Height, &s.Gaps,
		&s.Recovered, &s.UploadedAt, &retain, &speaking)
	if err != nil {
		return nil, err
	}
	s.MediaStart, s.MediaEnd = sqlbase.FromMicros(mediaStart), sqlbase.FromMicros(mediaEnd)
	s.RetainUntil = valueOr(retain)
	s.Speaking = valueOr(speaking)
	if s.Codecs, err = sqlbase.DecodeCodecs(codecs); err != nil {
		return nil, err
	}
	return &s, nil
}

// AddSegment inserts s. Another segment with the same session, participant
// and index, or with the same key, is store.ErrConflict; the session must
// exist. MediaStart and MediaEnd are kept to the microsecond; Codecs as a
// JSON array, none (nil or empty) read back as nil; a zero RetainUntil and
// an empty Speaking as NULL.
func (db *DB) AddSegment(ctx context.Context, s *cases.Segment) error {
	_, err := db.pool.Exec(ctx,
		`INSERT INTO segments (`+segmentCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19)`,
		s.SessionID, s.ParticipantID, s.Index, s.Key, s.ContentType, s.Bytes, s.SHA256,
		s.WallStart, s.WallEnd,
		sqlbase.Micros(s.MediaStart), sqlbase.Micros(s.MediaEnd), sqlbase.EncodeCodecs(s.Codecs),
		s.Width, s.Height, s.Gaps, s.Recovered, s.UploadedAt, zeroTimeNull(s.RetainUntil),
		nullString(s.Speaking))
	if err != nil {
		return writeErr("add segment", err)
	}
	return nil
}

// Segments returns the segments of the session ordered by WallStart, then
// ParticipantID (byte order), then Index.
func (db *DB) Segments(ctx context.Context, sessionID string) ([]*cases.Segment, error) {
	rows, err := db.pool.Query(ctx,
		`SELECT `+segmentCols+` FROM segments WHERE session_id = $1
		ORDER BY wall_start, participant_id, idx`, sessionID)
	if err != nil {
		return nil, readErr("segments", err)
	}
	return collect(rows, scanSegment, "segments")
}

const signingKeyCols = `id, node, public_pem, created_at`

func scanSigningKey(r pgx.Row) (*cases.SigningKey, error) {
	var k cases.SigningKey
	if err := r.Scan(&k.ID, &k.Node, &k.PublicPEM, &k.CreatedAt); err != nil {
		return nil, err
	}
	return &k, nil
}

// PutSigningKey inserts k. If a key with its ID exists, it does nothing:
// the stored key is kept as it is.
func (db *DB) PutSigningKey(ctx context.Context, k *cases.SigningKey) error {
	_, err := db.pool.Exec(ctx,
		`INSERT INTO signing_keys (`+signingKeyCols+`) VALUES ($1, $2, $3, $4)
		ON CONFLICT (id) DO NOTHING`,
		k.ID, k.Node, k.PublicPEM, k.CreatedAt)
	if err != nil {
		return writeErr("put signing key", err)
	}
	return nil
}

// SigningKeys returns every signing key, oldest (CreatedAt, then ID) first.
func (db *DB) SigningKeys(ctx context.Context) ([]*cases.SigningKey, error) {
	rows, err := db.pool.Query(ctx,
		`SELECT `+signingKeyCols+` FROM signing_keys ORDER BY created_at, id`)
	if err != nil {
		return nil, readErr("signing keys", err)
	}
	return collect(rows, scanSigningKey, "signing keys")
}
