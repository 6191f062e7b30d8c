package test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kuayang/kuayang/internal/demo"
)

// TestStaffPages drives the staff pages in Chromium as the demo clerk: log
// in, find the demo case, create a case, schedule a session, invite a party,
// open the invite in a second tab, revoke it, and see the join page refuse
// it. Like TestBrowserCall it runs in a network namespace of its own.
func TestStaffPages(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	requireChromium(t)
	if os.Getenv(netnsEnv) == "" {
		runInNetns(t, "TestStaffPages")
		return
	}
	bringUpLoopback(t)
	staffPages(t)
}

// staffTab runs steps in one tab, each step with a timeout, failing the
// test with what it was doing.
type staffTab struct {
	t   *testing.T
	ctx context.Context
}

func (s staffTab) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(s.ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		s.t.Fatalf("%s: %v", what, err)
	}
}

// text is the text of the first element matching sel, once there is one.
// It is found and read in one evaluation in the page: a node looked up
// first and read after could be replaced by a re-render in between.
func (s staffTab) text(what, sel string) string {
	s.t.Helper()
	js := `(async () => {
	  for (const t0 = performance.now(); performance.now() - t0 < 20000; await new Promise((r) => setTimeout(r, 50))) {
	    const el = document.querySelector(` + jsString(sel) + `);
	    if (el) return el.innerText;
	  }
	  throw new Error('no element ' + ` + jsString(sel) + `);
	})()`
	return strings.TrimSpace(s.eval(what, js))
}

func (s staffTab) eval(what, js string) string {
	s.t.Helper()
	ctx, cancel := context.WithTimeout(s.ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
	if err != nil {
		s.t.Fatalf("%s: %v", what, err)
	}
	return v
}

// waitJS waits until the JavaScript expression is truthy.
func waitJS(expr string) chromedp.Action[chromedp.Void] {
	return chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(50*time.Millisecond), chromedp.WithPollingTimeout(15*time.Second))
}

