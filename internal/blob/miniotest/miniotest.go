// Package miniotest runs a real MinIO server for tests, on 127.0.0.1 only.
//
// The binary is `minio` on PATH, else $(go env GOPATH)/bin/minio (go
// install github.com/minio/minio@...). Without one, tests that ask for a
// server are skipped with a loud message, or fail when CI is set.
//
// Shared starts one server per test binary; call Main from TestMain to
// stop it and remove its data at the end. On Linux the server is also
// killed if the test process dies, so it never outlives the tests.
// NewServer starts a private one, for tests that stop and restart it.
package miniotest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/kuayang/kuayang/internal/config"
)

// StartTimeout bounds how long a server may take to answer its health
// check after being started.
var StartTimeout = 60 * time.Second

// Server is a MinIO server process with its data directory and ports,
// which stay the same across Stop and Start.
type Server struct {
	Dir       string // data directory
	Addr      string // 127.0.0.1:port of the S3 API
	AccessKey string
	SecretKey string

	bin     string
	console string // console address, unused but bound to loopback
	mu      sync.Mutex
	cmd     *exec.Cmd
	exited  chan struct{} // closed when cmd has exited
	log     *tailBuffer
}

// Binary returns the path of the minio binary, or an error saying where
// it was looked for.
func Binary() (string, error) {
	if p, err := exec.LookPath("minio"); err == nil {
		return p, nil
	}
	gopath := os.Getenv("GOPATH")
	if gopath == "" {
		out, err := exec.Command("go", "env", "GOPATH").Output()
		if err == nil {
			gopath = strings.TrimSpace(string(out))
		}
	}
	if gopath != "" {
		p := filepath.Join(strings.Split(gopath, string(os.PathListSeparator))[0], "bin", "minio")
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() {
			return p, nil
		}
	}
	return "", errors.New("no minio binary on PATH nor in $(go env GOPATH)/bin " +
		"(go install github.com/minio/minio@v0.0.0-20260212201848-7aac2a2c5b7c)")
}

// binaryOrSkip returns the binary, or skips the test (fails it under CI).
func binaryOrSkip(t testing.TB) string {
	t.Helper()
	bin, err := Binary()
	if err == nil {
		return bin
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("miniotest: %v", err)
	}
	t.Skipf("\n*** SKIPPING: MinIO tests need a minio binary: %v ***", err)
	return ""
}

var shared struct {
	once sync.Once
	srv  *Server
	err  error
}

// Shared returns the server shared by the tests of this binary, starting
// it on first use. Use a fresh bucket per test (Bucket).
func Shared(t testing.TB) *Server {
	t.Helper()
	bin := binaryOrSkip(t)
	shared.once.Do(func() {
		dir, err := os.MkdirTemp("", "miniotest-")
		if err != nil {
			shared.err = err
			return
		}
		shared.srv, shared.err = newServer(bin, dir)
	})
	if shared.err != nil {
		t.Fatalf("miniotest: %v", shared.err)
	}
	return shared.srv
}

// Main runs the tests of m, then stops the shared server, if one was
// started, and removes its data. Call it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	if s := shared.srv; s != nil {
		if err := s.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "miniotest:", err)
		}
		os.RemoveAll(s.Dir)
	}
	os.Exit(code)
}

// NewServer starts a server of the test's own, stopped at its end.
func NewServer(t testing.TB) *Server {
	t.Helper()
	bin := binaryOrSkip(t)
	s, err := newServer(bin, t.TempDir())
	if err != nil {
		t.Fatalf("miniotest: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Stop(); err != nil {
			t.Errorf("miniotest: %v", err)
		}
	})
	return s
}

