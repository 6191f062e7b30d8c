package cms

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rsa"
	_ "crypto/sha1" // ESS signing-certificate (v1) of timestamp tokens
	_ "crypto/sha256"
	_ "crypto/sha512"
	"crypto/subtle"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"time"
)

// Signed is a SignedData whose signature verified.
type Signed struct {
	// ContentType is the eContentType: OIDData for a detached signature,
	// OIDTSTInfo for a timestamp token.
	ContentType asn1.ObjectIdentifier
	// Content is what was signed: the encapsulated content, or the
	// detached content the caller gave.
	Content []byte
	// Signer is the signer's certificate, found among Certificates.
	Signer *x509.Certificate
	// Certificates are all the certificates the SignedData carries.
	Certificates []*x509.Certificate
	// Digest is the digest algorithm of the message-digest attribute.
	Digest crypto.Hash
	// SigningTime is the signing-time attribute, zero when absent.
	SigningTime time.Time
}

// Verify parses a ContentInfo holding a SignedData with one signer (DER)
// and checks it: the message-digest attribute against the content (the
// encapsulated content, or detached when the SignedData has none; giving
// both is an error), the content-type attribute, the ESS
// signing-certificate attribute (v1 or v2) when present, and the
// signature over the DER of the signed attributes with the public key of
// the signer's certificate, which the SignedData must carry (found by
// issuer and serial number, or by subject key identifier). It does not
// check the certificate: see VerifyChain.
//
// Errors wrap ErrMalformed or ErrUnsupported (cannot be read), or
// ErrSignature (read, but does not verify). Any input may be given: it
// never panics.
func Verify(der, detached []byte) (*Signed, error) {
	var ci contentInfo
	rest, err := asn1.Unmarshal(der, &ci)
	if err != nil {
		return nil, fmt.Errorf("%w: ContentInfo: %v", ErrMalformed, err)
	}
	if len(rest) > 0 {
		return nil, fmt.Errorf("%w: %d bytes after the ContentInfo", ErrMalformed, len(rest))
	}
	if !ci.ContentType.Equal(OIDSignedData) {
		return nil, fmt.Errorf("%w: content type %v is not SignedData", ErrMalformed, ci.ContentType)
	}
	var sd signedData
	if rest, err := asn1.Unmarshal(ci.Content.Bytes, &sd); err != nil {
		return nil, fmt.Errorf("%w: SignedData: %v", ErrMalformed, err)
	} else if len(rest) > 0 {
		return nil, fmt.Errorf("%w: bytes after the SignedData", ErrMalformed)
	}
	out := &Signed{ContentType: sd.EncapContentInfo.EContentType}
	if out.Certificates, err = certificates(sd.Certificates); err != nil {
		return nil, err
	}
	if len(sd.SignerInfos) != 1 {
		return nil, fmt.Errorf("%w: %d signers (want one)", ErrUnsupported, len(sd.SignerInfos))
	}
	si := sd.SignerInfos[0]
	switch ec := sd.EncapContentInfo.EContent; {
	case ec.FullBytes != nil && detached != nil:
		return nil, fmt.Errorf("%w: content given, but the SignedData holds its own", ErrMalformed)
	case ec.FullBytes != nil:
		var octets asn1.RawValue
		if rest, err := asn1.Unmarshal(ec.Bytes, &octets); err != nil || len(rest) > 0 ||
			octets.Class != asn1.ClassUniversal || octets.Tag != asn1.TagOctetString || octets.IsCompound {
			return nil, fmt.Errorf("%w: encapsulated content is not a primitive OCTET STRING", ErrMalformed)
		}
		out.Content = octets.Bytes
	case detached != nil:
		out.Content = detached
	default:
		return nil, fmt.Errorf("%w: the signature is detached and no content was given", ErrMalformed)
	}
	if out.Signer, err = findSigner(si.SID, out.Certificates); err != nil {
		return nil, err
	}
	if out.Digest = HashOf(si.DigestAlgorithm.Algorithm); out.Digest == 0 || out.Digest == crypto.SHA1 {
		return nil, fmt.Errorf("%w: digest algorithm %v", ErrUnsupported, si.DigestAlgorithm.Algorithm)
	}
	signedMsg := out.Content
	if si.SignedAttrs.FullBytes != nil {
		if signedMsg, err = checkAttributes(si.SignedAttrs, out); err != nil {
			return nil, err
		}
	} else if !out.ContentType.Equal(OIDData) {
		return nil, fmt.Errorf("%w: content of type %v without signed attributes", ErrMalformed, out.ContentType)
	}
	if err := checkSignature(out.Signer.PublicKey, si, out.Digest, signedMsg); err != nil {
		return nil, err
	}
	return out, nil
}

