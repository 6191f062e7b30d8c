package test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
	"time"

	"github.com/kuayang/kuayang/internal/audit"
	"github.com/kuayang/kuayang/internal/auth"
	"github.com/kuayang/kuayang/internal/cases"
	"github.com/kuayang/kuayang/internal/config"
	"github.com/kuayang/kuayang/internal/store"
)

// apiClient calls the REST API as one logged-in account (bearer token).
type apiClient struct {
	t     *testing.T
	base  string
	token string
}

func (c *apiClient) do(method, path string, body any) (int, map[string]any) {
	c.t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, c.base+path, rd)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	var out map[string]any
	raw, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(raw, &out)
	return resp.StatusCode, out
}

// world is two organizations with an account of every staff role each.
type world struct {
	n        *testNode
	orgs     [2]*cases.Org
	password string
	emails   [2]map[cases.Role]string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	n := startNode(t)
	ctx := context.Background()
	w := &world{n: n, password: "correct horse battery"}
	hash, err := auth.HashPassword(w.password)
	if err != nil {
		t.Fatal(err)
	}
	for i, name := range []string{"Wencheng Notary Office", "Milan Service Center"} {
		o := &cases.Org{ID: store.NewID(), Name: name, CreatedAt: time.Now().UTC()}
		if err := n.Store().CreateOrg(ctx, o); err != nil {
			t.Fatal(err)
		}
		w.orgs[i] = o
		w.emails[i] = map[cases.Role]string{}
		for _, r := range auth.StaffRoles {
			email := fmt.Sprintf("%s%d@example.org", r, i)
			a := &cases.Account{ID: store.NewID(), OrgID: o.ID, Email: email, Name: string(r), Role: r,
				PasswordHash: hash, CreatedAt: time.Now().UTC()}
			if err := n.Store().CreateAccount(ctx, a); err != nil {
				t.Fatal(err)
			}
			w.emails[i][r] = email
		}
	}
	return w
}

// login logs in the account of role in org i and returns a client.
func (w *world) login(t *testing.T, i int, r cases.Role) *apiClient {
	t.Helper()
	c := &apiClient{t: t, base: w.n.URL()}
	status, out := c.do("POST", "/api/v1/login", map[string]string{"email": w.emails[i][r], "password": w.password})
	if status != http.StatusOK {
		t.Fatalf("login %s: %d %v", w.emails[i][r], status, out)
	}
	c.token = out["token"].(string)
	return c
}

// fixtures of one organization: a case, a session, an invite.
type fixtures struct{ caseID, sessionID, inviteID string }

func (w *world) fixtures(t *testing.T, i int) fixtures {
	t.Helper()
	c := w.login(t, i, cases.RoleClerk)
	status, cs := c.do("POST", "/api/v1/cases", map[string]any{"kind": "mediation", "number": fmt.Sprintf("(2026)浙0328民调%d号", 100+i), "title": "Lease dispute"})
	if status != http.StatusCreated {
		t.Fatalf("create case: %d %v", status, cs)
	}
	var f fixtures
	f.caseID = cs["id"].(string)
	status, ss := c.do("POST", "/api/v1/cases/"+f.caseID+"/sessions", map[string]any{"title": "Joint", "scheduled_start": "2026-12-01T14:00:00+08:00", "time_zone": "Asia/Shanghai"})
	if status != http.StatusCreated {
		t.Fatalf("create session: %d %v", status, ss)
	}
	f.sessionID = ss["id"].(string)
	status, inv := c.do("POST", "/api/v1/sessions/"+f.sessionID+"/invites", map[string]any{"name": "陈伟", "role": "party", "language": "it"})
	if status != http.StatusCreated {
		t.Fatalf("create invite: %d %v", status, inv)
	}
	f.inviteID = inv["id"].(string)
	return f
}

