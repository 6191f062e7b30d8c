package api

import (
	"crypto/sha256"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/kuayang/kuayang/internal/cases"
	"github.com/kuayang/kuayang/internal/evidence"
)

func TestDateRange(t *testing.T) {
	day := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		from, to         string
		wantFrom, wantTo time.Time
	}{
		{"2026-03-01", "2026-03-01", day, day.Add(24*time.Hour - time.Nanosecond)},
		{"2026-03-01T08:00:00+08:00", "", day, time.Time{}},
		{"", "2026-03-01T00:00:00Z", time.Time{}, day},
		{"", "", time.Time{}, time.Time{}},
	} {
		from, to, err := dateRange(tc.from, tc.to)
		if err != nil || !from.Equal(tc.wantFrom) || !to.Equal(tc.wantTo) {
			t.Errorf("dateRange(%q, %q) = %v, %v, %v; want %v, %v", tc.from, tc.to, from, to, err, tc.wantFrom, tc.wantTo)
		}
	}
	for _, bad := range [][2]string{{"2026-3-1", ""}, {"", "yesterday"}, {"2026-03-02", "2026-03-01"}, {"2026-02-30", ""}} {
		var e *Error
		if _, _, err := dateRange(bad[0], bad[1]); !errors.As(err, &e) || e.Code != "invalid" || e.Status != 400 {
			t.Errorf("dateRange(%q, %q) = %v, want 400 invalid", bad[0], bad[1], err)
		}
	}
}

func TestCSVCell(t *testing.T) {
	for in, want := range map[string]string{
		"=HYPERLINK(\"x\")": "'=HYPERLINK(\"x\")",
		"+1":                "'+1",
		"-2+3":              "'-2+3",
		"@SUM(A1)":          "'@SUM(A1)",
		"\tx":               "'\tx",
		"case.view":         "case.view",
		"陈伟":                "陈伟",
		"":                  "",
		`{"a":"=1"}`:        `{"a":"=1"}`,
	} {
		if got := csvCell(in); got != want {
			t.Errorf("csvCell(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParties(t *testing.T) {
	sessions := []sessionView{
		{Participants: []participantView{{Name: "Niccolò Rossi", Role: "party", Language: "it"}, {Name: "Judge", Role: "judge"}}},
		{Participants: []participantView{{Name: "王小明", Role: "party", Language: "zh-CN"},
			{Name: "Niccolò Rossi", Role: "party", Language: "it"}, {Name: "Lin Mei", Role: "interpreter", Language: "it"}}},
	}
	got := parties(sessions)
	want := []partyView{{"Niccolò Rossi", "party", "it"}, {"王小明", "party", "zh-CN"}, {"Lin Mei", "interpreter", "it"}}
	if len(got) != len(want) {
		t.Fatalf("parties = %v, want %v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("parties[%d] = %v, want %v", i, got[i], want[i])
		}
	}
	if p := parties(nil); p == nil || len(p) != 0 {
		t.Errorf("parties(nil) = %#v, want an empty list", p)
	}
}

func TestBuildTimeline(t *testing.T) {
	t0 := time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)
	at := func(d time.Duration) evidence.Time { return evidence.At(t0.Add(d)) }
	m := &evidence.Manifest{
		Session: evidence.Session{ID: "s1", TimeZone: "Europe/Rome", StartedAt: at(time.Minute)},
		Participants: []evidence.Participant{
			{ID: "p1", Name: "Chen Wei", Role: "party", ConsentAt: at(time.Minute),
				Presence: []evidence.Presence{{JoinedAt: at(time.Minute), LeftAt: at(3 * time.Minute)}, {JoinedAt: at(4 * time.Minute)}}},
			{ID: "p2", Name: "Absent", Role: "observer"},
		},
		Segments: []evidence.Segment{{ParticipantID: "p1", Index: 0, WallStart: at(time.Minute), WallEnd: at(2 * time.Minute)}},
		Gaps:     []evidence.Gap{{ParticipantID: "p1", From: at(3 * time.Minute), To: at(4 * time.Minute), Reason: evidence.GapDisconnect}},
		Events:   []evidence.Event{{Time: at(time.Minute), Kind: evidence.EventRecordingStart}, {Time: at(5 * time.Minute), Kind: "custom"}},
	}
	end := t0.Add(10 * time.Minute)
	v := buildTimeline(m, fromRecords, end)
	if v.SessionID != "s1" || v.TimeZone != "Europe/Rome" || v.Source != fromRecords || !v.Start.Equal(t0.Add(time.Minute)) || !v.End.Equal(end) {
		t.Fatalf("timeline %+v", v)
	}
	if len(v.Lanes) != 2 || v.Lanes[1].Presence == nil || v.Lanes[1].Speaking == nil || len(v.Lanes[1].Segments) != 0 {
		t.Fatalf("lanes %+v", v.Lanes)
	}
	l := v.Lanes[0]
	if len(l.Presence) != 2 || !l.Presence[1].To.Equal(end) || len(l.Segments) != 1 || len(l.Gaps) != 1 || l.Gaps[0].Reason != "disconnect" || len(l.Speaking) != 0 {
		t.Fatalf("lane %+v", l)
	}
	var kinds []string
	for _, mk := range v.Marks {
		kinds = append(kinds, mk.Kind)
	}
	// The open presence has no leave mark; marks are by time.
	want := "recording.start consent join leave join custom"
	if got := strings.Join(kinds, " "); got != want {
		t.Errorf("marks %q, want %q", got, want)
	}
	if v.Marks[1].Label != "Chen Wei consented to the online procedure and the recording" || v.Marks[1].ParticipantID != "p1" || v.Marks[0].Label != "Recording started" {
		t.Errorf("marks %+v", v.Marks[:2])
	}
}

func TestCheckSealed(t *testing.T) {
	manifest := []byte(`{"format":"kuayang-manifest/1"}`)
	sum := sha256.Sum256(manifest)
	if p := checkSealed(manifest, &cases.Recording{ManifestSHA: sum[:]}); p != nil {
		t.Errorf("the sealed manifest: %v", p)
	}
	if p := checkSealed(append(manifest, ' '), &cases.Recording{ManifestSHA: sum[:]}); p == nil || p.Code != manifestMismatch {
		t.Errorf("another manifest: %v, want %s", p, manifestMismatch)
	}
}
