// Package refresh is the one refreshing holder behind every credential
// provider (credentials/aws, azure, gcp, atlas, aura): what makes them keep
// working across expiry, so the rule lives in one place.
//
// The rule, and why: let R be expire_time minus the time the credential was
// received. It is served until now >= expire_time - R*(0.25+j), j uniform in
// [0, 0.05) drawn per credential. The server serves a cached credential
// while at least a third of its lifetime remains, so a client refreshing
// below 30 % of what it received always gets a fresh one, never the same one
// back; the jitter keeps many replicas from refreshing in the same instant.
package refresh

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"time"

	cloudconn "github.com/cloudconn/cloudconn/sdk/go"
)

// Skew: a credential that expires within it is treated as expired, so a
// clock a few seconds off (ours or the provider's) never gets one refused.
const Skew = 10 * time.Second

// Issue fetches a new credential (IssueCredentials, in the providers).
type Issue func(ctx context.Context) (cloudconn.IssuedCredentials, error)

// Options are for tests: time and jitter made deterministic.
type Options struct {
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Jitter draws j in [0, 0.05) per credential (math/rand when nil).
	Jitter func() float64
}

// Holder serves one credential and refreshes it by the rule above, one
// refresh in flight at a time. Safe for concurrent use.
type Holder struct {
	issue  Issue
	now    func() time.Time
	jitter func() float64

	mu       sync.Mutex
	held     *held    // nil before the first issue and after a refusal
	inflight *refresh // the refresh every caller past the refresh point waits on
}

type held struct {
	creds     cloudconn.IssuedCredentials
	refreshAt time.Time
}

type refresh struct {
	done      chan struct{}
	creds     cloudconn.IssuedCredentials
	refreshAt time.Time
	err       error
}

// New is a holder that fetches through issue. Nothing is fetched until the
// first Get.
func New(issue Issue, o Options) *Holder {
	h := &Holder{issue: issue, now: o.Now, jitter: o.Jitter}
	if h.now == nil {
		h.now = time.Now
	}
	if h.jitter == nil {
		h.jitter = func() float64 { return rand.Float64() * 0.05 }
	}
	return h
}

// String keeps the credential out of any %v, %+v or %s of a holder.
func (h *Holder) String() string { return "refresh.Holder{…}" }

// GoString does the same for %#v.
func (h *Holder) GoString() string { return h.String() }

// Get is the held credential while before its refresh point, else a new
// one, with its refresh point. A transient failure (UNAVAILABLE,
// DEADLINE_EXCEEDED, RESOURCE_EXHAUSTED) keeps the held credential served
// while it is valid beyond Skew, to be retried on the next call; any other
// failure drops it and is returned. Never returns a credential within Skew
// of its expiry.
func (h *Holder) Get(ctx context.Context) (cloudconn.IssuedCredentials, time.Time, error) {
	h.mu.Lock()
	now := h.now()
	if h.held != nil && now.Before(h.held.refreshAt) && h.valid(h.held.creds, now) {
		c, at := h.held.creds, h.held.refreshAt
		h.mu.Unlock()
		return c, at, nil
	}
	r := h.inflight
	if r == nil {
		r = &refresh{done: make(chan struct{})}
		h.inflight = r
		// Detached from this caller's cancellation: the others wait on the
		// same refresh, and the client's own timeout still bounds it.
		go h.run(context.WithoutCancel(ctx), r)
	}
	h.mu.Unlock()
	select {
	case <-r.done:
		return r.creds, r.refreshAt, r.err
	case <-ctx.Done():
		return cloudconn.IssuedCredentials{}, time.Time{}, contextError(ctx.Err())
	}
}

// contextError is the client's error for a call its context ended, which
// errors.As reads as an *Error and errors.Is as the context's error.
func contextError(err error) error {
	code := cloudconn.CodeCancelled
	if errors.Is(err, context.DeadlineExceeded) {
		code = cloudconn.CodeDeadlineExceeded
	}
	ce := &cloudconn.Error{Code: code, Reason: string(code), Message: "waiting for credentials", Metadata: map[string]string{}}
	return fmt.Errorf("%w: %w", ce, err)
}

