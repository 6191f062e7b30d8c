package cases

import "time"

// Identity check states, in the order a check goes through them. A check
// ends in CheckRefused (the person did not consent to the processing of
// their face and document images), CheckVerified or CheckRejected.
const (
	CheckRequested = "requested" // asked for; waiting for the person's consent
	CheckConsented = "consented" // consent given; capturing
	CheckRefused   = "refused"   // consent refused: cannot be verified remotely
	CheckSubmitted = "submitted" // document, MRZ and liveness frames sent; waiting for the presider
	CheckVerified  = "verified"  // the presider confirmed the identity
	CheckRejected  = "rejected"  // the presider did not
)

// Provider answers of an external face-verification service.
const (
	ProviderPending = "pending"  // asked; the answer comes by callback
	ProviderMatch   = "match"    // the face matches the document
	ProviderNoMatch = "no_match" // it does not
	ProviderError   = "error"    // the service failed or timed out
)

// Document types a person may photograph.
const (
	DocPassport = "passport" // the data page
	DocIDCard   = "id_card"  // both sides
)

// IdentityCheck is the verification of one participant's identity in one
// session: their consent, the document and liveness frames they captured,
// the MRZ they typed or confirmed, an external provider's advice, and the
// presider's decision, which is final.
type IdentityCheck struct {
	ID            string
	SessionID     string
	CaseID        string
	OrgID         string
	ParticipantID string
	State         string
	// RequestedBy is the participant id of the presider who asked for the
	// check, "" when the session requires it.
	RequestedBy string
	ConsentAt   *time.Time
	RefusedAt   *time.Time
	// DocumentType is DocPassport or DocIDCard; "" before the capture.
	DocumentType string
	// MRZ is the parsed MRZ as JSON (see identity.MRZFields), masked
	// unless MRZRaw; "" until one was accepted.
	MRZ    string
	MRZRaw bool
	// DocumentNumber is the document number, masked unless MRZRaw.
	DocumentNumber string
	Nationality    string
	// Challenge is the liveness prompts in the order they were asked, as
	// a JSON array of strings.
	Challenge string
	// Provider is the face-verification service consulted ("" for none);
	// ProviderState, ProviderScore and ProviderRef are its answer.
	Provider      string
	ProviderState string
	ProviderScore *float64
	ProviderRef   string
	Decision      string // CheckVerified or CheckRejected; "" until decided
	Reason        string
	DecidedBy     string // participant id or account id of the decider
	DecidedByName string
	DecidedAt     *time.Time
	SubmittedAt   *time.Time
	CreatedAt     time.Time
}

// Kinds of identity images.
const (
	ImageDocumentFront = "document_front" // passport data page, or the front of an ID card
	ImageDocumentBack  = "document_back"  // the back of an ID card
	ImageFace          = "face"           // a liveness frame
)

// IdentityImage is one image of an identity check, stored encrypted in the
// object store under Key. The data key that decrypts it is kept here,
// wrapped by the identity key; deleting an image erases the wrapped key,
// which leaves the stored object unreadable (the object store is
// write-once).
type IdentityImage struct {
	CheckID     string
	Index       int // 0, 1, 2, … in upload order
	Kind        string
	Step        int    // for a face frame, the index of its liveness prompt
	Prompt      string // for a face frame, the prompt it answers
	Key         string // object key
	SHA256      []byte // of the image as captured (before encryption)
	Bytes       int64  // of the image as captured
	ContentType string // image/jpeg or image/png
	Width       int
	Height      int
	WrappedKey  []byte // nil once deleted
	KeyID       string // the identity key that wrapped it
	CreatedAt   time.Time
	DeletedAt   *time.Time
}

// IdentityPolicy is an organization's rules for identity data.
type IdentityPolicy struct {
	OrgID string
	// StoreRawNumbers keeps document numbers and the MRZ unmasked; by
	// default they are masked (mrz.Masked) before being stored.
	StoreRawNumbers bool
	// ImageRetentionDays is how long identity images are kept after the
	// session ends; 0 means the default, 90.
	ImageRetentionDays int
	UpdatedAt          time.Time
}

// DefaultIdentityRetentionDays is the default of ImageRetentionDays.
const DefaultIdentityRetentionDays = 90

// RetentionDays returns ImageRetentionDays or its default.
func (p *IdentityPolicy) RetentionDays() int {
	if p == nil || p.ImageRetentionDays <= 0 {
		return DefaultIdentityRetentionDays
	}
	return p.ImageRetentionDays
}
