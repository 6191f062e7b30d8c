package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/kuayang/kuayang/internal/cases"
	"github.com/kuayang/kuayang/internal/store"
	"github.com/kuayang/kuayang/internal/store/sqlbase"
)

// EndSession sets the session's state to ended and, the first time only,
// its EndedAt to at.
func (db *DB) EndSession(ctx context.Context, id string, at time.Time) error {
	res, err := db.w.ExecContext(ctx,
		`UPDATE sessions SET state = 'ended', ended_at = coalesce(ended_at, ?) WHERE id = ?`,
		encTime(at), id)
	return updated("end session "+id, res, err)
}

const recordingCols = `session_id, state, started_at, ended_at, sealed_at, manifest_key,
	manifest_sha, chain_head, key_id, failure, legal_hold, retain_until, gap_count`

func scanRecording(r rowScanner) (*cases.Recording, error) {
	var rec cases.Recording
	err := r.Scan(&rec.SessionID, &rec.State, timeCol{&rec.StartedAt},
		nullTimeCol{&rec.EndedAt}, nullTimeCol{&rec.SealedAt}, &rec.ManifestKey,
		&rec.ManifestSHA, &rec.ChainHead, &rec.KeyID, &rec.Failure, &rec.LegalHold,
		timeCol{&rec.RetainUntil}, &rec.GapCount)
	if err != nil {
		return nil, err
	}
	return &rec, nil
}

// PutRecording inserts r, or replaces every field of the recording of
// r.SessionID. The session must exist. An empty ManifestSHA, a zero
// RetainUntil and a nil GapCount are stored as NULL and read back as nil,
// zero and nil.
func (db *DB) PutRecording(ctx context.Context, r *cases.Recording) error {
	_, err := db.w.ExecContext(ctx,
		`INSERT INTO recordings (`+recordingCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (session_id) DO UPDATE SET
			state = excluded.state, started_at = excluded.started_at,
			ended_at = excluded.ended_at, sealed_at = excluded.sealed_at,
			manifest_key = excluded.manifest_key, manifest_sha = excluded.manifest_sha,
			chain_head = excluded.chain_head, key_id = excluded.key_id,
			failure = excluded.failure, legal_hold = excluded.legal_hold,
			retain_until = excluded.retain_until, gap_count = excluded.gap_count`,
		r.SessionID, r.State, encTime(r.StartedAt),
		encNullTime(r.EndedAt), encNullTime(r.SealedAt), r.ManifestKey,
		encNullBytes(r.ManifestSHA), r.ChainHead, r.KeyID, r.Failure, r.LegalHold,
		encZeroTime(r.RetainUntil), r.GapCount)
	if err != nil {
		return writeErr("put recording", err)
	}
	return nil
}

// Recording returns the recording of the session.
func (db *DB) Recording(ctx context.Context, sessionID string) (*cases.Recording, error) {
	r, err := scanRecording(db.r.QueryRowContext(ctx,
		`SELECT `+recordingCols+` FROM recordings WHERE session_id = ?`, sessionID))
	if err != nil {
		return nil, readErr("recording "+sessionID, err)
	}
	return r, nil
}

// RecordingsInState returns the recordings in state, oldest (StartedAt,
// then SessionID) first.
func (db *DB) RecordingsInState(ctx context.Context, state string) ([]*cases.Recording, error) {
	rows, err := db.r.QueryContext(ctx,
		`SELECT `+recordingCols+` FROM recordings WHERE state = ? ORDER BY started_at, session_id`, state)
	if err != nil {
		return nil, readErr("recordings in state", err)
	}
	return collect(rows, scanRecording, "recordings in state")
}

const segmentCols = `session_id, participant_id, idx, key, content_type, bytes, sha256,
	wall_start, wall_end, media_start_us, media_end_us, codecs, width, height, gaps,
	recovered, uploaded_at, retain_until, speaking, stream, room`

func scanSegment(r rowScanner) (*cases.Segment, error) {
	var s cases.Segment
	var mediaStart, mediaEnd int64
	var codecs string
	err := r.Scan(&s.SessionID, &s.ParticipantID, &s.Index, &s.Key, &s.ContentType,
		&s.Bytes, &s.SHA256, timeCol{&s.WallStart}, timeCol{&s.WallEnd},
		&mediaStart, &mediaEnd, &codecs, &s.Width, &s.Height, &s.Gaps,
		&s.Recovered, timeCol{&s.UploadedAt}, timeCol{&s.RetainUntil}, nullStringCol{&s.Speaking}, nullStringCol{&s.Stream}, nullStringCol{&s.Room})
	if err != nil {
		return nil, err
	}
	s.MediaStart, s.MediaEnd = sqlbase.FromMicros(mediaStart), sqlbase.FromMicros(mediaEnd)
	if s.Codecs, err = sqlbase.DecodeCodecs(codecs); err != nil {
		return nil, err
	}
	return &s, nil
}

// AddSegment inserts s. Another segment with the same session, participant
// and index, or with the same key, is store.ErrConflict; the session must
// exist. MediaStart and MediaEnd are kept to the microsecond; Codecs as a
// JSON array, none (nil or empty) read back as nil; a zero RetainUntil and
// an empty Speaking, Stream and Room as NULL.
func (db *DB) AddSegment(ctx context.Context, s *cases.Segment) error {
	_, err := db.w.ExecContext(ctx,
		`INSERT INTO segments (`+segmentCols+`)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		s.SessionID, s.ParticipantID, s.Index, s.Key, s.ContentType, s.Bytes, s.SHA256,
		encTime(s.WallStart), encTime(s.WallEnd),
		sqlbase.Micros(s.MediaStart), sqlbase.Micros(s.MediaEnd), sqlbase.EncodeCodecs(s.Codecs),
		s.Width, s.Height, s.Gaps, s.Recovered, encTime(s.UploadedAt), encZeroTime(s.RetainUntil),
		encNullString(s.Speaking), encNullString(s.Stream), encNullString(s.Room))
	if err != nil {
		return writeErr("add segment", err)
	}
	return nil
}

