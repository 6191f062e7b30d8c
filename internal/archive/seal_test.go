package archive

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/kuayang/kuayang/internal/evidence"
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
