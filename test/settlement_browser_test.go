package test

import (
	"archive/zip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/chromedp"

	"github.com/kuayang/kuayang/internal/config"
	"github.com/kuayang/kuayang/internal/evidence"
	"github.com/kuayang/kuayang/internal/settlement"
	"github.com/kuayang/kuayang/internal/tsa/tsatest"
)

// TestSettlementBrowser: in a recorded mediation session, the mediator
// fills the template, writes the terms, saves and shares the agreement;
// two parties (one in Zhejiang, one in Italy) read it with its SHA-256,
// type their names and draw their signatures on the canvas; the mediator
// marks each one's spoken confirmation, signs last and finalizes; a party
// downloads the signed PDF from the call page. After the session ends and
// is sealed, the PDF's SHA-256 is in the manifest's documents, the bundle
// verifies and holds the PDF, the confirmations are marks on the timeline,
// and the clerk downloads the PDF from the case (audited).
func TestSettlementBrowser(t *testing.T) {
	runBrowserTest(t, "TestSettlementBrowser", settlementBrowser)
}

// drawSignature draws a zigzag on the tab's signature canvas with the
// mouse (trusted pointer events).
func drawSignature(tab staffTab, who string) {
	tab.t.Helper()
	var box struct{ X, Y, W, H float64 }
	rect := tab.eval(who+": the canvas", `(async () => {
	  const c = document.querySelector('[data-testid="settlement-canvas"]');
	  c.scrollIntoView({block: 'center'});
	  await new Promise((r) => setTimeout(r, 100));
	  const r = c.getBoundingClientRect();
	  return JSON.stringify({X: r.left, Y: r.top, W: r.width, H: r.height});
	})()`)
	if err := json.Unmarshal([]byte(rect), &box); err != nil || box.W < 50 {
		tab.t.Fatalf("%s: canvas box %q: %v", who, rect, err)
	}
	steps := []chromedp.Action[chromedp.Void]{chromedp.MouseEvent(input.DispatchMouseEventTypeMousePressed, box.X+box.W*0.1, box.Y+box.H*0.5, chromedp.ButtonLeft, chromedp.ClickCount(1))}
	for i := 1; i <= 12; i++ {
		y := box.Y + box.H*0.3
		if i%2 == 0 {
			y = box.Y + box.H*0.7
		}
		steps = append(steps, chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, box.X+box.W*(0.1+0.065*float64(i)), y, chromedp.ButtonLeft))
	}
	steps = append(steps, chromedp.MouseEvent(input.DispatchMouseEventTypeMouseReleased, box.X+box.W*0.9, box.Y+box.H*0.5, chromedp.ButtonLeft, chromedp.ClickCount(1)))
	tab.do(who+" drawing a signature", steps...)
	tab.check(who+"'s drawing has a stroke", `document.querySelector('[data-testid="settlement-canvas"]').dataset.strokes === '1'`)
}

// signAs types name and draws a signature in the tab, and signs.
func signAs(tab staffTab, who, name string) {
	tab.t.Helper()
	tab.do(who+" typing the name",
		chromedp.WaitVisible(css(`[data-testid="settlement-name"]`)),
		chromedp.SendKeys(css(`[data-testid="settlement-name"]`), name),
	)
	drawSignature(tab, who)
	tab.do(who+" signing", chromedp.Click(css(`[data-testid="settlement-sign"]`)))
}

// signerState is the JavaScript of a signer's row attribute on a page.
func signerState(pid, attr string) string {
	return `document.querySelector('[data-testid="settlement-signer"][data-participant-id="` + pid + `"]')?.dataset.` + attr
}

