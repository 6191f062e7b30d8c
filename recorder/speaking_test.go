package recorder

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

var s0 = time.Date(2026, 11, 27, 10, 0, 0, 0, time.UTC)

// ms is s0 plus n milliseconds.
func ms(n int) time.Time { return s0.Add(time.Duration(n) * time.Millisecond) }

// feedLevels feeds 20 ms packets from from to to (ms), loud or not.
func feedLevels(s *speech, from, to int, isLoud bool) {
	for at := from; at < to; at += 20 {
		s.level(ms(at), 20*time.Millisecond, isLoud)
	}
}

// spans formats intervals as ms offsets from s0.
func spans(ivs []Interval) string {
	var parts []string
	for _, iv := range ivs {
		parts = append(parts, fmt.Sprintf("%d-%d", iv.From.Sub(s0).Milliseconds(), iv.To.Sub(s0).Milliseconds()))
	}
	return strings.Join(parts, " ")
}

func TestLoudThreshold(t *testing.T) {
	for _, tc := range []struct {
		level uint8
		voice bool
		want  bool
	}{
		{0, false, true}, {30, false, true}, {50, false, true}, {51, false, false},
		{127, false, false}, {127, true, true}, {90, true, true},
	} {
		if got := loud(tc.level, tc.voice); got != tc.want {
			t.Errorf("loud(%d, %v) = %v, want %v", tc.level, tc.voice, got, tc.want)
		}
	}
}

func TestSpeechIntervals(t *testing.T) {
	type run struct {
		from, to int // ms
		loud     bool
	}
	tests := []struct {
		name string
		runs []run
		want string
	}{
		{"silence", []run{{0, 3000, false}}, ""},
		{"one utterance, closed by the hangover at its last loud packet",
			[]run{{0, 1000, false}, {1000, 2000, true}, {2000, 3000, false}}, "1000-2000"},
		{"too short: a click", []run{{0, 500, false}, {500, 620, true}, {620, 2000, false}}, ""},
		{"just long enough", []run{{0, 500, false}, {500, 660, true}, {660, 2000, false}}, "500-660"},
		{"a pause shorter than the hangover is bridged",
			[]run{{0, 1000, true}, {1000, 1380, false}, {1380, 2000, true}, {2000, 3000, false}}, "0-2000"},
		{"a pause of the hangover splits",
			[]run{{0, 1000, true}, {1000, 1400, false}, {1400, 2000, true}, {2000, 3000, false}}, "0-1000 1400-2000"},
		{"scattered short bursts add up", []run{
			{0, 80, true}, {80, 300, false}, {300, 380, true}, {380, 2000, false},
		}, "0-380"},
		{"still speaking at the end", []run{{0, 500, false}, {500, 1500, true}}, "500-1500"},
		{"no packets during a silence (DTX) still closes", []run{{0, 400, true}, {2000, 2400, true}, {2400, 3000, false}}, "0-400 2000-2400"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var s speech
			for _, r := range tc.runs {
				feedLevels(&s, r.from, r.to, r.loud)
			}
			s.flush()
			if got := spans(s.take(ms(0), ms(10000))); got != tc.want {
				t.Fatalf("intervals %q, want %q", got, tc.want)
			}
			if len(s.done) != 0 {
				t.Fatalf("%d intervals left after the segment took them", len(s.done))
			}
		})
	}
}

func TestSpeechAcrossSegments(t *testing.T) {
	var s speech
	// Segment 0 runs 0-2000, segment 1 2000-4000, segment 2 4000-6000.
	feedLevels(&s, 0, 500, false)
	feedLevels(&s, 500, 2300, true) // across the first boundary
	feedLevels(&s, 2300, 2400, false)
	// The first segment closes while the utterance goes on: it gets its
	// part up to its end.
	if got := spans(s.take(ms(0), ms(2000))); got != "500-2000" {
		t.Fatalf("segment 0: %q", got)
	}
	feedLevels(&s, 2400, 3000, false)
	feedLevels(&s, 3000, 3100, true) // a click: not speech
	feedLevels(&s, 3100, 3500, false)
	feedLevels(&s, 3500, 3700, true)
	feedLevels(&s, 3700, 3900, false)
	feedLevels(&s, 3900, 4200, true) // bridged with 3500-3700, across the boundary
	// Closed at 4000 while the stretch is in progress: clipped.
	if got := spans(s.take(ms(2000), ms(4000))); got != "2000-2300 3500-4000" {
		t.Fatalf("segment 1: %q", got)
	}
	feedLevels(&s, 4200, 5000, false)
	feedLevels(&s, 5000, 5100, true) // a blip cut by the track's end
	s.flush()
	if got := spans(s.take(ms(4000), ms(6000))); got != "4000-4200" {
		t.Fatalf("segment 2: %q", got)
	}
	// A later segment (the participant came back) gets nothing old.
	if got := spans(s.take(ms(9000), ms(10000))); got != "" {
		t.Fatalf("segment 3: %q", got)
	}
}

