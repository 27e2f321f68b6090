package cloudconn

import (
	"context"
	"errors"
	"io"
	"sync/atomic"

	pb "github.com/cloudconn/cloudconn/sdk/go/gen/cloudconn/v1"
)

// Watcher is a live stream of lifecycle events. Call Next until it returns
// an error; Close ends it early.
type Watcher struct {
	stream pb.ConnectionService_WatchConnectionsClient
	ctx    context.Context
	cancel context.CancelFunc
	closed atomic.Bool
}

// Watch streams the workspace's lifecycle events (ForTag: one
// connection's). It returns once the server has answered: every change
// committed after it returns is delivered. A refusal (UNAUTHENTICATED, …) is
// returned by Watch or, when the server answered with trailers only, by the
// first Next. Options: ForTag.
func (s *Connections) Watch(ctx context.Context, opts ...Option) (*Watcher, error) {
	o, err := resolve("Watch", opts, "ForTag")
	if err != nil {
		return nil, err
	}
	// No client timeout: a watch runs until the caller ends it.
	ctx, cancel := context.WithCancel(ctx)
	stream, err := s.c.rpc.WatchConnections(ctx, &pb.WatchConnectionsRequest{Workspace: s.c.workspace, Tag: o.tag})
	if err == nil {
		_, err = stream.Header() // the server sends its headers once it has joined the stream
	}
	if err != nil {
		defer cancel()
		return nil, toError(ctx, err)
	}
	return &Watcher{stream: stream, ctx: ctx, cancel: cancel}, nil
}

// Next blocks until the next event. It returns io.EOF once the stream has
// ended (the server ended it, or Close was called), and an *Error when it
// failed (its Unwrap gives context.Canceled when the caller's context ended it).
func (w *Watcher) Next() (ConnectionEvent, error) {
	e, err := w.stream.Recv()
	switch {
	case err == nil:
		return connectionEvent(e), nil
	case errors.Is(err, io.EOF) || w.closed.Load():
		return ConnectionEvent{}, io.EOF
	default:
		return ConnectionEvent{}, toError(w.ctx, err)
	}
}

// Close ends the stream; a Next blocked in another goroutine returns io.EOF.
func (w *Watcher) Close() error {
	w.closed.Store(true)
	w.cancel()
	return nil
}
