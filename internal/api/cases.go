package api

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"slices"
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
	// LastSessionAt, SessionCount and Presiders sum up the sessions (see
	// cases.CaseSummary).
	LastSessionAt *time.Time     `json:"last_session_at"`
	SessionCount  int            `json:"session_count"`
	Presiders     []presiderView `json:"presiders"`
}

// presiderView is an account presiding over sessions: a mediator, notary
// or judge.
type presiderView struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	Role string `json:"role"`
}

// viewCase is the view of c with the summary of its sessions (none for a
// nil sum).
func viewCase(c *cases.Case, sum *cases.CaseSummary) caseView {
	v := caseView{ID: c.ID, OrgID: c.OrgID, Kind: string(c.Kind), Number: c.Number, Title: c.Title,
		Status: c.Status, CreatedBy: c.CreatedBy, CreatedAt: c.CreatedAt, Presiders: []presiderView{}}
	if sum != nil {
		v.LastSessionAt, v.SessionCount = sum.LastSessionAt, sum.Sessions
		for _, pr := range sum.Presiders {
			v.Presiders = append(v.Presiders, presiderView{ID: pr.AccountID, Name: pr.Name, Role: string(pr.Role)})
		}
	}
	return v
}

// viewCases is the views of list, summed up with one query.
func (s *Server) viewCases(ctx context.Context, list ...*cases.Case) ([]caseView, error) {
	ids := make([]string, len(list))
	for i, c := range list {
		ids[i] = c.ID
	}
	sums, err := s.Store.CaseSummaries(ctx, ids)
	if err != nil {
		return nil, err
	}
	views := make([]caseView, 0, len(list))
	for _, c := range list {
		views = append(views, viewCase(c, sums[c.ID]))
	}
	return views, nil
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
	writeJSON(w, http.StatusCreated, viewCase(c, nil))
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

// searchCases answers GET /api/v1/cases: a page of the organization's
// cases matching the query parameters (see caseQuery).
func (s *Server) searchCases(w http.ResponseWriter, r *http.Request, p *principal) error {
	q, err := caseQuery(r, p)
	if err != nil {
		return err
	}
	found, total, err := s.Store.SearchCases(r.Context(), q)
	if err != nil {
		return err
	}
	views, err := s.viewCases(r.Context(), found...)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]any{"cases": views, "total": total, "limit": q.Limit, "offset": q.Offset})
	return nil
}

// caseQuery reads a search from the query parameters q, kind, mine, from,
// to, presider, sort, order, limit and offset.
func caseQuery(r *http.Request, p *principal) (cases.CaseQuery, error) {
	v := r.URL.Query()
	q := cases.CaseQuery{OrgID: p.account.OrgID, Text: strings.TrimSpace(v.Get("q")), Kind: cases.Kind(v.Get("kind")),
		Presider: v.Get("presider"), Sort: cases.CaseSort(v.Get("sort"))}
	switch v.Get("mine") {
	case "", "0", "false":
	case "1", "true":
		q.Mine = p.account.ID
	default:
		return q, apiError(http.StatusBadRequest, "invalid", "mine must be 1 or 0")
	}
	switch v.Get("order") {
	case "", "desc":
	case "asc":
		q.Ascending = true
	default:
		return q, apiError(http.StatusBadRequest, "invalid", "order must be asc or desc")
	}
	switch {
	case q.Kind != "" && !q.Kind.Valid():
		return q, apiError(http.StatusBadRequest, "invalid", "unknown kind %q", q.Kind)
	case !q.Sort.Valid():
		return q, apiError(http.StatusBadRequest, "invalid", "sort must be created, number, title or last_session")
	case utf8.RuneCountInString(q.Text) > 200 || !utf8.ValidString(q.Text):
		return q, apiError(http.StatusBadRequest, "invalid", "q must be valid text of at most 200 characters")
	case len(q.Presider) > 100:
		return q, apiError(http.StatusBadRequest, "invalid", "presider must be an account id")
	}
	var err error
	if q.From, q.To, err = dateRange(v.Get("from"), v.Get("to")); err != nil {
		return q, err
	}
	if q.Limit, err = intParam(r, "limit", 50, 200); err != nil {
		return q, err
	}
	if q.Offset, err = intParam(r, "offset", 0, 1<<20); err != nil {
		return q, err
	}
	if q.Limit == 0 {
		q.Limit = 50
	}
	return q, nil
}

