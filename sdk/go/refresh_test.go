package cloudconn_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	cloudconn "github.com/cloudconn/cloudconn/sdk/go"
	"github.com/cloudconn/cloudconn/sdk/go/internal/refresh"
)

// The refresh rule every provider shares (internal/refresh), on a clock the
// test moves, through the real server: each IssueCredentials call is
// counted by a wrapper around the client's Issue.

type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.now }
func (c *fakeClock) Set(t time.Time) { c.mu.Lock(); defer c.mu.Unlock(); c.now = t }

// counted is client's Issue for tag, counting its calls, each held up by
// delay (so concurrent callers pile up behind one), failing with fault
// instead of calling while fault is set.
type counted struct {
	calls atomic.Int64
	delay time.Duration
	fault atomic.Pointer[cloudconn.Error]
	last  atomic.Pointer[cloudconn.IssuedCredentials]
}

func (c *counted) issue(client *cloudconn.Client, tag string, in cloudconn.IssueInput) refresh.Issue {
	return func(ctx context.Context) (cloudconn.IssuedCredentials, error) {
		c.calls.Add(1)
		time.Sleep(c.delay)
		if f := c.fault.Load(); f != nil {
			return cloudconn.IssuedCredentials{}, f
		}
		got, err := client.Cloud.Credentials.Issue(ctx, tag, in)
		if err == nil {
			c.last.Store(&got)
		}
		return got, err
	}
}

const jitter = 0.04

// refreshSetup: an ACTIVE AWS connection and a holder over it on a clock
// standing at the real time.
func refreshSetup(t *testing.T, label string, delay time.Duration) (*cloudconn.Client, *fakeClock, *counted, *refresh.Holder) {
	t.Helper()
	client := newClient(t, label)
	activeConnection(t, client, cloudconn.AWS, "prod_aws", "storage")
	clock := &fakeClock{now: time.Now()}
	count := &counted{delay: delay}
	h := refresh.New(count.issue(client, "prod_aws", billing), refresh.Options{Now: clock.Now, Jitter: func() float64 { return jitter }})
	return client, clock, count, h
}

func wantCalls(t *testing.T, what string, c *counted, want int64) {
	t.Helper()
	if got := c.calls.Load(); got != want {
		t.Fatalf("%s: %d IssueCredentials calls, want %d", what, got, want)
	}
}

func TestRefreshAheadOfExpiry(t *testing.T) {
	ctx := testContext(t)
	_, clock, count, h := refreshSetup(t, "refresh-ahead", 0)
	received := clock.Now()
	first, refreshAt, err := h.Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantCalls(t, "first Get", count, 1)
	lifetime := first.ExpireTime.Sub(received)
	if lifetime < 15*time.Minute-time.Minute {
		t.Fatalf("a 15-minute credential, got %v", lifetime)
	}
	// The rule, expire - R*(0.25+j), computed here: the clock moves by it.
	want := first.ExpireTime.Add(-time.Duration(float64(lifetime) * (0.25 + jitter)))

	// (a) Until the refresh point, no call: the held credential.
	for _, at := range []time.Time{received.Add(time.Minute), want.Add(-time.Second), want.Add(-time.Millisecond)} {
		clock.Set(at)
		got, _, err := h.Get(ctx)
		if err != nil {
			t.Fatal(err)
		}
		equal(t, "held key", got.AWS.AccessKeyID, first.AWS.AccessKeyID)
	}
	wantCalls(t, "before the refresh point", count, 1)

	// (b) At it, one call, before expiry; its credential is served, then
	// held until its own refresh point (the server's clock did not move, so
	// its cache answers the same session: that point is computed from the
	// moved clock, later than now).
	clock.Set(want)
	got, next, err := h.Get(ctx)
	if err != nil {
		t.Fatal(err)
	}
	wantCalls(t, "at the refresh point", count, 2)
	equal(t, "served what the refresh got", got.AWS.SessionToken, count.last.Load().AWS.SessionToken)
	if !want.Before(got.ExpireTime) || !next.After(want) {
		t.Fatalf("refreshed at %v, before expiry %v; next refresh %v after it", want, got.ExpireTime, next)
	}
	must3(h.Get(ctx))(t)
	wantCalls(t, "after the refresh", count, 2)
	equal(t, "the refresh point Get said", refreshAt.Equal(want), true)
}

