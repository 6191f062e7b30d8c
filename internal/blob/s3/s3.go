// Package s3 keeps blob objects in an S3 bucket (MinIO, AWS, and other
// compatible stores) through minio-go.
//
// Open creates the bucket with Object Lock enabled if it is missing; on a
// bucket with Object Lock, retention is applied by the server and Locking
// is true. On a bucket without it, retention is only recorded in the
// object's metadata and legal holds are unsupported.
//
// Each object carries its SHA-256 as user metadata (x-amz-meta-kuayang-
// sha256). Objects up to Options.PartSize are sent in one PUT with an
// x-amz-checksum-sha256 header, which the server checks; larger ones in
// parts, each with its own SHA-256 checked by the server, while the whole
// is hashed here and the upload aborted unless it matches. Either way the
// final write is conditional (If-None-Match: *), and the stored object is
// then checked again (size and the checksum the server reports).
package s3

import (
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/kuayang/kuayang/internal/blob"
	"github.com/kuayang/kuayang/internal/config"
)

// Part sizes: S3 accepts parts of 5 MiB to 5 GiB, and 10,000 of them.
const (
	DefaultPartSize = 16 << 20
	MinPartSize     = 5 << 20
	MaxPartSize     = 5 << 30
	maxParts        = 10000
)

// MaxURLTTL is the longest lifetime of a presigned URL (S3's limit).
const MaxURLTTL = 7 * 24 * time.Hour

// User metadata keys (sent as x-amz-meta-kuayang-...).
const (
	metaSHA256      = "Kuayang-Sha256"
	metaRetainUntil = "Kuayang-Retain-Until" // only without Object Lock
	metaMode        = "Kuayang-Retention-Mode"
)

// Options tune a Store beyond the --s3-url.
type Options struct {
	Region string // bucket region; empty for MinIO's default
	// PartSize is the size of the parts of a multipart upload, used for
	// objects larger than it; default DefaultPartSize. It is held in
	// memory during a Put.
	PartSize int64
	// Transport overrides the HTTP transport (tests).
	Transport http.RoundTripper
}

// Store is a blob.Store on one bucket.
type Store struct {
	client   *minio.Client
	core     minio.Core
	bucket   string
	locking  bool
	partSize int64
	now      func() time.Time
}

var _ blob.Store = (*Store)(nil)

// Open connects to cfg's bucket, creating it with Object Lock if it does
// not exist, and finds out whether it has Object Lock.
func Open(ctx context.Context, cfg config.S3, opts Options) (*Store, error) {
	if opts.PartSize == 0 {
		opts.PartSize = DefaultPartSize
	}
	if opts.PartSize < MinPartSize || opts.PartSize > MaxPartSize {
		return nil, fmt.Errorf("%w: part size %d, want %d to %d", blob.ErrInvalid, opts.PartSize, MinPartSize, MaxPartSize)
	}
	client, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:     credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure:    cfg.Secure,
		Region:    opts.Region,
		Transport: opts.Transport,
	})
	if err != nil {
		return nil, fmt.Errorf("blob/s3: %w", err)
	}
	s := &Store{client: client, core: minio.Core{Client: client}, bucket: cfg.Bucket, partSize: opts.PartSize, now: time.Now}
	if err := s.ensureBucket(ctx, opts.Region); err != nil {
		return nil, err
	}
	if s.locking, err = s.lockEnabled(ctx); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Store) ensureBucket(ctx context.Context, region string) error {
	ok, err := s.client.BucketExists(ctx, s.bucket)
	if err != nil {
		return fmt.Errorf("blob/s3: bucket %s: %w", s.bucket, err)
	}
	if ok {
		return nil
	}
	err = s.client.MakeBucket(ctx, s.bucket, minio.MakeBucketOptions{Region: region, ObjectLocking: true})
	if err != nil && errCode(err) != "BucketAlreadyOwnedByYou" {
		return fmt.Errorf("blob/s3: create bucket %s: %w", s.bucket, err)
	}
	return nil
}

func (s *Store) lockEnabled(ctx context.Context) (bool, error) {
	state, _, _, _, err := s.client.GetObjectLockConfig(ctx, s.bucket)
	if errCode(err) == "ObjectLockConfigurationNotFoundError" {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("blob/s3: object lock of %s: %w", s.bucket, err)
	}
	return state == "Enabled", nil
}

// Locking implements blob.Store: whether the bucket has Object Lock.
func (s *Store) Locking() bool { return s.locking }

// Client returns the underlying client, for tests and administration.
func (s *Store) Client() *minio.Client { return s.client }

// Bucket returns the bucket name.
func (s *Store) Bucket() string { return s.bucket }

// errCode returns the S3 error code of err, or "".
func errCode(err error) string {
	var r minio.ErrorResponse
	if errors.As(err, &r) {
		return r.Code
	}
	return ""
}

