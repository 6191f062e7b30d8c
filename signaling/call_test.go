package signaling

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"github.com/kuayang/kuayang/internal/cases"
)

// expect reads until a message of type typ arrives, skipping others, and
// returns it.
func expect(t *testing.T, ws *websocket.Conn, typ string) map[string]any {
	t.Helper()
	for {
		m := read(t, ws)
		if m["type"] == typ {
			return m
		}
		if m["type"] == "error" && typ != "error" {
			t.Fatalf("waiting for %s got %v", typ, m)
		}
	}
}

// waitingRoomFixture: a session with a waiting room, the mediator p1, the
// parties p2 and p3.
func waitingRoomFixture(t *testing.T, cfg Config) *fixture {
	f := newFixture(t, cfg)
	f.records.sess.WaitingRoom = true
	f.records.parts["p3"] = &cases.Participant{ID: "p3", SessionID: "s1", Role: cases.RoleParty, DisplayName: "Lin"}
	return f
}

// joinMsg joins pid and returns the connection and the joined message.
func (f *fixture) joinMsg(t *testing.T, pid string) (*websocket.Conn, map[string]any) {
	t.Helper()
	ws := f.dial(t)
	tok, _ := f.tokens.Mint("s1", pid)
	_ = ws.WriteJSON(map[string]any{"type": "join", "version": 1, "token": tok, "consent": true})
	m := read(t, ws)
	if m["type"] != "joined" {
		t.Fatalf("join of %s: %v", pid, m)
	}
	return ws, m
}

func (f *fixture) audited(action string) bool {
	f.records.mu.Lock()
	defer f.records.mu.Unlock()
	for _, a := range f.records.audit {
		if a == action {
			return true
		}
	}
	return false
}

func waitedFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// A party waits without media until the mediator admits them; the host
// sees the waiting list; a second party is rejected with a message; a
// waiting party cannot chat, a party cannot admit.
func TestWaitingRoomAdmitAndReject(t *testing.T) {
	f := waitingRoomFixture(t, Config{})
	party, joined := f.joinMsg(t, "p2")
	if joined["admitted"] != false {
		t.Fatalf("party joined %v, want admitted false", joined)
	}
	if m := read(t, party); m["type"] != "waiting" || m["reason"] != WaitWaitingRoom {
		t.Fatalf("party got %v, want waiting waiting_room", m)
	}
	if f.media.count("p2") != 0 {
		t.Fatal("a waiting party is in the media plane")
	}
	_ = party.WriteJSON(map[string]any{"type": "chat", "text": "hello?"})
	if m := expect(t, party, "error"); m["code"] != CodeNotAdmitted {
		t.Fatalf("chat from the waiting room: %v", m)
	}
	_ = party.WriteJSON(map[string]any{"type": "admit", "id": "p2"})
	if m := expect(t, party, "error"); m["code"] != CodeNotAdmitted {
		t.Fatalf("admit from the waiting room: %v", m)
	}

	host, hj := f.joinMsg(t, "p1")
	if hj["admitted"] != true {
		t.Fatalf("host joined %v", hj)
	}
	lobby := expect(t, host, "lobby")
	w, _ := lobby["waiting"].([]any)
	if len(w) != 1 || w[0].(map[string]any)["id"] != "p2" || w[0].(map[string]any)["reason"] != WaitWaitingRoom {
		t.Fatalf("lobby %v", lobby)
	}
	other, _ := f.joinMsg(t, "p3")
	expect(t, other, "waiting")
	if l := expect(t, host, "lobby"); len(l["waiting"].([]any)) != 2 {
		t.Fatalf("lobby after a second party: %v", l)
	}

	_ = host.WriteJSON(map[string]any{"type": "notice", "id": "p2", "text": "One moment please"})
	if m := expect(t, party, "notice"); m["text"] != "One moment please" || m["from"].(map[string]any)["id"] != "p1" {
		t.Fatalf("notice %v", m)
	}
	_ = host.WriteJSON(map[string]any{"type": "admit", "id": "p2"})
	adm := expect(t, party, "admitted")
	if ps := adm["participants"].([]any); len(ps) != 1 || ps[0].(map[string]any)["id"] != "p1" || ps[0].(map[string]any)["host"] != true {
		t.Fatalf("admitted %v", adm)
	}
	if pj := expect(t, host, "participant_joined"); pj["participant"].(map[string]any)["id"] != "p2" {
		t.Fatalf("host saw %v", pj)
	}
	if f.media.count("p2") != 1 {
		t.Fatal("the admitted party is not in the media plane")
	}

	_ = host.WriteJSON(map[string]any{"type": "reject", "id": "p3", "message": "Please call the office"})
	if m := expect(t, other, "bye"); m["reason"] != "rejected" || m["message"] != "Please call the office" {
		t.Fatalf("rejected party got %v", m)
	}
	_ = party.WriteJSON(map[string]any{"type": "admit", "all": true})
	if m := expect(t, party, "error"); m["code"] != CodeNotHost {
		t.Fatalf("admit by a party: %v", m)
	}
	waitedFor(t, "the audit entries", func() bool {
		return f.audited("lobby.enter p2") && f.audited("lobby.admit p1") && f.audited("lobby.reject p1") &&
			f.audited("lobby.notice p1") && f.audited("session.join p2") && f.audited("lobby.leave p3")
	})
	if f.audited("session.join p3") {
		t.Fatal("a rejected party's presence was recorded")
	}
}

