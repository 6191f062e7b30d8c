package cms

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"slices"
	"time"
)

// SignOption adjusts SignDetached and SignEncapsulated.
type SignOption func(*signConfig)

type signConfig struct {
	signingTime time.Time
	certs       []*x509.Certificate
}

// WithSigningTime adds the signing-time attribute. PAdES baseline
// signatures leave it out (the time is in the PDF's dictionary, or in a
// timestamp); other uses may want it.
func WithSigningTime(t time.Time) SignOption {
	return func(c *signConfig) { c.signingTime = t }
}

// WithCertificates adds certificates besides the signer's to the
// SignedData: the intermediates a verifier needs to build the chain.
func WithCertificates(certs ...*x509.Certificate) SignOption {
	return func(c *signConfig) { c.certs = append(c.certs, certs...) }
}

// SignDetached signs content with signer, whose certificate is cert, and
// returns the DER of a ContentInfo holding a SignedData without the
// content (detached, eContentType id-data), as a PDF signature's
// /Contents or a .p7s file beside the document. The signed attributes are
// content-type, message-digest and ESS signing-certificate-v2 (RFC 5035),
// as PAdES baseline B-B asks; WithSigningTime adds signing-time.
//
// The digest is SHA-256 for ECDSA and RSA keys (ecdsa-with-SHA256,
// sha256WithRSAEncryption) and SHA-512 for Ed25519, as RFC 8419 requires
// with signed attributes (the signature is Ed25519's, over the
// attributes themselves).
func SignDetached(content []byte, signer crypto.Signer, cert *x509.Certificate, opts ...SignOption) ([]byte, error) {
	return sign(content, OIDData, false, signer, cert, opts)
}

// SignEncapsulated is SignDetached with the content inside the SignedData
// under contentType, e.g. OIDTSTInfo for a timestamp token.
func SignEncapsulated(content []byte, contentType asn1.ObjectIdentifier, signer crypto.Signer, cert *x509.Certificate, opts ...SignOption) ([]byte, error) {
	return sign(content, contentType, true, signer, cert, opts)
}

func sign(content []byte, contentType asn1.ObjectIdentifier, encapsulate bool, signer crypto.Signer, cert *x509.Certificate, opts []SignOption) ([]byte, error) {
	var cfg signConfig
	for _, o := range opts {
		o(&cfg)
	}
	if signer == nil || cert == nil {
		return nil, errors.New("cms: sign: a signer and its certificate are required")
	}
	if !publicKeysEqual(signer.Public(), cert.PublicKey) {
		return nil, errors.New("cms: sign: the certificate is not the signer's (public keys differ)")
	}
	digestAlg, sigAlg, err := algorithms(signer.Public())
	if err != nil {
		return nil, err
	}
	h := HashOf(digestAlg.Algorithm)
	md := h.New()
	md.Write(content)
	attrs, err := signedAttributes(contentType, md.Sum(nil), cert, cfg.signingTime)
	if err != nil {
		return nil, err
	}
	// The signature covers the DER of the attributes as a SET OF; the
	// SignerInfo carries the same bytes under the [0] IMPLICIT tag.
	setDER, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSet, IsCompound: true, Bytes: attrs})
	if err != nil {
		return nil, fmt.Errorf("cms: sign: %w", err)
	}
	sig, err := signBytes(signer, h, setDER)
	if err != nil {
		return nil, fmt.Errorf("cms: sign: %w", err)
	}
	sid, err := asn1.Marshal(issuerAndSerial{Issuer: asn1.RawValue{FullBytes: cert.RawIssuer}, Serial: cert.SerialNumber})
	if err != nil {
		return nil, fmt.Errorf("cms: sign: %w", err)
	}
	si := signerInfo{Version: 1, SID: asn1.RawValue{FullBytes: sid}, DigestAlgorithm: digestAlg,
		SignedAttrs:        asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: attrs},
		SignatureAlgorithm: sigAlg, Signature: sig}

	var certs [][]byte
	for _, c := range append([]*x509.Certificate{cert}, cfg.certs...) {
		certs = append(certs, c.Raw)
	}
	version := 1
	if !contentType.Equal(OIDData) {
		version = 3
	}
	sd := signedData{Version: version, DigestAlgorithms: []pkix.AlgorithmIdentifier{digestAlg},
		EncapContentInfo: encapContentInfo{EContentType: contentType},
		Certificates:     asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: setOf(certs)},
		SignerInfos:      []signerInfo{si}}
	if encapsulate {
		octets, err := asn1.Marshal(content)
		if err != nil {
			return nil, fmt.Errorf("cms: sign: %w", err)
		}
		sd.EncapContentInfo.EContent = asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: octets}
	}
	sdDER, err := asn1.Marshal(sd)
	if err != nil {
		return nil, fmt.Errorf("cms: sign: %w", err)
	}
	out, err := asn1.Marshal(contentInfo{ContentType: OIDSignedData,
		Content: asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: sdDER}})
	if err != nil {
		return nil, fmt.Errorf("cms: sign: %w", err)
	}
	return out, nil
}

