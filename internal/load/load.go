// Package load is Kuayang's load generator: it creates sessions through a
// node's API, joins synthetic WebRTC participants that publish stamped VP8
// and Opus and receive everyone else, and reports what the node forwarded,
// the latency it added, join times, loss, and the node's CPU and memory.
package load

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"slices"
	"strings"
	"sync"
	"text/tabwriter"
	"time"
)

// Options are a run's parameters; see cmd/kuayang/load.go for the flags.
type Options struct {
	Server          string // base URL of the node, e.g. http://127.0.0.1:8080
	Email, Password string // staff login, unless Token is set
	Token           string // staff bearer token
	Rooms           int    // sessions
	Participants    int    // participants per session (at least 2)
	// Duration is the measurement window, which starts once every client
	// has joined and receives video (or after a 10 s grace).
	Duration  time.Duration
	JoinRate  float64 // joins started per second
	VideoKbps int
	FPS       int
	// Simulcast sends each participant's video as three layers of 1/4,
	// 1/2 and all of VideoKbps, and reports which layers receivers got.
	Simulcast bool
	Record    bool // create recorded sessions
	ServerPID int  // the node's process, sampled in /proc; 0 for none
	// ServerDebug is the node's profiler address (its --debug-addr, as
	// http://127.0.0.1:6060): the live heap is read there before the
	// joins and at the end of the window. Empty for none.
	ServerDebug string
	JSON        bool // end stdout with one JSON line
	Loopback    bool // gather loopback candidates only
	// Progress is the interval of the progress line on stderr (default
	// one second; negative for none).
	Progress time.Duration
	// Floor runs the bare-relay floor with the same parameters: alone
	// when Server is empty, else right after the server run.
	Floor bool
	// RelayCommand is the argv of the floor's relay process; by default
	// this executable with load --floor-relay --listen 127.0.0.1:0.
	RelayCommand []string
}

// Defaults returns the options of the flags' defaults.
func Defaults() Options {
	return Options{Rooms: 1, Participants: 2, Duration: 30 * time.Second, JoinRate: 5,
		VideoKbps: 500, FPS: 30, Loopback: true}
}

// ErrUsage wraps errors in the options.
var ErrUsage = errors.New("usage")

func (o *Options) validate() error {
	if err := o.check(); err != nil {
		return fmt.Errorf("%w: %w", ErrUsage, err)
	}
	o.Server = strings.TrimSuffix(o.Server, "/")
	if o.Progress == 0 {
		o.Progress = time.Second
	}
	return nil
}

func (o *Options) check() error {
	if o.Server != "" || !o.Floor {
		switch {
		case o.Server == "":
			return errors.New("--server is required (or --floor alone)")
		case !strings.HasPrefix(o.Server, "http://") && !strings.HasPrefix(o.Server, "https://"):
			return fmt.Errorf("--server %q: want an http:// or https:// URL", o.Server)
		case o.Token == "" && (o.Email == "" || o.Password == ""):
			return errors.New("give --token, or --email and --password")
		}
	}
	switch {
	case o.Rooms < 1:
		return errors.New("--rooms must be at least 1")
	case o.Participants < 2:
		return errors.New("--participants must be at least 2 (one would receive nothing)")
	case o.Duration <= 0:
		return errors.New("--duration must be positive")
	case o.JoinRate <= 0:
		return errors.New("--join-rate must be positive")
	case o.VideoKbps < 1:
		return errors.New("--video-kbps must be at least 1")
	case o.FPS < 1 || o.FPS > 120:
		return errors.New("--fps must be between 1 and 120")
	}
	return nil
}

