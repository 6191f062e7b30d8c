// Command kuayang runs the Kuayang remote mediation and notarization
// platform: `kuayang serve` starts a node; other subcommands administer it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"os"
	"os/signal"
	"syscall"
	"time"
	_ "time/tzdata" // IANA zones even where the system has none (containers)

	"github.com/kuayang/kuayang/internal/config"
	"github.com/kuayang/kuayang/internal/demo"
	"github.com/kuayang/kuayang/internal/node"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

const usage = `kuayang: remote video mediation and notarization

usage:
  kuayang serve [flags]        run a node (kuayang serve -h lists the flags)
  kuayang migrate [flags]      apply database migrations and exit
  kuayang admin create-org --name N
  kuayang admin create-user --org N --role R --email E [--display-name D] [--password P]
                               (without --password, the password is read from standard input)
  kuayang admin list-users [--org N]
  kuayang audit verify         check the audit log's hash chain; exit 1 if broken
  kuayang verify BUNDLE|DIR    check an evidence bundle (zip or unzipped); exit 1 if not intact
  kuayang load --server URL …  drive a node with synthetic participants (kuayang load -h)
  kuayang load --floor …       the same packets through a bare UDP relay, for comparison
  kuayang version              print the version

The admin, migrate and audit commands take the serve flags that choose the
store (--data-dir, --postgres-url).

Every serve flag has an environment twin (--http-addr is KUAYANG_HTTP_ADDR)
and a key in the optional YAML file given by --config (http_addr).
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
}

func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	e := env{stdin: stdin, stdout: stdout, stderr: stderr}
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	switch args[0] {
	case "serve":
		return serve(args[1:], stdout, stderr)
	case "migrate":
		return migrate(args[1:], e)
	case "admin":
		return admin(args[1:], e)
	case "audit":
		return auditCmd(args[1:], e)
	case "verify":
		return verify(args[1:], e)
	case "load":
		return loadCmd(args[1:], e)
	case "version":
		fmt.Fprintln(stdout, "kuayang", version)
		return 0
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	fmt.Fprintf(stderr, "kuayang: unknown command %q\n\n%s", args[0], usage)
	return 2
}

func serve(args []string, stdout, stderr io.Writer) int {
	cfg, err := config.Load(args, os.Getenv)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(stderr, "kuayang:", err)
		return 2
	}
	log := newLogger(cfg, stderr)
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	n, err := node.New(ctx, cfg, log, version)
	if err != nil {
		log.Error("cannot start", "err", err)
		return 1
	}
	if err := n.Start(); err != nil {
		log.Error("cannot listen", "err", err)
		_ = n.Close(context.Background())
		return 1
	}
	fmt.Fprintf(stdout, "Kuayang is running at %s\n", n.URL())
	if cfg.DebugAddr != "" {
		go serveDebug(cfg.DebugAddr, log)
	}
	if cfg.Demo {
		res, err := n.Demo(ctx)
		if err != nil {
			log.Error("demo", "err", err)
			_ = n.Close(context.Background())
			return 1
		}
		printDemo(stdout, res, cfg.DataDir)
	}
	select {
	case <-ctx.Done():
		log.Info("shutting down")
	case err := <-n.Done():
		log.Error("http server stopped", "err", err)
	}
	sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := n.Close(sctx); err != nil {
		log.Error("shutdown", "err", err)
		return 1
	}
	return 0
}

// serveDebug serves Go's profiler for operators measuring a node.
func serveDebug(addr string, log *slog.Logger) {
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	log.Info("profiler listening", "addr", addr)
	if err := srv.ListenAndServe(); err != nil {
		log.Error("profiler stopped", "err", err)
	}
}

func printDemo(w io.Writer, res *demo.Result, dataDir string) {
	fmt.Fprintln(w, "\nDemo mediation session: open these links, each in its own browser tab or device:")
	for _, j := range res.JoinURLs {
		fmt.Fprintf(w, "  %-9s %-22s %s\n", j.Role, j.Name, j.URL)
	}
	fmt.Fprintln(w, "\nBook the time of a follow-up session in the office hours:")
	for _, j := range res.BookURLs {
		fmt.Fprintf(w, "  %-9s %-22s %s\n", j.Role, j.Name, j.URL)
	}
	fmt.Fprintln(w, "\nDemo notarization (the notary's script, the deed shown with its hash, identity verification, the journal):")
	for _, j := range res.NotaryURLs {
		fmt.Fprintf(w, "  %-9s %-22s %s\n", j.Role, j.Name, j.URL)
	}
	fmt.Fprintln(w, "\nDemo staff accounts (log in at /staff/ to find the case, its recording and the evidence bundle):")
	for _, a := range res.Accounts {
		fmt.Fprintf(w, "  %-9s %-32s %s\n", a.Role, a.Email, a.Password)
	}
	fmt.Fprintf(w, "\n(also written to %s/demo.json)\n", dataDir)
}

func newLogger(cfg config.Config, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(cfg.LogLevel))
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}
