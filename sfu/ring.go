package sfu

import "sync/atomic"

// slotSize bounds one queued RTP packet; larger packets are dropped. It is
// above pion's receive MTU, so nothing a publisher sends is ever too large.
const slotSize = 1500

// Queue lengths per subscriber and track, in packets (powers of two). Video
// holds a few frames (a keyframe at 1.5 Mbit/s is about 40 packets; the
// writer drains the queue as soon as it is woken); audio about half a
// second. Every slot is preallocated, so these lengths are most of the
// memory a subscription costs: 128 video slots are 192 KB.
const (
	videoQueueLen = 128
	audioQueueLen = 32
)

// slot is one preallocated packet buffer.
type slot struct {
	n        int
	lost     uint32 // packets the producer skipped just before this one
	level    uint8  // the packet's audio level (RFC 6464 byte), if hasLevel
	hasLevel bool
	buf      [slotSize]byte
}

// ring is a bounded single-producer single-consumer queue of packets. The
// producer (a track's reader) copies into a free slot and never blocks; the
// consumer (a writer) hands slots to a sink. The two counters only grow;
// their difference is the fill level.
type ring struct {
	slots []slot
	mask  uint64
	head  atomic.Uint64 // next slot to read; written by the consumer
	tail  atomic.Uint64 // next slot to write; written by the producer
}

// newRing returns a ring of n slots; n must be a power of two.
func newRing(n int) *ring {
	return &ring{slots: make([]slot, n), mask: uint64(n - 1)}
}

// put copies pk, renumbered to seq, into the ring, noting that lost packets
// were skipped just before it. It returns false when the ring is full or the
// packet too large.
func (q *ring) put(pk *packet, seq uint16, lost uint32) bool {
	t := q.tail.Load()
	if t-q.head.Load() >= uint64(len(q.slots)) || pk.size() > slotSize {
		return false
	}
	s := &q.slots[t&q.mask]
	s.n = pk.writeTo(s.buf[:], seq)
	s.lost = lost
	s.level, s.hasLevel = pk.level, pk.hasLevel
	q.tail.Store(t + 1)
	return true
}

// packetSink is where a writer sends packets; *webrtc.TrackLocalStaticRTP
// is one.
type packetSink interface {
	Write(b []byte) (int, error)
}

// lossSink is a packetSink that wants to know how many packets were skipped
// before the next one it is given (observers record the gap).
type lossSink interface {
	lost(n int)
}

// levelSink is a packetSink that wants the audio level of the packet it
// is given next (observers measure who speaks).
type levelSink interface {
	audioLevel(b uint8)
}

// drain writes every queued packet to sink, oldest first. A sink that is a
// lossSink first learns of the packets skipped before each one; a
// levelSink, of the packet's audio level when it has one.
func (q *ring) drain(sink packetSink) {
	h, t := q.head.Load(), q.tail.Load()
	for ; h != t; h++ {
		s := &q.slots[h&q.mask]
		if s.lost > 0 {
			if ls, ok := sink.(lossSink); ok {
				ls.lost(int(s.lost))
			}
		}
		if s.hasLevel {
			if ls, ok := sink.(levelSink); ok {
				ls.audioLevel(s.level)
			}
		}
		_, _ = sink.Write(s.buf[:s.n]) // a subscriber's failure is not the publisher's
		q.head.Store(h + 1)
	}
}
