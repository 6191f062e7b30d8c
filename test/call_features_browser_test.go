package test

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// The call features of the join page in Chromium (docs/protocol.md): the
// waiting room on both sides, a host muting a participant, and the chat.
// Like TestBrowserCall, each test runs in a network namespace of its own
// with one node and one browser, tabs for the people in the call.

func TestCallFeaturesWaitingRoom(t *testing.T) {
	runBrowserTest(t, "TestCallFeaturesWaitingRoom", callFeaturesWaitingRoom)
}

func TestCallFeaturesMuteByHost(t *testing.T) {
	runBrowserTest(t, "TestCallFeaturesMuteByHost", callFeaturesMuteByHost)
}

func TestCallFeaturesChat(t *testing.T) {
	runBrowserTest(t, "TestCallFeaturesChat", callFeaturesChat)
}

// runBrowserTest runs body in a network namespace of its own, as
// TestBrowserCall does: skipped without Chromium, except in CI.
func runBrowserTest(t *testing.T, name string, body func(t *testing.T)) {
	if testing.Short() {
		t.Skip("browser test skipped in -short mode")
	}
	requireChromium(t)
	if os.Getenv(netnsEnv) == "" {
		runInNetns(t, name)
		return
	}
	bringUpLoopback(t)
	body(t)
}

// invitee is one person invited to a feature session.
type invitee struct {
	Name, Role string
	URL, ID    string // the invite link and the participant id, once invited
}

// featureSession creates an unrecorded session of the demo case as the
// demo mediator, with or without a waiting room, and invites people to
// it; it returns the session id.
func featureSession(t *testing.T, n *testNode, title string, waitingRoom bool, people []*invitee) string {
	t.Helper()
	return demoCaseSession(t, n, title, false, waitingRoom, people)
}

// demoCaseSession creates a session of the demo case as the demo mediator
// and invites people to it; it returns the session id.
func demoCaseSession(t *testing.T, n *testNode, title string, record, waitingRoom bool, people []*invitee) string {
	t.Helper()
	mediator := staffClient(t, n.URL(), demoAccounts(n), "mediator")
	status, out := mediator.do("POST", "/api/v1/cases/"+n.demo.CaseID+"/sessions", map[string]any{
		"title": title, "scheduled_start": time.Now().Add(10 * time.Minute).UTC().Format(time.RFC3339),
		"time_zone": "Asia/Shanghai", "record": record, "waiting_room": waitingRoom,
	})
	if status != http.StatusCreated {
		t.Fatalf("creating the session: %d %v", status, out)
	}
	id, _ := out["id"].(string)
	for _, p := range people {
		status, out := mediator.do("POST", "/api/v1/sessions/"+id+"/invites", map[string]any{
			"name": p.Name, "role": p.Role, "language": "en", "time_zone": "Europe/Rome",
		})
		if status != http.StatusCreated {
			t.Fatalf("inviting %s (%s): %d %v", p.Name, p.Role, status, out)
		}
		p.URL, _ = out["url"].(string)
		p.ID, _ = out["participant_id"].(string)
	}
	return id
}

// pcCounterJS counts the media RTCPeerConnections the page creates (those
// that send or receive audio or video; the pre-join page's network check
// opens a data-only one), from before its scripts run, in
// window.__pcCount, logs the types of the messages the server sends in
// window.__wsLog (shown when media does not flow), and keeps the page's
// websockets in window.__sockets.
const pcCounterJS = `(() => {
  const PC = window.RTCPeerConnection;
  window.__pcCount = 0;
  window.RTCPeerConnection = class extends PC {
    #counted = false;
    #media() { if (!this.#counted) { this.#counted = true; window.__pcCount++; } }
    addTransceiver(...a) { this.#media(); return super.addTransceiver(...a); }
    addTrack(...a) { this.#media(); return super.addTrack(...a); }
    setRemoteDescription(d) {
      if (d && /m=(audio|video)/.test(d.sdp || '')) this.#media();
      return super.setRemoteDescription(d);
    }
  };
  window.__wsLog = [];
  window.__sockets = [];
  const WS = window.WebSocket;
  window.WebSocket = class extends WS {
    constructor(...args) {
      super(...args);
      window.__sockets.push(this);
      this.addEventListener('message', (e) => { try { window.__wsLog.push(JSON.parse(e.data).type); } catch {} });
    }
  };
})();`

