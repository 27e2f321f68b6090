package cloudconn_test

import (
	"testing"

	cloudconn "github.com/cloudconn/cloudconn/sdk/go"
)

// The --dev server's provider sandbox: where its stand-ins listen, from
// the client file the server writes (scripts/test.sh exports them).

type sandboxURLs struct{ aws, gcp, azure, aura string }

func sandboxEndpoints(t *testing.T) sandboxURLs {
	t.Helper()
	return sandboxURLs{
		aws:   env(t, "CLOUDCONN_TEST_SANDBOX_AWS"),
		gcp:   env(t, "CLOUDCONN_TEST_SANDBOX_GCP"),
		azure: env(t, "CLOUDCONN_TEST_SANDBOX_AZURE"),
		aura:  env(t, "CLOUDCONN_TEST_SANDBOX_NEO4J_AURA"),
	}
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
