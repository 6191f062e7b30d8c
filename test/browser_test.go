package test

import (
	"context"
	"fmt"
	"github.com/kuayang/kuayang/internal/config"
	"github.com/kuayang/kuayang/internal/evidence"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"golang.org/x/sys/unix"
)

// The browser test runs Chromium and a node in a network namespace of its
// own that has nothing but a loopback interface: the test re-executes
// itself there. Chromium then gathers loopback candidates only
// (--allow-loopback-in-peer-connection), and no packet can reach any
// address but 127.0.0.1.

const (
	chromiumPath = "/usr/bin/chromium"
	netnsEnv     = "KUAYANG_TEST_IN_NETNS"
)

// requireChromium skips without Chromium, except in CI, where it fails.
func requireChromium(t *testing.T) {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err == nil {
		return
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("CI=%s but %s is missing: .ci/run installs Debian's chromium package", os.Getenv("CI"), chromiumPath)
	}
	t.Skipf("SKIPPING the browser test: %s not found (apt-get install chromium)", chromiumPath)
}

func TestBrowserCall(t *testing.T) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	requireChromium(t)
	if os.Getenv(netnsEnv) == "" {
		runInNetns(t, "TestBrowserCall")
		return
	}
	bringUpLoopback(t)
	browserCall(t)
}

// runInNetns re-executes the test called name in a new network namespace.
func runInNetns(t *testing.T, name string) {
	cmd := exec.Command(os.Args[0], "-test.run=^"+name+"$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), netnsEnv+"=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWNET}
	out, err := cmd.CombinedOutput()
	if err != nil && strings.Contains(err.Error(), "operation not permitted") && os.Getenv("CI") == "" {
		t.Skipf("SKIPPING the browser test: cannot create a network namespace (%v); run as root", err)
	}
	t.Logf("browser test in its own network namespace:\n%s", out)
	if err != nil {
		t.Fatalf("browser test failed: %v", err)
	}
	if !strings.Contains(string(out), "--- PASS: "+name) {
		t.Fatal("browser test did not pass in the namespace")
	}
}

// bringUpLoopback sets lo up in this (new) namespace.
func bringUpLoopback(t *testing.T) {
	t.Helper()
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		t.Fatal(err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		t.Fatalf("bringing lo up: %v", err)
	}
}

// newBrowser starts Chromium with fake devices; extra options come last
// (e.g. a file for the fake camera). Its fake devices include a screen:
// getDisplayMedia answers at once with an 800x600 test pattern
// ("screen:-3:0", a monitor), headless, without any other flag.
func newBrowser(t *testing.T, extra ...chromedp.ExecAllocatorOption) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1024, 768),
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("use-fake-ui-for-media-stream", true),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
		chromedp.Flag("allow-loopback-in-peer-connection", true),
		chromedp.Flag("disable-features", "WebRtcHideLocalIpsWithMdns,Translate,MediaRouter"),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
	)
	opts = append(opts, extra...)
	alloc, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	return ctx
}

// mediaStats is what a page has received on its subscribe connection.
type mediaStats struct {
	FramesDecoded int     `json:"frames"`
	AudioSamples  float64 `json:"samples"`
	Tiles         int     `json:"tiles"`
}

const statsJS = `(async () => {
  const k = window.kuayang, pc = k && k.client && k.client.subscribePC;
  const out = {frames: 0, samples: 0, tiles: document.querySelectorAll('[data-testid="tile"]').length};
  if (!pc) return out;
  (await pc.getStats()).forEach(r => {
    if (r.type !== 'inbound-rtp') return;
    if (r.kind === 'video') out.frames += r.framesDecoded || 0;
    if (r.kind === 'audio') out.samples += r.totalSamplesReceived || 0;
  });
  return out;
})()`

func stats(ctx context.Context) (mediaStats, error) {
	return chromedp.Run(ctx, chromedp.Evaluate[mediaStats](statsJS, chromedp.EvalAwaitPromise))
}

// css selects by CSS selector.
func css(sel string) chromedp.CSS { return chromedp.CSS(sel) }

