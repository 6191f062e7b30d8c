package test

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// Private rooms (caucus), the recording pause, the request to show the
// room and ending for an act in person, in the join page; and the email
// and calendar file of a new invite in the staff pages. Like the other
// browser tests, each runs in a network namespace of its own with one
// node and one browser.

func TestCaucusBrowserIsolation(t *testing.T) {
	runBrowserTest(t, "TestCaucusBrowserIsolation", caucusBrowserIsolation)
}

func TestCaucusBrowserRecordingPause(t *testing.T) {
	runBrowserTest(t, "TestCaucusBrowserRecordingPause", caucusBrowserRecordingPause)
}

func TestCaucusBrowserStaffInvite(t *testing.T) {
	runBrowserTest(t, "TestCaucusBrowserStaffInvite", caucusBrowserStaffInvite)
}

// trackOwnerJS records, before the page's scripts run, whose media each
// received track carries (the stream id is the sender's participant id),
// in window.__owner, track id to participant id. It survives the page
// removing tracks from its streams.
const trackOwnerJS = `(() => {
  window.__owner = {};
  const PC = window.RTCPeerConnection;
  window.RTCPeerConnection = class extends PC {
    constructor(...args) {
      super(...args);
      this.addEventListener('track', (e) => { if (e.streams[0]) window.__owner[e.track.id] = e.streams[0].id; });
    }
  };
})();`

// byOwnerJS sums the page's inbound RTP by sender: bytes (audio and
// video) and decoded video frames.
const byOwnerJS = `(async () => {
  const pc = window.kuayang.client.subscribePC, out = {};
  if (!pc) return JSON.stringify(out);
  (await pc.getStats()).forEach((r) => {
    if (r.type !== 'inbound-rtp') return;
    const who = window.__owner[r.trackIdentifier] || '?';
    const o = out[who] || (out[who] = {bytes: 0, frames: 0});
    o.bytes += r.bytesReceived || 0;
    if (r.kind === 'video') o.frames += r.framesDecoded || 0;
  });
  return JSON.stringify(out);
})()`

type ownerStats struct {
	Bytes  float64 `json:"bytes"`
	Frames float64 `json:"frames"`
}

// byOwner is what a tab has received from each sender so far.
func byOwner(tab staffTab) map[string]ownerStats {
	tab.t.Helper()
	out := map[string]ownerStats{}
	if err := json.Unmarshal([]byte(tab.eval("inbound RTP by sender", byOwnerJS)), &out); err != nil {
		tab.t.Fatalf("inbound RTP by sender: %v", err)
	}
	return out
}

// decodingFrom waits until the tab decodes video from each of the senders,
// rising.
func decodingFrom(t *testing.T, tab staffTab, who string, from ...*invitee) {
	t.Helper()
	before := byOwner(tab)
	for _, p := range from {
		waitFor(t, 20*time.Second, who+" decoding "+p.Name+"'s video", func() bool {
			return byOwner(tab)[p.ID].Frames > before[p.ID].Frames+10
		})
	}
}

// caucusTabs opens count tabs that also record the owners of received tracks.
func caucusTabs(t *testing.T, prefix string, count int) []staffTab {
	t.Helper()
	tabs := browserTabs(t, prefix, count)
	for i, tab := range tabs {
		ctx, cancel := context.WithTimeout(tab.ctx, 10*time.Second)
		_, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: trackOwnerJS})
		cancel()
		if err != nil {
			t.Fatalf("tab %d: adding the track owner script: %v", i, err)
		}
	}
	return tabs
}

// recordedSession creates a recorded session of the demo case as the demo
// mediator, without a waiting room, and invites people to it.
func recordedSession(t *testing.T, n *testNode, title string, people []*invitee) string {
	t.Helper()
	return demoCaseSession(t, n, title, true, false, people)
}

