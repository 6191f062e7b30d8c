package api

import (
	"encoding/json"
	"testing"
)

// TestIdentityStaffView: an admin reads a session's requirement and its
// checks; other staff of the organization read whether it is required and
// nothing of the checks; another organization's admin finds no session.
func TestIdentityStaffView(t *testing.T) {
	e := newIDEnv(t, nil)
	e.capture()
	path := "/api/v1/sessions/" + e.sess.ID + "/identity"
	get := func(who string) (int, map[string]any) {
		t.Helper()
		status, b := e.do("GET", path, "Bearer "+who, "", nil)
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		return status, m
	}
	status, m := get(e.admin)
	if checks, _ := m["checks"].([]any); status != 200 || m["required"] != true || len(checks) != 1 {
		t.Fatalf("admin reads the checks: %d %v", status, m)
	}
	status, m = get(e.clerk)
	if _, ok := m["checks"]; status != 200 || m["required"] != true || ok || len(m) != 1 {
		t.Fatalf("clerk reads %d %v, want only required", status, m)
	}
	if status, _ := e.do("PUT", path, "Bearer "+e.clerk, "application/json", []byte(`{"required":false}`)); status != 200 {
		t.Fatalf("clerk sets required: %d", status)
	}
	if status, m = get(e.clerk); status != 200 || m["required"] != false {
		t.Fatalf("clerk reads after the change: %d %v", status, m)
	}
	if status, _ := get(e.otherAdmin); status != 404 {
		t.Errorf("another organization's admin: %d, want 404", status)
	}
}
