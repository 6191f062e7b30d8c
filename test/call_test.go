package test

import (
	"testing"
	"time"
)

// flowing waits until c has received at least n video and n audio packets
// from each of the others.
func flowing(t *testing.T, c *client, n int, others ...*client) {
	t.Helper()
	for _, o := range others {
		waitFor(t, 10*time.Second, c.name+" receiving from "+o.name, func() bool {
			r := c.got(o.self)
			return r.videoPackets >= n && r.audioPackets >= n
		})
	}
}

func TestCallEveryoneReceivesEveryone(t *testing.T) {
	n := startNode(t)
	a, b, c := connect(t, n, 0), connect(t, n, 1), connect(t, n, 2)
	flowing(t, a, 30, b, c)
	flowing(t, b, 30, a, c)
	flowing(t, c, 30, a, b)
	if r := a.got(a.self); r.videoPackets != 0 || r.audioPackets != 0 {
		t.Fatalf("a received its own media back: %+v", r)
	}
}

func TestLateJoinerGetsKeyframeWithinOneSecond(t *testing.T) {
	n := startNode(t)
	a, b := connect(t, n, 0), connect(t, n, 1)
	flowing(t, a, 10, b)
	flowing(t, b, 10, a)
	// The senders' first keyframes are behind us and the next scheduled
	// one is 10 s away: only a forwarded PLI gets the late joiner one.
	plisBefore := a.plis.Load()
	c := connect(t, n, 2)
	for _, o := range []*client{a, b} {
		waitFor(t, 5*time.Second, "keyframe from "+o.name, func() bool { return !c.got(o.self).firstKeyframeAt.IsZero() })
		r := c.got(o.self)
		if d := r.firstKeyframeAt.Sub(r.videoTrackAt); d > time.Second {
			t.Errorf("keyframe from %s arrived %s after its track; want within 1s", o.name, d)
		}
	}
	if a.plis.Load() == plisBefore {
		t.Error("no PLI reached the publisher for the late joiner")
	}
}

func TestStalledViewerDoesNotStallOthers(t *testing.T) {
	n := startNode(t)
	a, b, c := connect(t, n, 0), connect(t, n, 1), connect(t, n, 2)
	flowing(t, c, 10, a, b)
	c.stopRead.Store(true) // c's tracks are no longer read at all
	flowing(t, a, 10, b)
	before := a.got(b.self)
	time.Sleep(3 * time.Second) // let c's buffers fill well past full
	after := a.got(b.self)
	// b sends 30 video and 50 audio packets a second.
	if v, au := after.videoPackets-before.videoPackets, after.audioPackets-before.audioPackets; v < 60 || au < 100 {
		t.Fatalf("with a stalled viewer, a got %d video and %d audio packets from b in 3s; want at least 60 and 100", v, au)
	}
}

func TestLeaveRemovesParticipant(t *testing.T) {
	n := startNode(t)
	a, b := connect(t, n, 0), connect(t, n, 1)
	flowing(t, a, 10, b)
	b.send(map[string]any{"type": "leave"})
	m := expectMsg(t, a, "participant_left")
	if m["id"] != b.self {
		t.Fatalf("participant_left %v, want %s", m, b.self)
	}
	waitFor(t, 5*time.Second, "b's leave recorded", func() bool {
		p, err := n.Store().Participant(t.Context(), b.self)
		return err == nil && p.LeftAt != nil && p.JoinedAt != nil && p.ConsentAt != nil
	})
}

// expectMsg waits for a message of type typ on c's message channel.
func expectMsg(t *testing.T, c *client, typ string) map[string]any {
	t.Helper()
	timeout := time.After(5 * time.Second)
	for {
		select {
		case m, ok := <-c.msgs:
			if !ok {
				t.Fatalf("%s: connection closed waiting for %s", c.name, typ)
			}
			if m["type"] == typ {
				return m
			}
		case <-timeout:
			t.Fatalf("%s: no %s within 5s", c.name, typ)
		}
	}
}