// inviteInterpreter invites an interpreter for party to the session.
func inviteInterpreter(t *testing.T, n *testNode, sessionID string, p, party *invitee) {
	t.Helper()
	mediator := staffClient(t, n.URL(), demoAccounts(n), "mediator")
	status, out := mediator.do("POST", "/api/v1/sessions/"+sessionID+"/invites", map[string]any{
		"name": p.Name, "role": "interpreter", "language": "en", "time_zone": "Europe/Rome", "interprets_for": party.ID,
	})
	if status != http.StatusCreated {
		t.Fatalf("inviting the interpreter: %d %v", status, out)
	}
	p.URL, _ = out["url"].(string)
	p.ID, _ = out["participant_id"].(string)
}

// joinRecorded joins a recorded session from the pre-join page, consenting.
func joinRecorded(tab staffTab, p *invitee) {
	tab.t.Helper()
	tab.do(p.Name+" joining",
		chromedp.Navigate(p.URL),
		chromedp.WaitVisible(css(`[data-testid="consent"]`)),
		chromedp.Click(css(`[data-testid="consent"]`)),
		chromedp.WaitEnabled(css(`[data-testid="join"]`)),
		chromedp.Click(css(`[data-testid="join"]`)),
		waitJS(`document.body.dataset.screen === 'call'`),
	)
}

// textOf is the JavaScript of an element's text (empty when missing).
func textOf(sel string) string {
	return `(document.querySelector(` + jsString(sel) + `)?.textContent ?? '')`
}

// visible is the JavaScript of whether an element is shown.
func visible(sel string) string {
	return `(document.querySelector(` + jsString(sel) + `)?.offsetParent != null)`
}

