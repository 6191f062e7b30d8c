package load

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/ipv4"
)

// FloorResult is what a floor run measured over its window: the same
// synthetic packet stream a server run's clients publish, relayed by a bare
// UDP relay in a child process (see RelayMain).
type FloorResult struct {
	RelayPID           int     `json:"relay_pid"`
	DurationS          float64 `json:"duration_s"`
	SentPackets        uint64  `json:"sent_packets"`
	SentPacketsPerS    float64 `json:"sent_packets_per_s"`
	RelayedPackets     uint64  `json:"relayed_packets"` // received by all participants
	RelayedPacketsPerS float64 `json:"relayed_packets_per_s"`
	RecvBytesPerS      float64 `json:"recv_bytes_per_s"`
	LossPct            float64 `json:"loss_pct"`
	LatencyMS          struct {
		P50 float64 `json:"p50"`
		P99 float64 `json:"p99"`
		Max float64 `json:"max"`
	} `json:"latency_ms"`
	CPUS           float64 `json:"cpu_s"`
	CPUUsPerPacket float64 `json:"cpu_us_per_packet"`
	RSSMB          float64 `json:"rss_mb"`
}

// floorMTU is the largest RTP packet the floor sends, as pion's packetizer.
const (
	floorMTU       = 1200
	rtpHeaderLen   = 12
	vp8Descriptor  = 1
	floorVideoData = floorMTU - rtpHeaderLen - vp8Descriptor
)

// floorPeer is one synthetic participant of the floor run: a socket that
// publishes to the relay and counts what it relays from the others.
type floorPeer struct {
	room   uint32
	conn   *net.UDPConn
	pc     *ipv4.PacketConn
	recv   atomic.Uint64 // packets, whatever the window
	videoS uint32        // SSRCs
	audioS uint32
}

// floorSink is what the floor's receivers measure.
type floorSink struct {
	counters  counters
	latWindow histogram
	measuring atomic.Bool
}

// relayCommand returns the argv of the floor relay child.
func relayCommand(o Options) ([]string, error) {
	if len(o.RelayCommand) > 0 {
		return o.RelayCommand, nil
	}
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	return []string{exe, "load", "--floor-relay", "--listen", "127.0.0.1:0"}, nil
}

// startRelay starts the relay child and returns it, its address and a
// function that stops it.
func startRelay(ctx context.Context, o Options, stderr io.Writer) (*exec.Cmd, *net.UDPAddr, func(), error) {
	argv, err := relayCommand(o)
	if err != nil {
		return nil, nil, nil, err
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stderr = stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, nil, nil, err
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, nil, nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, nil, nil, fmt.Errorf("floor relay: %w", err)
	}
	var once sync.Once
	stop := func() {
		once.Do(func() {
			_ = stdin.Close() // the relay exits at EOF
			done := make(chan struct{})
			go func() {
				_ = cmd.Wait()
				close(done)
			}()
			select {
			case <-done:
			case <-time.After(5 * time.Second):
				_ = cmd.Process.Kill()
				<-done
			}
		})
	}
	type line struct {
		s   string
		err error
	}
	lines := make(chan line, 1)
	go func() {
		s, err := bufio.NewReader(stdout).ReadString('\n')
		lines <- line{s, err}
		_, _ = io.Copy(io.Discard, stdout)
	}()
	var l line
	select {
	case l = <-lines:
	case <-ctx.Done():
		l.err = ctx.Err()
	case <-time.After(10 * time.Second):
		l.err = errors.New("no address after 10 s")
	}
	if l.err != nil {
		stop()
		return nil, nil, nil, fmt.Errorf("floor relay: %w", l.err)
	}
	addr, ok := strings.CutPrefix(strings.TrimSpace(l.s), "listening ")
	ap, err := netip.ParseAddrPort(addr)
	if !ok || err != nil || !ap.Addr().IsLoopback() {
		stop()
		return nil, nil, nil, fmt.Errorf("floor relay said %q, want listening 127.0.0.1:PORT", l.s)
	}
	return cmd, net.UDPAddrFromAddrPort(ap), stop, nil
}

