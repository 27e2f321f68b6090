// Package cloudconn is the Go client of cloudconn (cloudconn.v1.ConnectionService),
// in the seed's call shape: the address, token and workspace are given once;
// inputs take the seed's snake_case keys; results are plain structs with the
// seed's lower-case words ("aws", "active"); every failure is an *Error.
//
//	client, err := cloudconn.New(ctx, cloudconn.Config{Address: "127.0.0.1:50051", Token: token, Workspace: "acme"}) // loopback: plaintext
//	defer client.Close()
//	client.Cloud.Connections.Create(ctx, cloudconn.CreateInput{Provider: cloudconn.AWS, Name: "prod_aws", Scopes: []string{"storage"}})
//	client.Cloud.Connections.Complete(ctx, "prod_aws", cloudconn.Credentials{"role_arn": "arn:aws:iam::123456789012:role/DuctapeAccess"})
//	v, err := client.Cloud.Connections.Validate(ctx, "prod_aws") // waits for the outcome (≤ 60 s)
package cloudconn

import (
	"context"
	"crypto/tls"
	"net"
	"strings"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	pb "github.com/cloudconn/cloudconn/sdk/go/gen/cloudconn/v1"
)

// Config is what every call needs, given once.
type Config struct {
	// The server's gRPC address: "https://host[:port]" for TLS with the
	// system's roots, "http://host:port" for plaintext, or "host:port":
	// plaintext only when the host is loopback (127.0.0.0/8, ::1, localhost;
	// as written, never resolved, e.g. a --dev server), TLS otherwise. Other
	// gRPC targets ("dns:///host:port") get TLS.
	Address string
	// Sent as "authorization: Bearer <token>" on every call.
	Token string
	// Every call is scoped to this workspace.
	Workspace string
	// Deadline of each unary call unless the context's is sooner (default
	// 30 s); Validate adds its wait to it.
	Timeout time.Duration
	// Extra dial options, e.g. grpc.WithTransportCredentials for a private CA
	// (they come after the SDK's, so they win).
	DialOptions []grpc.DialOption
}

// Client is the entry point: client.Cloud.Connections, client.Cloud.Credentials.
type Client struct {
	Cloud Cloud

	conn *grpc.ClientConn
	call *caller
}

// Cloud groups the seed's calls.
type Cloud struct {
	Connections *Connections
	Credentials *CredentialsService
}

// caller is what every call needs: the generated client, the workspace, the
// deadline.
type caller struct {
	rpc       pb.ConnectionServiceClient
	workspace string
	timeout   time.Duration
}

// New makes a client. It does not wait for the server: a server that is not
// there makes the first call fail with UNAVAILABLE.
func New(ctx context.Context, cfg Config) (*Client, error) {
	for _, f := range []struct{ name, value string }{{"address", cfg.Address}, {"token", cfg.Token}, {"workspace", cfg.Workspace}} {
		if f.value == "" {
			return nil, invalidArgument(f.name, "must be a non-empty string")
		}
	}
	target, transport := transportFor(cfg.Address)
	bearer := "Bearer " + cfg.Token
	unary := func(ctx context.Context, method string, req, reply interface{}, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		return invoker(metadata.AppendToOutgoingContext(ctx, "authorization", bearer), method, req, reply, cc, opts...)
	}
	stream := func(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
		return streamer(metadata.AppendToOutgoingContext(ctx, "authorization", bearer), desc, cc, method, opts...)
	}
	dial := append([]grpc.DialOption{transport, grpc.WithUnaryInterceptor(unary), grpc.WithStreamInterceptor(stream)}, cfg.DialOptions...)
	conn, err := grpc.DialContext(ctx, strings.TrimSuffix(target, "/"), dial...) // not NewClient: that resolves by DNS and ignores DialOptions such as WithBlock
	if err != nil {
		return nil, toError(ctx, err)
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	c := &caller{rpc: pb.NewConnectionServiceClient(conn), workspace: cfg.Workspace, timeout: timeout}
	return &Client{
		Cloud: Cloud{Connections: &Connections{c}, Credentials: &CredentialsService{c}},
		conn:  conn,
		call:  c,
	}, nil
}

// transportFor is the dial target and transport security an address means.
// A bare "host:port" is plaintext only on loopback: the bearer token is added
// by an interceptor, which gRPC's "no credentials over plaintext" check never
// sees, so "cloudconn.example.com:443" must not mean plaintext.
func transportFor(address string) (string, grpc.DialOption) {
	tlsCreds := grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{MinVersion: tls.VersionTLS12}))
	plaintext := grpc.WithTransportCredentials(insecure.NewCredentials())
	switch {
	case strings.HasPrefix(address, "https://"):
		return strings.TrimPrefix(address, "https://"), tlsCreds
	case strings.HasPrefix(address, "http://"):
		return strings.TrimPrefix(address, "http://"), plaintext
	case strings.Contains(address, "://"):
		return address, tlsCreds
	}
	host := address
	if h, _, err := net.SplitHostPort(address); err == nil {
		host = h
	}
	if isLoopbackHost(host) {
		return address, plaintext
	}
	return address, tlsCreds
}

// isLoopbackHost: 127.0.0.0/8, ::1 or localhost, as written (a name's answer
// can change, the literal cannot).
func isLoopbackHost(host string) bool {
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Close ends the client's connection to the server.
func (c *Client) Close() error { return c.conn.Close() }

// Providers is the provider catalogue: each provider's credential fields
// (secret, required, pattern) and allowed scopes.
func (c *Client) Providers(ctx context.Context) ([]ProviderSpec, error) {
	ctx, cancel := c.call.deadline(ctx, 0)
	defer cancel()
	res, err := c.call.rpc.ListProviders(ctx, &pb.ListProvidersRequest{})
	if err != nil {
		return nil, toError(ctx, err)
	}
	out := make([]ProviderSpec, 0, len(res.GetProviders()))
	for _, p := range res.GetProviders() {
		out = append(out, providerSpec(p))
	}
	return out, nil
}

// deadline bounds one unary call by the client's timeout (plus extra),
// unless the caller's context ends sooner.
func (c *caller) deadline(ctx context.Context, extra time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, c.timeout+extra)
}
