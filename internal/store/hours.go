package store

import (
	"context"
	"errors"
	"time"

	"github.com/kuayang/kuayang/internal/cases"
)

// Errors of booking a session's time.
var (
	// ErrSlotTaken: another session of the same presider (or, for a
	// session without one, of the organization) overlaps the slot.
	ErrSlotTaken = errors.New("store: slot taken")
	// ErrBookingClosed: the session is not open for self-booking, or has
	// started or ended.
	ErrBookingClosed = errors.New("store: booking closed")
)

// Hours keeps organizations' office hours and the self-booking of
// sessions.
type Hours interface {
	// PutOfficeHours creates or replaces the hours of h.OrgID, as given
	// (callers validate them).
	PutOfficeHours(ctx context.Context, h *cases.OfficeHours) error
	// OfficeHours returns an organization's hours; ErrNotFound if it has
	// set none.
	OfficeHours(ctx context.Context, orgID string) (*cases.OfficeHours, error)

	// OpenSelfBooking lets parties book the session's time; opening it
	// again keeps the first opening and any booking.
	OpenSelfBooking(ctx context.Context, sessionID string, at time.Time) error
	// SelfBooking returns the self-booking of a session; ErrNotFound if
	// it is not open for self-booking.
	SelfBooking(ctx context.Context, sessionID string) (*cases.SelfBooking, error)
	// BusySessions lists the organization's sessions, scheduled or live,
	// that overlap [from, to), by start then id; a session open for
	// self-booking whose time has not been booked occupies nothing.
	BusySessions(ctx context.Context, orgID string, from, to time.Time) ([]*cases.BusySession, error)
	// BookSession sets the session's scheduled start and end to the
	// booking's and records who booked, atomically with the check that no
	// busy session other than itself blocks the slot
	// (cases.BusySession.Blocks with the session's presiders): of two
	// bookings of one slot at once, one wins and the other gets
	// ErrSlotTaken. ErrBookingClosed if the session is not open for
	// self-booking or not scheduled; ErrNotFound if it does not exist.
	BookSession(ctx context.Context, b *cases.Booking) error
}