// VerifyChain checks that cert chains to roots at time at (e.g. the time
// a timestamp was made: certificates expire, signatures made before stay
// good), with the other certificates as intermediates, and that it may be
// used for one of usages (any when empty). The error wraps ErrUntrusted.
func VerifyChain(cert *x509.Certificate, others []*x509.Certificate, roots *x509.CertPool, at time.Time, usages ...x509.ExtKeyUsage) error {
	inter := x509.NewCertPool()
	for _, c := range others {
		if !c.Equal(cert) {
			inter.AddCert(c)
		}
	}
	if len(usages) == 0 {
		usages = []x509.ExtKeyUsage{x509.ExtKeyUsageAny}
	}
	_, err := cert.Verify(x509.VerifyOptions{Roots: roots, Intermediates: inter, CurrentTime: at, KeyUsages: usages})
	if err != nil {
		return fmt.Errorf("%w: %v", ErrUntrusted, err)
	}
	return nil
}

// certificates parses the certificates of a SignedData; other kinds of
// CertificateChoices (attribute certificates) are skipped.
func certificates(raw asn1.RawValue) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	rest := raw.Bytes
	for len(rest) > 0 {
		var c asn1.RawValue
		var err error
		if rest, err = asn1.Unmarshal(rest, &c); err != nil {
			return nil, fmt.Errorf("%w: certificates: %v", ErrMalformed, err)
		}
		if c.Class != asn1.ClassUniversal || c.Tag != asn1.TagSequence {
			continue
		}
		cert, err := x509.ParseCertificate(c.FullBytes)
		if err != nil {
			return nil, fmt.Errorf("%w: certificate: %v", ErrMalformed, err)
		}
		out = append(out, cert)
	}
	return out, nil
}

// findSigner finds the certificate a SignerIdentifier names.
func findSigner(sid asn1.RawValue, certs []*x509.Certificate) (*x509.Certificate, error) {
	switch {
	case sid.Class == asn1.ClassUniversal && sid.Tag == asn1.TagSequence:
		var ias issuerAndSerial
		if rest, err := asn1.Unmarshal(sid.FullBytes, &ias); err != nil || len(rest) > 0 {
			return nil, fmt.Errorf("%w: signer identifier", ErrMalformed)
		}
		for _, c := range certs {
			if c.SerialNumber.Cmp(ias.Serial) == 0 && bytes.Equal(c.RawIssuer, ias.Issuer.FullBytes) {
				return c, nil
			}
		}
	case sid.Class == asn1.ClassContextSpecific && sid.Tag == 0 && !sid.IsCompound:
		for _, c := range certs {
			if len(c.SubjectKeyId) > 0 && bytes.Equal(c.SubjectKeyId, sid.Bytes) {
				return c, nil
			}
		}
	default:
		return nil, fmt.Errorf("%w: signer identifier", ErrMalformed)
	}
	return nil, fmt.Errorf("%w: the signer's certificate is not in the SignedData", ErrSignature)
}

// checkAttributes checks the signed attributes against the content and
// the signer, and returns what the signature covers: their DER as a SET
// OF.
func checkAttributes(raw asn1.RawValue, s *Signed) ([]byte, error) {
	set := append([]byte(nil), raw.FullBytes...)
	set[0] = 0x31 // [0] IMPLICIT → SET (both constructed, low tag)
	var attrs []attribute
	if rest, err := asn1.UnmarshalWithParams(set, &attrs, "set"); err != nil || len(rest) > 0 {
		return nil, fmt.Errorf("%w: signed attributes: %v", ErrMalformed, err)
	}
	var haveType, haveDigest bool
	for _, a := range attrs {
		v := a.Values.Bytes // one value expected: the first
		switch {
		case a.Type.Equal(oidAttrContentType):
			var ct asn1.ObjectIdentifier
			if _, err := asn1.Unmarshal(v, &ct); err != nil {
				return nil, fmt.Errorf("%w: content-type attribute: %v", ErrMalformed, err)
			}
			if !ct.Equal(s.ContentType) {
				return nil, fmt.Errorf("%w: the content-type attribute (%v) is not the content's (%v)", ErrSignature, ct, s.ContentType)
			}
			haveType = true
		case a.Type.Equal(oidAttrMessageDigest):
			var md []byte
			if _, err := asn1.Unmarshal(v, &md); err != nil {
				return nil, fmt.Errorf("%w: message-digest attribute: %v", ErrMalformed, err)
			}
			h := s.Digest.New()
			h.Write(s.Content)
			if subtle.ConstantTimeCompare(md, h.Sum(nil)) != 1 {
				return nil, fmt.Errorf("%w: the message-digest attribute does not match the content", ErrSignature)
			}
			haveDigest = true
		case a.Type.Equal(oidAttrSigningTime):
			var t time.Time
			if _, err := asn1.Unmarshal(v, &t); err != nil {
				return nil, fmt.Errorf("%w: signing-time attribute: %v", ErrMalformed, err)
			}
			s.SigningTime = t
		case a.Type.Equal(oidAttrSigningCertV2):
			if err := checkSigningCert(v, s.Signer, true); err != nil {
				return nil, err
			}
		case a.Type.Equal(oidAttrSigningCert):
			if err := checkSigningCert(v, s.Signer, false); err != nil {
				return nil, err
			}
		}
	}
	if !haveType || !haveDigest {
		return nil, fmt.Errorf("%w: signed attributes without content-type or message-digest", ErrMalformed)
	}
	return set, nil
}