// browserTabs opens count tabs of one browser, each counting its peer
// connections; screenshots of all are saved if the test fails.
func browserTabs(t *testing.T, prefix string, count int) []staffTab {
	t.Helper()
	browser := newBrowser(t)
	ctxs := []context.Context{browser}
	for len(ctxs) < count {
		tab, cancel := chromedp.NewContext(browser)
		t.Cleanup(cancel)
		if err := chromedp.Do(tab); err != nil { // opens the tab: no timeout here
			t.Fatalf("opening tab: %v", err)
		}
		ctxs = append(ctxs, tab)
	}
	t.Cleanup(func() {
		if t.Failed() {
			for i, tab := range ctxs {
				screenshot(t, tab, fmt.Sprintf("%s-tab%d", prefix, i))
			}
		}
	})
	tabs := make([]staffTab, len(ctxs))
	for i, ctx := range ctxs {
		ctx2, cancel := context.WithTimeout(ctx, 10*time.Second)
		_, err := chromedp.Call(ctx2, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: pcCounterJS})
		cancel()
		if err != nil {
			t.Fatalf("tab %d: adding the peer connection counter: %v", i, err)
		}
		tabs[i] = staffTab{t, ctx}
	}
	return tabs
}

// joinAs opens the invite and joins from the pre-join page; screen is the
// view the page then shows (call or waiting).
func joinAs(tab staffTab, p *invitee, screen string) {
	tab.t.Helper()
	tab.do(p.Name+" joining",
		chromedp.Navigate(p.URL),
		chromedp.WaitEnabled(css(`[data-testid="join"]`)),
		chromedp.Click(css(`[data-testid="join"]`)),
		waitJS(`document.body.dataset.screen === `+jsString(screen)),
	)
}

// check fails the test unless the JavaScript expression is true.
func (s staffTab) check(what, expr string) {
	s.t.Helper()
	if got := s.eval(what, `String(Boolean(`+expr+`))`); got != "true" {
		s.t.Errorf("%s: %s is false", what, expr)
	}
}

// receivingMedia waits until the tab decodes video and receives audio from
// the others, rising: the technique of TestBrowserCall.
func receivingMedia(t *testing.T, tab staffTab, name string) {
	t.Helper()
	var first mediaStats
	defer func() {
		if t.Failed() {
			t.Logf("%s: %s", name, tab.eval("peer state", `(async () => {
			  const c = window.kuayang.client, out = {state: c.state, admitted: c.admitted, pcs: window.__pcCount};
			  for (const [k, pc] of [['pub', c.publishPC], ['sub', c.subscribePC]]) {
			    if (!pc) { out[k] = null; continue; }
			    out[k] = {conn: pc.connectionState, sig: pc.signalingState, ice: pc.iceConnectionState,
			      tx: pc.getTransceivers().map((x) => x.direction + '/' + (x.currentDirection || '-') + '/' + x.receiver.track.kind)};
			  }
			  out.stats = await c.getStats().then((s) => s.subscribe.filter((r) => r.type === 'inbound-rtp').map((r) => r.kind + ':' + r.framesDecoded + ':' + r.packetsReceived));
			  out.participants = c.participants.map((p) => p.name + ':' + p.audio + ':' + p.video);
			  out.ws = window.__wsLog.join(',');
			  return JSON.stringify(out);
			})()`))
		}
	}()
	waitFor(t, 20*time.Second, name+" decoding video and receiving audio", func() bool {
		s, err := stats(tab.ctx)
		if err != nil {
			t.Fatalf("%s: getStats: %v", name, err)
		}
		first = s
		return s.FramesDecoded > 10 && s.AudioSamples > 0 && s.Tiles >= 1
	})
	waitFor(t, 10*time.Second, name+"'s decoded frames and audio samples rising", func() bool {
		s, err := stats(tab.ctx)
		return err == nil && s.FramesDecoded > first.FramesDecoded+10 && s.AudioSamples > first.AudioSamples
	})
}

// entry selects an element of the participant's lobby entry.
func entry(p *invitee, testid string) string {
	return `[data-testid="lobby-entry"][data-participant-id="` + p.ID + `"] [data-testid="` + testid + `"]`
}

// tileOf selects the tile of a participant, or an element in it.
func tileOf(p *invitee, inner string) string {
	sel := `[data-testid="tile"][data-participant-id="` + p.ID + `"]`
	if inner != "" {
		sel += ` [data-testid="` + inner + `"]`
	}
	return sel
}

