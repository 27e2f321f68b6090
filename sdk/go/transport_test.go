package cloudconn_test

import (
	"bytes"
	"context"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	cloudconn "github.com/cloudconn/cloudconn/sdk/go"
)

// Which transport an address means, seen from the wire: a listener that
// answers nothing records what each connection sends first. A bare
// host:port whose host is not loopback as written must open with a TLS
// ClientHello, never an HTTP/2 request carrying the token; loopback and
// http:// stay plaintext.

const canary = "REAL-TOKEN-CANARY-go"

// loopbackAlias is a name for this machine that the SDK cannot tell is
// loopback (it reads the host as written and never resolves it) but that
// resolves to loopback only, and the address to listen on: a listener there
// stands for "a server elsewhere" while every byte stays on this machine.
// Debian's /etc/hosts maps the hostname to 127.0.1.1. Without such a name
// the test fails rather than fall back to an address off loopback, which
// tests must not send to.
func loopbackAlias(t *testing.T) (name, ip string) {
	t.Helper()
	name, err := os.Hostname()
	if err != nil {
		t.Fatal(err)
	}
	addrs, _ := net.LookupIP(name)
	ok := len(addrs) > 0 && !strings.EqualFold(name, "localhost") && net.ParseIP(name) == nil
	for _, a := range addrs {
		ok = ok && a.IsLoopback()
	}
	if !ok {
		t.Fatalf("this test needs the hostname to be a name other than localhost that resolves to loopback only, "+
			"as Debian's /etc/hosts line `127.0.1.1 %s` makes it; %q resolves to %v", name, name, addrs)
	}
	return name, addrs[0].String()
}

// firstBytes listens on host, makes one call to address(port) (it fails:
// nothing answers) and returns what each connection sent.
func firstBytes(t *testing.T, host string, address func(port string) string) [][]byte {
	t.Helper()
	l, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	var mu sync.Mutex
	var seen [][]byte
	var readers sync.WaitGroup
	accepting := make(chan struct{})
	go func() {
		defer close(accepting)
		for {
			conn, err := l.Accept()
			if err != nil {
				return
			}
			readers.Add(1)
			go func() {
				defer readers.Done()
				defer conn.Close()
				// Until the client pauses for 300 ms (its first bytes may
				// take longer on a loaded machine).
				_ = conn.SetReadDeadline(time.Now().Add(5 * time.Second))
				var got bytes.Buffer
				buf := make([]byte, 16384)
				for {
					n, err := conn.Read(buf)
					got.Write(buf[:n])
					if err != nil {
						break
					}
					_ = conn.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
				}
				mu.Lock()
				seen = append(seen, got.Bytes())
				mu.Unlock()
			}()
		}
	}()
	_, port, _ := net.SplitHostPort(l.Addr().String())
	c, err := cloudconn.New(context.Background(), cloudconn.Config{Address: address(port), Token: canary, Workspace: "acme", Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, err := c.Providers(context.Background()); err == nil {
		t.Fatal("nothing answers there, yet the call succeeded")
	}
	// Every Add happens before the acceptor ends, so before Wait.
	l.Close()
	<-accepting
	readers.Wait()
	mu.Lock()
	defer mu.Unlock()
	return seen
}

func TestBareAddressOffThisMachineGetsTLS(t *testing.T) {
	name, ip := loopbackAlias(t)
	seen := firstBytes(t, ip, func(port string) string { return net.JoinHostPort(name, port) })
	if len(seen) == 0 {
		t.Fatal("the client never connected")
	}
	for _, b := range seen {
		if len(b) < 2 || b[0] != 0x16 || b[1] != 0x03 {
			t.Fatalf("a TLS handshake first, got %q", b[:min(len(b), 16)])
		}
		if bytes.Contains(b, []byte(canary)) {
			t.Fatal("the token crossed the network in clear")
		}
	}
}

func TestLoopbackAndExplicitHTTPArePlaintext(t *testing.T) {
	name, ip := loopbackAlias(t)
	for _, tc := range []struct {
		host    string
		address func(port string) string
	}{
		{"127.0.0.1", func(port string) string { return "127.0.0.1:" + port }},
		{"127.0.0.1", func(port string) string { return "localhost:" + port }},
		{ip, func(port string) string { return "http://" + net.JoinHostPort(name, port) }},
	} {
		seen := firstBytes(t, tc.host, tc.address)
		if len(seen) == 0 || !strings.HasPrefix(string(seen[0]), "PRI * HTTP/2.0") {
			t.Fatalf("%s: plaintext HTTP/2 expected, got %q", tc.address("1"), seen)
		}
	}
}
