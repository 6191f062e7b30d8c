package test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kuayang/kuayang/internal/auth"
	"github.com/kuayang/kuayang/internal/cases"
	"github.com/kuayang/kuayang/internal/config"
	"github.com/kuayang/kuayang/internal/demo"
	"github.com/kuayang/kuayang/internal/evidence"
	"github.com/kuayang/kuayang/internal/notary"
	"github.com/kuayang/kuayang/internal/store"
)

// TestNotaryBrowserScript: a notary in Wencheng notarizes a power of
// attorney for a party in Milan, both in Chromium with fake cameras. The
// notary marks every step of the script, uploads the document and shows
// it; the party's page shows its SHA-256 and what is asked of them in
// Italian. After the session ends and is sealed, the manifest has every
// step with its time, in order, and the document; the bundle verifies.
func TestNotaryBrowserScript(t *testing.T) {
	runBrowserTest(t, "TestNotaryBrowserScript", notaryBrowserScript)
}

// notaryAccount creates a notary account in the demo organization.
func notaryAccount(t *testing.T, n *testNode) (orgID, email string) {
	t.Helper()
	ctx := context.Background()
	c, err := n.Store().Case(ctx, n.demo.CaseID)
	if err != nil {
		t.Fatal(err)
	}
	hash, err := auth.HashPassword("correct horse battery")
	if err != nil {
		t.Fatal(err)
	}
	email = "notary-" + store.NewID()[:8] + "@example.org"
	a := &cases.Account{ID: store.NewID(), OrgID: c.OrgID, Email: email, Name: "Wang Li (notary)", Role: cases.RoleNotary,
		PasswordHash: hash, CreatedAt: time.Now().UTC()}
	if err := n.Store().CreateAccount(ctx, a); err != nil {
		t.Fatal(err)
	}
	return c.OrgID, email
}

