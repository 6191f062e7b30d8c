package archive

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kuayang/kuayang/internal/audit"
	"github.com/kuayang/kuayang/internal/evidence"
	"github.com/kuayang/kuayang/internal/store"
	"github.com/kuayang/kuayang/recorder"
)

// TestSpeakingTravels: the recorder's speaking intervals go into the
// segment's record and from it into the manifest, on the manifest's time
// grid; a segment without any has none in either.
func TestSpeakingTravels(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	at := func(ms int) time.Time { return t0.Add(time.Duration(ms)*time.Millisecond + 789) } // sub-µs noise
	seg := recorder.Segment{SessionID: "s1", ParticipantID: "p1", Index: 0, Key: "sessions/s1/p1/000000.webm",
		WallStart: t0, WallEnd: t0.Add(30 * time.Second),
		Speaking: []recorder.Interval{{From: at(1000), To: at(2500)}, {From: at(4000), To: at(30000)}}}
	rec := toRecord(seg, t0, t0)
	if !strings.Contains(rec.Speaking, `"from":"2026-11-27T08:00:01.000000789Z"`) {
		t.Fatalf("record: %s", rec.Speaking)
	}
	got := speaking(rec)
	want := "08:00:01.000000-08:00:02.500000 08:00:04.000000-08:00:30.000000"
	if s := format(got); s != want {
		t.Fatalf("manifest speaking %q, want %q", s, want)
	}
	seg.Speaking = nil
	if rec := toRecord(seg, t0, t0); rec.Speaking != "" || speaking(rec) != nil {
		t.Fatalf("no speaking: %q %v", rec.Speaking, speaking(rec))
	}

	// Damaged records are mended rather than refused: clipped to the
	// segment, sorted, overlaps merged, empty and unreadable dropped.
	rec.Speaking = `[{"from":"2026-11-27T08:00:20Z","to":"2026-11-27T08:00:40Z"},
		{"from":"2026-11-27T07:59:50Z","to":"2026-11-27T08:00:02Z"},
		{"from":"2026-11-27T08:00:01Z","to":"2026-11-27T08:00:03Z"},
		{"from":"2026-11-27T08:00:05Z","to":"2026-11-27T08:00:05Z"}]`
	if s := format(speaking(rec)); s != "08:00:00.000000-08:00:03.000000 08:00:20.000000-08:00:30.000000" {
		t.Fatalf("mended: %q", s)
	}
	rec.Speaking = "not json"
	if speaking(rec) != nil {
		t.Fatal("unreadable speaking")
	}
}

func format(ivs []evidence.Interval) string {
	var parts []string
	for _, iv := range ivs {
		parts = append(parts, fmt.Sprintf("%s-%s", iv.From.Format("15:04:05.000000"), iv.To.Format("15:04:05.000000")))
	}
	return strings.Join(parts, " ")
}

