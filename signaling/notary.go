package signaling

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/kuayang/kuayang/internal/audit"
	"github.com/kuayang/kuayang/internal/cases"
	"github.com/kuayang/kuayang/internal/notary"
	"github.com/kuayang/kuayang/internal/store"
)

// The notary's script: in a session of a notarization case the notary
// (the presider) marks, in order, the steps the law expects
// (notary.Steps). The server timestamps each mark, writes it to the audit
// log (notary.step, which the sealed manifest carries as an event) and
// tells everyone the script; joined, admitted and resumed carry it. The
// notary shows the document under notarization (document_show) and
// presents the version for signing (document_sign): everyone gets a
// document message with its SHA-256, and a version for signing that
// differs from the one shown is flagged.

// Notary is the notary's desk (package notary's Desk): the case kind, the
// steps marked so far, and the documents.
type Notary interface {
	// Notarization reports whether sess is of a notarization case.
	Notarization(ctx context.Context, sess *cases.Session) (bool, error)
	// Marks are the steps marked in the session so far, in order.
	Marks(ctx context.Context, sessionID string) ([]notary.Mark, error)
	// Presented lists the documents presented in the session, in order.
	Presented(ctx context.Context, sessionID string) ([]*cases.Document, error)
	// Show presents a document of sess as the document under
	// notarization.
	Show(ctx context.Context, sess *cases.Session, id, by string) (*cases.Document, error)
	// Sign presents a document of sess for signing, compared with the
	// one shown.
	Sign(ctx context.Context, sess *cases.Session, id, by string) (*cases.Document, error)
}

// Error codes of the notary's script and documents.
const (
	// CodeNotNotarization: the session is not of a notarization case.
	CodeNotNotarization = "not_notarization"
	// CodeUnknownStep: script_step names no step of the script.
	CodeUnknownStep = "unknown_step"
	// CodeStepOutOfOrder: a step before this one is not done.
	CodeStepOutOfOrder = "step_out_of_order"
	// CodeNoteRequired: a step marked again needs a note saying why.
	CodeNoteRequired = "note_required"
	// CodeNoDocument: document_shown needs a document shown, signing a
	// document presented for signing, and a document presented for
	// signing a document shown to compare it with.
	CodeNoDocument = "no_document"
	// CodeNoSuchDocument: no document of the session has this id.
	CodeNoSuchDocument = "no_such_document"
	// CodeDocumentPresented: the document was already presented
	// otherwise (shown, or for signing).
	CodeDocumentPresented = "document_presented"
)

// ScriptStep marks a step of the notary's script (presider).
type ScriptStep struct {
	Step string `json:"step"`
	Note string `json:"note"`
}

// DocumentShow shows an uploaded document to everyone as the document
// under notarization (presider).
type DocumentShow struct {
	ID string `json:"id"`
}

// DocumentSign presents a document for signing: the one shown, or a
// version uploaded since (presider).
type DocumentSign struct {
	ID string `json:"id"`
}

// Type implements Message.
func (ScriptStep) Type() string { return "script_step" }

// Type implements Message.
func (DocumentShow) Type() string { return "document_show" }

// Type implements Message.
func (DocumentSign) Type() string { return "document_sign" }

func decodeScriptStep(data []byte) (Message, error) {
	var m ScriptStep
	if err := unmarshal(data, &m); err != nil {
		return nil, err
	}
	if m.Step == "" {
		return nil, fmt.Errorf("step is required")
	}
	if len(m.Step) > 64 {
		return nil, fmt.Errorf("step is longer than 64 bytes")
	}
	return m, checkText("note", m.Note, maxNotice, true)
}

func decodeDocumentID[M interface {
	Message
	id() string
}](data []byte) (Message, error) {
	var m M
	if err := unmarshal(data, &m); err != nil {
		return nil, err
	}
	if m.id() == "" || len(m.id()) > 64 {
		return nil, fmt.Errorf("id is required (at most 64 bytes)")
	}
	return m, nil
}

func (m DocumentShow) id() string { return m.ID }
func (m DocumentSign) id() string { return m.ID }

// ScriptState is the script as everyone sees it.
type ScriptState struct {
	Steps []StepState `json:"steps"`
	// Current is the first step not done, "" when all are.
	Current string `json:"current"`
}

// StepState is one step: done once marked; Marks lists each marking
// (a step marked again, e.g. a repeated declaration, says why).
type StepState struct {
	Step  string     `json:"step"`
	Done  bool       `json:"done"`
	At    *time.Time `json:"at,omitempty"` // first marked
	By    string     `json:"by,omitempty"`
	Marks []StepMark `json:"marks"`
}

// StepMark is one marking of a step.
type StepMark struct {
	At   time.Time `json:"at"`
	By   string    `json:"by"`
	Note string    `json:"note,omitempty"`
}

type scriptMsg struct {
	Type string `json:"type"`
	ScriptState
}

