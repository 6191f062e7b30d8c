// Package audit is the append-only audit log: who did what to which case or
// session, from where, when. Every entry carries the SHA-256 of the entry
// before it, so a deleted, inserted or altered row breaks the chain and
// Verify names the first entry that no longer fits.
//
// The package holds the entry, its hash and the check; the store keeps the
// rows and appends them one at a time under a lock.
package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// Actor kinds.
const (
	ActorAccount     = "account"     // a staff member
	ActorParticipant = "participant" // a party or interpreter by invite
	ActorSystem      = "system"      // the node itself
	ActorAnonymous   = "anonymous"   // e.g. a failed login
)

// Entry is one audit record.
type Entry struct {
	Seq       int64     // 1, 2, 3, … assigned by the store
	Time      time.Time // UTC, microsecond precision (Seal truncates)
	ActorKind string
	ActorID   string
	Action    string // e.g. login, case.create, invite.create, session.join
	OrgID     string
	CaseID    string
	SessionID string
	IP        string
	Detail    string // JSON object with action-specific facts, or ""
	PrevHash  []byte // Hash of entry Seq-1; 32 zero bytes for the first
	Hash      []byte // SHA-256 over PrevHash and every field above
}

// Genesis is the PrevHash of the first entry.
var Genesis = make([]byte, sha256.Size)

// Seal sets e's Seq, PrevHash and Hash to follow prev (nil for the first
// entry) and normalizes its time.
func Seal(prev *Entry, e *Entry) {
	e.Time = e.Time.UTC().Truncate(time.Microsecond)
	if prev == nil {
		e.Seq, e.PrevHash = 1, Genesis
	} else {
		e.Seq, e.PrevHash = prev.Seq+1, prev.Hash
	}
	e.Hash = e.Sum()
}

// Sum computes the hash e should carry: SHA-256 over a length-prefixed
// encoding of every field but Hash.
func (e *Entry) Sum() []byte {
	var b bytes.Buffer
	put := func(s string) {
		var n [4]byte
		binary.BigEndian.PutUint32(n[:], uint32(len(s)))
		b.Write(n[:])
		b.WriteString(s)
	}
	b.WriteString("kuayang-audit-v1\x00")
	put(string(e.PrevHash))
	var seq [8]byte
	binary.BigEndian.PutUint64(seq[:], uint64(e.Seq))
	b.Write(seq[:])
	put(e.Time.UTC().Format("2006-01-02T15:04:05.000000Z"))
	for _, s := range []string{e.ActorKind, e.ActorID, e.Action, e.OrgID, e.CaseID, e.SessionID, e.IP, e.Detail} {
		put(s)
	}
	h := sha256.Sum256(b.Bytes())
	return h[:]
}

// ErrBroken is wrapped by the error of Verify and Check.
var ErrBroken = errors.New("audit: chain broken")

// Checker verifies a chain fed to it in Seq order, one entry at a time, so
// that a long log is checked without holding it in memory.
type Checker struct {
	prev  *Entry
	count int64
}

// Check verifies the next entry. The error names the entry and what is
// wrong with it.
func (c *Checker) Check(e *Entry) error {
	wantSeq, wantPrev := int64(1), Genesis
	if c.prev != nil {
		wantSeq, wantPrev = c.prev.Seq+1, c.prev.Hash
	}
	switch {
	case e.Seq != wantSeq:
		return fmt.Errorf("%w at entry %d: expected entry %d (an entry is missing or out of order)", ErrBroken, e.Seq, wantSeq)
	case !bytes.Equal(e.PrevHash, wantPrev):
		return fmt.Errorf("%w at entry %d: it does not follow entry %d (the previous entry was altered or replaced)", ErrBroken, e.Seq, e.Seq-1)
	case !bytes.Equal(e.Hash, e.Sum()):
		return fmt.Errorf("%w at entry %d: its content does not match its hash (the entry was altered)", ErrBroken, e.Seq)
	}
	c.prev = e
	c.count++
	return nil
}

// Count is the number of entries checked so far.
func (c *Checker) Count() int64 { return c.count }

// Last is the last entry checked, or nil.
func (c *Checker) Last() *Entry { return c.prev }

// Verify checks a whole chain given in Seq order.
func Verify(entries []*Entry) error {
	var c Checker
	for _, e := range entries {
		if err := c.Check(e); err != nil {
			return err
		}
	}
	return nil
}

// Filter selects entries for listing.
type Filter struct {
	OrgID     string // required by the API; empty means all (the verifier)
	CaseID    string
	SessionID string
	AfterSeq  int64 // entries with Seq > AfterSeq
	Limit     int   // at most this many; 0 means 1000
	// Actions, when not empty, keeps the entries of these actions only.
	Actions []string
}

// AccessActions are the actions that record someone looking at or taking
// away records and evidence: what a clerk reviews to know who accessed a
// case. Changes (case.create, invite.create, …) and the recording's own
// events (recording.start, recording.sealed, …) are not among them.
var AccessActions = []string{
	"case.view",
	"recording.view", "recording.play", "recording.timeline", "recording.verify",
	"recording.certificate", "recording.export",
	"audit.view", "audit.export",
	"settlement.download",
	"identity.image_viewed",
}
