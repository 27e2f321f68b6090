package cloudconn

import (
	"context"

	"google.golang.org/protobuf/types/known/durationpb"

	pb "github.com/cloudconn/cloudconn/sdk/go/gen/cloudconn/v1"
)

// CredentialsService is the run step (client.Cloud.Credentials): short-lived
// credentials for components.
type CredentialsService struct{ c *caller }

// Issue returns short-lived, least-privilege credentials for one scope of an
// ACTIVE connection, for the component named by input.Consumer. The token
// needs the connections:use scope.
func (s *CredentialsService) Issue(ctx context.Context, tag string, input IssueInput) (IssuedCredentials, error) {
	if input.TTL < 0 {
		return IssuedCredentials{}, invalidArgument("ttl", "must be 0 or more")
	}
	return unary(ctx, s.c, 0, func(ctx context.Context) (IssuedCredentials, error) {
		req := &pb.IssueCredentialsRequest{Workspace: s.c.workspace, Tag: tag, Scope: input.Scope, Consumer: input.Consumer}
		if input.TTL > 0 {
			req.Ttl = durationpb.New(input.TTL)
		}
		res, err := s.c.rpc.IssueCredentials(ctx, req)
		if err != nil {
			return IssuedCredentials{}, err
		}
		return issuedCredentials(res), nil
	})
}
