package recorder

import "time"

// ntpEpochOffset is the number of seconds from 1900 (NTP) to 1970 (Unix).
const ntpEpochOffset = 2208988800

// ntpTime converts a 64-bit NTP timestamp to a time.
func ntpTime(ntp uint64) time.Time {
	secs := int64(ntp>>32) - ntpEpochOffset
	frac := int64(ntp & 0xffffffff)
	return time.Unix(secs, (frac*1e9)>>32)
}

// clock maps one track's RTP timestamps to the recorder's wall clock. It is
// anchored first at the arrival of the first packet, then at every sender
// report (the publisher's capture clock, shifted onto the recorder's clock
// by the participant's offset), so a participant's tracks line up.
type clock struct {
	rate int64 // RTP clock rate, Hz

	started bool
	lastTS  uint32 // last timestamp unwrapped
	ext     int64  // its extended (unwrapped) value

	anchored   bool
	anchorExt  int64     // extended RTP time of the anchor
	anchorWall time.Time // its wall time
	fromSR     bool      // the anchor comes from a sender report
}

// unwrap extends ts to 64 bits relative to the last timestamp seen and
// remembers it.
func (c *clock) unwrap(ts uint32) int64 {
	if !c.started {
		c.started, c.lastTS, c.ext = true, ts, int64(ts)
		return c.ext
	}
	c.ext += int64(int32(ts - c.lastTS))
	c.lastTS = ts
	return c.ext
}

// peek extends ts like unwrap without remembering it.
func (c *clock) peek(ts uint32) int64 {
	if !c.started {
		return int64(ts)
	}
	return c.ext + int64(int32(ts-c.lastTS))
}

// arrival anchors the clock at a packet's arrival unless it is anchored.
func (c *clock) arrival(ts uint32, now time.Time) {
	if c.anchored {
		return
	}
	c.anchored, c.anchorExt, c.anchorWall = true, c.peek(ts), now
}

// senderReport anchors the clock at a sender report whose NTP time,
// shifted onto the recorder's clock, is wall.
func (c *clock) senderReport(rtpTime uint32, wall time.Time) {
	c.anchored, c.fromSR = true, true
	c.anchorExt, c.anchorWall = c.peek(rtpTime), wall
}

// wall returns the wall time of the (extended) RTP time ext.
func (c *clock) wall(ext int64) time.Time {
	d := (ext - c.anchorExt) * int64(time.Second) / c.rate
	return c.anchorWall.Add(time.Duration(d))
}
