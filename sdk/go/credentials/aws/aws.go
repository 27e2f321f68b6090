// Package aws gives aws-sdk-go-v2 clients credentials from a cloudconn
// connection, kept fresh across expiry:
//
//	creds, err := ccaws.New(client, "prod_aws", cloudconn.IssueInput{Scope: "storage", Consumer: "billing-api/prd"})
//	s3c := s3.New(s3.Options{Region: "us-east-1", Credentials: creds})
//
// Hand it to a client as is. Service clients (s3.New, …) call Retrieve
// before each request, and Retrieve answers from memory until the
// credential's refresh point (see the module's README), so no cache is
// needed on top. Wrapping it in aws.NewCredentialsCache (which
// config.LoadDefaultConfig with config.WithCredentialsProvider does for you)
// still works, but the cache keeps a credential until its Expires (less its
// ExpiryWindow, 0 by default), so the refresh ahead of expiry is lost:
// credentials are replaced only as they run out, with no spare lifetime to
// ride out an outage of cloudconn. With a cache, give it an ExpiryWindow of
// about a third of the TTL asked (5 minutes for the default 15).
package aws

import (
	"context"
	"log/slog"

	awssdk "github.com/aws/aws-sdk-go-v2/aws"

	cloudconn "github.com/cloudconn/cloudconn/sdk/go"
	"github.com/cloudconn/cloudconn/sdk/go/internal/refresh"
)

// Source is what Provider.Retrieve's credentials say they came from.
const Source = "cloudconn"

// Provider is an aws.CredentialsProvider over one scope of an AWS
// connection. Safe for concurrent use. Printing it (fmt, slog, JSON) shows
// its kind only, never a key.
type Provider struct {
	h *refresh.Holder
}

var _ awssdk.CredentialsProvider = (*Provider)(nil)

// New is a provider of tag's session credentials for input.Scope, issued to
// input.Consumer (input.TTL long, 0 for the server's 15 minutes). Nothing
// is fetched until the first Retrieve; bad arguments fail here as
// INVALID_ARGUMENT naming the field.
func New(client *cloudconn.Client, tag string, input cloudconn.IssueInput) (*Provider, error) {
	issue, err := refresh.FromClient(client, tag, input)
	if err != nil {
		return nil, err
	}
	return &Provider{h: refresh.New(issue, refresh.Options{})}, nil
}

// Retrieve returns the session credentials, with Expires their real
// expiry. Failures are *cloudconn.Error: the server's refusal (NOT_ACTIVE,
// CONNECTION_NOT_FOUND, …), or FAILED_PRECONDITION / WRONG_PROVIDER for a
// connection of another cloud.
func (p *Provider) Retrieve(ctx context.Context) (awssdk.Credentials, error) {
	c, _, err := p.h.Get(ctx)
	if err != nil {
		return awssdk.Credentials{}, err
	}
	if c.AWS == nil {
		return awssdk.Credentials{}, refresh.WrongProvider(c, cloudconn.AWS)
	}
	return awssdk.Credentials{
		AccessKeyID:     c.AWS.AccessKeyID,
		SecretAccessKey: c.AWS.SecretAccessKey,
		SessionToken:    c.AWS.SessionToken,
		Source:          Source,
		CanExpire:       true,
		Expires:         c.ExpireTime,
	}, nil
}

// String, GoString, MarshalJSON and LogValue name the kind only, so no
// key reaches a log through fmt, slog or encoding/json.
func (p Provider) String() string               { return "cloudconn aws.Provider" }
func (p Provider) GoString() string             { return p.String() }
func (p Provider) MarshalJSON() ([]byte, error) { return []byte(`{"provider":"aws"}`), nil }
func (p Provider) LogValue() slog.Value         { return slog.StringValue(p.String()) }