// DocumentInfo is a document presented in the call.
type DocumentInfo struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Size int64  `json:"size"`
	// ContentType is the document's type (type names the message).
	ContentType string `json:"content_type"`
	SHA256      string `json:"sha256"` // hex
	// Purpose is "shown" (the document under notarization) or "signing".
	Purpose string    `json:"purpose"`
	At      time.Time `json:"at"`
	By      string    `json:"by"`
	// Against is, for a document presented for signing, the document
	// shown it was compared with; Mismatch says they differ.
	Against  string `json:"against,omitempty"`
	Mismatch bool   `json:"mismatch"`
}

type documentMsg struct {
	Type string `json:"type"`
	DocumentInfo
}

// notaryState is a notarization session's script and documents in its
// room.
type notaryState struct {
	on    bool // the session is of a notarization case
	marks []notary.Mark
	docs  []DocumentInfo
}

func scriptOf(marks []notary.Mark) *ScriptState {
	st := &ScriptState{Steps: make([]StepState, 0, len(notary.Steps)), Current: notary.Current(marks)}
	for _, step := range notary.Steps {
		s := StepState{Step: step, Marks: []StepMark{}}
		for _, m := range marks {
			if m.Step != step {
				continue
			}
			if !s.Done {
				at := m.At
				s.Done, s.At, s.By = true, &at, m.By
			}
			s.Marks = append(s.Marks, StepMark{At: m.At, By: m.By, Note: m.Note})
		}
		st.Steps = append(st.Steps, s)
	}
	return st
}

func documentInfo(d *cases.Document) DocumentInfo {
	info := DocumentInfo{ID: d.ID, Name: d.Name, Size: d.Bytes, ContentType: d.ContentType, SHA256: hex.EncodeToString(d.SHA256),
		Purpose: d.Presented, By: d.PresentedBy, Against: d.Against, Mismatch: d.Mismatch}
	if d.PresentedAt != nil {
		info.At = d.PresentedAt.UTC()
	}
	return info
}

// notaryLocked is the script and the documents for joined, admitted and
// resumed: nil outside notarization sessions. Server.mu is held.
func (r *room) notaryLocked() (*ScriptState, []DocumentInfo) {
	if r.notary == nil || !r.notary.on {
		return nil, nil
	}
	return scriptOf(r.notary.marks), append([]DocumentInfo{}, r.notary.docs...)
}

// loadNotary reads, once per room, whether c's session is a notarization
// and, if so, its script and documents so far (they outlive the room).
func (c *client) loadNotary() {
	s := c.s
	if s.cfg.Notary == nil {
		return
	}
	s.mu.Lock()
	r := s.rooms[c.sessionID]
	loaded := r == nil || r.notary != nil
	s.mu.Unlock()
	if loaded {
		return
	}
	ctx, cancel := c.ctx()
	defer cancel()
	st := &notaryState{}
	on, err := s.cfg.Notary.Notarization(ctx, c.session)
	if err == nil && on {
		st.on = true
		var docs []*cases.Document
		if st.marks, err = s.cfg.Notary.Marks(ctx, c.sessionID); err == nil {
			docs, err = s.cfg.Notary.Presented(ctx, c.sessionID)
		}
		for _, d := range docs {
			st.docs = append(st.docs, documentInfo(d))
		}
	}
	if err != nil {
		s.log.Error("loading the notary's script", "session", c.sessionID, "err", err)
		return // tried again by the next to enter
	}
	s.mu.Lock()
	if r := s.rooms[c.sessionID]; r != nil && r.notary == nil {
		r.notary = st
	}
	s.mu.Unlock()
}

// notaryReady checks that c presides over a notarization session whose
// script is loaded.
func (c *client) notaryReady(ref string) *Error {
	if perr := c.requireHost(ref); perr != nil {
		return perr
	}
	c.loadNotary()
	c.s.mu.Lock()
	r := c.s.rooms[c.sessionID]
	on := r != nil && r.notary != nil && r.notary.on
	loaded := r != nil && r.notary != nil
	c.s.mu.Unlock()
	switch {
	case c.s.cfg.Notary != nil && !loaded:
		return errorf(CodeInternal, ref, "the notary's script could not be read; try again")
	case !on:
		return errorf(CodeNotNotarization, ref, "this session is not of a notarization case")
	}
	return nil
}

func (c *client) onScriptStep(m ScriptStep) *Error {
	if perr := c.notaryReady("script_step"); perr != nil {
		return perr
	}
	s := c.s
	at := time.Now().UTC().Truncate(time.Microsecond) // as the audit log keeps it
	s.mu.Lock()
	r := s.rooms[c.sessionID]
	if r == nil || r.notary == nil {
		s.mu.Unlock()
		return nil
	}
	st := r.notary
	err := notary.Check(st.marks, m.Step, m.Note)
	if err == nil {
		err = stepNeeds(st, m.Step)
	}
	if err != nil {
		s.mu.Unlock()
		return stepError(err)
	}
	st.marks = append(st.marks, notary.Mark{Step: m.Step, At: at, By: c.pid, Note: m.Note})
	script := scriptOf(st.marks)
	s.mu.Unlock()
	c.auditAt(at, notary.StepAction, notary.Detail(m.Step, m.Note))
	s.broadcast(c.sessionID, nil, scriptMsg{Type: "script", ScriptState: *script})
	return nil
}