// checkSigningCert checks that the first certificate an ESS
// signing-certificate attribute names (v2: RFC 5035, v1: RFC 2634) is the
// signer's.
func checkSigningCert(v []byte, signer *x509.Certificate, v2 bool) error {
	var sc struct {
		Certs []asn1.RawValue
		Rest  asn1.RawValue `asn1:"optional"`
	}
	if _, err := asn1.Unmarshal(v, &sc); err != nil || len(sc.Certs) == 0 {
		return fmt.Errorf("%w: signing-certificate attribute", ErrMalformed)
	}
	var id struct {
		Raw  asn1.RawContent
		Hash asn1.RawValue
		More asn1.RawValue `asn1:"optional"`
		Last asn1.RawValue `asn1:"optional"`
	}
	if _, err := asn1.Unmarshal(sc.Certs[0].FullBytes, &id); err != nil {
		return fmt.Errorf("%w: signing-certificate attribute: %v", ErrMalformed, err)
	}
	h, certHash := crypto.SHA1, id.Hash
	if v2 {
		h = crypto.SHA256
		if id.Hash.Tag == asn1.TagSequence { // hashAlgorithm given, not the default
			var alg struct {
				Algorithm asn1.ObjectIdentifier
				Params    asn1.RawValue `asn1:"optional"`
			}
			if _, err := asn1.Unmarshal(id.Hash.FullBytes, &alg); err != nil {
				return fmt.Errorf("%w: signing-certificate-v2 hash algorithm", ErrMalformed)
			}
			if h = HashOf(alg.Algorithm); h == 0 {
				return fmt.Errorf("%w: signing-certificate-v2 hash algorithm %v", ErrUnsupported, alg.Algorithm)
			}
			certHash = id.More
		}
	}
	if certHash.Class != asn1.ClassUniversal || certHash.Tag != asn1.TagOctetString {
		return fmt.Errorf("%w: signing-certificate attribute without a certificate hash", ErrMalformed)
	}
	d := h.New()
	d.Write(signer.Raw)
	if !bytes.Equal(certHash.Bytes, d.Sum(nil)) {
		return fmt.Errorf("%w: the signing-certificate attribute names another certificate than the signer's", ErrSignature)
	}
	return nil
}

// checkSignature checks the signature over msg with pub.
func checkSignature(pub crypto.PublicKey, si signerInfo, digest crypto.Hash, msg []byte) error {
	alg := si.SignatureAlgorithm.Algorithm
	bad := func() error {
		return fmt.Errorf("%w: the signature is not the signer's over the signed attributes", ErrSignature)
	}
	hashed := func(h crypto.Hash) []byte {
		d := h.New()
		d.Write(msg)
		return d.Sum(nil)
	}
	switch pub := pub.(type) {
	case ed25519.PublicKey:
		if !alg.Equal(oidEd25519) {
			return fmt.Errorf("%w: signature algorithm %v with an Ed25519 key", ErrUnsupported, alg)
		}
		if !ed25519.Verify(pub, msg, si.Signature) {
			return bad()
		}
	case *ecdsa.PublicKey:
		h := digest
		switch {
		case alg.Equal(oidECDSAWithSHA256):
			h = crypto.SHA256
		case alg.Equal(oidECDSAWithSHA384):
			h = crypto.SHA384
		case alg.Equal(oidECDSAWithSHA512):
			h = crypto.SHA512
		case alg.Equal(oidECPublicKey):
		default:
			return fmt.Errorf("%w: signature algorithm %v with an ECDSA key", ErrUnsupported, alg)
		}
		if !ecdsa.VerifyASN1(pub, hashed(h), si.Signature) {
			return bad()
		}
	case *rsa.PublicKey:
		h := digest
		switch {
		case alg.Equal(oidRSAWithSHA256):
			h = crypto.SHA256
		case alg.Equal(oidRSAWithSHA384):
			h = crypto.SHA384
		case alg.Equal(oidRSAWithSHA512):
			h = crypto.SHA512
		case alg.Equal(oidRSA):
		default:
			return fmt.Errorf("%w: signature algorithm %v with an RSA key (PKCS #1 v1.5 only)", ErrUnsupported, alg)
		}
		if rsa.VerifyPKCS1v15(pub, h, hashed(h), si.Signature) != nil {
			return bad()
		}
	default:
		return fmt.Errorf("%w: signer key type %T", ErrUnsupported, pub)
	}
	return nil
}

// IsMalformed reports whether err says the input could not be read (as
// opposed to read but not verifying).
func IsMalformed(err error) bool {
	return errors.Is(err, ErrMalformed) || errors.Is(err, ErrUnsupported)
}
