package cloudconn_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	cloudconn "github.com/cloudconn/cloudconn/sdk/go"
)

// What the scenario does not say: Go's own surface (options, contexts,
// errors.As, status.Code), the catalogue, the setup kit, pages, and a
// failed validation being a result.

var invalid = expected{Code: cloudconn.CodeInvalidArgument, Reason: "INVALID_ARGUMENT"}

func TestNewChecksConfig(t *testing.T) {
	_, err := cloudconn.New(context.Background(), cloudconn.Config{Address: "127.0.0.1:1", Token: "t"})
	ce := wantFailure(t, err, invalid)
	equal(t, "field", ce.FieldViolations[0].Field, "workspace")
	// Refused before sending: the status is made of Code and Message.
	equal(t, "Error()", err.Error(), "cloudconn: INVALID_ARGUMENT (INVALID_ARGUMENT): invalid fields: workspace; workspace: must be a non-empty string")
	equal(t, "status.Code", status.Code(err), codes.InvalidArgument)
}

// The error API: the code by its canonical name, in Error() too; the
// server's gRPC status, details and all, through status.FromError.
func TestErrorAPI(t *testing.T) {
	nf := loadScenario(t).NotFound
	_, err := newClient(t, "errors").Cloud.Connections.Fetch(testContext(t), nf.Tag)
	ce := wantFailure(t, err, nf.expected)
	equal(t, "code", ce.Code, cloudconn.CodeNotFound)
	equal(t, "code's name", string(ce.Code), "NOT_FOUND")
	equal(t, "Error()", err.Error(), "cloudconn: NOT_FOUND ("+nf.Reason+"): "+ce.Message)
	equal(t, "domain", ce.Domain, "cloudconn.v1")

	s, ok := status.FromError(err)
	equal(t, "status.FromError ok", ok, true)
	equal(t, "status code", s.Code(), codes.NotFound)
	equal(t, "status message", s.Message(), ce.Message)
	reason := ""
	for _, d := range s.Details() {
		if info, ok := d.(*errdetails.ErrorInfo); ok {
			reason = info.GetReason()
		}
	}
	equal(t, "the status's ErrorInfo reason", reason, nf.Reason)
}

func TestCallerMistakesAreRefusedBeforeSending(t *testing.T) {
	ctx, conns := testContext(t), newClient(t, "mistakes").Cloud.Connections
	_, err := conns.Create(ctx, cloudconn.CreateInput{Provider: "oracle", Name: "db", Scopes: []string{"database"}})
	equal(t, "field", wantFailure(t, err, invalid).FieldViolations[0].Field, "provider")
	_, err = conns.List(ctx, cloudconn.IfMatch("x"))
	equal(t, "option", wantFailure(t, err, invalid).FieldViolations[0].Field, "IfMatch")
	_, err = conns.List(ctx, cloudconn.OfStatus("ACTIVE"))
	equal(t, "field", wantFailure(t, err, invalid).FieldViolations[0].Field, "status")

	must(conns.Create(ctx, cloudconn.CreateInput{Provider: cloudconn.Azure, Name: "az", Scopes: []string{"storage"}}))(t)
	_, err = conns.Complete(ctx, "az", cloudconn.Credentials{"role_arn": "arn:aws:iam::123456789012:role/x"})
	ce := wantFailure(t, err, invalid)
	equal(t, "field", ce.FieldViolations[0].Field, "role_arn")
	if !strings.Contains(ce.FieldViolations[0].Description, "client_secret") {
		t.Fatalf("the description names the expected fields: %q", ce.FieldViolations[0].Description)
	}
}

func TestContextDeadlineIsHonoured(t *testing.T) {
	conns := newClient(t, "deadline").Cloud.Connections
	ctx, cancel := context.WithTimeout(context.Background(), time.Nanosecond)
	defer cancel()
	time.Sleep(time.Millisecond)
	_, err := conns.List(ctx)
	ce := wantFailure(t, err, expected{Code: cloudconn.CodeDeadlineExceeded, Reason: "DEADLINE_EXCEEDED"})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("errors.Is(%v, context.DeadlineExceeded) is false", ce)
	}
	equal(t, "status.Code", status.Code(err), codes.DeadlineExceeded)

	// A validation that waits longer than the caller's context ends with it.
	ctx = testContext(t)
	must(conns.Create(ctx, cloudconn.CreateInput{Provider: cloudconn.AWS, Name: "slow", Scopes: []string{"storage"}}))(t)
	must(conns.Complete(ctx, "slow", cloudconn.Credentials{"role_arn": "arn:aws:iam::123456789012:role/sandbox-throttled"}))(t)
	short, cancel2 := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel2()
	start := time.Now()
	_, err = conns.Validate(short, "slow")
	wantFailure(t, err, expected{Code: cloudconn.CodeDeadlineExceeded, Reason: "DEADLINE_EXCEEDED"})
	if time.Since(start) > 5*time.Second {
		t.Fatalf("Validate returned after %v, not at the caller's deadline", time.Since(start))
	}
}

