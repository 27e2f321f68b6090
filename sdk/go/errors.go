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
//	if errors.As(err, &ce) && ce.Code == cloudconn.CodeNotFound { … }
//
// The gRPC status stays reachable through GRPCStatus, so status.Code(err)
// and status.FromError(err) (google.golang.org/grpc/status) work on it too.
type Error struct {
	// The gRPC status code by its canonical name, e.g. CodeInvalidArgument
	// ("INVALID_ARGUMENT"), CodeNotFound ("NOT_FOUND").
	Code Code
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

	status *status.Status // as the call returned it, details and all; nil when the SDK refused the call itself
	cause  error
}

// Code is a gRPC status code by the gRPC spec's canonical name, as the
// other SDKs and the server's messages spell it.
type Code string

// The gRPC status codes (there is no OK: an Error is never a success).
const (
	CodeCancelled          Code = "CANCELLED"
	CodeUnknown            Code = "UNKNOWN"
	CodeInvalidArgument    Code = "INVALID_ARGUMENT"
	CodeDeadlineExceeded   Code = "DEADLINE_EXCEEDED"
	CodeNotFound           Code = "NOT_FOUND"
	CodeAlreadyExists      Code = "ALREADY_EXISTS"
	CodePermissionDenied   Code = "PERMISSION_DENIED"
	CodeResourceExhausted  Code = "RESOURCE_EXHAUSTED"
	CodeFailedPrecondition Code = "FAILED_PRECONDITION"
	CodeAborted            Code = "ABORTED"
	CodeOutOfRange         Code = "OUT_OF_RANGE"
	CodeUnimplemented      Code = "UNIMPLEMENTED"
	CodeInternal           Code = "INTERNAL"
	CodeUnavailable        Code = "UNAVAILABLE"
	CodeDataLoss           Code = "DATA_LOSS"
	CodeUnauthenticated    Code = "UNAUTHENTICATED"
)

// FieldViolation is one bad request field (google.rpc.BadRequest).
type FieldViolation struct {
	Field       string
	Description string
}

func (e *Error) Error() string {
	return fmt.Sprintf("cloudconn: %s (%s): %s", e.Code, e.Reason, e.Message)
}

// Unwrap gives the context's error when the caller's context ended the
// call, so errors.Is(err, context.DeadlineExceeded) holds.
func (e *Error) Unwrap() error { return e.cause }

// GRPCStatus lets status.Code(err) and status.FromError(err) read it: the
// status the call ended with, its details (ErrorInfo, BadRequest,
// RetryInfo) included; for a call the SDK refused before sending, one made
// of Code and Message.
func (e *Error) GRPCStatus() *status.Status {
	if e.status != nil {
		return e.status
	}
	return status.New(grpcCode(e.Code), e.Message)
}

// codeNames are the gRPC codes' canonical names, by number.
var codeNames = [...]Code{codes.OK: "OK", codes.Canceled: CodeCancelled, codes.Unknown: CodeUnknown,
	codes.InvalidArgument: CodeInvalidArgument, codes.DeadlineExceeded: CodeDeadlineExceeded, codes.NotFound: CodeNotFound,
	codes.AlreadyExists: CodeAlreadyExists, codes.PermissionDenied: CodePermissionDenied,
	codes.ResourceExhausted: CodeResourceExhausted, codes.FailedPrecondition: CodeFailedPrecondition,
	codes.Aborted: CodeAborted, codes.OutOfRange: CodeOutOfRange, codes.Unimplemented: CodeUnimplemented,
	codes.Internal: CodeInternal, codes.Unavailable: CodeUnavailable, codes.DataLoss: CodeDataLoss,
	codes.Unauthenticated: CodeUnauthenticated}

// codeName is c's canonical name, e.g. "NOT_FOUND"; UNKNOWN for a number
// the spec does not define (as gRPC itself treats them).
func codeName(c codes.Code) Code {
	if int(c) < len(codeNames) {
		return codeNames[c]
	}
	return CodeUnknown
}

// grpcCode is the gRPC code named c (codes.Unknown for no name).
func grpcCode(c Code) codes.Code {
	for i, name := range codeNames {
		if name == c {
			return codes.Code(i)
		}
	}
	return codes.Unknown
}

// invalidArgument is a caller's mistake found before any request is sent.
func invalidArgument(field, description string) *Error {
	return &Error{
		Code:            CodeInvalidArgument,
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
	e := &Error{Code: codeName(s.Code()), Message: s.Message(), Metadata: map[string]string{}, status: s, cause: ctx.Err()}
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
		e.Reason = string(e.Code)
	}
	return e
}