// caucusBrowserIsolation: the mediator opens a private room with party 1
// from their tile; party 2's page shows both in a private room and stops
// receiving their media, while the two in the private room go on seeing
// each other; each page says which room it is in and whether it is
// recorded; Bring everyone back restores the media.
func caucusBrowserIsolation(t *testing.T) {
	n := startNode(t)
	mediator := &invitee{Name: "Zhou Min", Role: "mediator"}
	p1 := &invitee{Name: "Chen Wei", Role: "party"}
	p2 := &invitee{Name: "Lin Mei", Role: "party"}
	recordedSession(t, n, "Mediation with a caucus", []*invitee{mediator, p1, p2})
	tabs := caucusTabs(t, "caucus", 3)
	mt, t1, t2 := tabs[0], tabs[1], tabs[2]
	joinRecorded(mt, mediator)
	joinRecorded(t1, p1)
	joinRecorded(t2, p2)
	decodingFrom(t, t2, "party 2", mediator, p1)
	decodingFrom(t, mt, "the mediator", p1, p2)
	decodingFrom(t, t1, "party 1", mediator)
	const banner = `[data-testid="room-banner-text"]`
	t2.check("the joint room's policy", textOf(banner)+` === 'Joint room — recorded'`)
	t2.check("the recording indicator", visible(`[data-testid="recording"]`))

	// The mediator opens a private room with party 1 from their tile: not
	// recorded unless ticked.
	mt.do("the private room dialog",
		chromedp.WaitVisible(css(tileOf(p1, "tile-caucus"))),
		chromedp.Click(css(tileOf(p1, "tile-caucus"))),
		chromedp.WaitVisible(css(`[data-testid="caucus-confirm"]`)),
	)
	mt.check("party 1 chosen", `document.querySelector('[data-testid="caucus-person"][data-participant-id="`+p1.ID+`"] input').checked`)
	mt.check("party 2 not chosen", `!document.querySelector('[data-testid="caucus-person"][data-participant-id="`+p2.ID+`"] input').checked`)
	mt.check("not recorded by default", `!document.querySelector('[data-testid="caucus-record"]').checked`)
	if got := mt.text("the note", `[data-testid="caucus-record-note"]`); !strings.Contains(got, "will not be recorded") {
		t.Errorf("note under the record box %q", got)
	}
	mt.do("opening the private room",
		chromedp.Click(css(`[data-testid="caucus-confirm"]`)),
		waitJS(`window.kuayang.state.rooms.length === 1`),
	)

	// Everyone sees where everyone is, and the policy of their own room.
	t2.do("party 2 sees both in a private room",
		waitJS(visible(tileOf(mediator, "tile-away"))+` && `+visible(tileOf(p1, "tile-away"))),
		waitJS(textOf(banner)+` === 'Joint room — recorded'`),
	)
	if got := t2.text("placeholder", tileOf(p1, "tile-away")); got != "In a private room" {
		t.Errorf("party 2: party 1's tile shows %q", got)
	}
	if got := t2.text("who is away", `[data-testid="room-banner-away"]`); !strings.Contains(got, "Zhou Min") || !strings.Contains(got, "Chen Wei") {
		t.Errorf("party 2's banner of who is away %q", got)
	}
	t1.do("party 1 in the private room", waitJS(textOf(banner)+` === 'Private room with Zhou Min (Mediator) — not recorded'`))
	t1.check("party 1 sees party 2 in the joint room", visible(tileOf(p2, "tile-away"))+` && `+textOf(tileOf(p2, "tile-away"))+` === 'In the joint room'`)
	t1.check("party 1 sees the mediator", `!`+visible(tileOf(mediator, "tile-away")))
	t1.check("no recording indicator in an unrecorded private room", `!`+visible(`[data-testid="recording"]`))
	mt.do("the mediator in the private room", waitJS(textOf(banner)+` === 'Private room with Chen Wei (Party) — not recorded'`))

	// Media: none crosses the wall; the private room goes on.
	time.Sleep(1500 * time.Millisecond) // the renegotiations settle
	before2, beforeM, before1 := byOwner(t2), byOwner(mt), byOwner(t1)
	time.Sleep(2 * time.Second)
	after2, afterM, after1 := byOwner(t2), byOwner(mt), byOwner(t1)
	t.Logf("party 2 from the mediator %+v -> %+v, from party 1 %+v -> %+v", before2[mediator.ID], after2[mediator.ID], before2[p1.ID], after2[p1.ID])
	// Alone in the joint room, party 2 receives nothing at all: neither on
	// the tracks it had (whose statistics go when the server removes them)
	// nor on any other.
	total := func(m map[string]ownerStats) (sum float64) {
		for _, s := range m {
			sum += s.Bytes
		}
		return sum
	}
	if grew := total(after2) - total(before2); grew > 0 {
		t.Errorf("party 2, alone in the joint room, received %.0f bytes in 2 s", grew)
	}
	for _, from := range []*invitee{mediator, p1} {
		if grew := after2[from.ID].Bytes - before2[from.ID].Bytes; grew > 0 {
			t.Errorf("party 2 received %.0f bytes from %s across the private room's wall", grew, from.Name)
		}
	}
	if grew := afterM[p2.ID].Bytes - beforeM[p2.ID].Bytes; grew > 0 {
		t.Errorf("the mediator received %.0f bytes from party 2 in the private room", grew)
	}
	if grew := afterM[p1.ID].Frames - beforeM[p1.ID].Frames; grew < 10 {
		t.Errorf("the mediator decoded %.0f frames of party 1 in 2 s in the private room", grew)
	}
	if grew := after1[mediator.ID].Frames - before1[mediator.ID].Frames; grew < 10 {
		t.Errorf("party 1 decoded %.0f frames of the mediator in 2 s in the private room", grew)
	}

	// Their video no longer reaches the others, but their cameras are on:
	// the placeholders show no camera-off mark.
	t2.check("no camera-off mark on the away tiles", `!`+visible(tileOf(mediator, "indicator-camera-off"))+` && !`+visible(tileOf(p1, "indicator-camera-off")))
	mt.check("no camera-off mark on party 2's placeholder", visible(tileOf(p2, "tile-away"))+` && !`+visible(tileOf(p2, "indicator-camera-off")))

	// The host panel lists the room; Bring everyone back.
	mt.do("the host panel",
		chromedp.Click(css(`[data-testid="toggle-host"]`)),
		chromedp.WaitVisible(css(`[data-testid="caucus-room"]`)),
	)
	if got := mt.text("the room", `[data-testid="caucus-room"]`); !strings.Contains(got, "Chen Wei") || !strings.Contains(got, "not recorded") {
		t.Errorf("the room in the host panel %q", got)
	}
	mt.check("Back to the joint room is offered", visible(`[data-testid="caucus-back"]`))
	mt.do("bringing everyone back",
		chromedp.Click(css(`[data-testid="caucus-close-all"]`)),
		waitJS(`window.kuayang.state.rooms.length === 0`),
	)
	t2.do("party 2 sees everyone back",
		waitJS(`!`+visible(tileOf(mediator, "tile-away"))+` && !`+visible(tileOf(p1, "tile-away"))),
		waitJS(textOf(banner)+` === 'Joint room — recorded'`),
		waitJS(`document.querySelector('[data-testid="room-banner-away"]').hidden`),
	)
	t1.do("party 1 back in the joint room", waitJS(textOf(banner)+` === 'Joint room — recorded'`))
	decodingFrom(t, t2, "party 2, everyone back", mediator, p1)
	decodingFrom(t, mt, "the mediator, everyone back", p2)
	t.Logf("messages to party 2: %s", t2.eval("log", `window.__wsLog.filter((m) => !['candidate'].includes(m)).join(',')`))
	t.Logf("messages to the mediator: %s", mt.eval("log", `window.__wsLog.filter((m) => !['candidate'].includes(m)).join(',')`))
}