const noMediaJS = `(() => {
  const c = window.kuayang.client;
  return window.__pcCount === 0 && c.publishPC === null && c.subscribePC === null && c.state === 'joined' && !c.admitted;
})()`

// callFeaturesWaitingRoom: a party joins a session with a waiting room
// before the mediator and waits, sending nothing; the mediator sees them
// in the waiting room and admits them, and both see and hear each other;
// a second party gets a message while waiting, is then turned away with
// a message, and sees it.
func callFeaturesWaitingRoom(t *testing.T) {
	n := startNode(t)
	mediator := &invitee{Name: "Zhou Min", Role: "mediator"}
	party := &invitee{Name: "Chen Wei", Role: "party"}
	late := &invitee{Name: "Lin Mei", Role: "party"}
	const title = "Mediation with a waiting room"
	featureSession(t, n, title, true, []*invitee{mediator, party, late})
	tabs := browserTabs(t, "waiting", 3)
	pt, mt, lt := tabs[0], tabs[1], tabs[2]

	// The party waits: the waiting screen says why, names the session, and
	// no peer connection exists.
	joinAs(pt, party, "waiting")
	pt.do("the waiting reason", waitJS(`document.querySelector('[data-testid="waiting-reason"]').dataset.reason === 'waiting_room'`))
	if got := pt.text("waiting title", `[data-testid="waiting-title"]`); got != "Waiting for the host to let you in" {
		t.Errorf("waiting title %q", got)
	}
	if got := pt.text("session title", `[data-testid="waiting-session"]`); got != title {
		t.Errorf("session on the waiting screen %q, want %q", got, title)
	}
	if got := pt.text("scheduled time", `[data-testid="waiting-time"]`); !strings.HasPrefix(got, "Scheduled for ") {
		t.Errorf("scheduled time %q", got)
	}
	pt.check("no media while waiting", noMediaJS)
	pt.check("the leave button", `document.querySelector('[data-testid="waiting-leave"]').offsetParent !== null`)

	// The mediator comes in (a host is not kept waiting), is alerted, and
	// finds the party in the waiting room.
	joinAs(mt, mediator, "call")
	mt.do("the alert of someone waiting", waitJS(`(document.querySelector('[data-testid="lobby-alert-text"]')?.textContent ?? '').includes('Chen Wei is waiting')`))
	mt.check("the count on the host button", `document.querySelector('[data-testid="toggle-host-count"]')?.textContent === '1'`)
	mt.do("opening the host panel",
		chromedp.Click(css(`[data-testid="toggle-host"]`)),
		chromedp.WaitVisible(css(entry(party, "lobby-admit"))),
	)
	if got := mt.text("lobby entry", `[data-testid="lobby-entry"][data-participant-id="`+party.ID+`"]`); !strings.Contains(got, "Chen Wei") || !strings.Contains(got, "Party") {
		t.Errorf("lobby entry %q", got)
	}
	pt.check("still no media with the host there", noMediaJS)

	// Admitted: the party's media starts; both see and hear each other.
	mt.do("admitting the party", chromedp.Click(css(entry(party, "lobby-admit"))))
	pt.do("the party in the call", waitJS(`document.body.dataset.screen === 'call' && window.kuayang.client.admitted`))
	mt.do("the lobby emptied", waitJS(`document.querySelectorAll('[data-testid="lobby-entry"]').length === 0`))
	receivingMedia(t, pt, "the party")
	receivingMedia(t, mt, "the mediator")
	pt.check("the party's peer connections", `window.__pcCount >= 2`)

	// A second party waits, gets a note, and is turned away with a message.
	joinAs(lt, late, "waiting")
	lt.check("no media while waiting", noMediaJS)
	mt.do("the second party in the waiting room", chromedp.WaitVisible(css(entry(late, "lobby-message"))))
	const note = "We are finishing with another party; one moment please."
	mt.do("writing to the second party",
		chromedp.Click(css(entry(late, "lobby-message"))),
		chromedp.WaitVisible(css(`[data-testid="dialog-input"]`)),
		chromedp.SendKeys(css(`[data-testid="dialog-input"]`), note),
		chromedp.Click(css(`[data-testid="dialog-confirm"]`)),
		chromedp.WaitNotVisible(css(`[data-testid="dialog"]`)),
	)
	lt.do("the note", waitJS(`[...document.querySelectorAll('[data-testid="notice-text"]')].some((e) => e.textContent === `+jsString(note)+`)`))
	const refusal = "This hearing is for <Chen Wei> only; you're invited on Thursday."
	mt.do("turning the second party away",
		chromedp.Click(css(entry(late, "lobby-reject"))),
		chromedp.WaitVisible(css(`[data-testid="dialog-input"]`)),
		chromedp.SendKeys(css(`[data-testid="dialog-input"]`), refusal),
		chromedp.Click(css(`[data-testid="dialog-confirm"]`)),
	)
	lt.do("the refusal", waitJS(`document.body.dataset.screen === 'left'`))
	if got := lt.text("left title", `[data-testid="left-title"]`); got != "You were not admitted" {
		t.Errorf("title after the refusal %q", got)
	}
	if got := lt.text("host's message", `[data-testid="left-message"]`); got != refusal {
		t.Errorf("host's message %q, want %q", got, refusal)
	}
	lt.check("the message is text", `document.querySelector('[data-testid="left-message"]').children.length === 0`)
	lt.check("no reconnection after the refusal", `window.kuayang.client.state === 'closed' && document.querySelector('[data-testid="left-detail"]').dataset.reason === 'rejected'`)
	mt.do("the waiting room empty again", waitJS(`document.querySelectorAll('[data-testid="lobby-entry"]').length === 0`))

	// The host leaves: the party waits for a host, with its camera still
	// in the preview and no media connection; the host comes back, and the
	// party is in the call again by itself.
	mt.do("the mediator leaving", chromedp.Click(css(`[data-testid="leave"]`)), waitJS(`document.body.dataset.screen === 'left'`))
	pt.do("the party waiting for a host",
		waitJS(`document.body.dataset.screen === 'waiting' && document.querySelector('[data-testid="waiting-reason"]').dataset.reason === 'host_absent'`))
	pt.check("media closed, camera kept", `(() => {
	  const c = window.kuayang.client, v = document.querySelector('[data-testid="waiting-preview"]');
	  return c.publishPC === null && c.subscribePC === null && c.state === 'joined' &&
	    v.srcObject && v.srcObject.getVideoTracks().some((tr) => tr.readyState === 'live');
	})()`)
	if got := pt.text("waiting title", `[data-testid="waiting-title"]`); got != "The host has stepped away" {
		t.Errorf("waiting title %q", got)
	}
	mt.do("the mediator rejoining", chromedp.Click(css(`[data-testid="rejoin"]`)), waitJS(`document.body.dataset.screen === 'call'`))
	pt.do("the party back in the call", waitJS(`document.body.dataset.screen === 'call' && window.kuayang.client.admitted`))
	receivingMedia(t, pt, "the party, back")
	receivingMedia(t, mt, "the mediator, back")
}

