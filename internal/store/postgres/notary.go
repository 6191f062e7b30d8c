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

const documentCols = `id, org_id, case_id, session_id, name, content_type, bytes, sha256, object_key,
	uploaded_by, uploaded_at, presented, presented_at, presented_by, against, mismatch`

func scanDocument(r pgx.Row) (*cases.Document, error) {
	var d cases.Document
	var presented, presentedBy, against *string
	err := r.Scan(&d.ID, &d.OrgID, &d.CaseID, &d.SessionID, &d.Name, &d.ContentType, &d.Bytes, &d.SHA256, &d.Key,
		&d.UploadedBy, &d.UploadedAt, &presented, &d.PresentedAt, &presentedBy, &against, &d.Mismatch)
	if err != nil {
		return nil, err
	}
	d.Presented, d.PresentedBy, d.Against = valueOr(presented), valueOr(presentedBy), valueOr(against)
	return &d, nil
}

// AddDocument inserts d.
func (db *DB) AddDocument(ctx context.Context, d *cases.Document) error {
	_, err := db.pool.Exec(ctx,
		`INSERT INTO documents (`+documentCols+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
		d.ID, d.OrgID, d.CaseID, d.SessionID, d.Name, d.ContentType, d.Bytes, d.SHA256, d.Key,
		d.UploadedBy, d.UploadedAt, nullString(d.Presented), d.PresentedAt,
		nullString(d.PresentedBy), nullString(d.Against), d.Mismatch)
	if err != nil {
		return writeErr("add document", err)
	}
	return nil
}

// Document returns the document with id.
func (db *DB) Document(ctx context.Context, id string) (*cases.Document, error) {
	d, err := scanDocument(db.pool.QueryRow(ctx, `SELECT `+documentCols+` FROM documents WHERE id = $1`, id))
	if err != nil {
		return nil, readErr("document "+id, err)
	}
	return d, nil
}

// DocumentsOfSession lists a session's documents by upload time, then id.
func (db *DB) DocumentsOfSession(ctx context.Context, sessionID string) ([]*cases.Document, error) {
	rows, err := db.pool.Query(ctx,
		`SELECT `+documentCols+` FROM documents WHERE session_id = $1 ORDER BY uploaded_at, id`, sessionID)
	if err != nil {
		return nil, readErr("documents of session", err)
	}
	return collect(rows, scanDocument, "documents of session")
}

// PresentDocument records how a document was presented, once.
func (db *DB) PresentDocument(ctx context.Context, id, how string, at time.Time, by, against string, mismatch bool) error {
	what := "present document " + id
	tag, err := db.pool.Exec(ctx,
		`UPDATE documents SET presented = $1, presented_at = $2, presented_by = $3, against = $4, mismatch = $5
		WHERE id = $6 AND presented IS NULL`,
		how, at, by, nullString(against), mismatch, id)
	if err := updated(what, tag, err); err == nil || !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if _, err := db.Document(ctx, id); err != nil {
		return err
	}
	return fmt.Errorf("%w: %s: already presented", store.ErrConflict, what)
}

const journalCols = `id, org_id, case_id, session_id, account_id, created_at, corrects, body, sha256, timestamp`

func scanJournalEntry(r pgx.Row) (*cases.JournalEntry, error) {
	var e cases.JournalEntry
	var corrects *string
	err := r.Scan(&e.ID, &e.OrgID, &e.CaseID, &e.SessionID, &e.AccountID, &e.CreatedAt,
		&corrects, &e.Body, &e.SHA256, &e.Timestamp)
	if err != nil {
		return nil, err
	}
	e.Corrects = valueOr(corrects)
	return &e, nil
}

// AddJournalEntry inserts e. The entry it corrects, if any, must be of
// the same session; the condition is part of the insert, so no other
// write slips in between.
func (db *DB) AddJournalEntry(ctx context.Context, e *cases.JournalEntry) error {
	tag, err := db.pool.Exec(ctx,
		`INSERT INTO journal_entries (`+journalCols+`)
		SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10
		WHERE $11 = '' OR EXISTS (SELECT 1 FROM journal_entries WHERE id = $11 AND session_id = $4)`,
		e.ID, e.OrgID, e.CaseID, e.SessionID, e.AccountID, e.CreatedAt, nullString(e.Corrects),
		e.Body, e.SHA256, nullBytes(e.Timestamp), e.Corrects)
	return updated("add journal entry (corrected entry)", tag, err)
}

// JournalEntries lists a session's journal entries by time, then id.
func (db *DB) JournalEntries(ctx context.Context, sessionID string) ([]*cases.JournalEntry, error) {
	rows, err := db.pool.Query(ctx,
		`SELECT `+journalCols+` FROM journal_entries WHERE session_id = $1 ORDER BY created_at, id`, sessionID)
	if err != nil {
		return nil, readErr("journal entries", err)
	}
	return collect(rows, scanJournalEntry, "journal entries")
}
