package notary

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kuayang/kuayang/internal/cases"
	"github.com/kuayang/kuayang/internal/store"
)

// Stamper obtains a trusted timestamp (an RFC 3161 token) over a digest.
type Stamper interface {
	Stamp(ctx context.Context, digest []byte) ([]byte, error)
}

// JournalFormat names the form of a journal entry's body.
const JournalFormat = "kuayang-journal/1"

// Errors of the journal.
var (
	// ErrJournal: the entry is incomplete or malformed; the wrapped text
	// says what.
	ErrJournal = errors.New("notary: bad journal entry")
	// ErrCorrected: the entry to correct was already corrected; correct
	// the last of the chain.
	ErrCorrected = errors.New("notary: the entry was already corrected")
	// ErrNoTimestamp: a timestamp authority is configured and did not
	// answer.
	ErrNoTimestamp = errors.New("notary: the timestamp authority did not answer")
)

// JournalInput is what the notary writes.
type JournalInput struct {
	Act            string `json:"act"`             // e.g. power of attorney
	IdentityMethod string `json:"identity_method"` // how identity was proven
	Location       string `json:"location"`        // where the party was
	Fee            string `json:"fee"`             // "" for none
	Remarks        string `json:"remarks"`
	// Corrects is the id of the entry this one corrects, with the
	// Reason; "" for a first entry.
	Corrects string `json:"corrects"`
	Reason   string `json:"reason"`
}

// JournalBody is a journal entry in its canonical form: this struct
// encoded by encoding/json (fields in this order, no HTML escaping, no
// indentation). Its SHA-256 is what is timestamped.
type JournalBody struct {
	Format         string            `json:"format"`
	ID             string            `json:"id"`
	Organization   string            `json:"organization"`
	Case           string            `json:"case"`
	CaseNumber     string            `json:"case_number"`
	Session        string            `json:"session"`
	WrittenAt      string            `json:"written_at"` // RFC 3339, UTC
	Notary         JournalPerson     `json:"notary"`
	Act            string            `json:"act"`
	Parties        []JournalPerson   `json:"parties"`
	Documents      []JournalDocument `json:"documents"`
	IdentityMethod string            `json:"identity_method"`
	Location       string            `json:"location"`
	Fee            string            `json:"fee"`
	Remarks        string            `json:"remarks"`
	Corrects       string            `json:"corrects"`
	Reason         string            `json:"reason"`
}

// JournalPerson is a person named in an entry.
type JournalPerson struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Role string `json:"role"`
}

// JournalDocument is a document presented in the session.
type JournalDocument struct {
	ID        string `json:"id"`
	Presented string `json:"presented"` // shown or signing
	Name      string `json:"name"`
	SHA256    string `json:"sha256"`
	Mismatch  bool   `json:"mismatch"`
}

// Limits of the journal's texts, in characters.
const (
	maxJournalLine = 200
	maxJournalText = 4000
)

func (in *JournalInput) check() error {
	for _, f := range []struct {
		name, v  string
		max      int
		optional bool
	}{
		{"act", in.Act, maxJournalLine, false},
		{"identity_method", in.IdentityMethod, maxJournalLine, false},
		{"location", in.Location, maxJournalLine, false},
		{"fee", in.Fee, maxJournalLine, true},
		{"remarks", in.Remarks, maxJournalText, true},
		{"corrects", in.Corrects, 64, true},
		{"reason", in.Reason, maxJournalText, in.Corrects == ""},
	} {
		switch {
		case !utf8.ValidString(f.v):
			return fmt.Errorf("%w: %s is not valid UTF-8", ErrJournal, f.name)
		case !f.optional && strings.TrimSpace(f.v) == "":
			return fmt.Errorf("%w: %s is required", ErrJournal, f.name)
		case utf8.RuneCountInString(f.v) > f.max:
			return fmt.Errorf("%w: %s is longer than %d characters", ErrJournal, f.name, f.max)
		}
	}
	if in.Corrects == "" && in.Reason != "" {
		return fmt.Errorf("%w: a reason goes with a correction (corrects)", ErrJournal)
	}
	return nil
}

