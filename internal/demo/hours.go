package demo

import (
	"context"
	"errors"
	"time"

	"github.com/kuayang/kuayang/internal/cases"
	"github.com/kuayang/kuayang/internal/store"
)

// BookingTitle is the title of the demo session whose time a party books.
const BookingTitle = "Follow-up session (to be booked)"

// officeHours gives the demo organization the hours of a Wencheng service
// center serving emigrants in Europe, unless it has some: Monday to
// Saturday 14:00-22:00 in Shanghai (the European morning), half-hour slots.
func (d *Demo) officeHours(ctx context.Context, org *cases.Org) error {
	_, err := d.Store.OfficeHours(ctx, org.ID)
	if err == nil || !errors.Is(err, store.ErrNotFound) {
		return err
	}
	h := &cases.OfficeHours{OrgID: org.ID, TimeZone: "Asia/Shanghai", SlotMinutes: 30, Closed: []string{}, UpdatedAt: d.Now().UTC()}
	for day := time.Monday; day <= time.Saturday; day++ {
		h.Weekly[day] = []cases.TimeRange{{Start: 14 * 60, End: 22 * 60}}
	}
	if err := h.Validate(); err != nil {
		return err
	}
	return d.Store.PutOfficeHours(ctx, h)
}

// bookingSession makes sure the demo case has a session open for
// self-booking, presided by the mediator, with the first demo guest
// invited, and returns the guest's booking link.
func (d *Demo) bookingSession(ctx context.Context, c *cases.Case, mediator *cases.Account) (JoinURL, error) {
	ss, err := d.Store.SessionsOfCase(ctx, c.ID)
	if err != nil {
		return JoinURL{}, err
	}
	var sess *cases.Session
	for _, s := range ss {
		if s.Title == BookingTitle {
			sess = s
		}
	}
	if sess == nil {
		now := d.Now().UTC()
		sess = &cases.Session{ID: store.NewID(), CaseID: c.ID, OrgID: c.OrgID, Title: BookingTitle,
			ScheduledStart: now.Truncate(time.Second), TimeZone: "Asia/Shanghai", Record: true, WaitingRoom: true,
			State: "scheduled", CreatedAt: now}
		if err := d.Store.CreateSession(ctx, sess); err != nil {
			return JoinURL{}, err
		}
		if err := d.Store.OpenSelfBooking(ctx, sess.ID, now); err != nil {
			return JoinURL{}, err
		}
	}
	parts, err := d.Store.ParticipantsOfSession(ctx, sess.ID)
	if err != nil {
		return JoinURL{}, err
	}
	g := demoGuests[0]
	for _, w := range []*cases.Participant{
		{Role: cases.RoleMediator, DisplayName: mediator.Name, AccountID: mediator.ID, Language: "zh-CN", TimeZone: "Asia/Shanghai", Email: mediator.Email},
		{Role: g.role, DisplayName: g.name, Language: g.language, TimeZone: g.zone},
	} {
		if find(parts, w.Role, w.DisplayName) != nil {
			continue
		}
		w.ID, w.SessionID, w.CreatedAt = store.NewID(), sess.ID, d.Now().UTC()
		if err := d.Store.CreateParticipant(ctx, w); err != nil {
			return JoinURL{}, err
		}
		parts = append(parts, w)
	}
	tok, err := d.invite(ctx, find(parts, g.role, g.name))
	if err != nil {
		return JoinURL{}, err
	}
	return JoinURL{Role: string(g.role), Name: g.name, URL: d.PublicURL + "/book/" + tok}, nil
}
