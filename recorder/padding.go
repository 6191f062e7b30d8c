package recorder

// Padding-only packets. A browser sends RTP packets without payload, only
// padding, to probe the bandwidth and, with simulcast, to keep its
// estimate up to what the next layer needs; without a retransmission
// stream (none is negotiated) it sends them in the media stream itself,
// after the last packet of a frame and with that frame's timestamp. They
// are no media, but pion's sample builder counts them as dropped packets
// (which the recorder would take for loss and wait for a keyframe) and,
// after a run of them, drops a frame that fits in one packet. So they
// never reach it: the unpadder drops them and numbers the packets after
// them on, as if they had never been sent.

// unpadWindow is how far, in sequence numbers, the unpadder remembers the
// padding it dropped: far beyond the sample builder's window (videoMaxLate),
// so that a late packet (a retransmission) within it is numbered as it
// would have been in order. Older packets are dropped.
const unpadWindow = 4096

// unpadder drops padding-only packets and renumbers the others.
type unpadder struct {
	started bool
	high    uint64   // extended sequence number of the newest packet
	drops   []uint64 // extended sequence numbers of the dropped padding, ascending, within unpadWindow of high
	pruned  uint64   // padding dropped before those listed
}

// seq returns the sequence number a packet with sequence number seq goes
// on with, and false when the packet is to be dropped: it is padding only
// (empty), or older than unpadWindow. A late padding-only packet that was
// not dropped before (the packets after it have been numbered with it)
// goes on.
func (u *unpadder) seq(seq uint16, empty bool) (uint16, bool) {
	if !u.started {
		// Extended numbers start well above zero, so that a late packet
		// of the first ones does not wrap below it.
		u.started, u.high = true, 1<<32|uint64(seq)
	}
	ext := uint64(int64(u.high) + int64(int16(seq-uint16(u.high))))
	if ext > u.high {
		u.high = ext
		u.prune()
		if empty {
			u.drops = append(u.drops, ext)
			return 0, false
		}
		return uint16(ext - u.pruned - uint64(len(u.drops))), true
	}
	if ext+unpadWindow <= u.high {
		return 0, false
	}
	n := u.pruned + uint64(len(u.drops))
	for i := len(u.drops) - 1; i >= 0 && u.drops[i] >= ext; i-- {
		if u.drops[i] == ext { // a copy of padding dropped
			return 0, false
		}
		n--
	}
	return uint16(ext - n), true
}

// prune forgets the padding dropped more than unpadWindow before high.
func (u *unpadder) prune() {
	i := 0
	for i < len(u.drops) && u.drops[i]+unpadWindow <= u.high {
		i++
	}
	if i > 0 {
		u.pruned += uint64(i)
		u.drops = append(u.drops[:0], u.drops[i:]...)
	}
}
