package cloudconn

import (
	"context"
	"time"

	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/fieldmaskpb"

	pb "github.com/cloudconn/cloudconn/sdk/go/gen/cloudconn/v1"
)

// Connections are the seed's calls (client.Cloud.Connections), each one RPC
// (Complete reads the connection first, to learn its provider).
type Connections struct{ c *caller }

// Create makes a connection in status "pending".
func (s *Connections) Create(ctx context.Context, input CreateInput) (Connection, error) {
	return unary(ctx, s.c, 0, func(ctx context.Context) (Connection, error) {
		p, err := providerValue(input.Provider)
		if err != nil {
			return Connection{}, err
		}
		res, err := s.c.rpc.CreateConnection(ctx, &pb.CreateConnectionRequest{
			Workspace:   s.c.workspace,
			Provider:    p,
			Tag:         input.Name,
			Scopes:      input.Scopes,
			DisplayName: input.DisplayName,
			Description: input.Description,
			RequestId:   input.RequestID,
		})
		return connectionOrErr(res, err)
	})
}

// Complete saves a new credential revision from the provider's snake_case
// fields. A blank field keeps the stored value. Options: IfMatch, AndValidate.
func (s *Connections) Complete(ctx context.Context, tag string, input Credentials, opts ...Option) (Connection, error) {
	o, err := resolve("Complete", opts, "IfMatch", "AndValidate")
	if err != nil {
		return Connection{}, err
	}
	return unary(ctx, s.c, 0, func(ctx context.Context) (Connection, error) {
		current, err := s.c.rpc.GetConnection(ctx, &pb.GetConnectionRequest{Workspace: s.c.workspace, Tag: tag})
		if err != nil {
			return Connection{}, err
		}
		req := &pb.CompleteConnectionRequest{Workspace: s.c.workspace, Tag: tag, Validate: o.validate, Etag: o.etag}
		if err := setCredentials(req, providerWord(current.GetProvider()), input); err != nil {
			return Connection{}, err
		}
		return connectionOrErr(s.c.rpc.CompleteConnection(ctx, req))
	})
}

// Validate tests the latest saved revision at the provider and waits for
// the outcome (60 s unless Wait says; Wait(0) returns at once). A failed
// validation is a result (State "failed", Error set), not an error.
// Options: Wait.
func (s *Connections) Validate(ctx context.Context, tag string, opts ...Option) (ValidationResult, error) {
	o, err := resolve("Validate", opts, "Wait")
	if err != nil {
		return ValidationResult{}, err
	}
	if o.wait < 0 {
		return ValidationResult{}, invalidArgument("wait", "must be 0 or more")
	}
	return unary(ctx, s.c, o.wait, func(ctx context.Context) (ValidationResult, error) {
		res, err := s.c.rpc.ValidateConnection(ctx, &pb.ValidateConnectionRequest{
			Workspace: s.c.workspace, Tag: tag, Wait: durationpb.New(o.wait),
		})
		if err != nil {
			return ValidationResult{}, err
		}
		if res.GetValidation() == nil || res.GetConnection() == nil {
			return ValidationResult{}, &Error{Code: CodeInternal, Reason: "INTERNAL", Message: "the server answered without a validation"}
		}
		return ValidationResult{Validation: validation(res.GetValidation()), Connection: connection(res.GetConnection())}, nil
	})
}

// Fetch returns one connection by tag.
func (s *Connections) Fetch(ctx context.Context, tag string) (Connection, error) {
	return unary(ctx, s.c, 0, func(ctx context.Context) (Connection, error) {
		return connectionOrErr(s.c.rpc.GetConnection(ctx, &pb.GetConnectionRequest{Workspace: s.c.workspace, Tag: tag}))
	})
}