// dateRange parses the bounds of a search: dates (YYYY-MM-DD, whole UTC
// days: from its first instant, to its last) or RFC 3339 times; either
// may be empty (open).
func dateRange(fromText, toText string) (from, to time.Time, err error) {
	if from, err = searchTime("from", fromText, false); err != nil {
		return from, to, err
	}
	if to, err = searchTime("to", toText, true); err != nil {
		return from, to, err
	}
	if !from.IsZero() && !to.IsZero() && from.After(to) {
		return from, to, apiError(http.StatusBadRequest, "invalid", "from must not be after to")
	}
	return from, to, nil
}

// searchTime parses one bound: a date stands for its first instant, or
// with end for its last.
func searchTime(name, v string, end bool) (time.Time, error) {
	if v == "" {
		return time.Time{}, nil
	}
	if d, err := time.Parse(time.DateOnly, v); err == nil {
		if end {
			return d.AddDate(0, 0, 1).Add(-time.Nanosecond), nil
		}
		return d, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t.UTC(), nil
	}
	return time.Time{}, apiError(http.StatusBadRequest, "invalid", "%s must be a date (2026-03-01) or an RFC 3339 time (2026-03-01T08:00:00+08:00)", name)
}

// partyView is a party or interpreter of a case's sessions.
type partyView struct {
	Name     string `json:"name"`
	Role     string `json:"role"`
	Language string `json:"language"`
}

// getCase answers GET /api/v1/cases/{id}: the case, its sessions with
// their participants and recordings, and its parties.
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
	cv, err := s.viewCases(r.Context(), c)
	if err != nil {
		return err
	}
	e := p.entry("case.view")
	e.CaseID = c.ID
	s.record(r.Context(), e)
	writeJSON(w, http.StatusOK, map[string]any{"case": cv[0], "sessions": views, "parties": parties(views)})
	return nil
}

// parties lists the parties and interpreters of sessions, each (name, role,
// language) once, in the order they first appear.
func parties(sessions []sessionView) []partyView {
	out := []partyView{}
	seen := map[partyView]bool{}
	for _, ss := range sessions {
		for _, pt := range ss.Participants {
			pv := partyView{Name: pt.Name, Role: pt.Role, Language: pt.Language}
			if (pt.Role == string(cases.RoleParty) || pt.Role == string(cases.RoleInterpreter)) && !seen[pv] {
				seen[pv] = true
				out = append(out, pv)
			}
		}
	}
	return out
}

// listPresiders answers GET /api/v1/presiders: the organization's active
// mediators, notaries and judges, by name, for a search by presider. The
// list of names is an access to the staff directory: audited as
// account.list.
func (s *Server) listPresiders(w http.ResponseWriter, r *http.Request, p *principal) error {
	accounts, err := s.Store.Accounts(r.Context(), p.account.OrgID)
	if err != nil {
		return err
	}
	out := []presiderView{}
	for _, a := range accounts {
		if a.DisabledAt == nil && a.Role.Presides() {
			out = append(out, presiderView{ID: a.ID, Name: a.Name, Role: string(a.Role)})
		}
	}
	slices.SortFunc(out, func(a, b presiderView) int {
		return cmp.Or(strings.Compare(a.Name, b.Name), strings.Compare(a.ID, b.ID))
	})
	e := p.entry("account.list")
	e.Detail = detail(map[string]any{"roles": "presiders", "count": len(out)})
	s.record(r.Context(), e)
	writeJSON(w, http.StatusOK, map[string]any{"presiders": out})
	return nil
}
