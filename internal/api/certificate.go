package api

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"

	"github.com/kuayang/kuayang/internal/cases"
	"github.com/kuayang/kuayang/internal/evidence"
)

// certificateStylesheet is the certificate's stylesheet, served by the
// web client (web/static).
const certificateStylesheet = "/static/certificate.css"

// certificatePolicy is the Content-Security-Policy of the certificate: no
// script at all, styles from this origin only.
const certificatePolicy = "default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// certificate answers GET /api/v1/sessions/{id}/certificate: a printable
// HTML page describing the sealed recording (evidence.WriteCertificate).
// It is printed only from a stored manifest that is the one sealed and
// whose signature verifies with the registered key: 409 not_intact
// otherwise (the verify route says what is wrong). Audited as
// recording.certificate.
func (s *Server) certificate(w http.ResponseWriter, r *http.Request, p *principal) error {
	ss, rec, err := s.sealedRecording(r.Context(), p, r.PathValue("id"), "the certificate exists once it is sealed")
	if err != nil {
		return err
	}
	cert, err := s.certificateOf(r.Context(), rec)
	if err != nil {
		return err
	}
	c, err := s.Store.Case(r.Context(), ss.CaseID)
	if err != nil {
		return err
	}
	cert.BundleName, cert.IssuedAt, cert.IssuedBy = bundleName(c, ss), s.now().UTC(), p.account.Name
	var page bytes.Buffer
	if err := evidence.WriteCertificate(&page, *cert); err != nil {
		return err
	}
	e := p.entry("recording.certificate")
	e.CaseID, e.SessionID = ss.CaseID, ss.ID
	e.Detail = detail(map[string]any{"manifest_sha256": cert.ManifestSHA256})
	s.record(r.Context(), e)
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", certificatePolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Cache-Control", "no-store")
	_, _ = page.WriteTo(w)
	return nil
}

// certificateOf is the certificate of a sealed recording, from its stored
// manifest once that is checked: the one sealed (its SHA-256 is in the
// records) and signed by the registered key.
func (s *Server) certificateOf(ctx context.Context, rec *cases.Recording) (*evidence.Certificate, error) {
	m, manifest, err := s.storedManifest(ctx, rec)
	if err != nil {
		return nil, err
	}
	sig, err := s.readObject(ctx, s.Recordings.SignatureKey(rec.SessionID))
	if err != nil {
		return nil, err
	}
	pemBytes, err := s.publicKey(ctx, rec.KeyID)
	if err != nil {
		return nil, err
	}
	pub, err := evidence.ParsePublicPEM(pemBytes)
	if err != nil {
		return nil, err
	}
	notIntact := apiError(http.StatusConflict, "not_intact",
		"the stored manifest is not the one sealed or its signature does not verify; check the recording's integrity (POST /api/v1/sessions/%s/verify)", rec.SessionID)
	raw, err := evidence.DecodeSignature(sig)
	sum := sha256.Sum256(manifest)
	if err != nil || evidence.VerifySignature(pub, manifest, raw) != nil || !bytes.Equal(sum[:], rec.ManifestSHA) {
		return nil, notIntact
	}
	c := &evidence.Certificate{Manifest: m, ManifestSHA256: hex.EncodeToString(sum[:]),
		Fingerprint: evidence.Fingerprint(pub), Stylesheet: certificateStylesheet}
	// The timestamp is printed when it holds, as the bundle's would be
	// checked: a token that does not is a problem of the recording.
	if token, err := s.timestampToken(ctx, rec.SessionID); err != nil {
		return nil, err
	} else if token != nil {
		if c.Timestamp, err = evidence.VerifyTimestamp(token, manifest, s.Recordings.TSARoots); err != nil {
			return nil, notIntact
		}
	}
	return c, nil
}
