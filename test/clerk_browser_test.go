package test

import (
	"context"
	"encoding/json"
	"math"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	cdpbrowser "github.com/chromedp/cdproto/browser"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/kuayang/kuayang/internal/config"
	"github.com/kuayang/kuayang/internal/demo"
	"github.com/kuayang/kuayang/internal/evidence"
)

// playerState is what window.kuayangStaff.player.debug() answers: the
// shared clock and where every participant's video is.
type playerState struct {
	Clock   float64 `json:"clock"`
	Start   float64 `json:"start"`
	End     float64 `json:"end"`
	Playing bool    `json:"playing"`
	Held    bool    `json:"held"`
	Played  bool    `json:"played"`
	Lanes   []struct {
		ID          string   `json:"id"`
		Name        string   `json:"name"`
		State       string   `json:"state"`
		Index       int      `json:"index"`
		Segments    int      `json:"segments"`
		CurrentTime float64  `json:"currentTime"`
		Wall        *float64 `json:"wall"`
		Paused      bool     `json:"paused"`
		Seeking     bool     `json:"seeking"`
		ReadyState  int      `json:"readyState"`
		Swaps       int      `json:"swaps"`
		Errors      int      `json:"errors"`
		Width       int      `json:"width"`
	} `json:"lanes"`
}

// player reads the review page's player state.
func (s staffTab) player(what string) playerState {
	s.t.Helper()
	raw := s.eval(what, `JSON.stringify(window.kuayangStaff.player ? window.kuayangStaff.player.debug() : null)`)
	var p playerState
	if raw == "null" || json.Unmarshal([]byte(raw), &p) != nil {
		s.t.Fatalf("%s: no player state: %s", what, raw)
	}
	return p
}

// recordedCall runs a recorded call of the demo session's two parties,
// both Go clients sending the real clip, for about d, and waits until the
// recording is sealed. It returns the node and the sealed recording.
func recordedCall(t *testing.T, d time.Duration) (*testNode, map[string]any) {
	t.Helper()
	media := realClip(t)
	n := startNode(t, func(c *config.Config) { c.SegmentDuration, c.SealGrace = 2*time.Second, time.Second })
	a := connectTo(t, n.URL(), n.invite(t, 1), media)
	b := connectTo(t, n.URL(), n.invite(t, 2), media)
	began := time.Now()
	flowing(t, a, 30, b)
	time.Sleep(d - time.Since(began))
	a.leave(t)
	b.leave(t)
	clerkAPI := staffClient(t, n.URL(), demoAccounts(n), "clerk")
	return n, waitSealed(t, clerkAPI, n.demo.SessionID, 30*time.Second)
}

// segmentCounts is the number of camera segments of every recorded
// participant (a screen share's are on the timeline apart).
func segmentCounts(rec map[string]any) map[string]int {
	out := map[string]int{}
	parts, _ := rec["participants"].([]any)
	for _, p := range parts {
		pm, _ := p.(map[string]any)
		segs, _ := pm["segments"].([]any)
		n := 0
		for _, sg := range segs {
			if sm, _ := sg.(map[string]any); sm["stream"] == nil {
				n++
			}
		}
		out[pm["id"].(string)] = n
	}
	return out
}

func demoClerk(t *testing.T, n *testNode) demo.Account {
	t.Helper()
	for _, a := range n.demo.Accounts {
		if a.Role == "clerk" {
			return a
		}
	}
	t.Fatalf("no demo clerk in %+v", n.demo.Accounts)
	return demo.Account{}
}

// snapshot saves a screenshot of the tab when KUAYANG_TEST_ARTIFACTS is set.
func (s staffTab) snapshot(name string) {
	if os.Getenv("KUAYANG_TEST_ARTIFACTS") != "" {
		screenshot(s.t, s.ctx, name)
	}
}