// WriteJournal writes an entry on a notarization session by author: the
// parties and the documents presented come from the records; the entry
// is encoded canonically, hashed, timestamped (with a Stamper) and
// stored, never to change.
func (d *Desk) WriteJournal(ctx context.Context, sess *cases.Session, author *cases.Account, in JournalInput) (*cases.JournalEntry, error) {
	if err := in.check(); err != nil {
		return nil, err
	}
	c, err := d.Store.Case(ctx, sess.CaseID)
	if err != nil {
		return nil, fmt.Errorf("notary: case of session %s: %w", sess.ID, err)
	}
	if c.Kind != cases.KindNotarization {
		return nil, ErrNotNotarization
	}
	parts, err := d.Store.ParticipantsOfSession(ctx, sess.ID)
	if err != nil {
		return nil, fmt.Errorf("notary: participants of session %s: %w", sess.ID, err)
	}
	docs, err := d.Presented(ctx, sess.ID)
	if err != nil {
		return nil, err
	}
	now := d.now().UTC().Truncate(time.Microsecond)
	body := JournalBody{Format: JournalFormat, ID: store.NewID(), Organization: sess.OrgID, Case: c.ID, CaseNumber: c.Number,
		Session: sess.ID, WrittenAt: now.Format(time.RFC3339Nano),
		Notary: JournalPerson{ID: author.ID, Name: author.Name, Role: string(author.Role)},
		Act:    in.Act, Parties: []JournalPerson{}, Documents: []JournalDocument{},
		IdentityMethod: in.IdentityMethod, Location: in.Location, Fee: in.Fee, Remarks: in.Remarks,
		Corrects: in.Corrects, Reason: in.Reason}
	for _, p := range parts {
		if p.Role == cases.RoleParty || p.Role == cases.RoleInterpreter {
			body.Parties = append(body.Parties, JournalPerson{ID: p.ID, Name: p.DisplayName, Role: string(p.Role)})
		}
	}
	for _, doc := range docs {
		body.Documents = append(body.Documents, JournalDocument{ID: doc.ID, Presented: doc.Presented, Name: doc.Name,
			SHA256: hex.EncodeToString(doc.SHA256), Mismatch: doc.Mismatch})
	}
	canon, err := Canonical(body)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(canon)
	e := &cases.JournalEntry{ID: body.ID, OrgID: sess.OrgID, CaseID: c.ID, SessionID: sess.ID, AccountID: author.ID,
		CreatedAt: now, Corrects: in.Corrects, Body: canon, SHA256: sum[:]}
	if d.Stamper != nil {
		if e.Timestamp, err = d.Stamper.Stamp(ctx, sum[:]); err != nil {
			return nil, fmt.Errorf("%w: %w", ErrNoTimestamp, err)
		}
	}
	switch err := d.Store.AddJournalEntry(ctx, e); {
	case errors.Is(err, store.ErrConflict):
		return nil, ErrCorrected
	case errors.Is(err, store.ErrNotFound):
		return nil, fmt.Errorf("%w: corrects names no entry of this session", ErrJournal)
	case err != nil:
		return nil, fmt.Errorf("notary: storing journal entry: %w", err)
	}
	return e, nil
}

// Canonical encodes a journal body in its canonical form.
func Canonical(b JournalBody) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(b); err != nil {
		return nil, fmt.Errorf("notary: encoding journal entry: %w", err)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// Journal lists a session's journal entries, oldest first.
func (d *Desk) Journal(ctx context.Context, sessionID string) ([]*cases.JournalEntry, error) {
	es, err := d.Store.JournalEntries(ctx, sessionID)
	if err != nil {
		return nil, fmt.Errorf("notary: journal of session %s: %w", sessionID, err)
	}
	return es, nil
}
