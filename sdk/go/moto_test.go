package cloudconn_test

import (
	"fmt"
	"io"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	cloudconn "github.com/cloudconn/cloudconn/sdk/go"
	ccaws "github.com/cloudconn/cloudconn/sdk/go/credentials/aws"
)

// S3 through moto with IAM enforced (sdk_moto_start in sdk/scripts/lib.sh):
// the sessions a second, --providers real server mints from moto's STS are
// the only keys moto takes, signature and policy checked.
func TestAWSProviderS3ThroughMoto(t *testing.T) {
	ctx := testContext(t)
	client, err := cloudconn.New(ctx, cloudconn.Config{
		Address: env(t, "CLOUDCONN_TEST_MOTO_ADDRESS"), Token: env(t, "CLOUDCONN_TEST_MOTO_TOKEN"),
		Workspace: env(t, "CLOUDCONN_TEST_MOTO_WORKSPACE"),
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Close() })
	creds := must(ccaws.New(client, env(t, "CLOUDCONN_TEST_MOTO_TAG"), cloudconn.IssueInput{Scope: "storage", Consumer: "go-sdk/test"}))(t)
	s3c := s3Client(env(t, "CLOUDCONN_TEST_MOTO_ENDPOINT"), creds)

	bucket, key, body := fmt.Sprintf("cloudconn-go-%d", os.Getpid()), "reports/q1.csv", "quarter,total\nq1,42\n"
	must(s3c.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: &bucket}))(t)
	must(s3c.PutObject(ctx, &s3.PutObjectInput{Bucket: &bucket, Key: &key, Body: strings.NewReader(body)}))(t)
	listed := must(s3c.ListBuckets(ctx, &s3.ListBucketsInput{}))(t)
	found := false
	for _, b := range listed.Buckets {
		found = found || aws.ToString(b.Name) == bucket
	}
	equal(t, "ListBuckets has "+bucket, found, true)
	got := must(s3c.GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key}))(t)
	read := must(io.ReadAll(got.Body))(t)
	got.Body.Close()
	equal(t, "the object's body", string(read), body)

	// moto checks the signature: the same session with a wrong secret is refused.
	c := must(creds.Retrieve(ctx))(t)
	wrong := awsStatic{c.AccessKeyID, c.SecretAccessKey + "x", c.SessionToken}
	_, err = s3.New(s3.Options{Region: "us-east-1", Credentials: wrong, BaseEndpoint: aws.String(env(t, "CLOUDCONN_TEST_MOTO_ENDPOINT")),
		UsePathStyle: true, RetryMaxAttempts: 1}).GetObject(ctx, &s3.GetObjectInput{Bucket: &bucket, Key: &key})
	if err == nil || !strings.Contains(err.Error(), "SignatureDoesNotMatch") {
		t.Fatalf("moto refuses a wrong signature: %v", err)
	}
}
