package api

import (
	"encoding/hex"
	"net/http"
	"time"

	"github.com/kuayang/kuayang/internal/audit"
)

type auditView struct {
	Seq       int64     `json:"seq"`
	Time      time.Time `json:"time"`
	ActorKind string    `json:"actor_kind"`
	ActorID   string    `json:"actor_id"`
	ActorName string    `json:"actor_name,omitempty"`
	Action    string    `json:"action"`
	CaseID    string    `json:"case_id,omitempty"`
	SessionID string    `json:"session_id,omitempty"`
	IP        string    `json:"ip"`
	Detail    string    `json:"detail,omitempty"`
	Hash      string    `json:"hash"`
}

// listAudit answers the audit entries of a case, a session, or the whole
// organization, oldest first.
func (s *Server) listAudit(w http.ResponseWriter, r *http.Request, p *principal) error {
	f := audit.Filter{OrgID: p.account.OrgID, CaseID: r.URL.Query().Get("case_id"), SessionID: r.URL.Query().Get("session_id")}
	if f.CaseID != "" {
		if _, err := s.caseOf(r.Context(), p, f.CaseID); err != nil {
			return err
		}
	}
	if f.SessionID != "" {
		if _, err := s.sessionOf(r.Context(), p, f.SessionID); err != nil {
			return err
		}
	}
	after, err := intParam(r, "after_seq", 0, 1<<62)
	if err != nil {
		return err
	}
	f.AfterSeq = int64(after)
	if f.Limit, err = intParam(r, "limit", 1000, 1000); err != nil {
		return err
	}
	if f.Limit == 0 {
		f.Limit = 1000
	}
	entries, err := s.Store.AuditEntries(r.Context(), f)
	if err != nil {
		return err
	}
	names := s.actorNames(r, entries)
	views := make([]auditView, 0, len(entries))
	for _, e := range entries {
		views = append(views, auditView{Seq: e.Seq, Time: e.Time, ActorKind: e.ActorKind, ActorID: e.ActorID,
			ActorName: names[e.ActorKind+":"+e.ActorID], Action: e.Action, CaseID: e.CaseID, SessionID: e.SessionID,
			IP: e.IP, Detail: e.Detail, Hash: hex.EncodeToString(e.Hash)})
	}
	v := p.entry("audit.view")
	v.CaseID, v.SessionID = f.CaseID, f.SessionID
	s.record(r.Context(), v)
	writeJSON(w, http.StatusOK, map[string]any{"entries": views})
	return nil
}

// actorNames resolves the names of the accounts and participants of
// entries, once each. Unknown actors (deleted, or the system) get none.
func (s *Server) actorNames(r *http.Request, entries []*audit.Entry) map[string]string {
	names := map[string]string{}
	for _, e := range entries {
		k := e.ActorKind + ":" + e.ActorID
		if _, done := names[k]; done || e.ActorID == "" {
			continue
		}
		names[k] = ""
		switch e.ActorKind {
		case audit.ActorAccount:
			if a, err := s.Store.Account(r.Context(), e.ActorID); err == nil {
				names[k] = a.Name
			}
		case audit.ActorParticipant:
			if p, err := s.Store.Participant(r.Context(), e.ActorID); err == nil {
				names[k] = p.DisplayName
			}
		}
	}
	return names
}
