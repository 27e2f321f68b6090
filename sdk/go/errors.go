package cloudconn

import (
	"context"
	"errors"
	"fmt"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Error is every failure of an SDK call. Branch on Reason (stable, from
// google.rpc.ErrorInfo) or Code, never on Message:
//
//	var ce *cloudconn.Error
//	if errors.As(err, &ce) && ce.Reason == "CONNECTION_NOT_FOUND" { … }
type Error struct {
	// The gRPC status code, e.g. codes.InvalidArgument, codes.NotFound.
	Code codes.Code
	// The stable machine reason (google.rpc.ErrorInfo.reason):
	// CONNECTION_NOT_FOUND, TAG_ALREADY_EXISTS, ETAG_MISMATCH, … When the
	// server sent none (the call never reached it), the code's name, e.g.
	// "UNAVAILABLE".
	Reason string
	// For people.
	Message string
	// Every bad field (google.rpc.BadRequest), for INVALID_ARGUMENT.
	FieldViolations []FieldViolation
	// google.rpc.ErrorInfo.metadata, e.g. {"cause": "…"} for UNAUTHENTICATED.
	Metadata map[string]string
	// google.rpc.ErrorInfo.domain ("cloudconn.v1"), or "".
	Domain string
	// google.rpc.RetryInfo: how long to wait before retrying, 0 when unsaid.
	RetryDelay time.Duration

	cause error
}

// FieldViolation is one bad request field (google.rpc.BadRequest).
type FieldViolation struct {
	Field       string
	Description string
}

func (e *Error) Error() string {
	return fmt.Sprintf("cloudconn: %s (%s): %s", codeName(e.Code), e.Reason, e.Message)
}

// Unwrap gives the context's error when the caller's context ended the
// call, so errors.Is(err, context.DeadlineExceeded) holds.
func (e *Error) Unwrap() error { return e.cause }

// GRPCStatus lets status.Code(err) and status.FromError(err) read it.
func (e *Error) GRPCStatus() *status.Status { return status.New(e.Code, e.Message) }

// codeNames are the gRPC spec's names, as the other SDKs spell them.
var codeNames = [...]string{"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
	"ALREADY_EXISTS", "PERMISSION_DENIED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED", "OUT_OF_RANGE",
	"UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS", "UNAUTHENTICATED"}

// codeName is the gRPC spec's name of c, e.g. "NOT_FOUND".
func codeName(c codes.Code) string {
	if int(c) < len(codeNames) {
		return codeNames[c]
	}
	return c.String()
}

// invalidArgument is a caller's mistake found before any request is sent.
func invalidArgument(field, description string) *Error {
	return &Error{
		Code:            codes.InvalidArgument,
		Reason:          "INVALID_ARGUMENT",
		Message:         fmt.Sprintf("invalid fields: %s; %s: %s", field, field, description),
		FieldViolations: []FieldViolation{{Field: field, Description: description}},
		Metadata:        map[string]string{},
	}
}

// toError turns whatever a call returned into an *Error (one already is
// passes through).
func toError(ctx context.Context, err error) error {
	if err == nil {
		return nil
	}
	var ce *Error
	if errors.As(err, &ce) {
		return ce
	}
	s := status.Convert(err)
	e := &Error{Code: s.Code(), Message: s.Message(), Metadata: map[string]string{}, cause: ctx.Err()}
	for _, d := range s.Details() {
		switch d := d.(type) {
		case *errdetails.ErrorInfo:
			e.Reason, e.Domain = d.GetReason(), d.GetDomain()
			for k, v := range d.GetMetadata() {
				e.Metadata[k] = v
			}
		case *errdetails.BadRequest:
			for _, v := range d.GetFieldViolations() {
				e.FieldViolations = append(e.FieldViolations, FieldViolation{Field: v.GetField(), Description: v.GetDescription()})
			}
		case *errdetails.RetryInfo:
			if rd := d.GetRetryDelay(); rd != nil {
				e.RetryDelay = time.Duration(rd.GetSeconds())*time.Second + time.Duration(rd.GetNanos())
			}
		}
	}
	if e.Reason == "" {
		e.Reason = codeName(e.Code)
	}
	return e
}
