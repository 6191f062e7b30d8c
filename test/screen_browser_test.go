package test

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/kuayang/kuayang/internal/config"
)

// Screen sharing in Chromium (docs/protocol.md): a party shares a screen
// with the button (by keyboard) through the real getDisplayMedia, whose
// fake device in Chromium is an 800x600 test pattern; the mediator sees
// it as a large tile of its own labelled with the party's name, decoding
// frames, beside the party's camera, which goes on; the speaker view puts
// it in the main place. Stopping with the button removes it; so does the
// capture ending (the browser's own "stop sharing"). The session is
// recorded: once sealed, the clerk's review page shows the screen
// share's segments on the party's timeline lane and plays them in a tile
// of their own. Like TestBrowserCall, in a network namespace of its own.

func TestScreenShareBrowser(t *testing.T) {
	runBrowserTest(t, "TestScreenShareBrowser", screenShareBrowser)
}

// screenTileOf selects the screen tile of a participant, or an element in
// it.
func screenTileOf(p *invitee, inner string) string {
	sel := `[data-testid="screen-tile"][data-participant-id="` + p.ID + `"]`
	if inner != "" {
		sel += ` [data-testid="` + inner + `"]`
	}
	return sel
}

// framesJS is how many frames the video element sel has shown.
func framesJS(sel string) string {
	return `(document.querySelector(` + jsString(sel) + `)?.getVideoPlaybackQuality().totalVideoFrames ?? -1)`
}