// caucusBrowserRecordingPause: the host pauses the recording with a
// reason, which the party sees in place of the indicator, and resumes it;
// asks the party to show the room; and ends the session because the act
// must be done in person, with a reason, which the audit log keeps.
func caucusBrowserRecordingPause(t *testing.T) {
	n := startNode(t)
	mediator := &invitee{Name: "Zhou Min", Role: "mediator"}
	party := &invitee{Name: "Chen Wei", Role: "party"}
	other := &invitee{Name: "Lin Mei", Role: "party"}
	sessionID := recordedSession(t, n, "Mediation, recording pause", []*invitee{mediator, party, other})
	interpreter := &invitee{Name: "Giulia Rossi", Role: "interpreter"}
	inviteInterpreter(t, n, sessionID, interpreter, party)
	tabs := caucusTabs(t, "pause", 4)
	mt, pt, it, ot := tabs[0], tabs[1], tabs[2], tabs[3]
	pt.do("a phone's screen", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)))
	joinRecorded(mt, mediator)
	joinRecorded(pt, party)
	joinRecorded(it, interpreter)
	joinRecorded(ot, other)

	// The interpreter's tile follows their party's, on every page.
	order := `[...document.querySelectorAll('#grid > .tile')].map((e) => e.dataset.participantId || 'self').join(',')`
	mt.do("the interpreter after the party on the mediator's page",
		waitJS(`document.querySelectorAll('#grid > .tile').length === 4`),
		waitJS(order+` === `+jsString("self,"+party.ID+","+interpreter.ID+","+other.ID)),
	)
	if got := mt.text("interpreter's label", tileOf(interpreter, "tile-role")); got != "Interpreter for Chen Wei" {
		t.Errorf("the interpreter's tile says %q", got)
	}
	it.do("the interpreter's own tile after the party",
		waitJS(`document.querySelectorAll('#grid > .tile').length === 4`),
		waitJS(order+`.includes(`+jsString(party.ID+",self")+`)`),
	)
	if got := it.text("interpreter's own label", `[data-testid="self-tile"] [data-testid="tile-role"]`); got != "Interpreter for Chen Wei" {
		t.Errorf("the interpreter's own tile says %q", got)
	}
	pt.check("the recording indicator", visible(`[data-testid="recording"]`)+` && !`+visible(`[data-testid="recording-paused"]`))

	const reason = "Ms Chen fetches the lease from another room"
	mt.do("pausing the recording",
		chromedp.Click(css(`[data-testid="toggle-host"]`)),
		chromedp.WaitVisible(css(`[data-testid="recording-toggle"]`)),
		chromedp.Click(css(`[data-testid="recording-toggle"]`)),
		chromedp.WaitVisible(css(`[data-testid="dialog-input"]`)),
	)
	// A reason is required.
	mt.do("confirming without a reason", chromedp.Click(css(`[data-testid="dialog-confirm"]`)))
	mt.check("the dialog stays without a reason", `document.querySelector('[data-testid="dialog"]').open`)
	mt.do("giving the reason",
		chromedp.SendKeys(css(`[data-testid="dialog-input"]`), reason),
		chromedp.Click(css(`[data-testid="dialog-confirm"]`)),
	)
	pt.do("the party sees the pause", waitJS(visible(`[data-testid="recording-paused"]`)))
	if got := pt.text("the pause", `[data-testid="recording-paused"]`); got != "Recording paused: "+reason {
		t.Errorf("party's pause banner %q", got)
	}
	pt.check("no recording indicator while paused", `!`+visible(`[data-testid="recording"]`))
	pt.check("the banner's policy", textOf(`[data-testid="room-banner-text"]`)+` === 'Joint room — recording paused'`)
	pt.check("the page fits 390 px", `document.documentElement.scrollWidth <= 390`)
	mt.do("resuming",
		waitJS(textOf(`[data-testid="recording-toggle"]`)+` === 'Resume recording'`),
		chromedp.Click(css(`[data-testid="recording-toggle"]`)),
	)
	pt.do("the indicator back", waitJS(visible(`[data-testid="recording"]`)+` && !`+visible(`[data-testid="recording-paused"]`)))

	// Asked to show the room.
	mt.do("asking the party to show the room",
		chromedp.Click(css(`[data-testid="host-close"]`)),
		chromedp.WaitVisible(css(tileOf(party, "tile-show-room"))),
		chromedp.Click(css(tileOf(party, "tile-show-room"))),
	)
	pt.do("the request", chromedp.WaitVisible(css(`[data-testid="dialog-confirm"]`)))
	if got := pt.text("the request", `[data-testid="dialog-text"]`); got != "The mediator asks you to slowly pan your camera around the room so that everyone can see who is present." {
		t.Errorf("request to show the room %q", got)
	}
	pt.check("only OK", `document.querySelector('[data-testid="dialog-cancel"]').hidden`)
	pt.do("OK", chromedp.Click(css(`[data-testid="dialog-confirm"]`)), chromedp.WaitNotVisible(css(`[data-testid="dialog"]`)))

	// Ending: the act must be done in person.
	const why = "The seller's identity document must be checked in the original"
	mt.do("ending for an act in person",
		chromedp.Click(css(`[data-testid="toggle-host"]`)),
		chromedp.WaitVisible(css(`[data-testid="end-session"]`)),
		chromedp.Click(css(`[data-testid="end-session"]`)),
		chromedp.WaitVisible(css(`[data-testid="dialog-check"]`)),
	)
	mt.check("the reason shows only when ticked", `!`+visible(`[data-testid="dialog-input"]`))
	mt.do("ticking and giving the reason",
		chromedp.Click(css(`[data-testid="dialog-check"]`)),
		chromedp.WaitVisible(css(`[data-testid="dialog-input"]`)),
		chromedp.SendKeys(css(`[data-testid="dialog-input"]`), why),
		chromedp.Click(css(`[data-testid="dialog-confirm"]`)),
	)
	pt.do("the session ended", waitJS(`document.body.dataset.screen === 'left' && document.querySelector('[data-testid="left-detail"]').dataset.reason === 'session_ended'`))
	clerk := staffClient(t, n.URL(), demoAccounts(n), "clerk")
	var entry string
	waitFor(t, 10*time.Second, "host.end in the audit log", func() bool {
		status, out := clerk.do("GET", "/api/v1/audit?session_id="+sessionID, nil)
		if status != http.StatusOK {
			t.Fatalf("audit: %d %v", status, out)
		}
		entries, _ := out["entries"].([]any)
		for _, e := range entries {
			if m, _ := e.(map[string]any); m["action"] == "host.end" {
				b, _ := json.Marshal(m)
				entry = string(b)
				return true
			}
		}
		return false
	})
	if !strings.Contains(entry, `in_person`) || !strings.Contains(entry, "identity document") {
		t.Errorf("host.end entry %s lacks in_person or the reason", entry)
	}
}

