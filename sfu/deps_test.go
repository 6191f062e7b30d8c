package sfu

import (
	"os/exec"
	"strings"
	"testing"
)

// TestNoModuleImports keeps the media plane independent: it may import
// nothing else of this module.
func TestNoModuleImports(t *testing.T) {
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("go command not found")
	}
	out, err := exec.Command(goBin, "list", "-deps", "-f", "{{.ImportPath}}", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const module = "github.com/kuayang/kuayang/"
	self := module + "sfu"
	deps := strings.Fields(string(out))
	if len(deps) == 0 {
		t.Fatal("go list printed nothing")
	}
	for _, dep := range deps {
		if strings.HasPrefix(dep, module) && dep != self {
			t.Errorf("sfu depends on %s", dep)
		}
	}
}
