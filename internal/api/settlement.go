package api

import (
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/kuayang/kuayang/internal/audit"
	"github.com/kuayang/kuayang/internal/blob"
	"github.com/kuayang/kuayang/internal/cases"
	"github.com/kuayang/kuayang/internal/settlement"
	"github.com/kuayang/kuayang/internal/store"
)

// settlementView is a settlement as the case page lists it.
type settlementView struct {
	ID        string    `json:"id"`
	SessionID string    `json:"session_id"`
	Language  string    `json:"language"`
	CreatedAt time.Time `json:"created_at"`
	Version   int       `json:"version"` // the shared version, 0 if none
	Versions  int       `json:"versions"`
	Signed    int       `json:"signed"` // signatures of the shared version
	// Final describes the signed PDF once the mediator finalized it.
	Final *settlementFinalView `json:"final,omitempty"`
}

type settlementFinalView struct {
	SHA256 string    `json:"sha256"`
	Bytes  int64     `json:"bytes"`
	At     time.Time `json:"at"`
	URL    string    `json:"url"` // GET it for the PDF
}

func viewSettlement(st *cases.Settlement) settlementView {
	v := settlementView{ID: st.ID, SessionID: st.SessionID, Language: st.Language, CreatedAt: st.CreatedAt,
		Version: st.SharedVersion, Versions: len(st.Versions), Signed: len(st.SignaturesOf(st.SharedVersion))}
	if f := st.Final; f != nil {
		v.Final = &settlementFinalView{SHA256: hex.EncodeToString(f.SHA256), Bytes: f.Bytes, At: f.At,
			URL: "/api/v1/settlements/" + st.ID + "/pdf"}
	}
	return v
}

// listSettlements answers GET /api/v1/cases/{id}/settlements: the case's
// settlement agreements, oldest first.
func (s *Server) listSettlements(w http.ResponseWriter, r *http.Request, p *principal) error {
	c, err := s.caseOf(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	list, err := s.Store.SettlementsOfCase(r.Context(), c.ID)
	if err != nil {
		return err
	}
	out := []settlementView{}
	for _, st := range list {
		out = append(out, viewSettlement(st))
	}
	writeJSON(w, http.StatusOK, map[string]any{"settlements": out})
	return nil
}

var errNotFinal = apiError(http.StatusConflict, "settlement_not_final", "the settlement has not been finalized: there is no signed PDF yet")

// settlementPDF answers GET /api/v1/settlements/{id}/pdf for staff of the
// settlement's organization: the signed PDF. Audited as
// settlement.download.
func (s *Server) settlementPDF(w http.ResponseWriter, r *http.Request, p *principal) error {
	st, err := s.Store.Settlement(r.Context(), r.PathValue("id"))
	if errors.Is(err, store.ErrNotFound) || (err == nil && st.OrgID != p.account.OrgID) {
		return errNotFound
	} else if err != nil {
		return err
	}
	e := p.entry("settlement.download")
	e.CaseID, e.SessionID = st.CaseID, st.SessionID
	return s.serveSettlement(r.Context(), w, r, st, e)
}

// callSettlementPDF answers GET /api/v1/call/{id}/settlements/{settlement}
// for a party or the mediator of the session: the signed PDF. Audited as
// settlement.download.
func (s *Server) callSettlementPDF(w http.ResponseWriter, r *http.Request, p *party) error {
	if p.participant.Role != cases.RoleParty && !p.presides() {
		return apiError(http.StatusForbidden, "forbidden", "only the parties and the mediator download the settlement")
	}
	st, err := s.Store.Settlement(r.Context(), r.PathValue("settlement"))
	if errors.Is(err, store.ErrNotFound) || (err == nil && st.SessionID != p.session.ID) {
		return errNotFound
	} else if err != nil {
		return err
	}
	return s.serveSettlement(r.Context(), w, r, st, p.entry("settlement.download"))
}

// serveSettlement sends the signed PDF of st and records e.
func (s *Server) serveSettlement(ctx context.Context, w http.ResponseWriter, r *http.Request, st *cases.Settlement, e *audit.Entry) error {
	if st.Final == nil {
		return errNotFinal
	}
	if s.Recordings == nil {
		return errNotFound
	}
	rc, info, err := s.Recordings.Blob.Get(ctx, st.Final.Key)
	if errors.Is(err, blob.ErrNotFound) {
		return errNotFound
	} else if err != nil {
		return err
	}
	defer rc.Close()
	e.Detail = detail(map[string]any{"settlement": st.ID, "sha256": hex.EncodeToString(st.Final.SHA256)})
	s.record(ctx, e)
	w.Header().Set("Content-Type", "application/pdf")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s"`, settlement.FileName(st.ID)))
	w.Header().Set("Cache-Control", "private, no-store")
	if rs, ok := rc.(io.ReadSeeker); ok {
		http.ServeContent(w, r, "", info.Modified, rs)
		return nil
	}
	w.Header().Set("Content-Length", strconv.FormatInt(info.Size, 10))
	_, _ = io.Copy(w, rc)
	return nil
}