// TestHolesOfAFailover: the reasons of the holes in a participant's media
// when the node recording it stopped. The hole that contains the
// takeover is a node failure; so is the one before a takeover from a
// node that never came back with its spool (its last seconds were in
// it); a hole followed by stored media before the takeover is a
// disconnect.
func TestHolesOfAFailover(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	at := func(s float64) evidence.Time { return evidence.At(t0.Add(time.Duration(s * float64(time.Second)))) }
	seg := func(from, to float64) evidence.Segment {
		return evidence.Segment{ParticipantID: "p1", WallStart: at(from), WallEnd: at(to)}
	}
	stopped := evidence.Event{Time: at(60), Kind: evidence.EventRecordingFailure, Detail: `{"reason":"node stopped","node":"n1"}`}
	notBack := evidence.Event{Time: at(100), Kind: evidence.EventRecordingFailure,
		Detail: fmt.Sprintf(`{"reason":%q,"node":"n1","waited_s":900}`, reasonNotBack)}
	reasons := func(events []evidence.Event, segs ...evidence.Segment) string {
		m := &evidence.Manifest{Participants: []evidence.Participant{{ID: "p1",
			Presence: []evidence.Presence{{JoinedAt: at(0), LeftAt: at(90)}}}}, Segments: segs, Events: events}
		var out []string
		for _, g := range holes(m) {
			out = append(out, fmt.Sprintf("%g-%g %s", g.From.Sub(t0).Seconds(), g.To.Sub(t0).Seconds(), g.Reason))
		}
		return strings.Join(out, " ")
	}
	// Stored until 50 s, then nothing until the new node's media at 65 s.
	if got, want := reasons([]evidence.Event{stopped}, seg(2, 50), seg(65, 90)), "50-65 node_failure"; got != want {
		t.Errorf("hole across the takeover: %q, want %q", got, want)
	}
	// The participant left at 90 s; the node died in the grace period
	// and its recording was taken up at 100 s: the media from 40 s on was
	// in its spool. Gone for good, that is a node failure; had it come
	// back (no such event), the hole would be what it is, a disconnect.
	later := evidence.Event{Time: at(100), Kind: stopped.Kind, Detail: stopped.Detail}
	notBack.Time = at(110)
	if got, want := reasons([]evidence.Event{later, notBack}, seg(2, 20), seg(25, 40)), "20-25 disconnect 40-90 node_failure"; got != want {
		t.Errorf("node never back: %q, want %q", got, want)
	}
	if got, want := reasons([]evidence.Event{later}, seg(2, 20), seg(25, 40)), "20-25 disconnect 40-90 disconnect"; got != want {
		t.Errorf("node back: %q, want %q", got, want)
	}
	// Media stored after a hole and before the takeover: the hole is not
	// the dead node's spool.
	if got, want := reasons([]evidence.Event{stopped, notBack}, seg(2, 20), seg(25, 40), seg(45, 90)), "20-25 disconnect 40-45 disconnect"; got != want {
		t.Errorf("media after the hole: %q, want %q", got, want)
	}
}

// TestPrivateRoomGaps: a hole in a participant's media while they were in
// a private room that was not recorded is a private_room gap; the parts
// outside keep their reason; a recorded private room changes nothing.
func TestPrivateRoomGaps(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	move := func(s float64, pid, room string, record bool) *audit.Entry {
		return &audit.Entry{Time: at(s), Action: "room.move",
			Detail: fmt.Sprintf(`{"participant":%q,"room":%q,"record":%t}`, pid, room, record)}
	}
	extract := []*audit.Entry{
		move(10, "p1", "private-1", false), move(20, "p1", "", true), // 10 s unrecorded, and 2 s for media to come back
		move(30, "p2", "private-2", true), move(40, "p2", "", true), // recorded
		move(50, "p1", "private-3", false), // still there at the end (60 s)
	}
	spans := privateSpans(extract, at(60))
	gap := func(pid string, from, to float64) evidence.Gap {
		return evidence.Gap{ParticipantID: pid, From: evidence.At(at(from)), To: evidence.At(at(to)), Reason: evidence.GapDisconnect}
	}
	var got []string
	for _, g := range cutGaps([]evidence.Gap{gap("p1", 8, 21), gap("p1", 23, 24), gap("p2", 29, 41), gap("p1", 50, 60)},
		func(pid string) [][2]time.Time { return spans[pid] }, evidence.GapPrivateRoom) {
		got = append(got, fmt.Sprintf("%s %g-%g %s", g.ParticipantID, g.From.Sub(t0).Seconds(), g.To.Sub(t0).Seconds(), g.Reason))
	}
	want := "p1 8-10 disconnect, p1 10-21 private_room, p1 23-24 disconnect, p2 29-41 disconnect, p1 50-60 private_room"
	if s := strings.Join(got, ", "); s != want {
		t.Fatalf("gaps\n%s\nwant\n%s", s, want)
	}
}

// TestPausedGaps: the holes of every participant while a host had paused
// the recording are paused gaps.
func TestPausedGaps(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	extract := []*audit.Entry{
		{Time: at(10), Action: evidence.EventRecordingPause, Detail: `{"reason":"passport"}`},
		{Time: at(20), Action: evidence.EventRecordingResume},
		{Time: at(50), Action: evidence.EventRecordingPause, Detail: `{"reason":"break"}`},
	}
	spans := pausedSpans(extract, at(60))
	gap := func(pid string, from, to float64, reason string) evidence.Gap {
		return evidence.Gap{ParticipantID: pid, From: evidence.At(at(from)), To: evidence.At(at(to)), Reason: reason}
	}
	var got []string
	for _, g := range cutGaps([]evidence.Gap{gap("p1", 10, 22, evidence.GapDisconnect), gap("p2", 5, 15, evidence.GapDisconnect),
		gap("p2", 12, 13, evidence.GapLoss), gap("p1", 49, 60, evidence.GapNodeFailure)},
		func(string) [][2]time.Time { return spans }, evidence.GapPaused) {
		got = append(got, fmt.Sprintf("%s %g-%g %s", g.ParticipantID, g.From.Sub(t0).Seconds(), g.To.Sub(t0).Seconds(), g.Reason))
	}
	want := "p1 10-22 paused, p2 5-10 disconnect, p2 10-15 paused, p2 12-13 loss, p1 49-50 node_failure, p1 50-60 paused"
	if s := strings.Join(got, ", "); s != want {
		t.Fatalf("gaps\n%s\nwant\n%s", s, want)
	}
}

