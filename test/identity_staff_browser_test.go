package test

import (
	"bytes"
	"encoding/json"
	"image"
	"image/color"
	"image/jpeg"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/kuayang/kuayang/internal/demo"
)

// TestIdentityStaffBrowser: a party's identity check of the demo session,
// made through the call routes and verified by the mediator, seen on the
// staff pages. The admin sees the check with its decision, opens its
// images twice (the document beside the live frames; the audit log then
// holds identity.image_viewed by the admin for every image at every
// opening), stops requiring verification and
// sets the organization's identity policy; the clerk sees whether it is
// required, a note and no check or image, and the policy read-only.
func TestIdentityStaffBrowser(t *testing.T) {
	runBrowserTest(t, "TestIdentityStaffBrowser", identityStaffBrowser)
}

// testJPEG is a w×h JPEG of one shade.
func testJPEG(t *testing.T, w, h int, shade uint8) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := range h {
		for x := range w {
			img.Set(x, y, color.RGBA{shade, uint8(x), uint8(y), 255})
		}
	}
	var b bytes.Buffer
	if err := jpeg.Encode(&b, img, nil); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// callRoute sends a request to a call route of the session with a call
// token; body is JSON unless ctype says otherwise.
func callRoute(t *testing.T, n *testNode, sid, token, method, path, ctype string, body []byte) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, n.URL()+"/api/v1/call/"+sid+path, bytes.NewReader(body))
	req.Header.Set("Authorization", "Call "+token)
	if ctype == "" {
		ctype = "application/json"
	}
	req.Header.Set("Content-Type", ctype)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(raw, &m)
	return resp.StatusCode, m
}

// verifiedCheck has the demo session's first party verify their identity
// through the call routes (passport page, MRZ, a frame per liveness
// prompt) and the mediator verify it; it returns the check id.
func verifiedCheck(t *testing.T, n *testNode) string {
	t.Helper()
	sid := n.demo.SessionID
	mediatorWS, mediatorToken := joinWS(t, n, 0)
	partyWS, partyToken := joinWS(t, n, 1)
	t.Cleanup(func() { mediatorWS.Close(); partyWS.Close() })
	jsonBody := func(v any) []byte { b, _ := json.Marshal(v); return b }
	status, m := callRoute(t, n, sid, partyToken, "POST", "/identity/consent", "", jsonBody(map[string]any{"consent": true}))
	if status != http.StatusOK {
		t.Fatalf("consent: %d %v", status, m)
	}
	checkID, _ := m["id"].(string)
	steps, _ := m["challenge"].([]any)
	if status, m := callRoute(t, n, sid, partyToken, "POST", "/identity/images?kind=document_front&document_type=passport",
		"image/jpeg", testJPEG(t, 320, 224, 200)); status != http.StatusCreated {
		t.Fatalf("document upload: %d %v", status, m)
	}
	good, _ := validTD3(t)
	if status, m := callRoute(t, n, sid, partyToken, "POST", "/identity/mrz", "", jsonBody(map[string]any{"mrz": good})); status != http.StatusOK {
		t.Fatalf("MRZ: %d %v", status, m)
	}
	for i := range steps {
		if status, m := callRoute(t, n, sid, partyToken, "POST", "/identity/images?kind=face&step="+strconv.Itoa(i),
			"image/jpeg", testJPEG(t, 160, 120, uint8(40*i))); status != http.StatusCreated {
			t.Fatalf("frame %d: %d %v", i, status, m)
		}
	}
	if status, m := callRoute(t, n, sid, partyToken, "POST", "/identity/submit", "", nil); status != http.StatusOK {
		t.Fatalf("submit: %d %v", status, m)
	}
	if status, m := callRoute(t, n, sid, mediatorToken, "POST", "/identity/checks/"+checkID+"/decision", "",
		jsonBody(map[string]any{"decision": "verified", "reason": "face matches the passport"})); status != http.StatusOK {
		t.Fatalf("decision: %d %v", status, m)
	}
	return checkID
}

func demoAccount(t *testing.T, n *testNode, role string) demo.Account {
	t.Helper()
	for _, a := range n.demo.Accounts {
		if a.Role == role {
			return a
		}
	}
	t.Fatalf("no demo %s in %+v", role, n.demo.Accounts)
	return demo.Account{}
}

