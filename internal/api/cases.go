package api

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/kuayang/kuayang/internal/cases"
	"github.com/kuayang/kuayang/internal/store"
)

type caseView struct {
	ID        string    `json:"id"`
	OrgID     string    `json:"org_id"`
	Kind      string    `json:"kind"`
	Number    string    `json:"number"`
	Title     string    `json:"title"`
	Status    string    `json:"status"`
	CreatedBy string    `json:"created_by"`
	CreatedAt time.Time `json:"created_at"`
}

func viewCase(c *cases.Case) caseView {
	return caseView{ID: c.ID, OrgID: c.OrgID, Kind: string(c.Kind), Number: c.Number, Title: c.Title,
		Status: c.Status, CreatedBy: c.CreatedBy, CreatedAt: c.CreatedAt}
}

type createCaseRequest struct {
	Kind   string `json:"kind"`
	Number string `json:"number"`
	Title  string `json:"title"`
}

// text checks a required free-text field.
func text(field, v string, max int) (string, error) {
	v = strings.TrimSpace(v)
	switch {
	case v == "":
		return "", apiError(http.StatusBadRequest, "invalid", "%s is required", field)
	case !utf8.ValidString(v) || utf8.RuneCountInString(v) > max:
		return "", apiError(http.StatusBadRequest, "invalid", "%s must be valid text of at most %d characters", field, max)
	case strings.ContainsAny(v, "\x00\r\n"):
		return "", apiError(http.StatusBadRequest, "invalid", "%s must be one line", field)
	}
	return v, nil
}

func (s *Server) createCase(w http.ResponseWriter, r *http.Request, p *principal) error {
	var req createCaseRequest
	if e := decode(w, r, &req); e != nil {
		return e
	}
	kind := cases.Kind(req.Kind)
	if !kind.Valid() {
		return apiError(http.StatusBadRequest, "invalid", "kind must be mediation, notarization, hearing or evidence_collection")
	}
	number, err := text("number", req.Number, 100)
	if err != nil {
		return err
	}
	title, err := text("title", req.Title, 300)
	if err != nil {
		return err
	}
	c := &cases.Case{ID: store.NewID(), OrgID: p.account.OrgID, Kind: kind, Number: number, Title: title,
		Status: "open", CreatedBy: p.account.ID, CreatedAt: s.now().UTC()}
	if err := s.Store.CreateCase(r.Context(), c); errors.Is(err, store.ErrConflict) {
		return apiError(http.StatusConflict, "duplicate_number", "a case numbered %q already exists", number)
	} else if err != nil {
		return err
	}
	e := p.entry("case.create")
	e.CaseID, e.Detail = c.ID, detail(map[string]any{"number": c.Number, "kind": c.Kind, "title": c.Title})
	s.record(r.Context(), e)
	writeJSON(w, http.StatusCreated, viewCase(c))
	return nil
}

// intParam reads a non-negative integer query parameter.
func intParam(r *http.Request, name string, def, max int) (int, error) {
	v := r.URL.Query().Get(name)
	if v == "" {
		return def, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 || n > max {
		return 0, apiError(http.StatusBadRequest, "invalid", "%s must be a whole number from 0 to %d", name, max)
	}
	return n, nil
}

func (s *Server) searchCases(w http.ResponseWriter, r *http.Request, p *principal) error {
	q := cases.CaseQuery{OrgID: p.account.OrgID, Text: strings.TrimSpace(r.URL.Query().Get("q")), Kind: cases.Kind(r.URL.Query().Get("kind"))}
	switch r.URL.Query().Get("mine") {
	case "", "0", "false":
	case "1", "true":
		q.Mine = p.account.ID
	default:
		return apiError(http.StatusBadRequest, "invalid", "mine must be 1 or 0")
	}
	if q.Kind != "" && !q.Kind.Valid() {
		return apiError(http.StatusBadRequest, "invalid", "unknown kind %q", q.Kind)
	}
	if utf8.RuneCountInString(q.Text) > 200 {
		return apiError(http.StatusBadRequest, "invalid", "q is longer than 200 characters")
	}
	var err error
	if q.Limit, err = intParam(r, "limit", 50, 200); err != nil {
		return err
	}
	if q.Offset, err = intParam(r, "offset", 0, 1<<20); err != nil {
		return err
	}
	if q.Limit == 0 {
		q.Limit = 50
	}
	found, total, err := s.Store.SearchCases(r.Context(), q)
	if err != nil {
		return err
	}
	views := make([]caseView, 0, len(found))
	for _, c := range found {
		views = append(views, viewCase(c))
	}
	writeJSON(w, http.StatusOK, map[string]any{"cases": views, "total": total, "limit": q.Limit, "offset": q.Offset})
	return nil
}

func (s *Server) getCase(w http.ResponseWriter, r *http.Request, p *principal) error {
	c, err := s.caseOf(r.Context(), p, r.PathValue("id"))
	if err != nil {
		return err
	}
	sessions, err := s.Store.SessionsOfCase(r.Context(), c.ID)
	if err != nil {
		return err
	}
	views := make([]sessionView, 0, len(sessions))
	for _, ss := range sessions {
		v, err := s.viewSessionWithParticipants(r, ss)
		if err != nil {
			return err
		}
		views = append(views, v)
	}
	e := p.entry("case.view")
	e.CaseID = c.ID
	s.record(r.Context(), e)
	writeJSON(w, http.StatusOK, map[string]any{"case": viewCase(c), "sessions": views})
	return nil
}
