package signaling

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/kuayang/kuayang/internal/cases"
	"github.com/kuayang/kuayang/internal/settlement"
)

// Settlements keeps the settlement agreements of sessions
// (settlement.Service). Signaling says who acts; it checks the rest.
type Settlements interface {
	Current(ctx context.Context, sessionID string) (*settlement.View, error)
	Template(ctx context.Context, sessionID string, by settlement.Actor, name, lang, terms string) (string, error)
	Save(ctx context.Context, sessionID string, by settlement.Actor, text, template, lang string) (*settlement.Saved, error)
	Share(ctx context.Context, sessionID string, by settlement.Actor, version int) (*settlement.View, error)
	Sign(ctx context.Context, sessionID string, by settlement.Actor, sha, typed string, d settlement.Drawing) (*settlement.View, error)
	Confirm(ctx context.Context, sessionID string, by settlement.Actor, participantID, what string) (*settlement.View, error)
	Finalize(ctx context.Context, sessionID string, by settlement.Actor, sha string) (*settlement.Finalized, error)
}

// SettlementTemplate asks for a built-in template filled from the case
// and the session (mediator).
type SettlementTemplate struct {
	Template string `json:"template"`
	Language string `json:"language"`
	Terms    string `json:"terms"`
}

// SettlementDraft saves a version of the agreement's text (mediator).
type SettlementDraft struct {
	Text     string `json:"text"`
	Template string `json:"template"`
	Language string `json:"language"`
}

// SettlementShare shows a saved version to everyone, to sign (mediator).
type SettlementShare struct {
	Version int `json:"version"`
}

// SettlementSign signs the shared version whose SHA-256 the signer saw.
type SettlementSign struct {
	SHA256    string             `json:"sha256"`
	TypedName string             `json:"typed_name"`
	Drawing   settlement.Drawing `json:"drawing"`
}

// SettlementConfirm marks a signer's spoken confirmation, or accepts a
// typed name that differs from theirs (mediator).
type SettlementConfirm struct {
	ID   string `json:"id"`
	What string `json:"what"` // spoken or name
}

// SettlementFinalize makes the signed PDF of the shared version
// (mediator).
type SettlementFinalize struct {
	SHA256 string `json:"sha256"`
}

// Type implements Message.
func (SettlementTemplate) Type() string { return "settlement_template" }

// Type implements Message.
func (SettlementDraft) Type() string { return "settlement_draft" }

// Type implements Message.
func (SettlementShare) Type() string { return "settlement_share" }

// Type implements Message.
func (SettlementSign) Type() string { return "settlement_sign" }

// Type implements Message.
func (SettlementConfirm) Type() string { return "settlement_confirm" }

// Type implements Message.
func (SettlementFinalize) Type() string { return "settlement_finalize" }

func decodeSettlementTemplate(data []byte) (Message, error) {
	var m SettlementTemplate
	if err := unmarshal(data, &m); err != nil {
		return nil, err
	}
	if m.Template == "" || m.Language == "" {
		return nil, fmt.Errorf("template and language are required")
	}
	return m, checkText("terms", m.Terms, settlement.MaxText, true)
}

func decodeSettlementDraft(data []byte) (Message, error) {
	var m SettlementDraft
	if err := unmarshal(data, &m); err != nil {
		return nil, err
	}
	if len(m.Template) > 32 || len(m.Language) > 8 {
		return nil, fmt.Errorf("template or language is too long")
	}
	return m, checkText("text", m.Text, settlement.MaxText, false)
}

func decodeSettlementShare(data []byte) (Message, error) {
	var m SettlementShare
	if err := unmarshal(data, &m); err != nil {
		return nil, err
	}
	if m.Version <= 0 {
		return nil, fmt.Errorf("version is required")
	}
	return m, nil
}

func decodeSettlementSign(data []byte) (Message, error) {
	var m SettlementSign
	if err := unmarshal(data, &m); err != nil {
		return nil, err
	}
	if len(m.SHA256) != 64 {
		return nil, fmt.Errorf("sha256 must be the 64 hex digits of the shared text's SHA-256")
	}
	return m, checkText("typed_name", m.TypedName, 100, false)
}

func decodeSettlementConfirm(data []byte) (Message, error) {
	var m SettlementConfirm
	if err := unmarshal(data, &m); err != nil {
		return nil, err
	}
	if m.ID == "" {
		return nil, fmt.Errorf("id is required")
	}
	if m.What != settlement.ConfirmSpoken && m.What != settlement.ConfirmName {
		return nil, fmt.Errorf(`what must be "spoken" or "name"`)
	}
	return m, nil
}