func identityStaffBrowser(t *testing.T) {
	n := startNode(t)
	sid := n.demo.SessionID
	mediator := staffClient(t, n.URL(), demoAccounts(n), "mediator")
	if status, out := mediator.do("PUT", "/api/v1/sessions/"+sid+"/identity", map[string]any{"required": true}); status != http.StatusOK {
		t.Fatalf("requiring identity verification: %d %v", status, out)
	}
	checkID := verifiedCheck(t, n)
	admin := staffClient(t, n.URL(), demoAccounts(n), "admin")
	_, me := admin.do("GET", "/api/v1/me", nil)
	adminID, _ := me["account"].(map[string]any)["id"].(string)

	tab := browserTabs(t, "identity-staff", 1)[0]
	session := `[data-testid="session"][data-session-id="` + sid + `"] `
	check := session + `[data-testid="identity-check"][data-check-id="` + checkID + `"]`
	tab.do("opening the staff pages", chromedp.Navigate(n.URL()+"/staff/?lang=en"))
	tab.login(demoAccount(t, n, "admin"))
	tab.do("the admin opens the case",
		chromedp.Navigate(n.URL()+"/staff/cases/"+n.demo.CaseID),
		chromedp.WaitVisible(css(check)),
	)
	if got := tab.eval("the check's row", `(() => { const r = document.querySelector(`+jsString(check)+`);
	  return [r.dataset.state, r.querySelector('[data-testid="identity-check-decision"]')?.dataset.decision,
	    r.querySelector('[data-testid="identity-check-number"]')?.textContent, r.innerText].join('|'); })()`); !strings.HasPrefix(got, "verified|verified|******2C3|") ||
		!strings.Contains(got, "face matches the passport") || !strings.Contains(got, "Presider's decision") {
		t.Errorf("the check's row: %q", got)
	}
	tab.eval("scrolling to the section", `document.querySelector(`+jsString(check)+`).scrollIntoView(), 'ok'`)
	tab.snapshot("identity-staff-session")
	// Opened twice: nothing is cached, each opening fetches (and audits)
	// every image again.
	for i := range 2 {
		tab.do("the admin opens the images",
			chromedp.Click(css(check+` [data-testid="identity-open-images"]`)),
			chromedp.WaitVisible(css(`[data-testid="identity-viewer"]`)),
			waitJS(`(() => { const imgs = [...document.querySelectorAll('[data-testid="identity-viewer-image"]')];
			  return imgs.length === 4 && imgs.every((i) => i.complete && i.naturalWidth > 0 && i.src.startsWith('blob:')); })()`),
		)
		tab.check("the document beside the frames",
			`document.querySelectorAll('[data-testid="identity-viewer-documents"] img[data-kind="document_front"]').length === 1 &&
			 document.querySelectorAll('[data-testid="identity-viewer-frames"] img[data-kind="face"]').length === 3`)
		if i == 0 {
			tab.snapshot("identity-staff-viewer")
		}
		tab.do("closing the viewer",
			chromedp.Click(css(`[data-testid="identity-viewer-close"]`)),
			chromedp.WaitNotPresent(css(`[data-testid="identity-viewer"]`)),
		)
	}
	status, out := admin.do("GET", "/api/v1/audit?session_id="+sid+"&access=1", nil)
	views := 0
	entries, _ := out["entries"].([]any)
	for _, e := range entries {
		m, _ := e.(map[string]any)
		if m["action"] == "identity.image_viewed" && m["actor_id"] == adminID {
			views++
		}
	}
	if status != http.StatusOK || views != 8 {
		t.Errorf("identity.image_viewed by the admin: %d entries (status %d), want 8 (4 images opened twice)", views, status)
	}

	tab.do("the admin stops requiring verification",
		chromedp.Click(css(session+`[data-testid="identity-required-toggle"]`)),
		chromedp.WaitVisible(css(session+`[data-testid="identity-required"][data-on="false"]`)),
	)
	if status, out := admin.do("GET", "/api/v1/sessions/"+sid+"/identity", nil); status != http.StatusOK || out["required"] != false {
		t.Errorf("after the toggle the session says %d %v, want not required", status, out)
	}

	tab.do("the admin sets the identity policy",
		chromedp.Navigate(n.URL()+"/staff/"),
		chromedp.WaitVisible(css(`[data-testid="identity-policy-link"]`)),
		chromedp.Click(css(`[data-testid="identity-policy-link"]`)),
		chromedp.WaitVisible(css(`[data-testid="policy-save"]`)),
		chromedp.Click(css(`[data-testid="policy-raw"]`)),
		chromedp.SetValue(css(`[data-testid="policy-retention"]`), "0"),
		chromedp.Click(css(`[data-testid="policy-save"]`)),
		chromedp.WaitVisible(css(`[data-testid="policy-error"]`)),
		chromedp.SetValue(css(`[data-testid="policy-retention"]`), "30"),
		chromedp.Click(css(`[data-testid="policy-save"]`)),
		chromedp.WaitVisible(css(`[data-testid="policy-saved"]`)),
		chromedp.WaitVisible(css(`[data-testid="policy-show-retention"][data-days="30"]`)),
		chromedp.WaitVisible(css(`[data-testid="policy-show-numbers"][data-raw="true"]`)),
	)
	if status, out := admin.do("GET", "/api/v1/identity/policy", nil); status != http.StatusOK || out["store_raw_numbers"] != true || out["image_retention_days"] != float64(30) {
		t.Errorf("the policy after saving: %d %v", status, out)
	}

	tab.do("logging out", chromedp.Click(css(`[data-testid="logout"]`)))
	tab.login(demoAccount(t, n, "clerk"))
	tab.do("the clerk opens the case",
		chromedp.Navigate(n.URL()+"/staff/cases/"+n.demo.CaseID),
		chromedp.WaitVisible(css(session+`[data-testid="identity-sealed-note"]`)),
		chromedp.WaitVisible(css(session+`[data-testid="identity-required"][data-on="false"]`)),
		chromedp.WaitVisible(css(session+`[data-testid="identity-required-toggle"]`)),
	)
	tab.check("the clerk sees no check nor image",
		`!document.querySelector('[data-testid="identity-check"], [data-testid="identity-open-images"], [data-testid="identity-viewer"]')`)
	tab.do("the clerk reads the policy",
		chromedp.Navigate(n.URL()+"/staff/identity"),
		chromedp.WaitVisible(css(`[data-testid="policy-read-only"]`)),
		chromedp.WaitVisible(css(`[data-testid="policy-show-retention"][data-days="30"]`)),
	)
	tab.snapshot("identity-staff-policy")
	tab.check("the clerk has no policy form", `!document.querySelector('[data-testid="policy-save"]')`)
	clerk := staffClient(t, n.URL(), demoAccounts(n), "clerk")
	if status, _ := clerk.do("GET", "/api/v1/sessions/"+sid+"/identity/checks/"+checkID+"/images/0", nil); status != http.StatusForbidden {
		t.Errorf("the clerk fetches an image: %d, want 403", status)
	}
}

