package auth

import (
	"testing"
	"time"

	"github.com/kuayang/kuayang/internal/cases"
)

func TestLimiter(t *testing.T) {
	l := NewLimiter(3, time.Minute)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	l.now = func() time.Time { return now }
	for i := 0; i < 3; i++ {
		if ok, _ := l.Allow("ip", "mail"); !ok {
			t.Fatalf("attempt %d refused", i)
		}
		l.Fail("ip", "mail")
	}
	if ok, wait := l.Allow("mail"); ok || wait != time.Minute {
		t.Fatalf("4th attempt: %v %v", ok, wait)
	}
	if ok, _ := l.Allow("other"); !ok {
		t.Fatal("unrelated key refused")
	}
	now = now.Add(61 * time.Second)
	if ok, _ := l.Allow("ip", "mail"); !ok {
		t.Fatal("still refused after the window")
	}
	l.Fail("ip")
	l.Reset("ip")
	if len(l.fail) != 0 {
		t.Fatalf("keys kept: %v", l.fail)
	}
}

func TestAllowed(t *testing.T) {
	if !Allowed(cases.RoleClerk, AuditRead) || Allowed(cases.RoleMediator, AuditRead) || Allowed(cases.RoleParty, CaseRead) {
		t.Fatal("grants")
	}
	if IsStaffRole(cases.RoleParty) || !IsStaffRole(cases.RoleNotary) {
		t.Fatal("staff roles")
	}
}
