package test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/kuayang/kuayang/internal/auth"
	"github.com/kuayang/kuayang/internal/cases"
	"github.com/kuayang/kuayang/internal/evidence"
	"github.com/kuayang/kuayang/internal/store"
)

// get fetches path as c and returns the response (body read) and body.
func (c *apiClient) get(method, path string) (*http.Response, []byte) {
	c.t.Helper()
	req, _ := http.NewRequest(method, c.base+path, nil)
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		c.t.Fatalf("%s %s: reading the body: %v", method, path, err)
	}
	return resp, body
}

// errCode is the error code of an API answer, "" if none.
func errCode(out map[string]any) string {
	e, _ := out["error"].(map[string]any)
	code, _ := e["code"].(string)
	return code
}

// numbers lists the case numbers of a search answer.
func numbers(out map[string]any) []string {
	var ns []string
	list, _ := out["cases"].([]any)
	for _, c := range list {
		ns = append(ns, c.(map[string]any)["number"].(string))
	}
	return ns
}

// clerkDesk is an organization of the world with cases to find: their
// numbers by title, and the ids of its accounts.
type clerkDesk struct {
	w      *world
	clerk  *apiClient
	cases  map[string]string // title → id
	judge  *cases.Account
	sessID map[string]string // title → id of the case's session
}

// seedDesk creates, in organization 0 as its clerk: "Lease" (a session
// scheduled 2031-03-10 with the party Niccolò Rossi and a judge presiding),
// "Inheritance" (a session scheduled 2031-04-20 with the party 王小明), and,
// as its mediator, "Contract" (no session).
func seedDesk(t *testing.T, w *world) *clerkDesk {
	t.Helper()
	d := &clerkDesk{w: w, clerk: w.login(t, 0, cases.RoleClerk), cases: map[string]string{}, sessID: map[string]string{}}
	mk := func(c *apiClient, title, number string) {
		status, out := c.do("POST", "/api/v1/cases", map[string]any{"kind": "mediation", "number": number, "title": title})
		if status != http.StatusCreated {
			t.Fatalf("create case %s: %d %v", title, status, out)
		}
		d.cases[title] = out["id"].(string)
	}
	session := func(title, start, party, lang string) {
		status, out := d.clerk.do("POST", "/api/v1/cases/"+d.cases[title]+"/sessions",
			map[string]any{"title": "Hearing", "scheduled_start": start, "time_zone": "Europe/Rome"})
		if status != http.StatusCreated {
			t.Fatalf("create session: %d %v", status, out)
		}
		d.sessID[title] = out["id"].(string)
		status, out = d.clerk.do("POST", "/api/v1/sessions/"+d.sessID[title]+"/invites", map[string]any{"name": party, "role": "party", "language": lang})
		if status != http.StatusCreated {
			t.Fatalf("invite %s: %d %v", party, status, out)
		}
	}
	mk(d.clerk, "Lease", "(2031)浙0328民调1号")
	session("Lease", "2031-03-10T09:00:00+01:00", "Niccolò Rossi", "it")
	mk(d.clerk, "Inheritance", "(2031)浙0328民调2号")
	session("Inheritance", "2031-04-20T09:00:00+02:00", "王小明", "zh-CN")
	mk(w.login(t, 0, cases.RoleMediator), "Contract", "(2031)浙0328民调3号")
	// The judge presides over the lease hearing (staff join as account-linked
	// participants, as the demo's mediator does).
	ctx := context.Background()
	a, err := w.n.Store().AccountByEmail(ctx, w.emails[0][cases.RoleJudge])
	if err != nil {
		t.Fatal(err)
	}
	d.judge = a
	p := &cases.Participant{ID: store.NewID(), SessionID: d.sessID["Lease"], AccountID: a.ID, Role: cases.RoleJudge,
		DisplayName: "Judge", Language: "zh-CN", CreatedAt: time.Now().UTC()}
	if err := w.n.Store().CreateParticipant(ctx, p); err != nil {
		t.Fatal(err)
	}
	return d
}

