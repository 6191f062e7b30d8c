package sfu

import (
	"fmt"
	"math"
	"sync"
	"sync/atomic"

	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/cc"
	"github.com/pion/interceptor/pkg/gcc"
	"github.com/pion/logging"
	"github.com/pion/rtp"
	"github.com/pion/webrtc/v4"
)

// Bandwidth estimation of the subscribe connections (send-side, TWCC-based
// Google Congestion Control from pion/interceptor). Its estimate chooses
// the simulcast layer each subscriber receives.
const (
	// bweStart is the estimate before any feedback: about a mid layer
	// of a browser's simulcast (a full 720p layer is 1.5 to 2.5 Mbit/s),
	// so a new subscriber starts at a layer it most likely can take and
	// moves up as the estimate grows.
	bweStart = 1_000_000
	bweMin   = 50_000
	bweMax   = 50_000_000
)

// bweGate is the congestion control interceptor of one subscribe
// connection. It is built for every subscribe connection (pion builds
// interceptors with the connection) but stays out of the way until the
// subscriber receives its first simulcast track: until then every packet
// and every RTCP packet passes straight through, so a connection that
// never carries simulcast costs what it cost before the estimator existed
// (one atomic load per packet). Once active, the estimator sees every
// packet the connection sends (through pion's no-op pacer: the SFU
// forwards, it does not pace) and the subscriber's transport-wide
// congestion control feedback, and its target bitrate is read by the
// layer allocation (see allocateLocked).
type bweGate struct {
	inner  interceptor.Interceptor // pion's cc interceptor
	est    cc.BandwidthEstimator
	active atomic.Bool
}

// activate routes packets and feedback through the estimator from now on.
func (g *bweGate) activate() { g.active.Store(true) }

// target is the estimator's target bitrate in bit/s.
func (g *bweGate) target() int { return g.est.GetTargetBitrate() }

// BindRTCPReader implements interceptor.Interceptor.
func (g *bweGate) BindRTCPReader(r interceptor.RTCPReader) interceptor.RTCPReader {
	measured := g.inner.BindRTCPReader(r)
	return interceptor.RTCPReaderFunc(func(b []byte, a interceptor.Attributes) (int, interceptor.Attributes, error) {
		if g.active.Load() {
			return measured.Read(b, a)
		}
		return r.Read(b, a)
	})
}

// BindRTCPWriter implements interceptor.Interceptor.
func (g *bweGate) BindRTCPWriter(w interceptor.RTCPWriter) interceptor.RTCPWriter {
	return g.inner.BindRTCPWriter(w)
}

// BindLocalStream implements interceptor.Interceptor.
func (g *bweGate) BindLocalStream(info *interceptor.StreamInfo, w interceptor.RTPWriter) interceptor.RTPWriter {
	measured := g.inner.BindLocalStream(info, w)
	return interceptor.RTPWriterFunc(func(h *rtp.Header, payload []byte, a interceptor.Attributes) (int, error) {
		if g.active.Load() {
			return measured.Write(h, payload, a)
		}
		return w.Write(h, payload, a)
	})
}

// UnbindLocalStream implements interceptor.Interceptor.
func (g *bweGate) UnbindLocalStream(info *interceptor.StreamInfo) { g.inner.UnbindLocalStream(info) }

// BindRemoteStream implements interceptor.Interceptor.
func (g *bweGate) BindRemoteStream(info *interceptor.StreamInfo, r interceptor.RTPReader) interceptor.RTPReader {
	return g.inner.BindRemoteStream(info, r)
}

// UnbindRemoteStream implements interceptor.Interceptor.
func (g *bweGate) UnbindRemoteStream(info *interceptor.StreamInfo) { g.inner.UnbindRemoteStream(info) }

// Close implements interceptor.Interceptor: it stops the estimator.
func (g *bweGate) Close() error { return g.inner.Close() }

// bweFactory builds a bweGate for each subscribe connection and hands it
// to the code that created the connection: pion builds the interceptors
// inside NewPeerConnection, so newPeerConnection serializes the creation
// of subscribe connections and picks up the gate built meanwhile.
type bweFactory struct {
	cc *cc.InterceptorFactory

	mu   sync.Mutex // held across NewPeerConnection; guards the fields below
	est  cc.BandwidthEstimator
	last *bweGate
}

// newBWEFactory returns the factory of the subscribe connections'
// estimators.
func newBWEFactory(lf logging.LoggerFactory) (*bweFactory, error) {
	f := &bweFactory{}
	factory, err := cc.NewInterceptor(func() (cc.BandwidthEstimator, error) {
		e, err := gcc.NewSendSideBWE(
			gcc.SendSideBWEInitialBitrate(bweStart),
			gcc.SendSideBWEMinBitrate(bweMin),
			gcc.SendSideBWEMaxBitrate(bweMax),
			gcc.SendSideBWEPacer(gcc.NewNoOpPacer()),
			gcc.WithLoggerFactory(lf),
		)
		if err != nil {
			return nil, err
		}
		f.est = e // f.mu is held by newPeerConnection
		return e, nil
	})
	if err != nil {
		return nil, fmt.Errorf("sfu: congestion control: %w", err)
	}
	f.cc = factory
	return f, nil
}

// NewInterceptor implements interceptor.Factory. It runs inside
// NewPeerConnection, with f.mu held by newPeerConnection.
func (f *bweFactory) NewInterceptor(id string) (interceptor.Interceptor, error) {
	f.est = nil
	inner, err := f.cc.NewInterceptor(id)
	if err != nil {
		return nil, err
	}
	if f.est == nil {
		_ = inner.Close()
		return nil, fmt.Errorf("sfu: congestion control: no estimator for %s", id)
	}
	g := &bweGate{inner: inner, est: f.est}
	f.last = g
	return g, nil
}

// newPeerConnection creates a connection with newPC, which must use the
// API whose registry holds f, and returns it with its estimator gate.
func (f *bweFactory) newPeerConnection(newPC func() (*webrtc.PeerConnection, error)) (*webrtc.PeerConnection, *bweGate, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.last = nil
	pc, err := newPC()
	g := f.last
	f.last, f.est = nil, nil
	return pc, g, err
}

// estimate is the outgoing bitrate the subscriber's connection can take,
// in bit/s: the test override if set, else the estimator's target;
// unlimited without an estimator.
func (p *Participant) estimate() int64 {
	if v := p.estOverride.Load(); v > 0 {
		return v
	}
	if p.bwe == nil {
		return math.MaxInt64 / 4
	}
	return int64(p.bwe.target())
}
