package cloudconn_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/arm"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/cloud"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	azruntime "github.com/Azure/azure-sdk-for-go/sdk/azcore/runtime"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"golang.org/x/oauth2"

	cloudconn "github.com/cloudconn/cloudconn/sdk/go"
	"github.com/cloudconn/cloudconn/sdk/go/credentials/atlas"
	"github.com/cloudconn/cloudconn/sdk/go/credentials/aura"
	ccaws "github.com/cloudconn/cloudconn/sdk/go/credentials/aws"
	ccazure "github.com/cloudconn/cloudconn/sdk/go/credentials/azure"
	ccgcp "github.com/cloudconn/cloudconn/sdk/go/credentials/gcp"
)

// The credential providers through the clouds' own Go libraries, against
// the --dev server's provider sandbox, which checks what it is sent: the
// AWS session key and token, the Azure token's audience, the Google
// token's OAuth scopes, the Aura token.

var billing = cloudconn.IssueInput{Scope: "storage", Consumer: "billing-api/prd"}

// s3Client is an aws-sdk-go-v2 S3 client of endpoint with creds, path-style
// and without retries (a refusal shows at once).
func s3Client(endpoint string, creds *ccaws.Provider) *s3.Client {
	return s3.New(s3.Options{
		Region: "us-east-1", Credentials: creds, BaseEndpoint: &endpoint, UsePathStyle: true, RetryMaxAttempts: 1,
	})
}

func TestAWSProviderListsBucketsInTheSandbox(t *testing.T) {
	ctx, client := testContext(t), newClient(t, "aws-provider")
	activeConnection(t, client, cloudconn.AWS, "prod_aws", "storage")
	creds := must(ccaws.New(client, "prod_aws", billing))(t)

	endpoint := sandboxEndpoints(t).aws
	out, err := s3Client(endpoint, creds).ListBuckets(ctx, &s3.ListBucketsInput{})
	if err != nil {
		t.Fatalf("ListBuckets with the provider's session: %v", err)
	}
	if out.Owner == nil {
		t.Fatalf("ListBuckets answered no owner: %+v", out)
	}
	c := must(creds.Retrieve(ctx))(t)
	equal(t, "source", c.Source, ccaws.Source)
	equal(t, "can expire", c.CanExpire, true)
	issued := must(client.Cloud.Credentials.Issue(ctx, "prod_aws", billing))(t)
	// The server's cache answers the same credential: Expires is its expiry.
	equal(t, "expires", c.Expires.Equal(issued.ExpireTime), true)
	equal(t, "key", c.AccessKeyID, issued.AWS.AccessKeyID)

	// The sandbox checks the session token with the key: a client without
	// the provider is refused, so the call above proves the provider's.
	_, err = s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: &endpoint, UsePathStyle: true, RetryMaxAttempts: 1,
		Credentials: awsStatic{c.AccessKeyID, c.SecretAccessKey, "not-the-token"}}).ListBuckets(ctx, &s3.ListBucketsInput{})
	if err == nil || !strings.Contains(err.Error(), "InvalidClientTokenId") && !strings.Contains(err.Error(), "token") {
		t.Fatalf("a wrong session token is refused by the sandbox: %v", err)
	}
}

