package storetest

import (
	"bytes"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/kuayang/kuayang/internal/cases"
	"github.com/kuayang/kuayang/internal/store"
)

func newDocument(f *fixture, name string, uploaded time.Time) *cases.Document {
	sum := sha256.Sum256([]byte(name))
	id := store.NewID()
	return &cases.Document{ID: id, OrgID: f.org.ID, CaseID: f.kase.ID, SessionID: f.session.ID, Name: name,
		ContentType: "application/pdf", Bytes: 1234, SHA256: sum[:], Key: "cases/" + f.kase.ID + "/documents/" + id,
		UploadedBy: f.participant.ID, UploadedAt: uploaded}
}

// testDocuments: documents round-trip, list in upload order, and are
// presented once.
func testDocuments(t *testing.T, s store.Store) {
	ctx := t.Context()
	f := seed(t, s, "Notary office")
	a, b := newDocument(f, "poa.pdf", at(3*time.Hour)), newDocument(f, "poa-v2.pdf", at(2*time.Hour))
	must(t, "AddDocument a", s.AddDocument(ctx, a))
	must(t, "AddDocument b", s.AddDocument(ctx, b))
	wantErr(t, "AddDocument again", s.AddDocument(ctx, a), store.ErrConflict)
	got, err := s.Document(ctx, a.ID)
	must(t, "Document", err)
	eq(t, "Name", got.Name, a.Name)
	eq(t, "Key", got.Key, a.Key)
	eq(t, "Bytes", got.Bytes, a.Bytes)
	eq(t, "UploadedBy", got.UploadedBy, a.UploadedBy)
	eqTime(t, "UploadedAt", got.UploadedAt, a.UploadedAt)
	if !bytes.Equal(got.SHA256, a.SHA256) || got.Presented != "" || got.PresentedAt != nil || got.Mismatch {
		t.Errorf("Document = %+v, want %+v", got, a)
	}
	_, err = s.Document(ctx, "nope")
	wantErr(t, "Document of an unknown id", err, store.ErrNotFound)

	must(t, "PresentDocument a", s.PresentDocument(ctx, a.ID, cases.DocumentShown, at(4*time.Hour), "p1", "", false))
	wantErr(t, "PresentDocument a again", s.PresentDocument(ctx, a.ID, cases.DocumentSigning, at(5*time.Hour), "p1", "", false), store.ErrConflict)
	wantErr(t, "PresentDocument of an unknown id", s.PresentDocument(ctx, "nope", cases.DocumentShown, at(4*time.Hour), "p1", "", false), store.ErrNotFound)
	must(t, "PresentDocument b", s.PresentDocument(ctx, b.ID, cases.DocumentSigning, at(5*time.Hour), "p1", a.ID, true))

	list, err := s.DocumentsOfSession(ctx, f.session.ID)
	must(t, "DocumentsOfSession", err)
	if len(list) != 2 || list[0].ID != b.ID || list[1].ID != a.ID {
		t.Fatalf("DocumentsOfSession = %v, want b then a", list)
	}
	eq(t, "b.Presented", list[0].Presented, cases.DocumentSigning)
	eq(t, "b.Against", list[0].Against, a.ID)
	eq(t, "b.Mismatch", list[0].Mismatch, true)
	eq(t, "b.PresentedBy", list[0].PresentedBy, "p1")
	eq(t, "a.Presented", list[1].Presented, cases.DocumentShown)
	eq(t, "a.Mismatch", list[1].Mismatch, false)
	if list[1].PresentedAt == nil {
		t.Fatal("a.PresentedAt is nil")
	}
	eqTime(t, "a.PresentedAt", *list[1].PresentedAt, at(4*time.Hour))
	other, err := s.DocumentsOfSession(ctx, "other")
	must(t, "DocumentsOfSession of another session", err)
	if other == nil || len(other) != 0 {
		t.Errorf("DocumentsOfSession of another session = %v, want empty", other)
	}
}

