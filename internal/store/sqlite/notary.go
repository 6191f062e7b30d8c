package sqlite

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/kuayang/kuayang/internal/cases"
	"github.com/kuayang/kuayang/internal/store"
)

const documentCols = `id, org_id, case_id, session_id, name, content_type, bytes, sha256, object_key,
	uploaded_by, uploaded_at, presented, presented_at, presented_by, against, mismatch`

func scanDocument(r rowScanner) (*cases.Document, error) {
	var d cases.Document
	err := r.Scan(&d.ID, &d.OrgID, &d.CaseID, &d.SessionID, &d.Name, &d.ContentType, &d.Bytes, &d.SHA256, &d.Key,
		&d.UploadedBy, timeCol{&d.UploadedAt}, nullStringCol{&d.Presented}, nullTimeCol{&d.PresentedAt},
		nullStringCol{&d.PresentedBy}, nullStringCol{&d.Against}, &d.Mismatch)
	if err != nil {
		return nil, err
	}
	return &d, nil
}

// AddDocument inserts d.
func (db *DB) AddDocument(ctx context.Context, d *cases.Document) error {
	_, err := db.w.ExecContext(ctx,
		`INSERT INTO documents (`+documentCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		d.ID, d.OrgID, d.CaseID, d.SessionID, d.Name, d.ContentType, d.Bytes, d.SHA256, d.Key,
		d.UploadedBy, encTime(d.UploadedAt), encNullString(d.Presented), encNullTime(d.PresentedAt),
		encNullString(d.PresentedBy), encNullString(d.Against), d.Mismatch)
	if err != nil {
		return writeErr("add document", err)
	}
	return nil
}

// Document returns the document with id.
func (db *DB) Document(ctx context.Context, id string) (*cases.Document, error) {
	d, err := scanDocument(db.r.QueryRowContext(ctx, `SELECT `+documentCols+` FROM documents WHERE id = ?`, id))
	if err != nil {
		return nil, readErr("document "+id, err)
	}
	return d, nil
}

// DocumentsOfSession lists a session's documents by upload time, then id.
func (db *DB) DocumentsOfSession(ctx context.Context, sessionID string) ([]*cases.Document, error) {
	rows, err := db.r.QueryContext(ctx,
		`SELECT `+documentCols+` FROM documents WHERE session_id = ? ORDER BY uploaded_at, id`, sessionID)
	if err != nil {
		return nil, readErr("documents of session", err)
	}
	return collect(rows, scanDocument, "documents of session")
}

// PresentDocument records how a document was presented, once.
func (db *DB) PresentDocument(ctx context.Context, id, how string, at time.Time, by, against string, mismatch bool) error {
	what := "present document " + id
	res, err := db.w.ExecContext(ctx,
		`UPDATE documents SET presented = ?, presented_at = ?, presented_by = ?, against = ?, mismatch = ?
		WHERE id = ? AND presented IS NULL`,
		how, encTime(at), by, encNullString(against), mismatch, id)
	if err := updated(what, res, err); err == nil || !errors.Is(err, store.ErrNotFound) {
		return err
	}
	if _, err := db.Document(ctx, id); err != nil {
		return err
	}
	return fmt.Errorf("%w: %s: already presented", store.ErrConflict, what)
}

const journalCols = `id, org_id, case_id, session_id, account_id, created_at, corrects, body, sha256, timestamp`

func scanJournalEntry(r rowScanner) (*cases.JournalEntry, error) {
	var e cases.JournalEntry
	err := r.Scan(&e.ID, &e.OrgID, &e.CaseID, &e.SessionID, &e.AccountID, timeCol{&e.CreatedAt},
		nullStringCol{&e.Corrects}, &e.Body, &e.SHA256, &e.Timestamp)
	if err != nil {
		return nil, err
	}
	return &e, nil
}

// AddJournalEntry inserts e. The entry it corrects, if any, must be of
// the same session; the condition is part of the insert, so no other
// write slips in between.
func (db *DB) AddJournalEntry(ctx context.Context, e *cases.JournalEntry) error {
	res, err := db.w.ExecContext(ctx,
		`INSERT INTO journal_entries (`+journalCols+`)
		SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?
		WHERE ? = '' OR EXISTS (SELECT 1 FROM journal_entries WHERE id = ? AND session_id = ?)`,
		e.ID, e.OrgID, e.CaseID, e.SessionID, e.AccountID, encTime(e.CreatedAt), encNullString(e.Corrects),
		e.Body, e.SHA256, encNullBytes(e.Timestamp),
		e.Corrects, e.Corrects, e.SessionID)
	return updated("add journal entry (corrected entry)", res, err)
}

// JournalEntries lists a session's journal entries by time, then id.
func (db *DB) JournalEntries(ctx context.Context, sessionID string) ([]*cases.JournalEntry, error) {
	rows, err := db.r.QueryContext(ctx,
		`SELECT `+journalCols+` FROM journal_entries WHERE session_id = ? ORDER BY created_at, id`, sessionID)
	if err != nil {
		return nil, readErr("journal entries", err)
	}
	return collect(rows, scanJournalEntry, "journal entries")
}