func TestAddIntervalMerges(t *testing.T) {
	ivs := addInterval(nil, Interval{ms(0), ms(1000)})
	ivs = addInterval(ivs, Interval{ms(1300), ms(2000)}) // closer than the hangover
	ivs = addInterval(ivs, Interval{ms(2400), ms(3000)}) // the hangover apart
	ivs = addInterval(ivs, Interval{ms(2900), ms(2950)}) // inside
	if got := spans(ivs); got != "0-2000 2400-3000" {
		t.Fatalf("%q", got)
	}
}

// TestRecordedSpeaking feeds a clip with audio levels through the
// recorder: the segments' speaking intervals follow the levels, split at
// segment boundaries, and are in the sidecars.
func TestRecordedSpeaking(t *testing.T) {
	c := makeClip(t, 320, 240, 6)
	r, clk, got, _ := newTestRecorder(t, 2*time.Second)
	f := newFeeder(t, r, clk, "alice", true, true)
	// Loud 1.0-2.6 s, a click at 3.5 s, loud 4.5-5.5 s with a 200 ms pause.
	f.levels = func(capture time.Duration) (uint8, bool) {
		at := capture.Milliseconds()
		switch {
		case at >= 1000 && at < 2600, at >= 3500 && at < 3560, at >= 4500 && at < 5000, at >= 5200 && at < 5500:
			return 20, false
		}
		return 127, false
	}
	f.play(c, 0, nil)
	f.end()
	r.Close()
	segs := got.all()
	if len(segs) < 3 {
		t.Fatalf("%d segments", len(segs))
	}
	var all []Interval
	for i, s := range segs {
		side, err := readSegment(strings.TrimSuffix(s.Path, ".webm") + sidecarSuffix)
		if err != nil || spans(side.Speaking) != spans(s.Speaking) {
			t.Errorf("segment %d: sidecar speaking %v, reported %v (%v)", i, side.Speaking, s.Speaking, err)
		}
		for j, iv := range s.Speaking {
			if iv.From.Before(s.WallStart) || iv.To.After(s.WallEnd) || !iv.To.After(iv.From) ||
				(j > 0 && iv.From.Before(s.Speaking[j-1].To)) {
				t.Errorf("segment %d (%v to %v): interval %d %v to %v", i, s.WallStart, s.WallEnd, j, iv.From, iv.To)
			}
		}
		for _, iv := range s.Speaking {
			if n := len(all); n > 0 && iv.From.Equal(all[n-1].To) {
				all[n-1].To = iv.To // split at a boundary
				continue
			}
			all = append(all, iv)
		}
	}
	for _, iv := range all {
		t.Logf("speaking %v to %v", iv.From.Sub(f.base), iv.To.Sub(f.base))
	}
	want := [][2]time.Duration{{1000 * time.Millisecond, 2600 * time.Millisecond}, {4500 * time.Millisecond, 5500 * time.Millisecond}}
	if len(all) != len(want) {
		t.Fatalf("speaking %v, want %v", all, want)
	}
	for i, w := range want {
		from, to := all[i].From.Sub(f.base), all[i].To.Sub(f.base)
		if (from-w[0]).Abs() > 60*time.Millisecond || (to-w[1]).Abs() > 60*time.Millisecond {
			t.Errorf("interval %d: %v to %v, want %v to %v", i, from, to, w[0], w[1])
		}
	}
}
