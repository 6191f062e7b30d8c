package cases

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// OfficeHours are when an organization serves, in its own zone: an
// overseas service center may keep the hours of the other continent's day
// (Mon-Sat 14:00-22:00 Asia/Shanghai is morning in Milan). Parties book
// sessions in slots of SlotMinutes inside these hours.
type OfficeHours struct {
	OrgID string
	// TimeZone is the IANA zone the hours are in, e.g. Asia/Shanghai.
	TimeZone string
	// SlotMinutes is the length of a bookable slot.
	SlotMinutes int
	// Weekly holds each weekday's ranges (index time.Sunday..Saturday),
	// sorted, not overlapping; a day without ranges is closed.
	Weekly [7][]TimeRange
	// Closed are dates (YYYY-MM-DD, in TimeZone) without service:
	// holidays. Sorted, unique.
	Closed    []string
	UpdatedAt time.Time
	UpdatedBy string // account id; "" if not set by a person
}

// TimeRange is a span of a day in local wall-clock minutes since
// midnight: Start inclusive, End exclusive; End may be 24:00.
type TimeRange struct {
	Start, End int
}

// Slot lengths an organization may choose between, in minutes.
const (
	MinSlotMinutes = 10
	MaxSlotMinutes = 240
	// MaxRangesPerDay bounds a day's ranges.
	MaxRangesPerDay = 8
	// MaxClosedDates bounds the holiday list.
	MaxClosedDates = 366
)

// DefaultSessionLength is how long a session without a scheduled end is
// taken to last (as in its calendar invitation).
const DefaultSessionLength = time.Hour

// String is the range as "14:00-22:00".
func (r TimeRange) String() string {
	return clock(r.Start) + "-" + clock(r.End)
}

func clock(m int) string {
	return fmt.Sprintf("%02d:%02d", m/60, m%60)
}

// ParseTimeRange reads "HH:MM-HH:MM" (24:00 allowed as the end).
func ParseTimeRange(s string) (TimeRange, error) {
	a, b, ok := strings.Cut(strings.TrimSpace(s), "-")
	if !ok {
		return TimeRange{}, fmt.Errorf("%q is not a range HH:MM-HH:MM", s)
	}
	start, err1 := parseClock(a)
	end, err2 := parseClock(b)
	if err := errors.Join(err1, err2); err != nil {
		return TimeRange{}, fmt.Errorf("%q is not a range HH:MM-HH:MM", s)
	}
	if start >= 24*60 {
		return TimeRange{}, fmt.Errorf("%q starts at the end of the day", s)
	}
	if start >= end {
		return TimeRange{}, fmt.Errorf("%q must start before it ends", s)
	}
	return TimeRange{Start: start, End: end}, nil
}

func parseClock(s string) (int, error) {
	s = strings.TrimSpace(s)
	h, m, ok := strings.Cut(s, ":")
	if !ok || len(h) != 2 || len(m) != 2 {
		return 0, errors.New("want HH:MM")
	}
	hh, err1 := strconv.Atoi(h)
	mm, err2 := strconv.Atoi(m)
	if err1 != nil || err2 != nil || hh < 0 || mm < 0 || mm > 59 || hh > 24 || (hh == 24 && mm != 0) {
		return 0, errors.New("want HH:MM")
	}
	return hh*60 + mm, nil
}

// Weekdays are the keys of the days in the API: sun, mon, ... sat, in
// time.Weekday order.
var Weekdays = [7]string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}

