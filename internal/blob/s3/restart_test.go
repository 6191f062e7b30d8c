package s3_test

import (
	"bytes"
	"context"
	"testing"
	"time"

	"github.com/kuayang/kuayang/internal/blob"
	"github.com/kuayang/kuayang/internal/blob/miniotest"
	"github.com/kuayang/kuayang/internal/blob/s3"
)

// TestServerRestart checks the fault-test hooks: a private server stops,
// calls fail, and after Start on the same address and directory the
// objects are there and a store opened before the outage works again.
func TestServerRestart(t *testing.T) {
	srv := miniotest.NewServer(t)
	s, err := s3.Open(t.Context(), srv.Config("restart"), s3.Options{})
	if err != nil {
		t.Fatal(err)
	}
	content := []byte("survives a restart")
	if _, err := s.Put(t.Context(), "k", bytes.NewReader(content), int64(len(content)), sum(content), blob.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := srv.Stop(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	start := time.Now()
	if _, err := s.Stat(ctx, "k"); err == nil {
		t.Fatal("Stat succeeded with the server stopped")
	}
	t.Logf("Stat with the server down failed after %s", time.Since(start).Round(time.Millisecond))
	start = time.Now()
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Logf("restart took %s", time.Since(start).Round(time.Millisecond))
	info, err := s.Stat(t.Context(), "k")
	if err != nil || !bytes.Equal(info.SHA256, sum(content)) {
		t.Fatalf("after restart: Stat = %+v, %v", info, err)
	}
}