func TestAzureCredentialThroughARM(t *testing.T) {
	ctx, client := testContext(t), newClient(t, "azure-provider")
	activeConnection(t, client, cloudconn.Azure, "prod_azure", "functions")
	cred := must(ccazure.New(client, "prod_azure", cloudconn.IssueInput{Scope: "functions", Consumer: "billing-api/prd"}))(t)
	endpoint := sandboxEndpoints(t).azure

	armClient := func(audience string) *arm.Client {
		opts := &arm.ClientOptions{
			ClientOptions: policy.ClientOptions{
				Cloud: cloud.Configuration{
					ActiveDirectoryAuthorityHost: endpoint,
					Services:                     map[cloud.ServiceName]cloud.ServiceConfiguration{cloud.ResourceManager: {Audience: audience, Endpoint: endpoint}},
				},
				// The sandbox is plain http: azcore's documented escape hatch
				// for test endpoints (it refuses bearer tokens over http).
				InsecureAllowCredentialWithHTTP: true,
				Retry:                           policy.RetryOptions{MaxRetries: -1},
			},
			DisableRPRegistration: true,
		}
		return must(arm.NewClient("cloudconn-test", "v0.0.1", cred, opts))(t)
	}
	subscription := "66666666-7777-8888-9999-000000000000"
	get := func(c *arm.Client) (*http.Response, error) {
		req, err := azruntime.NewRequest(ctx, http.MethodGet, azruntime.JoinPaths(c.Endpoint(), "subscriptions", subscription))
		if err != nil {
			t.Fatal(err)
		}
		q := req.Raw().URL.Query()
		q.Set("api-version", "2022-12-01")
		req.Raw().URL.RawQuery = q.Encode()
		return c.Pipeline().Do(req)
	}

	res, err := get(armClient("https://management.azure.com"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	equal(t, "ARM status "+string(body), res.StatusCode, http.StatusOK)
	var sub struct{ SubscriptionID string }
	if err := json.Unmarshal(body, &sub); err != nil {
		t.Fatal(err)
	}
	equal(t, "subscription", sub.SubscriptionID, subscription)

	tok := must(cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{"https://management.azure.com/.default"}}))(t)
	equal(t, "the token's audience", jwtClaim(t, tok.Token, "aud"), "https://management.azure.com")
	if !tok.RefreshOn.Before(tok.ExpiresOn) || !tok.RefreshOn.After(time.Now()) {
		t.Fatalf("RefreshOn %v is between now and ExpiresOn %v", tok.RefreshOn, tok.ExpiresOn)
	}

	// A functions connection gives no storage token: refused, naming both,
	// directly and through azcore's pipeline, before any request is sent.
	_, err = cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{"https://storage.azure.com/.default"}})
	mismatch := wantFailure(t, err, expected{Code: cloudconn.CodeInvalidArgument, Reason: "AUDIENCE_MISMATCH"})
	for _, word := range []string{"https://storage.azure.com/.default", "https://management.azure.com/.default"} {
		if !strings.Contains(mismatch.Message, word) {
			t.Fatalf("the refusal names %s: %s", word, mismatch.Message)
		}
	}
	_, err = get(armClient("https://storage.azure.com"))
	wantFailure(t, err, expected{Code: cloudconn.CodeInvalidArgument, Reason: "AUDIENCE_MISMATCH"})
}

func TestGCPTokenSourceListsBuckets(t *testing.T) {
	ctx, client := testContext(t), newClient(t, "gcp-provider")
	activeConnection(t, client, cloudconn.GCP, "prod_gcp", "storage")
	ts := must(ccgcp.New(client, "prod_gcp", billing))(t)
	endpoint := sandboxEndpoints(t).gcp

	hc := &http.Client{Transport: &oauth2.Transport{Source: ts}}
	res, err := hc.Get(endpoint + "/storage/v1/b?project=acme-prod-123")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	equal(t, "bucket list status "+string(body), res.StatusCode, http.StatusOK)
	var list struct{ Kind string }
	_ = json.Unmarshal(body, &list)
	equal(t, "kind", list.Kind, "storage#buckets")

	tok := must(ts.TokenContext(ctx))(t)
	equal(t, "token type", tok.Type(), "Bearer")
	res, err = http.Get(endpoint + "/tokeninfo?access_token=" + url.QueryEscape(tok.AccessToken))
	if err != nil {
		t.Fatal(err)
	}
	var info struct{ Scope string }
	_ = json.NewDecoder(res.Body).Decode(&info)
	res.Body.Close()
	equal(t, "the token's OAuth scope", info.Scope, "https://www.googleapis.com/auth/devstorage.full_control")
	// Through ReuseTokenSource too (oauth2.NewClient's): the same token.
	equal(t, "reused", must(oauth2.ReuseTokenSource(nil, ts).Token())(t).AccessToken, tok.AccessToken)
}

func TestAtlasConnectionString(t *testing.T) {
	ctx, client := testContext(t), newClient(t, "atlas-provider")
	activeConnection(t, client, cloudconn.MongoDBAtlas, "prod_atlas", "database")
	input := cloudconn.IssueInput{Scope: "database", Consumer: "billing-api/prd"}
	conns := must(atlas.New(client, "prod_atlas", input, "cluster0.abcde.mongodb.net"))(t)
	uri, expiry, err := conns.ConnectionStringExpiry(ctx)
	if err != nil {
		t.Fatal(err)
	}
	issued := must(client.Cloud.Credentials.Issue(ctx, "prod_atlas", input))(t)
	want := "mongodb+srv://" + url.UserPassword(issued.MongoDBAtlas.Username, issued.MongoDBAtlas.Password).String() +
		"@cluster0.abcde.mongodb.net/?authSource=admin"
	u := must(url.Parse(uri))(t)
	password, _ := u.User.Password()
	equal(t, "user", u.User.Username(), issued.MongoDBAtlas.Username)
	equal(t, "password", password, issued.MongoDBAtlas.Password)
	equal(t, "host", u.Host, "cluster0.abcde.mongodb.net")
	equal(t, "authSource", u.Query().Get("authSource"), "admin")
	equal(t, "scheme", u.Scheme, "mongodb+srv")
	equal(t, "expiry", expiry.Equal(issued.ExpireTime), true)
	if !regexp.MustCompile(`^cc-[0-9a-f]{12}-r1-[0-9a-f]{12}-[ab]$`).MatchString(u.User.Username()) || password == "" {
		t.Fatalf("a temporary user of the sandbox's Atlas: %q (connection string like %q)", u.User.Username(), want)
	}

	withPort := must(atlas.New(client, "prod_atlas", input, "127.0.0.1:27017"))(t)
	equal(t, "one server", strings.HasPrefix(must(withPort.ConnectionString(ctx))(t), "mongodb://"), true)
}