// jsString quotes s for JavaScript.
func jsString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func staffPages(t *testing.T) {
	n := startNode(t)
	var clerk demo.Account
	for _, a := range n.demo.Accounts {
		if a.Role == "clerk" {
			clerk = a
		}
	}
	if clerk.Email == "" {
		t.Fatalf("no demo clerk in %+v", n.demo.Accounts)
	}
	browser := newBrowser(t)
	tab2, cancel := chromedp.NewContext(browser)
	t.Cleanup(cancel)
	if err := chromedp.Do(tab2); err != nil { // opens the tab: no timeout here
		t.Fatalf("opening tab: %v", err)
	}
	tabs := []context.Context{browser, tab2}
	t.Cleanup(func() {
		if t.Failed() {
			for i, tab := range tabs {
				screenshot(t, tab, fmt.Sprintf("staff-tab%d", i))
			}
		}
	})
	staff := staffTab{t, browser}
	guest := staffTab{t, tab2}

	// A wrong password is refused with the error shown.
	staff.do("opening the login page",
		chromedp.Navigate(n.URL()+"/staff/?lang=en"),
		chromedp.WaitVisible(css(`[data-testid="login-email"]`)),
		chromedp.SendKeys(css(`[data-testid="login-email"]`), clerk.Email),
		chromedp.SendKeys(css(`[data-testid="login-password"]`), "wrong password"),
		chromedp.Click(css(`[data-testid="login-submit"]`)),
		chromedp.WaitVisible(css(`[data-testid="login-error"]`)),
	)
	if got := staff.text("login error", `[data-testid="login-error"]`); got != "Wrong email or password." {
		t.Errorf("login error %q", got)
	}

	// Log in as the clerk: My cases lists the demo case.
	staff.do("logging in",
		chromedp.SendKeys(css(`[data-testid="login-password"]`), clerk.Password),
		chromedp.Click(css(`[data-testid="login-submit"]`)),
		chromedp.WaitVisible(css(`[data-testid="new-case"]`)),
		waitJS(`[...document.querySelectorAll('[data-testid="case-row"]')].some(r => r.textContent.includes(`+jsString(demo.CaseNumber)+`))`),
	)
	if got := staff.text("account name", `[data-testid="account-name"]`); got != "Hu Jing (clerk)" {
		t.Errorf("account name %q", got)
	}
	if got := staff.text("account role", `[data-testid="account-role"]`); got != "Clerk" {
		t.Errorf("account role %q", got)
	}

	// Search narrows the list.
	staff.do("searching",
		chromedp.SendKeys(css(`[data-testid="case-search"]`), "Chen Wei"),
		waitJS(`location.search.includes('q=Chen')`),
		waitJS(`document.querySelectorAll('[data-testid="case-row"]').length === 1`),
		chromedp.Clear(css(`[data-testid="case-search"]`)),
	)

	// Create a case; the page goes to it.
	number := fmt.Sprintf("(2026)浙0328民调%04d号", time.Now().UnixNano()%10000)
	staff.do("creating a case",
		chromedp.Click(css(`[data-testid="new-case"]`)),
		chromedp.WaitVisible(css(`[data-testid="case-number"]`)),
		chromedp.SetValue(css(`[data-testid="case-kind"]`), "mediation"),
		chromedp.SendKeys(css(`[data-testid="case-number"]`), number),
		chromedp.SendKeys(css(`[data-testid="case-title"]`), "Deposit of a shop in Prato"),
		chromedp.Click(css(`[data-testid="case-submit"]`)),
		chromedp.WaitVisible(css(`[data-testid="case-heading"]`)),
		chromedp.WaitVisible(css(`[data-testid="session-title"]`)),
	)
	if got := staff.text("case heading", `[data-testid="case-heading"]`); got != number {
		t.Errorf("case heading %q, want %q", got, number)
	}
	caseID := staff.eval("case id", `document.querySelector('[data-testid="case"]').dataset.caseId`)
	if loc := staff.eval("location", `location.pathname`); loc != "/staff/cases/"+caseID {
		t.Errorf("location %q, want /staff/cases/%s", loc, caseID)
	}

	// Schedule a session at 14:00 in Shanghai on 1 December 2026.
	staff.do("scheduling a session",
		chromedp.SendKeys(css(`[data-testid="session-title"]`), "Hearing on the deposit"),
		chromedp.SetValue(css(`[data-testid="session-start"]`), "2026-12-01T14:00"),
		chromedp.SetValue(css(`[data-testid="session-zone"]`), "Asia/Shanghai"),
		chromedp.Click(css(`[data-testid="session-submit"]`)),
		chromedp.WaitVisible(css(`[data-testid="session"]`)),
	)
	sessionID := staff.eval("session id", `document.querySelector('[data-testid="session"]').dataset.sessionId`)
	in := `[data-testid="session"][data-session-id="` + sessionID + `"] `
	if got := staff.text("organizer time", in+`[data-testid="time-organizer"]`); !strings.Contains(got, "Asia/Shanghai") {
		t.Errorf("organizer time %q does not name the zone", got)
	}
	start := staff.eval("stored start", `fetch('/api/v1/sessions/`+sessionID+`').then(r => r.json()).then(a => a.session.scheduled_start + ' ' + a.session.time_zone + ' ' + a.session.record)`)
	if start != "2026-12-01T06:00:00Z Asia/Shanghai true" {
		t.Errorf("stored session: %q, want 2026-12-01T06:00:00Z Asia/Shanghai true", start)
	}

	// Invite a party; the link is shown once.
	const party = "Chen Wei (Prato)"
	staff.do("inviting a party",
		chromedp.SendKeys(css(in+`[data-testid="invite-name"]`), party),
		chromedp.SetValue(css(in+`[data-testid="invite-role"]`), "party"),
		chromedp.SetValue(css(in+`[data-testid="invite-language"]`), "it"),
		chromedp.Click(css(in+`[data-testid="invite-submit"]`)),
		chromedp.WaitVisible(css(in+`[data-testid="invite-url"]`)),
		chromedp.WaitVisible(css(in+`[data-testid="invite-copy"]`)),
		chromedp.WaitVisible(css(in+`[data-testid="invite-revoke"]`)),
	)
	link := staff.text("invite url", in+`[data-testid="invite-url"]`)
	if !strings.HasPrefix(link, n.URL()+"/join/") {
		t.Fatalf("invite url %q, want %s/join/…", link, n.URL())
	}
	if got := staff.text("participant", in+`[data-testid="participant-name"]`); got != party {
		t.Errorf("participant %q, want %q", got, party)
	}

	// The audit log shows the invite after a refresh.
	staff.do("audit log",
		chromedp.WaitVisible(css(`[data-testid="audit-row"]`)),
		chromedp.Click(css(`[data-testid="audit-refresh"]`)),
		waitJS(`document.querySelector('[data-testid="audit-row"][data-action="invite.create"]') !== null`),
	)

	// The party's link opens the pre-join page with the party's name.
	guest.do("opening the invite",
		chromedp.Navigate(link),
		chromedp.WaitVisible(css(`[data-testid="you"]`)),
	)
	if got := guest.text("pre-join name", `[data-testid="you"]`); !strings.Contains(got, party) {
		t.Errorf("pre-join page shows %q, want %q", got, party)
	}

	// Revoke (two clicks); the join page then refuses the link.
	staff.do("revoking the invite",
		chromedp.Click(css(in+`[data-testid="invite-revoke"]`)),
		waitJS(`document.querySelector('[data-testid="invite-revoke"]').dataset.confirm === '1'`),
		chromedp.Click(css(in+`[data-testid="invite-revoke"]`)),
		chromedp.WaitVisible(css(in+`[data-testid="invite"][data-state="revoked"]`)),
	)
	guest.do("reopening the revoked invite",
		chromedp.Navigate(link),
		chromedp.WaitVisible(css(`[data-testid="error-code"]`)),
	)
	if got := guest.text("error code", `[data-testid="error-code"]`); got != "invite_revoked" {
		t.Errorf("error code %q, want invite_revoked", got)
	}

	// A deep link survives a reload; logout ends the login.
	staff.do("reloading the case page",
		chromedp.Navigate(n.URL()+"/staff/cases/"+caseID),
		chromedp.WaitVisible(css(`[data-testid="case-heading"]`)),
		chromedp.WaitVisible(css(in+`[data-testid="invite"][data-state="revoked"]`)),
	)
	staff.do("logging out",
		chromedp.Click(css(`[data-testid="logout"]`)),
		chromedp.WaitVisible(css(`[data-testid="login-email"]`)),
	)
	if status := staff.eval("me after logout", `fetch('/api/v1/me').then(r => String(r.status))`); status != "401" {
		t.Errorf("GET /api/v1/me after logout: %s, want 401", status)
	}
}
