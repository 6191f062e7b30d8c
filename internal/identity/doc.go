// Package identity verifies the identity of a participant in a session:
// the images they capture (an identity document and liveness frames of
// their face) are checked (Sniff), encrypted at rest (Keyring), shown to
// the presider and, when configured, sent to an external face-verification
// service (HTTPVerifier). The presider's decision is final (Manual).
//
// The MRZ of the document is parsed and validated by package mrz.
package identity
