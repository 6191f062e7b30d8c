package sfu

import (
	"fmt"
	"net"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/nack"
	"github.com/pion/interceptor/pkg/report"
	"github.com/pion/interceptor/pkg/twcc"
	"github.com/pion/logging"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
)

// Payload types offered on the subscribe connections. Browsers answer with
// the same numbers; on the publish connections the client's offer decides.
const (
	ptVP8      = 96
	ptVP9      = 98
	ptH264     = 102
	ptH264High = 104
	ptOpus     = 111
)

// videoFeedback is the RTCP feedback (rtcp-fb) every video codec announces:
// NACK and PLI (served by the NACK interceptors and the keyframe logic),
// FIR, and transport-wide congestion control feedback.
func videoFeedback() []webrtc.RTCPFeedback {
	return []webrtc.RTCPFeedback{
		{Type: webrtc.TypeRTCPFBNACK},
		{Type: webrtc.TypeRTCPFBNACK, Parameter: "pli"},
		{Type: webrtc.TypeRTCPFBCCM, Parameter: "fir"},
		{Type: webrtc.TypeRTCPFBTransportCC},
	}
}

// codecs returns the codecs this SFU forwards.
func codecs() []struct {
	kind  webrtc.RTPCodecType
	codec webrtc.RTPCodecParameters
} {
	video := func(mime, fmtp string, pt webrtc.PayloadType) webrtc.RTPCodecParameters {
		return webrtc.RTPCodecParameters{
			RTPCodecCapability: webrtc.RTPCodecCapability{
				MimeType: mime, ClockRate: 90000, SDPFmtpLine: fmtp,
				RTCPFeedback: videoFeedback(),
			},
			PayloadType: pt,
		}
	}
	opus := webrtc.RTPCodecParameters{
		RTPCodecCapability: webrtc.RTPCodecCapability{
			MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2,
			SDPFmtpLine:  "minptime=10;useinbandfec=1",
			RTCPFeedback: []webrtc.RTCPFeedback{{Type: webrtc.TypeRTCPFBTransportCC}},
		},
		PayloadType: ptOpus,
	}
	const h264 = "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id="
	return []struct {
		kind  webrtc.RTPCodecType
		codec webrtc.RTPCodecParameters
	}{
		{webrtc.RTPCodecTypeVideo, video(webrtc.MimeTypeVP8, "", ptVP8)},
		{webrtc.RTPCodecTypeVideo, video(webrtc.MimeTypeVP9, "profile-id=0", ptVP9)},
		{webrtc.RTPCodecTypeVideo, video(webrtc.MimeTypeH264, h264+"42e01f", ptH264)},
		{webrtc.RTPCodecTypeVideo, video(webrtc.MimeTypeH264, h264+"640c1f", ptH264High)},
		{webrtc.RTPCodecTypeAudio, opus},
	}
}

// newMediaEngine registers the codecs, the transport-cc header extension
// and, for audio the SFU receives, the client-to-mixer audio level (RFC
// 6464): publishers send it with every audio packet, and the reader passes
// it to observers (AudioLevelSink). It is registered for receiving only;
// pion still lists it in subscribe offers (their transceivers are
// sendrecv), which is harmless: forwarded packets carry none of the
// publisher's extensions, and the extension is optional.
//
// For video the SFU receives it also registers the extensions pion needs
// to tell the RTP streams of a simulcast publisher apart (RFC 8852, 8843):
// the media section (sdes:mid), the encoding (sdes:rtp-stream-id, the RID
// of a=rid) and the encoding a retransmission stream repairs
// (repaired-rtp-stream-id). A browser sending simulcast puts them on its
// first packets; pion then calls OnTrack once per RID.
func newMediaEngine() (*webrtc.MediaEngine, error) {
	m := &webrtc.MediaEngine{}
	for _, c := range codecs() {
		if err := m.RegisterCodec(c.codec, c.kind); err != nil {
			return nil, fmt.Errorf("sfu: register codec %s: %w", c.codec.MimeType, err)
		}
	}
	for _, kind := range []webrtc.RTPCodecType{webrtc.RTPCodecTypeVideo, webrtc.RTPCodecTypeAudio} {
		ext := webrtc.RTPHeaderExtensionCapability{URI: sdp.TransportCCURI}
		if err := m.RegisterHeaderExtension(ext, kind); err != nil {
			return nil, fmt.Errorf("sfu: register transport-cc extension: %w", err)
		}
	}
	level := webrtc.RTPHeaderExtensionCapability{URI: sdp.AudioLevelURI}
	if err := m.RegisterHeaderExtension(level, webrtc.RTPCodecTypeAudio, webrtc.RTPTransceiverDirectionRecvonly); err != nil {
		return nil, fmt.Errorf("sfu: register audio level extension: %w", err)
	}
	for _, uri := range []string{sdp.SDESMidURI, sdp.SDESRTPStreamIDURI, sdp.SDESRepairRTPStreamIDURI} {
		ext := webrtc.RTPHeaderExtensionCapability{URI: uri}
		if err := m.RegisterHeaderExtension(ext, webrtc.RTPCodecTypeVideo, webrtc.RTPTransceiverDirectionRecvonly); err != nil {
			return nil, fmt.Errorf("sfu: register simulcast extension %s: %w", uri, err)
		}
	}
	return m, nil
}

// nackHistory is how many sent packets of each forwarded video stream are
// kept for retransmission: 256 is more than a second at 2.4 Mbit/s (and
// five at 500 kbit/s), the window in which a browser still asks for a lost
// packet. pion's default, 1024, copies four times as much per stream: at
// 40 participants the history was a quarter of the heap.
const nackHistory = 256