func browserCall(t *testing.T) {
	n := startNode(t, func(c *config.Config) { c.SealGrace = time.Second })
	browser := newBrowser(t)
	// Open both tabs first, so that the screenshot cleanup, registered
	// after their cancels, runs while both are still open.
	tabs := []context.Context{browser}
	tab2, cancel := chromedp.NewContext(browser)
	t.Cleanup(cancel)
	if err := chromedp.Do(tab2); err != nil { // opens the tab: no timeout here
		t.Fatalf("opening tab: %v", err)
	}
	tabs = append(tabs, tab2)
	t.Cleanup(func() {
		if t.Failed() {
			for i, tab := range tabs {
				screenshot(t, tab, fmt.Sprintf("tab%d", i))
			}
		}
	})
	for i, link := range n.demo.JoinURLs[:2] {
		ctx, cancel := context.WithTimeout(tabs[i], 30*time.Second)
		err := chromedp.Do(ctx,
			chromedp.Navigate(link.URL),
			chromedp.WaitVisible(css(`[data-testid="consent"]`)),
		)
		if err == nil && i == 0 {
			// The pre-join page's network check reaches the node over UDP.
			type netCheck struct{ Verdict, Transport, Text string }
			var net netCheck
			waitFor(t, 15*time.Second, "the network check's verdict", func() bool {
				got, err := chromedp.Run(ctx, chromedp.Evaluate[netCheck](`(() => { const e = document.querySelector('[data-testid="netcheck"]');
					return {Verdict: e.dataset.verdict || '', Transport: e.dataset.transport || '', Text: e.textContent}; })()`))
				net = got
				return err == nil && net.Verdict != "" && net.Verdict != "checking"
			})
			if net.Verdict != "good" || net.Transport != "udp" || !strings.ContainsAny(net.Text, "0123456789") {
				t.Errorf("network check: %+v, want good over udp", net)
			}
		}
		if err == nil {
			err = chromedp.Do(ctx, chromedp.Click(css(`[data-testid="consent"]`)),
				chromedp.WaitEnabled(css(`[data-testid="join"]`)),
				chromedp.Click(css(`[data-testid="join"]`)),
				chromedp.WaitVisible(css(`[data-testid="leave"]`)),
			)
		}
		cancel()
		if err != nil {
			t.Fatalf("%s (%s): pre-join and join: %v", link.Name, link.Role, err)
		}
	}
	for i, tab := range tabs {
		name := n.demo.JoinURLs[i].Name
		var first mediaStats
		waitFor(t, 20*time.Second, name+" decoding the other's video and receiving audio", func() bool {
			s, err := stats(tab)
			if err != nil {
				t.Fatalf("%s: getStats: %v", name, err)
			}
			first = s
			return s.FramesDecoded > 10 && s.AudioSamples > 0 && s.Tiles >= 1
		})
		waitFor(t, 10*time.Second, name+"'s decoded frames and audio samples rising", func() bool {
			s, err := stats(tab)
			return err == nil && s.FramesDecoded > first.FramesDecoded+10 && s.AudioSamples > first.AudioSamples
		})
	}
	// Leaving shows the other side the departure.
	if err := chromedp.Do(tabs[1], chromedp.Click(css(`[data-testid="leave"]`))); err != nil {
		t.Fatalf("leave: %v", err)
	}
	waitFor(t, 10*time.Second, "the remaining tab dropping the tile", func() bool {
		s, err := stats(tabs[0])
		return err == nil && s.Tiles == 0
	})
	if err := chromedp.Do(tabs[0], chromedp.Click(css(`[data-testid="leave"]`))); err != nil {
		t.Fatalf("leave: %v", err)
	}
	// The browsers' call was recorded: the sealed bundle verifies and
	// every segment decodes.
	clerk := staffClient(t, n.URL(), demoAccounts(n), "clerk")
	waitSealed(t, clerk, n.demo.SessionID, 30*time.Second)
	dir := t.TempDir()
	path := downloadBundle(t, clerk, n.demo.SessionID, dir)
	if _, err := verifyBundle(t, func() (evidence.Source, error) { return evidence.OpenZip(path) }); err != nil {
		t.Fatalf("the bundle does not verify: %v", err)
	}
	ext := filepath.Join(dir, "x")
	unzip(t, path, ext)
	m := manifestOf(t, ext)
	if len(m.Segments) == 0 {
		t.Fatal("nothing of the browser call was recorded")
	}
	for _, sg := range m.Segments {
		probe(t, filepath.Join(ext, "media", filepath.FromSlash(sg.Key)))
		t.Logf("segment %s %d: %dx%d, %v to %v", sg.ParticipantID[:8], sg.Index, sg.Width, sg.Height, sg.WallStart.Format(time.StampMilli), sg.WallEnd.Format(time.StampMilli))
	}
	for _, p := range m.Participants {
		for _, pr := range p.Presence {
			t.Logf("present %s %v to %v", p.ID[:8], pr.JoinedAt.Format(time.StampMilli), pr.LeftAt.Format(time.StampMilli))
		}
	}
	for _, g := range m.Gaps {
		t.Logf("gap %s %v to %v: %s", g.ParticipantID[:8], g.From.Format(time.StampMilli), g.To.Format(time.StampMilli), g.Reason)
	}
}

// screenshot saves a PNG of the tab to KUAYANG_TEST_ARTIFACTS or a temp
// dir and logs where.
func screenshot(t *testing.T, tab context.Context, name string) {
	dir := os.Getenv("KUAYANG_TEST_ARTIFACTS")
	if dir == "" {
		dir = os.TempDir()
	}
	_ = os.MkdirAll(dir, 0o755)
	ctx, cancel := context.WithTimeout(tab, 10*time.Second)
	defer cancel()
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return
	}
	path := filepath.Join(dir, "browser-"+name+".png")
	if err := os.WriteFile(path, png, 0o644); err == nil {
		t.Logf("screenshot: %s", path)
	}
}
