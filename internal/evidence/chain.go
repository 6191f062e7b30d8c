package evidence

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
)

// chainDomain starts the segment chain.
const chainDomain = "kuayang-segment-chain/1"

// Chain links segs, which must be in chain order (by WallStart, then
// ParticipantID, then Index; Manifest.Encode sorts them), and sets each
// segment's Chain:
//
//	chain_0 = SHA-256("kuayang-segment-chain/1" || 0x00 || canonical(seg_0))
//	chain_i = SHA-256(chain_{i-1} || canonical(seg_i))
//
// where chain_{i-1} is the 32 raw bytes and canonical(seg) is the
// segment's JSON object as it appears in manifest.json, but compact (no
// whitespace, no HTML escaping) and with "chain":"". It returns the head,
// the hex of the last chain value, or of SHA-256("kuayang-segment-chain/1")
// when there are no segments; that is Manifest.ChainHead.
//
// A segment entry deleted, inserted, moved or altered changes every chain
// value from its position on.
func Chain(segs []Segment) (string, error) {
	prev := emptyHead()
	for i := range segs {
		sum, err := chainNext(prev, i, segs[i])
		if err != nil {
			return "", err
		}
		segs[i].Chain = hex.EncodeToString(sum)
		prev = sum
	}
	return hex.EncodeToString(prev), nil
}

// CheckChain recomputes the chain of segs and compares it with each
// segment's Chain and with head. The error, a *Problem of kind
// ChainBroken, names the first segment entry that does not fit.
func CheckChain(segs []Segment, head string) error {
	prev := emptyHead()
	for i, s := range segs {
		sum, err := chainNext(prev, i, s)
		if err != nil {
			return &Problem{ChainBroken, err.Error()}
		}
		if s.Chain != hex.EncodeToString(sum) {
			return &Problem{ChainBroken, fmt.Sprintf("the segment chain breaks at segment entry %d (participant %s, index %d, media/%s): an entry at or before it was altered, removed, inserted or moved", i, s.ParticipantID, s.Index, s.Key)}
		}
		prev = sum
	}
	if head != hex.EncodeToString(prev) {
		return &Problem{ChainBroken, fmt.Sprintf("chain_head does not match the chain of the %d segment entries: the last entries were removed or the head was altered", len(segs))}
	}
	return nil
}

// emptyHead is the head of an empty chain.
func emptyHead() []byte {
	h := sha256.Sum256([]byte(chainDomain))
	return h[:]
}

// chainNext is chain_i given chain_{i-1} (ignored for i = 0).
func chainNext(prev []byte, i int, s Segment) ([]byte, error) {
	b, err := segmentBytes(s)
	if err != nil {
		return nil, fmt.Errorf("segment entry %d (%s): %w", i, s.Key, err)
	}
	h := sha256.New()
	if i == 0 {
		h.Write([]byte(chainDomain))
		h.Write([]byte{0})
	} else {
		h.Write(prev)
	}
	h.Write(b)
	return h.Sum(nil), nil
}

// segmentBytes is the canonical encoding of s for the chain.
func segmentBytes(s Segment) ([]byte, error) {
	s.Chain = ""
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