// algorithms are the digest and signature algorithms for a public key.
func algorithms(pub crypto.PublicKey) (digest, signature pkix.AlgorithmIdentifier, err error) {
	switch pub.(type) {
	case ed25519.PublicKey:
		return pkix.AlgorithmIdentifier{Algorithm: oidSHA512}, pkix.AlgorithmIdentifier{Algorithm: oidEd25519}, nil
	case *ecdsa.PublicKey:
		return pkix.AlgorithmIdentifier{Algorithm: oidSHA256}, pkix.AlgorithmIdentifier{Algorithm: oidECDSAWithSHA256}, nil
	case *rsa.PublicKey:
		return pkix.AlgorithmIdentifier{Algorithm: oidSHA256},
			pkix.AlgorithmIdentifier{Algorithm: oidRSAWithSHA256, Parameters: asn1.NullRawValue}, nil
	}
	return digest, signature, fmt.Errorf("%w: key type %T (want Ed25519, ECDSA or RSA)", ErrUnsupported, pub)
}

// signBytes signs msg: Ed25519 signs it whole, ECDSA and RSA its hash.
func signBytes(signer crypto.Signer, h crypto.Hash, msg []byte) ([]byte, error) {
	if _, ok := signer.Public().(ed25519.PublicKey); ok {
		return signer.Sign(rand.Reader, msg, crypto.Hash(0))
	}
	d := h.New()
	d.Write(msg)
	return signer.Sign(rand.Reader, d.Sum(nil), h)
}

// signedAttributes is the content of the SET OF signed attributes, in
// DER order.
func signedAttributes(contentType asn1.ObjectIdentifier, digest []byte, cert *x509.Certificate, signingTime time.Time) ([]byte, error) {
	certHash := sha256.Sum256(cert.Raw)
	dirName := asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 4, IsCompound: true, Bytes: cert.RawIssuer}
	values := []struct {
		oid asn1.ObjectIdentifier
		v   any
	}{
		{oidAttrContentType, contentType},
		{oidAttrMessageDigest, digest},
		{oidAttrSigningCertV2, signingCertificateV2{Certs: []essCertIDv2{{CertHash: certHash[:],
			IssuerSerial: issuerSerial{Issuer: []asn1.RawValue{dirName}, Serial: cert.SerialNumber}}}}},
	}
	if !signingTime.IsZero() {
		values = append(values, struct {
			oid asn1.ObjectIdentifier
			v   any
		}{oidAttrSigningTime, signingTime.UTC().Truncate(time.Second)})
	}
	var attrs [][]byte
	for _, a := range values {
		v, err := asn1.Marshal(a.v)
		if err != nil {
			return nil, fmt.Errorf("cms: sign: attribute %v: %w", a.oid, err)
		}
		b, err := asn1.Marshal(attribute{Type: a.oid, Values: asn1.RawValue{Class: asn1.ClassUniversal, Tag: asn1.TagSet, IsCompound: true, Bytes: v}})
		if err != nil {
			return nil, fmt.Errorf("cms: sign: attribute %v: %w", a.oid, err)
		}
		attrs = append(attrs, b)
	}
	return setOf(attrs), nil
}

// setOf concatenates DER elements in the order DER requires of a SET OF.
func setOf(elems [][]byte) []byte {
	slices.SortFunc(elems, bytes.Compare)
	return bytes.Join(elems, nil)
}

func publicKeysEqual(a, b crypto.PublicKey) bool {
	k, ok := a.(interface{ Equal(crypto.PublicKey) bool })
	return ok && k.Equal(b)
}
