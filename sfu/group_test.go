package sfu

import (
	"fmt"
	"maps"
	"sort"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
)

// subscribedTo is the server's view of p's subscriptions: how many tracks
// of each publisher p is subscribed to.
func subscribedTo(p *Participant) map[string]int {
	p.room.mu.Lock()
	defer p.room.mu.Unlock()
	out := map[string]int{}
	for f := range p.downs {
		out[f.pubID()]++
	}
	return out
}

// subscribersOf lists the participants f is forwarded to, sorted, and
// counts its observers.
func subscribersOf(f *forwarder) (subs []string, observers int) {
	for _, d := range *f.subs.Load() {
		if d.obs != nil {
			observers++
			continue
		}
		subs = append(subs, d.sub.id)
	}
	sort.Strings(subs)
	return subs, observers
}

// wantSubscribed checks the server's subscriptions of every participant.
func wantSubscribed(t *testing.T, want map[*Participant]map[string]int) {
	t.Helper()
	for p, w := range want {
		if got := subscribedTo(p); !maps.Equal(got, w) {
			t.Errorf("%s (group %q) is subscribed to %v, want %v", p.id, p.Group(), got, w)
		}
	}
}

// packetsFrom counts the packets of kind c received from pid, over every
// track of pid's it was given (a track removed and added again is a new
// one).
func (c *client) packetsFrom(pid string, kind webrtc.RTPCodecType) int64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	var n int64
	for _, r := range c.tracks {
		if r.streamID == pid && r.kind == kind {
			n += r.packets.Load()
		}
	}
	return n
}

var bothKinds = []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio}

// flow is one publisher's track of one kind as one client receives it.
type flow struct {
	to   *client
	from string
	kind webrtc.RTPCodecType
}

func (f flow) String() string { return fmt.Sprintf("%s from %s (%s)", f.to.id, f.from, f.kind) }

// flowsBetween lists the flows from each client to each other one of to.
func flowsBetween(from, to []*client) []flow {
	var out []flow
	for _, c := range to {
		for _, p := range from {
			if p == c {
				continue
			}
			for _, k := range bothKinds {
				out = append(out, flow{to: c, from: p.id, kind: k})
			}
		}
	}
	return out
}

// waitFlowing waits until every flow grows by 10 packets.
func waitFlowing(t *testing.T, flows []flow) {
	t.Helper()
	base := make([]int64, len(flows))
	for i, f := range flows {
		base[i] = f.to.packetsFrom(f.from, f.kind)
	}
	for i, f := range flows {
		waitFor(t, f.String()+" flowing", mediaWait, func() bool {
			return f.to.packetsFrom(f.from, f.kind) >= base[i]+10
		})
	}
}

// waitOffered waits until c was offered a subscribe description after the
// first `after` offers, without the tracks of gone and with those of kept.
func waitOffered(t *testing.T, c *client, after int32, gone, kept []string) {
	t.Helper()
	waitFor(t, fmt.Sprintf("%s offered without %v, with %v", c.id, gone, kept), mediaWait, func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		if c.offers.Load() <= after {
			return false
		}
		for _, pid := range gone {
			if sendsFrom(c.lastOffer, pid) {
				return false
			}
		}
		for _, pid := range kept {
			if !sendsFrom(c.lastOffer, pid) {
				return false
			}
		}
		return true
	})
}

