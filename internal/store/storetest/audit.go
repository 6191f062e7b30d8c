package storetest

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/kuayang/kuayang/internal/audit"
	"github.com/kuayang/kuayang/internal/store"
)

// newEntry is the i-th (from 0) entry of a test log: two organizations,
// four cases, five sessions, so that filters select interleaved subsets.
// Its time has nanoseconds, which Seal drops.
func newEntry(i int) *audit.Entry {
	return &audit.Entry{
		Time:      at(time.Duration(i)*time.Second + 123*time.Nanosecond),
		ActorKind: audit.ActorAccount,
		ActorID:   fmt.Sprintf("account-%d", i%3),
		Action:    "case.update",
		OrgID:     fmt.Sprintf("org-%d", i%2),
		CaseID:    fmt.Sprintf("case-%d", i%4),
		SessionID: fmt.Sprintf("session-%d", i%5),
		IP:        "203.0.113.9",
		Detail:    fmt.Sprintf(`{"n":%d,"note":"陈伟 \"quoted\" \\ 100%%"}`, i),
	}
}

// appendEntries appends n entries made by newEntry and checks what
// AppendAudit set in each. It returns them.
func appendEntries(t *testing.T, s store.Store, n int) []*audit.Entry {
	t.Helper()
	var log []*audit.Entry
	for i := range n {
		e := newEntry(i)
		must(t, "AppendAudit", s.AppendAudit(t.Context(), e))
		eq(t, "Entry.Seq", e.Seq, int64(i+1))
		want := audit.Genesis
		if i > 0 {
			want = log[i-1].Hash
		}
		if !bytes.Equal(e.PrevHash, want) || !bytes.Equal(e.Hash, e.Sum()) {
			t.Fatalf("entry %d: PrevHash %x, Hash %x: not sealed after %x", e.Seq, e.PrevHash, e.Hash, want)
		}
		log = append(log, e)
	}
	return log
}

// checkEntry checks a read entry against the appended one, exactly: the
// hash covers every field.
func checkEntry(t *testing.T, got, want *audit.Entry) {
	t.Helper()
	if got.Time != want.Time {
		t.Errorf("entry %d: Time = %v, want exactly %v", want.Seq, got.Time, want.Time)
	}
	g, w := *got, *want
	g.Time, w.Time = time.Time{}, time.Time{}
	if fmt.Sprint(g) != fmt.Sprint(w) {
		t.Errorf("entry %d = %+v, want %+v", want.Seq, g, w)
	}
}

// entries lists the entries matching f and checks that they are, in order,
// those of log at the indexes want (Seq-1).
func entries(t *testing.T, s store.Store, log []*audit.Entry, f audit.Filter, want []int) {
	t.Helper()
	got, err := s.AuditEntries(t.Context(), f)
	must(t, "AuditEntries", err)
	var gotSeq, wantSeq []int64
	for _, e := range got {
		gotSeq = append(gotSeq, e.Seq)
	}
	for _, i := range want {
		wantSeq = append(wantSeq, log[i].Seq)
	}
	if fmt.Sprint(gotSeq) != fmt.Sprint(wantSeq) {
		t.Errorf("AuditEntries(%+v) = seqs %v, want %v", f, gotSeq, wantSeq)
		return
	}
	for k, i := range want {
		checkEntry(t, got[k], log[i])
	}
}

// indexes returns the i in [0, n) for which keep is true.
func indexes(n int, keep func(i int) bool) []int {
	var out []int
	for i := range n {
		if keep(i) {
			out = append(out, i)
		}
	}
	return out
}

