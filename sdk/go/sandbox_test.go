package cloudconn_test

import (
	"bufio"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	cloudconn "github.com/cloudconn/cloudconn/sdk/go"
)

// The --dev server's provider sandbox: its stand-ins listen on loopback
// ports the server does not publish, so they are found as the listening
// sockets of the server's process (scripts/test.sh exports its pid) that are
// not its gRPC port, each known by how it answers a request.

type sandboxURLs struct{ aws, gcp, azure, aura string }

var (
	sandboxOnce sync.Once
	sandbox     sandboxURLs
	sandboxErr  error
)

func sandboxEndpoints(t *testing.T) sandboxURLs {
	t.Helper()
	pid := env(t, "CLOUDCONN_TEST_SERVER_PID")
	grpcPort := env(t, "CLOUDCONN_TEST_ADDRESS")
	sandboxOnce.Do(func() { sandbox, sandboxErr = findSandbox(pid, grpcPort[strings.LastIndex(grpcPort, ":")+1:]) })
	if sandboxErr != nil {
		t.Fatalf("the provider sandbox of the --dev server (pid %s): %v", pid, sandboxErr)
	}
	return sandbox
}

func findSandbox(pid, grpcPort string) (sandboxURLs, error) {
	ports, err := listeningPorts(pid)
	if err != nil {
		return sandboxURLs{}, err
	}
	var found sandboxURLs
	hc := &http.Client{Timeout: 5 * time.Second}
	for _, port := range ports {
		if strconv.Itoa(port) == grpcPort {
			continue
		}
		base := fmt.Sprintf("http://127.0.0.1:%d", port)
		switch {
		case answers(hc, base+"/tokeninfo?access_token=x", http.StatusBadRequest, "invalid_token"):
			found.gcp = base
		case answers(hc, base+"/subscriptions/x?api-version=2022-12-01", http.StatusUnauthorized, "InvalidAuthenticationToken"):
			found.azure = base
		case answers(hc, base+"/", http.StatusForbidden, "MissingAuthenticationToken"):
			found.aws = base
		case answers(hc, base+"/v1/tenants", http.StatusUnauthorized, ""):
			found.aura = base
		}
	}
	if found.aws == "" || found.gcp == "" || found.azure == "" || found.aura == "" {
		return found, fmt.Errorf("not every stand-in found among ports %v: %+v", ports, found)
	}
	return found, nil
}

// answers is whether GET url answers status with word in the body.
func answers(hc *http.Client, url string, status int, word string) bool {
	res, err := hc.Get(url)
	if err != nil {
		return false
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	return res.StatusCode == status && strings.Contains(string(body), word)
}

// listeningPorts are the TCP ports pid listens on, from /proc: its socket
// inodes, matched against the listening sockets of its network namespace.
func listeningPorts(pid string) ([]int, error) {
	fds, err := os.ReadDir(filepath.Join("/proc", pid, "fd"))
	if err != nil {
		return nil, err
	}
	inodes := map[string]bool{}
	for _, fd := range fds {
		link, err := os.Readlink(filepath.Join("/proc", pid, "fd", fd.Name()))
		if inode, ok := strings.CutPrefix(link, "socket:["); err == nil && ok {
			inodes[strings.TrimSuffix(inode, "]")] = true
		}
	}
	var ports []int
	for _, table := range []string{"tcp", "tcp6"} {
		f, err := os.Open(filepath.Join("/proc", pid, "net", table))
		if err != nil {
			continue
		}
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			// sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode
			fields := strings.Fields(sc.Text())
			if len(fields) < 10 || fields[3] != "0A" || !inodes[fields[9]] {
				continue
			}
			local := fields[1]
			port, err := strconv.ParseInt(local[strings.LastIndex(local, ":")+1:], 16, 32)
			if err == nil {
				ports = append(ports, int(port))
			}
		}
		f.Close()
	}
	return ports, nil
}

// activeConnection creates tag (the scenario's values for provider, with
// scopes) in client's workspace and validates it to ACTIVE.
func activeConnection(t *testing.T, client *cloudconn.Client, provider cloudconn.Provider, tag string, scopes ...string) {
	t.Helper()
	ctx, conns := testContext(t), client.Cloud.Connections
	for _, step := range loadScenario(t).Flow {
		if step.Provider != provider {
			continue
		}
		must(conns.Create(ctx, cloudconn.CreateInput{Provider: provider, Name: tag, Scopes: scopes}))(t)
		must(conns.Complete(ctx, tag, step.Complete))(t)
		v := must(conns.Validate(ctx, tag))(t)
		equal(t, tag+" validation", v.State, cloudconn.Succeeded)
		return
	}
	t.Fatalf("the scenario has no %s connection", provider)
}
