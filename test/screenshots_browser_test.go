//go:build screenshots

package test

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/cdproto/input"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// The README's screenshots of the join page (make screenshots): the
// pre-join page, the host's view of the waiting room, a call of four and a
// private room as the mediator sees it, in each of the client's languages,
// written as <screen>-<lang>.png into the folder KUAYANG_SCREENSHOTS
// names, all at once when every one is taken. It is built with the tag
// screenshots only (make screenshots), not part of make test: it asserts
// nothing that the other browser tests do not, but when it runs it fails on a page that shows a string key or an unfilled
// placeholder, a page in the wrong language, and a screenshot that is
// missing, of another size or blank. Each screen is taken in its steady
// state: video playing in every tile, connections rated (good, on
// loopback; a machine too busy for four browsers fails it, saying so).
// Like the other browser tests, in a network namespace of its own. Each
// person has a browser of their own whose fake camera plays a clip made
// here, so that the tiles tell people apart.

const screenshotsEnv = "KUAYANG_SCREENSHOTS"

var shotScreens = []string{"prejoin", "waiting", "call", "caucus"}

// shotLang is what the pages show in one language: the case, the session
// and the people's names as staff would type them for that audience, and
// where the viewers live (the organizer is in Shanghai).
type shotLang struct {
	code, zone                          string
	number, caseTitle, sessionTitle     string
	mediator, party, other, interpreter string
}

var shotLanguages = []shotLang{
	{code: "zh-CN", zone: "Europe/Rome",
		number: "(2026)浙0328民调101号", caseTitle: "米兰与文成之间的店铺租赁纠纷", sessionTitle: "联合调解会议",
		mediator: "周敏", party: "陈伟", other: "Marco Bianchi", interpreter: "Giulia Rossi"},
	{code: "en", zone: "Europe/London",
		number: "(2026)浙0328民调102号", caseTitle: "Shop lease dispute between Milan and Wencheng", sessionTitle: "Joint mediation session",
		mediator: "Zhou Min", party: "Chen Wei", other: "Marco Bianchi", interpreter: "Giulia Rossi"},
	{code: "it", zone: "Europe/Rome",
		number: "(2026)浙0328民调103号", caseTitle: "Controversia sulla locazione di un negozio tra Milano e Wencheng", sessionTitle: "Sessione congiunta di mediazione",
		mediator: "Zhou Min", party: "Chen Wei", other: "Marco Bianchi", interpreter: "Giulia Rossi"},
}

// cameraLook is the fake camera of one person: a head and shoulders on a
// wall of their own colour (RGB).
type cameraLook struct{ wall, shirt, skin [3]int }

// The people, in this order: mediator, party, other party, interpreter.
var shotCameras = []cameraLook{
	{wall: [3]int{58, 90, 120}, shirt: [3]int{31, 45, 68}, skin: [3]int{224, 191, 160}},
	{wall: [3]int{107, 90, 69}, shirt: [3]int{138, 47, 47}, skin: [3]int{227, 194, 160}},
	{wall: [3]int{74, 107, 79}, shirt: [3]int{216, 210, 196}, skin: [3]int{217, 173, 140}},
	{wall: [3]int{94, 74, 112}, shirt: [3]int{47, 111, 115}, skin: [3]int{237, 201, 171}},
}

func TestScreenshots(t *testing.T) {
	if os.Getenv(screenshotsEnv) == "" {
		t.Skipf("SKIPPING: set %s=<dir> to write the screenshots of the join page there (make screenshots writes docs/screenshots/)", screenshotsEnv)
	}
	runBrowserTest(t, "TestScreenshots", screenshots)
}

