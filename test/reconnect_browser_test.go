package test

import (
	"strings"
	"testing"
	"time"
)

// TestBrowserReconnectResumes: a page whose websocket drops mid-call
// comes back on its own without a new join: it resumes its signaling
// session, keeps its two media connections and restarts ICE on both, and
// media flows again both ways. The other side sees the person
// reconnecting, not leaving.
func TestBrowserReconnectResumes(t *testing.T) {
	runBrowserTest(t, "TestBrowserReconnectResumes", browserReconnectResumes)
}

// ufragsJS reads the ICE username fragments of the page's connections:
// the publish connection's own, the subscribe connection's remote (the
// server offers it).
const ufragsJS = `(() => {
  const c = window.kuayang.client;
  const ufrag = (d) => (/a=ice-ufrag:(\S+)/.exec(d?.sdp || '') || [])[1] || '';
  return ufrag(c.publishPC?.localDescription) + ' ' + ufrag(c.subscribePC?.remoteDescription);
})()`

func browserReconnectResumes(t *testing.T) {
	n := startNode(t)
	mediator := &invitee{Name: "Zhou Min", Role: "mediator"}
	party := &invitee{Name: "Chen Wei", Role: "party"}
	featureSession(t, n, "Mediation, a dropped connection", false, []*invitee{mediator, party})
	tabs := browserTabs(t, "reconnect", 2)
	mt, pt := tabs[0], tabs[1]
	joinAs(mt, mediator, "call")
	joinAs(pt, party, "call")
	receivingMedia(t, pt, party.Name)
	receivingMedia(t, mt, mediator.Name)

	// The mediator's page notes any tile marked reconnecting.
	mt.eval("watching the tiles", `(() => {
	  window.__sawReconnecting = false;
	  new MutationObserver(() => {
	    const tile = document.querySelector('[data-testid="tile"].is-reconnecting [data-testid="tile-reconnecting"]:not([hidden])');
	    if (tile) window.__sawReconnecting = true;
	  }).observe(document.body, {subtree: true, attributes: true, childList: true});
	  return 'ok';
	})()`)
	before := pt.eval("ICE credentials", ufragsJS)
	pcs := pt.eval("peer connections", `String(window.__pcCount)`)

	// The network goes: the page's websocket closes under it.
	dropped := time.Now()
	pt.eval("dropping the websocket", `(() => { window.__sockets.at(-1).close(4000, 'network gone'); return 'ok'; })()`)
	pt.do("the page reconnecting, then back",
		waitJS(`window.kuayang.client.state === 'reconnecting'`),
		waitJS(`window.kuayang.client.state === 'joined' && window.__sockets.length === 2`),
	)
	t.Logf("resumed %s after the drop (the client's first retry waits 1 s)", time.Since(dropped).Round(time.Millisecond))
	mt.do("the mediator seeing the party reconnecting", waitJS(`window.__sawReconnecting === true`))
	pt.do("ICE restarted on both connections", waitJS(`(() => {
	  const [pub, sub] = (`+ufragsJS+`).split(' ');
	  const [pub0, sub0] = `+jsString(before)+`.split(' ');
	  const c = window.kuayang.client;
	  return pub && sub && pub !== pub0 && sub !== sub0 &&
	    c.publishPC.connectionState === 'connected' && c.subscribePC.connectionState === 'connected';
	})()`))

	log := pt.eval("messages", `window.__wsLog.join(',')`)
	if !strings.Contains(log, "resumed") || strings.Count(log, "joined") != 1 {
		t.Errorf("the page's messages %q: want one joined and a resumed", log)
	}
	if got := pt.eval("peer connections", `String(window.__pcCount)`); got != pcs {
		t.Errorf("%s media connections after the drop, %s before: the page made new ones", got, pcs)
	}
	mt.check("the party never left the mediator's call", `document.querySelector(`+jsString(tileOf(party, ""))+`) !== null && !window.__wsLog.includes('participant_left')`)
	mt.do("the party's tile back to normal", waitJS(`document.querySelector(`+jsString(tileOf(party, "tile-reconnecting"))+`).hidden`))

	// Media flows again, both ways.
	start := time.Now()
	receivingMedia(t, pt, party.Name+" after the resume")
	receivingMedia(t, mt, mediator.Name+" after the resume")
	t.Logf("media rising on both sides %s after the resume, %s after the drop", time.Since(start).Round(time.Millisecond),
		time.Since(dropped).Round(time.Millisecond))
}
