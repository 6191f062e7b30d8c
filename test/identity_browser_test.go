package test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kuayang/kuayang/internal/config"
	"github.com/kuayang/kuayang/internal/evidence"
	"github.com/kuayang/kuayang/internal/identity/mrz"
)

// TestIdentityBrowser: in a session that requires identity verification,
// the party's pre-join page says so; in the waiting room the party gives
// the biometric consent, photographs the passport page with the (fake)
// camera, types the MRZ (a wrong check digit is refused with its field),
// answers the liveness prompts; the mediator sees the document, the MRZ
// and the frames and marks the identity verified; after the session the
// sealed manifest carries the party's identity.
func TestIdentityBrowser(t *testing.T) {
	runBrowserTest(t, "TestIdentityBrowser", identityBrowser)
}

// validTD3 is the ICAO specimen passport with an expiry date in 2034 and
// its check digits computed again; bad has a wrong document number check
// digit.
func validTD3(t *testing.T) (good, bad string) {
	t.Helper()
	cd := func(s string) string {
		d, err := mrz.CheckDigit(s)
		if err != nil {
			t.Fatal(err)
		}
		return string(d)
	}
	num, birth, expiry, personal := "L898902C3", "740812", "341231", "ZE184226B<<<<<"
	n, b, e, p := num+cd(num), birth+cd(birth), expiry+cd(expiry), personal+cd(personal)
	line2 := n + "UTO" + b + "F" + e + p + cd(n+b+e+p)
	line1 := "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<"
	wrong := []byte(line2)
	wrong[9] = '0' + (wrong[9]-'0'+1)%10
	return line1 + "\n" + line2, line1 + "\n" + string(wrong)
}

