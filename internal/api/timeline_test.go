package api

import (
	"testing"
	"time"

	"github.com/kuayang/kuayang/internal/evidence"
)

// TestTimelineSpeaking: a lane's speaking comes from its participant's
// segments, in time order, joined where a segment boundary cut an
// utterance; other participants' do not leak in.
func TestTimelineSpeaking(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	at := func(s float64) evidence.Time { return evidence.At(t0.Add(time.Duration(s * float64(time.Second)))) }
	iv := func(from, to float64) evidence.Interval { return evidence.Interval{From: at(from), To: at(to)} }
	m := &evidence.Manifest{
		Session: evidence.Session{ID: "s1", StartedAt: at(0)},
		Participants: []evidence.Participant{
			{ID: "p1", Name: "Chen Wei", Presence: []evidence.Presence{{JoinedAt: at(0), LeftAt: at(60)}}},
			{ID: "p2", Name: "Silent", Presence: []evidence.Presence{{JoinedAt: at(0), LeftAt: at(60)}}},
		},
		Segments: []evidence.Segment{
			// Out of order, as a draft may list them.
			{ParticipantID: "p1", Index: 1, WallStart: at(30), WallEnd: at(60), Speaking: []evidence.Interval{iv(30, 31.5), iv(40, 42)}},
			{ParticipantID: "p1", Index: 0, WallStart: at(0), WallEnd: at(30), Speaking: []evidence.Interval{iv(2, 4), iv(28, 30)}},
			{ParticipantID: "p2", Index: 0, WallStart: at(0), WallEnd: at(60)},
		},
	}
	v := buildTimeline(m, fromManifest, t0.Add(time.Minute))
	got := v.Lanes[0].Speaking
	want := []spanView{{at(2).Time, at(4).Time}, {at(28).Time, at(31.5).Time}, {at(40).Time, at(42).Time}}
	if len(got) != len(want) {
		t.Fatalf("speaking %v, want %v", got, want)
	}
	for i := range want {
		if !got[i].From.Equal(want[i].From) || !got[i].To.Equal(want[i].To) {
			t.Errorf("speaking[%d] = %v, want %v", i, got[i], want[i])
		}
	}
	if s := v.Lanes[1].Speaking; s == nil || len(s) != 0 {
		t.Errorf("the silent participant's speaking %#v, want an empty list", s)
	}
}
