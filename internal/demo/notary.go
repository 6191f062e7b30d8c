package demo

import (
	"context"
	"errors"
	"time"

	"github.com/kuayang/kuayang/internal/cases"
	"github.com/kuayang/kuayang/internal/store"
)

// Names of the demo notarization.
const (
	NotaryCaseNumber = "(2026)浙温证字第0001号"
	NotaryCaseTitle  = "Demo: power of attorney signed in Milan"
	NotaryTitle      = "Remote notarization"
)

// notarization makes sure the demo has a notarization case with a
// recorded session the notary presides over, a party in Milan invited
// (the party verifies their identity, the default for notarization), and
// returns the notary's and the party's links: the notary's script, the
// document shown with its hash and the journal can be tried with them.
func (d *Demo) notarization(ctx context.Context, org *cases.Org, notary *cases.Account) ([]JoinURL, error) {
	c, err := d.Store.CaseByNumber(ctx, org.ID, NotaryCaseNumber)
	if errors.Is(err, store.ErrNotFound) {
		c = &cases.Case{ID: store.NewID(), OrgID: org.ID, Kind: cases.KindNotarization, Number: NotaryCaseNumber,
			Title: NotaryCaseTitle, Status: "open", CreatedBy: notary.ID, CreatedAt: d.Now().UTC()}
		err = d.Store.CreateCase(ctx, c)
	}
	if err != nil {
		return nil, err
	}
	ss, err := d.Store.SessionsOfCase(ctx, c.ID)
	if err != nil {
		return nil, err
	}
	var sess *cases.Session
	if len(ss) > 0 {
		sess = ss[0]
	} else {
		start := d.Now().UTC().Truncate(time.Hour)
		sess = &cases.Session{ID: store.NewID(), CaseID: c.ID, OrgID: c.OrgID, Title: NotaryTitle,
			ScheduledStart: start, ScheduledEnd: start.Add(time.Hour), TimeZone: "Asia/Shanghai",
			Record: true, WaitingRoom: true, State: "scheduled", CreatedAt: d.Now().UTC()}
		if err := d.Store.CreateSession(ctx, sess); err != nil {
			return nil, err
		}
	}
	// A party of their own: searching the cases for a party's name finds
	// one demo case, not two.
	g := guest{cases.RoleParty, "Zhang Li", "zh-CN", "Europe/Rome"}
	return d.links(ctx, sess, []*cases.Participant{
		{Role: cases.RoleNotary, DisplayName: notary.Name, AccountID: notary.ID, Language: "zh-CN", TimeZone: "Asia/Shanghai", Email: notary.Email},
		{Role: g.role, DisplayName: g.name, Language: g.language, TimeZone: g.zone},
	})
}
