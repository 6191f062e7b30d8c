package recorder

import (
	"slices"
	"time"
)

// Speaking detection from the audio level each audio packet carries (RFC
// 6464, measured by the sender: sfu.AudioLevelSink). A packet is loud when
// its level is at or above -50 dBov or its sender set the voice activity
// bit. Loud packets start a stretch of speech; a silence of
// speakingHangover ends it at the end of its last loud packet, so pauses
// between words and sentences shorter than that stay inside one interval.
// A stretch with less than speakingMin of loud audio (a cough, a click) is
// not speech.
const (
	// speakingLevel is the loudest level, in -dBov, that is not speech:
	// levels 0 to 50 (-0 to -50 dBov) are.
	speakingLevel = 50
	// speakingMin is the least loud audio an interval holds.
	speakingMin = 150 * time.Millisecond
	// speakingHangover is the silence that closes an interval; intervals
	// closer than this are one.
	speakingHangover = 400 * time.Millisecond
	// defaultFrame is the audio carried by one packet until the packets'
	// timestamps tell (Opus in browsers: 20 ms).
	defaultFrame = 20 * time.Millisecond
	// maxFrame bounds the audio of one packet (Opus: 120 ms).
	maxFrame = 120 * time.Millisecond
)

// Interval is a stretch of wall-clock time: a participant speaking.
type Interval struct {
	From time.Time `json:"from"`
	To   time.Time `json:"to"`
}

// loud reports whether a packet's audio level is speech.
func loud(level uint8, voice bool) bool { return voice || level <= speakingLevel }

// speech turns one participant's audio levels into speaking intervals and
// hands them to the segments they fall in. It is not safe for concurrent
// use (the participant's lock guards it).
type speech struct {
	// done holds the closed intervals not yet wholly handed to a segment,
	// in time order.
	done []Interval

	// The stretch in progress, if on: loud audio from from to to, of
	// which active is loud.
	on       bool
	from, to time.Time
	active   time.Duration
}

// level takes a packet's audio, dur long from at, loud or not.
func (s *speech) level(at time.Time, dur time.Duration, isLoud bool) {
	if s.on && at.Sub(s.to) >= speakingHangover {
		s.flush()
	}
	if !isLoud {
		return
	}
	end := at.Add(dur)
	if !s.on {
		s.on, s.from, s.to, s.active = true, at, end, dur
		return
	}
	if at.Before(s.from) {
		s.from = at
	}
	if end.After(s.to) {
		s.to = end
	}
	s.active += dur
}

// confirmed reports whether the stretch in progress is speech so far.
func (s *speech) confirmed() bool { return s.on && s.active >= speakingMin }

// flush ends the stretch in progress (the audio ended, or was silent long
// enough), keeping it if it is speech.
func (s *speech) flush() {
	if s.confirmed() {
		s.done = addInterval(s.done, Interval{From: s.from, To: s.to})
	}
	s.on, s.active = false, 0
}

// take returns the speech within a segment from start to end, the
// stretch in progress included (clipped at end), and forgets what ends
// by end: later segments start at or after it.
func (s *speech) take(start, end time.Time) []Interval {
	var out []Interval
	add := func(iv Interval) {
		if iv.From.Before(start) {
			iv.From = start
		}
		if iv.To.After(end) {
			iv.To = end
		}
		if iv.To.After(iv.From) {
			out = addInterval(out, iv)
		}
	}
	for _, iv := range s.done {
		add(iv)
	}
	if s.confirmed() {
		add(Interval{From: s.from, To: s.to})
	}
	s.done = slices.DeleteFunc(s.done, func(iv Interval) bool { return !iv.To.After(end) })
	return out
}

// addInterval appends iv to ivs (in time order), merging it with the last
// one when they are closer than the hangover.
func addInterval(ivs []Interval, iv Interval) []Interval {
	if n := len(ivs); n > 0 && iv.From.Sub(ivs[n-1].To) < speakingHangover {
		last := &ivs[n-1]
		if iv.From.Before(last.From) {
			last.From = iv.From
		}
		if iv.To.After(last.To) {
			last.To = iv.To
		}
		return ivs
	}
	return append(ivs, iv)
}