func TestClerkSearch(t *testing.T) {
	w := newWorld(t)
	d := seedDesk(t, w)
	mediator, _ := w.n.Store().AccountByEmail(context.Background(), w.emails[0][cases.RoleMediator])
	search := func(query string, want ...string) map[string]any {
		t.Helper()
		status, out := d.clerk.do("GET", "/api/v1/cases?"+query, nil)
		if status != http.StatusOK {
			t.Fatalf("search %s: %d %v", query, status, out)
		}
		var titles []string
		for _, c := range out["cases"].([]any) {
			titles = append(titles, c.(map[string]any)["title"].(string))
		}
		if !slices.Equal(titles, want) {
			t.Errorf("search %s = %v, want %v", query, titles, want)
		}
		return out
	}
	q := func(s string) string { return "q=" + url.QueryEscape(s) }

	t.Run("PartyNames", func(t *testing.T) {
		for _, name := range []string{"Niccolò", "niccolò", "NICCOLÒ", "Niccolo", "rossi"} {
			search(q(name), "Lease")
		}
		search(q("王"), "Inheritance")
		search(q("王小明"), "Inheritance")
		search(q("浙0328民调2"), "Inheritance")
		search(q("王大"))
		// Another organization's clerk finds none of it.
		if _, out := w.login(t, 1, cases.RoleClerk).do("GET", "/api/v1/cases?"+q("Niccolò"), nil); out["total"] != float64(0) {
			t.Errorf("another organization's search: %v", out)
		}
	})
	t.Run("DatesAndPresider", func(t *testing.T) {
		search("from=2031-03-01&to=2031-03-31", "Lease")
		search("from=2031-03-10&to=2031-03-10", "Lease") // whole UTC days, inclusive
		search("from=2031-04-20T07:00:00Z", "Inheritance")
		search("from=2031-01-01&to=2031-12-31&"+q("王"), "Inheritance")
		search("presider="+d.judge.ID, "Lease")
		search("presider="+mediator.ID, "Contract") // created it
		search("presider=nobody")
	})
	t.Run("SortAndPaging", func(t *testing.T) {
		search("sort=title&order=asc", "Contract", "Inheritance", "Lease")
		search("sort=title", "Lease", "Inheritance", "Contract")
		search("sort=number&order=asc", "Lease", "Inheritance", "Contract")
		search("sort=last_session", "Inheritance", "Lease", "Contract") // no session: last
		search("sort=last_session&order=asc", "Lease", "Inheritance", "Contract")
		search("sort=created", "Contract", "Inheritance", "Lease")
		out := search("sort=title&order=asc&limit=1&offset=1", "Inheritance")
		if out["total"] != float64(3) || out["limit"] != float64(1) || out["offset"] != float64(1) {
			t.Errorf("page: %v", out)
		}
		var paged []string
		for off := range 3 {
			_, out := d.clerk.do("GET", fmt.Sprintf("/api/v1/cases?sort=last_session&limit=1&offset=%d", off), nil)
			paged = append(paged, numbers(out)...)
		}
		_, all := d.clerk.do("GET", "/api/v1/cases?sort=last_session", nil)
		if !slices.Equal(paged, numbers(all)) {
			t.Errorf("pages %v, all %v", paged, numbers(all))
		}
	})
	t.Run("CaseView", func(t *testing.T) {
		out := search(q("Niccolò"), "Lease")
		c := out["cases"].([]any)[0].(map[string]any)
		pr, _ := c["presiders"].([]any)
		if c["session_count"] != float64(1) || c["last_session_at"] != "2031-03-10T08:00:00Z" || len(pr) != 1 ||
			pr[0].(map[string]any)["id"] != d.judge.ID || pr[0].(map[string]any)["role"] != "judge" {
			t.Errorf("case view %v", c)
		}
		out = search(q("Contract"), "Contract")
		c = out["cases"].([]any)[0].(map[string]any)
		if c["session_count"] != float64(0) || c["last_session_at"] != nil || c["presiders"] == nil {
			t.Errorf("case without sessions %v", c)
		}
		status, page := d.clerk.do("GET", "/api/v1/cases/"+d.cases["Lease"], nil)
		parties, _ := page["parties"].([]any)
		if status != 200 || len(parties) != 1 || parties[0].(map[string]any)["name"] != "Niccolò Rossi" ||
			parties[0].(map[string]any)["language"] != "it" || page["case"].(map[string]any)["session_count"] != float64(1) {
			t.Errorf("case page %d %v", status, page)
		}
		if ss := page["sessions"].([]any)[0].(map[string]any); ss["recording"] != nil {
			t.Errorf("recording of a session never held: %v", ss["recording"])
		}
	})
	t.Run("Presiders", func(t *testing.T) {
		_, out := d.clerk.do("GET", "/api/v1/presiders", nil)
		var roles []string
		for _, p := range out["presiders"].([]any) {
			roles = append(roles, p.(map[string]any)["role"].(string))
		}
		slices.Sort(roles)
		if !slices.Equal(roles, []string{"judge", "mediator", "notary"}) {
			t.Errorf("presiders %v", out)
		}
	})
	t.Run("BadInput", func(t *testing.T) {
		for _, query := range []string{"sort=bogus", "order=up", "from=2031-04-01&to=2031-03-01", "from=soon",
			"to=2031-02-30", "limit=201", "mine=2"} {
			if status, out := d.clerk.do("GET", "/api/v1/cases?"+query, nil); status != 400 || errCode(out) != "invalid" {
				t.Errorf("search %s: %d %v, want 400 invalid", query, status, out)
			}
		}
	})
}

