package metrics

import (
	"context"
	"errors"
	"testing"

	"github.com/kuayang/kuayang/internal/coord"
)

// TestCoordTimesCallsAndCountsFailures: every call is timed by method; a
// lease held by another node is an answer, a closed backend a failure.
func TestCoordTimesCallsAndCountsFailures(t *testing.T) {
	ctx := context.Background()
	m := NewCoord(coord.NewMemory(coord.Options{}))
	if _, err := m.Acquire(ctx, "room", "node-a"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Acquire(ctx, "room", "node-b"); !errors.Is(err, coord.ErrLeased) {
		t.Fatalf("second acquire: %v, want ErrLeased", err)
	}
	if h, err := m.Holder(ctx, "room"); err != nil || h != "node-a" {
		t.Fatalf("holder %q, %v", h, err)
	}
	if rec, err := m.Recovering(ctx); rec || err != nil {
		t.Fatalf("in-process coordinator recovering: %v %v", rec, err)
	}
	if err := m.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Holder(ctx, "room"); err == nil {
		t.Fatal("a closed coordinator answered")
	}
	var w Writer
	m.Write(&w)
	vals := checkExposition(t, w.Bytes())
	for k, want := range map[string]float64{
		`kuayang_coord_duration_seconds_count{op="Acquire"}`: 2,
		`kuayang_coord_duration_seconds_count{op="Holder"}`:  2,
		`kuayang_coord_errors_total{op="Holder"}`:            1,
	} {
		if got := vals[k]; got != want {
			t.Errorf("%s = %v, want %v", k, got, want)
		}
	}
	if got, ok := vals[`kuayang_coord_errors_total{op="Acquire"}`]; ok && got != 0 {
		t.Errorf("a lease held elsewhere counted as %v failures", got)
	}
}
