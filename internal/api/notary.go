package api

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"time"

	"github.com/kuayang/kuayang/internal/auth"
	"github.com/kuayang/kuayang/internal/cases"
	"github.com/kuayang/kuayang/internal/evidence"
	"github.com/kuayang/kuayang/internal/notary"
	"github.com/kuayang/kuayang/internal/store"
)

// notaryRoutes registers the routes of the notary's desk: the documents
// the notary uploads in the call and the participants open, and the
// journal the notary writes after the session.
func (s *Server) notaryRoutes(mux *http.ServeMux) {
	if s.Notary == nil {
		return
	}
	mux.Handle("POST /api/v1/call/{id}/documents", s.participantOf(s.uploadDocument))
	mux.Handle("GET /api/v1/call/{id}/documents/{doc}", s.participantOf(s.viewDocument))
	mux.Handle("POST /api/v1/sessions/{id}/journal", s.staff(auth.JournalWrite, s.writeJournal))
	mux.Handle("GET /api/v1/sessions/{id}/journal", s.staff(auth.CaseRead, s.readJournal))
}

var (
	errNotPresider     = apiError(http.StatusForbidden, "not_presider", "only the presider of the session may do this")
	errNotNotarization = apiError(http.StatusConflict, "not_notarization", "this session is not of a notarization case")
)

// documentView is a document as the call page sees it.
type documentView struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Size      int64      `json:"size"`
	Type      string     `json:"content_type"`
	SHA256    string     `json:"sha256"`
	Uploaded  time.Time  `json:"uploaded_at"`
	Presented string     `json:"presented,omitempty"`
	At        *time.Time `json:"presented_at,omitempty"`
	Mismatch  bool       `json:"mismatch,omitempty"`
}

func viewOfDocument(d *cases.Document) documentView {
	return documentView{ID: d.ID, Name: d.Name, Size: d.Bytes, Type: d.ContentType, SHA256: hex.EncodeToString(d.SHA256),
		Uploaded: d.UploadedAt, Presented: d.Presented, At: d.PresentedAt, Mismatch: d.Mismatch}
}

// uploadDocument answers POST /api/v1/call/{id}/documents?name=…: the
// notary presiding over a notarization session uploads a document (the
// body, a PDF or an image, judged by its content) in the call. It is
// stored write-once; showing it is a message of the call (document_show).
func (s *Server) uploadDocument(w http.ResponseWriter, r *http.Request, p *party) error {
	if !p.presides() {
		return errNotPresider
	}
	if p.session.EndedAt != nil {
		return apiError(http.StatusConflict, "session_ended", "this session has ended")
	}
	if on, err := s.Notary.Notarization(r.Context(), p.session); err != nil {
		return err
	} else if !on {
		return errNotNotarization
	}
	max := s.Notary.MaxDocument
	if max <= 0 {
		max = notary.MaxDocument
	}
	tooLarge := apiError(http.StatusRequestEntityTooLarge, "document_too_large", "a document may be at most %d MiB", max>>20)
	if r.ContentLength > max {
		return tooLarge
	}
	d, err := s.Notary.Upload(r.Context(), p.session, p.participant.ID, r.URL.Query().Get("name"), http.MaxBytesReader(w, r.Body, max+1))
	var mbe *http.MaxBytesError
	switch {
	case errors.Is(err, notary.ErrTooLarge), errors.As(err, &mbe):
		return tooLarge
	case errors.Is(err, notary.ErrUnsupported):
		return apiError(http.StatusUnsupportedMediaType, "unsupported_document", "the document must be a PDF or an image (PNG, JPEG, WebP); its content is neither")
	case err != nil:
		return err
	}
	e := p.entry("document.uploaded")
	e.Detail = detail(map[string]any{"id": d.ID, "name": d.Name, "content_type": d.ContentType, "bytes": d.Bytes, "sha256": hex.EncodeToString(d.SHA256)})
	s.record(r.Context(), e)
	writeJSON(w, http.StatusCreated, viewOfDocument(d))
	return nil
}