// runFloor runs the floor: o.Rooms × o.Participants sockets publishing what
// the clients of a server run would (video at o.VideoKbps and o.FPS in
// packets of at most 1200 bytes, 50 Opus packets of 80 bytes a second)
// through the relay, for o.Duration after a warm-up.
func runFloor(ctx context.Context, o Options, stderr io.Writer) (*FloorResult, error) {
	cmd, relayAddr, stopRelay, err := startRelay(ctx, o, stderr)
	if err != nil {
		return nil, err
	}
	defer stopRelay()

	peers := make([]*floorPeer, 0, o.Rooms*o.Participants)
	defer func() {
		for _, p := range peers {
			_ = p.conn.Close()
		}
	}()
	for r := range o.Rooms {
		for range o.Participants {
			c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
			if err != nil {
				return nil, err
			}
			_ = c.SetReadBuffer(4 << 20)
			_ = c.SetWriteBuffer(4 << 20)
			n := uint32(len(peers))
			p := &floorPeer{room: uint32(r), conn: c, pc: ipv4.NewPacketConn(c), videoS: 0x10000 + 2*n, audioS: 0x10001 + 2*n}
			peers = append(peers, p)
			if err := p.hello(ctx, relayAddr); err != nil {
				return nil, fmt.Errorf("floor relay: %w", err)
			}
		}
	}

	s := &floorSink{}
	done := make(chan struct{})
	var wg sync.WaitGroup
	defer func() {
		close(done)
		for _, p := range peers {
			_ = p.conn.SetReadDeadline(time.Now())
		}
		wg.Wait()
	}()
	videoBytes := max(o.VideoKbps*1000/o.FPS/8, minVP8Frame)
	for i, p := range peers {
		wg.Go(func() { p.receive(s, done) })
		phase := time.Duration(i) * time.Second / time.Duration(o.FPS) / time.Duration(len(peers))
		wg.Go(func() { p.publish(relayAddr, videoBytes, o.FPS, phase, s, done) })
	}

	// Warm up: every peer receives, then half a second more.
	deadline := time.Now().Add(5 * time.Second)
	for !allReceive(peers) && time.Now().Before(deadline) && ctx.Err() == nil {
		time.Sleep(10 * time.Millisecond)
	}
	if !allReceive(peers) {
		fmt.Fprintln(stderr, "load: warning: not every floor participant receives after 5 s")
	}
	sleepCtx(ctx, 500*time.Millisecond)

	res := &FloorResult{RelayPID: cmd.Process.Pid}
	start, err := readProc(cmd.Process.Pid)
	if err != nil {
		return nil, fmt.Errorf("floor relay: %w", err)
	}
	c0, t0 := s.counters.snapshot(), time.Now()
	s.measuring.Store(true)
	sleepCtx(ctx, o.Duration)
	s.measuring.Store(false)
	c1, t1 := s.counters.snapshot(), time.Now()
	end, err := readProc(cmd.Process.Pid)
	if err != nil {
		return nil, fmt.Errorf("floor relay: %w", err)
	}

	d, secs := c1.sub(c0), t1.Sub(t0).Seconds()
	res.DurationS = round(secs)
	res.SentPackets, res.RelayedPackets = d.sentPackets, d.recvPackets
	if secs > 0 {
		res.SentPacketsPerS = round(float64(d.sentPackets) / secs)
		res.RelayedPacketsPerS = round(float64(d.recvPackets) / secs)
		res.RecvBytesPerS = round(float64(d.recvBytes) / secs)
	}
	if d.expected > 0 {
		res.LossPct = round(100 * float64(max(d.lost, 0)) / float64(d.expected))
	}
	res.LatencyMS.P50 = ms(s.latWindow.Quantile(0.50))
	res.LatencyMS.P99 = ms(s.latWindow.Quantile(0.99))
	res.LatencyMS.Max = ms(s.latWindow.Max())
	cpu := end.cpu - start.cpu
	res.CPUS = round(cpu.Seconds())
	if d.recvPackets > 0 {
		res.CPUUsPerPacket = round(float64(cpu) / float64(time.Microsecond) / float64(d.recvPackets))
	}
	res.RSSMB = round(float64(end.rssBytes) / (1 << 20))
	return res, ctx.Err()
}

func allReceive(peers []*floorPeer) bool {
	for _, p := range peers {
		if p.recv.Load() == 0 {
			return false
		}
	}
	return true
}

