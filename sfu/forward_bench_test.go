package sfu

import (
	"io"
	"sync"
	"sync/atomic"
	"testing"
)

// discardSink counts what it is given.
type discardSink struct {
	packets atomic.Int64
}

func (s *discardSink) Write(b []byte) (int, error) {
	s.packets.Add(1)
	return len(b), nil
}

// BenchmarkForward measures the hot path: one reader goroutine reads a
// packet into its buffer, parses it and copies it into the queues of four
// subscribers, whose writer goroutines hand it to their sinks. One op is one
// packet read and fanned out. It must not allocate.
func BenchmarkForward(b *testing.B) {
	const subscribers = 4
	src := &frameSource{t: b, perFrame: 8, keyEvery: 30}
	var packets [][]byte
	for range 240 {
		for _, raw := range src.next() {
			// Realistic size: pad the payload to about 1100 bytes.
			packets = append(packets, append(raw, make([]byte, 1100)...))
		}
	}
	f := newForwarder("v", vp8Codec, func() {})
	var wg sync.WaitGroup
	sinks := make([]*discardSink, subscribers)
	downs := make([]*downTrack, subscribers)
	for i := range sinks {
		sinks[i] = &discardSink{}
		downs[i] = newDownTrack(f, sinks[i], always)
		f.addSub(downs[i])
		wg.Go(downs[i].writeLoop)
	}
	i := 0
	read := func(buf []byte) (int, error) {
		if i == b.N {
			return 0, io.EOF
		}
		n := copy(buf, packets[i%len(packets)])
		i++
		return n, nil
	}

	b.ReportAllocs()
	b.SetBytes(int64(len(packets[1])))
	b.ResetTimer()
	f.readLoop(read)
	for _, d := range downs {
		waitDrained(d)
	}
	b.StopTimer()

	var delivered, dropped int64
	for i, d := range downs {
		delivered += sinks[i].packets.Load()
		dropped += int64(d.dropped.Load())
		d.stop()
	}
	wg.Wait()
	b.ReportMetric(float64(delivered)/float64(b.N), "delivered/op")
	b.ReportMetric(float64(dropped)/float64(b.N), "dropped/op")
}

// waitDrained spins until d's writer has emptied its queue.
func waitDrained(d *downTrack) {
	for d.q.head.Load() != d.q.tail.Load() {
		select {
		case d.wake <- struct{}{}:
		default:
		}
	}
}