// caucusBrowserStaffInvite: the clerk invites an interpreter for a party
// of the demo session; the page shows the email to send (subject, text
// with the link) with its copy buttons, and the calendar file downloads
// with the link in it.
func caucusBrowserStaffInvite(t *testing.T) {
	n := startNode(t)
	browser := newBrowser(t)
	t.Cleanup(func() {
		if t.Failed() {
			screenshot(t, browser, "staff-invite")
		}
	})
	staff := staffTab{t, browser}
	staff.do("opening the case", chromedp.Navigate(n.URL()+"/staff/cases/"+n.demo.CaseID+"?lang=en"))
	staff.login(demoClerk(t, n))
	in := `[data-testid="session"][data-session-id="` + n.demo.SessionID + `"] `
	staff.do("the case page",
		chromedp.Navigate(n.URL()+"/staff/cases/"+n.demo.CaseID+"?lang=en"),
		chromedp.WaitVisible(css(in+`[data-testid="invite-name"]`)),
	)
	staff.check("no party choice for a party", `!`+visible(in+`[data-testid="invite-interprets-for"]`))
	staff.do("choosing an interpreter",
		chromedp.SetValue(css(in+`[data-testid="invite-role"]`), "interpreter"),
		chromedp.Evaluate[chromedp.Void](`document.querySelector(`+jsString(in+`[data-testid="invite-role"]`)+`).dispatchEvent(new Event('change'))`),
		chromedp.WaitVisible(css(in+`[data-testid="invite-interprets-for"]`)),
	)
	partyID := staff.eval("a party", `[...document.querySelector(`+jsString(in+`[data-testid="invite-interprets-for"]`)+`).options].map((o) => o.value).find((v) => v) ?? ''`)
	if partyID == "" {
		t.Fatal("no party to choose for the interpreter")
	}
	partyName := staff.eval("the party's name", `document.querySelector(`+jsString(in+`[data-testid="participant"][data-participant-id="`+partyID+`"] [data-testid="participant-name"]`)+`).textContent`)
	const name = "Giulia Rossi"
	staff.do("inviting the interpreter",
		chromedp.SetValue(css(in+`[data-testid="invite-interprets-for"]`), partyID),
		chromedp.SendKeys(css(in+`[data-testid="invite-name"]`), name),
		chromedp.SetValue(css(in+`[data-testid="invite-language"]`), "it"),
		chromedp.Click(css(in+`[data-testid="invite-submit"]`)),
		chromedp.WaitVisible(css(in+`[data-testid="invite-subject"]`)),
	)
	link := staff.text("invite url", in+`[data-testid="invite-url"]`)
	if !strings.HasPrefix(link, n.URL()+"/join/") {
		t.Fatalf("invite url %q", link)
	}
	if got := staff.text("subject", in+`[data-testid="invite-subject"]`); got == "" {
		t.Error("no email subject")
	}
	if got := staff.eval("email text", `document.querySelector(`+jsString(in+`[data-testid="invite-body"]`)+`).textContent`); !strings.Contains(got, link) {
		t.Errorf("the email text does not hold the link %s:\n%s", link, got)
	}
	for _, b := range []string{"invite-copy", "invite-copy-text", "invite-ics"} {
		staff.check("the button "+b, visible(in+`[data-testid="`+b+`"]`))
	}
	if got := staff.text("copy link", in+`[data-testid="invite-copy"]`); got != "Copy link" {
		t.Errorf("copy link button %q", got)
	}
	staff.do("the interpreter's party in the table",
		waitJS(textOf(in+`[data-testid="participant-interprets-for"]`)+` === `+jsString("Interpreter for "+partyName)))

	// The calendar file, as a browser download.
	path, _ := staff.download("downloading the calendar file", in+`[data-testid="invite-ics"]`, 30*time.Second)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("the calendar file: %v", err)
	}
	ics := string(data)
	// Lines of an iCalendar file fold at 75 octets: unfold before looking.
	unfolded := strings.NewReplacer("\r\n ", "", "\r\n\t", "").Replace(ics)
	if !strings.HasPrefix(ics, "BEGIN:VCALENDAR") || !strings.Contains(ics, "BEGIN:VEVENT") {
		t.Errorf("not a calendar file:\n%s", ics)
	}
	if !strings.Contains(unfolded, link) {
		t.Errorf("the calendar file does not hold the link %s:\n%s", link, ics)
	}
}