// Result is what a run measured. Rates and totals are over the
// measurement window only.
type Result struct {
	Rooms        int  `json:"rooms"`
	Participants int  `json:"participants"` // per room
	Clients      int  `json:"clients"`      // rooms × participants
	Joined       int  `json:"joined"`
	FirstFrames  int  `json:"first_frames"` // clients that received video
	VideoKbps    int  `json:"video_kbps"`
	FPS          int  `json:"fps"`
	Simulcast    bool `json:"simulcast"`
	Record       bool `json:"record"`

	DurationS        float64 `json:"duration_s"`
	SentPackets      uint64  `json:"sent_packets"`
	SentBytes        uint64  `json:"sent_bytes"`
	SentPacketsPerS  float64 `json:"sent_packets_per_s"`
	ForwardedPackets uint64  `json:"forwarded_packets"` // received by all clients
	RecvBytes        uint64  `json:"recv_bytes"`
	RecvPacketsPerS  float64 `json:"recv_packets_per_s"`
	RecvBytesPerS    float64 `json:"recv_bytes_per_s"`
	LossPct          float64 `json:"loss_pct"`

	LatencyMS struct {
		P50 float64 `json:"p50"`
		P99 float64 `json:"p99"`
		Max float64 `json:"max"`
	} `json:"latency_ms"`
	JoinMS struct { // from the start of a join to the first video frame
		P50 float64 `json:"p50"`
		P95 float64 `json:"p95"`
		P99 float64 `json:"p99"`
	} `json:"join_ms"`

	StreamsExpected int `json:"streams_expected"` // (receiver, sender) video pairs
	StreamsFlowing  int `json:"streams_flowing"`
	ClientErrors    int `json:"client_errors"`

	// With simulcast: the video packets receivers got of each layer in the
	// window, and the (receiver, sender) video streams on each layer at
	// its end (the layer of the last frame received).
	LayersReceived *LayerCounts `json:"layers_received,omitempty"`
	StreamsOnLayer *LayerCounts `json:"streams_on_layer,omitempty"`

	ServerPID                 int     `json:"server_pid,omitempty"`
	ServerCPUS                float64 `json:"server_cpu_s"`
	ServerCPUUsPerPacket      float64 `json:"server_cpu_us_per_packet"`
	ServerRSSMB               float64 `json:"server_rss_mb"`
	ServerRSSDeltaMB          float64 `json:"server_rss_delta_mb"`
	ServerMemPerParticipantMB float64 `json:"server_mem_per_participant_mb"`
	// From --server-debug: the node's live heap (HeapInuse after a
	// collection) at the end of the window, and its growth per joined
	// participant since before the joins.
	ServerHeapMB               float64 `json:"server_heap_mb,omitempty"`
	ServerHeapPerParticipantMB float64 `json:"server_heap_per_participant_mb,omitempty"`

	// The floor (with --floor): the same packet stream through a bare UDP
	// relay, and how many times its CPU per packet the server spends.
	FloorCPUUsPerPacket float64      `json:"floor_cpu_us_per_packet,omitempty"`
	ServerFloorRatio    float64      `json:"server_floor_ratio,omitempty"`
	Floor               *FloorResult `json:"floor,omitempty"`

	server       bool // a server run happened
	clientFaults []error
}

// LayerCounts are figures per simulcast layer.
type LayerCounts struct {
	Low  uint64 `json:"low"`  // 1/4 of the video bitrate
	Mid  uint64 `json:"mid"`  // 1/2
	High uint64 `json:"high"` // all of it
}

func layerCounts(v [numLayers]uint64) *LayerCounts {
	return &LayerCounts{Low: v[0], Mid: v[1], High: v[2]}
}