// racyLog is an audit log to which an entry of the session is appended
// right after the first read of the session's entries: the moment where
// a participant's leave, written as the session seals, would fall.
type racyLog struct {
	store.Store
	log      []*audit.Entry
	appended bool
}

func (l *racyLog) AuditEntries(_ context.Context, f audit.Filter) ([]*audit.Entry, error) {
	var out []*audit.Entry
	for _, e := range l.log {
		if e.Seq > f.AfterSeq && (f.SessionID == "" || e.SessionID == f.SessionID) && len(out) < f.Limit {
			out = append(out, e)
		}
	}
	if f.SessionID != "" && !l.appended {
		l.appended = true
		l.add("s1", "participant.leave")
		l.add("s2", "participant.join")
	}
	return out, nil
}

func (l *racyLog) add(session, action string) {
	l.log = append(l.log, &audit.Entry{Seq: int64(len(l.log) + 1), SessionID: session, Action: action, Hash: []byte{byte(len(l.log))}})
}

func TestAuditExtractMatchesTheHead(t *testing.T) {
	l := &racyLog{}
	l.add("s1", "participant.join")
	l.add("s2", "participant.join")
	l.add("s1", "participant.join")
	a := &Archive{cfg: Config{Store: l}}
	extract, last, err := a.auditOf(context.Background(), "s1")
	if err != nil {
		t.Fatal(err)
	}
	if last == nil || last.Seq != 5 {
		t.Fatalf("head %+v, want entry 5", last)
	}
	var seqs []int64
	for _, e := range extract {
		seqs = append(seqs, e.Seq)
	}
	if !slices.Equal(seqs, []int64{1, 3, 4}) {
		t.Fatalf("extract %v, want [1 3 4]: every entry of the session up to the head", seqs)
	}
}

// TestHolesIgnoreScreen: a participant's screen-share segments neither
// cover a hole in their camera's media nor make one where the sharing
// stops; the record of a screen segment keeps its stream.
func TestHolesIgnoreScreen(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	at := func(s float64) evidence.Time { return evidence.At(t0.Add(time.Duration(s * float64(time.Second)))) }
	seg := func(stream string, from, to float64) evidence.Segment {
		return evidence.Segment{ParticipantID: "p1", Stream: stream, WallStart: at(from), WallEnd: at(to)}
	}
	holesOf := func(segs ...evidence.Segment) string {
		m := &evidence.Manifest{Participants: []evidence.Participant{{ID: "p1",
			Presence: []evidence.Presence{{JoinedAt: at(0), LeftAt: at(90)}}}}, Segments: segs}
		var out []string
		for _, g := range holes(m) {
			out = append(out, fmt.Sprintf("%g-%g %s %q", g.From.Sub(t0).Seconds(), g.To.Sub(t0).Seconds(), g.Reason, g.Stream))
		}
		return strings.Join(out, " ")
	}
	// The camera runs throughout; the screen is shared from 20 s to 35 s.
	if got := holesOf(seg("", 2, 30), seg(evidence.StreamScreen, 20, 35), seg("", 30, 90)); got != "" {
		t.Errorf("a screen share that stops made holes: %s", got)
	}
	// The camera drops from 40 s to 50 s while the screen is shared: the
	// hole is there all the same.
	if got, want := holesOf(seg("", 2, 40), seg(evidence.StreamScreen, 30, 60), seg("", 50, 90)), `40-50 disconnect ""`; got != want {
		t.Errorf("holes %s, want %s", got, want)
	}
	// Only a screen share stored: no camera media at all leaves no hole
	// to find (as for a participant with no segments), and the screen
	// does not stand in for it.
	if got := holesOf(seg(evidence.StreamScreen, 30, 60)); got != "" {
		t.Errorf("screen-only holes: %s", got)
	}

	rec := toRecord(recorder.Segment{SessionID: "s1", ParticipantID: "p1", Stream: recorder.StreamScreen, Index: 3,
		Key: "sessions/s1/p1/screen/000003.webm", WallStart: t0, WallEnd: t0.Add(time.Second),
		Gaps: []recorder.Gap{{From: t0, To: t0.Add(time.Second / 2), Reason: recorder.GapPacketLoss}}}, t0, t0)
	if rec.Stream != "screen" {
		t.Fatalf("record stream %q", rec.Stream)
	}
	if g := recorderGaps(rec); len(g) != 1 || g[0].Stream != evidence.StreamScreen || g[0].Reason != evidence.GapLoss {
		t.Fatalf("recorder gaps of a screen segment: %+v", g)
	}
}

