package test

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/kuayang/kuayang/internal/auth"
	"github.com/kuayang/kuayang/internal/demo"
)

// TestBookingPage drives the booking page in Chromium with the browser's
// zone set to Europe/Rome: the demo organization serves Mon-Sat 14:00-22:00
// Shanghai time; the party sees the free slots in Rome time with the
// Shanghai time beside them, books one, and the session's scheduled start
// in the store is that instant. The pre-join page shows the office hours
// in Rome time too. Like TestBrowserCall it runs in a network namespace of
// its own.
func TestBookingPage(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	requireChromium(t)
	if os.Getenv(netnsEnv) == "" {
		runInNetns(t, "TestBookingPage")
		return
	}
	bringUpLoopback(t)
	bookingPage(t)
}

func bookingPage(t *testing.T) {
	n := startNode(t)
	if len(n.demo.BookURLs) != 1 {
		t.Fatalf("demo booking links %+v", n.demo.BookURLs)
	}
	link := n.demo.BookURLs[0].URL
	token := link[strings.LastIndex(link, "/")+1:]
	inv, err := n.Store().InviteByTokenHash(t.Context(), auth.HashToken(token))
	if err != nil {
		t.Fatal(err)
	}
	rome, _ := time.LoadLocation("Europe/Rome")
	shanghai, _ := time.LoadLocation("Asia/Shanghai")

	ctx := newBrowser(t)
	tab := staffTab{t, ctx}
	t.Cleanup(func() {
		if t.Failed() {
			screenshot(t, ctx, "booking")
		}
	})
	zctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	_, err = chromedp.Call(zctx, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: "Europe/Rome"})
	cancel()
	if err != nil {
		t.Fatalf("time zone override: %v", err)
	}

	tab.do("opening the booking page",
		chromedp.Navigate(link+"?lang=en"),
		chromedp.WaitVisible(css(`[data-testid="slot"]`)))
	if got := tab.eval("browser zone", `Intl.DateTimeFormat().resolvedOptions().timeZone`); got != "Europe/Rome" {
		t.Fatalf("browser zone %q, want Europe/Rome", got)
	}
	if zone := tab.text("zone line", `[data-testid="book-zone"]`); !strings.Contains(zone, "Europe/Rome") {
		t.Errorf("zone line %q", zone)
	}
	if hours := tab.text("hours", `[data-testid="book-hours"]`); !strings.Contains(hours, "14:00–22:00 in Shanghai") || !strings.Contains(hours, "your time") {
		t.Errorf("office hours %q, want them in Rome time with Shanghai's beside", hours)
	}

	// Every slot shows its Rome time and its Shanghai time, and lies in
	// the hours in Shanghai.
	slots := tab.eval("slots", `JSON.stringify([...document.querySelectorAll('[data-testid="slot"]')].map(b => [b.dataset.start,
		b.querySelector('[data-testid="slot-local"]').textContent, b.querySelector('[data-testid="slot-org"]').textContent]))`)
	var shown [][3]string
	if err := json.Unmarshal([]byte(slots), &shown); err != nil {
		t.Fatalf("slots %s: %v", slots, err)
	}
	var pick time.Time
	count := 0
	for _, sl := range shown {
		start, err := time.Parse(time.RFC3339, sl[0])
		if err != nil {
			t.Fatalf("slot start %q: %v", sl[0], err)
		}
		local, org := sl[1], sl[2]
		if local != start.In(rome).Format("15:04") || org != start.In(shanghai).Format("15:04")+" in Shanghai" {
			t.Errorf("slot %v shown as %q / %q, want %s / %s in Shanghai", start, local, org, start.In(rome).Format("15:04"), start.In(shanghai).Format("15:04"))
		}
		if s := start.In(shanghai); s.Hour() < 14 || s.Hour() >= 22 || s.Weekday() == time.Sunday {
			t.Errorf("slot %v outside the hours", s)
		}
		count++
		if pick.IsZero() && time.Until(start) > 30*time.Minute {
			pick = start
		}
	}
	if count < 20 || pick.IsZero() {
		t.Fatalf("%d slots, picked %v", count, pick)
	}
	iso := pick.UTC().Format(time.RFC3339)
	t.Logf("%d slots shown; booking %s (%s in Rome)", count, iso, pick.In(rome).Format("Mon 15:04"))
	tab.do("picking a slot",
		chromedp.Click(css(`[data-testid="slot"][data-start="`+iso+`"]`)),
		chromedp.WaitVisible(css(`[data-testid="book-confirm"]`)))
	if text := tab.text("confirmation", `[data-testid="book-confirm-text"]`); !strings.Contains(text, pick.In(rome).Format("15:04")) ||
		!strings.Contains(text, pick.In(shanghai).Format("15:04")) {
		t.Errorf("confirmation %q, want %s and %s", text, pick.In(rome).Format("15:04"), pick.In(shanghai).Format("15:04"))
	}
	tab.do("booking it",
		chromedp.Click(css(`[data-testid="book-confirm"]`)),
		chromedp.WaitVisible(css(`[data-testid="book-done"]`)))
	if text := tab.text("done", `[data-testid="book-done-text"]`); !strings.Contains(text, pick.In(rome).Format("15:04")) {
		t.Errorf("done text %q, want %s", text, pick.In(rome).Format("15:04"))
	}
	if ics := tab.eval("ics link", `(() => { const a = document.querySelector('[data-testid="book-ics"]'); return a.href.slice(0, 5) + ' ' + a.download; })()`); !strings.HasPrefix(ics, "blob: ") || !strings.HasSuffix(ics, ".ics") {
		t.Errorf("calendar link %q", ics)
	}
	sess, err := n.Store().Session(t.Context(), inv.SessionID)
	if err != nil {
		t.Fatal(err)
	}
	if !sess.ScheduledStart.Equal(pick) || !sess.ScheduledEnd.Equal(pick.Add(30*time.Minute)) {
		t.Fatalf("stored schedule %v-%v, want %v (+30 min)", sess.ScheduledStart, sess.ScheduledEnd, pick)
	}

	// The pre-join page of the same invite shows the hours in Rome time.
	tab.do("opening the join page",
		chromedp.Click(css(`[data-testid="book-join"]`)),
		chromedp.WaitVisible(css(`[data-testid="office-hours"]`)))
	if hours := tab.text("pre-join hours", `[data-testid="office-hours"]`); !strings.Contains(hours, "your time (14:00–22:00 in Shanghai)") {
		t.Errorf("pre-join office hours %q", hours)
	}

	staffHours(t, n, tab)
}