// viewDocument answers GET /api/v1/call/{id}/documents/{doc}: a
// participant of the session opens a document presented in the call (the
// presider any document of the session). Every opening is audited.
func (s *Server) viewDocument(w http.ResponseWriter, r *http.Request, p *party) error {
	rc, d, err := s.Notary.Open(r.Context(), p.session.ID, r.PathValue("doc"))
	if errors.Is(err, store.ErrNotFound) {
		return errNotFound
	} else if err != nil {
		return err
	}
	defer rc.Close()
	if d.Presented == "" && !p.presides() {
		return errNotFound // not shown to anyone yet
	}
	e := p.entry("document.viewed")
	e.Detail = detail(map[string]any{"id": d.ID, "sha256": hex.EncodeToString(d.SHA256)})
	s.record(r.Context(), e)
	w.Header().Set("Content-Type", d.ContentType)
	w.Header().Set("Content-Disposition", mime.FormatMediaType("inline", map[string]string{"filename": d.Name}))
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Content-Security-Policy", "sandbox")
	w.Header().Set("Cache-Control", "private, no-store")
	w.Header().Set("X-Document-SHA256", hex.EncodeToString(d.SHA256))
	if rs, ok := rc.(io.ReadSeeker); ok {
		http.ServeContent(w, r, "", d.UploadedAt, rs)
		return nil
	}
	w.Header().Set("Content-Length", strconv.FormatInt(d.Bytes, 10))
	_, _ = io.Copy(w, rc)
	return nil
}

// journalEntryView is a journal entry as the API shows it: the canonical
// body as it was hashed, its SHA-256, the timestamp token, and the chain
// of corrections.
type journalEntryView struct {
	ID          string          `json:"id"`
	AccountID   string          `json:"account_id"`
	CreatedAt   time.Time       `json:"created_at"`
	Corrects    string          `json:"corrects,omitempty"`
	CorrectedBy string          `json:"corrected_by,omitempty"`
	Current     bool            `json:"current"` // not corrected by a later entry
	SHA256      string          `json:"sha256"`
	Timestamp   []byte          `json:"timestamp,omitempty"` // RFC 3161 token (base64)
	Entry       json.RawMessage `json:"entry"`               // the canonical body
	Canonical   string          `json:"canonical"`           // the same, as the exact text hashed
}

// journalView is the answer of GET /api/v1/sessions/{id}/journal: the
// entries, and what a new entry would name.
type journalView struct {
	SessionID string                   `json:"session_id"`
	Entries   []journalEntryView       `json:"entries"`
	Parties   []notary.JournalPerson   `json:"parties"`
	Documents []notary.JournalDocument `json:"documents"`
}

// sessionPresider reports whether p presides over the session: its
// account is bound to the session's presiding participant or, when no
// presiding participant of the session is bound to an account (invited
// by link), p is a notary and opened the case.
func (s *Server) sessionPresider(r *http.Request, p *principal, ss *cases.Session) (bool, error) {
	parts, err := s.Store.ParticipantsOfSession(r.Context(), ss.ID)
	if err != nil {
		return false, err
	}
	bound := false
	for _, pt := range parts {
		if pt.Role.Presides() && pt.AccountID != "" {
			if pt.AccountID == p.account.ID {
				return true, nil
			}
			bound = true
		}
	}
	if bound || p.account.Role != cases.RoleNotary {
		return false, nil
	}
	c, err := s.Store.Case(r.Context(), ss.CaseID)
	if err != nil {
		return false, err
	}
	return c.CreatedBy == p.account.ID, nil
}