// Segments returns the segments of the session ordered by WallStart, then
// ParticipantID, then Index.
func (db *DB) Segments(ctx context.Context, sessionID string) ([]*cases.Segment, error) {
	rows, err := db.r.QueryContext(ctx,
		`SELECT `+segmentCols+` FROM segments WHERE session_id = ?
		ORDER BY wall_start, participant_id, idx`, sessionID)
	if err != nil {
		return nil, readErr("segments", err)
	}
	return collect(rows, scanSegment, "segments")
}

const recordingNodeCols = `session_id, node, state, since`

func scanRecordingNode(r rowScanner) (*cases.RecordingNode, error) {
	var n cases.RecordingNode
	if err := r.Scan(&n.SessionID, &n.Node, &n.State, timeCol{&n.Since}); err != nil {
		return nil, err
	}
	return &n, nil
}

// execer is a *sql.DB or *sql.Tx.
type execer interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// putRecordingNode sets node's part in the session to state since at,
// inserting it if absent.
func putRecordingNode(ctx context.Context, e execer, what, sessionID, node, state string, at time.Time) error {
	_, err := e.ExecContext(ctx,
		`INSERT INTO recording_nodes (`+recordingNodeCols+`) VALUES (?, ?, ?, ?)
		ON CONFLICT (session_id, node) DO UPDATE SET state = excluded.state, since = excluded.since`,
		sessionID, node, state, encTime(at))
	if err != nil {
		return writeErr(what, err)
	}
	return nil
}

// inRecordingTx runs fn in a write transaction, which SQLite runs alone
// (BEGIN IMMEDIATE takes the database's write lock, also against other
// processes), after checking that the session exists (else
// store.ErrNotFound), and commits if fn succeeds.
func (db *DB) inRecordingTx(ctx context.Context, what, sessionID string, fn func(tx *sql.Tx) error) error {
	tx, err := db.w.BeginTx(ctx, nil)
	if err != nil {
		return writeErr(what, err)
	}
	defer func() { _ = tx.Rollback() }() // no-op after Commit
	var one int
	if err := tx.QueryRowContext(ctx, `SELECT 1 FROM sessions WHERE id = ?`, sessionID).Scan(&one); err != nil {
		return readErr(what+": session "+sessionID, err)
	}
	if err := fn(tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return writeErr(what+": commit", err)
	}
	return nil
}