func (h *Holder) valid(c cloudconn.IssuedCredentials, now time.Time) bool {
	return now.Before(c.ExpireTime.Add(-Skew))
}

func (h *Holder) run(ctx context.Context, r *refresh) {
	creds, err := h.issue(ctx)
	h.mu.Lock()
	defer h.mu.Unlock()
	defer close(r.done)
	h.inflight = nil
	now := h.now()
	switch {
	case err == nil && !h.valid(creds, now):
		// Served as is, it would be refused within seconds.
		h.held = nil
		r.err = &cloudconn.Error{
			Code: cloudconn.CodeFailedPrecondition, Reason: "CREDENTIALS_EXPIRED", Metadata: map[string]string{},
			Message: fmt.Sprintf("the credentials issued for %q expire at %s, within %s of now (%s)",
				creds.Tag, creds.ExpireTime.UTC().Format(time.RFC3339), Skew, now.UTC().Format(time.RFC3339)),
		}
	case err == nil:
		lifetime := creds.ExpireTime.Sub(now)
		early := time.Duration(float64(lifetime) * (0.25 + h.jitter()))
		h.held = &held{creds: creds, refreshAt: creds.ExpireTime.Add(-early)}
		r.creds, r.refreshAt = creds, h.held.refreshAt
	case transient(err) && h.held != nil && h.valid(h.held.creds, now):
		// refreshAt stays passed, so the next call tries again.
		r.creds, r.refreshAt = h.held.creds, h.held.refreshAt
	default:
		h.held = nil
		r.err = err
	}
}

// transient failures are worth riding out on a credential still valid.
func transient(err error) bool {
	var ce *cloudconn.Error
	if !errors.As(err, &ce) {
		return false
	}
	switch ce.Code {
	case cloudconn.CodeUnavailable, cloudconn.CodeDeadlineExceeded, cloudconn.CodeResourceExhausted:
		return true
	}
	return false
}

// Check refuses, before anything is sent, what IssueCredentials would: the
// tag, scope and consumer are required and the ttl is not negative.
func Check(tag string, in cloudconn.IssueInput) error {
	switch {
	case tag == "":
		return InvalidArgument("tag", "is required")
	case in.Scope == "":
		return InvalidArgument("scope", "is required")
	case in.Consumer == "":
		return InvalidArgument("consumer", "is required")
	case in.TTL < 0:
		return InvalidArgument("ttl", "must be 0 or more")
	}
	return nil
}

// InvalidArgument is the SDK's INVALID_ARGUMENT for a caller's mistake
// found before anything is sent, shaped as the client's own.
func InvalidArgument(field, description string) *cloudconn.Error {
	return &cloudconn.Error{
		Code:            cloudconn.CodeInvalidArgument,
		Reason:          "INVALID_ARGUMENT",
		Message:         fmt.Sprintf("invalid fields: %s; %s: %s", field, field, description),
		FieldViolations: []cloudconn.FieldViolation{{Field: field, Description: description}},
		Metadata:        map[string]string{},
	}
}

// FromClient is the Issue of client for tag and in.
func FromClient(client *cloudconn.Client, tag string, in cloudconn.IssueInput) (Issue, error) {
	if client == nil {
		return nil, InvalidArgument("client", "is required")
	}
	if err := Check(tag, in); err != nil {
		return nil, err
	}
	return func(ctx context.Context) (cloudconn.IssuedCredentials, error) {
		return client.Cloud.Credentials.Issue(ctx, tag, in)
	}, nil
}

// WrongProvider is the error of a provider built on a connection of
// another cloud (known at the first issue).
func WrongProvider(c cloudconn.IssuedCredentials, want cloudconn.Provider) *cloudconn.Error {
	return &cloudconn.Error{
		Code: cloudconn.CodeFailedPrecondition, Reason: "WRONG_PROVIDER", Metadata: map[string]string{},
		Message: fmt.Sprintf("connection %q is a %s connection, not %s", c.Tag, c.Provider, want),
	}
}