func TestCaucusIsolatesMedia(t *testing.T) {
	s := newTestSFU(t, -1)
	o := &recObserver{}
	stop, err := s.Observe("case", o)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	api := clientAPI(t)
	var clients []*client
	for _, id := range []string{"mediator", "bob", "carol"} {
		c := join(t, s, api, "case", id)
		c.publish()
		clients = append(clients, c)
	}
	med, bob, carol := clients[0], clients[1], clients[2]
	waitMedia(t, clients, "mediator", "bob", "carol")
	for _, c := range clients {
		waitObserved(t, o, c.id)
	}
	two := func(pids ...string) map[string]int {
		m := map[string]int{}
		for _, pid := range pids {
			m[pid] = 2
		}
		return m
	}
	wantSubscribed(t, map[*Participant]map[string]int{
		med.p: two("bob", "carol"), bob.p: two("mediator", "carol"), carol.p: two("mediator", "bob"),
	})

	// The mediator opens a caucus with bob.
	offers := map[*client]int32{}
	for _, c := range clients {
		offers[c] = c.offers.Load()
	}
	med.p.SetGroup("c1")
	bob.p.SetGroup("c1")
	if g := med.p.Group(); g != "c1" {
		t.Errorf("mediator's group = %q", g)
	}
	if g := carol.p.Group(); g != "" {
		t.Errorf("carol's group = %q", g)
	}
	wantSubscribed(t, map[*Participant]map[string]int{
		med.p: two("bob"), bob.p: two("mediator"), carol.p: {},
	})
	waitOffered(t, carol, offers[carol], []string{"mediator", "bob"}, nil)
	waitOffered(t, med, offers[med], []string{"carol"}, []string{"bob"})
	waitOffered(t, bob, offers[bob], []string{"carol"}, []string{"mediator"})

	time.Sleep(300 * time.Millisecond) // packets in flight arrive
	cut := append(flowsBetween([]*client{med, bob}, []*client{carol}),
		flowsBetween([]*client{carol}, []*client{med, bob})...)
	kept := flowsBetween([]*client{med, bob}, []*client{med, bob})
	before := map[flow]int64{}
	for _, f := range append(cut, kept...) {
		before[f] = f.to.packetsFrom(f.from, f.kind)
	}
	obsBefore := map[*obsSink]int{}
	for _, sink := range o.all() {
		obsBefore[sink] = sink.count()
	}
	time.Sleep(time.Second)
	for _, f := range cut {
		if n := f.to.packetsFrom(f.from, f.kind) - before[f]; n != 0 {
			t.Errorf("caucus: %v: %d packets", f, n)
		}
	}
	for _, f := range kept {
		if n := f.to.packetsFrom(f.from, f.kind) - before[f]; n < 20 {
			t.Errorf("caucus: %v: only %d packets in 1s", f, n)
		}
	}
	if n := len(o.all()); n != 6 {
		t.Errorf("observer has %d sinks, want 6", n)
	}
	for _, c := range clients {
		for _, kind := range []string{"video", "audio"} {
			live := o.live(c.id, kind)
			if len(live) != 1 {
				t.Errorf("observer has %d live %s sinks of %s, want 1", len(live), kind, c.id)
				continue
			}
			if n := live[0].count() - obsBefore[live[0]]; n < 20 {
				t.Errorf("caucus: observer got %d %s packets of %s in 1s", n, kind, c.id)
			}
		}
	}
	if st := s.Stats(); st.Participants != 3 || st.Tracks != 6 {
		t.Errorf("stats in caucus = %+v", st)
	}

	// Back to the joint room.
	for _, c := range clients {
		offers[c] = c.offers.Load()
	}
	med.p.SetGroup("")
	bob.p.SetGroup("")
	wantSubscribed(t, map[*Participant]map[string]int{
		med.p: two("bob", "carol"), bob.p: two("mediator", "carol"), carol.p: two("mediator", "bob"),
	})
	waitOffered(t, carol, offers[carol], nil, []string{"mediator", "bob"})
	waitOffered(t, med, offers[med], nil, []string{"bob", "carol"})
	waitOffered(t, bob, offers[bob], nil, []string{"mediator", "carol"})
	waitFlowing(t, flowsBetween(clients, clients))
	for _, sink := range o.all() {
		if sink.isClosed() {
			t.Errorf("observer's %s sink of %s closed", sink.info.Kind, sink.info.Participant)
		}
	}
}

// nopHandler is a Handler for participants without a client; it counts
// offers.
type nopHandler struct{ offers atomic.Int32 }

func (h *nopHandler) Offer(webrtc.SessionDescription)              { h.offers.Add(1) }
func (h *nopHandler) Candidate(Direction, webrtc.ICECandidateInit) {}
func (h *nopHandler) Failed(error)                                 {}