func screenshots(t *testing.T) {
	dir, err := filepath.Abs(os.Getenv(screenshotsEnv))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	// Without a Chinese font Chromium draws boxes for every character.
	if out, err := exec.Command("fc-list", ":lang=zh-cn", "family").Output(); err != nil || len(bytes.TrimSpace(out)) == 0 {
		t.Fatalf("no font for Chinese (fc-list :lang=zh-cn: %v): apt-get install fonts-noto-cjk", err)
	}
	if _, err := exec.LookPath("ffmpeg"); err != nil {
		t.Fatal("ffmpeg not found (apt-get install ffmpeg): it makes the fake cameras' clips")
	}
	n := startNode(t)
	clips := t.TempDir()
	tabs := make([]staffTab, len(shotCameras))
	for i, look := range shotCameras {
		clip := filepath.Join(clips, fmt.Sprintf("camera%d.y4m", i))
		makeCameraClip(t, clip, look)
		ctx := newBrowser(t, chromedp.Flag("use-file-for-fake-video-capture", clip))
		tabs[i] = staffTab{t, ctx}
		// Only the mediator's page is taken in the call: the others, whose
		// pages a phone's width keeps small, spare the CPU for the video.
		tabs[i].do("the viewport", emulateViewport(i == 0))
		ctx2, cancel := context.WithTimeout(ctx, 10*time.Second)
		_, err := chromedp.Call(ctx2, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: deviceNamesJS})
		cancel()
		if err != nil {
			t.Fatalf("person %d: adding the device names: %v", i, err)
		}
	}
	t.Cleanup(func() {
		if t.Failed() {
			for i, tab := range tabs {
				screenshot(t, tab.ctx, fmt.Sprintf("screenshots-person%d", i))
			}
		}
	})
	// Written only when all are taken: a failed run leaves the folder's
	// set as it was, not half new.
	shots := map[string][]byte{}
	for _, l := range shotLanguages {
		t.Run(l.code, func(t *testing.T) {
			for i := range tabs {
				tabs[i].t = t
				ctx, cancel := context.WithTimeout(tabs[i].ctx, 10*time.Second)
				_, err := chromedp.Call(ctx, emulation.SetTimezoneOverride, emulation.SetTimezoneOverrideParams{TimezoneID: l.zone})
				cancel()
				if err != nil {
					t.Fatalf("time zone %s: %v", l.zone, err)
				}
			}
			// A machine too busy for four browsers may keep the connections
			// from being rated good: once more, in a new session.
			caseID := shotCase(t, n, l)
			for attempt := 1; ; attempt++ {
				err := shootLanguage(t, n, tabs, l, caseID, shots)
				if err == nil {
					break
				}
				if attempt == 2 {
					t.Fatalf("%v (on a busy machine, run again)", err)
				}
				t.Logf("%v; once more", err)
			}
		})
	}
	for _, l := range shotLanguages {
		for _, s := range shotScreens {
			if name := s + "-" + l.code + ".png"; shots[name] == nil {
				t.Errorf("no screenshot %s", name)
			}
		}
	}
	if t.Failed() {
		t.Fatalf("nothing written to %s", dir)
	}
	for _, name := range slices.Sorted(maps.Keys(shots)) {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, shots[name], 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %d KB", path, len(shots[name])/1024)
	}
}

// emulateViewport sets the viewport of the screenshots, or a phone's.
func emulateViewport(shot bool) chromedp.Action[chromedp.Void] {
	if shot {
		return chromedp.EmulateViewport(shotWidth, shotHeight)
	}
	return chromedp.EmulateViewport(360, 640)
}

// deviceNamesJS gives the fake devices the names of a laptop's: Chromium
// names the camera by its clip's path in a temporary folder, which would
// change at every run.
const deviceNamesJS = `(() => {
  const names = {videoinput: 'HD Webcam', audioinput: 'Built-in Microphone', audiooutput: 'Built-in Speakers'};
  const enumerate = MediaDevices.prototype.enumerateDevices;
  MediaDevices.prototype.enumerateDevices = async function () {
    return (await enumerate.call(this)).map((d) => {
      const {deviceId, groupId, kind} = d, label = d.label && (names[kind] ?? d.label);
      return {deviceId, groupId, kind, label, toJSON() { return {deviceId, groupId, kind, label}; }};
    });
  };
})();`

// makeCameraClip writes a four-second loop for Chromium's fake camera
// (y4m, 640x360 at 15 fps): a figure, and a bar along the bottom that
// grows with the time so that the video is seen to play.
func makeCameraClip(t *testing.T, path string, c cameraLook) {
	t.Helper()
	head := `lt(hypot(X-W/2,Y-0.42*H),0.15*H)`
	body := `lt(pow((X-W/2)/(0.29*W),2)+pow((Y-1.05*H)/(0.42*H),2),1)`
	plane := func(i int, p string) string {
		return fmt.Sprintf(`%s='if(%s,%d,if(%s,%d,%s(X,Y)+Y/H*28))'`, p, body, c.shirt[i], head, c.skin[i], p)
	}
	filter := fmt.Sprintf(`format=rgb24,geq=%s:%s:%s,loop=loop=59:size=1:start=0,setpts=N/15/TB,`+
		// A camera's grain: a still picture alone encodes to so few bits
		// that the client would rate the connection poor.
		`noise=alls=4:allf=t,drawbox=x=0:y=ih-6:w=iw*mod(t\,4)/4:h=6:color=white@0.6:t=fill,format=yuv420p`,
		plane(0, "r"), plane(1, "g"), plane(2, "b"))
	cmd := exec.Command("ffmpeg", "-v", "error", "-y", "-f", "lavfi",
		"-i", fmt.Sprintf("color=c=0x%02x%02x%02x:s=640x360:r=15:d=0.06", c.wall[0], c.wall[1], c.wall[2]),
		"-vf", filter, "-frames:v", "60", path)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("making the camera clip: %v\n%s", err, out)
	}
}

