package s3_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/kuayang/kuayang/internal/blob"
	"github.com/kuayang/kuayang/internal/blob/blobtest"
	"github.com/kuayang/kuayang/internal/blob/miniotest"
	"github.com/kuayang/kuayang/internal/blob/s3"
)

func TestMain(m *testing.M) { miniotest.Main(m) }

// open returns a store on a new bucket of the shared server, with parts
// as small as allowed so that the Large test goes through multipart.
func open(t *testing.T) *s3.Store {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	s, err := s3.Open(ctx, miniotest.Bucket(t), s3.Options{PartSize: s3.MinPartSize})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestConformance(t *testing.T) {
	blobtest.Run(t, func(t *testing.T) blob.Store { return open(t) })
}

func sum(b []byte) []byte {
	s := sha256.Sum256(b)
	return s[:]
}

func TestLocking(t *testing.T) {
	s := open(t)
	if !s.Locking() {
		t.Fatal("Locking() = false on a bucket Open created")
	}
	// Opening the existing bucket again finds Object Lock.
	again, err := s3.Open(t.Context(), miniotest.Shared(t).Config(s.Bucket()), s3.Options{})
	if err != nil || !again.Locking() {
		t.Fatalf("Open existing: Locking() = %v, %v", again != nil && again.Locking(), err)
	}
}

// TestNoLocking checks a bucket made without Object Lock: retention is
// recorded only, legal hold unsupported.
func TestNoLocking(t *testing.T) {
	cfg := miniotest.Bucket(t)
	s0 := open(t) // any store, for its client
	if err := s0.Client().MakeBucket(t.Context(), cfg.Bucket, minio.MakeBucketOptions{}); err != nil {
		t.Fatal(err)
	}
	s, err := s3.Open(t.Context(), cfg, s3.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Locking() {
		t.Fatal("Locking() = true on a bucket without Object Lock")
	}
	until := time.Now().Add(time.Hour)
	content := []byte("recorded only")
	if _, err := s.Put(t.Context(), "k", bytes.NewReader(content), int64(len(content)), sum(content), blob.PutOptions{RetainUntil: until}); err != nil {
		t.Fatal(err)
	}
	info, err := s.Stat(t.Context(), "k")
	if err != nil || info.Mode != blob.Compliance || info.RetainUntil.Sub(until).Abs() > time.Second {
		t.Errorf("Stat = %+v, %v; want recorded retention", info, err)
	}
	if err := s.SetLegalHold(t.Context(), "k", true); !errors.Is(err, errors.ErrUnsupported) {
		t.Errorf("SetLegalHold = %v, want ErrUnsupported", err)
	}
	// Without a lock, the object can be removed behind the store's back.
	if err := s.Client().RemoveObject(t.Context(), s.Bucket(), "k", minio.RemoveObjectOptions{}); err != nil {
		t.Errorf("RemoveObject: %v", err)
	}
}

// TestComplianceEnforced proves the server applies the retention: the raw
// client can neither delete nor overwrite the retained version.
func TestComplianceEnforced(t *testing.T) {
	s := open(t)
	ctx := t.Context()
	content := []byte("sealed evidence")
	if _, err := s.Put(ctx, "sealed", bytes.NewReader(content), int64(len(content)), sum(content), blob.PutOptions{RetainUntil: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
	c := s.Client()
	oi, err := c.StatObject(ctx, s.Bucket(), "sealed", minio.StatObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	mode, until, err := c.GetObjectRetention(ctx, s.Bucket(), "sealed", oi.VersionID)
	if err != nil || mode == nil || *mode != minio.Compliance || until == nil || time.Until(*until) < 59*time.Minute {
		t.Fatalf("GetObjectRetention = %v, %v, %v; want COMPLIANCE for an hour", mode, until, err)
	}
	err = c.RemoveObject(ctx, s.Bucket(), "sealed", minio.RemoveObjectOptions{VersionID: oi.VersionID})
	if err == nil {
		t.Fatal("deleting the retained version succeeded")
	}
	err = c.RemoveObject(ctx, s.Bucket(), "sealed", minio.RemoveObjectOptions{VersionID: oi.VersionID, GovernanceBypass: true})
	if err == nil {
		t.Fatal("deleting the retained version with governance bypass succeeded")
	}
	// Shortening the retention is refused too.
	gov, soon := minio.Governance, time.Now().Add(time.Minute)
	err = c.PutObjectRetention(ctx, s.Bucket(), "sealed", minio.PutObjectRetentionOptions{Mode: &gov, RetainUntilDate: &soon, VersionID: oi.VersionID})
	if err == nil {
		t.Fatal("shortening the retention succeeded")
	}
	// An overwrite through the raw client only adds a version: the
	// retained one stays, byte for byte.
	other := []byte("tampered")
	if _, err := c.PutObject(ctx, s.Bucket(), "sealed", bytes.NewReader(other), int64(len(other)), minio.PutObjectOptions{}); err != nil {
		t.Logf("raw overwrite refused: %v", err)
	}
	obj, err := c.GetObject(ctx, s.Bucket(), "sealed", minio.GetObjectOptions{VersionID: oi.VersionID})
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	var got bytes.Buffer
	if _, err := got.ReadFrom(obj); err != nil || !bytes.Equal(got.Bytes(), content) {
		t.Errorf("retained version = %q, %v; want %q", got.Bytes(), err, content)
	}
}

// TestServerChecksum shows that the server itself checks the SHA-256 the
// store sends: a raw PUT with a wrong x-amz-checksum-sha256 is refused.
func TestServerChecksum(t *testing.T) {
	s := open(t)
	content := []byte("checked by the server")
	core := minio.Core{Client: s.Client()}
	opts := minio.PutObjectOptions{UserMetadata: map[string]string{
		"X-Amz-Checksum-Sha256": "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", // of ""
	}}
	_, err := core.PutObject(t.Context(), s.Bucket(), "k", bytes.NewReader(content), int64(len(content)), "", "", opts)
	if err == nil {
		t.Fatal("PUT with a wrong checksum succeeded")
	}
	t.Logf("server said: %v (%s)", err, minio.ToErrorResponse(err).Code)
	if _, err := s.Stat(t.Context(), "k"); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Stat = %v, want ErrNotFound", err)
	}
}

// TestMultipartWrongSum checks that a multipart upload whose whole does
// not match is aborted: nothing is stored, no upload is left pending.
func TestMultipartWrongSum(t *testing.T) {
	s := open(t)
	const size = s3.MinPartSize*2 + 1000
	_, err := s.Put(t.Context(), "big", blobtest.Generator(7, size), size, blobtest.GeneratorSum(8, size), blob.PutOptions{})
	if !errors.Is(err, blob.ErrCorrupt) {
		t.Fatalf("Put = %v, want ErrCorrupt", err)
	}
	if _, err := s.Stat(t.Context(), "big"); !errors.Is(err, blob.ErrNotFound) {
		t.Errorf("Stat = %v, want ErrNotFound", err)
	}
	for u := range s.Client().ListIncompleteUploads(t.Context(), s.Bucket(), "", true) {
		t.Errorf("upload left pending: %+v", u)
	}
	// The right sum then goes through, and Stat reports the whole's sum.
	want := blobtest.GeneratorSum(7, size)
	if _, err := s.Put(t.Context(), "big", blobtest.Generator(7, size), size, want, blob.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	if info, err := s.Stat(t.Context(), "big"); err != nil || !bytes.Equal(info.SHA256, want) {
		t.Errorf("Stat = %+v, %v", info, err)
	}
}

// TestConcurrentMultipart races multipart uploads of one key: all pass
// the existence check before any completes, so only the conditional
// completion can keep the key write-once.
func TestConcurrentMultipart(t *testing.T) {
	s := open(t)
	const n, size = 4, s3.MinPartSize + 1000
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			seed := uint64(10 + i)
			_, errs[i] = s.Put(t.Context(), "race", blobtest.Generator(seed, size), size, blobtest.GeneratorSum(seed, size), blob.PutOptions{})
		})
	}
	wg.Wait()
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil && winner >= 0:
			t.Errorf("uploads %d and %d both succeeded", winner, i)
		case err == nil:
			winner = i
		case !errors.Is(err, blob.ErrExists):
			t.Errorf("upload %d: %v, want nil or ErrExists", i, err)
		}
	}
	if winner < 0 {
		t.Fatal("no upload succeeded")
	}
	info, err := s.Stat(t.Context(), "race")
	if want := blobtest.GeneratorSum(uint64(10+winner), size); err != nil || !bytes.Equal(info.SHA256, want) {
		t.Errorf("Stat = %+v, %v; want the winner's sum", info, err)
	}
	for u := range s.Client().ListIncompleteUploads(t.Context(), s.Bucket(), "", true) {
		t.Errorf("upload left pending: %+v", u)
	}
}