func identityBrowser(t *testing.T) {
	n := startNode(t, func(c *config.Config) { c.SegmentDuration, c.SealGrace = 2*time.Second, time.Second })
	mediator := &invitee{Name: "Zhou Min", Role: "mediator"}
	party := &invitee{Name: "Anna Eriksson", Role: "party"}
	sid := demoCaseSession(t, n, "Power of attorney", true, true, []*invitee{mediator, party})
	staff := staffClient(t, n.URL(), demoAccounts(n), "mediator")
	if status, out := staff.do("PUT", "/api/v1/sessions/"+sid+"/identity", map[string]any{"required": true}); status != http.StatusOK {
		t.Fatalf("requiring identity verification: %d %v", status, out)
	}
	good, bad := validTD3(t)

	tabs := browserTabs(t, "identity", 2)
	host, p := tabs[0], tabs[1]
	joinRecorded(host, mediator)
	p.do("the party's pre-join page",
		chromedp.Navigate(party.URL+"?lang=en"),
		chromedp.WaitVisible(css(`[data-testid="consent"]`)),
		waitJS(visible(`[data-testid="identity-note"]`)),
		chromedp.Click(css(`[data-testid="consent"]`)),
		chromedp.WaitEnabled(css(`[data-testid="join"]`)),
		chromedp.Click(css(`[data-testid="join"]`)),
		waitJS(`document.body.dataset.screen === 'waiting'`),
	)
	p.do("the biometric consent",
		chromedp.WaitVisible(css(`[data-testid="identity-consent"]`)),
		chromedp.Click(css(`[data-testid="identity-consent"]`)),
		chromedp.WaitVisible(css(`[data-testid="identity-capture-doc"]`)),
		waitJS(`document.querySelector('[data-testid="identity-video"]')?.videoWidth > 0`),
		chromedp.Click(css(`[data-testid="identity-capture-doc"]`)),
		chromedp.WaitVisible(css(`[data-testid="identity-mrz"]`)),
	)
	setMRZ := func(text string) string {
		return `(() => {
		  document.querySelector('[data-testid="identity-mrz"]').value = ` + jsString(text) + `;
		  document.querySelector('[data-testid="identity-mrz-send"]').click();
		  return 'ok';
		})()`
	}
	p.eval("typing a wrong MRZ", setMRZ(bad))
	if msg := p.text("the MRZ error", `[data-testid="identity-mrz-error"]:not([hidden])`); !strings.Contains(msg, "mrz_check_digit") || !strings.Contains(msg, "document_number") {
		t.Fatalf("MRZ error shown: %q", msg)
	}
	p.eval("typing the MRZ", setMRZ(good))
	p.do("the liveness challenge",
		chromedp.WaitVisible(css(`[data-testid="identity-liveness-start"]`)),
		waitJS(`document.querySelector('[data-testid="identity-video"]')?.videoWidth > 0`),
		chromedp.Click(css(`[data-testid="identity-liveness-start"]`)),
		waitJS(`document.querySelector('[data-testid="identity-prompt"]')?.dataset.prompt`),
	)
	p.do("submitted", chromedp.Poll[chromedp.Void](`document.querySelector('[data-testid="identity-card"]')?.dataset.state === 'submitted'`,
		chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(30*time.Second)))

	host.do("the mediator reviews",
		chromedp.WaitVisible(css(`[data-testid="toggle-identity"]`)),
		chromedp.Click(css(`[data-testid="toggle-identity"]`)),
		chromedp.WaitVisible(css(`[data-testid="identity-check"][data-state="submitted"]`)),
		// The document and two frames for each of the 3 prompts, decrypted.
		waitJS(`(() => { const imgs = [...document.querySelectorAll('[data-testid="identity-image"]')];
		  return imgs.length === 7 && imgs.every((i) => i.complete && i.naturalWidth > 0); })()`),
	)
	if fields := host.text("the MRZ fields", `[data-testid="identity-mrz-fields"]`); !strings.Contains(fields, "ERIKSSON") || !strings.Contains(fields, "******2C3") {
		t.Errorf("the mediator sees the MRZ %q, want the name and the masked number", fields)
	}
	host.do("the mediator verifies",
		chromedp.Click(css(`[data-testid="identity-verify"]`)),
		chromedp.WaitVisible(css(`[data-testid="identity-check"][data-state="verified"]`)),
	)
	p.do("the party sees it", chromedp.WaitVisible(css(`[data-testid="identity-card"][data-state="verified"]`)))

	// Every view of an image is audited.
	clerk := staffClient(t, n.URL(), demoAccounts(n), "clerk")
	status, out := clerk.do("GET", "/api/v1/audit?session_id="+sid+"&access=1", nil)
	if b, _ := json.Marshal(out); status != http.StatusOK || strings.Count(string(b), "identity.image_viewed") < 7 {
		t.Errorf("audit of the image views: %d %s", status, b)
	}

	if status, out := staff.do("POST", "/api/v1/sessions/"+sid+"/end", nil); status != http.StatusNoContent {
		t.Fatalf("ending the session: %d %v", status, out)
	}
	waitSealed(t, clerk, sid, 60*time.Second)
	dir := t.TempDir()
	path := downloadBundle(t, clerk, sid, dir)
	if _, err := verifyBundle(t, func() (evidence.Source, error) { return evidence.OpenZip(path) }); err != nil {
		t.Fatalf("the bundle does not verify: %v", err)
	}
	ext := filepath.Join(dir, "x")
	unzip(t, path, ext)
	m := manifestOf(t, ext)
	var id *evidence.Identity
	for _, pt := range m.Participants {
		if pt.ID == party.ID {
			id = pt.Identity
		}
	}
	if id == nil || id.Method != "manual" || id.Result != "verified" || id.VerifiedBy != mediator.Name ||
		id.VerifiedAt.IsZero() || id.DocumentType != "passport" || id.DocumentNumber != "******2C3" ||
		id.Nationality != "UTO" || len(id.Images) != 7 {
		b, _ := json.Marshal(id)
		t.Fatalf("the party's identity in the manifest: %s", b)
	}
	if os.Getenv("KUAYANG_TEST_ARTIFACTS") != "" {
		b, _ := json.MarshalIndent(id, "", "  ")
		t.Logf("identity in the manifest: %s", b)
	}
}
