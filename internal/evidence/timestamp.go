package evidence

import (
	"crypto/sha256"
	"crypto/x509"
	"fmt"
	"time"

	"github.com/kuayang/kuayang/internal/tsa"
)

// TimestampFile is the bundle's optional timestamp token: an RFC 3161
// TimeStampToken (DER) over the SHA-256 of manifest.json, from the
// timestamp authority of the node that sealed it.
const TimestampFile = "manifest.tsr"

// maxTimestamp bounds the size of manifest.tsr read whole.
const maxTimestamp = 64 << 10

// Timestamp is what a bundle's verified timestamp token says.
type Timestamp struct {
	Time time.Time // when the authority stamped manifest.json
	// Authority names the timestamp authority (the token's name for
	// it, else its certificate's subject).
	Authority string
	Subject   string // of the certificate that signed the token
	Serial    string // the token's serial number, decimal
	Policy    string // the authority's policy, dotted
	// Trusted is true when VerifyOptions.TSARoots were given and the
	// authority's certificate chains to them; otherwise the token's
	// integrity is checked but not who the authority is.
	Trusted bool
}

// VerifyTimestamp checks a timestamp token (manifest.tsr) against the
// manifest it should cover, as Verify does: the error is a *Problem
// (BadTimestamp, UntrustedTimestamp with roots).
func VerifyTimestamp(token, manifest []byte, roots *x509.CertPool) (*Timestamp, error) {
	t, p := checkTimestamp(token, manifest, roots)
	if p != nil {
		return nil, p
	}
	return t, nil
}

// checkTimestamp checks that token covers manifest (its SHA-256) and is
// well signed, and chains to roots when given.
func checkTimestamp(token, manifest []byte, roots *x509.CertPool) (*Timestamp, *Problem) {
	digest := sha256.Sum256(manifest)
	return checkTimestampOf(token, digest[:], roots, TimestampFile, ManifestFile)
}

// checkTimestampOf checks that token, the file tokenName, covers digest,
// the SHA-256 of the file name.
func checkTimestampOf(token, digest []byte, roots *x509.CertPool, tokenName, name string) (*Timestamp, *Problem) {
	info, err := tsa.Verify(token, digest, roots)
	if err != nil {
		kind := BadTimestamp
		if tsa.IsCode(err, tsa.CodeUntrusted) {
			kind = UntrustedTimestamp
		}
		return nil, &Problem{kind, fmt.Sprintf("%s is not a valid timestamp of %s: %v", tokenName, name, err)}
	}
	return &Timestamp{Time: info.GenTime, Authority: info.TSA, Subject: info.Subject, Serial: info.Serial.String(),
		Policy: info.Policy.String(), Trusted: info.Trusted}, nil
}
