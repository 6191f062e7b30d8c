package node

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/sha512"
	"crypto/x509"
	"encoding/asn1"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"time"
)

// signDetached makes a detached CMS SignedData (RFC 5652) over content
// with signer and its certificate, with the signed attributes content
// type, signing time and message digest: Ed25519 (RFC 8419: SHA-512
// message digest, pure EdDSA over the attributes) or ECDSA with SHA-256.
// No certificate chain, no unsigned attributes: what a PAdES signature of
// the node's PDFs needs, and no more.
func signDetached(content []byte, signer crypto.Signer, cert *x509.Certificate, now time.Time) ([]byte, error) {
	if cert == nil || signer == nil {
		return nil, errors.New("node: CMS: no signer or certificate")
	}
	var (
		oidData          = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 1}
		oidSignedData    = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 2}
		oidContentType   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 3}
		oidMessageDigest = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 4}
		oidSigningTime   = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 9, 5}
		oidSHA512        = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 3}
		oidSHA256        = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}
		oidEd25519       = asn1.ObjectIdentifier{1, 3, 101, 112}
		oidECDSASHA256   = asn1.ObjectIdentifier{1, 2, 840, 10045, 4, 3, 2}
	)
	var digest []byte
	var digestAlg, sigAlg asn1.ObjectIdentifier
	switch signer.Public().(type) {
	case ed25519.PublicKey:
		d := sha512.Sum512(content)
		digest, digestAlg, sigAlg = d[:], oidSHA512, oidEd25519
	case *ecdsa.PublicKey:
		d := sha256.Sum256(content)
		digest, digestAlg, sigAlg = d[:], oidSHA256, oidECDSASHA256
	default:
		return nil, fmt.Errorf("node: CMS: a %T key is not supported", signer.Public())
	}
	attr := func(oid asn1.ObjectIdentifier, v any) []byte {
		val, _ := asn1.Marshal(v)
		return tlv(0x30, mustMarshal(oid), tlv(0x31, val))
	}
	attrs := [][]byte{
		attr(oidContentType, oidData),
		attr(oidSigningTime, now.UTC()),
		attr(oidMessageDigest, digest),
	}
	slices.SortFunc(attrs, bytes.Compare) // DER orders a SET OF by encoding
	signed := tlv(0x31, attrs...)
	var sig []byte
	var err error
	if sigAlg.Equal(oidEd25519) {
		sig, err = signer.Sign(nil, signed, crypto.Hash(0)) // pure EdDSA over the DER of the attributes
	} else {
		h := sha256.Sum256(signed)
		sig, err = signer.Sign(rand.Reader, h[:], crypto.SHA256)
	}
	if err != nil {
		return nil, err
	}
	alg := func(oid asn1.ObjectIdentifier) []byte { return tlv(0x30, mustMarshal(oid)) }
	signerInfo := tlv(0x30,
		mustMarshal(1),
		tlv(0x30, cert.RawIssuer, mustMarshal(new(big.Int).Set(cert.SerialNumber))),
		alg(digestAlg),
		tlv(0xa0, attrs...), // [0] IMPLICIT
		alg(sigAlg),
		tlv(0x04, sig),
	)
	signedData := tlv(0x30,
		mustMarshal(1),
		tlv(0x31, alg(digestAlg)),
		tlv(0x30, mustMarshal(oidData)),
		tlv(0xa0, cert.Raw),
		tlv(0x31, signerInfo),
	)
	return tlv(0x30, mustMarshal(oidSignedData), tlv(0xa0, signedData)), nil
}

func mustMarshal(v any) []byte {
	b, err := asn1.Marshal(v)
	if err != nil {
		return nil // only constants and checked values are marshalled
	}
	return b
}

// tlv is a DER element of tag with the parts as its content.
func tlv(tag byte, parts ...[]byte) []byte {
	n := 0
	for _, p := range parts {
		n += len(p)
	}
	out := []byte{tag}
	switch {
	case n < 0x80:
		out = append(out, byte(n))
	case n < 0x100:
		out = append(out, 0x81, byte(n))
	case n < 0x10000:
		out = append(out, 0x82, byte(n>>8), byte(n))
	default:
		out = append(out, 0x83, byte(n>>16), byte(n>>8), byte(n))
	}
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}
