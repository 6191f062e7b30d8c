package api

import (
	"context"
	"encoding/csv"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
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

// listAudit answers GET /api/v1/audit: the audit entries of a case, a
// session, or the whole organization, oldest first, as JSON or with
// format=csv as a CSV file; access=1 keeps the access actions
// (audit.AccessActions).
func (s *Server) listAudit(w http.ResponseWriter, r *http.Request, p *principal) error {
	f, limited, err := s.auditFilter(r, p)
	if err != nil {
		return err
	}
	switch r.URL.Query().Get("format") {
	case "", "json":
		return s.auditJSON(w, r, p, f)
	case "csv":
		if !limited {
			f.Limit = 0 // every entry
		}
		return s.auditCSV(w, r, p, f)
	}
	return apiError(http.StatusBadRequest, "invalid", "format must be json or csv")
}

// auditFilter reads the filter of an audit listing from the query
// parameters case_id, session_id, after_seq, limit and access; limited
// reports whether limit was given.
func (s *Server) auditFilter(r *http.Request, p *principal) (f audit.Filter, limited bool, err error) {
	v := r.URL.Query()
	f = audit.Filter{OrgID: p.account.OrgID, CaseID: v.Get("case_id"), SessionID: v.Get("session_id")}
	if f.CaseID != "" {
		if _, err := s.caseOf(r.Context(), p, f.CaseID); err != nil {
			return f, false, err
		}
	}
	if f.SessionID != "" {
		if _, err := s.sessionOf(r.Context(), p, f.SessionID); err != nil {
			return f, false, err
		}
	}
	after, err := intParam(r, "after_seq", 0, 1<<62)
	if err != nil {
		return f, false, err
	}
	f.AfterSeq = int64(after)
	if f.Limit, err = intParam(r, "limit", 1000, 1000); err != nil {
		return f, false, err
	}
	if f.Limit == 0 {
		f.Limit = 1000
	}
	switch v.Get("access") {
	case "", "0":
	case "1":
		f.Actions = audit.AccessActions
	default:
		return f, false, apiError(http.StatusBadRequest, "invalid", "access must be 1 or 0")
	}
	return f, v.Get("limit") != "", nil
}

// auditJSON answers one page of entries as JSON. Audited as audit.view.
func (s *Server) auditJSON(w http.ResponseWriter, r *http.Request, p *principal, f audit.Filter) error {
	entries, err := s.Store.AuditEntries(r.Context(), f)
	if err != nil {
		return err
	}
	names := map[string]string{}
	s.actorNames(r.Context(), entries, names)
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

// auditColumns is the header row of the CSV export.
var auditColumns = []string{"seq", "time", "actor_kind", "actor_id", "actor_name", "action", "case_id", "session_id", "ip", "detail", "hash"}

// csvPage is how many entries the CSV export reads at a time.
const csvPage = 1000

// auditCSV streams the entries matching f as a CSV file (RFC 4180, UTF-8
// with a byte order mark so that spreadsheets read Chinese names right),
// page by page: every entry when f.Limit is 0, else at most f.Limit. Cells
// a spreadsheet would take for a formula are neutralized (csvCell).
// Audited, once written, as audit.export with the number of entries.
func (s *Server) auditCSV(w http.ResponseWriter, r *http.Request, p *principal, f audit.Filter) error {
	want := f.Limit
	page := f
	page.Limit = csvPage
	if want > 0 {
		page.Limit = min(want, csvPage)
	}
	first, err := s.Store.AuditEntries(r.Context(), page)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="`+auditFileName(f)+`"`)
	h.Set("Cache-Control", "no-store")
	_, _ = w.Write([]byte("\ufeff"))
	cw := csv.NewWriter(w)
	_ = cw.Write(auditColumns)
	names := map[string]string{}
	n := 0
	for entries := first; ; {
		s.actorNames(r.Context(), entries, names)
		for _, e := range entries {
			_ = cw.Write(auditRow(e, names))
		}
		n += len(entries)
		cw.Flush()
		if len(entries) < page.Limit || (want > 0 && n >= want) || cw.Error() != nil {
			break
		}
		page.AfterSeq = entries[len(entries)-1].Seq
		if want > 0 {
			page.Limit = min(want-n, csvPage)
		}
		if entries, err = s.Store.AuditEntries(r.Context(), page); err != nil {
			s.Log.Error("audit export failed mid-stream", "err", err)
			panic(http.ErrAbortHandler) // a short file must not pass for the whole log
		}
	}
	v := p.entry("audit.export")
	v.CaseID, v.SessionID = f.CaseID, f.SessionID
	v.Detail = detail(map[string]any{"format": "csv", "entries": n, "access_only": len(f.Actions) > 0})
	// The export happened even if the client went away meanwhile.
	s.record(context.WithoutCancel(r.Context()), v)
	return nil
}

// auditRow is the CSV row of e.
func auditRow(e *audit.Entry, names map[string]string) []string {
	row := []string{strconv.FormatInt(e.Seq, 10), e.Time.UTC().Format(time.RFC3339Nano), e.ActorKind, e.ActorID,
		names[e.ActorKind+":"+e.ActorID], e.Action, e.CaseID, e.SessionID, e.IP, e.Detail, hex.EncodeToString(e.Hash)}
	for i, c := range row {
		row[i] = csvCell(c)
	}
	return row
}

// csvCell neutralizes a cell that a spreadsheet would run as a formula
// (CSV injection): one starting with =, +, -, @, a tab or a carriage
// return gets a leading apostrophe, which spreadsheets show as text.
func csvCell(c string) string {
	if c != "" && strings.ContainsRune("=+-@\t\r", rune(c[0])) {
		return "'" + c
	}
	return c
}

// auditFileName names an export after what it covers.
func auditFileName(f audit.Filter) string {
	scope := "organization"
	switch {
	case f.SessionID != "":
		scope = "session-" + f.SessionID[:min(8, len(f.SessionID))]
	case f.CaseID != "":
		scope = "case-" + f.CaseID[:min(8, len(f.CaseID))]
	}
	if len(f.Actions) > 0 {
		scope += "-access"
	}
	return "kuayang-audit-" + unsafeName.ReplaceAllString(scope, "-") + ".csv"
}

// actorNames adds to names the names of the accounts and participants of
// entries not there yet, keyed kind:id. Unknown actors (deleted, or the
// system) get none.
func (s *Server) actorNames(ctx context.Context, entries []*audit.Entry, names map[string]string) {
	for _, e := range entries {
		k := e.ActorKind + ":" + e.ActorID
		if _, done := names[k]; done || e.ActorID == "" {
			continue
		}
		names[k] = ""
		switch e.ActorKind {
		case audit.ActorAccount:
			if a, err := s.Store.Account(ctx, e.ActorID); err == nil {
				names[k] = a.Name
			}
		case audit.ActorParticipant:
			if p, err := s.Store.Participant(ctx, e.ActorID); err == nil {
				names[k] = p.DisplayName
			}
		}
	}
}