func TestAuthorizationMatrix(t *testing.T) {
	w := newWorld(t)
	own, other := w.fixtures(t, 0), w.fixtures(t, 1)
	type route struct {
		name   string
		method string
		path   func(f fixtures) string
		body   func() any
		ok     int
		// roles allowed; nil means every staff role
		roles []cases.Role
		// scoped routes name a resource: another organization's is 404
		scoped bool
	}
	n := 0
	newCase := func() any { n++; return map[string]any{"kind": "hearing", "number": fmt.Sprint("M-", n), "title": "t"} }
	newSession := func() any {
		return map[string]any{"title": "s", "scheduled_start": "2026-12-01T09:00:00+01:00", "time_zone": "Europe/Rome"}
	}
	newInvite := func() any { return map[string]any{"name": "Lin Mei", "role": "interpreter"} }
	routes := []route{
		{"me", "GET", func(fixtures) string { return "/api/v1/me" }, nil, 200, nil, false},
		{"create case", "POST", func(fixtures) string { return "/api/v1/cases" }, newCase, 201, nil, false},
		{"search cases", "GET", func(fixtures) string { return "/api/v1/cases?q=Lease" }, nil, 200, nil, false},
		{"get case", "GET", func(f fixtures) string { return "/api/v1/cases/" + f.caseID }, nil, 200, nil, true},
		{"create session", "POST", func(f fixtures) string { return "/api/v1/cases/" + f.caseID + "/sessions" }, newSession, 201, nil, true},
		{"get session", "GET", func(f fixtures) string { return "/api/v1/sessions/" + f.sessionID }, nil, 200, nil, true},
		{"create invite", "POST", func(f fixtures) string { return "/api/v1/sessions/" + f.sessionID + "/invites" }, newInvite, 201, nil, true},
		{"revoke invite", "DELETE", func(f fixtures) string { return "/api/v1/invites/" + f.inviteID }, nil, 204, nil, true},
		{"audit of case", "GET", func(f fixtures) string { return "/api/v1/audit?case_id=" + f.caseID }, nil, 200, []cases.Role{cases.RoleAdmin, cases.RoleClerk}, true},
		{"audit of session", "GET", func(f fixtures) string { return "/api/v1/audit?session_id=" + f.sessionID }, nil, 200, []cases.Role{cases.RoleAdmin, cases.RoleClerk}, true},
		// The clerk's desk. The fixtures' session has no recording yet:
		// its recording routes answer 404 no_recording (okCodes), another
		// organization's 404 not_found.
		{"search with filters", "GET", func(fixtures) string {
			return "/api/v1/cases?q=%E9%99%88&from=2026-01-01&to=2035-12-31&sort=last_session&order=asc&limit=10"
		}, nil, 200, nil, false},
		{"presiders", "GET", func(fixtures) string { return "/api/v1/presiders" }, nil, 200, nil, false},
		{"recordings", "GET", func(f fixtures) string { return "/api/v1/sessions/" + f.sessionID + "/recordings" }, nil, 404, nil, true},
		{"play", "GET", func(f fixtures) string { return "/api/v1/sessions/" + f.sessionID + "/recordings?play=1" }, nil, 404, nil, true},
		{"segment", "GET", func(f fixtures) string { return "/api/v1/sessions/" + f.sessionID + "/segments/p/0" }, nil, 404, nil, true},
		{"timeline", "GET", func(f fixtures) string { return "/api/v1/sessions/" + f.sessionID + "/timeline" }, nil, 200, nil, true},
		{"verify", "POST", func(f fixtures) string { return "/api/v1/sessions/" + f.sessionID + "/verify" }, nil, 404, nil, true},
		{"certificate", "GET", func(f fixtures) string { return "/api/v1/sessions/" + f.sessionID + "/certificate" }, nil, 404, []cases.Role{cases.RoleAdmin, cases.RoleClerk}, true},
		{"bundle", "GET", func(f fixtures) string { return "/api/v1/sessions/" + f.sessionID + "/bundle" }, nil, 404, []cases.Role{cases.RoleAdmin, cases.RoleClerk}, true},
		{"legal hold", "POST", func(f fixtures) string { return "/api/v1/sessions/" + f.sessionID + "/legal-hold" }, func() any { return map[string]bool{"on": true} }, 404, []cases.Role{cases.RoleAdmin, cases.RoleClerk}, true},
		{"audit csv of case", "GET", func(f fixtures) string { return "/api/v1/audit?format=csv&case_id=" + f.caseID }, nil, 200, []cases.Role{cases.RoleAdmin, cases.RoleClerk}, true},
		{"access log of session", "GET", func(f fixtures) string { return "/api/v1/audit?access=1&session_id=" + f.sessionID }, nil, 200, []cases.Role{cases.RoleAdmin, cases.RoleClerk}, true},
		{"office hours", "GET", func(fixtures) string { return "/api/v1/org/hours" }, nil, 200, nil, false},
		{"set office hours", "PUT", func(fixtures) string { return "/api/v1/org/hours" }, func() any {
			return map[string]any{"time_zone": "Asia/Shanghai", "slot_minutes": 30, "weekly": map[string][]string{"mon": {"14:00-22:00"}}}
		}, 200, []cases.Role{cases.RoleAdmin}, false},
		// Identity verification outside the call: every staff member reads
		// whether it is required, only admins get the checks with it
		// (TestIdentityStaffView) and the images.
		{"identity checks", "GET", func(f fixtures) string { return "/api/v1/sessions/" + f.sessionID + "/identity" }, nil, 200, nil, true},
		{"identity image", "GET", func(f fixtures) string { return "/api/v1/sessions/" + f.sessionID + "/identity/checks/x/images/0" }, nil, 404, []cases.Role{cases.RoleAdmin}, true},
		{"identity required", "PUT", func(f fixtures) string { return "/api/v1/sessions/" + f.sessionID + "/identity" }, func() any { return map[string]bool{"required": true} }, 200, nil, true},
		{"identity policy", "GET", func(fixtures) string { return "/api/v1/identity/policy" }, nil, 200, nil, false},
		{"set identity policy", "PUT", func(fixtures) string { return "/api/v1/identity/policy" }, func() any { return map[string]any{"image_retention_days": 30} }, 200, []cases.Role{cases.RoleAdmin}, false},
	}
	okCodes := map[string]string{"recordings": "no_recording", "play": "no_recording", "verify": "no_recording",
		"certificate": "no_recording", "bundle": "no_recording", "legal hold": "no_recording", "segment": "no_segment"}
	allowed := func(rt route, r cases.Role) bool {
		if rt.roles == nil {
			return true
		}
		for _, x := range rt.roles {
			if x == r {
				return true
			}
		}
		return false
	}
	anon := &apiClient{t: t, base: w.n.URL()}
	// One login per role for every route: a login is an argon2id hash
	// check, the slowest thing here.
	clients := map[cases.Role]*apiClient{}
	for _, rt := range routes {
		var body any
		if rt.body != nil {
			body = rt.body()
		}
		if status, _ := anon.do(rt.method, rt.path(own), body); status != http.StatusUnauthorized {
			t.Errorf("%s without login: %d, want 401", rt.name, status)
		}
		for _, role := range auth.StaffRoles {
			c := clients[role]
			if c == nil {
				c = w.login(t, 0, role)
				clients[role] = c
			}
			for _, target := range []struct {
				name string
				f    fixtures
			}{{"own", own}, {"other", other}} {
				if target.name == "other" && !rt.scoped {
					continue
				}
				want := rt.ok
				switch {
				case !allowed(rt, role):
					want = http.StatusForbidden
				case target.name == "other":
					want = http.StatusNotFound
				}
				if rt.body != nil {
					body = rt.body()
				}
				status, out := c.do(rt.method, rt.path(target.f), body)
				if status != want {
					t.Errorf("%s as %s on %s organization: %d %v, want %d", rt.name, role, target.name, status, out, want)
				}
				wantCode := ""
				switch {
				case want == http.StatusNotFound && target.name == "other":
					wantCode = "not_found"
				case want == rt.ok:
					wantCode = okCodes[rt.name]
				}
				if got := errCode(out); status == want && wantCode != "" && got != wantCode {
					t.Errorf("%s as %s on %s organization: code %q, want %q", rt.name, role, target.name, got, wantCode)
				}
			}
		}
	}
	// Another organization's case never shows in a search.
	c := w.login(t, 0, cases.RoleClerk)
	// The header of the staff pages names the account's organization.
	if _, out := c.do("GET", "/api/v1/me", nil); out["account"].(map[string]any)["org_name"] != w.orgs[0].Name {
		t.Errorf("me: organization name %v, want %q", out["account"], w.orgs[0].Name)
	}
	if _, out := c.do("GET", "/api/v1/cases?q=%E6%B5%990328", nil); out["total"] != float64(1) {
		t.Errorf("search across organizations: %v", out)
	}
}