// Run performs a load run and writes its report to stdout (a table, then
// with JSON one JSON line, the last) and progress and warnings to stderr.
// It returns an error when setup failed, when a client could not join, or
// when ctx ended the run early (after writing what was measured).
func Run(ctx context.Context, o Options, stdout, stderr io.Writer) error {
	if err := o.validate(); err != nil {
		return err
	}
	if o.Server == "" {
		res := &Result{Rooms: o.Rooms, Participants: o.Participants, Clients: o.Rooms * o.Participants,
			VideoKbps: o.VideoKbps, FPS: o.FPS}
		ferr := res.addFloor(ctx, o, stderr)
		if res.Floor == nil {
			return ferr
		}
		if err := res.write(stdout, o.JSON); err != nil {
			return err
		}
		return ferr
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	defer tr.CloseIdleConnections()
	ap := &apiClient{base: o.Server, token: o.Token, http: &http.Client{Transport: tr, Timeout: 30 * time.Second}}
	if o.Token == "" {
		if err := ap.login(ctx, o.Email, o.Password); err != nil {
			return err
		}
	}
	caseNumber, rooms, err := ap.setup(ctx, o.Rooms, o.Participants, o.Record)
	if err != nil {
		return err
	}
	fmt.Fprintf(stderr, "load: case %s: %d sessions of %d participants\n", caseNumber, o.Rooms, o.Participants)

	s := &sink{}
	api, err := newAPI(s, o.Loopback)
	if err != nil {
		return err
	}
	cfg := clientConfig{api: api, sink: s, fps: o.FPS, keyEvery: 2 * time.Second, audioBytes: 80,
		videoBytes: max(o.VideoKbps*1000/o.FPS/8, minVP8Frame), simulcast: o.Simulcast}

	var before procSample
	if o.ServerPID > 0 {
		if before, err = readProc(o.ServerPID); err != nil {
			return fmt.Errorf("--server-pid: %w", err)
		}
	}

	var heapBefore uint64
	if o.ServerDebug != "" {
		if heapBefore, err = readHeap(ctx, o.ServerDebug); err != nil {
			return fmt.Errorf("--server-debug: %w", err)
		}
	}

	total := o.Rooms * o.Participants
	stopProgress := startProgress(o.Progress, s, total, stderr)
	defer stopProgress()

	clients, joinErrs := joinAll(ctx, ap, rooms, o.JoinRate, cfg)
	defer func() { closeAll(clients) }()
	if len(clients) == 0 && len(joinErrs) > 0 {
		return fmt.Errorf("no client could join; first: %w", joinErrs[0])
	}
	if !waitFirstFrames(ctx, s, len(clients), 10*time.Second) {
		fmt.Fprintf(stderr, "load: warning: only %d of %d clients receive video after 10 s\n", s.firsts.Load(), len(clients))
	}

	res := &Result{Rooms: o.Rooms, Participants: o.Participants, Clients: total, Joined: len(clients),
		VideoKbps: o.VideoKbps, FPS: o.FPS, Simulcast: o.Simulcast, Record: o.Record, ServerPID: o.ServerPID, server: true}
	var start, end procSample
	if o.ServerPID > 0 {
		start, _ = readProc(o.ServerPID)
	}
	c0, t0 := s.counters.snapshot(), time.Now()
	s.measuring.Store(true)
	if ctx.Err() == nil {
		window := time.NewTimer(o.Duration)
		select {
		case <-ctx.Done():
		case <-window.C:
		}
		window.Stop()
	}
	s.measuring.Store(false)
	c1, t1 := s.counters.snapshot(), time.Now()
	if o.ServerPID > 0 {
		end, _ = readProc(o.ServerPID)
	}
	if o.ServerDebug != "" {
		if heap, err := readHeap(ctx, o.ServerDebug); err != nil {
			fmt.Fprintln(stderr, "load: warning: heap:", err)
		} else {
			res.ServerHeapMB = round(float64(heap) / (1 << 20))
			if res.Joined > 0 {
				res.ServerHeapPerParticipantMB = round(float64(int64(heap)-int64(heapBefore)) / (1 << 20) / float64(res.Joined))
			}
		}
	}

	fill(res, c1.sub(c0), t1.Sub(t0), s, clients)
	if o.ServerPID > 0 {
		cpu := end.cpu - start.cpu
		res.ServerCPUS = round(cpu.Seconds())
		if res.ForwardedPackets > 0 {
			res.ServerCPUUsPerPacket = round(float64(cpu.Microseconds()) / float64(res.ForwardedPackets))
		}
		res.ServerRSSMB = round(float64(end.rssBytes) / (1 << 20))
		delta := float64(int64(end.rssBytes)-int64(before.rssBytes)) / (1 << 20)
		res.ServerRSSDeltaMB = round(delta)
		if res.Joined > 0 {
			res.ServerMemPerParticipantMB = round(delta / float64(res.Joined))
		}
	}

	closeAll(clients)
	clients = nil
	stopProgress()
	for _, c := range res.clientFaults {
		fmt.Fprintln(stderr, "load: warning:", c)
	}
	var floorErr error
	if o.Floor && ctx.Err() == nil {
		fmt.Fprintln(stderr, "load: the floor, with the same parameters")
		floorErr = res.addFloor(ctx, o, stderr)
	}
	if err := res.write(stdout, o.JSON); err != nil {
		return err
	}
	switch {
	case floorErr != nil:
		return fmt.Errorf("floor: %w", floorErr)
	case len(joinErrs) > 0:
		return fmt.Errorf("%d of %d clients failed to join; first: %w", len(joinErrs), total, joinErrs[0])
	case ctx.Err() != nil:
		return ctx.Err()
	}
	return nil
}

// addFloor runs the floor and adds its figures to r.
func (r *Result) addFloor(ctx context.Context, o Options, stderr io.Writer) error {
	f, err := runFloor(ctx, o, stderr)
	if f == nil {
		return err
	}
	r.Floor = f
	r.FloorCPUUsPerPacket = f.CPUUsPerPacket
	if r.server && r.ServerCPUUsPerPacket > 0 && f.CPUUsPerPacket > 0 {
		r.ServerFloorRatio = round(r.ServerCPUUsPerPacket / f.CPUUsPerPacket)
	}
	return err
}

// waitFirstFrames waits until n clients have received video, or d passed.
func waitFirstFrames(ctx context.Context, s *sink, n int, d time.Duration) bool {
	deadline := time.Now().Add(d)
	for int(s.firsts.Load()) < n {
		if ctx.Err() != nil || time.Now().After(deadline) {
			return false
		}
		select {
		case <-ctx.Done():
		case <-time.After(20 * time.Millisecond):
		}
	}
	return true
}

// joinAll starts joins at rate per second, room after room, and waits for
// them all.
func joinAll(ctx context.Context, ap *apiClient, rooms []room, rate float64, cfg clientConfig) ([]*client, []error) {
	var (
		mu      sync.Mutex
		clients []*client
		errs    []error
		wg      sync.WaitGroup
	)
	interval := time.Duration(float64(time.Second) / rate)
	next := time.Now()
	for r, rm := range rooms {
		for p, inv := range rm.invites {
			if d := time.Until(next); d > 0 {
				select {
				case <-ctx.Done():
				case <-time.After(d):
				}
			}
			if ctx.Err() != nil {
				break
			}
			next = next.Add(interval)
			wg.Go(func() {
				c, err := join(ctx, ap, inv, cfg)
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					errs = append(errs, fmt.Errorf("participant %d of room %d: %w", p+1, r+1, err))
					return
				}
				clients = append(clients, c)
			})
		}
	}
	wg.Wait()
	return clients, errs
}

