package api

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"time"

	"github.com/pion/webrtc/v4"

	"github.com/kuayang/kuayang/internal/auth"
	"github.com/kuayang/kuayang/sfu"
)

// NetCheck answers POST /api/v1/netcheck: the pre-join page's network
// check. With a join token, the page offers a peer connection with a data
// channel; the node answers (sfu.Probe) over the same media ports the call
// uses and echoes what the page sends, so the page learns whether media
// gets through (UDP, or only TCP or a relay) and the round-trip time.
type NetCheck struct {
	Tokens interface {
		Check(tok string) (auth.JoinClaims, error)
	}
	Media interface {
		Probe(ctx context.Context, offer webrtc.SessionDescription) (webrtc.SessionDescription, error)
	}
	Log *slog.Logger
}

type netCheckRequest struct {
	Token string `json:"token"`
	SDP   string `json:"sdp"`
}

type netCheckResponse struct {
	SDP string `json:"sdp"`
}

// ServeHTTP implements the handler.
func (n *NetCheck) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var req netCheckRequest
	if e := decode(w, r, &req); e != nil {
		writeError(w, n.Log, r, e)
		return
	}
	if _, err := n.Tokens.Check(req.Token); err != nil {
		writeError(w, n.Log, r, apiError(http.StatusUnauthorized, "token_invalid", "the join token is not valid or has expired; open the invite link again"))
		return
	}
	if req.SDP == "" || len(req.SDP) > 16<<10 {
		writeError(w, n.Log, r, apiError(http.StatusBadRequest, "bad_sdp", "sdp must be an offer of at most 16 KiB"))
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 10*time.Second)
	defer cancel()
	answer, err := n.Media.Probe(ctx, webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: req.SDP})
	switch {
	case errors.Is(err, sfu.ErrBusy):
		w.Header().Set("Retry-After", "5")
		writeError(w, n.Log, r, apiError(http.StatusServiceUnavailable, "busy", "too many network checks at once; try again in a few seconds"))
	case errors.Is(err, sfu.ErrBadSDP):
		writeError(w, n.Log, r, apiError(http.StatusBadRequest, "bad_sdp", "the offer was refused"))
	case err != nil:
		writeError(w, n.Log, r, err)
	default:
		writeJSON(w, http.StatusOK, netCheckResponse{SDP: answer.SDP})
	}
}
