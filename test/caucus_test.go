package test

import (
	"testing"
	"time"

	"github.com/kuayang/kuayang/internal/blob/miniotest"
	"github.com/kuayang/kuayang/internal/evidence"
	"github.com/kuayang/kuayang/internal/store"
	"github.com/kuayang/kuayang/internal/testpg"
)

// TestCaucusIsolatesMediaAndIsNotRecorded: in a recorded mediation the
// mediator opens a private room with one party. The other party receives
// none of its media (and they none of the other party's) while the two
// in the private room go on hearing and seeing each other; closing it
// brings everyone back. The sealed manifest shows the private room's
// time as private_room gaps of its members, and the bundle verifies.
func TestCaucusIsolatesMediaAndIsNotRecorded(t *testing.T) {
	media := realClip(t)
	n := startNode(t, recordingConfig(testpg.URL(t), miniotest.Shared(t).URL("caucus-"+store.NewID()[:12])))
	med := connectTo(t, n.URL(), n.invite(t, 0), media)
	p1 := connectTo(t, n.URL(), n.invite(t, 1), media)
	p2 := connectTo(t, n.URL(), n.invite(t, 2), media)
	all := []*client{med, p1, p2}
	for _, c := range all {
		flowing(t, c, 30, others(c, all)...)
	}
	time.Sleep(2 * time.Second)

	opened := time.Now()
	med.send(map[string]any{"type": "caucus_open", "members": []string{p1.self}})
	expectMsg(t, p2, "rooms")
	time.Sleep(time.Second) // the renegotiations settle
	before := snapshotMedia(med, p1, p2)
	time.Sleep(3 * time.Second)
	after := snapshotMedia(med, p1, p2)
	grew := func(a, b map[[2]*client]received, pair [2]*client) int {
		x, y := a[pair], b[pair]
		return x.videoPackets + x.audioPackets - y.videoPackets - y.audioPackets
	}
	for _, pair := range [][2]*client{{p2, med}, {p2, p1}, {med, p2}, {p1, p2}} {
		to, from := pair[0], pair[1]
		if grew := grew(after, before, pair); grew != 0 {
			t.Errorf("%s received %d packets from %s across the private room's wall", to.name, grew, from.name)
		}
	}
	for _, pair := range [][2]*client{{med, p1}, {p1, med}} {
		to, from := pair[0], pair[1]
		if grew := grew(after, before, pair); grew < 50 {
			t.Errorf("%s received only %d packets from %s in the private room in 3 s", to.name, grew, from.name)
		}
	}
	med.send(map[string]any{"type": "caucus_close", "all": true})
	closed := time.Now()
	back := snapshotMedia(med, p1, p2)
	waitFor(t, 10*time.Second, "media across the joint room again", func() bool {
		now := snapshotMedia(med, p1, p2)
		return grew(now, back, [2]*client{p2, med}) > 30 && grew(now, back, [2]*client{med, p2}) > 30
	})
	time.Sleep(3 * time.Second)
	for _, c := range all {
		c.leave(t)
	}

	clerk := staffClient(t, n.URL(), demoAccounts(n), "clerk")
	waitSealed(t, clerk, n.demo.SessionID, 60*time.Second)
	dir := t.TempDir()
	path := downloadBundle(t, clerk, n.demo.SessionID, dir)
	if _, err := verifyBundle(t, func() (evidence.Source, error) { return evidence.OpenZip(path) }); err != nil {
		t.Fatalf("the bundle does not verify: %v", err)
	}
	m := manifestOf(t, func() string { d := dir + "/x"; unzip(t, path, d); return d }())
	for _, c := range []*client{med, p1} {
		var private time.Duration
		for _, g := range m.Gaps {
			if g.ParticipantID != c.self {
				continue
			}
			t.Logf("gap of %s: %s..%s %s", c.name, g.From.Format("15:04:05.000"), g.To.Format("15:04:05.000"), g.Reason)
			switch {
			case g.Reason == evidence.GapPrivateRoom:
				private += g.To.Sub(g.From.Time)
			case g.From.Before(closed) && g.To.After(opened):
				t.Errorf("%s: a %s gap during the private room", c.name, g.Reason)
			}
		}
		if want := closed.Sub(opened); private < want-time.Second || private > want+3*time.Second {
			t.Errorf("%s: %s of private_room gaps, the private room lasted %s", c.name, private, want)
		}
	}
	for _, g := range m.Gaps {
		if g.ParticipantID == p2.self && g.Reason == evidence.GapPrivateRoom {
			t.Errorf("%s stayed in the joint room but has a private_room gap", p2.name)
		}
	}
	kinds := map[string]bool{}
	for _, e := range m.Events {
		kinds[e.Kind] = true
	}
	if !kinds["caucus.open"] || !kinds["caucus.close"] {
		t.Errorf("the manifest's events lack the private room's opening or closing: %+v", m.Events)
	}
}

