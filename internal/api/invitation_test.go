package api

import (
	"strings"
	"testing"
	"time"

	"github.com/kuayang/kuayang/internal/cases"
)

// The invitation of a party in Milan to a session organized in Wencheng:
// Italian text with both times, and a calendar file in UTC with folded
// lines and escaped text.
func TestInvitation(t *testing.T) {
	start := time.Date(2026, 12, 1, 6, 0, 0, 0, time.UTC) // 14:00 in Shanghai, 07:00 in Rome
	c := &cases.Case{Number: "（2026）浙0328民调123号", Title: "Eredità; casa, Wenzhou"}
	ss := &cases.Session{Title: "Mediazione congiunta", ScheduledStart: start, ScheduledEnd: start.Add(90 * time.Minute),
		TimeZone: "Asia/Shanghai", Record: true}
	part := &cases.Participant{DisplayName: "Chen Wei", Language: "it", TimeZone: "Europe/Rome"}
	inv := newInvitation(c, ss, part, "https://node-1.example.org/join/TOKEN", "inv1@kuayang", start.Add(-48*time.Hour))
	for _, want := range []string{"Gentile Chen Wei,", "ora locale (Europe/Rome): 01/12/2026 07:00–08:30",
		"ora dell'ufficio (Asia/Shanghai): 01/12/2026 14:00–15:30", "https://node-1.example.org/join/TOKEN", "registrata"} {
		if !strings.Contains(inv.Body, want) {
			t.Errorf("body lacks %q:\n%s", want, inv.Body)
		}
	}
	if !strings.Contains(inv.Subject, "Mediazione congiunta") {
		t.Errorf("subject %q", inv.Subject)
	}
	ics := inv.ICS
	for _, want := range []string{"BEGIN:VCALENDAR\r\n", "DTSTART:20261201T060000Z\r\n", "DTEND:20261201T073000Z\r\n",
		"UID:inv1@kuayang\r\n", "TRIGGER:-PT15M\r\n", "END:VCALENDAR\r\n"} {
		if !strings.Contains(ics, want) {
			t.Errorf("ics lacks %q:\n%s", want, ics)
		}
	}
	for _, line := range strings.Split(strings.TrimSuffix(ics, "\r\n"), "\r\n") {
		if len(line) > 75 {
			t.Errorf("line of %d octets: %q", len(line), line)
		}
		if strings.Contains(line, "\n") {
			t.Errorf("bare newline in %q", line)
		}
	}
	unfolded := strings.ReplaceAll(ics, "\r\n ", "")
	if !strings.Contains(unfolded, `SUMMARY:Invito a una videoconferenza: Mediazione congiunta (（2026）浙0328民调123号)`) ||
		!strings.Contains(unfolded, `Eredità\; casa\, Wenzhou`) {
		t.Errorf("unfolded ics:\n%s", unfolded)
	}
	if inv.Filename != "kuayang--2026--0328--123-.ics" {
		t.Errorf("filename %q", inv.Filename)
	}
	// Chinese, and one zone only when the person is in the organizer's.
	part = &cases.Participant{DisplayName: "林梅", Language: "zh-CN"}
	inv = newInvitation(c, ss, part, "https://x/join/T", "inv2@kuayang", start)
	if !strings.Contains(inv.Body, "林梅，您好") || !strings.Contains(inv.Body, "2026年12月1日 14:00–15:30") || strings.Contains(inv.Body, "主办方时间") {
		t.Errorf("chinese body:\n%s", inv.Body)
	}
}
