// Package tsa gets and checks trusted timestamps (RFC 3161): a timestamp
// authority signs that a SHA-256 digest existed at a time, and the token
// it returns proves it to anyone who trusts the authority, offline and
// with standard tools (openssl ts -verify).
//
// Client asks an authority for tokens; Verify checks a token against a
// digest. Other parts of the node that want their documents stamped take
// a Stamper, which a *Client is.
package tsa

import (
	"context"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"fmt"
	"math/big"
	"os"
	"time"
)

// Stamper gets a timestamp token over a SHA-256 digest: the DER of the
// TimeStampToken (a CMS ContentInfo), to keep beside the document it
// covers. *Client implements it.
type Stamper interface {
	Stamp(ctx context.Context, sha256Digest []byte) ([]byte, error)
}

// The stable codes of Error.
const (
	// Errors of a token (Verify).
	CodeMalformed       = "token_malformed"        // not a timestamp token this package can read
	CodeSignature       = "token_signature"        // the token's signature or its digests do not verify
	CodeImprintMismatch = "token_imprint_mismatch" // the token covers another digest
	CodeUnsupportedHash = "token_unsupported_hash" // the token's imprint is not SHA-256
	CodeUntrusted       = "token_untrusted"        // well signed, but not by an authority the roots vouch for
	// Errors of asking an authority (Client.Stamp).
	CodeUnavailable   = "tsa_unavailable"    // no answer: network error, timeout, HTTP error
	CodeRejected      = "tsa_rejected"       // the authority answered with a status other than granted
	CodeBadResponse   = "tsa_bad_response"   // the answer is not a readable TimeStampResp
	CodeNonceMismatch = "tsa_nonce_mismatch" // the token answers another request
	CodeBadRequest    = "tsa_bad_request"    // the digest given is not a SHA-256 digest
)

// Error is what goes wrong, with a stable code.
type Error struct {
	Code   string
	Detail string
	Err    error // the cause, if any
}

func (e *Error) Error() string { return "tsa: " + e.Code + ": " + e.Detail }
func (e *Error) Unwrap() error { return e.Err }

func errorf(code string, cause error, detail string) *Error {
	return &Error{Code: code, Detail: detail, Err: cause}
}

// Info is what a verified token says.
type Info struct {
	GenTime time.Time // when the authority stamped
	// Accuracy is the authority's claimed accuracy of GenTime, 0 when
	// it states none.
	Accuracy time.Duration
	Serial   *big.Int
	Policy   asn1.ObjectIdentifier
	// TSA names the authority: the name in the token, else its
	// certificate's subject.
	TSA string
	// Subject is the subject of the certificate that signed the token.
	Subject       string
	HashAlgorithm string // "sha256"
	Nonce         *big.Int
	// Trusted is true when Verify was given roots and the certificate
	// chains to them.
	Trusted bool
}

// The ASN.1 structures of RFC 3161.

var oidSHA256 = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 2, 1}

type messageImprint struct {
	HashAlgorithm pkix.AlgorithmIdentifier
	HashedMessage []byte
}

type timeStampReq struct {
	Version        int
	MessageImprint messageImprint
	ReqPolicy      asn1.ObjectIdentifier `asn1:"optional"`
	Nonce          *big.Int              `asn1:"optional"`
	CertReq        bool                  `asn1:"optional"`
	Extensions     asn1.RawValue         `asn1:"optional,tag:0"`
}

type pkiStatusInfo struct {
	Status       int
	StatusString []asn1.RawValue `asn1:"optional"` // PKIFreeText: UTF8Strings
	FailInfo     asn1.BitString  `asn1:"optional"`
}

type timeStampResp struct {
	Status         pkiStatusInfo
	TimeStampToken asn1.RawValue `asn1:"optional"`
}

type accuracy struct {
	Seconds int `asn1:"optional"`
	Millis  int `asn1:"optional,tag:0"`
	Micros  int `asn1:"optional,tag:1"`
}

type tstInfo struct {
	Version        int
	Policy         asn1.ObjectIdentifier
	MessageImprint messageImprint
	SerialNumber   *big.Int
	GenTime        time.Time     `asn1:"generalized"`
	Accuracy       accuracy      `asn1:"optional"`
	Ordering       bool          `asn1:"optional"`
	Nonce          *big.Int      `asn1:"optional"`
	TSA            asn1.RawValue `asn1:"optional,tag:0"` // [0] EXPLICIT GeneralName
	Extensions     asn1.RawValue `asn1:"optional,tag:1"`
}

