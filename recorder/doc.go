// Package recorder will record sessions as evidence: a subscriber like any
// other that rebuilds frames from RTP, writes one WebM per participant per
// segment, hashes each segment as it is written, spools it locally and
// uploads it to the object store, then seals the session with a signed
// manifest. It is empty until the recording work lands; the media plane
// already forwards to any number of subscribers, which is all it will need.
package recorder
