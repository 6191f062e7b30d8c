package notary

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path"
	"slices"
	"strings"
	"time"
	"unicode"

	"github.com/kuayang/kuayang/internal/audit"
	"github.com/kuayang/kuayang/internal/blob"
	"github.com/kuayang/kuayang/internal/cases"
	"github.com/kuayang/kuayang/internal/evidence"
	"github.com/kuayang/kuayang/internal/store"
)

// MaxDocument is the default limit of an uploaded document (20 MiB).
const MaxDocument = 20 << 20

// Errors of the documents.
var (
	// ErrTooLarge: the document is larger than the limit.
	ErrTooLarge = errors.New("notary: the document is too large")
	// ErrUnsupported: the content is not a PDF nor an image (PNG, JPEG,
	// WebP), whatever it claims to be.
	ErrUnsupported = errors.New("notary: the document is not a PDF nor an image")
	// ErrNotNotarization: the session is not of a notarization case.
	ErrNotNotarization = errors.New("notary: the session is not of a notarization case")
	// ErrNoDocument: nothing is shown to compare the document presented
	// for signing with.
	ErrNoDocument = errors.New("notary: no document has been shown")
	// ErrPresented: the document was already presented otherwise.
	ErrPresented = errors.New("notary: the document was already presented")
)

// Desk keeps the documents and the journal of notarization sessions.
type Desk struct {
	Store store.Store
	Blob  blob.Store
	// Stamper timestamps journal entries (RFC 3161); nil: none.
	Stamper Stamper
	// MaxDocument bounds an upload (MaxDocument when zero).
	MaxDocument int64
	Now         func() time.Time
}

func (d *Desk) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

func (d *Desk) max() int64 {
	if d.MaxDocument > 0 {
		return d.MaxDocument
	}
	return MaxDocument
}

// Notarization reports whether sess is a session of a notarization case.
func (d *Desk) Notarization(ctx context.Context, sess *cases.Session) (bool, error) {
	c, err := d.Store.Case(ctx, sess.CaseID)
	if err != nil {
		return false, fmt.Errorf("notary: case of session %s: %w", sess.ID, err)
	}
	return c.Kind == cases.KindNotarization, nil
}

// Marks are the steps marked in a session so far, read from its audit
// entries (they survive the room's end and a move to another node).
func (d *Desk) Marks(ctx context.Context, sessionID string) ([]Mark, error) {
	var out []Mark
	var after int64
	for {
		es, err := d.Store.AuditEntries(ctx, audit.Filter{SessionID: sessionID, Actions: []string{StepAction}, AfterSeq: after})
		if err != nil {
			return nil, fmt.Errorf("notary: steps of session %s: %w", sessionID, err)
		}
		out = append(out, MarksOf(es)...)
		if len(es) < 1000 {
			return out, nil
		}
		after = es[len(es)-1].Seq
	}
}

// Sniff names the content type of a document from its first bytes: a
// PDF or an image the browsers show (PNG, JPEG, WebP); "" for anything
// else.
func Sniff(head []byte) string {
	if bytes.HasPrefix(head, []byte("%PDF-")) {
		return "application/pdf"
	}
	switch ct := http.DetectContentType(head); ct {
	case "image/png", "image/jpeg", "image/webp":
		return ct
	}
	return ""
}