func decodeSettlementFinalize(data []byte) (Message, error) {
	var m SettlementFinalize
	if err := unmarshal(data, &m); err != nil {
		return nil, err
	}
	if len(m.SHA256) != 64 {
		return nil, fmt.Errorf("sha256 must be the 64 hex digits of the shared text's SHA-256")
	}
	return m, nil
}

// settlementFinalizeTimeout bounds rendering, signing and storing a PDF.
const settlementFinalizeTimeout = 30 * time.Second

// settlementMsg is the shared settlement, to everyone in the call.
type settlementMsg struct {
	Type       string           `json:"type"`
	Settlement *settlement.View `json:"settlement"`
	By         string           `json:"by"`
}

// settlementTemplateMsg answers settlement_template.
type settlementTemplateMsg struct {
	Type     string `json:"type"`
	Template string `json:"template"`
	Language string `json:"language"`
	Text     string `json:"text"`
}

// settlementSavedMsg answers settlement_draft.
type settlementSavedMsg struct {
	Type    string `json:"type"`
	Version int    `json:"version"`
	SHA256  string `json:"sha256"`
	Text    string `json:"text"`
	Shared  bool   `json:"shared"`
}

// actor is c as the settlement service knows it.
func (c *client) actor() settlement.Actor {
	return settlement.Actor{ID: c.pid, Name: c.name, Role: c.role}
}

// requireMediator refuses a settlement action of anyone but the mediator.
func (c *client) requireMediator(ref string) *Error {
	if c.role != cases.RoleMediator {
		return errorf(CodeNotHost, ref, "only the mediator may do this")
	}
	return nil
}

// settlementError maps a refusal of the settlement service to its
// protocol error (the same code); anything else is logged, internal.
func (c *client) settlementError(ref string, err error) *Error {
	var se *settlement.Error
	if errors.As(err, &se) {
		return errorf(se.Code, ref, "%s", se.Message)
	}
	c.s.log.Error("settlement", "session", c.sessionID, "participant", c.pid, "ref", ref, "err", err)
	return errorf(CodeInternal, ref, "the settlement could not be saved; try again")
}

// settlements is the service, or the error that there is none.
// mediatorSettlements is settlements for what the mediator alone does.
func (c *client) mediatorSettlements(ref string) (Settlements, *Error) {
	st, perr := c.settlements(ref)
	if perr == nil {
		perr = c.requireMediator(ref)
	}
	return st, perr
}

func (c *client) settlements(ref string) (Settlements, *Error) {
	st := c.s.cfg.Settlements
	if st == nil {
		return nil, errorf(CodeInternal, ref, "this server keeps no settlements")
	}
	return st, nil
}

// currentSettlement is the shared settlement for joined, admitted and
// resumed; nil when none (or it cannot be read: logged).
func (c *client) currentSettlement() *settlement.View {
	st := c.s.cfg.Settlements
	if st == nil {
		return nil
	}
	ctx, cancel := c.ctx()
	defer cancel()
	v, err := st.Current(ctx, c.sessionID)
	if err != nil {
		c.s.log.Error("reading the settlement", "session", c.sessionID, "err", err)
		return nil
	}
	return v
}

// settlementAudit records a settlement action with its detail.
func (c *client) settlementAudit(action string, d map[string]any) {
	b, _ := json.Marshal(d)
	c.auditNow(action, string(b))
}

// sharedSettlement records that the mediator shared a version (an edit
// of a shared text shares it too) and tells everyone.
func (c *client) sharedSettlement(v *settlement.View) {
	c.settlementAudit("settlement.shared", map[string]any{"id": v.ID, "version": v.Version, "sha256": v.SHA256, "cleared": v.Cleared})
	c.shareSettlement(v)
}

// shareSettlement tells everyone in the call of the settlement now.
func (c *client) shareSettlement(v *settlement.View) {
	c.s.broadcast(c.sessionID, nil, settlementMsg{Type: "settlement", Settlement: v, By: c.pid})
}