func TestTrackPublishedInGroupReachesOnlyGroup(t *testing.T) {
	s := newTestSFU(t, -1)
	o := &recObserver{}
	stop, err := s.Observe("r", o)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	parts := map[string]*Participant{}
	handlers := map[string]*nopHandler{}
	joinRoom := func(id string) *Participant {
		h := &nopHandler{}
		p, err := s.Join("r", id, h)
		if err != nil {
			t.Fatal(err)
		}
		parts[id], handlers[id] = p, h
		return p
	}
	med, bob, carol := joinRoom("mediator"), joinRoom("bob"), joinRoom("carol")
	publish := func(p *Participant, id string) *forwarder {
		t.Helper()
		f := newForwarder(id, vp8Codec, func() {})
		f.pub = p
		f.info = TrackInfo{Participant: p.id, TrackID: id, Kind: "video", Codec: webrtc.RTPCodecParameters{RTPCodecCapability: vp8Codec}}
		if !p.room.publish(f) {
			t.Fatalf("publish %s failed", id)
		}
		return f
	}
	wantSubs := func(f *forwarder, want ...string) {
		t.Helper()
		got, obs := subscribersOf(f)
		if fmt.Sprint(got) != fmt.Sprint(want) || obs != 1 {
			t.Errorf("%s is forwarded to %v and %d observers, want %v and 1", f.id, got, obs, want)
		}
	}

	med.SetGroup("c1")
	bob.SetGroup("c1")
	offers := handlers["bob"].offers.Load()
	fm := publish(med, "v-mediator")
	wantSubs(fm, "bob")
	wantSubscribed(t, map[*Participant]map[string]int{med: {}, bob: {"mediator": 1}, carol: {}})
	if handlers["bob"].offers.Load() == offers {
		t.Error("bob was not offered the mediator's track")
	}

	// A track published in the joint room does not reach the caucus.
	fc := publish(carol, "v-carol")
	wantSubs(fc)
	wantSubscribed(t, map[*Participant]map[string]int{med: {}, bob: {"mediator": 1}, carol: {}})

	// A newcomer joins the joint room.
	dave := joinRoom("dave")
	wantSubscribed(t, map[*Participant]map[string]int{dave: {"carol": 1}})
	wantSubs(fc, "dave")
	fd := publish(dave, "v-dave")
	wantSubs(fd, "carol")

	// carol joins the caucus: she leaves dave behind.
	med.room.mu.Lock()
	dropped := dave.downs[fc]
	med.room.mu.Unlock()
	carol.SetGroup("c1")
	wantSubscribed(t, map[*Participant]map[string]int{
		med: {"carol": 1}, bob: {"mediator": 1, "carol": 1}, carol: {"mediator": 1}, dave: {},
	})
	wantSubs(fm, "bob", "carol")
	wantSubs(fc, "bob", "mediator")
	wantSubs(fd)
	if !dropped.retired.Load() {
		t.Error("dave's subscription to carol was not retired")
	}
	select {
	case <-dropped.done:
	default:
		t.Error("dave's subscription to carol was not stopped")
	}

	// No-ops: the same group, a participant who left.
	carol.SetGroup("c1")
	wantSubs(fm, "bob", "carol")
	dave.Leave()
	dave.SetGroup("c1")
	if g := dave.Group(); g != "" {
		t.Errorf("group after leave = %q", g)
	}
	wantSubs(fm, "bob", "carol")
	if n := len(o.all()); n != 3 {
		t.Errorf("observer was offered %d tracks, want 3", n)
	}
	if st := s.Stats(); st.Participants != 3 || st.Tracks != 2 {
		t.Errorf("stats = %+v", st)
	}
}

func TestSetGroupConcurrent(t *testing.T) {
	s := newTestSFU(t, -1)
	var parts []*Participant
	var fwds []*forwarder
	for i := range 4 {
		p, err := s.Join("r", fmt.Sprint("p", i), &nopHandler{})
		if err != nil {
			t.Fatal(err)
		}
		f := newForwarder(fmt.Sprint("v", i), vp8Codec, func() {})
		f.pub = p
		if !p.room.publish(f) {
			t.Fatal("publish failed")
		}
		parts, fwds = append(parts, p), append(fwds, f)
	}
	groups := []string{"", "c1", "c2"}
	done := make(chan struct{})
	for i, p := range parts {
		go func() {
			defer func() { done <- struct{}{} }()
			for j := range 30 {
				p.SetGroup(groups[(i+j)%len(groups)])
			}
		}()
	}
	for range parts {
		<-done
	}
	for _, f := range fwds {
		var want []string
		for _, q := range parts {
			if q != f.pub && q.Group() == f.pub.Group() {
				want = append(want, q.id)
			}
		}
		got, _ := subscribersOf(f)
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s (group %q) is forwarded to %v, want %v", f.id, f.pub.Group(), got, want)
		}
	}
	for _, q := range parts {
		n := 0
		for _, f := range fwds {
			if f.pub != q && f.pub.Group() == q.Group() {
				n++
			}
		}
		if got := len(subscribedTo(q)); got != n {
			t.Errorf("%s (group %q) has %d subscriptions, want %d", q.id, q.Group(), got, n)
		}
	}
}