// closeAll makes every client leave, concurrently.
func closeAll(clients []*client) {
	var wg sync.WaitGroup
	for _, c := range clients {
		wg.Go(func() { c.close(true) })
	}
	wg.Wait()
}

// fill computes the results of the window from the counters and clients.
func fill(res *Result, d countSnapshot, window time.Duration, s *sink, clients []*client) {
	secs := window.Seconds()
	res.DurationS = round(secs)
	res.SentPackets, res.SentBytes = d.sentPackets, d.sentBytes
	res.ForwardedPackets, res.RecvBytes = d.recvPackets, d.recvBytes
	if secs > 0 {
		res.SentPacketsPerS = round(float64(d.sentPackets) / secs)
		res.RecvPacketsPerS = round(float64(d.recvPackets) / secs)
		res.RecvBytesPerS = round(float64(d.recvBytes) / secs)
	}
	if d.expected > 0 {
		res.LossPct = round(100 * float64(max(d.lost, 0)) / float64(d.expected))
	}
	res.LatencyMS.P50 = ms(s.latWindow.Quantile(0.50))
	res.LatencyMS.P99 = ms(s.latWindow.Quantile(0.99))
	res.LatencyMS.Max = ms(s.latWindow.Max())

	var joins []time.Duration
	bySession := map[string]int{}
	var onLayer [numLayers]int
	for _, c := range clients {
		c.layersNow(&onLayer)
		if j := c.joinTime.Load(); j > 0 {
			joins = append(joins, time.Duration(j))
		}
		res.StreamsFlowing += c.videoSenders()
		bySession[c.session]++
		res.clientFaults = append(res.clientFaults, c.faults()...)
	}
	for _, n := range bySession {
		res.StreamsExpected += n * (n - 1)
	}
	if res.Simulcast {
		res.LayersReceived = layerCounts(d.layers)
		var on [numLayers]uint64
		for i, n := range onLayer {
			on[i] = uint64(n)
		}
		res.StreamsOnLayer = layerCounts(on)
	}
	res.FirstFrames = len(joins)
	res.ClientErrors = len(res.clientFaults)
	slices.Sort(joins)
	res.JoinMS.P50 = ms(nearestRank(joins, 0.50))
	res.JoinMS.P95 = ms(nearestRank(joins, 0.95))
	res.JoinMS.P99 = ms(nearestRank(joins, 0.99))
}

// nearestRank is the q quantile of sorted durations.
func nearestRank(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}

func ms(d time.Duration) float64 { return round(float64(d) / float64(time.Millisecond)) }

// round keeps three decimals.
func round(f float64) float64 { return math.Round(f*1000) / 1000 }