// callFeaturesMuteByHost: the mediator turns off the party's microphone
// and camera; the party's page says so and shows them off, the mediator's
// shows the party muted, and the party can turn the microphone on again.
// Also the host's other controls in a call: a raised hand on the tile and
// in the list, the room lock everyone sees, removing the party (asked
// first) and ending the session for everyone.
func callFeaturesMuteByHost(t *testing.T) {
	n := startNode(t)
	mediator := &invitee{Name: "Zhou Min", Role: "mediator"}
	party := &invitee{Name: "Chen Wei", Role: "party"}
	featureSession(t, n, "Mediation, mute", false, []*invitee{mediator, party})
	tabs := browserTabs(t, "mute", 2)
	mt, pt := tabs[0], tabs[1]
	joinAs(mt, mediator, "call")
	joinAs(pt, party, "call")
	pt.check("a party has no host controls", `document.querySelector('[data-testid="toggle-host"]').hidden`)
	mt.do("the party's tile, microphone on",
		waitJS(`document.querySelector(`+jsString(tileOf(party, ""))+`)?.dataset.audio === 'true'`),
		chromedp.WaitVisible(css(tileOf(party, "tile-mute"))),
	)
	if got := mt.eval("mute label", `document.querySelector(`+jsString(tileOf(party, "tile-mute"))+`).getAttribute('aria-label')`); got != "Mute Chen Wei's microphone" {
		t.Errorf("mute button label %q", got)
	}

	mt.do("muting the party", chromedp.Click(css(tileOf(party, "tile-mute"))))
	pt.do("the party told", waitJS(`(document.querySelector('[data-testid="banner"]')?.textContent ?? '').includes('The host turned off your microphone')`))
	pt.check("the microphone button shows muted", `document.querySelector('[data-testid="toggle-mic"]').getAttribute('aria-pressed') === 'true'`)
	pt.check("the microphone is off", `!window.kuayang.client.audioEnabled && window.kuayang.client.localStream.getAudioTracks().every((tr) => !tr.enabled)`)
	mt.do("the mediator sees the party muted",
		waitJS(`document.querySelector(`+jsString(tileOf(party, ""))+`).dataset.audio === 'false'`),
		chromedp.WaitVisible(css(tileOf(party, "indicator-muted"))),
	)

	mt.do("turning the party's camera off", chromedp.Click(css(tileOf(party, "tile-camera-off"))))
	pt.do("the party told of the camera", waitJS(`(document.querySelector('[data-testid="banner"]')?.textContent ?? '').includes('The host turned off your camera')`))
	pt.check("the camera is off", `!window.kuayang.client.videoEnabled && document.querySelector('[data-testid="toggle-camera"]').getAttribute('aria-pressed') === 'true'`)
	mt.do("the mediator sees the camera off", waitJS(`document.querySelector(`+jsString(tileOf(party, ""))+`).dataset.video === 'false'`))

	// The party may turn the microphone on again.
	pt.do("unmuting", chromedp.Click(css(`[data-testid="toggle-mic"]`)))
	mt.do("the mediator sees the party unmuted", waitJS(`document.querySelector(`+jsString(tileOf(party, ""))+`).dataset.audio === 'true'`))

	// A raised hand shows on the tile and in the host's list.
	pt.do("raising the hand",
		chromedp.Click(css(`[data-testid="toggle-hand"]`)),
		waitJS(`document.querySelector('[data-testid="toggle-hand"]').getAttribute('aria-pressed') === 'true'`),
	)
	mt.do("the hand on the tile and in the list",
		chromedp.WaitVisible(css(tileOf(party, "indicator-hand"))),
		chromedp.Click(css(`[data-testid="toggle-host"]`)),
		chromedp.WaitVisible(css(`[data-testid="hand-entry"][data-participant-id="`+party.ID+`"]`)),
	)
	pt.do("lowering the hand", chromedp.Click(css(`[data-testid="toggle-hand"]`)))
	mt.do("the hand down", waitJS(`document.querySelector(`+jsString(tileOf(party, ""))+`).dataset.hand === 'false' && document.querySelectorAll('[data-testid="hand-entry"]').length === 0`))

	// The lock: the host's toggle, and the badge everyone in the call sees.
	mt.do("locking the room",
		chromedp.Click(css(`[data-testid="lock-room"]`)),
		waitJS(`document.querySelector('[data-testid="lock-room"]').getAttribute('aria-pressed') === 'true'`),
	)
	pt.do("the party sees the room locked", chromedp.WaitVisible(css(`[data-testid="room-locked"]`)))

	// Removing asks first; the removed party is told, and not reconnected.
	mt.do("removing the party",
		chromedp.Click(css(tileOf(party, "tile-remove"))),
		chromedp.WaitVisible(css(`[data-testid="dialog-confirm"]`)),
	)
	if got := mt.text("the question", `[data-testid="dialog-title"]`); got != "Remove Chen Wei from the call?" {
		t.Errorf("confirmation %q", got)
	}
	mt.do("confirming", chromedp.Click(css(`[data-testid="dialog-confirm"]`)))
	pt.do("the party removed", waitJS(`document.body.dataset.screen === 'left' && document.querySelector('[data-testid="left-detail"]').dataset.reason === 'removed'`))
	if got := pt.text("left title", `[data-testid="left-title"]`); got != "The host removed you from the call" {
		t.Errorf("title after the removal %q", got)
	}
	pt.check("no reconnection after the removal", `window.kuayang.client.state === 'closed'`)
	mt.do("the tile gone", waitJS(`document.querySelector(`+jsString(tileOf(party, ""))+`) === null`))

	// The host ends the session for everyone, after confirming.
	mt.do("ending the session for everyone",
		chromedp.Click(css(`[data-testid="end-session"]`)),
		chromedp.WaitVisible(css(`[data-testid="dialog-confirm"]`)),
		chromedp.Click(css(`[data-testid="dialog-confirm"]`)),
		waitJS(`document.body.dataset.screen === 'left' && document.querySelector('[data-testid="left-detail"]').dataset.reason === 'session_ended'`),
	)
	mt.check("no rejoining an ended session", `document.querySelector('[data-testid="rejoin"]').hidden`)
}

