package cloudconn_test

import (
	"os/exec"
	"strings"
	"testing"
)

// A user of one cloud compiles that cloud's library only: each provider is
// a package of its own, and the client needs none of them.
func TestProviderPackagesCompileOneCloudEach(t *testing.T) {
	clouds := map[string]string{
		"aws": "github.com/aws/", "azure": "github.com/Azure/", "gcp": "golang.org/x/oauth2",
	}
	packages := map[string]string{
		".": "", "./credentials/aws": "aws", "./credentials/azure": "azure", "./credentials/gcp": "gcp",
		"./credentials/atlas": "", "./credentials/aura": "",
	}
	for pkg, own := range packages {
		out, err := exec.Command("go", "list", "-deps", pkg).CombinedOutput()
		if err != nil {
			t.Fatalf("go list -deps %s: %v\n%s", pkg, err, out)
		}
		deps := string(out)
		for cloud, prefix := range clouds {
			if has := strings.Contains(deps, prefix); has != (cloud == own) {
				t.Errorf("%s imports %s: %v, want %v", pkg, prefix, has, cloud == own)
			}
		}
	}
}
