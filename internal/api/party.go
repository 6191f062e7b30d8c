package api

import (
	"errors"
	"net/http"
	"strings"

	"github.com/kuayang/kuayang/internal/audit"
	"github.com/kuayang/kuayang/internal/auth"
	"github.com/kuayang/kuayang/internal/cases"
	"github.com/kuayang/kuayang/internal/store"
)

// CallChecker checks the call tokens the signaling server hands out with
// joined and resumed (auth.CallTokens).
type CallChecker interface {
	Check(tok string) (auth.CallClaims, error)
}

// party is the participant of a request made from the call page, by call
// token: a party, an interpreter, or a presider, who may hold no staff
// login on this browser.
type party struct {
	participant *cases.Participant
	session     *cases.Session
	ip          string
}

// partyHandler is an API handler for a participant in a call.
type partyHandler func(w http.ResponseWriter, r *http.Request, p *party) error

var (
	errCallToken        = apiError(http.StatusUnauthorized, "call_token_invalid", "this request needs the call token of a participant in the session; join the call again")
	errCallTokenExpired = apiError(http.StatusUnauthorized, "call_token_expired", "your call token has expired; join the call again")
)

// callToken reads "Authorization: Call <token>".
func callToken(r *http.Request) (string, bool) {
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Call ")
	tok = strings.TrimSpace(tok)
	return tok, ok && tok != ""
}

// participantOf wraps h for call routes: the call token must be valid and
// name a participant of the session in the path ({id}) who is still on
// record. What the participant may do (their role, the session's state)
// the handler checks. The token travels in a header, never in a cookie, so
// no other site can make a browser send it: no CSRF check is needed.
func (s *Server) participantOf(h partyHandler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p, err := s.authenticateParty(r)
		if err == nil {
			err = h(w, r, p)
		}
		if err != nil {
			writeError(w, s.Log, r, err)
		}
	})
}

func (s *Server) authenticateParty(r *http.Request) (*party, error) {
	if s.CallTokens == nil {
		return nil, errCallToken
	}
	tok, ok := callToken(r)
	if !ok {
		return nil, errCallToken
	}
	c, err := s.CallTokens.Check(tok)
	switch {
	case errors.Is(err, auth.ErrTokenExpired):
		return nil, errCallTokenExpired
	case err != nil:
		return nil, errCallToken
	}
	if id := r.PathValue("id"); id != "" && id != c.SessionID {
		// A token of one session is no key to another.
		return nil, errNotFound
	}
	part, err := s.Store.Participant(r.Context(), c.ParticipantID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && part.SessionID != c.SessionID) {
		return nil, errCallToken
	} else if err != nil {
		return nil, err
	}
	sess, err := s.Store.Session(r.Context(), c.SessionID)
	if errors.Is(err, store.ErrNotFound) {
		return nil, errCallToken
	} else if err != nil {
		return nil, err
	}
	return &party{participant: part, session: sess, ip: s.IPs.IP(r)}, nil
}

// presides reports whether p presides over the session (mediator, notary
// or judge).
func (p *party) presides() bool { return p.participant.Role.Presides() }

// entry is an audit entry by p.
func (p *party) entry(action string) *audit.Entry {
	return &audit.Entry{ActorKind: audit.ActorParticipant, ActorID: p.participant.ID, Action: action,
		OrgID: p.session.OrgID, CaseID: p.session.CaseID, SessionID: p.session.ID, IP: p.ip}
}

// callMeResponse is who a call token speaks for.
type callMeResponse struct {
	SessionID     string `json:"session_id"`
	ParticipantID string `json:"participant_id"`
	Role          string `json:"role"`
	Name          string `json:"name"`
}

// callMe answers GET /api/v1/call/{id}/me: whom the call token is for. The
// call page checks its token with it; nothing is disclosed the page does
// not already hold.
func (s *Server) callMe(w http.ResponseWriter, _ *http.Request, p *party) error {
	writeJSON(w, http.StatusOK, callMeResponse{SessionID: p.session.ID, ParticipantID: p.participant.ID,
		Role: string(p.participant.Role), Name: p.participant.DisplayName})
	return nil
}