func notaryBrowserScript(t *testing.T) {
	n := startNode(t, func(c *config.Config) { c.SealGrace = time.Second })
	orgID, email := notaryAccount(t, n)
	nz := newNotarization(t, n.Store(), orgID, email)
	notaryP := &invitee{Name: nz.notary.DisplayName, Role: "notary", URL: n.URL() + "/join/" + nz.notaryInvite + "?lang=en", ID: nz.notary.ID}
	partyP := &invitee{Name: nz.party.DisplayName, Role: "party", URL: n.URL() + "/join/" + nz.partyInvite, ID: nz.party.ID}
	doc := testPDF("Procura: Giulia Bianchi nomina Chen Wei suo procuratore per la vendita dell'appartamento di Via Roma 1, Milano.")
	sum := sha256.Sum256(doc)
	hexSum := hex.EncodeToString(sum[:])
	path := filepath.Join(t.TempDir(), "procura.pdf")
	if err := os.WriteFile(path, doc, 0o644); err != nil {
		t.Fatal(err)
	}

	tabs := browserTabs(t, "notary", 2)
	nt, pt := tabs[0], tabs[1]
	joinRecorded(nt, notaryP)
	joinRecorded(pt, partyP)
	const current = `[data-testid="notary-current"]`
	for _, tab := range tabs {
		tab.do("the script shown", waitJS(visible(`[data-testid="notary"]`)+` && document.querySelector('`+current+`').dataset.step === 'identity_confirmed'`))
	}
	pt.check("the party sees no controls", `!document.querySelector('[data-testid="notary-controls"]')`)

	// mark marks the current step with a note and waits until both pages
	// show it done.
	mark := func(step, note string) {
		t.Helper()
		// The section is drawn anew on every message: the note is typed
		// and the button pressed in one go, on the nodes of one drawing.
		nt.do("marking "+step,
			waitJS(`document.querySelector('[data-testid="notary-mark"]')?.dataset.step === `+jsString(step)),
			waitJS(`(() => {
			  const note = document.querySelector('[data-testid="notary-note"]'), button = document.querySelector('[data-testid="notary-mark"]');
			  if (!note || button?.dataset.step !== `+jsString(step)+`) return false;
			  note.value = `+jsString(note)+`;
			  button.click();
			  return true;
			})()`),
		)
		for _, tab := range tabs {
			tab.do(step+" done", waitJS(`document.querySelector('[data-testid="notary-step"][data-step="`+step+`"]')?.dataset.done === 'true'`))
		}
	}
	mark(notary.StepIdentity, "passport YA1234567, checked against her face")
	mark(notary.StepAct, "power of attorney for the sale of the flat")

	// The notary uploads the document and shows it: the party's page shows
	// its SHA-256 in groups of four, and can open it.
	nt.do("uploading the document",
		chromedp.SetUploadFiles(css(`[data-testid="notary-file"]`), []string{path}),
		chromedp.WaitVisible(css(`[data-testid="notary-show"]`)),
		chromedp.Click(css(`[data-testid="notary-show"]`)),
	)
	const hashSel = `[data-testid="notary-doc"][data-purpose="shown"] [data-testid="notary-doc-hash"]`
	pt.do("the document's hash on the party's page", waitJS(`document.querySelector('`+hashSel+`')?.dataset.sha256 === `+jsString(hexSum)))
	if got, want := pt.text("the hash as shown", hashSel), notary.GroupHex(sum[:]); got != want {
		t.Errorf("the party's page shows the hash %q, want %q", got, want)
	}
	docID := pt.eval("the document's id", `document.querySelector('[data-testid="notary-doc"][data-purpose="shown"]').dataset.id`)
	opened := pt.eval("the party opening the document", `(async () => {
	  const c = window.kuayang.client;
	  const r = await fetch('/api/v1/call/' + c.session.id + '/documents/' + `+jsString(docID)+`, {headers: {Authorization: 'Call ' + c.callToken}});
	  const b = new Uint8Array(await r.arrayBuffer());
	  const h = [...new Uint8Array(await crypto.subtle.digest('SHA-256', b))].map((x) => x.toString(16).padStart(2, '0')).join('');
	  return r.status + ' ' + h;
	})()`)
	if opened != "200 "+hexSum {
		t.Errorf("the party opened the document: %s", opened)
	}
	mark(notary.StepDocument, "")

	// What the party is asked, in Italian (her language).
	pt.do("the free-will step on the party's page", waitJS(`document.querySelector('`+current+`').dataset.step === 'free_will'`))
	if got := pt.text("the ask", current); !strings.Contains(got, "libera volontà") {
		t.Errorf("the party is asked %q, want the free-will declaration in Italian", got)
	}
	mark(notary.StepFreeWill, "")
	mark(notary.StepLocation, "Milan, Via Roma 1, alone in the room")
	nt.do("presenting the document shown for signing", chromedp.Click(css(`[data-testid="notary-sign-shown"]`)))
	pt.do("the signing version matches", waitJS(visible(`[data-testid="notary-match"]`)))
	pt.check("no mismatch warning", `!document.querySelector('[data-testid="notary-mismatch"]')`)
	mark(notary.StepSigning, "signed on camera")
	mark(notary.StepClosing, "")
	pt.do("all steps done", waitJS(`document.querySelector('`+current+`').dataset.step === ''`))

	// The session ends and is sealed.
	admin := staffClient(t, n.URL(), demoAccounts(n), "admin")
	if status, out := admin.do("POST", "/api/v1/sessions/"+nz.session.ID+"/end", nil); status != 204 {
		t.Fatalf("ending the session: %d %v", status, out)
	}
	clerk := staffClient(t, n.URL(), demoAccounts(n), "clerk")
	waitSealed(t, clerk, nz.session.ID, 60*time.Second)
	dir := t.TempDir()
	bundle := downloadBundle(t, clerk, nz.session.ID, dir)
	if _, err := verifyBundle(t, func() (evidence.Source, error) { return evidence.OpenZip(bundle) }); err != nil {
		t.Fatalf("the bundle does not verify: %v", err)
	}
	ext := filepath.Join(dir, "x")
	unzip(t, bundle, ext)
	m := manifestOf(t, ext)
	var steps []string
	var last time.Time
	for _, ev := range m.Events {
		if ev.Kind != notary.StepAction {
			continue
		}
		var d notary.StepDetail
		if err := json.Unmarshal([]byte(ev.Detail), &d); err != nil {
			t.Fatalf("step event %+v: %v", ev, err)
		}
		if ev.Time.IsZero() || ev.Time.Before(last) {
			t.Errorf("step %s at %v, after %v", d.Step, ev.Time, last)
		}
		last = ev.Time.Time
		steps = append(steps, d.Step)
	}
	if got, want := strings.Join(steps, " "), strings.Join(notary.Steps, " "); got != want {
		t.Errorf("the manifest's steps %q, want %q", got, want)
	}
	var notarized, signed *evidence.Document
	for i, d := range m.Documents {
		switch d.Kind {
		case evidence.DocumentNotarized:
			notarized = &m.Documents[i]
		case evidence.DocumentSigned:
			signed = &m.Documents[i]
		}
	}
	if notarized == nil || notarized.SHA256 != hexSum || notarized.ID != docID {
		t.Fatalf("the manifest's documents %+v: want the document shown", m.Documents)
	}
	if signed == nil || signed.SHA256 != hexSum || !strings.HasPrefix(signed.Detail, "match") {
		t.Errorf("the signed document %+v", signed)
	}
	if b, err := os.ReadFile(filepath.Join(ext, "documents", notarized.Name)); err != nil || !strings.HasPrefix(string(b), "%PDF-") {
		t.Errorf("the bundle's copy of the document: %v", err)
	}

	// The clerk's timeline marks the steps; the notary writes the journal
	// on the case page.
	staff := nt
	staff.do("opening the review page", chromedp.Navigate(n.URL()+"/staff/sessions/"+nz.session.ID+"/review?lang=en"))
	staff.login(demo.Account{Email: email, Password: "correct horse battery"})
	staff.do("the timeline's steps", waitJS(`document.querySelectorAll('[data-testid="timeline-mark"][data-kind="notary.step"]').length === 7`))
	in := `[data-testid="journal"][data-session-id="` + nz.session.ID + `"] `
	staff.do("the journal form",
		chromedp.Navigate(n.URL()+"/staff/cases/"+nz.kase.ID+"?lang=en"),
		chromedp.WaitVisible(css(in+`[data-testid="journal-form"]`)),
		chromedp.SendKeys(css(in+`[data-testid="journal-identity_method"]`), "passport YA1234567, checked on camera"),
		chromedp.SendKeys(css(in+`[data-testid="journal-location"]`), "Milan, Via Roma 1"),
		chromedp.SendKeys(css(in+`[data-testid="journal-fee"]`), "CNY 300"),
		chromedp.Click(css(in+`[data-testid="journal-submit"]`)),
		chromedp.WaitVisible(css(in+`[data-testid="journal-entry"]`)),
	)
	if got := staff.text("the entry's hash", in+`[data-testid="journal-sha256"]`); len(strings.ReplaceAll(got, " ", "")) != 64 {
		t.Errorf("the journal entry's SHA-256 %q", got)
	}
	if got := staff.text("the documents", in+`[data-testid="journal-documents"]`); !strings.Contains(got, notary.GroupHex(sum[:])) {
		t.Errorf("the journal lists the documents %q, want the hash shown", got)
	}
}
