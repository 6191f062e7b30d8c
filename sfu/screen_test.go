package sfu

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
)

// shareScreen adds a VP8 screen track to c's publish connection, names its
// mid with SetScreen and renegotiates; it sends frames (a keyframe every
// second and on request) until stop is closed and returns the track's
// sender.
func (c *client) shareScreen(stop <-chan struct{}) *webrtc.RTPSender {
	c.t.Helper()
	track, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8}, "screen-"+c.id, "display-"+c.id)
	if err != nil {
		c.t.Fatal(err)
	}
	sender, err := c.pub.AddTrack(track)
	if err != nil {
		c.t.Fatal(err)
	}
	c.do(func() {
		var offer webrtc.SessionDescription
		if offer, err = c.pub.CreateOffer(nil); err == nil {
			err = c.pub.SetLocalDescription(offer)
		}
		if err != nil {
			return
		}
		for _, tr := range c.pub.GetTransceivers() {
			if tr.Sender() == sender {
				c.p.SetScreen(tr.Mid())
			}
		}
		var answer webrtc.SessionDescription
		if answer, err = c.p.Publish(offer); err == nil {
			err = c.pub.SetRemoteDescription(answer)
		}
	})
	if err != nil {
		c.t.Fatal(err)
	}
	var key atomic.Bool
	c.wg.Go(func() {
		buf := make([]byte, 1500)
		for {
			n, _, err := sender.Read(buf)
			if err != nil {
				return
			}
			if wantsKeyframe(buf[:n]) {
				key.Store(true)
			}
		}
	})
	c.wg.Go(func() {
		tick := time.NewTicker(40 * time.Millisecond)
		defer tick.Stop()
		frame := make([]byte, 600)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			case <-c.done:
				return
			case <-tick.C:
			}
			frame[0] = 0x01
			if i%25 == 0 || key.Swap(false) {
				frame[0] = 0x00 // a keyframe every second
			}
			_ = track.WriteSample(media.Sample{Data: frame, Duration: 40 * time.Millisecond})
		}
	})
	return sender
}

// screenSinks are the observer's sinks of pid's screen shares.
func (o *recObserver) screenSinks(pid string) []*obsSink {
	var out []*obsSink
	for _, s := range o.all() {
		if s.info.Participant == pid && s.info.Screen {
			out = append(out, s)
		}
	}
	return out
}

// TestScreenShareTrack: a participant's track on the mid SetScreen named
// is forwarded under the screen's stream id, beside their camera (still
// under their id), and observers are told it is the screen. It follows
// its publisher's group like their other media: a member of another
// group stops receiving it. Removed, it ends for everyone.
func TestScreenShareTrack(t *testing.T) {
	s := newTestSFU(t, -1)
	o := &recObserver{}
	stop, err := s.Observe("case", o)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	api := clientAPI(t)
	var clients []*client
	for _, id := range []string{"mediator", "bob", "carol"} {
		c := join(t, s, api, "case", id)
		c.publish()
		clients = append(clients, c)
	}
	med, bob, carol := clients[0], clients[1], clients[2]
	waitMedia(t, clients, "mediator", "bob", "carol")

	sharing := make(chan struct{})
	sender := bob.shareScreen(sharing)
	screen := ScreenStreamID("bob")
	if screen != "bob~screen" {
		t.Fatalf("screen stream id %q", screen)
	}
	for _, c := range []*client{med, carol} {
		waitFor(t, c.id+" receiving bob's screen", mediaWait, func() bool {
			return c.receiving(screen, webrtc.RTPCodecTypeVideo, 20)
		})
	}
	waitFor(t, "the observer told of bob's screen", mediaWait, func() bool {
		sinks := o.screenSinks("bob")
		return len(sinks) == 1 && sinks[0].count() >= 20
	})
	for _, sink := range o.all() {
		if sink.info.Screen && (sink.info.Participant != "bob" || sink.info.Kind != "video" || sink.info.TrackID != "screen-bob") {
			t.Errorf("a track other than bob's screen observed as a screen: %+v", sink.info)
		}
	}
	// The camera goes on under bob's own id.
	cam := carol.packetsFrom("bob", webrtc.RTPCodecTypeVideo)
	waitFor(t, "bob's camera still reaching carol", mediaWait, func() bool {
		return carol.packetsFrom("bob", webrtc.RTPCodecTypeVideo) >= cam+20
	})

	// A private room: the screen reaches only its members.
	offers := carol.offers.Load()
	med.p.SetGroup("c1")
	bob.p.SetGroup("c1")
	waitOffered(t, carol, offers, []string{"bob", screen}, nil)
	time.Sleep(300 * time.Millisecond) // packets in flight arrive
	carolBefore, medBefore := carol.packetsFrom(screen, webrtc.RTPCodecTypeVideo), med.packetsFrom(screen, webrtc.RTPCodecTypeVideo)
	waitFor(t, "the mediator, in the private room, receiving bob's screen", mediaWait, func() bool {
		return med.packetsFrom(screen, webrtc.RTPCodecTypeVideo) >= medBefore+20
	})
	time.Sleep(time.Second)
	if n := carol.packetsFrom(screen, webrtc.RTPCodecTypeVideo) - carolBefore; n != 0 {
		t.Errorf("carol, outside the private room, received %d packets of bob's screen", n)
	}

	// Bob stops sharing: the screen ends for the mediator and the observer.
	close(sharing)
	offers = med.offers.Load()
	if err := bob.pub.RemoveTrack(sender); err != nil {
		t.Fatal(err)
	}
	bob.do(func() { err = bob.negotiatePublish() })
	if err != nil {
		t.Fatal(err)
	}
	waitOffered(t, med, offers, []string{screen}, []string{"bob"})
	waitFor(t, "the observer's screen sink closed", mediaWait, func() bool {
		sinks := o.screenSinks("bob")
		return len(sinks) == 1 && sinks[0].isClosed()
	})
}
