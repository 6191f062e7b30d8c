package load

import (
	"math/bits"
	"sync/atomic"
	"time"
)

// histogram counts durations in microseconds in log-linear buckets: exact
// below 64 µs, then 64 buckets per power of two (at most 1.6% error). Its
// size is fixed whatever it records; it is safe for concurrent use.
type histogram struct {
	buckets [histBuckets]atomic.Uint64
	count   atomic.Uint64
	max     atomic.Uint64
}

const (
	histSub     = 64 // linear buckets per power of two
	histSubBits = 6
	histBuckets = histSub + (64-histSubBits)*histSub
)

func histIndex(v uint64) int {
	if v < histSub {
		return int(v)
	}
	e := bits.Len64(v) - histSubBits - 1 // v>>e is in [64, 128)
	return histSub + e*histSub + int(v>>e) - histSub
}

// histValue is the middle of bucket i.
func histValue(i int) uint64 {
	if i < histSub {
		return uint64(i)
	}
	e := (i - histSub) / histSub
	m := uint64(i-histSub*(e+1)) + histSub
	lo := m << e
	return lo + (uint64(1)<<e)/2
}

// Record adds one duration; negative ones count as zero.
func (h *histogram) Record(d time.Duration) {
	us := uint64(0)
	if d > 0 {
		us = uint64(d / time.Microsecond)
	}
	h.buckets[histIndex(us)].Add(1)
	h.count.Add(1)
	for {
		m := h.max.Load()
		if us <= m || h.max.CompareAndSwap(m, us) {
			break
		}
	}
}

// Count is the number of recorded durations.
func (h *histogram) Count() uint64 { return h.count.Load() }

// Max is the largest recorded duration.
func (h *histogram) Max() time.Duration { return time.Duration(h.max.Load()) * time.Microsecond }

// Quantile returns the duration below which fraction q (0..1) of the
// recorded ones lie, or 0 when nothing was recorded.
func (h *histogram) Quantile(q float64) time.Duration {
	var counts [histBuckets]uint64
	var total uint64
	for i := range h.buckets {
		counts[i] = h.buckets[i].Load()
		total += counts[i]
	}
	if total == 0 {
		return 0
	}
	rank := uint64(q*float64(total) + 0.5)
	rank = min(max(rank, 1), total)
	var seen uint64
	for i, c := range counts {
		seen += c
		if seen >= rank {
			v := min(histValue(i), h.max.Load())
			return time.Duration(v) * time.Microsecond
		}
	}
	return h.Max()
}

// seqTracker counts the packets of one RTP stream and how many it expected
// from its sequence numbers, across 16-bit wrap. Late packets (behind the
// highest seen) count as received without moving the highest.
type seqTracker struct {
	started  bool
	first    uint64 // extended sequence number of the first packet
	highest  uint64 // extended highest sequence number
	received uint64
}

// Add notes a packet.
func (s *seqTracker) Add(seq uint16) {
	s.received++
	if !s.started {
		s.started = true
		s.first = uint64(seq) + 1<<16 // room below for late packets
		s.highest = s.first
		return
	}
	delta := int16(seq - uint16(s.highest))
	switch {
	case delta > 0:
		s.highest += uint64(delta)
	case delta < 0:
		if ext := s.highest - uint64(-int(delta)); ext < s.first {
			s.first = ext
		}
	}
}

// Expected is the number of packets between the first and the highest.
func (s *seqTracker) Expected() uint64 {
	if !s.started {
		return 0
	}
	return s.highest - s.first + 1
}

// Lost is Expected minus received, never negative (duplicates).
func (s *seqTracker) Lost() uint64 {
	if e := s.Expected(); e > s.received {
		return e - s.received
	}
	return 0
}

// counters are the run's totals, updated by every client.
type counters struct {
	sentPackets, sentBytes atomic.Uint64
	recvPackets, recvBytes atomic.Uint64
	expected, lost         atomic.Int64             // summed per stream as packets arrive
	layers                 [numLayers]atomic.Uint64 // video packets received per simulcast layer
}

type countSnapshot struct {
	sentPackets, sentBytes uint64
	recvPackets, recvBytes uint64
	expected, lost         int64
	layers                 [numLayers]uint64
}

func (c *counters) snapshot() countSnapshot {
	s := countSnapshot{
		sentPackets: c.sentPackets.Load(), sentBytes: c.sentBytes.Load(),
		recvPackets: c.recvPackets.Load(), recvBytes: c.recvBytes.Load(),
		expected: c.expected.Load(), lost: c.lost.Load(),
	}
	for i := range s.layers {
		s.layers[i] = c.layers[i].Load()
	}
	return s
}

func (a countSnapshot) sub(b countSnapshot) countSnapshot {
	d := countSnapshot{
		sentPackets: a.sentPackets - b.sentPackets, sentBytes: a.sentBytes - b.sentBytes,
		recvPackets: a.recvPackets - b.recvPackets, recvBytes: a.recvBytes - b.recvBytes,
		expected: a.expected - b.expected, lost: a.lost - b.lost,
	}
	for i := range d.layers {
		d.layers[i] = a.layers[i] - b.layers[i]
	}
	return d
}
