// Package gcp gives Google's Go libraries an oauth2.TokenSource from a
// cloudconn connection, kept fresh across expiry:
//
//	ts, err := ccgcp.New(client, "prod_gcp", cloudconn.IssueInput{Scope: "storage", Consumer: "billing-api/prd"})
//	hc := &http.Client{Transport: &oauth2.Transport{Source: ts}}
//	svc, err := storage.NewService(ctx, option.WithHTTPClient(hc))   // google.golang.org/api/storage/v1
//
// Token answers from memory until the token's refresh point (see the
// module's README), so it needs no cache on top. oauth2.NewClient and
// option.WithTokenSource wrap a source in oauth2.ReuseTokenSource, which
// keeps a token until 10 s before its Expiry: that still works (Token is
// called again then and fetches a new one), but the refresh ahead of expiry
// is lost, and with it the spare lifetime that rides out an outage of
// cloudconn. Hence oauth2.Transport above; or wrap it yourself first in
// oauth2.ReuseTokenSourceWithExpiry(nil, ts, 20*time.Minute) (about a third
// of Google's one-hour tokens), which NewClient then keeps as is.
package gcp

import (
	"context"
	"log/slog"

	"golang.org/x/oauth2"

	cloudconn "github.com/cloudconn/cloudconn/sdk/go"
	"github.com/cloudconn/cloudconn/sdk/go/internal/refresh"
)

// TokenSource is an oauth2.TokenSource over one scope of a Google Cloud
// connection. Safe for concurrent use. Printing it (fmt, slog, JSON) shows
// its kind only, never a token.
type TokenSource struct {
	h *refresh.Holder
}

var _ oauth2.TokenSource = (*TokenSource)(nil)

// New is a source of tag's access tokens for input.Scope (an OAuth scope:
// storage is devstorage.full_control, …), issued to input.Consumer.
// Nothing is fetched until the first Token; bad arguments fail here as
// INVALID_ARGUMENT naming the field.
func New(client *cloudconn.Client, tag string, input cloudconn.IssueInput) (*TokenSource, error) {
	issue, err := refresh.FromClient(client, tag, input)
	if err != nil {
		return nil, err
	}
	return &TokenSource{h: refresh.New(issue, refresh.Options{})}, nil
}

// Token is TokenContext without a context of its own (oauth2.TokenSource
// has none): the client's Config.Timeout bounds the call.
func (s *TokenSource) Token() (*oauth2.Token, error) {
	return s.TokenContext(context.Background())
}

// TokenContext returns the access token, Expiry its real expiry. Failures
// are *cloudconn.Error: the server's refusal, or FAILED_PRECONDITION /
// WRONG_PROVIDER for a connection of another cloud.
func (s *TokenSource) TokenContext(ctx context.Context) (*oauth2.Token, error) {
	c, _, err := s.h.Get(ctx)
	if err != nil {
		return nil, err
	}
	if c.GCP == nil {
		return nil, refresh.WrongProvider(c, cloudconn.GCP)
	}
	return &oauth2.Token{AccessToken: c.GCP.AccessToken, TokenType: c.GCP.TokenType, Expiry: c.ExpireTime}, nil
}

// String, GoString, MarshalJSON and LogValue name the kind only, so no
// token reaches a log through fmt, slog or encoding/json.
func (s TokenSource) String() string               { return "cloudconn gcp.TokenSource" }
func (s TokenSource) GoString() string             { return s.String() }
func (s TokenSource) MarshalJSON() ([]byte, error) { return []byte(`{"provider":"gcp"}`), nil }
func (s TokenSource) LogValue() slog.Value         { return slog.StringValue(s.String()) }