func sleepCtx(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

// hello registers the peer with the relay and waits for the echo.
func (p *floorPeer) hello(ctx context.Context, relay *net.UDPAddr) error {
	msg := make([]byte, helloLen)
	copy(msg, helloMagic)
	binary.BigEndian.PutUint32(msg[len(helloMagic):], p.room)
	buf := make([]byte, 64)
	defer func() { _ = p.conn.SetReadDeadline(time.Time{}) }()
	for range 50 {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if _, err := p.conn.WriteToUDP(msg, relay); err != nil {
			return err
		}
		_ = p.conn.SetReadDeadline(time.Now().Add(100 * time.Millisecond))
		n, _, err := p.conn.ReadFromUDP(buf)
		if err == nil && n == helloLen && string(buf[:n]) == string(msg) {
			return nil
		}
	}
	return errors.New("no answer to hello after 5 s")
}

// publish sends the peer's stream until done: a video frame every 1/fps
// (after phase), split in packets of at most floorMTU bytes and sent in one
// batch, and an 80-byte Opus packet every 20 ms. Every packet is RTP with
// the send time at the start of its payload.
func (p *floorPeer) publish(relay *net.UDPAddr, frameBytes, fps int, phase time.Duration, s *floorSink, done chan struct{}) {
	select {
	case <-done:
		return
	case <-time.After(phase):
	}
	nv := (frameBytes + floorVideoData - 1) / floorVideoData
	video := make([]ipv4.Message, nv)
	left := frameBytes
	for i := range video {
		n := min(left, floorVideoData)
		left -= n
		video[i] = ipv4.Message{Buffers: [][]byte{make([]byte, rtpHeaderLen+vp8Descriptor+n)}, Addr: relay}
	}
	audio := make([]byte, rtpHeaderLen+80)
	var vseq, aseq uint16
	var vts, ats uint32
	vt := time.NewTicker(time.Second / time.Duration(fps))
	defer vt.Stop()
	at := time.NewTicker(20 * time.Millisecond)
	defer at.Stop()
	for {
		select {
		case <-done:
			return
		case <-vt.C:
			now := time.Now().UnixNano()
			vts += uint32(90000 / fps)
			bytes := 0
			for i, m := range video {
				b := m.Buffers[0]
				putRTP(b, 96, vseq, vts, p.videoS, i == len(video)-1)
				vseq++
				b[rtpHeaderLen] = 0
				if i == 0 {
					b[rtpHeaderLen] = 0x10 // S: start of a partition
				}
				putStamp(b[rtpHeaderLen+vp8Descriptor:], now)
				bytes += len(b)
			}
			for sent := 0; sent < len(video); {
				k, err := p.pc.WriteBatch(video[sent:], 0)
				if err != nil {
					if errors.Is(err, net.ErrClosed) {
						return
					}
					k = max(k, 1)
				}
				sent += k
			}
			s.counters.sentPackets.Add(uint64(len(video)))
			s.counters.sentBytes.Add(uint64(bytes))
		case <-at.C:
			ats += 960
			putRTP(audio, 111, aseq, ats, p.audioS, false)
			aseq++
			putStamp(audio[rtpHeaderLen:], time.Now().UnixNano())
			if _, err := p.conn.WriteToUDP(audio, relay); errors.Is(err, net.ErrClosed) {
				return
			}
			s.counters.sentPackets.Add(1)
			s.counters.sentBytes.Add(uint64(len(audio)))
		}
	}
}

// putRTP writes a 12-byte RTP header.
func putRTP(b []byte, pt uint8, seq uint16, ts, ssrc uint32, marker bool) {
	b[0] = 0x80
	b[1] = pt
	if marker {
		b[1] |= 0x80
	}
	binary.BigEndian.PutUint16(b[2:], seq)
	binary.BigEndian.PutUint32(b[4:], ts)
	binary.BigEndian.PutUint32(b[8:], ssrc)
}

// receive counts what the relay sends the peer until done.
func (p *floorPeer) receive(s *floorSink, done chan struct{}) {
	msgs := make([]ipv4.Message, relayBatch)
	for i := range msgs {
		msgs[i].Buffers = [][]byte{make([]byte, 1500)}
	}
	seqs := map[uint32]*seqTracker{}
	for {
		n, err := p.pc.ReadBatch(msgs, 0)
		if err != nil {
			select {
			case <-done:
				return
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		now := time.Now().UnixNano()
		var pkts, bytes uint64
		var expected, lost int64
		for _, m := range msgs[:n] {
			rp, err := parseRTP(m.Buffers[0][:m.N])
			if err != nil {
				continue
			}
			pkts++
			bytes += uint64(m.N)
			t := seqs[rp.ssrc]
			if t == nil {
				t = &seqTracker{}
				seqs[rp.ssrc] = t
			}
			e0, l0 := t.Expected(), t.Lost()
			t.Add(rp.seq)
			expected += int64(t.Expected() - e0)
			lost += int64(t.Lost()) - int64(l0)
			off := 0
			if rp.ssrc&1 == 0 { // video: skip the descriptor
				off = vp8Descriptor
			}
			if len(rp.payload) > off && s.measuring.Load() {
				if sent, ok := readStamp(rp.payload[off:]); ok {
					s.latWindow.Record(time.Duration(now - sent))
				}
			}
		}
		p.recv.Add(pkts)
		s.counters.recvPackets.Add(pkts)
		s.counters.recvBytes.Add(bytes)
		s.counters.expected.Add(expected)
		s.counters.lost.Add(lost)
	}
}