// shotCase creates the case in the language's words.
func shotCase(t *testing.T, n *testNode, l shotLang) string {
	t.Helper()
	api := staffClient(t, n.URL(), demoAccounts(n), "mediator")
	status, out := api.do("POST", "/api/v1/cases", map[string]any{"kind": "mediation", "number": l.number, "title": l.caseTitle})
	if status != http.StatusCreated {
		t.Fatalf("creating the case: %d %v", status, out)
	}
	id, _ := out["id"].(string)
	return id
}

// shotSession creates a recorded session of the case with a waiting room
// in the language's words, and invites the four people in that language.
func shotSession(t *testing.T, n *testNode, l shotLang, caseID string) (mediator, party, other, interpreter *invitee) {
	t.Helper()
	api := staffClient(t, n.URL(), demoAccounts(n), "mediator")
	// A round time in the near future, as a person would schedule it.
	start := time.Now().Add(20 * time.Minute).Truncate(15 * time.Minute)
	status, out := api.do("POST", "/api/v1/cases/"+caseID+"/sessions", map[string]any{
		"title": l.sessionTitle, "scheduled_start": start.UTC().Format(time.RFC3339),
		"time_zone": "Asia/Shanghai", "record": true, "waiting_room": true,
	})
	if status != http.StatusCreated {
		t.Fatalf("creating the session: %d %v", status, out)
	}
	sessionID, _ := out["id"].(string)
	mediator = &invitee{Name: l.mediator, Role: "mediator"}
	party = &invitee{Name: l.party, Role: "party"}
	other = &invitee{Name: l.other, Role: "party"}
	interpreter = &invitee{Name: l.interpreter, Role: "interpreter"}
	for _, p := range []*invitee{mediator, party, other, interpreter} {
		body := map[string]any{"name": p.Name, "role": p.Role, "language": l.code, "time_zone": l.zone}
		if p == interpreter {
			body["interprets_for"] = party.ID
		}
		status, out := api.do("POST", "/api/v1/sessions/"+sessionID+"/invites", body)
		if status != http.StatusCreated {
			t.Fatalf("inviting %s (%s): %d %v", p.Name, p.Role, status, out)
		}
		p.URL, _ = out["url"].(string)
		p.ID, _ = out["participant_id"].(string)
	}
	return mediator, party, other, interpreter
}

// playingJS is true when the grid has count tiles and every tile not
// showing another room's placeholder plays its video.
func playingJS(count int) string {
	return fmt.Sprintf(`(() => {
	  const tiles = [...document.querySelectorAll('#grid > .tile')];
	  return tiles.length === %d && tiles
	    .filter((t) => !t.querySelector('[data-testid="tile-away"]')?.checkVisibility())
	    .every((t) => { const v = t.querySelector('video'); return v && v.videoWidth > 0 && !v.paused && v.readyState >= 2; });
	})()`, count)
}

// waitLong is waitJS for what takes longer under load, such as four
// people's video starting; for doLong.
func waitLong(expr string) chromedp.Action[chromedp.Void] {
	return chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(100*time.Millisecond), chromedp.WithPollingTimeout(40*time.Second))
}

// waitRated waits until expr, about the tiles' connection quality, holds.
// Chromium may rate even loopback poor on a machine too busy for four of
// them (its encoders then cut the bitrate and frames come late): the
// error says what each tile measured.
func waitRated(tab staffTab, what, expr string) error {
	tab.t.Helper()
	ctx, cancel := context.WithTimeout(tab.ctx, 40*time.Second)
	defer cancel()
	err := chromedp.Do(ctx, chromedp.Poll[chromedp.Void](expr, chromedp.WithPollingInterval(200*time.Millisecond), chromedp.WithPollingTimeout(30*time.Second)))
	if err != nil {
		return fmt.Errorf("%s: %v; the tiles measure %s", what, err,
			tab.eval("the tiles' quality", `JSON.stringify([...document.querySelectorAll('#grid > .tile')].map((t) =>
			  t.querySelector('.tile-name').textContent + ': ' + (t.querySelector('[data-testid="quality"]').getAttribute('aria-label') ?? '-')))`))
	}
	return nil
}