// List returns every connection of the workspace, ordered by tag: all pages
// are fetched before it returns. Options: OfProvider, OfStatus, PageSize.
func (s *Connections) List(ctx context.Context, opts ...Option) ([]Connection, error) {
	o, err := resolve("List", opts, "OfProvider", "OfStatus", "PageSize")
	if err != nil {
		return nil, err
	}
	req := &pb.ListConnectionsRequest{Workspace: s.c.workspace, PageSize: o.pageSize}
	if o.provider != "" {
		if req.Provider, err = providerValue(o.provider); err != nil {
			return nil, err
		}
	}
	if o.status != "" {
		if req.Status, err = statusValue(o.status); err != nil {
			return nil, err
		}
	}
	return unary(ctx, s.c, 0, func(ctx context.Context) ([]Connection, error) {
		all := []Connection{}
		for {
			res, err := s.c.rpc.ListConnections(ctx, req)
			if err != nil {
				return nil, err
			}
			for _, c := range res.GetConnections() {
				all = append(all, connection(c))
			}
			if req.PageToken = res.GetNextPageToken(); req.PageToken == "" {
				return all, nil
			}
		}
	})
}

// Update changes only the fields set in input (they make the update mask).
// Options: IfMatch.
func (s *Connections) Update(ctx context.Context, tag string, input UpdateInput, opts ...Option) (Connection, error) {
	o, err := resolve("Update", opts, "IfMatch")
	if err != nil {
		return Connection{}, err
	}
	req := &pb.UpdateConnectionRequest{
		Workspace: s.c.workspace, Tag: tag, Etag: o.etag,
		DisplayName: input.DisplayName, Description: input.Description, Scopes: input.Scopes,
		UpdateMask: &fieldmaskpb.FieldMask{},
	}
	for _, f := range []struct {
		path string
		set  bool
	}{{"display_name", input.DisplayName != nil}, {"description", input.Description != nil}, {"scopes", input.Scopes != nil}} {
		if f.set {
			req.UpdateMask.Paths = append(req.UpdateMask.Paths, f.path)
		}
	}
	return unary(ctx, s.c, 0, func(ctx context.Context) (Connection, error) {
		return connectionOrErr(s.c.rpc.UpdateConnection(ctx, req))
	})
}

// Delete deletes the connection and every stored credential revision.
// Options: IfMatch.
func (s *Connections) Delete(ctx context.Context, tag string, opts ...Option) error {
	o, err := resolve("Delete", opts, "IfMatch")
	if err != nil {
		return err
	}
	_, err = unary(ctx, s.c, 0, func(ctx context.Context) (struct{}, error) {
		_, err := s.c.rpc.DeleteConnection(ctx, &pb.DeleteConnectionRequest{Workspace: s.c.workspace, Tag: tag, Etag: o.etag})
		return struct{}{}, err
	})
	return err
}

// Setup returns the connection's setup kit: ordered steps with the
// policies, templates and scripts the customer applies at the provider, for
// its saved credential kind (else the provider's default), or for the kind
// OfKind names.
func (s *Connections) Setup(ctx context.Context, tag string, opts ...Option) (SetupInstructions, error) {
	o, err := resolve("Setup", opts, "OfKind")
	if err != nil {
		return SetupInstructions{}, err
	}
	return unary(ctx, s.c, 0, func(ctx context.Context) (SetupInstructions, error) {
		res, err := s.c.rpc.GetSetupInstructions(ctx, &pb.GetSetupInstructionsRequest{Workspace: s.c.workspace, Tag: tag, Kind: o.kind})
		if err != nil {
			return SetupInstructions{}, err
		}
		return setupInstructions(res), nil
	})
}

// unary runs fn under the client's deadline (plus extra) and turns its
// error into an *Error.
func unary[T any](ctx context.Context, c *caller, extra time.Duration, fn func(context.Context) (T, error)) (T, error) {
	ctx, cancel := c.deadline(ctx, extra)
	defer cancel()
	v, err := fn(ctx)
	return v, toError(ctx, err)
}

func connectionOrErr(c *pb.Connection, err error) (Connection, error) {
	if err != nil {
		return Connection{}, err
	}
	return connection(c), nil
}