func screenShareBrowser(t *testing.T) {
	n := startNode(t, func(c *config.Config) { c.SegmentDuration, c.SealGrace = 2*time.Second, time.Second })
	mediator := &invitee{Name: "Zhou Min", Role: "mediator"}
	party := &invitee{Name: "Chen Wei", Role: "party"}
	sid := demoCaseSession(t, n, "Mediation with a document", true, false, []*invitee{mediator, party})
	tabs := browserTabs(t, "screen", 2)
	mt, pt := tabs[0], tabs[1]
	for _, j := range []struct {
		tab staffTab
		p   *invitee
	}{{mt, mediator}, {pt, party}} {
		j.tab.do(j.p.Name+" joining the recorded session",
			chromedp.Navigate(j.p.URL),
			chromedp.WaitVisible(css(`[data-testid="consent"]`)),
			chromedp.Click(css(`[data-testid="consent"]`)),
			chromedp.WaitEnabled(css(`[data-testid="join"]`)),
			chromedp.Click(css(`[data-testid="join"]`)),
			waitJS(`document.body.dataset.screen === 'call'`),
		)
	}
	receivingMedia(t, mt, mediator.Name)

	const button = `[data-testid="toggle-screen"]`
	pressed := func(want string) string {
		return `document.querySelector('` + button + `').getAttribute('aria-pressed') === '` + want + `'`
	}
	pt.check("the share button", `document.querySelector('`+button+`').offsetParent !== null && `+pressed("false"))
	if got := pt.text("the button's text", button); got != "Share screen" {
		t.Errorf("share button %q", got)
	}

	// Shared by keyboard: the party sees their own screen and the
	// button's new state.
	pt.do("sharing by keyboard", chromedp.Focus(css(button)), chromedp.KeyEvent(kb.Enter), waitJS(pressed("true")))
	if got := pt.text("the button's text", button); got != "Stop sharing" {
		t.Errorf("stop button %q", got)
	}
	pt.do("the own screen tile", waitJS(`document.querySelector(`+jsString(screenTileOf(party, "screen-video"))+`)?.videoWidth > 0`))
	pt.check("the own screen is the fake monitor", `window.kuayang.client.screenTrack.label.startsWith('screen:')`)

	// The mediator sees it: its own large tile, labelled, decoding.
	video := screenTileOf(party, "screen-video")
	mt.do("the party's screen tile decoding", waitJS(`document.querySelector(`+jsString(video)+`)?.videoWidth === 800`))
	first := mt.eval("frames", `String(`+framesJS(video)+`)`)
	mt.do("the screen's frames rising", waitJS(framesJS(video)+` > `+first+` + 10`))
	if got := mt.text("screen label", screenTileOf(party, "")+` .tile-name`); got != "Chen Wei's screen" {
		t.Errorf("screen tile label %q", got)
	}
	mt.check("the screen tile named", `document.querySelector(`+jsString(screenTileOf(party, ""))+`).getAttribute('aria-label') === "Chen Wei's screen"`)
	mt.check("the participant marked as sharing", `window.kuayang.client.participants.find((p) => p.id === `+jsString(party.ID)+`)?.screen === true`)
	mt.check("the screen first and larger than the camera", `(() => {
	  const grid = document.querySelector('[data-testid="grid"]');
	  const screen = document.querySelector(`+jsString(screenTileOf(party, ""))+`);
	  const camera = document.querySelector(`+jsString(tileOf(party, ""))+`);
	  return grid.firstElementChild === screen && screen.getBoundingClientRect().width > 1.5 * camera.getBoundingClientRect().width;
	})()`)
	// The camera goes on beside the screen.
	camera := tileOf(party, "tile-video")
	before := mt.eval("camera frames", `String(`+framesJS(camera)+`)`)
	mt.do("the party's camera still decoding", waitJS(framesJS(camera)+` > `+before+` + 10`))

	// The speaker view gives the screen the main place.
	mt.do("the speaker view", chromedp.Click(css(`[data-testid="toggle-layout"]`)),
		waitJS(`document.querySelector('[data-testid="grid"]').dataset.layout === 'speaker'`))
	mt.check("the screen featured", `document.querySelector(`+jsString(screenTileOf(party, ""))+`).classList.contains('is-featured')`)
	mt.check("the party's camera in the strip", `document.querySelector('[data-testid="strip"] `+tileOf(party, "")+`') !== null`)
	mt.do("back to the grid", chromedp.Click(css(`[data-testid="toggle-layout"]`)),
		waitJS(`document.querySelector('[data-testid="grid"]').dataset.layout === 'grid'`))

	// Stopped with the button: gone for the mediator.
	pt.do("stopping", chromedp.Click(css(button)), waitJS(pressed("false")))
	pt.check("the capture stopped", `window.kuayang.client.screenTrack === null && document.querySelector('[data-testid="screen-tile"]') === null`)
	mt.do("the screen tile gone", waitJS(`document.querySelector('[data-testid="screen-tile"]') === null`))
	mt.do("the participant no longer sharing", waitJS(`window.kuayang.client.participants.find((p) => p.id === `+jsString(party.ID)+`)?.screen === false`))

	// Shared again and ended by the browser (its "stop sharing" ends the
	// capture track: the ended event, which a script cannot cause on a
	// real capture, is dispatched to it).
	pt.do("sharing again", chromedp.Click(css(button)), waitJS(pressed("true")))
	mt.do("the screen tile again", waitJS(`document.querySelector(`+jsString(video)+`)?.videoWidth === 800`))
	pt.eval("the capture ending", `(() => { window.kuayang.client.screenTrack.dispatchEvent(new Event('ended')); return ''; })()`)
	pt.do("the button released", waitJS(pressed("false")))
	mt.do("the screen tile gone again", waitJS(`document.querySelector('[data-testid="screen-tile"]') === null`))
	mt.check("the party's camera tile still there", `document.querySelector(`+jsString(tileOf(party, "tile-video"))+`).videoWidth > 0`)

	// The recording: the screen's segments apart from the camera's.
	pt.do("the party leaving", chromedp.Click(css(`[data-testid="leave"]`)))
	mt.do("the mediator leaving", chromedp.Click(css(`[data-testid="leave"]`)))
	rec := waitSealed(t, staffClient(t, n.URL(), demoAccounts(n), "clerk"), sid, 30*time.Second)
	screens, cameras := 0, 0
	for _, p := range rec["participants"].([]any) {
		pm := p.(map[string]any)
		for _, s := range pm["segments"].([]any) {
			sm := s.(map[string]any)
			switch {
			case sm["stream"] == "screen" && pm["id"] == party.ID && strings.Contains(sm["key"].(string), "/screen/"):
				screens++
			case sm["stream"] == nil && pm["id"] == party.ID:
				cameras++
			case sm["stream"] != nil:
				t.Errorf("segment %v of %s", sm, pm["name"])
			}
		}
	}
	if screens < 2 || cameras == 0 {
		t.Fatalf("the party has %d screen segments (two shares) and %d camera segments", screens, cameras)
	}
	mt.do("the review page", chromedp.Navigate(n.URL()+"/staff/sessions/"+sid+"/review?lang=en"))
	mt.login(demoClerk(t, n))
	lane := `[data-testid="timeline-screen"][data-participant-id="` + party.ID + `"]`
	mt.do("the screen share on the timeline", waitJS(`document.querySelectorAll('`+lane+`').length === `+strconv.Itoa(screens)))
	mt.check("no screen on the mediator's lane", `document.querySelectorAll('[data-testid="timeline-screen"]').length === `+strconv.Itoa(screens))
	if got := mt.text("the screen's player tile", `[data-testid="player-tile"][data-participant-id="`+party.ID+`~screen"] [data-testid="player-name"]`); got != "Chen Wei's screen" {
		t.Errorf("player tile of the screen %q", got)
	}
}