// CleanName makes an uploaded file name safe to show and store: its base
// name, printable characters only, at most 120 of them.
func CleanName(name string) string {
	name = path.Base(strings.ReplaceAll(name, `\`, "/"))
	name = strings.Map(func(r rune) rune {
		if !unicode.IsPrint(r) || r == '/' {
			return -1
		}
		return r
	}, name)
	if r := []rune(strings.TrimSpace(name)); len(r) > 120 {
		name = string(r[:120])
	}
	if name = strings.TrimSpace(name); strings.Trim(name, ".") == "" {
		name = "document"
	}
	return name
}

// DocumentKey is where a document is stored: under its case and session.
func DocumentKey(doc *cases.Document) string {
	return "cases/" + doc.CaseID + "/sessions/" + doc.SessionID + "/documents/" + doc.ID
}

// Upload stores a document the notary (participant by) uploads in the
// call of sess: at most the limit, a PDF or an image by its content,
// write-once in the blob store with the organization's retention, and
// recorded.
func (d *Desk) Upload(ctx context.Context, sess *cases.Session, by, name string, r io.Reader) (*cases.Document, error) {
	body, err := io.ReadAll(io.LimitReader(r, d.max()+1))
	if err != nil {
		return nil, fmt.Errorf("notary: reading the upload: %w", err)
	}
	if int64(len(body)) > d.max() {
		return nil, ErrTooLarge
	}
	ct := Sniff(body[:min(len(body), 512)])
	if ct == "" {
		return nil, ErrUnsupported
	}
	doc := &cases.Document{ID: store.NewID(), OrgID: sess.OrgID, CaseID: sess.CaseID, SessionID: sess.ID,
		Name: CleanName(name), ContentType: ct, UploadedBy: by, UploadedAt: d.now().UTC().Truncate(time.Microsecond)}
	if err := d.put(ctx, sess, doc, body); err != nil {
		return nil, err
	}
	return doc, nil
}

// put stores body as doc's object and records doc.
func (d *Desk) put(ctx context.Context, sess *cases.Session, doc *cases.Document, body []byte) error {
	sum := sha256.Sum256(body)
	doc.SHA256, doc.Bytes, doc.Key = sum[:], int64(len(body)), DocumentKey(doc)
	until, mode, err := d.retention(ctx, sess)
	if err != nil {
		return err
	}
	if _, err := d.Blob.Put(ctx, doc.Key, bytes.NewReader(body), doc.Bytes, doc.SHA256,
		blob.PutOptions{ContentType: doc.ContentType, RetainUntil: until, Mode: mode}); err != nil {
		return fmt.Errorf("notary: storing document %s: %w", doc.ID, err)
	}
	if err := d.Store.AddDocument(ctx, doc); err != nil {
		return fmt.Errorf("notary: recording document %s: %w", doc.ID, err)
	}
	return nil
}

// retention is how long a session's documents are kept write-once: as
// long as its recording, from the organization's policy.
func (d *Desk) retention(ctx context.Context, sess *cases.Session) (time.Time, blob.Mode, error) {
	org, err := d.Store.Org(ctx, sess.OrgID)
	if err != nil {
		return time.Time{}, "", fmt.Errorf("notary: organization of session %s: %w", sess.ID, err)
	}
	until, mode := org.Retention(sess)
	if !until.After(d.now()) {
		return time.Time{}, "", nil
	}
	return until, blob.Mode(mode), nil
}

// Document returns a document of the session; store.ErrNotFound for a
// document of another session.
func (d *Desk) Document(ctx context.Context, sessionID, id string) (*cases.Document, error) {
	doc, err := d.Store.Document(ctx, id)
	if err == nil && doc.SessionID != sessionID {
		err = fmt.Errorf("%w: document %s of session %s", store.ErrNotFound, id, sessionID)
	}
	return doc, err
}

// Open opens a document of the session for reading.
func (d *Desk) Open(ctx context.Context, sessionID, id string) (io.ReadCloser, *cases.Document, error) {
	doc, err := d.Document(ctx, sessionID, id)
	if err != nil {
		return nil, nil, err
	}
	rc, _, err := d.Blob.Get(ctx, doc.Key)
	if err != nil {
		return nil, nil, fmt.Errorf("notary: opening document %s: %w", id, err)
	}
	return rc, doc, nil
}

// Presented lists the documents presented in a session (shown, or
// presented for signing), in the order they were.
func (d *Desk) Presented(ctx context.Context, sessionID string) ([]*cases.Document, error) {
	all, err := d.Store.DocumentsOfSession(ctx, sessionID)
	if err != nil {
		return nil, fmt.Errorf("notary: documents of session %s: %w", sessionID, err)
	}
	out := slices.DeleteFunc(all, func(doc *cases.Document) bool { return doc.PresentedAt == nil })
	slices.SortStableFunc(out, func(a, b *cases.Document) int { return a.PresentedAt.Compare(*b.PresentedAt) })
	return out, nil
}

// Show presents a document of sess to everyone as the document under
// notarization. Showing it again is no change.
func (d *Desk) Show(ctx context.Context, sess *cases.Session, id, by string) (*cases.Document, error) {
	doc, err := d.Document(ctx, sess.ID, id)
	if err != nil {
		return nil, err
	}
	switch doc.Presented {
	case cases.DocumentShown:
		return doc, nil
	case cases.DocumentSigning:
		return nil, ErrPresented
	}
	return d.present(ctx, doc, cases.DocumentShown, by, "", false)
}

func (d *Desk) present(ctx context.Context, doc *cases.Document, how, by, against string, mismatch bool) (*cases.Document, error) {
	at := d.now().UTC().Truncate(time.Microsecond)
	if err := d.Store.PresentDocument(ctx, doc.ID, how, at, by, against, mismatch); err != nil {
		if errors.Is(err, store.ErrConflict) {
			return nil, ErrPresented
		}
		return nil, fmt.Errorf("notary: presenting document %s: %w", doc.ID, err)
	}
	doc.Presented, doc.PresentedAt, doc.PresentedBy, doc.Against, doc.Mismatch = how, &at, by, against, mismatch
	return doc, nil
}

// Sign presents a document of sess for signing: the document shown last
// (the notary confirms it: a copy is kept as the signed version) or a
// version uploaded since. Its SHA-256 is compared with the one shown:
// Mismatch says they differ.
func (d *Desk) Sign(ctx context.Context, sess *cases.Session, id, by string) (*cases.Document, error) {
	doc, err := d.Document(ctx, sess.ID, id)
	if err != nil {
		return nil, err
	}
	presented, err := d.Presented(ctx, sess.ID)
	if err != nil {
		return nil, err
	}
	var shown *cases.Document
	for _, p := range presented {
		if p.Presented == cases.DocumentShown {
			shown = p
		}
	}
	if shown == nil {
		return nil, ErrNoDocument
	}
	if doc.ID == shown.ID {
		if doc, err = d.copyOf(ctx, sess, shown, by); err != nil {
			return nil, err
		}
	} else if doc.Presented != "" {
		return nil, ErrPresented
	}
	return d.present(ctx, doc, cases.DocumentSigning, by, shown.ID, !bytes.Equal(doc.SHA256, shown.SHA256))
}

// copyOf stores a copy of doc as a new document: the version the notary
// confirmed for signing, an object of its own.
func (d *Desk) copyOf(ctx context.Context, sess *cases.Session, doc *cases.Document, by string) (*cases.Document, error) {
	rc, _, err := d.Blob.Get(ctx, doc.Key)
	if err != nil {
		return nil, fmt.Errorf("notary: reading document %s: %w", doc.ID, err)
	}
	defer rc.Close()
	body, err := io.ReadAll(io.LimitReader(rc, doc.Bytes+1))
	if err != nil {
		return nil, fmt.Errorf("notary: reading document %s: %w", doc.ID, err)
	}
	cp := &cases.Document{ID: store.NewID(), OrgID: doc.OrgID, CaseID: doc.CaseID, SessionID: doc.SessionID,
		Name: doc.Name, ContentType: doc.ContentType, UploadedBy: by, UploadedAt: d.now().UTC().Truncate(time.Microsecond)}
	if err := d.put(ctx, sess, cp, body); err != nil {
		return nil, err
	}
	return cp, nil
}

// ManifestDocuments lists the documents presented in a session for its
// sealed manifest: the documents shown (evidence.DocumentNotarized) and
// those presented for signing (evidence.DocumentSigned, whose Detail
// says whether it matches the document shown).
func (d *Desk) ManifestDocuments(ctx context.Context, sessionID string) ([]evidence.Document, error) {
	presented, err := d.Presented(ctx, sessionID)
	if err != nil {
		return nil, err
	}
	byID := map[string]*cases.Document{}
	for _, p := range presented {
		byID[p.ID] = p
	}
	var out []evidence.Document
	for _, p := range presented {
		ed := evidence.Document{ID: p.ID, Kind: evidence.DocumentNotarized, Key: p.Key, ContentType: p.ContentType,
			Bytes: p.Bytes, SHA256: hex.EncodeToString(p.SHA256), At: evidence.At(*p.PresentedAt), By: p.PresentedBy}
		if p.Presented == cases.DocumentSigning {
			ed.Kind = evidence.DocumentSigned
			ed.Detail = signingDetail(p, byID[p.Against])
		}
		ed.Name = manifestName(ed.Kind, p)
		out = append(out, ed)
	}
	return out, nil
}

// signingDetail says in a line whether the document presented for
// signing is the one shown.
func signingDetail(p, shown *cases.Document) string {
	switch {
	case shown == nil:
		return "mismatch: the document shown (" + p.Against + ") is not on record"
	case p.Mismatch:
		return fmt.Sprintf("mismatch: SHA-256 differs from the document shown (%s, sha256 %x)", shown.ID, shown.SHA256)
	}
	return fmt.Sprintf("match: same SHA-256 as the document shown (%s)", shown.ID)
}

// manifestName is a document's file name in a bundle: its kind, the
// start of its id, and the extension of its type.
func manifestName(kind string, doc *cases.Document) string {
	ext := map[string]string{"application/pdf": ".pdf", "image/png": ".png", "image/jpeg": ".jpg", "image/webp": ".webp"}[doc.ContentType]
	return kind + "-" + doc.ID[:min(len(doc.ID), 16)] + ext
}

// GroupHex writes a SHA-256 in groups of four hex digits, for reading
// aloud.
func GroupHex(sum []byte) string {
	h := hex.EncodeToString(sum)
	var b strings.Builder
	for i := 0; i < len(h); i += 4 {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(h[i:min(i+4, len(h))])
	}
	return b.String()
}