// newInterceptors registers, explicitly and in order: first (the
// subscribe connections' congestion control, which must come before the
// NACK responder, whose retransmissions it then counts and limits, and
// after nothing that rewrites packets), the NACK responder (retransmits to
// subscribers) and generator (asks publishers), RTCP receiver and sender
// reports, the transport-cc header extension on outgoing media and
// transport-cc feedback for incoming media. pion runs the outgoing chain
// from the last registered to the first, so the estimator sees each packet
// with its transport-wide sequence number.
func newInterceptors(lf logging.LoggerFactory, first ...interceptor.Factory) (*interceptor.Registry, error) {
	reg := &interceptor.Registry{}
	for _, f := range first {
		reg.Add(f)
	}
	responder, err := nack.NewResponderInterceptor(nack.WithResponderLoggerFactory(lf),
		nack.ResponderSize(nackHistory))
	if err != nil {
		return nil, fmt.Errorf("sfu: nack responder: %w", err)
	}
	generator, err := nack.NewGeneratorInterceptor(nack.WithGeneratorLoggerFactory(lf))
	if err != nil {
		return nil, fmt.Errorf("sfu: nack generator: %w", err)
	}
	receiver, err := report.NewReceiverInterceptor(report.WithReceiverLoggerFactory(lf))
	if err != nil {
		return nil, fmt.Errorf("sfu: receiver reports: %w", err)
	}
	sender, err := report.NewSenderInterceptor(report.WithSenderLoggerFactory(lf))
	if err != nil {
		return nil, fmt.Errorf("sfu: sender reports: %w", err)
	}
	twccExt, err := twcc.NewHeaderExtensionInterceptor()
	if err != nil {
		return nil, fmt.Errorf("sfu: twcc header extension: %w", err)
	}
	twccSender, err := twcc.NewSenderInterceptor(twcc.WithLoggerFactory(lf))
	if err != nil {
		return nil, fmt.Errorf("sfu: twcc sender: %w", err)
	}
	reg.Add(responder)
	reg.Add(generator)
	reg.Add(receiver)
	reg.Add(sender)
	reg.Add(twccExt)
	reg.Add(twccSender)
	return reg, nil
}

// transport is what the setting engine needs from the sockets.
type transport struct {
	udpMux ice.UDPMux
	tcpMux ice.TCPMux // nil when ICE-TCP is disabled
	ip     net.IP     // nil when bound to all addresses
}

// newSettingEngine configures ICE for the node's shared sockets.
func newSettingEngine(cfg Config, lf logging.LoggerFactory, t transport) (webrtc.SettingEngine, error) {
	se := webrtc.SettingEngine{LoggerFactory: lf}
	se.SetICEUDPMux(t.udpMux)
	if t.tcpMux != nil {
		se.SetICETCPMux(t.tcpMux)
	}
	se.SetNetworkTypes(networkTypes(t.ip, t.tcpMux != nil))
	se.DisableActiveTCP(true)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	if len(cfg.PublicIPs) > 0 {
		err := se.SetICEAddressRewriteRules(webrtc.ICEAddressRewriteRule{
			External:        cfg.PublicIPs,
			AsCandidateType: webrtc.ICECandidateTypeHost,
			Mode:            webrtc.ICEAddressRewriteReplace,
		})
		if err != nil {
			return se, fmt.Errorf("sfu: public IPs: %w", err)
		}
	}
	if cfg.Loopback {
		se.SetIncludeLoopbackCandidate(true)
		se.SetInterfaceFilter(func(name string) bool { return name == "lo" })
		se.SetIPFilter(func(ip net.IP) bool { return ip.IsLoopback() })
	}
	return se, nil
}

// networkTypes picks the candidate networks that match the bound address.
func networkTypes(ip net.IP, tcp bool) []webrtc.NetworkType {
	v4 := ip == nil || ip.IsUnspecified() || ip.To4() != nil
	v6 := ip == nil || ip.IsUnspecified() || ip.To4() == nil
	var types []webrtc.NetworkType
	if v4 {
		types = append(types, webrtc.NetworkTypeUDP4)
	}
	if v6 {
		types = append(types, webrtc.NetworkTypeUDP6)
	}
	if tcp && v4 {
		types = append(types, webrtc.NetworkTypeTCP4)
	}
	if tcp && v6 {
		types = append(types, webrtc.NetworkTypeTCP6)
	}
	return types
}

// apis are the webrtc.APIs the peer connections of a node are built
// with: the publish connections' and the subscribe connections', which
// add a bandwidth estimator (bwe) to the same media and settings.
type apis struct {
	pub, sub *webrtc.API
	bwe      *bweFactory
}

// newAPIs builds the node's APIs.
func newAPIs(cfg Config, lf logging.LoggerFactory, t transport) (apis, error) {
	m, err := newMediaEngine()
	if err != nil {
		return apis{}, err
	}
	pubReg, err := newInterceptors(lf)
	if err != nil {
		return apis{}, err
	}
	bwe, err := newBWEFactory(lf)
	if err != nil {
		return apis{}, err
	}
	subReg, err := newInterceptors(lf, bwe)
	if err != nil {
		return apis{}, err
	}
	se, err := newSettingEngine(cfg, lf, t)
	if err != nil {
		return apis{}, err
	}
	// Every connection copies the media engine; the APIs may share it.
	api := func(reg *interceptor.Registry) *webrtc.API {
		return webrtc.NewAPI(
			webrtc.WithMediaEngine(m),
			webrtc.WithInterceptorRegistry(reg),
			webrtc.WithSettingEngine(se),
		)
	}
	return apis{pub: api(pubReg), sub: api(subReg), bwe: bwe}, nil
}