// doLong is staffTab.do with room for steps that wait long.
func doLong(tab staffTab, what string, steps ...chromedp.Action[chromedp.Void]) {
	tab.t.Helper()
	ctx, cancel := context.WithTimeout(tab.ctx, 90*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		tab.t.Fatalf("%s: %v", what, err)
	}
}

// shootLanguage goes through the four screens in one language, adding
// the screenshots to shots by file name; the error is that of waitRated,
// after the session has ended.
func shootLanguage(t *testing.T, n *testNode, tabs []staffTab, l shotLang, caseID string, shots map[string][]byte) error {
	mediator, party, other, interpreter := shotSession(t, n, l, caseID)
	mt, pt, ot, it := tabs[0], tabs[1], tabs[2], tabs[3]
	shoot := func(tab staffTab, screen string) {
		t.Helper()
		shots[screen+"-"+l.code+".png"] = captureScreen(tab, screen, l.code)
	}
	join := func(tab staffTab, p *invitee, screen string) {
		t.Helper()
		tab.do(p.Name+" joining",
			chromedp.Navigate(p.URL),
			chromedp.WaitVisible(css(`[data-testid="consent"]`)),
			chromedp.Click(css(`[data-testid="consent"]`)),
			chromedp.WaitEnabled(css(`[data-testid="join"]`)),
			chromedp.Click(css(`[data-testid="join"]`)),
			waitJS(`document.body.dataset.screen === `+jsString(screen)),
		)
	}

	// The mediator first: a host is not kept waiting.
	join(mt, mediator, "call")

	// The party's pre-join page: camera, devices, the network's verdict and
	// the consent to the recording, given.
	doLong(pt, "the pre-join page",
		emulateViewport(true),
		chromedp.Navigate(party.URL),
		chromedp.WaitVisible(css(`[data-testid="consent"]`)),
		waitLong(`['good', 'tcp', 'relay', 'slow', 'failed'].includes(document.querySelector('[data-testid="netcheck"]').dataset.verdict)`),
		waitLong(`(() => { const v = document.querySelector('[data-testid="preview"]'); return v.videoWidth > 0 && !v.paused && v.currentTime > 0.5; })()`),
		waitJS(`document.querySelector('[data-testid="camera-select"]').options.length > 0 && document.querySelector('[data-testid="mic-select"]').options.length > 0`),
		chromedp.Click(css(`[data-testid="consent"]`)),
		chromedp.WaitEnabled(css(`[data-testid="join"]`)),
	)
	if v := pt.eval("the network check", `document.querySelector('[data-testid="netcheck"]').dataset.verdict`); v != "good" {
		t.Errorf("the network check says %q on loopback, want good", v)
	}
	shoot(pt, "prejoin")
	pt.do("the party joining", chromedp.Click(css(`[data-testid="join"]`)), waitJS(`document.body.dataset.screen === 'waiting'`),
		emulateViewport(false))
	join(it, interpreter, "waiting")
	join(ot, other, "waiting")

	// The host's view of the waiting room: three people, with the buttons
	// to let each in.
	doLong(mt, "the host panel with three waiting",
		waitJS(`document.querySelectorAll('[data-testid="lobby-entry"]').length === 3`),
		chromedp.Click(css(`[data-testid="toggle-host"]`)),
		chromedp.WaitVisible(css(entry(other, "lobby-admit"))),
		waitLong(playingJS(1)),
	)
	shoot(mt, "waiting")

	// The call of four, everyone's camera playing on the mediator's page.
	mt.do("admitting everyone",
		chromedp.Click(css(`[data-testid="admit-all"]`)),
		waitJS(`document.querySelectorAll('[data-testid="lobby-entry"]').length === 0`),
		chromedp.Click(css(`[data-testid="host-close"]`)),
		chromedp.WaitNotVisible(css(`[data-testid="host-panel"]`)),
	)
	// The session ends for everyone: the next language, or another try,
	// starts afresh.
	end := func() {
		t.Helper()
		mt.do("ending the session",
			chromedp.Click(css(`[data-testid="toggle-host"]`)),
			chromedp.WaitVisible(css(`[data-testid="end-session"]`)),
			chromedp.Click(css(`[data-testid="end-session"]`)),
			chromedp.WaitVisible(css(`[data-testid="dialog-confirm"]`)),
			chromedp.Click(css(`[data-testid="dialog-confirm"]`)),
			waitJS(`document.body.dataset.screen === 'left'`),
		)
		for _, tab := range []staffTab{pt, ot, it} {
			tab.do("the session ended", waitJS(`document.body.dataset.screen === 'left'`))
		}
	}
	doLong(mt, "four people's video", waitLong(playingJS(4)))
	// Everyone's connection rated, as good as it is on loopback.
	if err := waitRated(mt, "everyone's connection rated good", `[...document.querySelectorAll('#grid > .tile')].every((t) => t.dataset.quality === 'good')`); err != nil {
		end()
		return err
	}
	shoot(mt, "call")

	// A private room with the party, whose interpreter goes in with them:
	// the banner says where the mediator is, the other party's tile that
	// they are in the joint room.
	doLong(mt, "opening a private room with the party",
		chromedp.WaitVisible(css(tileOf(party, "tile-caucus"))),
		chromedp.Click(css(tileOf(party, "tile-caucus"))),
		chromedp.WaitVisible(css(`[data-testid="caucus-confirm"]`)),
		chromedp.Click(css(`[data-testid="caucus-confirm"]`)),
		waitJS(`window.kuayang.state.rooms.length === 1`),
		waitJS(textOf(`[data-testid="room-banner-text"]`)+`.includes(`+jsString(party.Name)+`)`),
		waitJS(visible(tileOf(other, "tile-away"))),
		waitLong(playingJS(4)),
	)
	// The connection's bars back on the tiles of the private room, none on
	// the other's, whose media does not come here (the next sample).
	err := waitRated(mt, "the private room's connections rated good", `[...document.querySelectorAll('#grid > .tile')].every((t) => {
	  const bars = t.querySelector('[data-testid="quality"]').checkVisibility();
	  return t.classList.contains('is-away') ? !bars : bars && t.dataset.quality === 'good';
	})`)
	if err == nil {
		shoot(mt, "caucus")
	}
	end()
	return err
}