func newJournalEntry(f *fixture, corrects string, created time.Time) *cases.JournalEntry {
	body := []byte(`{"format":"kuayang-journal/1","act":"power of attorney"}`)
	sum := sha256.Sum256(body)
	return &cases.JournalEntry{ID: store.NewID(), OrgID: f.org.ID, CaseID: f.kase.ID, SessionID: f.session.ID,
		AccountID: f.account.ID, CreatedAt: created, Corrects: corrects, Body: body, SHA256: sum[:]}
}

// testJournal: entries round-trip with their timestamp token; a
// correction names an entry of the same session, and an entry is
// corrected once: corrections form a chain. The interface has no way to
// change or delete an entry (JournalImmutable checks the database).
func testJournal(t *testing.T, s store.Store) {
	ctx := t.Context()
	f := seed(t, s, "Notary office")
	first := newJournalEntry(f, "", at(3*time.Hour))
	first.Timestamp = []byte{0x30, 0x82, 0x01, 0x02}
	must(t, "AddJournalEntry", s.AddJournalEntry(ctx, first))
	wantErr(t, "AddJournalEntry again", s.AddJournalEntry(ctx, first), store.ErrConflict)
	wantErr(t, "a correction of nothing", s.AddJournalEntry(ctx, newJournalEntry(f, "nope", at(4*time.Hour))), store.ErrNotFound)
	g := seed(t, s, "Another office")
	wantErr(t, "a correction of another session's entry", s.AddJournalEntry(ctx, newJournalEntry(g, first.ID, at(4*time.Hour))), store.ErrNotFound)

	second := newJournalEntry(f, first.ID, at(5*time.Hour))
	must(t, "AddJournalEntry correction", s.AddJournalEntry(ctx, second))
	wantErr(t, "a second correction of the same entry", s.AddJournalEntry(ctx, newJournalEntry(f, first.ID, at(6*time.Hour))), store.ErrConflict)
	third := newJournalEntry(f, second.ID, at(7*time.Hour))
	must(t, "AddJournalEntry correction of the correction", s.AddJournalEntry(ctx, third))

	got, err := s.JournalEntries(ctx, f.session.ID)
	must(t, "JournalEntries", err)
	if len(got) != 3 || got[0].ID != first.ID || got[1].ID != second.ID || got[2].ID != third.ID {
		t.Fatalf("JournalEntries = %v, want the chain in order", got)
	}
	eq(t, "first.Corrects", got[0].Corrects, "")
	eq(t, "second.Corrects", got[1].Corrects, first.ID)
	eq(t, "third.Corrects", got[2].Corrects, second.ID)
	eq(t, "AccountID", got[0].AccountID, f.account.ID)
	eqTime(t, "CreatedAt", got[0].CreatedAt, first.CreatedAt)
	if !bytes.Equal(got[0].Body, first.Body) || !bytes.Equal(got[0].SHA256, first.SHA256) || !bytes.Equal(got[0].Timestamp, first.Timestamp) {
		t.Errorf("first entry = %+v, want %+v", got[0], first)
	}
	if got[1].Timestamp != nil {
		t.Errorf("an entry without timestamp came back with %x", got[1].Timestamp)
	}
}

// JournalImmutable checks that the database itself refuses to change or
// delete a journal entry. open returns a new, empty store; exec runs a
// statement on its database directly.
func JournalImmutable(t *testing.T, open func(*testing.T) store.Store, exec func(t *testing.T, s store.Store, stmt string) error) {
	for _, stmt := range []string{
		`UPDATE journal_entries SET body = body || body`,
		`UPDATE journal_entries SET corrects = NULL`,
		`DELETE FROM journal_entries`,
	} {
		t.Run(stmt, func(t *testing.T) {
			s := open(t)
			f := seed(t, s, "Notary office")
			e := newJournalEntry(f, "", at(3*time.Hour))
			must(t, "AddJournalEntry", s.AddJournalEntry(t.Context(), e))
			if err := exec(t, s, stmt); err == nil {
				t.Fatalf("%s: no error", stmt)
			}
			got, err := s.JournalEntries(t.Context(), f.session.ID)
			must(t, "JournalEntries", err)
			if len(got) != 1 || !bytes.Equal(got[0].Body, e.Body) {
				t.Fatalf("after %s: %v", stmt, got)
			}
		})
	}
}
