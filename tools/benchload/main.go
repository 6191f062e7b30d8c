// Command benchload runs `kuayang load` over a fixed set of scenarios, each
// against a fresh `kuayang serve --demo` on 127.0.0.1 and with the bare
// relay floor, then rewrites the generated block of docs/benchmarks.md and
// draws its plots in docs/img/. `make bench-load` runs it; for a quick run:
//
//	go run ./tools/benchload -duration 5s
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/kuayang/kuayang/internal/load"
)

const (
	beginMarker = "<!-- bench-load:begin -->"
	endMarker   = "<!-- bench-load:end -->"
)

// scenario is one run: rooms × participants, recorded or not, simulcast
// or not.
type scenario struct {
	Rooms, Participants int
	Record              bool
	Simulcast           bool
}

func (s scenario) String() string {
	r := "unrecorded"
	if s.Record {
		r = "recorded"
	}
	if s.Simulcast {
		r += " simulcast"
	}
	return fmt.Sprintf("%dx%d %s", s.Rooms, s.Participants, r)
}

// streams is the number of forwarded video streams.
func (s scenario) streams() int { return s.Rooms * s.Participants * (s.Participants - 1) }

// parseScenarios parses "4x4r,10x4r,1x10,25x2,4x4s": rooms x
// participants, then r for recorded and s for simulcast, in any order.
func parseScenarios(list string) ([]scenario, error) {
	var out []scenario
	for _, f := range strings.Split(list, ",") {
		f = strings.TrimSpace(f)
		body := strings.TrimRight(f, "rs")
		flags := f[len(body):]
		rs, ps, ok := strings.Cut(body, "x")
		r, err1 := strconv.Atoi(rs)
		p, err2 := strconv.Atoi(ps)
		if !ok || err1 != nil || err2 != nil || r < 1 || p < 2 || strings.Count(flags, "r") > 1 || strings.Count(flags, "s") > 1 {
			return nil, fmt.Errorf("scenario %q: want ROOMSxPARTICIPANTS, then r for recorded, s for simulcast", f)
		}
		out = append(out, scenario{r, p, strings.Contains(flags, "r"), strings.Contains(flags, "s")})
	}
	return out, nil
}

// outcome is a scenario's result.
type outcome struct {
	Scenario scenario
	Result   *load.Result
	Err      string
}

func main() {
	duration := flag.Duration("duration", 20*time.Second, "measurement window of each scenario (and of its floor)")
	list := flag.String("scenarios", "10x2,4x4r,10x4r,1x10,25x2,17x4,4x4s", "scenarios: ROOMSxPARTICIPANTS, then r for recorded, s for simulcast")
	scale := flag.Float64("scale", 1, "multiply every scenario's rooms by this (at least 1 room)")
	kbps := flag.Int("video-kbps", 500, "video bitrate per participant")
	doc := flag.String("doc", "docs/benchmarks.md", "the markdown file whose generated block to rewrite (empty: none)")
	imgDir := flag.String("img", "docs/img", "where to write the plots")
	bin := flag.String("bin", "bin/kuayang", "the kuayang binary to build and run")
	flag.Parse()
	scs, err := parseScenarios(*list)
	if err != nil {
		fatal(err)
	}
	for i := range scs {
		scs[i].Rooms = max(1, int(math.Round(float64(scs[i].Rooms)**scale)))
	}
	loadAtStart = loadAverage()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	logf("building %s", *bin)
	build := exec.CommandContext(ctx, "go", "build", "-o", *bin, "./cmd/kuayang")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		fatal(fmt.Errorf("go build: %w", err))
	}
	exe, err := filepath.Abs(*bin)
	if err != nil {
		fatal(err)
	}
	var outs []outcome
	for _, sc := range scs {
		if ctx.Err() != nil {
			break
		}
		logf("scenario %s, %s", sc, *duration)
		res, err := runScenario(ctx, exe, sc, *duration, *kbps)
		o := outcome{Scenario: sc, Result: res}
		if err != nil {
			o.Err = err.Error()
			logf("scenario %s: %v", sc, err)
		}
		outs = append(outs, o)
	}
	if ctx.Err() != nil {
		fatal(ctx.Err())
	}
	raw, _ := json.MarshalIndent(outs, "", "  ")
	fmt.Println(string(raw))
	if *doc == "" {
		return
	}
	args := strings.Join(os.Args[1:], " ")
	if err := writeDoc(*doc, *imgDir, outs, *duration, *kbps, args); err != nil {
		fatal(err)
	}
	logf("rewrote %s and the plots in %s", *doc, *imgDir)
}

func logf(format string, a ...any) { fmt.Fprintf(os.Stderr, "benchload: "+format+"\n", a...) }

func fatal(err error) {
	logf("%v", err)
	os.Exit(1)
}

// freePort returns a port free on 127.0.0.1 for network ("tcp" or "udp").
func freePort(network string) (int, error) {
	if network == "udp" {
		c, err := net.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			return 0, err
		}
		defer c.Close()
		return c.LocalAddr().(*net.UDPAddr).Port, nil
	}
	l, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// runScenario starts a fresh node, runs the load with the floor against it
