// Package azure gives Azure SDK clients an azcore.TokenCredential from a
// cloudconn connection, kept fresh across expiry:
//
//	cred, err := ccazure.New(client, "prod_azure", cloudconn.IssueInput{Scope: "functions", Consumer: "billing-api/prd"})
//	arm.NewClient(module, version, cred, &arm.ClientOptions{ClientOptions: policy.ClientOptions{Cloud: cloud.Configuration{
//		Services: map[cloud.ServiceName]cloud.ServiceConfiguration{cloud.ResourceManager: {
//			Audience: "https://management.azure.com", Endpoint: "https://management.azure.com"}}}}})
//
// A connection scope gives tokens for one resource (its audience: storage
// https://storage.azure.com, database https://database.windows.net,
// messaging https://servicebus.azure.net, functions
// https://management.azure.com), so GetToken answers only for that
// resource's "<audience>/.default" and refuses any other scope, naming both.
// Note that cloud.AzurePublic names Resource Manager's audience
// https://management.core.windows.net/, another resource: set the audience
// above for ARM clients.
//
// azcore's bearer token policy keeps a token until its RefreshOn, which
// GetToken sets to the token's refresh point (see the module's README), so
// the refresh rule holds through Azure's own caching.
package azure

import (
	"context"
	"fmt"
	"log/slog"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	cloudconn "github.com/cloudconn/cloudconn/sdk/go"
	"github.com/cloudconn/cloudconn/sdk/go/internal/refresh"
)

// Credential is an azcore.TokenCredential over one scope of an Azure
// connection. Safe for concurrent use. Printing it (fmt, slog, JSON) shows
// its kind only, never a token.
type Credential struct {
	h *refresh.Holder
}

var _ azcore.TokenCredential = (*Credential)(nil)

// New is a credential for tag's tokens for input.Scope, issued to
// input.Consumer. Nothing is fetched until the first GetToken; bad
// arguments fail here as INVALID_ARGUMENT naming the field.
func New(client *cloudconn.Client, tag string, input cloudconn.IssueInput) (*Credential, error) {
	issue, err := refresh.FromClient(client, tag, input)
	if err != nil {
		return nil, err
	}
	return &Credential{h: refresh.New(issue, refresh.Options{})}, nil
}

// GetToken returns the connection scope's token when options.Scopes is
// exactly its resource ("<audience>/.default"; a trailing slash on the
// audience is the same resource, as Entra ID reads it). Anything else is
// INVALID_ARGUMENT / AUDIENCE_MISMATCH naming the scopes asked and the one it
// can give. ExpiresOn is the token's real expiry, RefreshOn its refresh point.
func (c *Credential) GetToken(ctx context.Context, options policy.TokenRequestOptions) (azcore.AccessToken, error) {
	issued, refreshAt, err := c.h.Get(ctx)
	if err != nil {
		return azcore.AccessToken{}, err
	}
	if issued.Azure == nil {
		return azcore.AccessToken{}, refresh.WrongProvider(issued, cloudconn.Azure)
	}
	audience := issued.Azure.Audience
	if len(options.Scopes) != 1 || resource(options.Scopes[0]) != strings.TrimSuffix(audience, "/") {
		return azcore.AccessToken{}, &cloudconn.Error{
			Code: cloudconn.CodeInvalidArgument, Reason: "AUDIENCE_MISMATCH", Metadata: map[string]string{},
			FieldViolations: []cloudconn.FieldViolation{{Field: "scopes", Description: "must be " + audience + "/.default"}},
			Message: fmt.Sprintf("asked for a token for %q, but connection %q scope %q gives tokens for %s only (%s/.default)",
				strings.Join(options.Scopes, " "), issued.Tag, issued.Scope, audience, audience),
		}
	}
	return azcore.AccessToken{Token: issued.Azure.AccessToken, ExpiresOn: issued.ExpireTime, RefreshOn: refreshAt}, nil
}

// resource is the resource a "<resource>/.default" scope names, "" for
// another form of scope.
func resource(scope string) string {
	r, ok := strings.CutSuffix(scope, "/.default")
	if !ok {
		return ""
	}
	return strings.TrimSuffix(r, "/")
}

// String, GoString, MarshalJSON and LogValue name the kind only, so no
// token reaches a log through fmt, slog or encoding/json.
func (c Credential) String() string               { return "cloudconn azure.Credential" }
func (c Credential) GoString() string             { return c.String() }
func (c Credential) MarshalJSON() ([]byte, error) { return []byte(`{"provider":"azure"}`), nil }
func (c Credential) LogValue() slog.Value         { return slog.StringValue(c.String()) }
