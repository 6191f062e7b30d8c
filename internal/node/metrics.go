package node

import (
	"net/http"
	"runtime"

	"github.com/kuayang/kuayang/internal/config"
	"github.com/kuayang/kuayang/internal/metrics"
)

// metricsHandler serves GET /metrics to the --metrics-allow addresses.
func (n *Node) metricsHandler() http.Handler {
	allow, _ := config.ParsePrefixes(n.cfg.MetricsAllow) // validated with the config
	reg := &metrics.Registry{}
	reg.Register(n.collect)
	reg.Register(metrics.Runtime)
	return &metrics.Handler{Registry: reg, Allow: allow, ClientIP: n.ips.IP, Proxied: n.ips.Proxied}
}

// collect writes the node's own families. Metric names are documented in
// docs/deploy.md and used by deploy/grafana-dashboard.json.
func (n *Node) collect(w *metrics.Writer) {
	w.Header("kuayang_build_info", metrics.TypeGauge, "Always 1: the software version, Go version and node id.")
	w.Sample("kuayang_build_info", 1, "version", n.version, "go_version", runtime.Version(), "node", n.cfg.NodeID)

	st := n.media.Stats()
	c := func(name string, v uint64) float64 { return float64(n.mono.Value(name, v)) }
	w.Gauge("kuayang_rooms", "Rooms with at least one participant in this node's media plane.", float64(st.Rooms))
	w.Gauge("kuayang_participants", "Participants in this node's media plane.", float64(st.Participants))
	w.Gauge("kuayang_tracks", "Published tracks being forwarded.", float64(st.Tracks))
	w.Counter("kuayang_forwarded_packets_total", "RTP packets queued to subscribers and recorders.", c("fwd", st.Forwarded))
	w.Counter("kuayang_forwarded_bytes_total", "Bytes of the forwarded RTP packets, as received from the publishers.", c("bytes", st.ForwardedBytes))
	w.Counter("kuayang_dropped_packets_total", "Packets dropped because a subscriber or recorder fell behind.", c("drop", st.Dropped))
	w.Counter("kuayang_nacks_received_total", "NACK messages received from subscribers (answered from the retransmission history).", float64(st.NACKs))
	w.Counter("kuayang_keyframe_requests_received_total", "PLI and FIR messages received from subscribers.", float64(st.KeyframeAsks))
	w.Counter("kuayang_plis_sent_total", "Keyframe requests (PLI) sent to publishers, after throttling.", float64(st.PLIs))
	w.Gauge("kuayang_simulcast_layers", "Layers of published simulcast video tracks being received.", float64(st.SimulcastLayers))
	w.Counter("kuayang_layer_switches_total", "Times a subscriber or recorder of a simulcast track moved to another layer.", c("switch", st.LayerSwitches))

	a := n.archive.Stats()
	w.Gauge("kuayang_recordings_active", "Sessions being recorded on this node.", float64(a.Recording))
	w.Gauge("kuayang_recorder_segments_pending", "Closed recorded segments in the spool waiting for upload to the object store.", float64(a.Pending))
	w.Counter("kuayang_recorder_segments_uploaded_total", "Recorded segments stored in the object store and checked.", float64(a.Uploaded))
	w.Counter("kuayang_recorder_uploaded_bytes_total", "Bytes of the recorded segments stored.", float64(a.UploadedBytes))
	w.Counter("kuayang_recorder_upload_failures_total", "Failed segment upload attempts (retried with backoff, or quarantined).", float64(a.UploadFailures))
	w.Counter("kuayang_recorder_segments_quarantined_total", "Recorded segments that could never be stored (a gap in the manifest).", float64(a.Quarantined))

	if n.turn != nil {
		t := n.turn.Stats()
		w.Gauge("kuayang_turn_allocations", "Relays open on the embedded TURN server.", float64(t.Allocations))
		w.Counter("kuayang_turn_allocations_total", "Relays made by the embedded TURN server.", float64(t.AllocationsTotal))
		w.Counter("kuayang_turn_auth_failures_total", "TURN requests refused for wrong or expired credentials.", float64(t.AuthFailures))
		w.Counter("kuayang_turn_peer_refused_total", "TURN permissions and relayed packets refused: not for this node's media port.", float64(t.PeerRefused))
	}

	n.storeMetrics.Write(w)
	if n.coordMetrics != nil {
		n.coordMetrics.Write(w)
	}
}