// mapErr translates an S3 error about key into the blob errors.
func mapErr(err error, key string) error {
	if err == nil {
		return nil
	}
	switch errCode(err) {
	case "":
		if errors.Is(err, blob.ErrCorrupt) || errors.Is(err, blob.ErrInvalid) {
			return err
		}
	case "NoSuchKey", "NoSuchVersion":
		return fmt.Errorf("%w: %s", blob.ErrNotFound, key)
	case "PreconditionFailed":
		return fmt.Errorf("%w: %s", blob.ErrExists, key)
	case "BadDigest", "InvalidDigest", "XAmzContentChecksumMismatch", "XAmzContentSHA256Mismatch", "IncompleteBody":
		return fmt.Errorf("%w: %s: %w", blob.ErrCorrupt, key, err)
	}
	return fmt.Errorf("blob/s3: %s: %w", key, err)
}

// Stat implements blob.Store.
func (s *Store) Stat(ctx context.Context, key string) (blob.Info, error) {
	if err := blob.CheckKey(key); err != nil {
		return blob.Info{}, err
	}
	oi, err := s.client.StatObject(ctx, s.bucket, key, minio.StatObjectOptions{})
	if err != nil {
		return blob.Info{}, mapErr(err, key)
	}
	return toInfo(key, oi), nil
}

// toInfo describes an object from its S3 headers.
func toInfo(key string, oi minio.ObjectInfo) blob.Info {
	info := blob.Info{Key: key, Size: oi.Size, ContentType: oi.ContentType, Modified: oi.LastModified}
	info.SHA256, _ = hex.DecodeString(oi.UserMetadata[metaSHA256])
	if len(info.SHA256) == 0 && oi.ChecksumSHA256 != "" && !strings.Contains(oi.ChecksumSHA256, "-") {
		info.SHA256, _ = base64.StdEncoding.DecodeString(oi.ChecksumSHA256)
	}
	mode, until := oi.Metadata.Get("X-Amz-Object-Lock-Mode"), oi.Metadata.Get("X-Amz-Object-Lock-Retain-Until-Date")
	if until == "" {
		mode, until = oi.UserMetadata[metaMode], oi.UserMetadata[metaRetainUntil]
	}
	if t, err := time.Parse(time.RFC3339, until); err == nil {
		info.RetainUntil, info.Mode = t.UTC(), blob.Mode(mode)
	}
	info.LegalHold = oi.Metadata.Get("X-Amz-Object-Lock-Legal-Hold") == string(minio.LegalHoldEnabled)
	return info
}

// Get implements blob.Store. The reader is a *minio.Object, which also
// seeks and reads at offsets.
func (s *Store) Get(ctx context.Context, key string) (io.ReadCloser, blob.Info, error) {
	if err := blob.CheckKey(key); err != nil {
		return nil, blob.Info{}, err
	}
	obj, err := s.client.GetObject(ctx, s.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return nil, blob.Info{}, mapErr(err, key)
	}
	oi, err := obj.Stat()
	if err != nil {
		obj.Close()
		return nil, blob.Info{}, mapErr(err, key)
	}
	return obj, toInfo(key, oi), nil
}

// List implements blob.Store. It costs one request per object besides
// the listing, for the SHA-256 and retention of each.
func (s *Store) List(ctx context.Context, prefix string) ([]blob.Info, error) {
	var out []blob.Info
	for oi := range s.client.ListObjectsIter(ctx, s.bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if oi.Err != nil {
			return nil, fmt.Errorf("blob/s3: list %q: %w", prefix, oi.Err)
		}
		info, err := s.Stat(ctx, oi.Key)
		if errors.Is(err, blob.ErrNotFound) || errors.Is(err, blob.ErrBadKey) {
			continue // gone meanwhile, or not ours
		}
		if err != nil {
			return nil, err
		}
		out = append(out, info)
	}
	slices.SortFunc(out, func(a, b blob.Info) int { return strings.Compare(a.Key, b.Key) })
	return out, nil
}

// SetLegalHold implements blob.Store. Without Object Lock it fails with
// errors.ErrUnsupported.
func (s *Store) SetLegalHold(ctx context.Context, key string, on bool) error {
	if _, err := s.Stat(ctx, key); err != nil {
		return err
	}
	if !s.locking {
		return fmt.Errorf("blob/s3: legal hold on bucket %s without Object Lock: %w", s.bucket, errors.ErrUnsupported)
	}
	status := minio.LegalHoldDisabled
	if on {
		status = minio.LegalHoldEnabled
	}
	err := s.client.PutObjectLegalHold(ctx, s.bucket, key, minio.PutObjectLegalHoldOptions{Status: &status})
	return mapErr(err, key)
}

// URL implements blob.Store with a presigned GET URL.
func (s *Store) URL(ctx context.Context, key string, ttl time.Duration) (string, error) {
	if err := blob.CheckKey(key); err != nil {
		return "", err
	}
	if ttl < time.Second || ttl > MaxURLTTL {
		return "", fmt.Errorf("%w: URL lifetime %s, want 1s to %s", blob.ErrInvalid, ttl, MaxURLTTL)
	}
	if _, err := s.Stat(ctx, key); err != nil {
		return "", err
	}
	u, err := s.client.PresignedGetObject(ctx, s.bucket, key, ttl, nil)
	if err != nil {
		return "", mapErr(err, key)
	}
	return u.String(), nil
}