func TestOneRefreshForConcurrentCallers(t *testing.T) {
	ctx := testContext(t)
	_, clock, count, h := refreshSetup(t, "refresh-single-flight", 300*time.Millisecond)
	_, refreshAt := must3(h.Get(ctx))(t)
	clock.Set(refreshAt.Add(time.Second))

	// (c) N callers past the refresh point, all while one call is in flight.
	const n = 16
	var wg sync.WaitGroup
	errs := make(chan error, n)
	start := make(chan struct{})
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			_, _, err := h.Get(ctx)
			errs <- err
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	wantCalls(t, "16 callers past the refresh point", count, 2)
}

func TestNeverServesAnExpiredCredential(t *testing.T) {
	ctx := testContext(t)
	_, clock, count, h := refreshSetup(t, "refresh-expired", 0)
	first, _ := must3(h.Get(ctx))(t)

	// (d) 10 s before expiry counts as expired: a refresh, and the server's
	// answer (its cache: the same session, by its own clock still fresh) is
	// refused too rather than served.
	clock.Set(first.ExpireTime.Add(-refresh.Skew))
	_, _, err := h.Get(ctx)
	wantFailure(t, err, expected{Code: cloudconn.CodeFailedPrecondition, Reason: "CREDENTIALS_EXPIRED"})
	wantCalls(t, "at expiry less the skew", count, 2)
	clock.Set(first.ExpireTime.Add(time.Hour))
	_, _, err = h.Get(ctx)
	wantFailure(t, err, expected{Code: cloudconn.CodeFailedPrecondition, Reason: "CREDENTIALS_EXPIRED"})
	wantCalls(t, "long after expiry", count, 3)
}

func TestTransientFailureKeepsAValidCredential(t *testing.T) {
	ctx := testContext(t)
	_, clock, count, h := refreshSetup(t, "refresh-transient", 0)
	first, refreshAt := must3(h.Get(ctx))(t)
	clock.Set(refreshAt.Add(time.Second))
	count.fault.Store(&cloudconn.Error{Code: cloudconn.CodeUnavailable, Reason: "WORKERS_UNAVAILABLE", Message: "injected"})

	// Past the refresh point, cloudconn unavailable: the held credential,
	// still valid, is served, and each call tries again.
	for i := int64(0); i < 2; i++ {
		got, _ := must3(h.Get(ctx))(t)
		equal(t, "held key", got.AWS.AccessKeyID, first.AWS.AccessKeyID)
		wantCalls(t, "retried per call", count, 2+i)
	}
	// Not once it is within the skew of expiry: then the failure is raised.
	clock.Set(first.ExpireTime.Add(-refresh.Skew))
	_, _, err := h.Get(ctx)
	wantFailure(t, err, expected{Code: cloudconn.CodeUnavailable, Reason: "WORKERS_UNAVAILABLE"})
}

func TestRefusalDropsTheCredential(t *testing.T) {
	ctx := testContext(t)
	client, clock, count, h := refreshSetup(t, "refresh-refused", 0)
	_, refreshAt := must3(h.Get(ctx))(t)
	if err := client.Cloud.Connections.Delete(ctx, "prod_aws"); err != nil {
		t.Fatal(err)
	}
	// (e) The connection is gone: before the refresh point the held
	// credential is still served (nothing is asked), past it the refusal is
	// the SDK's error with the server's reason, and nothing is held after.
	must3(h.Get(ctx))(t)
	clock.Set(refreshAt)
	_, _, err := h.Get(ctx)
	notFound := loadScenario(t).NotFound.expected
	wantFailure(t, err, notFound)
	clock.Set(refreshAt.Add(-time.Minute))
	_, _, err = h.Get(ctx)
	wantFailure(t, err, notFound)
	wantCalls(t, "a refusal drops the credential", count, 3)
}

func must3[A, B any](a A, b B, err error) func(*testing.T) (A, B) {
	return func(t *testing.T) (A, B) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return a, b
	}
}

// A caller whose context ends stops waiting, with the client's error for
// it; the refresh goes on for the others.
func TestCallerContextEndsOnlyItsWait(t *testing.T) {
	ctx := testContext(t)
	_, _, count, h := refreshSetup(t, "refresh-context", 300*time.Millisecond)
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	defer cancel()
	_, _, err := h.Get(short)
	wantFailure(t, err, expected{Code: cloudconn.CodeDeadlineExceeded, Reason: "DEADLINE_EXCEEDED"})
	equal(t, "errors.Is(err, context.DeadlineExceeded)", errors.Is(err, context.DeadlineExceeded), true)
	got, _ := must3(h.Get(ctx))(t)
	equal(t, "the same refresh's credential", got.AWS.SessionToken, count.last.Load().AWS.SessionToken)
	wantCalls(t, "one refresh for both", count, 1)
}