// untranslatedJS lists what the page shows that looks like a key of the
// string table (lobby.admit) or holds an unfilled placeholder ({name}):
// the text of shown elements, their labels, tooltips and placeholders.
const untranslatedJS = `(() => {
  const key = /^[a-z][A-Za-z0-9]*(\.[A-Za-z0-9_]+)+$/, hole = /\{[A-Za-z]+\}/, out = [];
  const look = (s) => { s = (s || '').trim(); if (s && (key.test(s) || hole.test(s))) out.push(s); };
  const walk = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n; (n = walk.nextNode());) if (n.parentElement?.checkVisibility()) look(n.textContent);
  for (const e of document.querySelectorAll('[aria-label], [title], [placeholder]')) {
    if (e.checkVisibility()) for (const a of ['aria-label', 'title', 'placeholder']) look(e.getAttribute(a));
  }
  look(document.title);
  return JSON.stringify(out);
})()`

// captureScreen checks the page's language and strings, and takes and
// checks the viewport's screenshot.
func captureScreen(tab staffTab, screen, lang string) []byte {
	t := tab.t
	t.Helper()
	name := screen + "-" + lang + ".png"
	if got := tab.eval("the page's language", `document.documentElement.lang`); got != lang {
		t.Errorf("%s: the page is in %q, want %q", name, got, lang)
	}
	if got := tab.eval("untranslated strings", untranslatedJS); got != "[]" {
		t.Errorf("%s: the page shows untranslated strings: %s", name, got)
	}
	// No warning of a poor connection left from a slow start on a busy
	// machine: it goes after three good samples.
	doLong(tab, "no warning of a poor connection", waitLong(`document.querySelector('[data-testid="quality-alert"]').hidden`))
	// No hover or focus ring left by the clicks that led here.
	tab.do("the pointer away",
		chromedp.Evaluate[chromedp.Void](`document.activeElement?.blur()`),
		chromedp.MouseEvent(input.DispatchMouseEventTypeMouseMoved, shotWidth-1, shotHeight-1),
		chromedp.Sleep(300*time.Millisecond), // transitions end
	)
	ctx, cancel := context.WithTimeout(tab.ctx, 20*time.Second)
	defer cancel()
	data, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if err := checkScreenshot(data); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return data
}