func (c *client) onSettlementTemplate(m SettlementTemplate) *Error {
	const ref = "settlement_template"
	st, perr := c.mediatorSettlements(ref)
	if perr != nil {
		return perr
	}
	ctx, cancel := c.ctx()
	defer cancel()
	text, err := st.Template(ctx, c.sessionID, c.actor(), m.Template, m.Language, m.Terms)
	if err != nil {
		return c.settlementError(ref, err)
	}
	c.send(settlementTemplateMsg{Type: ref, Template: m.Template, Language: m.Language, Text: text})
	return nil
}

func (c *client) onSettlementDraft(m SettlementDraft) *Error {
	const ref = "settlement_draft"
	st, perr := c.mediatorSettlements(ref)
	if perr != nil {
		return perr
	}
	ctx, cancel := c.ctx()
	defer cancel()
	lang := m.Language
	if lang == "" {
		lang = "zh"
	}
	saved, err := st.Save(ctx, c.sessionID, c.actor(), m.Text, m.Template, lang)
	if err != nil {
		return c.settlementError(ref, err)
	}
	c.settlementAudit("settlement.saved", map[string]any{"version": saved.Version, "sha256": saved.SHA256})
	c.send(settlementSavedMsg{Type: "settlement_saved", Version: saved.Version, SHA256: saved.SHA256, Text: saved.Text, Shared: saved.Shared})
	if saved.Shared {
		v := saved.View
		c.sharedSettlement(v)
	}
	return nil
}

func (c *client) onSettlementShare(m SettlementShare) *Error {
	const ref = "settlement_share"
	st, perr := c.mediatorSettlements(ref)
	if perr != nil {
		return perr
	}
	ctx, cancel := c.ctx()
	defer cancel()
	v, err := st.Share(ctx, c.sessionID, c.actor(), m.Version)
	if err != nil {
		return c.settlementError(ref, err)
	}
	c.sharedSettlement(v)
	return nil
}

func (c *client) onSettlementSign(m SettlementSign) *Error {
	const ref = "settlement_sign"
	st, perr := c.settlements(ref)
	if perr != nil {
		return perr
	}
	if c.role != cases.RoleParty && c.role != cases.RoleMediator {
		return errorf(settlement.CodeNotSigner, ref, "only the parties and the mediator sign the settlement")
	}
	ctx, cancel := c.ctx()
	defer cancel()
	v, err := st.Sign(ctx, c.sessionID, c.actor(), m.SHA256, m.TypedName, m.Drawing)
	if err != nil {
		return c.settlementError(ref, err)
	}
	points := 0
	for _, s := range m.Drawing.Strokes {
		points += len(s) / 2
	}
	matches := false
	for _, g := range v.Signers {
		if g.ParticipantID == c.pid {
			matches = g.NameMatches
		}
	}
	c.settlementAudit("settlement.signed", map[string]any{"id": v.ID, "version": v.Version, "sha256": v.SHA256,
		"typed_name": m.TypedName, "name_matches": matches, "strokes": len(m.Drawing.Strokes), "points": points})
	c.shareSettlement(v)
	return nil
}

func (c *client) onSettlementConfirm(m SettlementConfirm) *Error {
	const ref = "settlement_confirm"
	st, perr := c.mediatorSettlements(ref)
	if perr != nil {
		return perr
	}
	ctx, cancel := c.ctx()
	defer cancel()
	v, err := st.Confirm(ctx, c.sessionID, c.actor(), m.ID, m.What)
	if err != nil {
		return c.settlementError(ref, err)
	}
	action := "settlement.confirmed" // a mark on the timeline
	if m.What == settlement.ConfirmName {
		action = "settlement.name_confirmed"
	}
	c.settlementAudit(action, map[string]any{"id": v.ID, "version": v.Version, "sha256": v.SHA256, "participant": m.ID})
	c.shareSettlement(v)
	return nil
}

func (c *client) onSettlementFinalize(m SettlementFinalize) *Error {
	const ref = "settlement_finalize"
	st, perr := c.mediatorSettlements(ref)
	if perr != nil {
		return perr
	}
	// Rendering, signing and storing take longer than a message.
	ctx, cancel := context.WithTimeout(context.Background(), settlementFinalizeTimeout)
	defer cancel()
	f, err := st.Finalize(ctx, c.sessionID, c.actor(), m.SHA256)
	if err != nil {
		return c.settlementError(ref, err)
	}
	c.settlementAudit("settlement.finalized", map[string]any{"id": f.View.ID, "version": f.View.Version,
		"sha256": f.View.SHA256, "pdf_sha256": f.SHA256, "bytes": f.Bytes, "key": f.Key})
	c.shareSettlement(f.View)
	return nil
}