// When the last host drops, the others wait (host_absent) without media,
// and come back by themselves when a host returns.
func TestWaitingRoomHostAbsence(t *testing.T) {
	f := waitingRoomFixture(t, Config{})
	host, _ := f.joinMsg(t, "p1")
	party, _ := f.joinMsg(t, "p2")
	expect(t, party, "waiting")
	_ = host.WriteJSON(map[string]any{"type": "admit", "all": true})
	expect(t, party, "admitted")
	host.Close()
	if m := expect(t, party, "waiting"); m["reason"] != WaitHostAbsent {
		t.Fatalf("got %v, want waiting host_absent", m)
	}
	waitedFor(t, "the party to leave the media plane", func() bool { return f.media.count("p2") == 0 })
	if f.records.leaves("p2") != 1 {
		t.Fatalf("the party's presence did not end while waiting: %d leaves", f.records.leaves("p2"))
	}
	host2, _ := f.joinMsg(t, "p1")
	expect(t, party, "admitted")
	if pj := expect(t, host2, "participant_joined"); pj["participant"].(map[string]any)["id"] != "p2" {
		t.Fatalf("host saw %v", pj)
	}
	if f.media.count("p2") != 1 {
		t.Fatal("the party is not back in the media plane")
	}
	// A party admitted before who reconnects goes straight in.
	party2, j := f.joinMsg(t, "p2")
	if j["admitted"] != true {
		t.Fatalf("reconnected party: %v", j)
	}
	_ = party2
}

// The host's waiting list is in the order people began waiting, whatever
// changes (a map's order would reshuffle it at each change); someone who
// reconnects while waiting keeps their place.
func TestWaitingRoomListInArrivalOrder(t *testing.T) {
	f := waitingRoomFixture(t, Config{})
	host, _ := f.joinMsg(t, "p1")
	if l := expect(t, host, "lobby"); len(l["waiting"].([]any)) != 0 {
		t.Fatalf("lobby before anyone waits: %v", l)
	}
	ids := []string{"p2", "p3"}
	for i := 4; i <= 9; i++ {
		id := fmt.Sprintf("p%d", i)
		f.records.parts[id] = &cases.Participant{ID: id, SessionID: "s1", Role: cases.RoleParty, DisplayName: "Party " + id}
		ids = append(ids, id)
	}
	order := func(l map[string]any) string {
		var got []string
		for _, w := range l["waiting"].([]any) {
			got = append(got, w.(map[string]any)["id"].(string))
		}
		return strings.Join(got, ",")
	}
	conns := map[string]*websocket.Conn{}
	for i, id := range ids {
		conns[id], _ = f.joinMsg(t, id)
		expect(t, conns[id], "waiting")
		if got, want := order(expect(t, host, "lobby")), strings.Join(ids[:i+1], ","); got != want {
			t.Fatalf("lobby %s, want %s", got, want)
		}
	}
	// p4 reconnects (its old connection is replaced): same place.
	conns["p4"], _ = f.joinMsg(t, "p4")
	if got, want := order(expect(t, host, "lobby")), strings.Join(ids, ","); got != want {
		t.Fatalf("lobby after a reconnection %s, want %s", got, want)
	}
	// p3 is admitted: the others keep their order.
	_ = host.WriteJSON(map[string]any{"type": "admit", "id": "p3"})
	if got, want := order(expect(t, host, "lobby")), "p2,"+strings.Join(ids[2:], ","); got != want {
		t.Fatalf("lobby after admitting p3 %s, want %s", got, want)
	}
}

