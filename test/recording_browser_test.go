package test

import (
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/kuayang/kuayang/internal/config"
)

// TestClerkDownloadsSealedRecording: after a recorded call, the clerk's
// case page shows the recording sealed, with its signing key, and the
// evidence bundle downloads.
func TestClerkDownloadsSealedRecording(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	requireChromium(t)
	if os.Getenv(netnsEnv) == "" {
		runInNetns(t, "TestClerkDownloadsSealedRecording")
		return
	}
	bringUpLoopback(t)
	media := realClip(t)
	n := startNode(t, func(c *config.Config) { c.SegmentDuration, c.SealGrace = 2*time.Second, time.Second })
	a := connectTo(t, n.URL(), n.invite(t, 1), media)
	b := connectTo(t, n.URL(), n.invite(t, 2), media)
	flowing(t, a, 30, b)
	time.Sleep(3 * time.Second)
	a.leave(t)
	b.leave(t)
	clerkAPI := staffClient(t, n.URL(), demoAccounts(n), "clerk")
	waitSealed(t, clerkAPI, n.demo.SessionID, 30*time.Second)

	browser := newBrowser(t)
	t.Cleanup(func() {
		if t.Failed() || os.Getenv("KUAYANG_TEST_ARTIFACTS") != "" {
			screenshot(t, browser, "clerk-recording")
		}
	})
	staff := staffTab{t, browser}
	var clerk = n.demo.Accounts[1]
	staff.do("logging in and opening the demo case",
		chromedp.Navigate(n.URL()+"/staff/cases/"+n.demo.CaseID+"?lang=en"),
		chromedp.WaitVisible(css(`[data-testid="login-email"]`)),
		chromedp.SendKeys(css(`[data-testid="login-email"]`), clerk.Email),
		chromedp.SendKeys(css(`[data-testid="login-password"]`), clerk.Password),
		chromedp.Click(css(`[data-testid="login-submit"]`)),
		chromedp.WaitVisible(css(`[data-testid="recording-state"][data-state="sealed"]`)),
		chromedp.WaitVisible(css(`[data-testid="bundle-download"]`)),
	)
	status := staff.eval("downloading the bundle", `(async () => {
	  const a = document.querySelector('[data-testid="bundle-download"]');
	  const r = await fetch(a.href);
	  const b = await r.arrayBuffer();
	  const sig = new Uint8Array(b.slice(0, 2));
	  return r.status + ' ' + r.headers.get('content-type') + ' ' + String.fromCharCode(...sig);
	})()`)
	if status != "200 application/zip PK" {
		t.Fatalf("bundle download: %q", status)
	}
	// Chromium plays a recorded segment on its own, through its playback
	// link: video decodes and time advances.
	played := staff.eval("playing a segment", `(async () => {
	  const r = await fetch('/api/v1/sessions/`+n.demo.SessionID+`/recordings');
	  const rec = await r.json();
	  const seg = rec.participants[0].segments[0];
	  const v = document.createElement('video');
	  v.muted = true;
	  v.src = seg.url;
	  document.body.append(v);
	  await v.play();
	  const t0 = performance.now();
	  while (v.currentTime < 0.5 && performance.now() - t0 < 10000) await new Promise(res => setTimeout(res, 50));
	  const q = v.getVideoPlaybackQuality();
	  return v.currentTime >= 0.5 && v.videoWidth > 0 && q.totalVideoFrames > 0 ? 'played ' + v.videoWidth + 'x' + v.videoHeight : 'stuck at ' + v.currentTime + ' error ' + (v.error && v.error.message);
	})()`)
	if !strings.HasPrefix(played, "played 320x240") {
		t.Fatalf("segment playback in Chromium: %s", played)
	}
}
