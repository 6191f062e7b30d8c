package sqlbase

import (
	"encoding/json"
	"fmt"
	"time"
)

// EncodeCodecs is the stored form of a segment's codecs: "" for none (nil
// or empty), else a JSON array of the strings, which keeps any of them,
// commas included, as they are.
func EncodeCodecs(codecs []string) string {
	if len(codecs) == 0 {
		return ""
	}
	b, _ := json.Marshal(codecs) // a []string always marshals
	return string(b)
}

// DecodeCodecs parses the stored form of a segment's codecs. None ("" or
// an empty array) decodes to nil.
func DecodeCodecs(s string) ([]string, error) {
	if s == "" {
		return nil, nil
	}
	var codecs []string
	if err := json.Unmarshal([]byte(s), &codecs); err != nil {
		return nil, fmt.Errorf("codecs column: %w", err)
	}
	if len(codecs) == 0 {
		return nil, nil
	}
	return codecs, nil
}

// Micros is the stored form of a media offset: whole microseconds
// (nanoseconds are truncated toward zero).
func Micros(d time.Duration) int64 {
	return d.Microseconds()
}

// FromMicros is the media offset stored as us microseconds.
func FromMicros(us int64) time.Duration {
	return time.Duration(us) * time.Microsecond
}
