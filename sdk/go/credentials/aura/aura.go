// Package aura gives bearer tokens for the Neo4j Aura API from a cloudconn
// connection, kept fresh across expiry; no cloud library needed:
//
//	tokens, err := aura.New(client, "prod_aura", cloudconn.IssueInput{Scope: "database", Consumer: "billing-api/prd"})
//	token, err := tokens.Token(ctx) // per request: "Authorization: Bearer " + token
//
// tokens.Token is the bearer-token function (func(context.Context) (string,
// error)) to hand to code that asks for one. It answers from memory until
// the token's refresh point (see the module's README): call it per request
// rather than keeping its answer.
package aura

import (
	"context"
	"log/slog"
	"time"

	cloudconn "github.com/cloudconn/cloudconn/sdk/go"
	"github.com/cloudconn/cloudconn/sdk/go/internal/refresh"
)

// Tokens are the Aura API tokens of one scope of an Aura connection. Safe
// for concurrent use. Printing it (fmt, slog, JSON) shows its kind only,
// never a token.
type Tokens struct {
	h *refresh.Holder
}

// New is tag's tokens for input.Scope, issued to input.Consumer. Nothing is
// fetched until the first Token; bad arguments fail here as
// INVALID_ARGUMENT naming the field.
func New(client *cloudconn.Client, tag string, input cloudconn.IssueInput) (*Tokens, error) {
	issue, err := refresh.FromClient(client, tag, input)
	if err != nil {
		return nil, err
	}
	return &Tokens{h: refresh.New(issue, refresh.Options{})}, nil
}

// Token is the bearer token. Failures are *cloudconn.Error: the server's
// refusal, or FAILED_PRECONDITION / WRONG_PROVIDER for a connection of
// another kind.
func (t *Tokens) Token(ctx context.Context) (string, error) {
	token, _, err := t.TokenExpiry(ctx)
	return token, err
}

// TokenExpiry is Token and when the token expires, for code that keeps a
// token and must know until when.
func (t *Tokens) TokenExpiry(ctx context.Context) (string, time.Time, error) {
	c, _, err := t.h.Get(ctx)
	if err != nil {
		return "", time.Time{}, err
	}
	if c.Neo4jAura == nil {
		return "", time.Time{}, refresh.WrongProvider(c, cloudconn.Neo4jAura)
	}
	return c.Neo4jAura.AccessToken, c.ExpireTime, nil
}

// String, GoString, MarshalJSON and LogValue name the kind only, so no
// token reaches a log through fmt, slog or encoding/json.
func (t Tokens) String() string               { return "cloudconn aura.Tokens" }
func (t Tokens) GoString() string             { return t.String() }
func (t Tokens) MarshalJSON() ([]byte, error) { return []byte(`{"provider":"neo4j_aura"}`), nil }
func (t Tokens) LogValue() slog.Value         { return slog.StringValue(t.String()) }