// TestClerkRoutesAreScoped: another organization's clerk gets 404
// not_found on every clerk route of the first organization's case and
// session, exactly as for one that does not exist.
func TestClerkRoutesAreScoped(t *testing.T) {
	w := newWorld(t)
	own := w.fixtures(t, 0)
	outsider := w.login(t, 1, cases.RoleClerk)
	for _, rt := range []struct{ method, path string }{
		{"GET", "/api/v1/cases/" + own.caseID},
		{"GET", "/api/v1/sessions/" + own.sessionID},
		{"GET", "/api/v1/sessions/" + own.sessionID + "/recordings"},
		{"GET", "/api/v1/sessions/" + own.sessionID + "/recordings?play=1"},
		{"GET", "/api/v1/sessions/" + own.sessionID + "/timeline"},
		{"POST", "/api/v1/sessions/" + own.sessionID + "/verify"},
		{"GET", "/api/v1/sessions/" + own.sessionID + "/certificate"},
		{"GET", "/api/v1/sessions/" + own.sessionID + "/bundle"},
		{"POST", "/api/v1/sessions/" + own.sessionID + "/legal-hold"},
		{"GET", "/api/v1/audit?case_id=" + own.caseID},
		{"GET", "/api/v1/audit?session_id=" + own.sessionID},
		{"GET", "/api/v1/audit?case_id=" + own.caseID + "&format=csv"},
		{"GET", "/api/v1/audit?session_id=" + own.sessionID + "&format=csv&access=1"},
	} {
		var body any
		if rt.method == "POST" && strings.HasSuffix(rt.path, "legal-hold") {
			body = map[string]bool{"on": true}
		}
		if status, out := outsider.do(rt.method, rt.path, body); status != http.StatusNotFound || errCode(out) != "not_found" {
			t.Errorf("%s %s by another organization: %d %v, want 404 not_found", rt.method, rt.path, status, out)
		}
	}
	// The organization's own clerk: the session has no recording yet.
	clerk := w.login(t, 0, cases.RoleClerk)
	for _, path := range []string{"/verify", "/certificate", "/bundle"} {
		method := "GET"
		if path == "/verify" {
			method = "POST"
		}
		if status, out := clerk.do(method, "/api/v1/sessions/"+own.sessionID+path, nil); status != http.StatusNotFound || errCode(out) != "no_recording" {
			t.Errorf("%s before any recording: %d %v, want 404 no_recording", path, status, out)
		}
	}
	status, tl := clerk.do("GET", "/api/v1/sessions/"+own.sessionID+"/timeline", nil)
	if lanes, _ := tl["lanes"].([]any); status != 200 || tl["source"] != "records" || len(lanes) != 1 || tl["time_zone"] != "Asia/Shanghai" {
		t.Errorf("timeline of a session not held: %d %v", status, tl)
	}
}