// newServer picks free loopback ports and starts minio on dir, trying
// again with other ports if one was taken in the meantime.
func newServer(bin, dir string) (*Server, error) {
	var err error
	for range 3 {
		s := &Server{Dir: dir, bin: bin, AccessKey: "kuayang-test", SecretKey: randomHex(16)}
		if s.Addr, err = freeAddr(); err != nil {
			return nil, err
		}
		if s.console, err = freeAddr(); err != nil {
			return nil, err
		}
		if err = s.Start(); err == nil {
			return s, nil
		}
	}
	return nil, err
}

// Start starts the server (again, after Stop) on the same address and
// data directory, and waits until it is live.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd != nil {
		return errors.New("miniotest: already running")
	}
	s.log = &tailBuffer{max: 16 << 10}
	cmd := exec.Command(s.bin, "server", s.Dir, "--quiet",
		"--address", s.Addr, "--console-address", s.console,
		"--certs-dir", filepath.Join(s.Dir, ".certs"))
	cmd.Env = append(os.Environ(),
		"MINIO_ROOT_USER="+s.AccessKey, "MINIO_ROOT_PASSWORD="+s.SecretKey,
		"MINIO_BROWSER=off", "MINIO_UPDATE=off", "MINIO_CI_CD=on")
	cmd.Stdout, cmd.Stderr = s.log, s.log
	cmd.SysProcAttr = sysProcAttr()
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("miniotest: %w", err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); close(exited) }()
	if err := waitLive(s.Addr, exited); err != nil {
		_ = cmd.Process.Kill()
		<-exited
		return fmt.Errorf("miniotest: %w; minio said:\n%s", err, s.log)
	}
	s.cmd, s.exited = cmd, exited
	return nil
}

// Stop stops the server, politely first; its data stays.
func (s *Server) Stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.cmd == nil {
		return nil
	}
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.exited:
	case <-time.After(10 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.exited
	}
	s.cmd = nil
	return nil
}

// Config returns the settings to reach bucket on s (which Open of package
// blob/s3 creates if missing).
func (s *Server) Config(bucket string) config.S3 {
	return config.S3{Endpoint: s.Addr, AccessKey: s.AccessKey, SecretKey: s.SecretKey, Bucket: bucket}
}

// URL returns the --s3-url of bucket on s.
func (s *Server) URL(bucket string) string {
	return "http://" + s.AccessKey + ":" + s.SecretKey + "@" + s.Addr + "/" + bucket
}

// Bucket returns the settings of a new bucket name on the shared server.
func Bucket(t testing.TB) config.S3 {
	t.Helper()
	return Shared(t).Config(BucketName())
}

// BucketName returns a new random valid bucket name.
func BucketName() string { return "test-" + randomHex(8) }

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b) // never fails
	return hex.EncodeToString(b)
}

// freeAddr returns a loopback address with a port that was free.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("miniotest: %w", err)
	}
	defer l.Close()
	return "127.0.0.1:" + strconv.Itoa(l.Addr().(*net.TCPAddr).Port), nil
}

// waitLive polls until the server serves S3 requests: the liveness
// endpoint answers 200 before the object layer is initialized, so it then
// polls the S3 root, which answers 503 until it is.
func waitLive(addr string, exited <-chan struct{}) error {
	ctx, cancel := context.WithTimeout(context.Background(), StartTimeout)
	defer cancel()
	client := &http.Client{Timeout: 2 * time.Second}
	for {
		if live(ctx, client, addr, "/minio/health/live") && live(ctx, client, addr, "/") {
			return nil
		}
		select {
		case <-exited:
			return errors.New("minio exited")
		case <-ctx.Done():
			return fmt.Errorf("minio not live on %s after %s", addr, StartTimeout)
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// live reports whether GET path answers without a server error (the S3
// root answers an anonymous request with 403 once it serves).
func live(ctx context.Context, client *http.Client, addr, path string) bool {
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, "http://"+addr+path, nil)
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode < 500
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu  sync.Mutex
	max int
	b   []byte
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.b = append(t.b, p...)
	if len(t.b) > t.max {
		t.b = t.b[len(t.b)-t.max:]
	}
	return len(p), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.b)
}
