package test

import (
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// The network quality and the layouts of the call view in Chromium: two
// people on loopback see a good connection on each other's tile (with the
// numbers in its tooltip), and the layout toggle switches between the
// grid and the speaker view, also by keyboard and on a phone's width.
// Like TestBrowserCall, in a network namespace of its own.

func TestQualityAndLayout(t *testing.T) {
	runBrowserTest(t, "TestQualityAndLayout", qualityAndLayout)
}

func qualityAndLayout(t *testing.T) {
	n := startNode(t)
	mediator := &invitee{Name: "Zhou Min", Role: "mediator"}
	party := &invitee{Name: "Chen Wei", Role: "party"}
	featureSession(t, n, "Mediation on a good network", false, []*invitee{mediator, party})
	tabs := browserTabs(t, "quality", 2)
	mt, pt := tabs[0], tabs[1]
	joinAs(mt, mediator, "call")
	joinAs(pt, party, "call")

	// Each sees the other's connection as good, with the numbers.
	for _, c := range []struct {
		tab   staffTab
		other *invitee
	}{{mt, party}, {pt, mediator}} {
		tile := jsString(tileOf(c.other, ""))
		c.tab.do(c.other.Name+"'s quality", waitJS(`document.querySelector(`+tile+`)?.dataset.quality === 'good'`))
		badge := tileOf(c.other, "quality")
		label := c.tab.eval("quality label", `document.querySelector(`+jsString(badge)+`).getAttribute('aria-label')`)
		if !strings.HasPrefix(label, "Good connection: ") || !strings.Contains(label, "kbit/s") || !strings.Contains(label, "% lost") {
			t.Errorf("quality label %q", label)
		}
		t.Logf("%s sees %s: %s", c.tab.eval("self name", `window.kuayang.state.self.name`), c.other.Name, label)
		// Chromium's fake microphone beeps: the other is marked as speaking.
		c.tab.do(c.other.Name+" speaking", waitJS(`document.querySelector(`+tile+`).dataset.speaking === 'true'`))
		c.tab.check("the tooltip", `document.querySelector(`+jsString(badge)+`).title.includes('kbit/s')`)
		c.tab.check("the badge shown", `document.querySelector(`+jsString(badge)+`).offsetParent !== null`)
		c.tab.do("own quality", waitJS(`document.querySelector('[data-testid="self-tile"]').dataset.quality === 'good'`))
		c.tab.check("no warning on loopback", `document.querySelector('[data-testid="quality-alert"]').hidden`)
	}

	// The layout toggle: the speaker view shows the other large and this
	// person in the strip; again (by keyboard) the grid.
	const grid = `document.querySelector('[data-testid="grid"]')`
	const toggle = `[data-testid="toggle-layout"]`
	mt.check("grid at first", grid+`.dataset.layout === 'grid' && document.querySelector('`+toggle+`').getAttribute('aria-pressed') === 'false'`)
	mt.do("the speaker view", chromedp.Click(css(toggle)), waitJS(grid+`.dataset.layout === 'speaker'`))
	mt.check("the toggle pressed", `document.querySelector('`+toggle+`').getAttribute('aria-pressed') === 'true'`)
	mt.check("the other featured", `document.querySelector(`+jsString(tileOf(party, ""))+`).classList.contains('is-featured')`)
	mt.check("this person in the strip", `document.querySelector('[data-testid="strip"] [data-testid="self-tile"]') !== null`)
	mt.check("the featured tile larger", `(() => {
	  const big = document.querySelector(`+jsString(tileOf(party, ""))+`).getBoundingClientRect();
	  const small = document.querySelector('[data-testid="self-tile"]').getBoundingClientRect();
	  return big.width > 1.5 * small.width;
	})()`)
	mt.check("videos still playing", `[...document.querySelectorAll('[data-testid="grid"] video')].every((v) => !v.srcObject || !v.paused)`)

	// A phone held upright: nothing wider than the screen.
	mt.do("a phone's width", chromedp.EmulateViewport(390, 844, chromedp.EmulateMobile),
		waitJS(`window.innerWidth === 390`))
	mt.check("no sideways page scroll", `document.documentElement.scrollWidth <= window.innerWidth`)
	mt.check("the strip scrolls sideways", `getComputedStyle(document.querySelector('[data-testid="strip"]')).overflowX === 'auto'`)

	mt.do("back to the grid by keyboard", chromedp.Focus(css(toggle)), chromedp.KeyEvent(kb.Enter),
		waitJS(grid+`.dataset.layout === 'grid'`))
	mt.check("the toggle released", `document.querySelector('`+toggle+`').getAttribute('aria-pressed') === 'false'`)
	mt.check("no strip in the grid", `document.querySelector('[data-testid="strip"]') === null && `+grid+`.querySelectorAll(':scope > .tile').length === 2`)
}