func TestClerkAuditCSV(t *testing.T) {
	w := newWorld(t)
	f := w.fixtures(t, 0)
	// A clerk whose name a spreadsheet would run as a formula.
	hash, _ := auth.HashPassword(w.password)
	evil := &cases.Account{ID: store.NewID(), OrgID: w.orgs[0].ID, Email: "evil@example.org", Name: "=HYPERLINK(\"http://x\",\"y\")",
		Role: cases.RoleClerk, PasswordHash: hash, CreatedAt: time.Now().UTC()}
	if err := w.n.Store().CreateAccount(context.Background(), evil); err != nil {
		t.Fatal(err)
	}
	w.emails[0]["evil"] = evil.Email
	c := w.login(t, 0, "evil")
	if status, _ := c.do("GET", "/api/v1/cases/"+f.caseID, nil); status != 200 {
		t.Fatalf("case view: %d", status)
	}
	_, listed := c.do("GET", "/api/v1/audit?case_id="+f.caseID, nil)
	want := len(listed["entries"].([]any)) + 1 // and that listing's audit.view

	resp, body := c.get("GET", "/api/v1/audit?case_id="+f.caseID+"&format=csv")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/csv; charset=utf-8" ||
		!strings.HasPrefix(resp.Header.Get("Content-Disposition"), `attachment; filename="kuayang-audit-case-`) {
		t.Fatalf("csv: %d %v %s", resp.StatusCode, resp.Header, body)
	}
	rows, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(body, []byte("\ufeff")))).ReadAll()
	if err != nil {
		t.Fatalf("the export is not CSV: %v\n%s", err, body)
	}
	if strings.Join(rows[0], ",") != "seq,time,actor_kind,actor_id,actor_name,action,case_id,session_id,ip,detail,hash" {
		t.Fatalf("header %v", rows[0])
	}
	if len(rows)-1 != want {
		t.Errorf("%d rows, want %d (the JSON listing's entries and its own audit.view)", len(rows)-1, want)
	}
	var actions []string
	for _, r := range rows[1:] {
		actions = append(actions, r[5])
		if r[3] == evil.ID && r[4] != "'"+evil.Name {
			t.Errorf("actor_name %q: the formula is not neutralized", r[4])
		}
		if _, err := strconv.ParseInt(r[0], 10, 64); err != nil || len(r[10]) != 64 || r[6] != f.caseID {
			t.Errorf("row %v", r)
		}
	}
	if actions[0] != "case.create" || !slices.Contains(actions, "case.view") || actions[len(actions)-1] != "audit.view" {
		t.Errorf("actions %v", actions)
	}
	// access=1: only accesses; the export itself is audited.
	_, body = c.get("GET", "/api/v1/audit?case_id="+f.caseID+"&format=csv&access=1")
	rows, _ = csv.NewReader(bytes.NewReader(bytes.TrimPrefix(body, []byte("\ufeff")))).ReadAll()
	for _, r := range rows[1:] {
		if !slices.Contains([]string{"case.view", "audit.view", "audit.export"}, r[5]) {
			t.Errorf("access=1 lists %s", r[5])
		}
	}
	_, out := c.do("GET", "/api/v1/audit?case_id="+f.caseID+"&access=1", nil)
	entries := out["entries"].([]any)
	if last := entries[len(entries)-1].(map[string]any); last["action"] != "audit.export" ||
		!strings.Contains(last["detail"].(string), `"access_only":true`) {
		t.Errorf("last access %v, want the export", last)
	}
	if status, out := c.do("GET", "/api/v1/audit?format=xml", nil); status != 400 || errCode(out) != "invalid" {
		t.Errorf("format=xml: %d %v", status, out)
	}
	if status, _ := w.login(t, 0, cases.RoleMediator).do("GET", "/api/v1/audit?format=csv", nil); status != http.StatusForbidden {
		t.Errorf("a mediator's export: %d, want 403", status)
	}
}