// Validate checks h and puts its ranges and dates in order. Its error
// says what is wrong in words a form can show.
func (h *OfficeHours) Validate() error {
	if h.TimeZone == "" || h.TimeZone == "Local" {
		return errors.New("time_zone must be an IANA zone such as Asia/Shanghai")
	}
	if _, err := time.LoadLocation(h.TimeZone); err != nil {
		return fmt.Errorf("time_zone %q is not a known IANA zone", h.TimeZone)
	}
	if h.SlotMinutes < MinSlotMinutes || h.SlotMinutes > MaxSlotMinutes {
		return fmt.Errorf("slot_minutes must be between %d and %d", MinSlotMinutes, MaxSlotMinutes)
	}
	for d := range h.Weekly {
		rs := h.Weekly[d]
		if len(rs) > MaxRangesPerDay {
			return fmt.Errorf("%s: at most %d ranges", Weekdays[d], MaxRangesPerDay)
		}
		slices.SortFunc(rs, func(a, b TimeRange) int { return a.Start - b.Start })
		for i, r := range rs {
			if r.Start < 0 || r.Start >= r.End || r.End > 24*60 {
				return fmt.Errorf("%s: %s must start before it ends, within the day", Weekdays[d], r)
			}
			if r.End-r.Start < h.SlotMinutes {
				return fmt.Errorf("%s: %s is shorter than one slot (%d minutes)", Weekdays[d], r, h.SlotMinutes)
			}
			if i > 0 && r.Start < rs[i-1].End {
				return fmt.Errorf("%s: %s overlaps %s", Weekdays[d], r, rs[i-1])
			}
		}
	}
	if len(h.Closed) > MaxClosedDates {
		return fmt.Errorf("closed: at most %d dates", MaxClosedDates)
	}
	for _, c := range h.Closed {
		if _, err := time.Parse(time.DateOnly, c); err != nil {
			return fmt.Errorf("closed: %q is not a date YYYY-MM-DD", c)
		}
	}
	slices.Sort(h.Closed)
	h.Closed = slices.Compact(h.Closed)
	return nil
}

// Location is the zone of h; UTC if it does not load (Validate refuses
// such hours).
func (h *OfficeHours) Location() *time.Location {
	loc, err := time.LoadLocation(h.TimeZone)
	if err != nil {
		return time.UTC
	}
	return loc
}

// Slot is the length of a slot.
func (h *OfficeHours) Slot() time.Duration {
	return time.Duration(h.SlotMinutes) * time.Minute
}

// IsClosed reports whether the local date of t is a closed date.
func (h *OfficeHours) IsClosed(t time.Time) bool {
	_, found := slices.BinarySearch(h.Closed, t.In(h.Location()).Format(time.DateOnly))
	return found
}

// Slots lists the starts of the slots that begin in [from, to), in order,
// skipping closed dates. A slot starts at a range's start plus whole
// slots, in local wall-clock time, and ends a slot length later, within
// the range. A local time that does not exist (the hour skipped when
// clocks go forward) has no slot; one that happens twice (clocks going
// back) has one, at its first occurrence.
func (h *OfficeHours) Slots(from, to time.Time) []time.Time {
	loc := h.Location()
	var out []time.Time
	lf := from.In(loc)
	day := time.Date(lf.Year(), lf.Month(), lf.Day(), 0, 0, 0, 0, loc)
	for ; day.Before(to); day = time.Date(day.Year(), day.Month(), day.Day()+1, 0, 0, 0, 0, loc) {
		if h.IsClosed(day) {
			continue
		}
		for _, r := range h.Weekly[day.Weekday()] {
			for m := r.Start; m+h.SlotMinutes <= r.End; m += h.SlotMinutes {
				t := time.Date(day.Year(), day.Month(), day.Day(), m/60, m%60, 0, 0, loc)
				if lt := t.In(loc); lt.Hour()*60+lt.Minute() != m || lt.Day() != day.Day() {
					continue // skipped by a clock change
				}
				if !t.Before(from) && t.Before(to) {
					out = append(out, t.UTC())
				}
			}
		}
	}
	return out
}

// IsSlot reports whether a slot of h starts at t.
func (h *OfficeHours) IsSlot(t time.Time) bool {
	loc := h.Location()
	lt := t.In(loc)
	day := time.Date(lt.Year(), lt.Month(), lt.Day(), 0, 0, 0, 0, loc)
	next := time.Date(lt.Year(), lt.Month(), lt.Day()+1, 0, 0, 0, 0, loc)
	_, found := slices.BinarySearchFunc(h.Slots(day, next), t, func(a, b time.Time) int { return a.Compare(b) })
	return found
}

