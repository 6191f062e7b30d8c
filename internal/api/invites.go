package api

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/kuayang/kuayang/internal/auth"
	"github.com/kuayang/kuayang/internal/cases"
	"github.com/kuayang/kuayang/internal/store"
)

type createInviteRequest struct {
	Name      string     `json:"name"`
	Role      string     `json:"role"`
	Language  string     `json:"language"`
	Email     string     `json:"email"`
	TimeZone  string     `json:"time_zone"`
	ExpiresAt *time.Time `json:"expires_at"`
	// InterpretsFor is, for an interpreter only, the participant id of
	// the party of the session they interpret for.
	InterpretsFor string `json:"interprets_for"`
}

// invitable are the roles an invite can carry.
var invitable = map[cases.Role]bool{
	cases.RoleParty: true, cases.RoleInterpreter: true, cases.RoleObserver: true,
	cases.RoleMediator: true, cases.RoleNotary: true, cases.RoleJudge: true,
}

type inviteResponse struct {
	ID            string    `json:"id"`
	ParticipantID string    `json:"participant_id"`
	URL           string    `json:"url"`
	ExpiresAt     time.Time `json:"expires_at"`
	// Invitation is the email text and calendar file to send; like the
	// URL, it is only shown now.
	Invitation invitation `json:"invitation"`
}

func (s *Server) createInvite(w http.ResponseWriter, r *http.Request, p *principal) error {
	ss, err := s.sessionOf(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	var req createInviteRequest
	if e := decode(w, r, &req); e != nil {
		return e
	}
	if ss.State == "ended" {
		return apiError(http.StatusConflict, "session_ended", "the session has ended")
	}
	part, exp, err := s.newParticipant(r.Context(), ss, &req)
	if err != nil {
		return err
	}
	if err := s.Store.CreateParticipant(r.Context(), part); err != nil {
		return err
	}
	tok := auth.InviteToken()
	inv := &cases.Invite{ID: store.NewID(), ParticipantID: part.ID, SessionID: ss.ID, TokenHash: auth.HashToken(tok),
		ExpiresAt: exp, CreatedAt: s.now().UTC()}
	if err := s.Store.CreateInvite(r.Context(), inv); err != nil {
		return err
	}
	e := p.entry("invite.create")
	e.CaseID, e.SessionID = ss.CaseID, ss.ID
	d := map[string]any{"invite_id": inv.ID, "participant_id": part.ID, "name": part.DisplayName,
		"role": part.Role, "expires_at": exp}
	if part.InterpretsFor != "" {
		d["interprets_for"] = part.InterpretsFor
	}
	e.Detail = detail(d)
	s.record(r.Context(), e)
	link := strings.TrimSuffix(s.PublicURL(), "/") + "/join/" + tok
	c, err := s.Store.Case(r.Context(), ss.CaseID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, inviteResponse{ID: inv.ID, ParticipantID: part.ID, URL: link, ExpiresAt: exp,
		Invitation: newInvitation(c, ss, part, link, inv.ID+"@kuayang", s.now())})
	return nil
}

func (s *Server) newParticipant(ctx context.Context, ss *cases.Session, req *createInviteRequest) (*cases.Participant, time.Time, error) {
	name, err := text("name", req.Name, 100)
	if err != nil {
		return nil, time.Time{}, err
	}
	role := cases.Role(req.Role)
	if !invitable[role] {
		return nil, time.Time{}, apiError(http.StatusBadRequest, "invalid", "role must be party, interpreter, observer, mediator, notary or judge")
	}
	lang := req.Language
	if lang == "" {
		lang = "zh-CN"
	}
	if len(lang) > 20 || strings.ContainsAny(lang, " \x00") {
		return nil, time.Time{}, apiError(http.StatusBadRequest, "invalid", "language must be a language tag such as zh-CN, it or en")
	}
	if req.TimeZone != "" {
		if _, err := time.LoadLocation(req.TimeZone); err != nil || req.TimeZone == "Local" {
			return nil, time.Time{}, apiError(http.StatusBadRequest, "invalid", "time_zone must be an IANA zone such as Europe/Rome")
		}
	}
	if len(req.Email) > 254 || (req.Email != "" && !strings.Contains(req.Email, "@")) {
		return nil, time.Time{}, apiError(http.StatusBadRequest, "invalid", "email is not an email address")
	}
	if err := s.checkInterpretsFor(ctx, ss, role, req.InterpretsFor); err != nil {
		return nil, time.Time{}, err
	}
	now := s.now().UTC()
	ttl := s.InviteTTL
	if ttl == 0 {
		ttl = 30 * 24 * time.Hour
	}
	exp := now.Add(ttl)
	if req.ExpiresAt != nil {
		if !req.ExpiresAt.After(now) || req.ExpiresAt.Sub(now) > 365*24*time.Hour {
			return nil, time.Time{}, apiError(http.StatusBadRequest, "invalid", "expires_at must be in the future and within a year")
		}
		exp = req.ExpiresAt.UTC()
	}
	return &cases.Participant{ID: store.NewID(), SessionID: ss.ID, Role: role, DisplayName: name, Language: lang,
		TimeZone: req.TimeZone, Email: strings.ToLower(strings.TrimSpace(req.Email)), CreatedAt: now,
		InterpretsFor: req.InterpretsFor}, exp, nil
}

// checkInterpretsFor checks the interprets_for of an invite of role to ss:
// it may only be given for an interpreter, and must then name a party of
// ss. An unknown participant and one of another session get the same
// answer, so that the check tells nothing of other sessions.
func (s *Server) checkInterpretsFor(ctx context.Context, ss *cases.Session, role cases.Role, id string) error {
	if id == "" {
		return nil
	}
	if role != cases.RoleInterpreter {
		return apiError(http.StatusBadRequest, "invalid", "interprets_for is only allowed with role interpreter")
	}
	notParty := apiError(http.StatusBadRequest, "invalid", "interprets_for must be the participant id of a party of this session")
	if len(id) > 100 {
		return notParty
	}
	pt, err := s.Store.Participant(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return notParty
	} else if err != nil {
		return err
	}
	if pt.SessionID != ss.ID || pt.Role != cases.RoleParty {
		return notParty
	}
	return nil
}

func (s *Server) revokeInvite(w http.ResponseWriter, r *http.Request, p *principal) error {
	inv, err := s.Store.Invite(r.Context(), r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) {
		return errNotFound
	} else if err != nil {
		return err
	}
	ss, err := s.sessionOf(r.Context(), p, inv.SessionID)
	if err != nil {
		return err
	}
	if err := s.Store.RevokeInvite(r.Context(), inv.ID, s.now().UTC()); err != nil {
		return err
	}
	e := p.entry("invite.revoke")
	e.CaseID, e.SessionID = ss.CaseID, ss.ID
	e.Detail = detail(map[string]any{"invite_id": inv.ID, "participant_id": inv.ParticipantID})
	s.record(r.Context(), e)
	w.WriteHeader(http.StatusNoContent)
	return nil
}