// TestClerkDeskOnARecordedSession records a short call and checks the
// clerk's routes on it: timeline while live and once sealed, playback
// audit, the integrity check before and after a stored segment is
// tampered with, the certificate and the bundle's Content-Length.
func TestClerkDeskOnARecordedSession(t *testing.T) {
	media := realClip(t)
	n := startNode(t, recordingConfig("", ""))
	sid := n.demo.SessionID
	clerk := staffClient(t, n.URL(), demoAccounts(n), "clerk")
	a := connectTo(t, n.URL(), n.invite(t, 1), media)
	b := connectTo(t, n.URL(), n.invite(t, 2), media)
	flowing(t, a, 30, b)

	status, live := clerk.do("GET", "/api/v1/sessions/"+sid+"/timeline", nil)
	if status != 200 || live["source"] != "records" {
		t.Fatalf("live timeline: %d %v", status, live)
	}
	if lane := laneOf(t, live, a.self); len(lane["presence"].([]any)) != 1 || lane["speaking"] == nil {
		t.Errorf("live lane %v", lane)
	}
	if !hasMark(live, "consent", a.self) || !hasMark(live, "join", b.self) {
		t.Errorf("live marks %v", live["marks"])
	}
	if status, out := clerk.do("POST", "/api/v1/sessions/"+sid+"/verify", nil); status != http.StatusConflict || errCode(out) != "not_sealed" {
		t.Errorf("verify while recording: %d %v", status, out)
	}
	time.Sleep(5 * time.Second)
	a.leave(t)
	b.leave(t)
	waitSealed(t, clerk, sid, 60*time.Second)

	checkSealedTimeline(t, clerk, sid, a.self, b.self)
	checkCasePageRecording(t, clerk, n)
	checkPlayAudited(t, clerk, sid)
	checkCertificate(t, clerk, staffClient(t, n.URL(), demoAccounts(n), "mediator"), sid)
	checkBundleLength(t, clerk, sid)
	checkVerifyAndTamper(t, clerk, n)
}

func laneOf(t *testing.T, tl map[string]any, pid string) map[string]any {
	t.Helper()
	for _, l := range tl["lanes"].([]any) {
		if l := l.(map[string]any); l["participant_id"] == pid {
			return l
		}
	}
	t.Fatalf("no lane of %s in %v", pid, tl["lanes"])
	return nil
}

func hasMark(tl map[string]any, kind, pid string) bool {
	for _, m := range tl["marks"].([]any) {
		if m := m.(map[string]any); m["kind"] == kind && (pid == "" || m["participant_id"] == pid) {
			return true
		}
	}
	return false
}

func checkSealedTimeline(t *testing.T, clerk *apiClient, sid string, pids ...string) {
	t.Helper()
	status, tl := clerk.do("GET", "/api/v1/sessions/"+sid+"/timeline", nil)
	if status != 200 || tl["source"] != "manifest" || tl["start"] == nil || tl["end"] == nil {
		t.Fatalf("sealed timeline: %d %v", status, tl)
	}
	for _, pid := range pids {
		lane := laneOf(t, tl, pid)
		if len(lane["segments"].([]any)) == 0 || len(lane["presence"].([]any)) == 0 {
			t.Errorf("lane of %s: %v", pid, lane)
		}
		if !hasMark(tl, "leave", pid) {
			t.Errorf("no leave of %s", pid)
		}
	}
	if !hasMark(tl, "recording.start", "") || !hasMark(tl, "session.end", "") {
		t.Errorf("marks %v", tl["marks"])
	}
}

func checkCasePageRecording(t *testing.T, clerk *apiClient, n *testNode) {
	t.Helper()
	_, page := clerk.do("GET", "/api/v1/cases/"+n.demo.CaseID, nil)
	for _, s := range page["sessions"].([]any) {
		s := s.(map[string]any)
		if s["id"] != n.demo.SessionID {
			continue
		}
		rec, _ := s["recording"].(map[string]any)
		if rec["state"] != "sealed" || rec["sealed_at"] == nil || rec["retain_until"] == nil || rec["gap_count"] == nil || rec["legal_hold"] != false {
			t.Errorf("recording on the case page: %v", s["recording"])
		}
		return
	}
	t.Errorf("the demo session is not on its case page: %v", page)
}