// Host controls: mute (the target is told, the others see it muted),
// remove (bye removed; a rejoin waits), lock (newcomers wait), end.
func TestHostControls(t *testing.T) {
	ended := make(chan string, 1)
	var actions []string
	f := waitingRoomFixture(t, Config{
		EndSession:   func(_ context.Context, id string) error { ended <- id; return nil },
		OnHostAction: func(_, host, action, target string) { actions = append(actions, host+" "+action+" "+target) },
	})
	f.records.sess.WaitingRoom = false
	host, _ := f.joinMsg(t, "p1")
	party, _ := f.joinMsg(t, "p2")
	expect(t, host, "participant_joined")

	_ = party.WriteJSON(map[string]any{"type": "mute", "id": "p1", "kind": "audio"})
	if m := expect(t, party, "error"); m["code"] != CodeNotHost {
		t.Fatalf("mute by a party: %v", m)
	}
	_ = host.WriteJSON(map[string]any{"type": "mute", "id": "p2", "kind": "audio"})
	if m := expect(t, party, "muted"); m["kind"] != "audio" || m["by"] != "p1" {
		t.Fatalf("muted %v", m)
	}
	if m := expect(t, host, "participant_updated"); m["participant"].(map[string]any)["audio"] != false {
		t.Fatalf("host sees %v", m)
	}
	_ = host.WriteJSON(map[string]any{"type": "mute", "id": "nobody", "kind": "video"})
	if m := expect(t, host, "error"); m["code"] != CodeNoSuchParticipant {
		t.Fatalf("mute of nobody: %v", m)
	}

	_ = host.WriteJSON(map[string]any{"type": "lock", "locked": true})
	if m := expect(t, party, "room"); m["locked"] != true {
		t.Fatalf("room %v", m)
	}
	newcomer, _ := f.joinMsg(t, "p3")
	if m := expect(t, newcomer, "waiting"); m["reason"] != WaitLocked {
		t.Fatalf("newcomer in a locked room: %v", m)
	}

	_ = host.WriteJSON(map[string]any{"type": "remove", "id": "p2"})
	if m := expect(t, party, "bye"); m["reason"] != "removed" {
		t.Fatalf("removed party got %v", m)
	}
	back, j := f.joinMsg(t, "p2")
	if j["admitted"] != false {
		t.Fatalf("a removed party rejoined straight into the call: %v", j)
	}
	if m := expect(t, back, "waiting"); m["reason"] != WaitRemoved {
		t.Fatalf("removed party rejoining: %v", m)
	}

	_ = host.WriteJSON(map[string]any{"type": "end_session"})
	select {
	case id := <-ended:
		if id != "s1" {
			t.Fatalf("ended %s", id)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("end_session did not end the session")
	}
	waitedFor(t, "the audit entries", func() bool {
		return f.audited("host.mute p1") && f.audited("host.lock p1") && f.audited("host.remove p1") && f.audited("host.end p1")
	})
	if got := strings.Join(actions, ", "); got != "p1 mute p2, p1 remove p2" {
		t.Fatalf("host actions told to the other nodes: %q", got)
	}
}

// Chat reaches everyone in the call with the server's time and is
// audited; newcomers get the history; typed limits and the rate limit.
func TestChat(t *testing.T) {
	f := newFixture(t, Config{})
	a, _ := f.joinMsg(t, "p1")
	b, _ := f.joinMsg(t, "p2")
	_ = b.WriteJSON(map[string]any{"type": "chat", "text": "Buongiorno, 你好 <b>x</b>"})
	for _, ws := range []*websocket.Conn{a, b} {
		m := expect(t, ws, "chat")
		if m["text"] != "Buongiorno, 你好 <b>x</b>" || m["from"] != "p2" || m["name"] != "Chen" || m["id"] == "" || m["at"] == "" {
			t.Fatalf("chat %v", m)
		}
	}
	_ = b.WriteJSON(map[string]any{"type": "hand", "raised": true})
	if m := expect(t, a, "participant_updated"); m["participant"].(map[string]any)["hand"] != true {
		t.Fatalf("hand %v", m)
	}
	_ = b.WriteJSON(map[string]any{"type": "chat", "text": strings.Repeat("长", maxChat+1)})
	if m := expect(t, b, "error"); m["code"] != CodeBadMessage {
		t.Fatalf("long chat: %v", m)
	}
	_ = b.WriteJSON(map[string]any{"type": "chat", "text": "   "})
	if m := expect(t, b, "error"); m["code"] != CodeBadMessage {
		t.Fatalf("blank chat: %v", m)
	}
	limited := false
	for i := range chatBurst + 1 {
		_ = a.WriteJSON(map[string]any{"type": "chat", "text": "spam " + string(rune('a'+i))})
	}
	for range chatBurst + 1 {
		m := read(t, a)
		for m["type"] != "chat" && m["type"] != "error" {
			m = read(t, a)
		}
		limited = limited || m["code"] == CodeRateLimited
	}
	if !limited {
		t.Fatal("no rate limit")
	}
	// The history reaches a newcomer.
	f.records.parts["p3"] = &cases.Participant{ID: "p3", SessionID: "s1", Role: cases.RoleInterpreter, DisplayName: "Rossi"}
	_, j := f.joinMsg(t, "p3")
	if h := j["chat"].([]any); len(h) != chatBurst+1 || h[0].(map[string]any)["from"] != "p2" {
		t.Fatalf("history %d messages: %v", len(h), h)
	}
	waitedFor(t, "the chat in the audit log", func() bool { return f.audited("chat.message p2") })
}

// privacyLog records what a Lifecycle with Privacy is told.
type privacyLog struct {
	mu  sync.Mutex
	log []string
}

func (p *privacyLog) Joined(*cases.Session, string) error { return nil }
func (p *privacyLog) Left(*cases.Session, string, int)    {}
func (p *privacyLog) Private(_, pid string, private bool, sealedTo string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	e := fmt.Sprintf("%s %t", pid, private)
	if sealedTo != "" {
		e += " sealed:" + sealedTo
	}
	p.log = append(p.log, e)
}

func (p *privacyLog) String() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.log, ", ")
}

