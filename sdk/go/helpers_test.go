package cloudconn_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	cloudconn "github.com/cloudconn/cloudconn/sdk/go"
)

// Shared by the tests: the server scripts/test.sh started, one client per
// test in a workspace no other test uses, and the shared scenario.

func env(t *testing.T, name string) string {
	t.Helper()
	v := os.Getenv(name)
	if v == "" {
		t.Fatalf("%s is not set: run the tests through scripts/test.sh, which starts the server", name)
	}
	return v
}

var workspaceSeq int64

// newClient connects to the test server in a fresh workspace.
func newClient(t *testing.T, label string) *cloudconn.Client {
	t.Helper()
	return newClientWith(t, label, env(t, "CLOUDCONN_TEST_TOKEN"))
}

func newClientWith(t *testing.T, label, token string) *cloudconn.Client {
	t.Helper()
	c, err := cloudconn.New(context.Background(), cloudconn.Config{Address: env(t, "CLOUDCONN_TEST_ADDRESS"), Token: token, Workspace: newWorkspace(label)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// newWorkspace is a workspace name no other test uses.
func newWorkspace(label string) string {
	slug := regexp.MustCompile(`[^a-z0-9]+`).ReplaceAllString(strings.ToLower(label), "-")
	workspace := fmt.Sprintf("go%d-%d-%s", os.Getpid(), atomic.AddInt64(&workspaceSeq, 1), slug)
	if len(workspace) > 63 {
		workspace = workspace[:63]
	}
	return workspace
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// expected is a failure the scenario names by gRPC code name and reason.
type expected struct {
	Code   cloudconn.Code `json:"code"` // "NOT_FOUND", as cloudconn.CodeNotFound
	Reason string         `json:"reason"`
}

type scenarioFile struct {
	Flow []struct {
		Provider        cloudconn.Provider    `json:"provider"`
		Create          cloudconn.CreateInput `json:"create"`
		Complete        cloudconn.Credentials `json:"complete"`
		CompleteBlank   cloudconn.Credentials `json:"complete_blank"`
		Fields          map[string]string     `json:"fields"`
		SecretFieldsSet []string              `json:"secret_fields_set"`
		Issue           cloudconn.IssueInput  `json:"issue"`
	} `json:"flow"`
	Update          cloudconn.UpdateInput `json:"update"`
	UpdatePartial   cloudconn.UpdateInput `json:"update_partial"`
	SecretMarker    string                `json:"secret_marker"`
	InvalidArgument struct {
		expected
		Create          cloudconn.CreateInput `json:"create"`
		FieldViolations []string              `json:"field_violations"`
	} `json:"invalid_argument"`
	NotFound struct {
		expected
		Tag      string                `json:"tag"`
		Complete cloudconn.Credentials `json:"complete"`
		Update   cloudconn.UpdateInput `json:"update"`
	} `json:"not_found"`
	AlreadyExists struct {
		expected
		Create cloudconn.CreateInput `json:"create"`
	} `json:"already_exists"`
	EtagConflict struct {
		expected
		Create        cloudconn.CreateInput `json:"create"`
		Update        cloudconn.UpdateInput `json:"update"`
		StaleUpdate   cloudconn.UpdateInput `json:"stale_update"`
		StaleComplete cloudconn.Credentials `json:"stale_complete"`
	} `json:"etag_conflict"`
	Watch struct {
		Create   cloudconn.CreateInput `json:"create"`
		Complete cloudconn.Credentials `json:"complete"`
		Update   cloudconn.UpdateInput `json:"update"`
		Events   []string              `json:"events"`
	} `json:"watch"`
}

func loadScenario(t *testing.T) scenarioFile {
	t.Helper()
	b, err := os.ReadFile("../scenario/scenario.json")
	if err != nil {
		t.Fatal(err)
	}
	var s scenarioFile
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// wantFailure asserts err is an *Error (through errors.As) with this code
// and reason, and returns it.
func wantFailure(t *testing.T, err error, want expected) *cloudconn.Error {
	t.Helper()
	var ce *cloudconn.Error
	if !errors.As(err, &ce) {
		t.Fatalf("want %v / %s, got %T %v", want.Code, want.Reason, err, err)
	}
	if ce.Code != want.Code || ce.Reason != want.Reason || ce.Message == "" {
		t.Fatalf("want %v / %s, got %v", want.Code, want.Reason, ce)
	}
	return ce
}

// must(call(…))(t) is call's value, or the test's end with its error.
func must[T any](v T, err error) func(*testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func equal[T comparable](t *testing.T, what string, got, want T) {
	t.Helper()
	if got != want {
		t.Fatalf("%s: got %v, want %v", what, got, want)
	}
}

func equalJSON(t *testing.T, what string, got, want interface{}) {
	t.Helper()
	g, _ := json.Marshal(got)
	w, _ := json.Marshal(want)
	if string(g) != string(w) {
		t.Fatalf("%s: got %s, want %s", what, g, w)
	}
}

// scheduledAfter asserts a successful validation scheduled its connection
// one re-validation interval (± 10 %) after the outcome, or not at all when
// the server's schedule is off. scripts/test.sh passes its environment to
// the server, whose default interval is a day.
func scheduledAfter(t *testing.T, v cloudconn.ValidationResult) {
	t.Helper()
	interval := 24 * time.Hour
	if ms := os.Getenv("CLOUDCONN_REVALIDATE_INTERVAL_MS"); ms != "" {
		n, err := strconv.ParseInt(ms, 10, 64)
		if err != nil {
			t.Fatalf("CLOUDCONN_REVALIDATE_INTERVAL_MS=%q: %v", ms, err)
		}
		interval = time.Duration(n) * time.Millisecond
	}
	next := v.Connection.NextValidationTime
	if interval == 0 {
		if !next.IsZero() {
			t.Fatalf("re-validation is off, yet the next validation is %v", next)
		}
		return
	}
	after, slack := next.Sub(v.EndTime), 5*time.Second
	if next.IsZero() || v.EndTime.IsZero() || after < interval*9/10-slack || after > interval*11/10+slack {
		t.Fatalf("next validation %v is not an interval (%v ± 10 %%) after the outcome at %v", next, interval, v.EndTime)
	}
}
