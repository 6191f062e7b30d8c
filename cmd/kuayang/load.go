package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/kuayang/kuayang/internal/load"
)

const loadUsage = `usage: kuayang load --server URL (--email E --password P | --token T) [--floor] [flags]
       kuayang load --floor [flags]

Creates a case with --rooms sessions of --participants parties on the node
at --server, joins synthetic WebRTC participants (stamped VP8 and Opus, on
loopback) at --join-rate, measures for --duration once all receive video,
then leaves. Prints a table, and with --json a last line of JSON. Give
--server-pid (the node's process on this machine) for its CPU time per
forwarded packet and its memory per participant, and --server-debug (the
node's --debug-addr as a URL) for its live heap per participant.

--simulcast sends each participant's video as three simulcast layers (RIDs
q, h, f: 1/4, 1/2 and all of --video-kbps, at the same frame rate, each
with its own keyframes), as a browser does, so the node chooses a layer
for each receiver from its bandwidth estimate; the report adds the video
packets received of each layer (layers_received) and the layer each
stream is on at the end (streams_on_layer).

--floor sends the same packet stream (sizes and rates) through a bare UDP
relay on 127.0.0.1 in a child process (no SRTP, no RTCP, batched system
calls) and reports its CPU time per relayed packet: the floor to compare
the server with. With --server it runs right after the server run, with
the same parameters, and reports the ratio; without, it runs alone.
`

// loadCmd runs `kuayang load`.
func loadCmd(args []string, e env) int {
	o := load.Defaults()
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.SetOutput(e.stderr)
	fs.Usage = func() {
		fmt.Fprint(e.stderr, loadUsage, "\nflags:\n")
		fs.PrintDefaults()
	}
	fs.StringVar(&o.Server, "server", "", "the node's base URL, e.g. http://127.0.0.1:8080 (required)")
	fs.StringVar(&o.Email, "email", "", "staff login email (an admin, clerk or other role that may create cases)")
	fs.StringVar(&o.Password, "password", "", "staff login password")
	fs.StringVar(&o.Token, "token", "", "staff bearer token, instead of --email and --password")
	fs.IntVar(&o.Rooms, "rooms", o.Rooms, "sessions")
	fs.IntVar(&o.Participants, "participants", o.Participants, "participants per session (at least 2)")
	fs.DurationVar(&o.Duration, "duration", o.Duration, "measurement window, after every participant has joined")
	fs.Float64Var(&o.JoinRate, "join-rate", o.JoinRate, "joins started per second")
	fs.IntVar(&o.VideoKbps, "video-kbps", o.VideoKbps, "video bitrate per participant")
	fs.IntVar(&o.FPS, "fps", o.FPS, "video frames per second")
	fs.BoolVar(&o.Simulcast, "simulcast", o.Simulcast, "send video as three simulcast layers (1/4, 1/2 and all of --video-kbps) and report the layers received")
	fs.BoolVar(&o.Record, "record", o.Record, "create recorded sessions")
	fs.IntVar(&o.ServerPID, "server-pid", 0, "the node's process id, to sample its CPU and memory in /proc")
	fs.StringVar(&o.ServerDebug, "server-debug", "", "the node's --debug-addr as a URL (http://127.0.0.1:6060), to read its live heap")
	fs.BoolVar(&o.JSON, "json", false, "end the output with one line of JSON")
	fs.BoolVar(&o.Loopback, "loopback", o.Loopback, "gather loopback ICE candidates only")
	fs.BoolVar(&o.Floor, "floor", false, "also (or, without --server, only) measure the bare-relay floor")
	relay := fs.Bool("floor-relay", false, "run the floor's relay (the child process of --floor) and print its address")
	listen := fs.String("listen", "127.0.0.1:0", "with --floor-relay, the loopback address to listen on")
	if err := fs.Parse(args); errors.Is(err, flag.ErrHelp) {
		return 0
	} else if err != nil {
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(e.stderr, "kuayang load: unexpected argument %q\n", fs.Arg(0))
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if *relay {
		if err := load.RelayMain(ctx, *listen, e.stdin, e.stdout); err != nil {
			fmt.Fprintln(e.stderr, "kuayang load --floor-relay:", err)
			if errors.Is(err, load.ErrUsage) {
				return 2
			}
			return 1
		}
		return 0
	}
	if err := load.Run(ctx, o, e.stdout, e.stderr); err != nil {
		fmt.Fprintln(e.stderr, "kuayang load:", err)
		if errors.Is(err, load.ErrUsage) {
			return 2
		}
		return 1
	}
	return 0
}