// staffHours: the demo admin sees the office hours, is refused bad ones,
// sets new ones; then schedules a session whose time the party books.
func staffHours(t *testing.T, n *testNode, tab staffTab) {
	var admin demo.Account
	for _, a := range n.demo.Accounts {
		if a.Role == "admin" {
			admin = a
		}
	}
	tab.do("logging in as the admin",
		chromedp.Navigate(n.URL()+"/staff/?lang=en"),
		chromedp.WaitVisible(css(`[data-testid="login-email"]`)),
		chromedp.SendKeys(css(`[data-testid="login-email"]`), admin.Email),
		chromedp.SendKeys(css(`[data-testid="login-password"]`), admin.Password),
		chromedp.Click(css(`[data-testid="login-submit"]`)),
		chromedp.WaitVisible(css(`[data-testid="hours-link"]`)),
		chromedp.Click(css(`[data-testid="hours-link"]`)),
		chromedp.WaitVisible(css(`[data-testid="hours-summary"]`)),
		chromedp.WaitVisible(css(`[data-testid="hours-day-sat"]`)))
	if z, mon := tab.text("zone", `[data-testid="hours-show-zone"]`), tab.text("monday", `[data-testid="hours-show-mon"]`); z != "Asia/Shanghai" || mon != "14:00–22:00" {
		t.Errorf("hours shown: zone %q, Monday %q", z, mon)
	}
	tab.do("setting overlapping hours",
		chromedp.SetValue(css(`[data-testid="hours-day-sat"]`), "09:00-12:00, 11:00-18:00"),
		chromedp.Click(css(`[data-testid="hours-save"]`)),
		chromedp.WaitVisible(css(`[data-testid="hours-error"]`)))
	if e := tab.text("error", `[data-testid="hours-error"]`); !strings.Contains(e, "overlaps") {
		t.Errorf("error %q, want the overlap named", e)
	}
	tab.do("setting Saturday morning and afternoon",
		chromedp.SetValue(css(`[data-testid="hours-day-sat"]`), "09:00-12:00, 14:00-18:00"),
		chromedp.SetValue(css(`[data-testid="hours-closed"]`), "2026-12-25"),
		chromedp.Click(css(`[data-testid="hours-save"]`)),
		chromedp.WaitVisible(css(`[data-testid="hours-saved"]`)))
	h, err := n.Store().OfficeHours(t.Context(), mustOrg(t, n))
	if err != nil || len(h.Weekly[time.Saturday]) != 2 || h.Weekly[time.Saturday][1].String() != "14:00-18:00" || len(h.Closed) != 1 {
		t.Fatalf("stored hours %+v, %v", h, err)
	}

	// A session left to the party: no start needed.
	tab.do("opening the demo case",
		chromedp.Navigate(n.URL()+"/staff/cases/"+n.demo.CaseID+"?lang=en"),
		chromedp.WaitVisible(css(`[data-testid="session-self-booking"]`)),
		chromedp.SendKeys(css(`[data-testid="session-title"]`), "Signing, time chosen by the party"),
		chromedp.Click(css(`[data-testid="session-self-booking"]`)),
		chromedp.Click(css(`[data-testid="session-submit"]`)),
		waitJS(`[...document.querySelectorAll('[data-testid="session-booking"]')].some(e => e.dataset.booked === 'false')`))
	id := tab.eval("new session", `[...document.querySelectorAll('[data-testid="session"]')].find(e => e.textContent.includes('Signing, time chosen')).dataset.sessionId`)
	if b, err := n.Store().SelfBooking(t.Context(), id); err != nil || b.BookedAt != nil {
		t.Fatalf("self-booking of the new session: %+v, %v", b, err)
	}
}

// mustOrg is the id of the demo organization.
func mustOrg(t *testing.T, n *testNode) string {
	t.Helper()
	c, err := n.Store().Case(t.Context(), n.demo.CaseID)
	if err != nil {
		t.Fatal(err)
	}
	return c.OrgID
}
