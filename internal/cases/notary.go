package cases

import "time"

// How a document was presented in a notarization session's call.
const (
	// DocumentShown: the notary showed the document under notarization
	// to everyone, with its SHA-256.
	DocumentShown = "shown"
	// DocumentSigning: the notary presented the document for signing; it
	// is compared with the one shown.
	DocumentSigning = "signing"
)

// Document is a file a notary uploaded in a session's call: the document
// under notarization as shown, or the version presented for signing. Its
// content is a write-once object of the blob store (Key); the record says
// how it was presented, once.
type Document struct {
	ID          string
	OrgID       string
	CaseID      string
	SessionID   string
	Name        string // the file name it was uploaded with, cleaned
	ContentType string // as sniffed from the content
	Bytes       int64
	SHA256      []byte
	Key         string // object key
	UploadedBy  string // participant id
	UploadedAt  time.Time
	// Presented is how the document was presented (DocumentShown or
	// DocumentSigning); "" while it was only uploaded.
	Presented   string
	PresentedAt *time.Time
	PresentedBy string // participant id
	// Against is, for a document presented for signing, the id of the
	// document shown it was compared with; Mismatch says their SHA-256
	// differ.
	Against  string
	Mismatch bool
}

// JournalEntry is a notary's journal entry on a session: what was
// notarized, for whom, with which documents. Entries are immutable; a
// correction is a new entry that Corrects the old one.
type JournalEntry struct {
	ID        string
	OrgID     string
	CaseID    string
	SessionID string
	AccountID string // the notary (or admin) who wrote it
	CreatedAt time.Time
	Corrects  string // id of the entry this one corrects; "" for none
	// Body is the entry in its canonical JSON form; SHA256 is its hash.
	Body   []byte
	SHA256 []byte
	// Timestamp is an RFC 3161 timestamp token over SHA256, when a
	// timestamp authority is configured; nil otherwise.
	Timestamp []byte
}