// write prints the table and, with asJSON, the JSON line.
func (r *Result) write(w io.Writer, asJSON bool) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	row := func(k, format string, a ...any) { fmt.Fprintf(tw, "%s\t"+format+"\n", append([]any{k}, a...)...) }
	if r.server {
		r.writeServer(row)
	} else {
		row("rooms × participants", "%d × %d", r.Rooms, r.Participants)
		row("media per participant", "VP8-sized %d kbps at %d fps + Opus-sized 80 B every 20 ms", r.VideoKbps, r.FPS)
	}
	if f := r.Floor; f != nil {
		row("floor window", "%.1f s, bare UDP relay (pid %d, no SRTP, no RTCP, recvmmsg/sendmmsg)", f.DurationS, f.RelayPID)
		row("floor sent", "%d packets (%.0f/s)", f.SentPackets, f.SentPacketsPerS)
		row("floor relayed (received)", "%d packets (%.0f/s), %.0f bytes/s", f.RelayedPackets, f.RelayedPacketsPerS, f.RecvBytesPerS)
		row("floor loss", "%.3f %%", f.LossPct)
		row("floor latency", "p50 %.3f ms, p99 %.3f ms, max %.3f ms", f.LatencyMS.P50, f.LatencyMS.P99, f.LatencyMS.Max)
		row("floor CPU", "%.2f s, %.2f µs per relayed packet, RSS %.1f MB", f.CPUS, f.CPUUsPerPacket, f.RSSMB)
		if r.ServerFloorRatio > 0 {
			row("server / floor CPU", "%.1f×", r.ServerFloorRatio)
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if !asJSON {
		return nil
	}
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}

// writeServer writes the rows of the server run.
func (r *Result) writeServer(row func(k, format string, a ...any)) {
	row("rooms × participants", "%d × %d (%d joined, %d receive video)", r.Rooms, r.Participants, r.Joined, r.FirstFrames)
	if r.Simulcast {
		row("media per participant", "VP8 simulcast %d+%d+%d kbps at %d fps + Opus, record %v",
			r.VideoKbps/4, r.VideoKbps/2, r.VideoKbps, r.FPS, r.Record)
	} else {
		row("media per participant", "VP8 %d kbps at %d fps + Opus, record %v", r.VideoKbps, r.FPS, r.Record)
	}
	row("window", "%.1f s", r.DurationS)
	row("sent", "%d packets (%.0f/s), %d bytes", r.SentPackets, r.SentPacketsPerS, r.SentBytes)
	row("forwarded (received)", "%d packets (%.0f/s), %.0f bytes/s", r.ForwardedPackets, r.RecvPacketsPerS, r.RecvBytesPerS)
	row("video streams flowing", "%d of %d", r.StreamsFlowing, r.StreamsExpected)
	if l, on := r.LayersReceived, r.StreamsOnLayer; l != nil && on != nil {
		row("simulcast layers received", "low %d, mid %d, high %d packets", l.Low, l.Mid, l.High)
		row("streams on layer at the end", "low %d, mid %d, high %d", on.Low, on.Mid, on.High)
	}
	row("loss", "%.3f %%", r.LossPct)
	row("added latency", "p50 %.3f ms, p99 %.3f ms, max %.3f ms", r.LatencyMS.P50, r.LatencyMS.P99, r.LatencyMS.Max)
	row("join to first frame", "p50 %.1f ms, p95 %.1f ms, p99 %.1f ms", r.JoinMS.P50, r.JoinMS.P95, r.JoinMS.P99)
	if r.ServerPID > 0 {
		row("server CPU", "%.2f s, %.2f µs per forwarded packet", r.ServerCPUS, r.ServerCPUUsPerPacket)
		row("server RSS", "%.1f MB (%+.1f MB, %.2f MB per participant)", r.ServerRSSMB, r.ServerRSSDeltaMB, r.ServerMemPerParticipantMB)
	}
	if r.ServerHeapMB > 0 {
		row("server heap", "%.1f MB live, %.2f MB per participant", r.ServerHeapMB, r.ServerHeapPerParticipantMB)
	}
	row("client errors", "%d", r.ClientErrors)
}

// startProgress writes a progress line every interval until stopped.
func startProgress(interval time.Duration, s *sink, total int, w io.Writer) (stop func()) {
	if interval < 0 {
		return func() {}
	}
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(interval)
		defer t.Stop()
		begin, last, lastAt := time.Now(), s.counters.recvPackets.Load(), time.Now()
		for {
			select {
			case <-done:
				return
			case now := <-t.C:
				n := s.counters.recvPackets.Load()
				rate := float64(n-last) / now.Sub(lastAt).Seconds()
				last, lastAt = n, now
				fmt.Fprintf(w, "load: %4.0fs joined %d/%d recv %.0f pkt/s latency p50 %.2f ms p99 %.2f ms\n",
					now.Sub(begin).Seconds(), s.joined.Load(), total, rate,
					ms(s.latAll.Quantile(0.5)), ms(s.latAll.Quantile(0.99)))
			}
		}
	})
	var once sync.Once
	return func() {
		once.Do(func() {
			close(done)
			wg.Wait()
		})
	}
}
