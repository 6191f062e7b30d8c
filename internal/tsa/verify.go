package tsa

import (
	"bytes"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/kuayang/kuayang/internal/cms"
)

// Verify checks that token is a timestamp token over digest (SHA-256)
// and returns what it says. The checks: the token is a SignedData with
// content id-ct-TSTInfo, its signature and signed attributes verify
// against the certificate it carries, that certificate may stamp time
// (extended key usage timeStamping), the TSTInfo's imprint is SHA-256
// and is digest. With roots, the certificate must also chain to them as
// of the time stamped (CodeUntrusted otherwise); with nil roots the
// authority is not judged, only the token's integrity.
//
// Errors are *Error with a Code* code; any input may be given.
func Verify(token, digest []byte, roots *x509.CertPool) (*Info, error) {
	signed, err := cms.Verify(token, nil)
	switch {
	case cms.IsMalformed(err):
		return nil, errorf(CodeMalformed, err, fmt.Sprintf("not a readable timestamp token: %v", err))
	case err != nil:
		return nil, errorf(CodeSignature, err, fmt.Sprintf("the token's signature does not verify: %v", err))
	}
	if !signed.ContentType.Equal(cms.OIDTSTInfo) {
		return nil, errorf(CodeMalformed, nil, fmt.Sprintf("the signed content is %v, not a TSTInfo", signed.ContentType))
	}
	var t tstInfo
	if rest, err := asn1.Unmarshal(signed.Content, &t); err != nil || len(rest) > 0 {
		return nil, errorf(CodeMalformed, err, "the token's TSTInfo cannot be read")
	}
	if t.Version != 1 || t.SerialNumber == nil {
		return nil, errorf(CodeMalformed, nil, fmt.Sprintf("TSTInfo version %d", t.Version))
	}
	if !t.MessageImprint.HashAlgorithm.Algorithm.Equal(oidSHA256) {
		return nil, errorf(CodeUnsupportedHash, nil, fmt.Sprintf("the token's imprint is made with %v, not SHA-256", t.MessageImprint.HashAlgorithm.Algorithm))
	}
	if !bytes.Equal(t.MessageImprint.HashedMessage, digest) {
		return nil, errorf(CodeImprintMismatch, nil, fmt.Sprintf("the token covers SHA-256 %x, not %x", t.MessageImprint.HashedMessage, digest))
	}
	if !slices.Contains(signed.Signer.ExtKeyUsage, x509.ExtKeyUsageTimeStamping) {
		return nil, errorf(CodeUntrusted, nil, fmt.Sprintf("the certificate that signed the token (%s) is not a timestamping certificate", signed.Signer.Subject))
	}
	info := &Info{GenTime: t.GenTime.UTC(), Serial: t.SerialNumber, Policy: t.Policy, Subject: signed.Signer.Subject.String(),
		HashAlgorithm: "sha256", Nonce: t.Nonce,
		Accuracy: time.Duration(t.Accuracy.Seconds)*time.Second + time.Duration(t.Accuracy.Millis)*time.Millisecond +
			time.Duration(t.Accuracy.Micros)*time.Microsecond}
	info.TSA = tsaName(t.TSA)
	if info.TSA == "" {
		info.TSA = info.Subject
	}
	if roots != nil {
		if err := cms.VerifyChain(signed.Signer, signed.Certificates, roots, info.GenTime, x509.ExtKeyUsageTimeStamping); err != nil {
			if errors.Is(err, cms.ErrUntrusted) {
				return nil, errorf(CodeUntrusted, err, fmt.Sprintf("the authority %s is not one the given roots vouch for: %v", info.TSA, err))
			}
			return nil, errorf(CodeUntrusted, err, err.Error())
		}
		info.Trusted = true
	}
	return info, nil
}

// tsaName is the TSTInfo's tsa field as text: a directory name, a DNS
// name or a URI; "" when absent or of another kind.
func tsaName(raw asn1.RawValue) string {
	var gn asn1.RawValue // the GeneralName inside [0] EXPLICIT
	if raw.FullBytes == nil {
		return ""
	}
	if _, err := asn1.Unmarshal(raw.Bytes, &gn); err != nil || gn.Class != asn1.ClassContextSpecific {
		return ""
	}
	switch gn.Tag {
	case 4: // directoryName [4] EXPLICIT Name
		var rdn pkix.RDNSequence
		if _, err := asn1.Unmarshal(gn.Bytes, &rdn); err != nil {
			return ""
		}
		var n pkix.Name
		n.FillFromRDNSequence(&rdn)
		return n.String()
	case 1, 2, 6: // rfc822Name, dNSName, uniformResourceIdentifier
		return string(gn.Bytes)
	}
	return ""
}