// WithinHours reports whether [t, t+slot) lies inside one of the ranges
// of t's local weekday (ignoring closed dates and slot boundaries).
func (h *OfficeHours) WithinHours(t time.Time) bool {
	lt := t.In(h.Location())
	m := lt.Hour()*60 + lt.Minute()
	for _, r := range h.Weekly[lt.Weekday()] {
		if m >= r.Start && m+h.SlotMinutes <= r.End {
			return true
		}
	}
	return false
}

// SelfBooking is a session a party books a time for: staff open it, a
// party with an invite picks a free slot of the organization's hours.
type SelfBooking struct {
	SessionID string
	OpenedAt  time.Time
	// BookedAt and BookedBy (a participant id) are set by the last
	// booking; nil and "" while no time has been booked.
	BookedAt *time.Time
	BookedBy string
}

// BusySession is a scheduled or live session that occupies its presiders
// (or, without presiders, its organization) from Start to End.
type BusySession struct {
	SessionID string
	Start     time.Time
	End       time.Time // Start + DefaultSessionLength when unset
	// Presiders are the account ids of its presiding participants.
	Presiders []string
}

// Blocks reports whether b makes [start, end) taken for a session presided
// by presiders: they overlap in time, and either the session has no
// presider yet (the organization is one desk) or b shares one.
func (b *BusySession) Blocks(start, end time.Time, presiders []string) bool {
	if !b.Start.Before(end) || !start.Before(b.End) {
		return false
	}
	if len(presiders) == 0 {
		return true
	}
	for _, p := range presiders {
		if slices.Contains(b.Presiders, p) {
			return true
		}
	}
	return false
}

// Booking is a party's choice of a slot for a session.
type Booking struct {
	SessionID     string
	ParticipantID string
	Start, End    time.Time
	At            time.Time
}

// MarshalText writes the range as "14:00-22:00".
func (r TimeRange) MarshalText() ([]byte, error) {
	return []byte(r.String()), nil
}

// UnmarshalText reads a range written "14:00-22:00".
func (r *TimeRange) UnmarshalText(b []byte) error {
	v, err := ParseTimeRange(string(b))
	if err != nil {
		return err
	}
	*r = v
	return nil
}

// WeeklyMap is the week keyed by Weekdays (closed days absent), the form
// of the API and of the stores.
func WeeklyMap(w [7][]TimeRange) map[string][]TimeRange {
	m := make(map[string][]TimeRange)
	for d, rs := range w {
		if len(rs) > 0 {
			m[Weekdays[d]] = rs
		}
	}
	return m
}

// WeeklyFromMap is the inverse of WeeklyMap; an unknown day key is an
// error.
func WeeklyFromMap(m map[string][]TimeRange) ([7][]TimeRange, error) {
	var w [7][]TimeRange
	for k, rs := range m {
		d := slices.Index(Weekdays[:], strings.ToLower(k))
		if d < 0 {
			return w, fmt.Errorf("%q is not a day (sun, mon, tue, wed, thu, fri, sat)", k)
		}
		w[d] = append(w[d], rs...)
	}
	return w, nil
}

// EncodeWeekly is the stored form of a week: JSON of WeeklyMap.
func EncodeWeekly(w [7][]TimeRange) string {
	b, _ := json.Marshal(WeeklyMap(w)) // cannot fail: strings only
	return string(b)
}

// DecodeWeekly reads the stored form of a week.
func DecodeWeekly(s string) ([7][]TimeRange, error) {
	var m map[string][]TimeRange
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		return [7][]TimeRange{}, fmt.Errorf("office hours: weekly: %w", err)
	}
	return WeeklyFromMap(m)
}

// EncodeDates is the stored form of a list of dates: JSON.
func EncodeDates(d []string) string {
	if d == nil {
		d = []string{}
	}
	b, _ := json.Marshal(d)
	return string(b)
}

// DecodeDates reads the stored form of a list of dates.
func DecodeDates(s string) ([]string, error) {
	d := []string{}
	if err := json.Unmarshal([]byte(s), &d); err != nil {
		return nil, fmt.Errorf("office hours: closed dates: %w", err)
	}
	return d, nil
}