// TestSealedRoomIsRecordedTime: the segments a participant recorded in a
// recorded private room cover their presence like any other (no gap,
// their room kept on the record and in the manifest), the cuts where
// they entered and left it are no gaps, and a hole inside the room's
// time is still one.
func TestSealedRoomIsRecordedTime(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	move := func(s float64, pid, room string, record bool) *audit.Entry {
		return &audit.Entry{Time: at(s), Action: "room.move",
			Detail: fmt.Sprintf(`{"participant":%q,"room":%q,"record":%t}`, pid, room, record)}
	}
	seg := func(room string, from, to float64) evidence.Segment {
		return evidence.Segment{ParticipantID: "p1", Room: room, WallStart: evidence.At(at(from)), WallEnd: evidence.At(at(to))}
	}
	extract := []*audit.Entry{
		move(30, "p1", "private-1", true), move(60, "p1", "", true), // recorded, sealed
		move(70, "p1", "private-2", false), move(75, "p1", "", true), // not recorded
	}
	gapsOf := func(segs ...evidence.Segment) string {
		m := &evidence.Manifest{Participants: []evidence.Participant{{ID: "p1",
			Presence: []evidence.Presence{{JoinedAt: evidence.At(t0), LeftAt: evidence.At(at(90))}}}}, Segments: segs}
		private := privateSpans(extract, at(90))
		gaps := cutGaps(holes(m), func(pid string) [][2]time.Time { return private[pid] }, evidence.GapPrivateRoom)
		sealed := sealedSwitches(extract)
		gaps = coverGaps(gaps, func(pid string) [][2]time.Time { return sealed[pid] })
		var out []string
		for _, g := range gaps {
			out = append(out, fmt.Sprintf("%g-%g %s", g.From.Sub(t0).Seconds(), g.To.Sub(t0).Seconds(), g.Reason))
		}
		return strings.Join(out, " ")
	}
	// Cut at 30 s (the next keyframe 0.8 s later) and at 60 s (0.6 s).
	if got, want := gapsOf(seg("", 2, 29.98), seg("private-1", 30.8, 60), seg("", 60.6, 70), seg("", 76, 90)), "70-76 private_room"; got != want {
		t.Errorf("gaps %q, want %q", got, want)
	}
	// Media lost inside the private room's time is a gap all the same.
	if got, want := gapsOf(seg("", 2, 29.98), seg("private-1", 30.8, 40), seg("private-1", 45, 60), seg("", 60.6, 70), seg("", 76, 90)),
		"40-45 disconnect 70-76 private_room"; got != want {
		t.Errorf("gaps %q, want %q", got, want)
	}
	// Without its segments, the sealed room's time is a hole like any.
	if got, want := gapsOf(seg("", 2, 29.98), seg("", 60.6, 70), seg("", 76, 90)), "32-59.5 disconnect 70-76 private_room"; got != want {
		t.Errorf("gaps %q, want %q", got, want)
	}

	rec := toRecord(recorder.Segment{SessionID: "s1", ParticipantID: "p1", Room: "private-1", Index: 3,
		Key: "sessions/s1/p1/000003.webm", WallStart: t0, WallEnd: t0.Add(time.Second)}, t0, t0)
	if rec.Room != "private-1" {
		t.Fatalf("record room %q", rec.Room)
	}
}