func TestUnavailableServer(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	c, err := cloudconn.New(context.Background(), cloudconn.Config{Address: "http://" + addr, Token: "t", Workspace: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = c.Cloud.Connections.List(testContext(t))
	ce := wantFailure(t, err, expected{Code: cloudconn.CodeUnavailable, Reason: "UNAVAILABLE"})
	equal(t, "violations", len(ce.FieldViolations), 0)
}

func TestUnauthenticated(t *testing.T) {
	c := newClientWith(t, "auth", "not-a-token")
	ctx := testContext(t)
	_, err := c.Cloud.Connections.List(ctx)
	ce := wantFailure(t, err, expected{Code: cloudconn.CodeUnauthenticated, Reason: "UNAUTHENTICATED"})
	if ce.Metadata["cause"] == "" {
		t.Fatalf("no cause in %v", ce.Metadata)
	}
	same := expected{Code: ce.Code, Reason: ce.Reason}
	_, err = c.Providers(ctx)
	wantFailure(t, err, same)
	// A refused watch fails in Watch, or (a trailers-only answer) in the first Next.
	w, err := c.Cloud.Connections.Watch(ctx)
	if err == nil {
		defer w.Close()
		_, err = w.Next()
	}
	wantFailure(t, err, same)
}

func TestProvidersAndSetup(t *testing.T) {
	ctx, c := testContext(t), newClient(t, "providers")
	providers := must(c.Providers(ctx))(t)
	var words []string
	for _, p := range providers {
		words = append(words, string(p.Provider))
	}
	equal(t, "providers", strings.Join(words, ","), "aws,gcp,azure,mongodb_atlas,neo4j_aura")
	equal(t, "aws fields", providers[0].Fields[0].Name, "role_arn")

	created := must(c.Cloud.Connections.Create(ctx, cloudconn.CreateInput{Provider: cloudconn.AWS, Name: "prod_aws", Scopes: []string{"storage"}}))(t)
	kit := must(c.Cloud.Connections.Setup(ctx, "prod_aws"))(t)
	equal(t, "kit provider", kit.Provider, cloudconn.AWS)
	found := false
	for _, step := range kit.Steps {
		for _, a := range step.Artifacts {
			found = found || (a.Name == "trust-policy.json" && strings.Contains(a.Content, created.ExternalID))
		}
	}
	equal(t, "trust policy with the external id", found, true)
}

// A keyless connection: the kind in the catalogue, its kit, and ACTIVE
// with nothing secret stored (the sandbox's STS checks the server's token).
func TestKeylessConnection(t *testing.T) {
	ctx, c := testContext(t), newClient(t, "keyless")
	aws := must(c.Providers(ctx))(t)[0]
	equal(t, "keyless first", aws.Kinds[0].Name+" "+fmt.Sprint(aws.Kinds[0].Keyless), "web_identity true")
	equal(t, "default kind", aws.DefaultKind, "assume_role")

	created := must(c.Cloud.Connections.Create(ctx, cloudconn.CreateInput{Provider: cloudconn.AWS, Name: "keyless_aws", Scopes: []string{"storage"}}))(t)
	kit := must(c.Cloud.Connections.Setup(ctx, "keyless_aws", cloudconn.OfKind("web_identity")))(t)
	subject := "workspace:" + created.Workspace + ":connection:" + created.UID
	found := false
	for _, step := range kit.Steps {
		for _, a := range step.Artifacts {
			found = found || (a.Name == "trust-policy.json" && strings.Contains(a.Content, subject))
		}
	}
	equal(t, "the kit trusts this connection", found, true)
	saved := must(c.Cloud.Connections.Complete(ctx, "keyless_aws", cloudconn.Credentials{
		"kind": "web_identity", "role_arn": "arn:aws:iam::123456789012:role/go-keyless",
	}))(t)
	equal(t, "kind", saved.Credentials.Fields["kind"], "web_identity")
	equal(t, "no secret", len(saved.Credentials.SecretFieldsSet), 0)
	done := must(c.Cloud.Connections.Validate(ctx, "keyless_aws"))(t)
	equal(t, "status", done.Connection.Status, cloudconn.Active)
}

func TestListPagesAndFilters(t *testing.T) {
	ctx, conns := testContext(t), newClient(t, "pages").Cloud.Connections
	for i := 0; i < 7; i++ {
		p, scopes := cloudconn.AWS, []string{"storage"}
		if i%2 == 1 {
			p, scopes = cloudconn.Neo4jAura, []string{"database"}
		}
		must(conns.Create(ctx, cloudconn.CreateInput{Provider: p, Name: fmt.Sprintf("conn_%02d", i), Scopes: scopes}))(t)
	}
	equal(t, "all over pages of 3", len(must(conns.List(ctx, cloudconn.PageSize(3)))(t)), 7)
	aws := must(conns.List(ctx, cloudconn.PageSize(2), cloudconn.OfProvider(cloudconn.AWS)))(t)
	equal(t, "aws", len(aws), 4)
	equal(t, "last aws", aws[3].Tag, "conn_06")
	equal(t, "active", len(must(conns.List(ctx, cloudconn.OfStatus(cloudconn.Active)))(t)), 0)
}

func TestFailedValidationIsAResult(t *testing.T) {
	ctx, conns := testContext(t), newClient(t, "failed").Cloud.Connections
	must(conns.Create(ctx, cloudconn.CreateInput{Provider: cloudconn.Azure, Name: "az", Scopes: []string{"storage"}}))(t)
	must(conns.Complete(ctx, "az", cloudconn.Credentials{
		"tenant_id": "11111111-2222-3333-4444-555555555555", "subscription_id": "66666666-7777-8888-9999-000000000000",
		"client_id": "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee", "client_secret": "sandbox-denied",
	}))(t)
	queued := must(conns.Validate(ctx, "az", cloudconn.Wait(0)))(t)
	if queued.State != cloudconn.Queued && queued.State != cloudconn.Running && queued.State != cloudconn.ValidationFailed {
		t.Fatalf("Wait(0): state %q", queued.State)
	}
	v := must(conns.Validate(ctx, "az"))(t)
	equal(t, "state", v.State, cloudconn.ValidationFailed)
	equal(t, "code", v.Error.Code, "ACCESS_DENIED")
	if v.Error.Hint == "" || len(v.Error.MissingPermissions) == 0 {
		t.Fatalf("no hint or missing permissions: %+v", v.Error)
	}
	equal(t, "status", v.Connection.Status, cloudconn.Failed)
}