func checkPlayAudited(t *testing.T, clerk *apiClient, sid string) {
	t.Helper()
	status, rec := clerk.do("GET", "/api/v1/sessions/"+sid+"/recordings?play=1", nil)
	if status != 200 || len(rec["participants"].([]any)) == 0 {
		t.Fatalf("play: %d %v", status, rec)
	}
	seg := rec["participants"].([]any)[0].(map[string]any)["segments"].([]any)[0].(map[string]any)
	for _, k := range []string{"wall_start", "wall_end", "media_start", "media_end", "url"} {
		if seg[k] == nil {
			t.Errorf("segment without %s: %v", k, seg)
		}
	}
	_, out := clerk.do("GET", "/api/v1/audit?session_id="+sid+"&access=1", nil)
	var actions []string
	for _, e := range out["entries"].([]any) {
		actions = append(actions, e.(map[string]any)["action"].(string))
	}
	for _, want := range []string{"recording.timeline", "recording.play", "recording.view"} {
		if !slices.Contains(actions, want) {
			t.Errorf("access log %v lacks %s", actions, want)
		}
	}
}

func checkCertificate(t *testing.T, clerk, mediator *apiClient, sid string) {
	t.Helper()
	_, rec := clerk.do("GET", "/api/v1/sessions/"+sid+"/recordings", nil)
	resp, body := clerk.get("GET", "/api/v1/sessions/"+sid+"/certificate")
	page := string(body)
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" ||
		!strings.Contains(resp.Header.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Fatalf("certificate: %d %v\n%s", resp.StatusCode, resp.Header, body)
	}
	for _, want := range []string{"/static/certificate.css", "(2026)浙0328民调0001号", rec["manifest_sha256"].(string),
		rec["chain_head"].(string), rec["key_id"].(string), "kuayang verify kuayang-", "Asia/Shanghai", "Hu Jing"} {
		if !strings.Contains(page, want) {
			t.Errorf("the certificate lacks %q", want)
		}
	}
	if strings.Contains(page, "<script") {
		t.Error("the certificate has a script")
	}
	// The stylesheet is served under the page's policy.
	if r, err := http.Get(clerk.base + "/static/certificate.css"); err != nil || r.StatusCode != 200 {
		t.Errorf("stylesheet: %v %v", r, err)
	} else {
		r.Body.Close()
	}
	if status, _ := mediator.do("GET", "/api/v1/sessions/"+sid+"/certificate", nil); status != http.StatusForbidden {
		t.Errorf("a mediator's certificate: %d, want 403", status)
	}
}

func checkBundleLength(t *testing.T, clerk *apiClient, sid string) {
	t.Helper()
	resp, body := clerk.get("GET", "/api/v1/sessions/"+sid+"/bundle")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Length") != strconv.Itoa(len(body)) || resp.ContentLength != int64(len(body)) {
		t.Fatalf("bundle: %d, Content-Length %q, body %d bytes", resp.StatusCode, resp.Header.Get("Content-Length"), len(body))
	}
	if _, err := zip.NewReader(bytes.NewReader(body), int64(len(body))); err != nil {
		t.Fatalf("the bundle is not a zip: %v", err)
	}
	head, _ := clerk.get("HEAD", "/api/v1/sessions/"+sid+"/bundle")
	if head.Header.Get("Content-Length") != strconv.Itoa(len(body)) {
		t.Errorf("HEAD Content-Length %q, want %d", head.Header.Get("Content-Length"), len(body))
	}
}