// ClaimRecording makes node the recorder of the session, in one write
// transaction: node's part becomes cases.NodeRecording since at (inserted
// when absent; since is reset when it already was), and the parts of the
// other nodes that were cases.NodeRecording become cases.NodePending since
// at. It returns those other nodes sorted, nil if none. An unknown session
// is store.ErrNotFound.
func (db *DB) ClaimRecording(ctx context.Context, sessionID, node string, at time.Time) (displaced []string, err error) {
	const what = "claim recording"
	err = db.inRecordingTx(ctx, what, sessionID, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx,
			`UPDATE recording_nodes SET state = ?, since = ?
			WHERE session_id = ? AND state = ? AND node <> ? RETURNING node`,
			cases.NodePending, encTime(at), sessionID, cases.NodeRecording, node)
		if err != nil {
			return writeErr(what, err)
		}
		for rows.Next() {
			var n string
			if err := rows.Scan(&n); err != nil {
				_ = rows.Close()
				return fmt.Errorf("sqlite: %s: %w", what, err)
			}
			displaced = append(displaced, n)
		}
		if err := errors.Join(rows.Err(), rows.Close()); err != nil {
			return writeErr(what, err)
		}
		return putRecordingNode(ctx, tx, what, sessionID, node, cases.NodeRecording, at)
	})
	if err != nil {
		return nil, err
	}
	slices.Sort(displaced)
	return displaced, nil
}

// AdoptRecording makes node the recorder of the session if from is its
// recorder ("" for none), in one write transaction: from's part becomes
// cases.NodePending since at, unless from is node, and node's part
// cases.NodeRecording since at (inserted when absent; since is reset when
// it already was). If the recorder is not from, it changes nothing and
// returns store.ErrConflict; of nodes adopting from the same recorder at
// once, one succeeds. An unknown session is store.ErrNotFound.
func (db *DB) AdoptRecording(ctx context.Context, sessionID, from, node string, at time.Time) error {
	const what = "adopt recording"
	return db.inRecordingTx(ctx, what, sessionID, func(tx *sql.Tx) error {
		var cur string
		err := tx.QueryRowContext(ctx,
			`SELECT node FROM recording_nodes WHERE session_id = ? AND state = ?`,
			sessionID, cases.NodeRecording).Scan(&cur)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return readErr(what+": recorder", err)
		}
		if cur != from {
			return fmt.Errorf("%w: %s of %s from %q: the recorder is %q", store.ErrConflict, what, sessionID, from, cur)
		}
		if from != "" && from != node {
			if err := putRecordingNode(ctx, tx, what, sessionID, from, cases.NodePending, at); err != nil {
				return err
			}
		}
		return putRecordingNode(ctx, tx, what, sessionID, node, cases.NodeRecording, at)
	})
}

// SetRecordingNode sets node's part in the session to state since at,
// inserting it if absent. The session must exist. Setting a node to
// cases.NodeRecording while another node's part is is store.ErrConflict
// (use ClaimRecording or AdoptRecording to change recorders).
func (db *DB) SetRecordingNode(ctx context.Context, sessionID, node, state string, at time.Time) error {
	return putRecordingNode(ctx, db.w, "set recording node", sessionID, node, state, at)
}

// RecordingNodes returns the nodes' parts in the session ordered by Since,
// then Node; none is an empty list, not an error.
func (db *DB) RecordingNodes(ctx context.Context, sessionID string) ([]*cases.RecordingNode, error) {
	rows, err := db.r.QueryContext(ctx,
		`SELECT `+recordingNodeCols+` FROM recording_nodes WHERE session_id = ?
		ORDER BY since, node`, sessionID)
	if err != nil {
		return nil, readErr("recording nodes", err)
	}
	return collect(rows, scanRecordingNode, "recording nodes")
}

const signingKeyCols = `id, node, public_pem, created_at`

func scanSigningKey(r rowScanner) (*cases.SigningKey, error) {
	var k cases.SigningKey
	if err := r.Scan(&k.ID, &k.Node, &k.PublicPEM, timeCol{&k.CreatedAt}); err != nil {
		return nil, err
	}
	return &k, nil
}

// PutSigningKey inserts k. If a key with its ID exists, it does nothing:
// the stored key is kept as it is.
func (db *DB) PutSigningKey(ctx context.Context, k *cases.SigningKey) error {
	_, err := db.w.ExecContext(ctx,
		`INSERT INTO signing_keys (`+signingKeyCols+`) VALUES (?, ?, ?, ?)
		ON CONFLICT (id) DO NOTHING`,
		k.ID, k.Node, k.PublicPEM, encTime(k.CreatedAt))
	if err != nil {
		return writeErr("put signing key", err)
	}
	return nil
}

// SigningKeys returns every signing key, oldest (CreatedAt, then ID) first.
func (db *DB) SigningKeys(ctx context.Context) ([]*cases.SigningKey, error) {
	rows, err := db.r.QueryContext(ctx,
		`SELECT `+signingKeyCols+` FROM signing_keys ORDER BY created_at, id`)
	if err != nil {
		return nil, readErr("signing keys", err)
	}
	return collect(rows, scanSigningKey, "signing keys")
}