// login fills the login form the page shows.
func (s staffTab) login(a demo.Account) {
	s.t.Helper()
	s.do("logging in as "+a.Email,
		chromedp.WaitVisible(css(`[data-testid="login-email"]`)),
		chromedp.SendKeys(css(`[data-testid="login-email"]`), a.Email),
		chromedp.SendKeys(css(`[data-testid="login-password"]`), a.Password),
		chromedp.Click(css(`[data-testid="login-submit"]`)),
		chromedp.WaitNotPresent(css(`[data-testid="login-email"]`)),
	)
}

// checkTimeline checks that the review page's timeline shows every
// recorded segment of every participant.
func checkTimeline(t *testing.T, s staffTab, rec map[string]any) {
	t.Helper()
	s.do("waiting for the timeline", chromedp.WaitVisible(css(`[data-testid="timeline-segment"]`)))
	for id, want := range segmentCounts(rec) {
		got := s.eval("segments on the timeline", `String(document.querySelectorAll('[data-testid="timeline-segment"][data-participant-id=`+jsString(id)+`]').length)`)
		if got != strconv.Itoa(want) {
			t.Errorf("timeline shows %s segments of %s, the recording has %d", got, id, want)
		}
	}
}

// TestClerkDesk: after a recorded, sealed call of two participants, a
// clerk finds the case by its number, opens it and the session's review
// page, plays it with both videos in step after a seek, verifies it
// (intact), downloads the evidence bundle (which `kuayang verify` accepts),
// and sees the play, the check and the export in the access log.
func TestClerkDesk(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	requireChromium(t)
	if os.Getenv(netnsEnv) == "" {
		runInNetns(t, "TestClerkDesk")
		return
	}
	bringUpLoopback(t)
	n, rec := recordedCall(t, 7*time.Second)
	sid := n.demo.SessionID

	browser := newBrowser(t)
	t.Cleanup(func() {
		if t.Failed() || os.Getenv("KUAYANG_TEST_ARTIFACTS") != "" {
			screenshot(t, browser, "clerk-desk")
		}
	})
	staff := staffTab{t, browser}
	staff.do("opening the staff pages", chromedp.Navigate(n.URL()+"/staff/?lang=en"))
	staff.login(demoClerk(t, n))

	// Search by the case number: one row, and the search is in the URL.
	staff.do("searching by case number",
		chromedp.WaitVisible(css(`[data-testid="case-search"]`)),
		chromedp.SendKeys(css(`[data-testid="case-search"]`), demo.CaseNumber),
		waitJS(`new URLSearchParams(location.search).get('q') === `+jsString(demo.CaseNumber)),
		waitJS(`document.querySelectorAll('[data-testid="case-row"]').length === 1 && document.querySelector('[data-testid="case-row"]').dataset.caseId === `+jsString(n.demo.CaseID)),
	)
	if got := staff.text("page info", `[data-testid="page-info"]`); got != "1–1 of 1" {
		t.Errorf("page info %q, want 1–1 of 1", got)
	}
	// Another sort is a new history entry; Back returns to the previous
	// search, and a reload keeps it.
	staff.do("sorting, going back and reloading",
		chromedp.SetValue(css(`[data-testid="case-sort"]`), "last_session"),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('[data-testid="case-sort"]').dispatchEvent(new Event('change'))`),
		waitJS(`new URLSearchParams(location.search).get('sort') === 'last_session'`),
		waitJS(`document.querySelector('th[aria-sort]') !== null`),
		chromedp.NavigateBack(),
		waitJS(`!location.search.includes('sort=') && document.querySelector('[data-testid="case-sort"]').value === 'created'`),
		chromedp.Reload(),
		waitJS(`document.querySelector('[data-testid="case-search"]') && document.querySelector('[data-testid="case-search"]').value === `+jsString(demo.CaseNumber)),
		waitJS(`document.querySelectorAll('[data-testid="case-row"]').length === 1`),
		waitJS(`document.querySelectorAll('[data-testid="case-presider"] option').length > 1`),
	)
	if got := staff.text("last session", `[data-testid="case-last-session"]`); !strings.Contains(got, "2026") {
		t.Errorf("last session %q", got)
	}
	staff.snapshot("clerk-search")

	// The case page lists the session with its recording sealed; its
	// review link opens the review page.
	in := `[data-testid="session"][data-session-id="` + sid + `"] `
	staff.do("opening the case",
		chromedp.Click(css(`[data-testid="case-number-link"]`)),
		chromedp.WaitVisible(css(`[data-testid="case-heading"]`)),
		chromedp.WaitVisible(css(in+`[data-testid="recording-state"][data-state="sealed"]`)),
		chromedp.WaitVisible(css(in+`[data-testid="legal-hold"]`)),
		chromedp.WaitVisible(css(`[data-testid="party-name"]`)),
	)
	staff.snapshot("clerk-case")
	// Legal hold: on with one click, off with two.
	staff.do("putting the recording on legal hold and lifting it",
		chromedp.Click(css(in+`[data-testid="legal-hold-toggle"]`)),
		chromedp.WaitVisible(css(in+`[data-testid="legal-hold"][data-on="true"]`)),
		chromedp.Click(css(in+`[data-testid="legal-hold-toggle"]`)),
		waitJS(`document.querySelector('[data-testid="legal-hold-toggle"]').dataset.confirm === '1'`),
		chromedp.Click(css(in+`[data-testid="legal-hold-toggle"]`)),
		chromedp.WaitVisible(css(in+`[data-testid="legal-hold"][data-on="false"]`)),
	)
	staff.do("opening the session's review",
		chromedp.Click(css(in+`[data-testid="session-review"]`)),
		chromedp.WaitVisible(css(`[data-testid="review-heading"]`)),
		chromedp.WaitVisible(css(`[data-testid="player-play"]`)),
	)
	staff.snapshot("clerk-review")
	if loc := staff.eval("location", `location.pathname`); loc != "/staff/sessions/"+sid+"/review" {
		t.Errorf("review page at %q", loc)
	}
	checkTimeline(t, staff, rec)

	// Play, then seek to the middle: both videos play in step with the
	// shared clock.
	staff.do("playing",
		chromedp.Click(css(`[data-testid="player-play"]`)),
		waitJS(`window.kuayangStaff.player.debug().playing && window.kuayangStaff.player.debug().played`),
	)
	p := staff.player("player after play")
	mid := p.Start + (p.End-p.Start)*0.45
	staff.eval("seeking", `(() => {
	  const bar = document.querySelector('[data-testid="player-seek"]');
	  bar.value = String(Math.round((`+strconv.FormatFloat(mid, 'f', 0, 64)+` - window.kuayangStaff.player.debug().start) / 100));
	  bar.dispatchEvent(new Event('input', {bubbles: true}));
	  bar.dispatchEvent(new Event('change', {bubbles: true}));
	  return 'ok';
	})()`)
	time.Sleep(2 * time.Second)
	p = staff.player("player after the seek")
	if !p.Playing || p.Clock < mid+500 {
		t.Fatalf("after seeking to %.0f and 2 s: clock %.0f, playing %v, held %v", mid, p.Clock, p.Playing, p.Held)
	}
	var walls []float64
	for _, l := range p.Lanes {
		if l.Segments == 0 {
			continue
		}
		if l.State != "media" || l.Wall == nil || l.Paused || l.Width == 0 {
			t.Fatalf("%s after the seek: state %s, wall %v, paused %v, width %d, readyState %d, errors %d", l.Name, l.State, l.Wall, l.Paused, l.Width, l.ReadyState, l.Errors)
		}
		if d := math.Abs(*l.Wall - p.Clock); d > 300 {
			t.Errorf("%s's video is %.0f ms from the shared clock (currentTime %.3f in segment %d)", l.Name, d, l.CurrentTime, l.Index)
		}
		walls = append(walls, *l.Wall)
	}
	if len(walls) != 2 {
		t.Fatalf("%d participants' videos playing, want 2: %+v", len(walls), p.Lanes)
	}
	if d := math.Abs(walls[0] - walls[1]); d > 300 {
		t.Errorf("the two videos are %.0f ms apart", d)
	}
	// A video pushed a second off the clock is put back.
	staff.eval("pushing a video off", `(() => { const v = document.querySelector('[data-testid="player-tile"] video.is-active'); v.currentTime += 1; return 'ok'; })()`)
	time.Sleep(time.Second)
	p = staff.player("player after the push")
	for _, l := range p.Lanes {
		if l.Segments > 0 && (l.Wall == nil || math.Abs(*l.Wall-p.Clock) > 300) {
			t.Errorf("%s was not put back on the clock: %v vs %.0f", l.Name, l.Wall, p.Clock)
		}
	}
	// Links about to expire are renewed while it plays.
	staff.do("renewing the links",
		chromedp.Evaluate[chromedp.Void](`window.kuayangStaff.player.linksExpire = new Date(Date.now() + 1000).toISOString()`),
		waitJS(`Date.parse(window.kuayangStaff.player.debug().linksExpire) > Date.now() + 5 * 60000`),
	)
	clockText := staff.text("clock overlay", `[data-testid="player-clock-utc"]`)
	if !strings.HasPrefix(clockText, time.UnixMilli(int64(p.Clock)).UTC().Format("2006-01-02 15:04")) {
		t.Errorf("UTC overlay %q, clock %s", clockText, time.UnixMilli(int64(p.Clock)).UTC())
	}
	staff.do("pausing, muting and hiding one participant",
		chromedp.Click(css(`[data-testid="player-play"]`)),
		waitJS(`!window.kuayangStaff.player.debug().playing`),
		chromedp.Click(css(`[data-testid="player-tile"] [data-testid="player-mute"]`)),
		chromedp.Click(css(`[data-testid="player-tile"] [data-testid="player-hide"]`)),
		waitJS(`document.querySelector('[data-testid="player-tile"]').classList.contains('is-hidden') && window.kuayangStaff.player.debug().lanes[0].muted && window.kuayangStaff.player.debug().lanes[0].hidden`),
		chromedp.Click(css(`[data-testid="player-tile"] [data-testid="player-hide"]`)),
	)

	// Verify now: intact, in green, with what was checked.
	staff.do("verifying",
		chromedp.Click(css(`[data-testid="verify-button"]`)),
		chromedp.WaitVisible(css(`[data-testid="verify-result"]`)),
	)
	if ok := staff.eval("verify result", `document.querySelector('[data-testid="verify-result"]').dataset.ok`); ok != "true" {
		t.Fatalf("verify: %s", staff.text("verify result", `[data-testid="verify-result"]`))
	}
	summary := staff.text("verify summary", `[data-testid="verify-summary"]`)
	if !strings.HasPrefix(summary, "Intact, signed by key ed25519:") {
		t.Errorf("verify summary %q", summary)
	}
	total := 0
	for _, c := range segmentCounts(rec) {
		total += c
	}
	if got := staff.text("segments checked", `[data-testid="verify-segments"]`); got != strconv.Itoa(total) {
		t.Errorf("segments checked %q, want %d", got, total)
	}
	if got := staff.text("manifest hash", `[data-testid="verify-manifest"]`); got != rec["manifest_sha256"] {
		t.Errorf("manifest SHA-256 %q, want %v", got, rec["manifest_sha256"])
	}

	// Download the bundle through the page's link, as a browser download.
	path, done := staff.download("downloading the bundle", `[data-testid="review-bundle"]`, 60*time.Second)
	info, err := os.Stat(path)
	if err != nil {
		t.Fatalf("the downloaded bundle: %v", err)
	}
	if done.TotalBytes != float64(info.Size()) {
		t.Errorf("the browser expected %.0f bytes (Content-Length) and got %d", done.TotalBytes, info.Size())
	}
	// The page showed the exact size beforehand.
	if got := staff.eval("expected size", `(() => { const e = document.querySelector('[data-testid="bundle-size"]'); return e.dataset.exact + ' ' + e.dataset.bytes; })()`); got != "true "+strconv.FormatInt(info.Size(), 10) {
		t.Errorf("the page expected %q (exact, bytes), the bundle has %d bytes", got, info.Size())
	}
	report, err := verifyBundle(t, func() (evidence.Source, error) { return evidence.OpenZip(path) })
	if err != nil {
		t.Fatalf("kuayang verify refuses the downloaded bundle: %v", err)
	}
	if report.SessionID != sid {
		t.Errorf("bundle of session %s, want %s", report.SessionID, sid)
	}

	// The certificate is a page of its own.
	cert := staff.eval("certificate", `fetch(document.querySelector('[data-testid="certificate-link"]').href).then(async r => r.status + ' ' + r.headers.get('content-type') + '\n' + await r.text())`)
	if !strings.HasPrefix(cert, "200 text/html") || !strings.Contains(cert, rec["manifest_sha256"].(string)) {
		t.Errorf("certificate: %.300s", cert)
	}

	// The access log lists the play, the check and the exports.
	staff.do("reading the access log",
		chromedp.Click(css(`[data-testid="access-refresh"]`)),
		waitJS(`['recording.play', 'recording.verify', 'recording.export', 'recording.certificate'].every(a => document.querySelector('[data-testid="access-row"][data-action="' + a + '"]'))`),
	)
	staff.snapshot("clerk-access")

	csv := staff.eval("access log CSV", `fetch(document.querySelector('[data-testid="access-csv"]').href).then(async r => r.status + ' ' + r.headers.get('content-type') + '\n' + await r.text())`)
	if !strings.HasPrefix(csv, "200 text/csv") || !strings.Contains(csv, "seq,time,actor_kind,actor_id,actor_name,action,case_id,session_id,ip,detail,hash") || !strings.Contains(csv, "recording.export") {
		t.Errorf("access log CSV: %.300s", csv)
	}

	// On a phone's width nothing sticks out sideways.
	staff.do("narrowing the window",
		chromedp.EmulateViewport(390, 844),
		chromedp.Sleep(300*time.Millisecond),
	)
	staff.snapshot("clerk-review-narrow")
	if w := staff.eval("page width", `String(document.documentElement.scrollWidth)`); w != "390" {
		t.Errorf("at 390 px the review page is %s px wide", w)
	}
	staff.do("the case list on a phone", chromedp.Navigate(n.URL()+"/staff/?q="+url.QueryEscape(demo.CaseNumber)), chromedp.WaitVisible(css(`[data-testid="case-row"]`)))
	if w := staff.eval("page width", `String(document.documentElement.scrollWidth)`); w != "390" {
		t.Errorf("at 390 px the case list is %s px wide", w)
	}
}

// TestClerkLongSession: a recorded call of several 2-second segments plays
// across the segment boundaries (the playing segment changes, the wall
// clock position keeps advancing), and the timeline shows every segment.
func TestClerkLongSession(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	requireChromium(t)
	if os.Getenv(netnsEnv) == "" {
		runInNetns(t, "TestClerkLongSession")
		return
	}
	bringUpLoopback(t)
	n, rec := recordedCall(t, 8*time.Second)
	for id, c := range segmentCounts(rec) {
		if c < 3 {
			t.Fatalf("participant %s has %d segments, want at least 3", id, c)
		}
	}
	sid := n.demo.SessionID

	browser := newBrowser(t)
	t.Cleanup(func() {
		if t.Failed() || os.Getenv("KUAYANG_TEST_ARTIFACTS") != "" {
			screenshot(t, browser, "clerk-long-session")
		}
	})
	staff := staffTab{t, browser}
	staff.do("opening the review page", chromedp.Navigate(n.URL()+"/staff/sessions/"+sid+"/review?lang=en"))
	staff.login(demoClerk(t, n))
	staff.do("waiting for the player", chromedp.WaitVisible(css(`[data-testid="player-play"]`)))
	checkTimeline(t, staff, rec)

	// The timeline is a slider: End and Home move the player.
	staff.do("moving with the keyboard",
		chromedp.Focus(css(`[data-testid="timeline-svg"]`)),
		chromedp.KeyEvent(kb.End),
		waitJS(`(p => p.clock === p.end)(window.kuayangStaff.player.debug())`),
		chromedp.KeyEvent(kb.Home),
		waitJS(`(p => p.clock === p.start)(window.kuayangStaff.player.debug())`),
	)
	staff.do("playing from the start at double speed",
		chromedp.SetValue(css(`[data-testid="player-speed"]`), "2"),
		chromedp.Evaluate[chromedp.Void](`document.querySelector('[data-testid="player-speed"]').dispatchEvent(new Event('change'))`),
		waitJS(`window.kuayangStaff.player.debug().rate === 2`),
		chromedp.Click(css(`[data-testid="player-play"]`)),
	)
	type sample struct {
		index int
		wall  float64
		ct    float64
	}
	seen := map[string][]sample{}
	deadline := time.Now().Add(40 * time.Second)
	var p playerState
	for time.Now().Before(deadline) {
		p = staff.player("sampling the player")
		for _, l := range p.Lanes {
			if l.State == "media" && l.Wall != nil {
				seen[l.ID] = append(seen[l.ID], sample{l.Index, *l.Wall, l.CurrentTime})
			}
		}
		if !p.Playing && p.Played && p.Clock >= p.End-1 {
			break
		}
		time.Sleep(150 * time.Millisecond)
	}
	if p.Clock < p.End-1 {
		t.Fatalf("playback did not reach the end within 40 s: clock at %.0f of %.0f–%.0f", p.Clock, p.Start, p.End)
	}
	for id, want := range segmentCounts(rec) {
		ss := seen[id]
		indexes := map[int]bool{}
		for i, s := range ss {
			indexes[s.index] = true
			if i == 0 {
				continue
			}
			prev := ss[i-1]
			if s.index < prev.index {
				t.Errorf("%s: segment %d played after %d", id, s.index, prev.index)
			}
			if s.wall < prev.wall-200 {
				t.Errorf("%s: the position went back from %.0f to %.0f (segment %d→%d, currentTime %.3f→%.3f)", id, prev.wall, s.wall, prev.index, s.index, prev.ct, s.ct)
			}
		}
		if len(indexes) < min(3, want) {
			t.Errorf("%s: played segments %v of %d", id, indexes, want)
		}
		if len(ss) > 0 && ss[len(ss)-1].wall-ss[0].wall < 5000 {
			t.Errorf("%s: the position advanced only from %.0f to %.0f", id, ss[0].wall, ss[len(ss)-1].wall)
		}
	}
	for _, l := range p.Lanes {
		if l.Segments > 0 && l.Swaps < 2 {
			t.Errorf("%s: the standby video took over %d times, want one per boundary", l.Name, l.Swaps)
		}
	}
}

// download clicks sel and waits, up to d, for the browser to save what it
// downloads; it returns the file's path and the browser's last progress
// event (its TotalBytes is the Content-Length).
func (s staffTab) download(what, sel string, d time.Duration) (string, cdpbrowser.EventDownloadProgress) {
	t := s.t
	t.Helper()
	dir := t.TempDir()
	dctx, cancel := context.WithTimeout(s.ctx, d)
	defer cancel()
	progress := chromedp.Events(dctx, cdpbrowser.DownloadProgress)
	s.do(what,
		chromedp.Func(func(ctx context.Context, _ *chromedp.Target) error {
			_, err := chromedp.Call(ctx, cdpbrowser.SetDownloadBehavior, cdpbrowser.SetDownloadBehaviorParams{
				Behavior: cdpbrowser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir, EventsEnabled: new(true),
			})
			return err
		}),
		chromedp.Click(css(sel)),
	)
	var done cdpbrowser.EventDownloadProgress
	for ev, err := range progress {
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if ev.State == cdpbrowser.DownloadProgressStateCanceled {
			t.Fatalf("%s: the download was canceled: %+v", what, ev)
		}
		if ev.State == cdpbrowser.DownloadProgressStateCompleted {
			done = ev
			break
		}
	}
	return filepath.Join(dir, done.GUID), done
}