// TestIdentityAskBrowser: in a session that does not require identity
// verification, the mediator asks the party in the call to verify their
// identity from the identity panel; the party's page then shows the
// biometric consent, and the mediator's panel the check waiting for it.
func TestIdentityAskBrowser(t *testing.T) {
	runBrowserTest(t, "TestIdentityAskBrowser", identityAskBrowser)
}

func identityAskBrowser(t *testing.T) {
	n := startNode(t)
	mediator := &invitee{Name: "Zhou Min", Role: "mediator"}
	party := &invitee{Name: "Anna Eriksson", Role: "party"}
	featureSession(t, n, "Mediation", false, []*invitee{mediator, party})
	tabs := browserTabs(t, "identity-ask", 2)
	host, p := tabs[0], tabs[1]
	joinAs(host, mediator, "call")
	joinAs(p, party, "call")
	p.check("no identity step before the request", `!document.querySelector('[data-testid="identity-consent"]')`)
	ask := `[data-testid="identity-request"][data-participant-id="` + party.ID + `"]`
	host.do("the mediator asks the party to verify",
		chromedp.WaitVisible(css(`[data-testid="toggle-identity"]`)),
		chromedp.Click(css(`[data-testid="toggle-identity"]`)),
		chromedp.WaitVisible(css(ask)),
		chromedp.Click(css(ask)),
		chromedp.WaitVisible(css(`[data-testid="identity-check"][data-state="requested"]`)),
	)
	p.do("the party is asked for the biometric consent",
		chromedp.WaitVisible(css(`[data-testid="identity-card"]`)),
		chromedp.WaitVisible(css(`[data-testid="identity-consent"]`)),
	)
	if text := p.text("the consent text", `[data-testid="identity-card"]`); !strings.Contains(text, "identity document") {
		t.Errorf("the party's identity card says %q", text)
	}
}