func TestAuraBearerToken(t *testing.T) {
	ctx, client := testContext(t), newClient(t, "aura-provider")
	activeConnection(t, client, cloudconn.Neo4jAura, "prod_aura", "database")
	tokens := must(aura.New(client, "prod_aura", cloudconn.IssueInput{Scope: "database", Consumer: "billing-api/prd"}))(t)
	var bearer func(context.Context) (string, error) = tokens.Token
	token := must(bearer(ctx))(t)

	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, sandboxEndpoints(t).aura+"/v1/tenants", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	equal(t, "the Aura API takes the token", res.StatusCode, http.StatusOK)
}

// A provider built on another cloud's connection says so.
func TestProviderOfAnotherCloud(t *testing.T) {
	ctx, client := testContext(t), newClient(t, "wrong-cloud")
	activeConnection(t, client, cloudconn.Neo4jAura, "prod_aura", "database")
	creds := must(ccaws.New(client, "prod_aura", cloudconn.IssueInput{Scope: "database", Consumer: "c"}))(t)
	_, err := creds.Retrieve(ctx)
	wantFailure(t, err, expected{Code: cloudconn.CodeFailedPrecondition, Reason: "WRONG_PROVIDER"})
}

// Bad arguments fail at construction, naming the field, for every provider.
func TestProvidersRefuseBadArguments(t *testing.T) {
	client := newClient(t, "provider-arguments")
	ok := cloudconn.IssueInput{Scope: "storage", Consumer: "c"}
	cases := []struct {
		field string
		tag   string
		input cloudconn.IssueInput
	}{
		{"tag", "", ok},
		{"scope", "t", cloudconn.IssueInput{Consumer: "c"}},
		{"consumer", "t", cloudconn.IssueInput{Scope: "storage"}},
		{"ttl", "t", cloudconn.IssueInput{Scope: "storage", Consumer: "c", TTL: -time.Second}},
	}
	build := map[string]func(tag string, in cloudconn.IssueInput) error{
		"aws":   func(tag string, in cloudconn.IssueInput) error { _, err := ccaws.New(client, tag, in); return err },
		"azure": func(tag string, in cloudconn.IssueInput) error { _, err := ccazure.New(client, tag, in); return err },
		"gcp":   func(tag string, in cloudconn.IssueInput) error { _, err := ccgcp.New(client, tag, in); return err },
		"aura":  func(tag string, in cloudconn.IssueInput) error { _, err := aura.New(client, tag, in); return err },
		"atlas": func(tag string, in cloudconn.IssueInput) error {
			_, err := atlas.New(client, tag, in, "h.example")
			return err
		},
	}
	for name, newProvider := range build {
		for _, c := range cases {
			err := newProvider(c.tag, c.input)
			equal(t, name+" "+c.field, wantFailure(t, err, invalid).FieldViolations[0].Field, c.field)
		}
	}
	for _, host := range []string{"", "mongodb+srv://h.example", "user@h.example", "h.example/db"} {
		_, err := atlas.New(client, "t", ok, host)
		equal(t, "atlas host "+host, wantFailure(t, err, invalid).FieldViolations[0].Field, "host")
	}
	_, err := ccaws.New(nil, "t", ok)
	equal(t, "client", wantFailure(t, err, invalid).FieldViolations[0].Field, "client")
}

// jwtClaim is claim of a JWT's payload (read, not verified).
func jwtClaim(t *testing.T, jwt, claim string) string {
	t.Helper()
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("not a JWT: %d parts", len(parts))
	}
	payload := must(base64.RawURLEncoding.DecodeString(parts[1]))(t)
	var claims map[string]interface{}
	if err := json.Unmarshal(payload, &claims); err != nil {
		t.Fatal(err)
	}
	s, _ := claims[claim].(string)
	return s
}

// awsStatic is fixed AWS credentials.
type awsStatic struct{ key, secret, token string }

func (s awsStatic) Retrieve(context.Context) (aws.Credentials, error) {
	return aws.Credentials{AccessKeyID: s.key, SecretAccessKey: s.secret, SessionToken: s.token}, nil
}
