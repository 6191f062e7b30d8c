package api

import (
	"fmt"
	"strings"
	"time"

	"github.com/kuayang/kuayang/internal/cases"
)

// invitation is what the staff send the invited person: an email's
// subject and text in the person's language, and a calendar file.
type invitation struct {
	Subject string `json:"subject"`
	Body    string `json:"body"`
	// ICS is an iCalendar (RFC 5545) event: its times are in UTC, which
	// every calendar shows in its owner's zone; the description gives the
	// time in the person's zone and the organizer's too.
	ICS      string `json:"ics"`
	Filename string `json:"ics_filename"`
}

// invitationTexts are the email's words per language: zh, it, en.
var invitationTexts = map[string]struct {
	subject, greeting, intro, when, yours, organizer, link, record, help string
	layout                                                               string
}{
	"zh": {subject: "视频会议邀请：%s（%s）", greeting: "%s，您好：", intro: "请您通过视频参加以下会议：",
		when: "时间", yours: "您的时间（%s）", organizer: "主办方时间（%s）", link: "请在开始前几分钟点击以下链接，用电脑或手机的浏览器进入（无需安装软件）：",
		record: "本次会议将由服务器录音录像，作为案件证据。进入前会请您确认同意。", help: "如有疑问，请直接回复本邮件。",
		layout: "2006年1月2日 15:04"},
	"it": {subject: "Invito a una videoconferenza: %s (%s)", greeting: "Gentile %s,", intro: "è invitato/a a partecipare in video alla seguente sessione:",
		when: "Quando", yours: "ora locale (%s)", organizer: "ora dell'ufficio (%s)", link: "Qualche minuto prima dell'inizio apra questo link nel browser del computer o del telefono (non serve installare nulla):",
		record: "La sessione è registrata dal server come prova per la pratica. Prima di entrare le sarà chiesto il consenso.", help: "Per domande, risponda a questa email.",
		layout: "02/01/2006 15:04"},
	"en": {subject: "Video session invitation: %s (%s)", greeting: "Dear %s,", intro: "you are invited to take part by video in the following session:",
		when: "When", yours: "your time (%s)", organizer: "organizer's time (%s)", link: "A few minutes before the start, open this link in the browser of your computer or phone (nothing to install):",
		record: "The session is recorded by the server as evidence for the case. You will be asked to consent before you join.", help: "If you have questions, reply to this email.",
		layout: "2 January 2006 15:04"},
}

// newInvitation writes the invitation of part to a session of case c,
// with the join link.
func newInvitation(c *cases.Case, ss *cases.Session, part *cases.Participant, link, uid string, now time.Time) invitation {
	lang := "en"
	switch l := strings.ToLower(part.Language); {
	case strings.HasPrefix(l, "zh"):
		lang = "zh"
	case strings.HasPrefix(l, "it"):
		lang = "it"
	}
	tx := invitationTexts[lang]
	orgZone, _ := time.LoadLocation(ss.TimeZone)
	if orgZone == nil {
		orgZone = time.UTC
	}
	theirZone := orgZone
	if z, err := time.LoadLocation(part.TimeZone); err == nil && part.TimeZone != "" {
		theirZone = z
	}
	end := ss.ScheduledEnd
	if end.IsZero() {
		end = ss.ScheduledStart.Add(time.Hour)
	}
	at := func(z *time.Location) string {
		return ss.ScheduledStart.In(z).Format(tx.layout) + "–" + end.In(z).Format("15:04")
	}
	when := fmt.Sprintf(tx.yours, theirZone.String()) + ": " + at(theirZone)
	if theirZone.String() != orgZone.String() {
		when += "\n" + fmt.Sprintf(tx.organizer, orgZone.String()) + ": " + at(orgZone)
	}
	var b strings.Builder
	fmt.Fprintf(&b, tx.greeting+"\n\n%s\n\n", part.DisplayName, tx.intro)
	fmt.Fprintf(&b, "%s  %s\n%s\n%s\n\n", c.Number, c.Title, ss.Title, when)
	fmt.Fprintf(&b, "%s\n%s\n\n", tx.link, link)
	if ss.Record {
		fmt.Fprintf(&b, "%s\n\n", tx.record)
	}
	b.WriteString(tx.help + "\n")
	subject := fmt.Sprintf(tx.subject, ss.Title, c.Number)
	return invitation{Subject: subject, Body: b.String(),
		ICS:      icsEvent(uid, subject, b.String(), link, ss.ScheduledStart, end, now),
		Filename: "kuayang-" + safeFileName(c.Number) + ".ics"}
}

// icsEvent is a one-event iCalendar file (RFC 5545): CRLF line ends,
// lines folded at 75 octets, text escaped.
func icsEvent(uid, summary, description, link string, start, end, now time.Time) string {
	const stamp = "20060102T150405Z"
	lines := []string{
		"BEGIN:VCALENDAR",
		"VERSION:2.0",
		"PRODID:-//Kuayang//Kuayang//EN",
		"CALSCALE:GREGORIAN",
		"METHOD:PUBLISH",
		"BEGIN:VEVENT",
		"UID:" + uid,
		"DTSTAMP:" + now.UTC().Format(stamp),
		"DTSTART:" + start.UTC().Format(stamp),
		"DTEND:" + end.UTC().Format(stamp),
		"SUMMARY:" + icsText(summary),
		"DESCRIPTION:" + icsText(description),
		"URL:" + link,
		"LOCATION:" + icsText(link),
		"BEGIN:VALARM",
		"ACTION:DISPLAY",
		"DESCRIPTION:" + icsText(summary),
		"TRIGGER:-PT15M",
		"END:VALARM",
		"END:VEVENT",
		"END:VCALENDAR",
	}
	var b strings.Builder
	for _, l := range lines {
		b.WriteString(icsFold(l))
	}
	return b.String()
}

// icsText escapes a TEXT value.
func icsText(s string) string {
	return strings.NewReplacer(`\`, `\\`, ";", `\;`, ",", `\,`, "\r\n", `\n`, "\n", `\n`).Replace(s)
}

// icsFold folds a content line at 75 octets without splitting a UTF-8
// character, and ends it with CRLF.
func icsFold(line string) string {
	var b strings.Builder
	n := 0
	for _, r := range line {
		w := len(string(r))
		if n+w > 75 {
			b.WriteString("\r\n ")
			n = 1
		}
		b.WriteRune(r)
		n += w
	}
	b.WriteString("\r\n")
	return b.String()
}

// safeFileName keeps letters, digits, dashes and dots of a case number.
func safeFileName(s string) string {
	out := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '.':
			return r
		}
		return '-'
	}, s)
	if out == "" {
		return "session"
	}
	return out
}