// mark is where the log is now; since lists what came after a mark.
func (p *privacyLog) mark() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.log)
}

func (p *privacyLog) since(n int) string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.log[n:], ", ")
}

func (m *fakeMedia) group(pid string) string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.groups[pid]
}

// Caucus: the mediator opens a private room with one party; both move
// there in the media plane, the recording pauses for them, everyone sees
// the rooms; the party reconnects into it; closing brings all back.
func TestCaucus(t *testing.T) {
	priv := &privacyLog{}
	f := newFixture(t, Config{Lifecycle: priv})
	f.records.parts["p3"] = &cases.Participant{ID: "p3", SessionID: "s1", Role: cases.RoleParty, DisplayName: "Lin"}
	f.records.parts["i2"] = &cases.Participant{ID: "i2", SessionID: "s1", Role: cases.RoleInterpreter, DisplayName: "Rossi", InterpretsFor: "p2"}
	host, _ := f.joinMsg(t, "p1")
	party, _ := f.joinMsg(t, "p2")
	other, _ := f.joinMsg(t, "p3")
	interp, ij := f.joinMsg(t, "i2")
	if self := ij["self"].(map[string]any); self["interprets_for"] != "p2" {
		t.Fatalf("interpreter's own info %v", self)
	}
	if m := expect(t, party, "participant_joined"); m["participant"].(map[string]any)["interprets_for"] != "p2" {
		// p2 may first hear of p3
		if m = expect(t, party, "participant_joined"); m["participant"].(map[string]any)["interprets_for"] != "p2" {
			t.Fatalf("the party sees its interpreter as %v", m)
		}
	}

	_ = party.WriteJSON(map[string]any{"type": "caucus_open", "members": []string{"p3"}})
	if m := expect(t, party, "error"); m["code"] != CodeNotHost {
		t.Fatalf("caucus by a party: %v", m)
	}
	_ = host.WriteJSON(map[string]any{"type": "caucus_open", "members": []string{"nobody"}})
	if m := expect(t, host, "error"); m["code"] != CodeNoSuchParticipant {
		t.Fatalf("caucus with nobody: %v", m)
	}
	// joined goes out before the join tells the recording: wait for
	// theirs, so that none lands after the mark.
	waitedFor(t, "everyone's recording set", func() bool {
		got := priv.String()
		return strings.Contains(got, "p1 false") && strings.Contains(got, "p2 false") && strings.Contains(got, "p3 false") &&
			strings.Contains(got, "i2 false")
	})
	opened := priv.mark()
	_ = host.WriteJSON(map[string]any{"type": "caucus_open", "members": []string{"p2"}})
	rooms := expect(t, other, "rooms")["rooms"].([]any)
	if len(rooms) != 1 {
		t.Fatalf("rooms %v", rooms)
	}
	pr := rooms[0].(map[string]any)
	id := pr["id"].(string)
	if pr["record"] != false || fmt.Sprint(pr["members"]) != "[i2 p1 p2]" {
		t.Fatalf("private room %v: the party's interpreter goes with them", pr)
	}
	if f.media.group("p1") != id || f.media.group("p2") != id || f.media.group("i2") != id || f.media.group("p3") != "" {
		t.Fatalf("media groups p1=%q p2=%q i2=%q p3=%q", f.media.group("p1"), f.media.group("p2"), f.media.group("i2"), f.media.group("p3"))
	}
	if got := priv.since(opened); strings.Count(got, "true") != 3 || strings.Contains(got, "p3") {
		t.Fatalf("privacy %q", got)
	}
	_ = interp

	// The party drops and comes back: into the private room.
	party.Close()
	waitedFor(t, "the party to leave the media plane", func() bool { return f.media.count("p2") == 0 })
	party2, j := f.joinMsg(t, "p2")
	if rs := j["rooms"].([]any); len(rs) != 1 {
		t.Fatalf("joined rooms %v", rs)
	}
	waitedFor(t, "the party back in the private room", func() bool { return f.media.group("p2") == id })

	_ = host.WriteJSON(map[string]any{"type": "caucus_join", "room": ""})
	waitedFor(t, "the host in the joint room", func() bool { return f.media.group("p1") == "" })
	closing := priv.mark()
	_ = host.WriteJSON(map[string]any{"type": "caucus_close", "all": true})
	if rs := expect(t, party2, "rooms")["rooms"].([]any); len(rs) != 1 {
		// the host's move leaves the room with the party: still one room
		t.Fatalf("rooms after the host left: %v", rs)
	}
	for {
		m := expect(t, party2, "rooms")
		if len(m["rooms"].([]any)) == 0 {
			break
		}
	}
	waitedFor(t, "everyone in the joint room", func() bool { return f.media.group("p2") == "" })
	if got := priv.since(closing); !strings.Contains(got, "p2 false") || !strings.Contains(got, "i2 false") {
		t.Fatalf("privacy %q: the party's recording did not resume", priv.String())
	}
	waitedFor(t, "the audit entries", func() bool {
		return f.audited("caucus.open p1") && f.audited("room.move p1") && f.audited("caucus.close p1") && f.audited("room.move p2")
	})

	// A recorded private room: its members are recorded, sealed to it
	// (not paused), and back in the joint room recorded as before.
	sealing := priv.mark()
	_ = host.WriteJSON(map[string]any{"type": "caucus_open", "members": []string{"p2"}, "record": true})
	for i := 0; ; i++ { // past the rooms of the caucus closed above
		rooms = expect(t, other, "rooms")["rooms"].([]any)
		if len(rooms) == 1 && rooms[0].(map[string]any)["record"] == true {
			break
		}
		if i == 5 {
			t.Fatalf("no recorded private room: %v", rooms)
		}
	}
	sealed := rooms[0].(map[string]any)["id"].(string)
	waitedFor(t, "the members sealed", func() bool {
		got := priv.since(sealing)
		return strings.Contains(got, "p1 false sealed:"+sealed) && strings.Contains(got, "p2 false sealed:"+sealed) &&
			strings.Contains(got, "i2 false sealed:"+sealed)
	})
	if got := priv.since(sealing); strings.Contains(got, "true") || strings.Contains(got, "p3") {
		t.Fatalf("privacy %q: a recorded private room pauses or concerns someone else", got)
	}
	unsealing := priv.mark()
	_ = host.WriteJSON(map[string]any{"type": "caucus_close", "all": true})
	waitedFor(t, "the members back in the joint room", func() bool {
		got := priv.since(unsealing)
		return strings.Contains(got, "p1 false") && strings.Contains(got, "p2 false") && strings.Contains(got, "i2 false") &&
			!strings.Contains(got, "sealed:")
	})
}