// checkVerifyAndTamper checks the stored recording, then alters stored
// segment objects one way at a time: each is reported with its code, and
// the restored recording is intact again.
func checkVerifyAndTamper(t *testing.T, clerk *apiClient, n *testNode) {
	t.Helper()
	sid := n.demo.SessionID
	path := "/api/v1/sessions/" + sid + "/verify"
	status, v := clerk.do("POST", path, nil)
	if status != 200 || v["ok"] != true || v["problem"] != nil || !strings.HasPrefix(v["summary"].(string), "intact, signed by key ") {
		t.Fatalf("verify: %d %v", status, v)
	}
	_, rec := clerk.do("GET", "/api/v1/sessions/"+sid+"/recordings", nil)
	segs, total := 0, 0.0
	var keys []string
	for _, p := range rec["participants"].([]any) {
		for _, s := range p.(map[string]any)["segments"].([]any) {
			segs++
			total += s.(map[string]any)["bytes"].(float64)
			keys = append(keys, s.(map[string]any)["key"].(string))
		}
	}
	if v["segments_checked"] != float64(segs) || v["bytes_checked"] != total || v["manifest_sha256"] != rec["manifest_sha256"] ||
		v["key_id"] != rec["key_id"] || v["chain_head"] != rec["chain_head"] || len(v["key_fingerprint"].(string)) != 64 || v["node"] == "" {
		t.Errorf("verify %v against recording %v (%d segments, %.0f bytes)", v, rec, segs, total)
	}
	objects := filepath.Join(n.dir, "objects")
	file := func(key string) string { return filepath.Join(objects, filepath.FromSlash(key)) }
	meta := func(key string) string { return filepath.Join(objects, ".meta", filepath.FromSlash(key)+".json") }
	for _, tc := range []struct {
		name string
		do   func() (undo func())
		code string
	}{
		{"flipped byte", func() func() {
			orig := rewrite(t, file(keys[0]), func(b []byte) []byte { b[len(b)/2] ^= 1; return b })
			return func() { rewrite(t, file(keys[0]), func([]byte) []byte { return orig }) }
		}, string(evidence.HashMismatch)},
		{"truncated object", func() func() {
			orig := rewrite(t, file(keys[1]), func(b []byte) []byte { return b[:len(b)-10] })
			return func() { rewrite(t, file(keys[1]), func([]byte) []byte { return orig }) }
		}, string(evidence.SizeMismatch)},
		{"removed object", func() func() {
			hide(t, file(keys[0]), meta(keys[0]))
			return func() { unhide(t, file(keys[0]), meta(keys[0])) }
		}, string(evidence.MissingFile)},
		{"altered manifest", func() func() {
			key := "sessions/" + sid + "/manifest.json"
			orig := rewrite(t, file(key), func(b []byte) []byte { return bytes.Replace(b, []byte(`"node"`), []byte(`"node" `), 1) })
			return func() { rewrite(t, file(key), func([]byte) []byte { return orig }) }
		}, string(evidence.BadSignature)},
	} {
		undo := tc.do()
		status, v := clerk.do("POST", path, nil)
		undo()
		problem, _ := v["problem"].(map[string]any)
		t.Logf("%s: %s", tc.name, v["summary"])
		if status != 200 || v["ok"] != false || problem["code"] != tc.code || problem["detail"] == "" ||
			!strings.HasPrefix(v["summary"].(string), "not intact: ") {
			t.Errorf("%s: verify %d %v, want problem %s", tc.name, status, v, tc.code)
		}
	}
	if status, v := clerk.do("POST", path, nil); status != 200 || v["ok"] != true {
		t.Errorf("restored: verify %d %v", status, v)
	}
	_, out := clerk.do("GET", "/api/v1/audit?session_id="+sid+"&access=1", nil)
	results := map[string]int{}
	for _, e := range out["entries"].([]any) {
		e := e.(map[string]any)
		if e["action"] == "recording.verify" {
			var d struct {
				OK      bool   `json:"ok"`
				Problem string `json:"problem"`
			}
			_ = json.Unmarshal([]byte(e["detail"].(string)), &d)
			results[fmt.Sprint(d.OK, d.Problem)]++
		}
	}
	if results["true"] != 2 || results["false"+string(evidence.HashMismatch)] != 1 {
		t.Errorf("verify audit %v", results)
	}
}

// rewrite replaces a stored (read-only) file with edit of its content and
// returns the original.
func rewrite(t *testing.T, path string, edit func([]byte) []byte) []byte {
	t.Helper()
	orig, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, edit(bytes.Clone(orig)), 0o644); err != nil {
		t.Fatal(err)
	}
	return orig
}

// hide moves files aside; unhide puts them back.
func hide(t *testing.T, paths ...string) {
	t.Helper()
	for _, p := range paths {
		if err := os.Rename(p, p+".hidden"); err != nil {
			t.Fatal(err)
		}
	}
}

func unhide(t *testing.T, paths ...string) {
	t.Helper()
	for _, p := range paths {
		if err := os.Rename(p+".hidden", p); err != nil {
			t.Fatal(err)
		}
	}
}