// and stops the node.
func runScenario(ctx context.Context, exe string, sc scenario, d time.Duration, kbps int) (*load.Result, error) {
	dir, err := os.MkdirTemp("", "benchload-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	httpPort, err := freePort("tcp")
	if err != nil {
		return nil, err
	}
	udpPort, err := freePort("udp")
	if err != nil {
		return nil, err
	}
	debugPort, err := freePort("tcp")
	if err != nil {
		return nil, err
	}
	debugAddr := fmt.Sprintf("127.0.0.1:%d", debugPort)
	logPath := filepath.Join(dir, "serve.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	defer logFile.Close()
	httpAddr := fmt.Sprintf("127.0.0.1:%d", httpPort)
	srv := exec.Command(exe, "serve", "--demo", "--data-dir", filepath.Join(dir, "data"),
		"--public-ip", "127.0.0.1", "--http-addr", httpAddr,
		"--udp-port", strconv.Itoa(udpPort), "--tcp-port", "0", "--debug-addr", debugAddr)
	srv.Stdout, srv.Stderr = logFile, logFile
	if err := srv.Start(); err != nil {
		return nil, err
	}
	exited := make(chan error, 1)
	go func() { exited <- srv.Wait() }()
	defer func() {
		_ = srv.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(15 * time.Second):
			_ = srv.Process.Kill()
			<-exited
		}
	}()
	email, password, err := waitDemo(ctx, filepath.Join(dir, "data", "demo.json"), exited)
	if err != nil {
		return nil, fmt.Errorf("%w; the node's log:\n%s", err, tail(logPath))
	}

	args := []string{"load", "--server", "http://" + httpAddr, "--email", email, "--password", password,
		"--rooms", strconv.Itoa(sc.Rooms), "--participants", strconv.Itoa(sc.Participants),
		"--duration", d.String(), "--video-kbps", strconv.Itoa(kbps),
		"--server-pid", strconv.Itoa(srv.Process.Pid), "--server-debug", "http://" + debugAddr, "--json", "--floor"}
	if sc.Record {
		args = append(args, "--record")
	}
	if sc.Simulcast {
		args = append(args, "--simulcast")
	}
	var stdout bytes.Buffer
	lc := exec.CommandContext(ctx, exe, args...)
	lc.Stdout, lc.Stderr = &stdout, os.Stderr
	runErr := lc.Run()
	os.Stderr.Write(stdout.Bytes())
	res, err := lastJSON(stdout.Bytes())
	if err != nil {
		return nil, errors.Join(runErr, err)
	}
	return res, runErr
}

// waitDemo waits for the node's demo.json and returns the clerk's login.
func waitDemo(ctx context.Context, path string, exited chan error) (string, string, error) {
	deadline := time.Now().Add(60 * time.Second)
	for {
		raw, err := os.ReadFile(path)
		if err == nil {
			var doc struct {
				Accounts []struct {
					Role, Email, Password string
				} `json:"accounts"`
			}
			if err := json.Unmarshal(raw, &doc); err == nil {
				for _, a := range doc.Accounts {
					if a.Role == "clerk" {
						return a.Email, a.Password, nil
					}
				}
				return "", "", errors.New("demo.json has no clerk")
			}
		}
		select {
		case err := <-exited:
			exited <- err
			return "", "", fmt.Errorf("the node exited: %v", err)
		case <-ctx.Done():
			return "", "", ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return "", "", errors.New("no demo.json after 60 s")
		}
	}
}

func lastJSON(out []byte) (*load.Result, error) {
	lines := strings.Split(strings.TrimRight(string(out), "\n"), "\n")
	var r load.Result
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &r); err != nil {
		return nil, fmt.Errorf("the load's last line is not JSON: %w", err)
	}
	return &r, nil
}

// tail returns the last lines of a file.
func tail(path string) string {
	raw, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimRight(string(raw), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-20):], "\n")
}

// machine describes this machine in one markdown table.
func machine() string {
	var b strings.Builder
	cpu := "unknown"
	if f, err := os.Open("/proc/cpuinfo"); err == nil {
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			if k, v, ok := strings.Cut(sc.Text(), ":"); ok && strings.TrimSpace(k) == "model name" {
				cpu = strings.TrimSpace(v)
				break
			}
		}
		f.Close()
	}
	mem := "unknown"
	if raw, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, l := range strings.Split(string(raw), "\n") {
			if v, ok := strings.CutPrefix(l, "MemTotal:"); ok {
				if f := strings.Fields(v); len(f) == 2 {
					if kb, err := strconv.ParseFloat(f[0], 64); err == nil {
						mem = fmt.Sprintf("%.1f GiB", kb/(1<<20))
					}
				}
			}
		}
	}
	goVersion := runtime.Version()
	if out, err := exec.Command("go", "env", "GOVERSION").Output(); err == nil {
		goVersion = strings.TrimSpace(string(out))
	}
	fmt.Fprintf(&b, "| | |\n|---|---|\n")
	fmt.Fprintf(&b, "| CPU | %s, %d cores |\n", cpu, runtime.NumCPU())
	fmt.Fprintf(&b, "| memory | %s |\n", mem)
	fmt.Fprintf(&b, "| Go | %s, %s/%s |\n", goVersion, runtime.GOOS, runtime.GOARCH)
	fmt.Fprintf(&b, "| date | %s |\n", time.Now().UTC().Format("2006-01-02 15:04 MST"))
	if loadAtStart != "" {
		fmt.Fprintf(&b, "| load average before the run | %s (1, 5, 15 min) |\n", loadAtStart)
	}
	return b.String()
}

// loadAtStart is the machine's load average when the run began: what else
// was running shows in the figures.
var loadAtStart string

// loadAverage reads the 1, 5 and 15 minute load averages.
func loadAverage() string {
	raw, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(raw))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}