// Notary controls: pausing the recording (with the reason, everyone told,
// everyone's recording paused, a newcomer too) and resuming it (except a
// participant in a private room that is not recorded); asking a party to
// show the room; ending with presence in person required.
func TestNotaryControls(t *testing.T) {
	priv := &privacyLog{}
	ended := make(chan string, 1)
	f := newFixture(t, Config{Lifecycle: priv, EndSession: func(_ context.Context, id string) error { ended <- id; return nil }})
	f.records.parts["p3"] = &cases.Participant{ID: "p3", SessionID: "s1", Role: cases.RoleParty, DisplayName: "Lin"}
	host, _ := f.joinMsg(t, "p1")
	party, _ := f.joinMsg(t, "p2")

	_ = party.WriteJSON(map[string]any{"type": "recording_pause", "reason": "x"})
	if m := expect(t, party, "error"); m["code"] != CodeNotHost {
		t.Fatalf("pause by a party: %v", m)
	}
	_ = host.WriteJSON(map[string]any{"type": "recording_pause"})
	if m := expect(t, host, "error"); m["code"] != CodeBadMessage {
		t.Fatalf("pause without a reason: %v", m)
	}
	pausing := priv.mark()
	_ = host.WriteJSON(map[string]any{"type": "recording_pause", "reason": "The party fetches their passport"})
	if m := expect(t, party, "recording"); m["paused"] != true || m["reason"] != "The party fetches their passport" || m["by"] != "p1" {
		t.Fatalf("recording %v", m)
	}
	waitedFor(t, "both paused", func() bool {
		got := priv.since(pausing)
		return strings.Contains(got, "p1 true") && strings.Contains(got, "p2 true")
	})
	late, j := f.joinMsg(t, "p3")
	if r := j["recording"].(map[string]any); r["paused"] != true {
		t.Fatalf("a newcomer is not told of the pause: %v", j)
	}
	waitedFor(t, "the newcomer paused", func() bool { return strings.Contains(priv.since(pausing), "p3 true") })
	_ = late

	_ = host.WriteJSON(map[string]any{"type": "caucus_open", "members": []string{"p2"}})
	expect(t, party, "rooms")
	resuming := priv.mark()
	_ = host.WriteJSON(map[string]any{"type": "recording_resume"})
	if m := expect(t, party, "recording"); m["paused"] != false {
		t.Fatalf("recording %v", m)
	}
	waitedFor(t, "the joint room recorded again", func() bool { return strings.Contains(priv.since(resuming), "p3 false") })
	if got := priv.since(resuming); strings.Contains(got, "p2 false") || strings.Contains(got, "p1 false") {
		t.Fatalf("the private room is recorded after the resume: %q", got)
	}

	_ = host.WriteJSON(map[string]any{"type": "request_view", "id": "p2"})
	if m := expect(t, party, "view_requested"); m["by"] != "p1" {
		t.Fatalf("view_requested %v", m)
	}
	_ = host.WriteJSON(map[string]any{"type": "end_session", "in_person": true, "reason": "The signature must be given at the office"})
	select {
	case <-ended:
	case <-time.After(5 * time.Second):
		t.Fatal("not ended")
	}
	waitedFor(t, "the audit entries", func() bool {
		return f.audited("recording.pause p1") && f.audited("recording.resume p1") && f.audited("host.request_view p1") && f.audited("host.end p1")
	})
}