var errNeedsDocument = errors.New("this step needs a document presented first")

// stepNeeds checks what a step needs besides order: the document shown
// before document_shown, a document presented for signing before
// signing. Server.mu is held.
func stepNeeds(st *notaryState, step string) error {
	want := map[string]string{notary.StepDocument: cases.DocumentShown, notary.StepSigning: cases.DocumentSigning}[step]
	if want == "" {
		return nil
	}
	for _, d := range st.docs {
		if d.Purpose == want {
			return nil
		}
	}
	return errNeedsDocument
}

func stepError(err error) *Error {
	switch {
	case errors.Is(err, notary.ErrUnknownStep):
		return errorf(CodeUnknownStep, "script_step", "no such step; the steps are, in order: %v", notary.Steps)
	case errors.Is(err, notary.ErrOutOfOrder):
		return errorf(CodeStepOutOfOrder, "script_step", "a step before this one is not done yet")
	case errors.Is(err, notary.ErrNoteRequired):
		return errorf(CodeNoteRequired, "script_step", "this step is done: marking it again needs a note saying why")
	case errors.Is(err, errNeedsDocument):
		return errorf(CodeNoDocument, "script_step", "show the document first (for signing: present it for signing)")
	}
	return errorf(CodeInternal, "script_step", "internal error")
}

func (c *client) onDocumentShow(m DocumentShow) *Error {
	return c.presentDocument("document_show", m.ID, false)
}

func (c *client) onDocumentSign(m DocumentSign) *Error {
	return c.presentDocument("document_sign", m.ID, true)
}

// presentDocument shows a document, or presents it for signing, and tells
// everyone.
func (c *client) presentDocument(ref, id string, signing bool) *Error {
	if perr := c.notaryReady(ref); perr != nil {
		return perr
	}
	ctx, cancel := c.ctx()
	defer cancel()
	present := c.s.cfg.Notary.Show
	if signing {
		present = c.s.cfg.Notary.Sign
	}
	d, err := present(ctx, c.session, id, c.pid)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return errorf(CodeNoSuchDocument, ref, "no document of this session has this id; upload it first")
	case errors.Is(err, notary.ErrNoDocument):
		return errorf(CodeNoDocument, ref, "show the document under notarization before presenting one for signing")
	case errors.Is(err, notary.ErrPresented):
		return errorf(CodeDocumentPresented, ref, "this document was already presented otherwise; upload it again")
	case err != nil:
		c.s.log.Error("presenting a document", "session", c.sessionID, "document", id, "err", err)
		return errorf(CodeInternal, ref, "the document could not be presented; try again")
	}
	info := documentInfo(d)
	s := c.s
	s.mu.Lock()
	if r := s.rooms[c.sessionID]; r != nil && r.notary != nil {
		known := false
		for _, x := range r.notary.docs {
			known = known || x.ID == info.ID
		}
		if !known {
			r.notary.docs = append(r.notary.docs, info)
		}
	}
	s.mu.Unlock()
	detail, _ := json.Marshal(map[string]any{"id": info.ID, "name": info.Name, "sha256": info.SHA256, "bytes": info.Size,
		"against": info.Against, "mismatch": info.Mismatch})
	if info.Purpose == cases.DocumentShown {
		c.auditAt(info.At, "document.shown", string(detail))
	} else {
		c.auditAt(info.At, "document.signing", string(detail))
		if info.Mismatch {
			c.auditAt(info.At, "document.mismatch", string(detail))
			s.log.Warn("document presented for signing differs from the one shown", "session", c.sessionID, "document", info.ID, "shown", info.Against)
		}
	}
	s.broadcast(c.sessionID, nil, documentMsg{Type: "document", DocumentInfo: info})
	return nil
}

// auditAt appends an entry by c about its session, at a given time (the
// time the others are told).
func (c *client) auditAt(at time.Time, action, detail string) {
	ctx, cancel := c.ctx()
	defer cancel()
	sess := c.session
	e := &audit.Entry{Time: at, ActorKind: audit.ActorParticipant, ActorID: c.pid, Action: action,
		OrgID: sess.OrgID, CaseID: sess.CaseID, SessionID: sess.ID, IP: c.ip, Detail: detail}
	if err := c.s.records.AppendAudit(ctx, e); err != nil {
		c.s.log.Error("audit append failed", "action", action, "participant", c.pid, "err", err)
	}
}
