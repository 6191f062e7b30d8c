package api

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/kuayang/kuayang/internal/cases"
	"github.com/kuayang/kuayang/internal/store"
)

// participantStore is a store that only knows some participants.
type participantStore struct {
	store.Store
	parts map[string]*cases.Participant
}

func (s *participantStore) Participant(_ context.Context, id string) (*cases.Participant, error) {
	if p, ok := s.parts[id]; ok {
		return p, nil
	}
	return nil, store.ErrNotFound
}

func TestNewParticipantInterpretsFor(t *testing.T) {
	ss := &cases.Session{ID: "s1"}
	st := &participantStore{parts: map[string]*cases.Participant{
		"party":       {ID: "party", SessionID: "s1", Role: cases.RoleParty},
		"mediator":    {ID: "mediator", SessionID: "s1", Role: cases.RoleMediator},
		"interpreter": {ID: "interpreter", SessionID: "s1", Role: cases.RoleInterpreter},
		"elsewhere":   {ID: "elsewhere", SessionID: "s2", Role: cases.RoleParty},
	}}
	s := &Server{Store: st}
	for _, tc := range []struct {
		name, role, interpretsFor string
		wantErr                   string // part of the message; "" for success
	}{
		{"interpreter for a party", "interpreter", "party", ""},
		{"interpreter for nobody", "interpreter", "", ""},
		{"party without", "party", "", ""},
		{"interpreter for a mediator", "interpreter", "mediator", "party of this session"},
		{"interpreter for an interpreter", "interpreter", "interpreter", "party of this session"},
		{"interpreter for another session's party", "interpreter", "elsewhere", "party of this session"},
		{"interpreter for an unknown id", "interpreter", "nope", "party of this session"},
		{"interpreter for a huge id", "interpreter", strings.Repeat("x", 101), "party of this session"},
		{"party with interprets_for", "party", "party", "only allowed with role interpreter"},
		{"observer with interprets_for", "observer", "party", "only allowed with role interpreter"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := &createInviteRequest{Name: "Lin Mei", Role: tc.role, Language: "it", InterpretsFor: tc.interpretsFor}
			p, _, err := s.newParticipant(t.Context(), ss, req)
			if tc.wantErr == "" {
				if err != nil {
					t.Fatalf("newParticipant: %v", err)
				}
				if p.InterpretsFor != tc.interpretsFor || p.SessionID != ss.ID {
					t.Fatalf("participant %+v, want InterpretsFor %q", p, tc.interpretsFor)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || e.Status != http.StatusBadRequest || e.Code != "invalid" || !strings.Contains(e.Message, tc.wantErr) {
				t.Fatalf("newParticipant = %v, want 400 invalid mentioning %q", err, tc.wantErr)
			}
		})
	}
}
