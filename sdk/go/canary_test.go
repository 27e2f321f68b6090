package cloudconn_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log"
	"log/slog"
	"strings"
	"testing"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"

	cloudconn "github.com/cloudconn/cloudconn/sdk/go"
	"github.com/cloudconn/cloudconn/sdk/go/credentials/atlas"
	"github.com/cloudconn/cloudconn/sdk/go/credentials/aura"
	ccaws "github.com/cloudconn/cloudconn/sdk/go/credentials/aws"
	ccazure "github.com/cloudconn/cloudconn/sdk/go/credentials/azure"
	ccgcp "github.com/cloudconn/cloudconn/sdk/go/credentials/gcp"
)

// No secret the providers hold shows in what a program prints of them:
// fmt's verbs, encoding/json, slog's handlers, the log package, errors.
// The canaries are the real secrets each provider was issued.
func TestProvidersKeepSecretsOutOfOutput(t *testing.T) {
	ctx, client := testContext(t), newClient(t, "provider-canaries")
	activeConnection(t, client, cloudconn.AWS, "prod_aws", "storage")
	activeConnection(t, client, cloudconn.Azure, "prod_azure", "functions")
	activeConnection(t, client, cloudconn.GCP, "prod_gcp", "storage")
	activeConnection(t, client, cloudconn.MongoDBAtlas, "prod_atlas", "database")
	activeConnection(t, client, cloudconn.Neo4jAura, "prod_aura", "database")
	database := cloudconn.IssueInput{Scope: "database", Consumer: "billing-api/prd"}

	awsCreds := must(ccaws.New(client, "prod_aws", billing))(t)
	azCred := must(ccazure.New(client, "prod_azure", cloudconn.IssueInput{Scope: "functions", Consumer: "billing-api/prd"}))(t)
	gcpTS := must(ccgcp.New(client, "prod_gcp", billing))(t)
	atlasConns := must(atlas.New(client, "prod_atlas", database, "cluster0.abcde.mongodb.net"))(t)
	auraTokens := must(aura.New(client, "prod_aura", database))(t)

	a := must(awsCreds.Retrieve(ctx))(t)
	az := must(azCred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{"https://management.azure.com/.default"}}))(t)
	g := must(gcpTS.TokenContext(ctx))(t)
	atlasIssued := must(client.Cloud.Credentials.Issue(ctx, "prod_atlas", database))(t)
	must(atlasConns.ConnectionString(ctx))(t)
	auraToken := must(auraTokens.Token(ctx))(t)
	canaries := map[string]string{
		"aws secret key": a.SecretAccessKey, "aws session token": a.SessionToken, "azure token": az.Token,
		"gcp token": g.AccessToken, "atlas password": atlasIssued.MongoDBAtlas.Password, "aura token": auraToken,
	}
	for what, v := range canaries {
		if len(v) < 8 {
			t.Fatalf("%s: no real secret to look for (%d characters)", what, len(v))
		}
	}

	var out bytes.Buffer
	providers := []interface{}{awsCreds, azCred, gcpTS, atlasConns, auraTokens}
	logger := log.New(&out, "", 0)
	text := slog.New(slog.NewTextHandler(&out, nil))
	jsonLog := slog.New(slog.NewJSONHandler(&out, nil))
	for _, p := range providers {
		for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
			fmt.Fprintf(&out, verb+"\n", p)
		}
		// The struct itself, not the pointer, too.
		fmt.Fprintf(&out, "%+v %#v\n", deref(p), deref(p))
		b, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		out.Write(b)
		logger.Printf("provider %v", p)
		text.Info("provider", "p", p)
		jsonLog.Info("provider", "p", p)
	}
	// Errors: a refused scope, and a wrong cloud.
	_, err := azCred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{"https://storage.azure.com/.default"}})
	fmt.Fprintf(&out, "%v %+v\n", err, err)
	wrong := must(ccaws.New(client, "prod_gcp", billing))(t)
	_, err = wrong.Retrieve(ctx)
	fmt.Fprintf(&out, "%v %+v\n", err, err)

	printed := out.String()
	for what, v := range canaries {
		if strings.Contains(printed, v) {
			t.Errorf("the %s shows in the output", what)
		}
	}
	for _, word := range []string{"aws.Provider", "azure.Credential", "gcp.TokenSource", "atlas.ConnectionStrings", "aura.Tokens", "AUDIENCE_MISMATCH", "WRONG_PROVIDER"} {
		if !strings.Contains(printed, word) {
			t.Errorf("the output names %s:\n%s", word, printed)
		}
	}
}

func deref(p interface{}) interface{} {
	switch p := p.(type) {
	case *ccaws.Provider:
		return *p
	case *ccazure.Credential:
		return *p
	case *ccgcp.TokenSource:
		return *p
	case *atlas.ConnectionStrings:
		return *p
	case *aura.Tokens:
		return *p
	}
	return p
}