// others is all but c.
func others(c *client, all []*client) []*client {
	var out []*client
	for _, o := range all {
		if o != c {
			out = append(out, o)
		}
	}
	return out
}

// TestRecordingPausedByHost: the mediator pauses the recording with a
// reason and resumes it; nothing is recorded meanwhile, and the sealed
// manifest shows the pause as paused gaps of everyone and the reason
// among its events.
func TestRecordingPausedByHost(t *testing.T) {
	media := realClip(t)
	n := startNode(t, recordingConfig(testpg.URL(t), miniotest.Shared(t).URL("pause-"+store.NewID()[:12])))
	med := connectTo(t, n.URL(), n.invite(t, 0), media)
	p1 := connectTo(t, n.URL(), n.invite(t, 1), media)
	flowing(t, med, 30, p1)
	flowing(t, p1, 30, med)
	time.Sleep(2 * time.Second)
	paused := time.Now()
	med.send(map[string]any{"type": "recording_pause", "reason": "La parte va a prendere il passaporto"})
	if m := expectMsg(t, p1, "recording"); m["paused"] != true {
		t.Fatalf("recording %v", m)
	}
	time.Sleep(3 * time.Second)
	med.send(map[string]any{"type": "recording_resume"})
	resumed := time.Now()
	expectMsg(t, p1, "recording")
	time.Sleep(3 * time.Second)
	med.leave(t)
	p1.leave(t)

	clerk := staffClient(t, n.URL(), demoAccounts(n), "clerk")
	waitSealed(t, clerk, n.demo.SessionID, 60*time.Second)
	dir := t.TempDir()
	path := downloadBundle(t, clerk, n.demo.SessionID, dir)
	if _, err := verifyBundle(t, func() (evidence.Source, error) { return evidence.OpenZip(path) }); err != nil {
		t.Fatalf("the bundle does not verify: %v", err)
	}
	ext := dir + "/x"
	unzip(t, path, ext)
	m := manifestOf(t, ext)
	for _, c := range []*client{med, p1} {
		var got time.Duration
		for _, g := range m.Gaps {
			if g.ParticipantID == c.self && g.Reason == evidence.GapPaused {
				got += g.To.Sub(g.From.Time)
			}
			if g.ParticipantID == c.self && g.Reason != evidence.GapPaused && g.From.Before(resumed) && g.To.After(paused) {
				t.Errorf("%s: a %s gap during the pause", c.name, g.Reason)
			}
		}
		if want := resumed.Sub(paused); got < want-time.Second || got > want+3*time.Second {
			t.Errorf("%s: %s of paused gaps, the pause lasted %s", c.name, got, want)
		}
		for _, s := range m.Segments {
			// (A segment's first audio may be stamped a moment before the
			// resume reached the server: the frames were on their way.)
			if s.ParticipantID == c.self && s.WallStart.After(paused.Add(500*time.Millisecond)) && s.WallStart.Before(resumed.Add(-500*time.Millisecond)) {
				t.Errorf("%s: a segment starts during the pause (%s..%s) at %s", c.name, paused.Format("15:04:05.000"),
					resumed.Format("15:04:05.000"), s.WallStart.Format("15:04:05.000"))
			}
		}
	}
	found := false
	for _, e := range m.Events {
		found = found || (e.Kind == evidence.EventRecordingPause && e.Detail == `{"reason":"La parte va a prendere il passaporto"}`)
	}
	if !found {
		t.Errorf("the pause and its reason are not among the manifest's events: %+v", m.Events)
	}
}