// TimeStampReq, TimeStampResp and TSTInfo are exported for the test
// authority (tsatest), which must answer as an authority does.

// Request is a decoded TimeStampReq.
type Request struct {
	Digest  []byte // the SHA-256 imprint
	Nonce   *big.Int
	CertReq bool
	Policy  asn1.ObjectIdentifier
}

// ParseRequest decodes a TimeStampReq with a SHA-256 imprint.
func ParseRequest(der []byte) (*Request, error) {
	var req timeStampReq
	if rest, err := asn1.Unmarshal(der, &req); err != nil || len(rest) > 0 {
		return nil, errorf(CodeBadRequest, err, "not a TimeStampReq")
	}
	if !req.MessageImprint.HashAlgorithm.Algorithm.Equal(oidSHA256) || len(req.MessageImprint.HashedMessage) != 32 {
		return nil, errorf(CodeUnsupportedHash, nil, "the imprint is not a SHA-256 digest")
	}
	return &Request{Digest: req.MessageImprint.HashedMessage, Nonce: req.Nonce, CertReq: req.CertReq, Policy: req.ReqPolicy}, nil
}

// TSTInfo is the content an authority signs: see EncodeTSTInfo.
type TSTInfo struct {
	Policy   asn1.ObjectIdentifier
	Digest   []byte // SHA-256
	Serial   *big.Int
	GenTime  time.Time
	Accuracy time.Duration // whole milliseconds; 0: none stated
	Nonce    *big.Int      // nil: none
	// Name is the DER of the authority's name (its certificate's
	// RawSubject) for the tsa field; nil leaves it out.
	Name []byte
}

// EncodeTSTInfo is the DER of a TSTInfo, for an authority to sign with
// cms.SignEncapsulated under cms.OIDTSTInfo.
func EncodeTSTInfo(t TSTInfo) ([]byte, error) {
	v := tstInfo{Version: 1, Policy: t.Policy, SerialNumber: t.Serial, GenTime: t.GenTime.UTC().Truncate(time.Second), Nonce: t.Nonce,
		MessageImprint: messageImprint{HashAlgorithm: pkix.AlgorithmIdentifier{Algorithm: oidSHA256}, HashedMessage: t.Digest}}
	if t.Accuracy > 0 {
		v.Accuracy = accuracy{Seconds: int(t.Accuracy / time.Second), Millis: int(t.Accuracy % time.Second / time.Millisecond)}
	}
	if t.Name != nil {
		gn, err := asn1.Marshal(asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 4, IsCompound: true, Bytes: t.Name})
		if err != nil {
			return nil, err
		}
		v.TSA = asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: gn}
	}
	return asn1.Marshal(v)
}

// The PKIStatus values.
const (
	StatusGranted                = 0
	StatusGrantedWithMods        = 1
	StatusRejection              = 2
	StatusWaiting                = 3
	StatusRevocationWarning      = 4
	StatusRevocationNotification = 5
)

// EncodeResponse is the DER of a TimeStampResp: a status, its text and
// failure bit (-1: none), and the token when granted.
func EncodeResponse(status int, text string, failBit int, token []byte) ([]byte, error) {
	r := timeStampResp{Status: pkiStatusInfo{Status: status}}
	if text != "" {
		r.Status.StatusString = []asn1.RawValue{{Tag: asn1.TagUTF8String, Bytes: []byte(text)}}
	}
	if failBit >= 0 {
		b := make([]byte, failBit/8+1)
		b[failBit/8] = 0x80 >> (failBit % 8)
		r.Status.FailInfo = asn1.BitString{Bytes: b, BitLength: failBit + 1}
	}
	if token != nil {
		r.TimeStampToken = asn1.RawValue{FullBytes: token}
	}
	return asn1.Marshal(r)
}

// LoadRoots reads a PEM file of trusted authorities' root certificates.
func LoadRoots(path string) (*x509.CertPool, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("tsa: roots: %w", err)
	}
	pool := x509.NewCertPool()
	if !pool.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("tsa: roots: %s holds no PEM certificate", path)
	}
	return pool, nil
}
