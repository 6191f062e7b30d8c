package s3

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/kuayang/kuayang/internal/blob"
)

// cleanupTimeout bounds the requests that undo a failed Put.
const cleanupTimeout = 30 * time.Second

// Put implements blob.Store.
func (s *Store) Put(ctx context.Context, key string, r io.Reader, size int64, sum []byte, opts blob.PutOptions) (blob.Info, error) {
	if err := blob.CheckKey(key); err != nil {
		return blob.Info{}, err
	}
	v, err := blob.NewVerifier(r, size, sum)
	if err != nil {
		return blob.Info{}, err
	}
	if opts, err = opts.Normalize(s.now()); err != nil {
		return blob.Info{}, err
	}
	if size > s.partSize*maxParts {
		return blob.Info{}, fmt.Errorf("%w: %d bytes is more than %d parts of %d", blob.ErrInvalid, size, maxParts, s.partSize)
	}
	// Refuse early rather than upload a large object for nothing; the
	// conditional write below is what makes it safe against races.
	if _, err := s.client.StatObject(ctx, s.bucket, key, minio.StatObjectOptions{}); err == nil {
		return blob.Info{}, fmt.Errorf("%w: %s", blob.ErrExists, key)
	} else if !errors.Is(mapErr(err, key), blob.ErrNotFound) {
		return blob.Info{}, mapErr(err, key)
	}
	po := s.putOptions(sum, opts)
	var want string // the SHA-256 checksum the server should report
	if size <= s.partSize {
		want, err = s.putSingle(ctx, key, v, size, sum, po)
	} else {
		want, err = s.putMultipart(ctx, key, v, size, po)
	}
	if err != nil {
		if verr := v.Err(); verr != nil {
			err = verr // what the Verifier said, whatever the client made of it
		}
		return blob.Info{}, mapErr(err, key)
	}
	return s.checkStored(ctx, key, size, sum, want)
}

// putOptions returns the options common to both upload paths.
func (s *Store) putOptions(sum []byte, opts blob.PutOptions) minio.PutObjectOptions {
	po := minio.PutObjectOptions{
		ContentType:  opts.ContentType,
		UserMetadata: map[string]string{metaSHA256: hex.EncodeToString(sum)},
	}
	if opts.RetainUntil.IsZero() {
		return po
	}
	if s.locking {
		po.Mode = minio.RetentionMode(opts.Mode)
		po.RetainUntilDate = opts.RetainUntil
	} else {
		po.UserMetadata[metaMode] = string(opts.Mode)
		po.UserMetadata[metaRetainUntil] = opts.RetainUntil.Format(time.RFC3339)
	}
	return po
}

// putSingle uploads in one conditional PUT that carries the SHA-256 for
// the server to check. It returns the checksum the object should have.
func (s *Store) putSingle(ctx context.Context, key string, v *blob.Verifier, size int64, sum []byte, po minio.PutObjectOptions) (string, error) {
	b64 := base64.StdEncoding.EncodeToString(sum)
	po.UserMetadata["X-Amz-Checksum-Sha256"] = b64 // sent as is, not as x-amz-meta-
	po.SetMatchETagExcept("*")
	_, err := s.core.PutObject(ctx, s.bucket, key, v, size, "", hex.EncodeToString(sum), po)
	return b64, err
}

// putMultipart uploads in parts of s.partSize, each checked by the server
// against its SHA-256, while v checks the whole; the upload is completed,
// conditionally, only if all of it matched. It returns the composite
// checksum the object should have.
func (s *Store) putMultipart(ctx context.Context, key string, v *blob.Verifier, size int64, po minio.PutObjectOptions) (want string, err error) {
	po.UserMetadata["X-Amz-Checksum-Algorithm"] = "SHA256"
	id, err := s.core.NewMultipartUpload(ctx, s.bucket, key, po)
	if err != nil {
		return "", err
	}
	defer func() {
		if err != nil {
			cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
			defer cancel()
			_ = s.core.AbortMultipartUpload(cctx, s.bucket, key, id)
		}
	}()
	parts, composite, err := s.putParts(ctx, key, id, v, size)
	if err != nil {
		return "", err
	}
	var co minio.PutObjectOptions
	co.SetMatchETagExcept("*")
	if _, err := s.core.CompleteMultipartUpload(ctx, s.bucket, key, id, parts, co); err != nil {
		return "", err
	}
	return composite, nil
}

// putParts uploads the parts and returns them with the composite SHA-256
// checksum of the whole: base64(SHA-256(part sums))-count.
func (s *Store) putParts(ctx context.Context, key, id string, v *blob.Verifier, size int64) ([]minio.CompletePart, string, error) {
	buf := make([]byte, min(s.partSize, size))
	var parts []minio.CompletePart
	all := sha256.New()
	for n := 1; size > 0; n++ {
		chunk := buf[:min(int64(len(buf)), size)]
		if _, err := io.ReadFull(v, chunk); err != nil {
			return nil, "", err
		}
		size -= int64(len(chunk))
		ps := sha256.Sum256(chunk)
		all.Write(ps[:])
		b64 := base64.StdEncoding.EncodeToString(ps[:])
		p, err := s.core.PutObjectPart(ctx, s.bucket, key, id, n, bytes.NewReader(chunk), int64(len(chunk)), minio.PutObjectPartOptions{
			Sha256Hex:    hex.EncodeToString(ps[:]),
			CustomHeader: http.Header{"X-Amz-Checksum-Sha256": {b64}},
		})
		if err != nil {
			return nil, "", err
		}
		if p.ChecksumSHA256 != b64 {
			return nil, "", fmt.Errorf("%w: part %d stored with SHA-256 %q, want %q", blob.ErrCorrupt, n, p.ChecksumSHA256, b64)
		}
		parts = append(parts, minio.CompletePart{PartNumber: n, ETag: p.ETag, ChecksumSHA256: b64})
	}
	composite := base64.StdEncoding.EncodeToString(all.Sum(nil)) + "-" + strconv.Itoa(len(parts))
	return parts, composite, nil
}

// checkStored reads back what the server says it stored. On a mismatch
// it hides the object behind a delete marker (a retained version cannot
// be removed) and reports ErrCorrupt.
func (s *Store) checkStored(ctx context.Context, key string, size int64, sum []byte, checksum string) (blob.Info, error) {
	oi, err := s.client.StatObject(ctx, s.bucket, key, minio.StatObjectOptions{Checksum: true})
	if err != nil {
		return blob.Info{}, mapErr(err, key)
	}
	info := toInfo(key, oi)
	if oi.Size == size && oi.ChecksumSHA256 == checksum && bytes.Equal(info.SHA256, sum) {
		return info, nil
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	rerr := s.client.RemoveObject(cctx, s.bucket, key, minio.RemoveObjectOptions{})
	return blob.Info{}, errors.Join(fmt.Errorf("%w: %s stored as %d bytes, checksum %q; want %d bytes, %q",
		blob.ErrCorrupt, key, oi.Size, oi.ChecksumSHA256, size, checksum), rerr)
}