// writeJournal answers POST /api/v1/sessions/{id}/journal: the notary
// presiding over the session (or an admin) writes a journal entry. It is
// never changed: a correction is a new entry with corrects and reason.
func (s *Server) writeJournal(w http.ResponseWriter, r *http.Request, p *principal) error {
	ss, err := s.sessionOf(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	if p.account.Role != cases.RoleAdmin {
		if ok, err := s.sessionPresider(r, p, ss); err != nil {
			return err
		} else if !ok {
			return errNotPresider
		}
	}
	var in notary.JournalInput
	if aerr := decode(w, r, &in); aerr != nil {
		return aerr
	}
	e, err := s.Notary.WriteJournal(r.Context(), ss, p.account, in)
	switch {
	case errors.Is(err, notary.ErrJournal):
		return apiError(http.StatusBadRequest, "bad_request", "%s", trimPrefix(err))
	case errors.Is(err, notary.ErrNotNotarization):
		return errNotNotarization
	case errors.Is(err, notary.ErrCorrected):
		return apiError(http.StatusConflict, "already_corrected", "this entry was already corrected; correct the latest entry of its chain")
	case errors.Is(err, notary.ErrNoTimestamp):
		s.Log.Warn("journal entry not timestamped", "session", ss.ID, "err", err)
		return apiError(http.StatusServiceUnavailable, "timestamp_unavailable", "the timestamp authority did not answer; the entry was not saved: try again")
	case err != nil:
		return err
	}
	ae := p.entry("journal.entry")
	ae.CaseID, ae.SessionID = ss.CaseID, ss.ID
	ae.Detail = detail(map[string]any{"id": e.ID, "sha256": hex.EncodeToString(e.SHA256), "corrects": e.Corrects, "timestamped": e.Timestamp != nil})
	s.record(r.Context(), ae)
	writeJSON(w, http.StatusCreated, viewOfJournal(e, ""))
	return nil
}

// trimPrefix is an error's text without its package prefix.
func trimPrefix(err error) string {
	msg := err.Error()
	if p := notary.ErrJournal.Error() + ": "; len(msg) > len(p) && msg[:len(p)] == p {
		return msg[len(p):]
	}
	return msg
}

func viewOfJournal(e *cases.JournalEntry, correctedBy string) journalEntryView {
	return journalEntryView{ID: e.ID, AccountID: e.AccountID, CreatedAt: e.CreatedAt, Corrects: e.Corrects, CorrectedBy: correctedBy,
		Current: correctedBy == "", SHA256: hex.EncodeToString(e.SHA256), Timestamp: e.Timestamp, Entry: e.Body, Canonical: string(e.Body)}
}

// readJournal answers GET /api/v1/sessions/{id}/journal. Reading it is
// audited: it names the parties.
func (s *Server) readJournal(w http.ResponseWriter, r *http.Request, p *principal) error {
	ss, err := s.sessionOf(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	es, err := s.Notary.Journal(r.Context(), ss.ID)
	if err != nil {
		return err
	}
	parts, err := s.Store.ParticipantsOfSession(r.Context(), ss.ID)
	if err != nil {
		return err
	}
	docs, err := s.Notary.Presented(r.Context(), ss.ID)
	if err != nil {
		return err
	}
	v := journalView{SessionID: ss.ID, Entries: []journalEntryView{}, Parties: []notary.JournalPerson{}, Documents: []notary.JournalDocument{}}
	correctedBy := map[string]string{}
	for _, e := range es {
		if e.Corrects != "" {
			correctedBy[e.Corrects] = e.ID
		}
	}
	for _, e := range es {
		v.Entries = append(v.Entries, viewOfJournal(e, correctedBy[e.ID]))
	}
	for _, pt := range parts {
		if pt.Role == cases.RoleParty || pt.Role == cases.RoleInterpreter {
			v.Parties = append(v.Parties, notary.JournalPerson{ID: pt.ID, Name: pt.DisplayName, Role: string(pt.Role)})
		}
	}
	for _, d := range docs {
		v.Documents = append(v.Documents, notary.JournalDocument{ID: d.ID, Presented: d.Presented, Name: d.Name,
			SHA256: hex.EncodeToString(d.SHA256), Mismatch: d.Mismatch})
	}
	ae := p.entry("journal.view")
	ae.CaseID, ae.SessionID = ss.CaseID, ss.ID
	s.record(r.Context(), ae)
	writeJSON(w, http.StatusOK, v)
	return nil
}

// notaryEventLabel labels the notary's events on the timeline: the step
// and its note, the document and its SHA-256.
func notaryEventLabel(ev evidence.Event) (string, bool) {
	var d struct {
		Step     string `json:"step"`
		Note     string `json:"note"`
		Name     string `json:"name"`
		SHA256   string `json:"sha256"`
		Mismatch bool   `json:"mismatch"`
	}
	switch ev.Kind {
	case notary.StepAction:
		if json.Unmarshal([]byte(ev.Detail), &d) != nil {
			return "", false
		}
		if d.Note != "" {
			return d.Step + ": " + d.Note, true
		}
		return d.Step, true
	case "document.shown", "document.signing", "document.mismatch":
		if json.Unmarshal([]byte(ev.Detail), &d) != nil {
			return "", false
		}
		return fmt.Sprintf("%s (SHA-256 %s)", d.Name, d.SHA256), true
	}
	return "", false
}