func settlementBrowser(t *testing.T) {
	// A timestamp authority: the PDF, and the manifest, get tokens.
	authority := tsatest.New(t)
	n := startNode(t, func(c *config.Config) {
		c.SegmentDuration, c.SealGrace = 2*time.Second, time.Second
		c.TSAURL = authority.URL
	})
	mediator := &invitee{Name: "Zhou Min", Role: "mediator"}
	chen := &invitee{Name: "Chen Wei", Role: "party"}
	rossi := &invitee{Name: "Marco Rossi", Role: "party"}
	sid := recordedSession(t, n, "Mediation, settlement", []*invitee{mediator, chen, rossi})
	tabs := browserTabs(t, "settle", 3)
	mt, ct, rt := tabs[0], tabs[1], tabs[2]
	joinRecorded(mt, mediator)
	joinRecorded(ct, chen)
	joinRecorded(rt, rossi)

	// The mediator drafts from the template, adds the terms, saves, shares.
	const terms = "一、陈伟于2026年12月31日前向Marco Rossi支付货款人民币五万元（€ 6.500）。"
	mt.do("drafting from the template",
		chromedp.WaitVisible(css(`[data-testid="toggle-settlement"]`)),
		chromedp.Click(css(`[data-testid="toggle-settlement"]`)),
		chromedp.WaitVisible(css(`[data-testid="settlement-template"]`)),
		chromedp.Click(css(`[data-testid="settlement-template"]`)),
		waitJS(`document.querySelector('[data-testid="settlement-text"]').value.includes('人民调解协议书')`),
	)
	mt.eval("writing the terms", `(() => {
	  const a = document.querySelector('[data-testid="settlement-text"]');
	  a.value = a.value.replace('一、\n二、', `+jsString(terms)+`);
	  return a.value;
	})()`)
	mt.do("saving and sharing",
		chromedp.Click(css(`[data-testid="settlement-save"]`)),
		waitJS(`document.querySelector('[data-testid="settlement-saved-version"]').textContent.includes('version 1')`),
		chromedp.Click(css(`[data-testid="settlement-share"]`)),
	)
	var sha, text string
	for _, p := range []struct {
		tab  staffTab
		name string
	}{{ct, "Chen Wei"}, {rt, "Marco Rossi"}, {mt, "the mediator"}} {
		p.tab.do(p.name+" sees the shared agreement", waitJS(visible(`[data-testid="settlement-shared-text"]`)))
		got := p.tab.eval(p.name+": the text", `document.querySelector('[data-testid="settlement-shared-text"]').textContent`)
		h := p.tab.eval(p.name+": the hash", `document.querySelector('[data-testid="settlement-sha"]').dataset.sha256`)
		if text == "" {
			text, sha = got, h
		}
		if got != text || h != sha {
			t.Fatalf("%s sees another text or hash: %s", p.name, h)
		}
	}
	for _, want := range []string{terms, "Chen Wei；Marco Rossi", "Zhou Min", "(2026)"} {
		if !strings.Contains(text, want) {
			t.Errorf("the shared text lacks %q:\n%s", want, text)
		}
	}
	if settlement.Hash(text) != sha {
		t.Fatalf("the SHA-256 shown %s is not that of the text shown (%s)", sha, settlement.Hash(text))
	}

	// The parties sign; the mediator marks their spoken confirmations.
	// Marco Rossi is typing his name when Chen Wei signs: the update
	// takes neither his text nor the focus.
	rt.do("Marco Rossi starting to type the name",
		chromedp.WaitVisible(css(`[data-testid="settlement-name"]`)),
		chromedp.SendKeys(css(`[data-testid="settlement-name"]`), "ROSSI "))
	signAs(ct, "Chen Wei", "chen wei")
	rt.do("Marco Rossi seeing Chen Wei's signature", waitJS(signerState(chen.ID, "signed")+` === 'true'`))
	if focused := rt.eval("the focus", `document.activeElement?.dataset?.testid ?? ''`); focused != "settlement-name" {
		t.Errorf("after another party signed, the focus is on %q, not the name being typed", focused)
	}
	rt.do("Marco Rossi finishing the name", chromedp.SendKeys(css(`[data-testid="settlement-name"]`), "Marco"))
	if typed := rt.eval("the name typed", `document.querySelector('[data-testid="settlement-name"]').value`); typed != "ROSSI Marco" {
		t.Errorf("the name being typed reads %q after another party signed, want %q", typed, "ROSSI Marco")
	}
	drawSignature(rt, "Marco Rossi")
	rt.do("Marco Rossi signing", chromedp.Click(css(`[data-testid="settlement-sign"]`)))
	mt.do("the mediator sees both signatures",
		waitJS(signerState(chen.ID, "signed")+` === 'true' && `+signerState(rossi.ID, "signed")+` === 'true'`))
	for _, p := range []*invitee{chen, rossi} {
		mt.do("marking "+p.Name+"'s spoken confirmation",
			chromedp.Click(css(`[data-testid="settlement-confirm"][data-participant-id="`+p.ID+`"]`)),
			waitJS(signerState(p.ID, "confirmed")+` === 'true'`),
		)
	}
	signAs(mt, "the mediator", "Zhou Min")
	mt.do("finalizing",
		waitJS(`!document.querySelector('[data-testid="settlement-finalize"]').disabled`),
		chromedp.Click(css(`[data-testid="settlement-finalize"]`)),
	)
	rt.do("Marco Rossi sees the final PDF", waitJS(visible(`[data-testid="settlement-final-sha"]`)))
	pdfSHA := rt.eval("the final hash", `document.querySelector('[data-testid="settlement-final-sha"]').dataset.sha256`)

	// A party downloads the signed PDF from the call page.
	got := rt.eval("downloading the PDF", `(async () => {
	  const c = window.kuayang.client;
	  const id = document.querySelector('[data-testid="settlement-final-sha"]').dataset.settlementId;
	  const res = await fetch('/api/v1/call/' + c.session.id + '/settlements/' + id, {headers: {Authorization: 'Call ' + c.callToken}});
	  const b = new Uint8Array(await res.arrayBuffer());
	  const h = [...new Uint8Array(await crypto.subtle.digest('SHA-256', b))].map((x) => x.toString(16).padStart(2, '0')).join('');
	  return res.status + ' ' + res.headers.get('content-type') + ' ' + String.fromCharCode(...b.slice(0, 5)) + ' ' + h;
	})()`)

	// The session ends and is sealed.
	medAPI := staffClient(t, n.URL(), demoAccounts(n), "mediator")
	if status, out := medAPI.do("POST", "/api/v1/sessions/"+sid+"/end", map[string]any{}); status != http.StatusOK && status != http.StatusNoContent {
		t.Fatalf("ending the session: %d %v", status, out)
	}
	clerk := staffClient(t, n.URL(), demoAccounts(n), "clerk")
	waitSealed(t, clerk, sid, 60*time.Second)
	dir := t.TempDir()
	bundle := downloadBundle(t, clerk, sid, dir)
	src, err := evidence.OpenZip(bundle)
	if err != nil {
		t.Fatal(err)
	}
	report, err := evidence.Verify(t.Context(), src, evidence.VerifyOptions{TSARoots: authority.Roots})
	src.Close()
	if err != nil {
		t.Fatalf("the bundle does not verify: %v", err)
	}
	if len(report.Documents) != 1 || report.Documents[0].Timestamp == nil || !report.Documents[0].Timestamp.Trusted {
		t.Fatalf("the settlement PDF's timestamp is not in the bundle, or not the authority's: %+v", report.Documents)
	}
	ext := filepath.Join(dir, "x")
	unzip(t, bundle, ext)
	m := manifestOf(t, ext)
	if len(m.Documents) != 1 || m.Documents[0].Kind != evidence.DocumentSettlement || m.Documents[0].SHA256 != pdfSHA {
		t.Fatalf("manifest documents %+v, want the settlement PDF %s", m.Documents, pdfSHA)
	}
	doc := m.Documents[0]
	pdfBytes := zipFile(t, bundle, evidence.DocumentsDir+doc.Name)
	if sum := sha256.Sum256(pdfBytes); hex.EncodeToString(sum[:]) != pdfSHA || !strings.HasPrefix(string(pdfBytes), "%PDF-") ||
		!strings.Contains(string(pdfBytes), "/SubFilter /ETSI.CAdES.detached") {
		t.Fatalf("the bundle's PDF (%d bytes) is not the signed settlement", len(pdfBytes))
	}
	confirmed := 0
	for _, e := range m.Events {
		if e.Kind == "settlement.confirmed" {
			confirmed++
		}
	}
	if confirmed != 2 {
		t.Errorf("the manifest has %d settlement.confirmed events, want 2: %+v", confirmed, m.Events)
	}
	status, tl := clerk.do("GET", "/api/v1/sessions/"+sid+"/timeline", nil)
	marks, _ := tl["marks"].([]any)
	seen := 0
	for _, mk := range marks {
		if mk.(map[string]any)["kind"] == "settlement.confirmed" {
			seen++
		}
	}
	if status != 200 || seen != 2 {
		t.Errorf("the timeline (%d) shows %d spoken confirmations, want 2", status, seen)
	}

	// The party's download, and the clerk's from the case.
	if want := fmt.Sprintf("200 application/pdf %%PDF- %s", pdfSHA); got != want {
		t.Errorf("the party's download: %q, want %q", got, want)
	}
	status, list := clerk.do("GET", "/api/v1/cases/"+n.demo.CaseID+"/settlements", nil)
	items, _ := list["settlements"].([]any)
	if status != 200 || len(items) != 1 {
		t.Fatalf("the case's settlements: %d %v", status, list)
	}
	final, _ := items[0].(map[string]any)["final"].(map[string]any)
	url, _ := final["url"].(string)
	req, _ := http.NewRequest("GET", n.URL()+url, nil)
	req.Header.Set("Authorization", "Bearer "+clerk.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if sum := sha256.Sum256(body); resp.StatusCode != 200 || hex.EncodeToString(sum[:]) != pdfSHA {
		t.Fatalf("the clerk's download: %d, %d bytes", resp.StatusCode, len(body))
	}

	// The case page lists it, with the signed PDF to download.
	var clerkAccount = n.demo.Accounts[1]
	mt.do("the clerk opening the case page",
		chromedp.Navigate(n.URL()+"/staff/cases/"+n.demo.CaseID+"?lang=en"),
		chromedp.WaitVisible(css(`[data-testid="login-email"]`)),
		chromedp.SendKeys(css(`[data-testid="login-email"]`), clerkAccount.Email),
		chromedp.SendKeys(css(`[data-testid="login-password"]`), clerkAccount.Password),
		chromedp.Click(css(`[data-testid="login-submit"]`)),
		chromedp.WaitVisible(css(`[data-testid="settlement-pdf"]`)),
	)
	fromPage := mt.eval("downloading from the case page", `(async () => {
	  const r = await fetch(document.querySelector('[data-testid="settlement-pdf"]').href);
	  const b = new Uint8Array(await r.arrayBuffer());
	  return r.status + ' ' + [...new Uint8Array(await crypto.subtle.digest('SHA-256', b))].map((x) => x.toString(16).padStart(2, '0')).join('');
	})()`)
	if fromPage != "200 "+pdfSHA {
		t.Errorf("the case page's download: %q, want the PDF %s", fromPage, pdfSHA)
	}
	status, audit := clerk.do("GET", "/api/v1/audit?session_id="+sid+"&access=1", nil)
	entries, _ := audit["entries"].([]any)
	downloads := map[string]bool{}
	for _, e := range entries {
		if e := e.(map[string]any); e["action"] == "settlement.download" {
			downloads[e["actor_kind"].(string)] = true
		}
	}
	if status != 200 || !downloads["participant"] || !downloads["account"] {
		t.Errorf("the audit log's access entries (%d) do not show both downloads: %v", status, downloads)
	}
}

// zipFile reads one file of a zip.
func zipFile(t *testing.T, path, name string) []byte {
	t.Helper()
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	for _, f := range zr.File {
		if f.Name == name {
			rc, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			b, err := io.ReadAll(rc)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
	}
	t.Fatalf("%s is not in the bundle", name)
	return nil
}