func testAuditAppend(t *testing.T, s store.Store) {
	got, err := s.AuditEntries(t.Context(), audit.Filter{})
	must(t, "AuditEntries(empty log)", err)
	eq(t, "len(AuditEntries(empty log))", len(got), 0)

	const n = 20
	log := appendEntries(t, s, n)
	all, err := s.AuditEntries(t.Context(), audit.Filter{})
	must(t, "AuditEntries", err)
	if err := audit.Verify(all); err != nil {
		t.Errorf("Verify(AuditEntries): %v", err)
	}
	every := func(int) bool { return true }
	entries(t, s, log, audit.Filter{}, indexes(n, every))
	entries(t, s, log, audit.Filter{CaseID: "case-1"}, indexes(n, func(i int) bool { return i%4 == 1 }))
	entries(t, s, log, audit.Filter{SessionID: "session-3"}, indexes(n, func(i int) bool { return i%5 == 3 }))
	entries(t, s, log, audit.Filter{OrgID: "org-0"}, indexes(n, func(i int) bool { return i%2 == 0 }))
	entries(t, s, log, audit.Filter{OrgID: "org-0", CaseID: "case-2", SessionID: "session-0"}, []int{10})
	entries(t, s, log, audit.Filter{OrgID: "org-1", CaseID: "case-2"}, nil)
	entries(t, s, log, audit.Filter{AfterSeq: 15}, []int{15, 16, 17, 18, 19})
	entries(t, s, log, audit.Filter{AfterSeq: 20}, nil)
	entries(t, s, log, audit.Filter{Limit: 5}, []int{0, 1, 2, 3, 4})
	entries(t, s, log, audit.Filter{AfterSeq: 3, Limit: 4}, []int{3, 4, 5, 6})
	entries(t, s, log, audit.Filter{OrgID: "org-1", AfterSeq: 12, Limit: 2}, []int{13, 15})
	entries(t, s, log, audit.Filter{Limit: -1}, indexes(n, every))
	entries(t, s, log, audit.Filter{CaseID: "' OR '1'='1"}, nil)

	// Appending continues the chain read back from the store.
	e := newEntry(n)
	must(t, "AppendAudit", s.AppendAudit(t.Context(), e))
	if e.Seq != n+1 || !bytes.Equal(e.PrevHash, log[n-1].Hash) {
		t.Errorf("entry after %d: Seq %d, PrevHash %x; want %d, %x", n, e.Seq, e.PrevHash, n+1, log[n-1].Hash)
	}
}

func testAuditConcurrent(t *testing.T, s store.Store) {
	AppendConcurrently(t, []store.Store{s}, 16, 10)
}

// AppendConcurrently appends, from goroutines goroutines spread over the
// stores (which must share one database), each entries entries at once,
// and checks that the log is then one unbroken chain holding them all.
func AppendConcurrently(t *testing.T, stores []store.Store, goroutines, each int) {
	t.Helper()
	var wg sync.WaitGroup
	for g := range goroutines {
		s := stores[g%len(stores)]
		wg.Go(func() {
			for i := range each {
				e := newEntry(i)
				e.ActorID = fmt.Sprintf("writer-%d", g)
				if err := s.AppendAudit(t.Context(), e); err != nil {
					t.Errorf("AppendAudit %d/%d: %v", g, i, err)
					return
				}
			}
		})
	}
	wg.Wait()
	all, err := stores[0].AuditEntries(t.Context(), audit.Filter{Limit: 10000})
	must(t, "AuditEntries", err)
	eq(t, "len(AuditEntries)", len(all), goroutines*each)
	perWriter := map[string]int{}
	for i, e := range all {
		eq(t, "Seq", e.Seq, int64(i+1))
		perWriter[e.ActorID]++
	}
	for w, k := range perWriter {
		eq(t, "entries of "+w, k, each)
	}
	if err := audit.Verify(all); err != nil {
		t.Errorf("Verify: %v", err)
	}
}

// AuditTamper checks that audit.Verify notices rows altered or deleted
// behind the store's back. open returns a new, empty store; exec runs a
// statement on its database directly.
func AuditTamper(t *testing.T, open func(*testing.T) store.Store, exec func(t *testing.T, s store.Store, stmt string)) {
	for _, tc := range []struct{ name, stmt, want string }{
		{"Altered", `UPDATE audit_log SET action = 'case.delete' WHERE seq = 3`, "at entry 3: its content does not match"},
		{"Deleted", `DELETE FROM audit_log WHERE seq = 2`, "at entry 3: expected entry 2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := open(t)
			appendEntries(t, s, 5)
			all, err := s.AuditEntries(t.Context(), audit.Filter{})
			must(t, "AuditEntries", err)
			must(t, "Verify before tampering", audit.Verify(all))
			exec(t, s, tc.stmt)
			all, err = s.AuditEntries(t.Context(), audit.Filter{})
			must(t, "AuditEntries", err)
			err = audit.Verify(all)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Verify after %q = %v, want an error with %q", tc.stmt, err, tc.want)
			}
		})
	}
}
