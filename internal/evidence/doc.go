// Package evidence turns a recorded session into evidence that can be
// checked years later by someone who trusts neither the platform nor the
// people who ran it: a court clerk, a judge, the other party's lawyer.
//
// When a session ends, the node writes a Manifest: who took part and when
// they were present, every media segment with its size and SHA-256 (a
// participant's camera and microphone, and, as a stream of its own marked
// "stream": "screen", a screen they shared), the gaps in the recording,
// the recording events, and a reference to the audit log. The segments are linked by a hash chain (Chain), the
// manifest is encoded canonically (Manifest.Encode) and signed with the
// node's Ed25519 key (Key). WriteBundle streams everything into one zip
// file — manifest, signature, public key, the audit entries about the
// session, the media and a README for a human — and Verify checks such a
// bundle (zipped or extracted, or any Source, such as the objects a node
// stores) and names the first thing that does not match. BundleSize tells
// the size of a bundle before it is written; WriteCertificate prints a
// sealed manifest as a page for people.
//
// A segment recorded in a recorded private room (caucus) carries the
// room's id ("room"): its media is sealed to the session's mediator. A
// bundle written for anyone else (BundleSource.WithSealed false) leaves
// those files out; Verify reports them as withheld (Report.Withheld), not
// missing, and still checks the signature and chain over their entries.
//
// What a successful verification proves: the media files and the audit
// extract are exactly those the holder of the signing key sealed. Whether
// that key is the organization's is a separate question, answered by
// comparing the key id with the one the organization publishes
// (VerifyOptions.PublicKey, `kuayang verify --key`).
package evidence