func TestLoginCookieCSRFAndLogout(t *testing.T) {
	w := newWorld(t)
	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar}
	post := func(path, body, csrf string) (*http.Response, map[string]any) {
		req, _ := http.NewRequest("POST", w.n.URL()+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if csrf != "" {
			req.Header.Set("X-CSRF-Token", csrf)
		}
		resp, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out map[string]any
		_ = json.NewDecoder(resp.Body).Decode(&out)
		return resp, out
	}
	resp, out := post("/api/v1/login", fmt.Sprintf(`{"email":%q,"password":%q}`, strings.ToUpper(w.emails[0][cases.RoleMediator]), w.password), "")
	if resp.StatusCode != 200 {
		t.Fatalf("login: %d %v", resp.StatusCode, out)
	}
	var cookie *http.Cookie
	for _, c := range resp.Cookies() {
		if c.Name == "kuayang_login" {
			cookie = c
		}
	}
	if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode {
		t.Fatalf("login cookie %+v", cookie)
	}
	csrf := out["csrf_token"].(string)
	body := `{"kind":"mediation","number":"C-1","title":"Cookie case"}`
	if resp, out := post("/api/v1/cases", body, ""); resp.StatusCode != 403 || out["error"].(map[string]any)["code"] != "csrf" {
		t.Fatalf("cookie write without CSRF header: %d %v", resp.StatusCode, out)
	}
	if resp, out := post("/api/v1/cases", body, "wrong"); resp.StatusCode != 403 {
		t.Fatalf("cookie write with wrong CSRF header: %d %v", resp.StatusCode, out)
	}
	if resp, out := post("/api/v1/cases", body, csrf); resp.StatusCode != 201 {
		t.Fatalf("cookie write with CSRF header: %d %v", resp.StatusCode, out)
	}
	if resp, _ := post("/api/v1/logout", "", csrf); resp.StatusCode != 204 {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	resp2, err := hc.Get(w.n.URL() + "/api/v1/me")
	if err != nil {
		t.Fatal(err)
	}
	resp2.Body.Close()
	if resp2.StatusCode != 401 {
		t.Fatalf("after logout: %d", resp2.StatusCode)
	}
}

func TestLoginFailuresAreLimitedAndAudited(t *testing.T) {
	w := newWorld(t)
	c := &apiClient{t: t, base: w.n.URL()}
	email := w.emails[0][cases.RoleNotary]
	for i := 0; i < 10; i++ {
		if status, out := c.do("POST", "/api/v1/login", map[string]string{"email": email, "password": "wrong"}); status != 401 || out["error"].(map[string]any)["code"] != "bad_credentials" {
			t.Fatalf("attempt %d: %d %v", i, status, out)
		}
	}
	status, out := c.do("POST", "/api/v1/login", map[string]string{"email": email, "password": w.password})
	if status != http.StatusTooManyRequests || out["error"].(map[string]any)["code"] != "rate_limited" {
		t.Fatalf("11th attempt, right password: %d %v", status, out)
	}
	if status, _ := c.do("POST", "/api/v1/login", map[string]string{"email": "nobody@example.org", "password": "x"}); status != http.StatusTooManyRequests {
		t.Fatalf("same IP, other email: %d, want 429", status)
	}
	entries, err := w.n.Store().AuditEntries(context.Background(), auditFilterAll())
	if err != nil {
		t.Fatal(err)
	}
	failed := 0
	for _, e := range entries {
		if e.Action == "login.failed" {
			failed++
		}
	}
	if failed != 10 {
		t.Fatalf("%d login.failed entries, want 10", failed)
	}
}

func TestAPIBadInput(t *testing.T) {
	w := newWorld(t)
	f := w.fixtures(t, 0)
	c := w.login(t, 0, cases.RoleMediator)
	raw := func(method, path, body string) (int, string) {
		req, _ := http.NewRequest(method, w.n.URL()+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+c.token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var out struct {
			Error struct{ Code, Message string } `json:"error"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&out)
		if out.Error.Code != "" && out.Error.Message == "" {
			t.Errorf("%s %s: error without message", method, path)
		}
		return resp.StatusCode, out.Error.Code
	}
	for _, tc := range []struct {
		name, method, path, body string
		status                   int
		code                     string
	}{
		{"malformed json", "POST", "/api/v1/cases", `{"kind":`, 400, "bad_request"},
		{"wrong type", "POST", "/api/v1/cases", `{"kind":"mediation","number":7,"title":"x"}`, 400, "bad_request"},
		{"unknown field", "POST", "/api/v1/cases", `{"kind":"mediation","number":"7","title":"x","org_id":"other"}`, 400, "bad_request"},
		{"unknown kind", "POST", "/api/v1/cases", `{"kind":"divorce","number":"7","title":"x"}`, 400, "invalid"},
		{"empty title", "POST", "/api/v1/cases", `{"kind":"mediation","number":"7","title":"  "}`, 400, "invalid"},
		{"huge body", "POST", "/api/v1/cases", `{"kind":"mediation","number":"7","title":"` + strings.Repeat("x", 70<<10) + `"}`, 413, "too_large"},
		{"trailing data", "POST", "/api/v1/cases", `{"kind":"mediation","number":"8","title":"x"} {}`, 400, "bad_request"},
		{"duplicate number", "POST", "/api/v1/cases", `{"kind":"mediation","number":"(2026)浙0328民调100号","title":"x"}`, 409, "duplicate_number"},
		{"sql in search", "GET", "/api/v1/cases?q=%27%3B%20DROP%20TABLE%20cases%3B--", "", 200, ""},
		{"bad limit", "GET", "/api/v1/cases?limit=-1", "", 400, "invalid"},
		{"unknown case", "GET", "/api/v1/cases/does-not-exist", "", 404, "not_found"},
		{"unknown session", "GET", "/api/v1/sessions/nope", "", 404, "not_found"},
		{"unknown invite", "DELETE", "/api/v1/invites/nope", "", 404, "not_found"},
		{"bad zone", "POST", "/api/v1/cases/" + f.caseID + "/sessions", `{"title":"s","scheduled_start":"2026-12-01T09:00:00Z","time_zone":"Mars/Olympus"}`, 400, "invalid"},
		{"bad time", "POST", "/api/v1/cases/" + f.caseID + "/sessions", `{"title":"s","scheduled_start":"tomorrow","time_zone":"Europe/Rome"}`, 400, "bad_request"},
		{"end before start", "POST", "/api/v1/cases/" + f.caseID + "/sessions", `{"title":"s","scheduled_start":"2026-12-01T09:00:00Z","scheduled_end":"2026-12-01T08:00:00Z","time_zone":"Europe/Rome"}`, 400, "invalid"},
		{"bad role", "POST", "/api/v1/sessions/" + f.sessionID + "/invites", `{"name":"x","role":"admin"}`, 400, "invalid"},
		{"unknown route", "GET", "/api/v1/nothing", "", 404, "not_found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, code := raw(tc.method, tc.path, tc.body)
			if status != tc.status || code != tc.code {
				t.Fatalf("got %d %q, want %d %q", status, code, tc.status, tc.code)
			}
		})
	}
	// Nothing was harmed: the case is still found.
	if _, out := c.do("GET", "/api/v1/cases?q=Lease", nil); out["total"] != float64(1) {
		t.Fatalf("search after bad input: %v", out)
	}
}

func TestInviteFromAPIJoinsAndIsAudited(t *testing.T) {
	w := newWorld(t)
	c := w.login(t, 0, cases.RoleNotary)
	_, cs := c.do("POST", "/api/v1/cases", map[string]any{"kind": "notarization", "number": "N-1", "title": "Power of attorney"})
	caseID := cs["id"].(string)
	if _, out := c.do("GET", "/api/v1/cases?mine=1", nil); out["total"] != float64(1) {
		t.Fatalf("the notary's own cases: %v", out)
	}
	if _, out := w.login(t, 0, cases.RoleJudge).do("GET", "/api/v1/cases?mine=1", nil); out["total"] != float64(0) {
		t.Fatalf("the judge's own cases: %v", out)
	}
	if status, out := c.do("POST", "/api/v1/cases/"+caseID+"/sessions", map[string]any{"title": "s", "scheduled_start": "2026-12-01T09:00:00Z", "time_zone": "Asia/Shanghai", "record": false}); status != 400 || out["error"].(map[string]any)["code"] != "recording_required" {
		t.Fatalf("unrecorded notarization: %d %v", status, out)
	}
	_, ss := c.do("POST", "/api/v1/cases/"+caseID+"/sessions", map[string]any{"title": "Signing", "scheduled_start": "2026-12-01T09:00:00Z", "time_zone": "Asia/Shanghai"})
	if ss["record"] != true {
		t.Fatalf("session %v", ss)
	}
	sid := ss["id"].(string)
	_, inv := c.do("POST", "/api/v1/sessions/"+sid+"/invites", map[string]any{"name": "Chen Wei", "role": "party", "language": "it"})
	url := inv["url"].(string)
	if !strings.HasPrefix(url, w.n.URL()+"/join/") {
		t.Fatalf("invite url %q", url)
	}
	invite := url[strings.LastIndex(url, "/")+1:]
	var a joinAnswer
	if status, raw := postJSON(t, w.n.URL()+"/api/v1/join", map[string]string{"invite": invite}, &a); status != 200 || a.Participant.Name != "Chen Wei" {
		t.Fatalf("join with API invite: %d %s", status, raw)
	}
	if status, _ := c.do("DELETE", "/api/v1/invites/"+inv["id"].(string), nil); status != 204 {
		t.Fatalf("revoke: %d", status)
	}
	if status, _ := postJSON(t, w.n.URL()+"/api/v1/join", map[string]string{"invite": invite}, nil); status != http.StatusGone {
		t.Fatalf("join with revoked invite: %d", status)
	}
	clerk := w.login(t, 0, cases.RoleClerk)
	_, out := clerk.do("GET", "/api/v1/audit?case_id="+caseID, nil)
	var actions []string
	for _, e := range out["entries"].([]any) {
		actions = append(actions, e.(map[string]any)["action"].(string))
	}
	got := strings.Join(actions, " ")
	if got != "case.create session.create invite.create invite.revoke" {
		t.Fatalf("audit of the case: %q", got)
	}
}

func auditFilterAll() audit.Filter { return audit.Filter{Limit: 10000} }

func TestAuditRecordsClientAddressBehindTrustedProxy(t *testing.T) {
	for _, tc := range []struct {
		name    string
		trusted []string
		want    string
	}{
		{"trusted proxy", []string{"127.0.0.1"}, "198.51.100.7"},
		{"no trusted proxy", nil, "127.0.0.1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			n := startNode(t, func(c *config.Config) { c.TrustedProxies = tc.trusted })
			acc := n.demo.Accounts[1]
			req, _ := http.NewRequest("POST", n.URL()+"/api/v1/login", strings.NewReader(fmt.Sprintf(`{"email":%q,"password":%q}`, acc.Email, acc.Password)))
			req.Header.Set("X-Forwarded-For", "198.51.100.7")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != 200 {
				t.Fatalf("login: %d", resp.StatusCode)
			}
			entries, err := n.Store().AuditEntries(context.Background(), auditFilterAll())
			if err != nil || len(entries) == 0 {
				t.Fatalf("audit: %v", err)
			}
			if last := entries[len(entries)-1]; last.Action != "login" || last.IP != tc.want {
				t.Fatalf("last entry %s from %s, want login from %s", last.Action, last.IP, tc.want)
			}
		})
	}
}

// TestAPIInterpreterInvite links an interpreter to a party of the session
// and refuses links to anyone else.
func TestAPIInterpreterInvite(t *testing.T) {
	w := newWorld(t)
	f := w.fixtures(t, 0)
	c := w.login(t, 0, cases.RoleClerk)
	invite := func(body map[string]any) (int, map[string]any) {
		return c.do("POST", "/api/v1/sessions/"+f.sessionID+"/invites", body)
	}
	participantOf := func(path string, body map[string]any) string {
		t.Helper()
		status, out := c.do("POST", path, body)
		if status != http.StatusCreated {
			t.Fatalf("POST %s: %d %v", path, status, out)
		}
		return out["participant_id"].(string)
	}
	party := participantOf("/api/v1/sessions/"+f.sessionID+"/invites", map[string]any{"name": "Rossi", "role": "party", "language": "it"})
	mediator := participantOf("/api/v1/sessions/"+f.sessionID+"/invites", map[string]any{"name": "Li", "role": "mediator"})
	_, other := c.do("POST", "/api/v1/cases/"+f.caseID+"/sessions", map[string]any{"title": "Second", "scheduled_start": "2026-12-02T14:00:00+08:00", "time_zone": "Asia/Shanghai"})
	otherParty := participantOf("/api/v1/sessions/"+other["id"].(string)+"/invites", map[string]any{"name": "Bianchi", "role": "party"})

	for _, tc := range []struct {
		name string
		body map[string]any
	}{
		{"for a mediator", map[string]any{"name": "Lin", "role": "interpreter", "interprets_for": mediator}},
		{"for a party of another session", map[string]any{"name": "Lin", "role": "interpreter", "interprets_for": otherParty}},
		{"for an unknown participant", map[string]any{"name": "Lin", "role": "interpreter", "interprets_for": "nope"}},
		{"party with interprets_for", map[string]any{"name": "Lin", "role": "party", "interprets_for": party}},
	} {
		if status, out := invite(tc.body); status != http.StatusBadRequest || out["error"].(map[string]any)["code"] != "invalid" {
			t.Errorf("%s: %d %v, want 400 invalid", tc.name, status, out)
		}
	}

	status, inv := invite(map[string]any{"name": "Lin Mei", "role": "interpreter", "language": "it", "interprets_for": party})
	if status != http.StatusCreated {
		t.Fatalf("interpreter for a party: %d %v", status, inv)
	}
	interpreter := inv["participant_id"].(string)
	_, out := c.do("GET", "/api/v1/sessions/"+f.sessionID, nil)
	found := false
	for _, p := range out["session"].(map[string]any)["participants"].([]any) {
		p := p.(map[string]any)
		got, has := p["interprets_for"]
		switch {
		case p["id"] == interpreter:
			found = true
			if got != party {
				t.Errorf("session view: interpreter interprets_for = %v, want %s", got, party)
			}
		case has:
			t.Errorf("session view: participant %v has interprets_for %v", p["id"], got)
		}
	}
	if !found {
		t.Errorf("session view lacks the interpreter: %v", out)
	}

	url := inv["url"].(string)
	var a struct {
		Participant struct {
			ID            string `json:"id"`
			InterpretsFor string `json:"interprets_for"`
		} `json:"participant"`
	}
	if status, raw := postJSON(t, w.n.URL()+"/api/v1/join", map[string]string{"invite": url[strings.LastIndex(url, "/")+1:]}, &a); status != 200 || a.Participant.ID != interpreter || a.Participant.InterpretsFor != party {
		t.Fatalf("join as the interpreter: %d %s", status, raw)
	}

	entries, err := w.n.Store().AuditEntries(context.Background(), audit.Filter{SessionID: f.sessionID, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	var d map[string]any
	for _, e := range entries {
		if e.Action == "invite.create" && strings.Contains(e.Detail, interpreter) {
			_ = json.Unmarshal([]byte(e.Detail), &d)
		}
	}
	if d["interprets_for"] != party {
		t.Errorf("invite.create detail of the interpreter = %v, want interprets_for %s", d, party)
	}
}