// callFeaturesChat: messages go both ways with the sender's name, HTML
// shows as text, Shift+Enter makes a new line, the unread count shows on
// a closed chat, someone joining later gets the history, and the call
// page fits a phone held upright (390 px).
func callFeaturesChat(t *testing.T) {
	n := startNode(t)
	mediator := &invitee{Name: "Zhou Min", Role: "mediator"}
	party := &invitee{Name: "Chen Wei", Role: "party"}
	later := &invitee{Name: "Luca Bianchi", Role: "interpreter"}
	featureSession(t, n, "Mediation, chat", false, []*invitee{mediator, party, later})
	tabs := browserTabs(t, "chat", 3)
	mt, pt, lt := tabs[0], tabs[1], tabs[2]
	pt.do("a phone's screen", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)))
	joinAs(mt, mediator, "call")
	joinAs(pt, party, "call")
	pt.check("the call fits 390 px", `document.documentElement.scrollWidth <= 390 && [...document.querySelectorAll('.controls button')].filter((b) => !b.hidden).every((b) => b.getBoundingClientRect().right <= 390)`)

	// The party writes (Enter sends).
	pt.do("the party writing",
		chromedp.Click(css(`[data-testid="toggle-chat"]`)),
		chromedp.WaitVisible(css(`[data-testid="chat-input"]`)),
		chromedp.SendKeys(css(`[data-testid="chat-input"]`), "Buongiorno, mi sentite?\r"),
		waitJS(`document.querySelectorAll('[data-testid="chat-message"]').length === 1`),
	)
	pt.check("the chat fits 390 px", `document.documentElement.scrollWidth <= 390 && document.querySelector('[data-testid="chat-send"]').getBoundingClientRect().right <= 390`)
	pt.check("the input is empty after sending", `document.querySelector('[data-testid="chat-input"]').value === ''`)

	// The mediator, chat closed, sees the unread count, then the message.
	mt.do("the unread count", waitJS(`document.querySelector('[data-testid="toggle-chat-count"]')?.textContent === '1'`))
	mt.do("opening the chat",
		chromedp.Click(css(`[data-testid="toggle-chat"]`)),
		waitJS(`document.querySelectorAll('[data-testid="chat-message"]').length === 1`),
	)
	mt.check("no unread count with the chat open", `document.querySelector('[data-testid="toggle-chat-count"]') === null`)
	if got := mt.text("sender", `[data-testid="chat-name"]`); got != party.Name {
		t.Errorf("sender %q, want %q", got, party.Name)
	}
	if got := mt.text("message", `[data-testid="chat-text"]`); got != "Buongiorno, mi sentite?" {
		t.Errorf("message %q", got)
	}

	// HTML is text; Shift+Enter is a new line, Enter sends.
	const markup = `<b>x</b> & <img src=x onerror="window.__xss=1">`
	mt.do("the mediator writing markup on two lines",
		chromedp.SendKeys(css(`[data-testid="chat-input"]`), markup),
		chromedp.KeyEvent("\r", chromedp.KeyModifiers(chromedp.ModifierShift)),
		chromedp.SendKeys(css(`[data-testid="chat-input"]`), "second line"),
		waitJS(`document.querySelector('[data-testid="chat-input"]').value === `+jsString(markup+"\nsecond line")),
		chromedp.Click(css(`[data-testid="chat-send"]`)),
	)
	want := markup + "\nsecond line"
	pt.do("the markup arriving", waitJS(`document.querySelectorAll('[data-testid="chat-message"]').length === 2`))
	if got := pt.eval("markup as text", `document.querySelectorAll('[data-testid="chat-text"]')[1].textContent`); got != want {
		t.Errorf("message %q, want %q", got, want)
	}
	pt.check("no element made of the markup", `document.querySelector('[data-testid="chat-list"] b, [data-testid="chat-list"] img') === null && window.__xss === undefined`)
	if got := pt.text("mediator's name", `[data-testid="chat-message"]:nth-child(2) [data-testid="chat-name"]`); got != mediator.Name {
		t.Errorf("sender %q, want %q", got, mediator.Name)
	}

	// Someone joining later gets the history, not as unread.
	joinAs(lt, later, "call")
	lt.do("the history", waitJS(`document.querySelectorAll('[data-testid="chat-message"]').length === 2`))
	lt.check("history is not unread", `document.querySelector('[data-testid="toggle-chat-count"]') === null`)
}
