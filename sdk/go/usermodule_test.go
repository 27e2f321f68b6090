package cloudconn_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// A user's program, built as users build it: a module of its own in a
// temporary directory that requires this SDK (a replace points it at this
// checkout), `go mod tidy`, `go build`, then the seed flow against the test
// server (testdata/usermodule/main.go), checked line by line.
func TestUserModule(t *testing.T) {
	address, token := env(t, "CLOUDCONN_TEST_ADDRESS"), env(t, "CLOUDCONN_TEST_TOKEN")
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Fatalf("no go command on PATH: %v", err)
	}
	sdk, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	source, err := os.ReadFile("testdata/usermodule/main.go")
	if err != nil {
		t.Fatal(err)
	}
	goMod := "module example.com/cloudconn-user\n\ngo 1.25.0\n\n" +
		"require github.com/cloudconn/cloudconn/sdk/go v0.0.0\n\n" +
		"replace github.com/cloudconn/cloudconn/sdk/go => " + sdk + "\n"
	for name, content := range map[string][]byte{"go.mod": []byte(goMod), "main.go": source} {
		if err := os.WriteFile(filepath.Join(dir, name), content, 0o644); err != nil {
			t.Fatal(err)
		}
	}

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	run := func(name string, args ...string) string {
		t.Helper()
		cmd := exec.CommandContext(ctx, name, args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GOWORK=off")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", filepath.Base(name), strings.Join(args, " "), err, out)
		}
		return string(out)
	}
	run(goCmd, "mod", "tidy")
	t.Logf("the user's module selects %s", strings.Join(strings.Fields(run(goCmd, "list", "-m", "google.golang.org/grpc", "google.golang.org/protobuf")), " "))
	run(goCmd, "build", "-o", "user", ".")
	out := run(filepath.Join(dir, "user"),
		"-address", address, "-token", token, "-workspace", newWorkspace("user-module"))
	want := strings.Join([]string{
		"created prod_aws aws pending storage,database",
		"completed prod_aws revision 1",
		"validated succeeded active",
		"got prod_aws active arn:aws:iam::123456789012:role/DuctapeAccess",
		"deleted prod_aws",
		"gone NOT_FOUND CONNECTION_NOT_FOUND",
	}, "\n") + "\n"
	equal(t, "the program's output", out, want)
}
