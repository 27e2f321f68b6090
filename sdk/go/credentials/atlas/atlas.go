// Package atlas gives MongoDB connection strings with a temporary Atlas
// database user from a cloudconn connection, kept fresh across expiry; no
// MongoDB library needed:
//
//	conns, err := atlas.New(client, "prod_atlas", cloudconn.IssueInput{Scope: "database", Consumer: "billing-api/prd"},
//		"cluster0.abcde.mongodb.net")
//	uri, err := conns.ConnectionString(ctx) // mongodb+srv://<user>:<password>@cluster0.abcde.mongodb.net/?authSource=admin
//	mc, err := mongo.Connect(options.Client().ApplyURI(uri))
//
// A driver authenticates each new connection with the user it was given,
// so open a new client with a fresh ConnectionString before
// ConnectionStringExpiry's time: the server takes turns between two users
// per consumer, so the user you hold keeps working until its expiry while
// the next one is already issued.
package atlas

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	cloudconn "github.com/cloudconn/cloudconn/sdk/go"
	"github.com/cloudconn/cloudconn/sdk/go/internal/refresh"
)

// ConnectionStrings are the connection strings of one scope of an Atlas
// connection for one cluster. Safe for concurrent use. Printing it (fmt,
// slog, JSON) shows its kind and host only, never the password.
type ConnectionStrings struct {
	h    *refresh.Holder
	host string
}

// New is tag's connection strings for input.Scope, issued to
// input.Consumer, for the cluster at host: the cluster's SRV host name
// ("cluster0.abcde.mongodb.net": mongodb+srv://), or host:port for one
// server (mongodb://). Nothing is fetched until the first call; bad
// arguments, a missing or malformed host among them, fail here as
// INVALID_ARGUMENT naming the field.
func New(client *cloudconn.Client, tag string, input cloudconn.IssueInput, host string) (*ConnectionStrings, error) {
	if host == "" {
		return nil, refresh.InvalidArgument("host", "is required: the cluster's host name, e.g. cluster0.abcde.mongodb.net")
	}
	if strings.ContainsAny(host, "/@?#,; \t\r\n") {
		return nil, refresh.InvalidArgument("host", "must be a host name or host:port, without scheme, user, path or options")
	}
	issue, err := refresh.FromClient(client, tag, input)
	if err != nil {
		return nil, err
	}
	return &ConnectionStrings{h: refresh.New(issue, refresh.Options{}), host: host}, nil
}

// ConnectionString is the current connection string, the user's name and
// password percent-encoded. Failures are *cloudconn.Error: the server's
// refusal, or FAILED_PRECONDITION / WRONG_PROVIDER for a connection of
// another kind.
func (s *ConnectionStrings) ConnectionString(ctx context.Context) (string, error) {
	uri, _, err := s.ConnectionStringExpiry(ctx)
	return uri, err
}

// ConnectionStringExpiry is ConnectionString and when its user expires.
func (s *ConnectionStrings) ConnectionStringExpiry(ctx context.Context) (string, time.Time, error) {
	c, _, err := s.h.Get(ctx)
	if err != nil {
		return "", time.Time{}, err
	}
	u := c.MongoDBAtlas
	if u == nil {
		return "", time.Time{}, refresh.WrongProvider(c, cloudconn.MongoDBAtlas)
	}
	scheme := "mongodb+srv"
	if _, _, err := net.SplitHostPort(s.host); err == nil {
		scheme = "mongodb" // SRV names take no port
	}
	database := u.Database
	if database == "" {
		database = "admin"
	}
	return fmt.Sprintf("%s://%s:%s@%s/?authSource=%s", scheme, escape(u.Username), escape(u.Password), s.host, escape(database)),
		c.ExpireTime, nil
}

// escape percent-encodes all but RFC 3986's unreserved characters: MongoDB
// requires ": / ? # [ ] @" encoded in the user part, and encoding more is
// always read back the same.
func escape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || strings.IndexByte("-._~", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}

// String, GoString, MarshalJSON and LogValue name the kind and host only,
// so no password reaches a log through fmt, slog or encoding/json.
func (s ConnectionStrings) String() string {
	return "cloudconn atlas.ConnectionStrings{host: " + s.host + "}"
}
func (s ConnectionStrings) GoString() string { return s.String() }
func (s ConnectionStrings) MarshalJSON() ([]byte, error) {
	return json.Marshal(map[string]string{"provider": "mongodb_atlas", "host": s.host})
}
func (s ConnectionStrings) LogValue() slog.Value { return slog.StringValue(s.String()) }
