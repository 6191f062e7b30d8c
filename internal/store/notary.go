package store

import (
	"context"
	"time"

	"github.com/kuayang/kuayang/internal/cases"
)

// Notary keeps the documents of notarization sessions and the notary's
// journal.
type Notary interface {
	// AddDocument records an uploaded document; ErrConflict if its id
	// exists.
	AddDocument(ctx context.Context, d *cases.Document) error
	Document(ctx context.Context, id string) (*cases.Document, error)
	// DocumentsOfSession lists a session's documents by UploadedAt, ID.
	DocumentsOfSession(ctx context.Context, sessionID string) ([]*cases.Document, error)
	// PresentDocument records how a document was presented
	// (cases.DocumentShown or cases.DocumentSigning), once: ErrConflict
	// if it already was, ErrNotFound if there is no such document.
	PresentDocument(ctx context.Context, id, how string, at time.Time, by, against string, mismatch bool) error

	// AddJournalEntry records a journal entry. Entries are never changed
	// nor deleted (the database refuses it). ErrConflict if the id exists
	// or the entry it corrects is already corrected; ErrNotFound if it
	// corrects no entry of the same session.
	AddJournalEntry(ctx context.Context, e *cases.JournalEntry) error
	// JournalEntries lists a session's entries by CreatedAt, ID.
	JournalEntries(ctx context.Context, sessionID string) ([]*cases.JournalEntry, error)
}
