package cloudconn

import "time"

// Option changes one call, after its required arguments, so every call
// keeps the seed's shape: Complete(ctx, tag, input, cloudconn.IfMatch(etag)).
// Each call takes only the options its doc names; another is refused as
// INVALID_ARGUMENT before anything is sent.
type Option struct {
	name  string
	apply func(*callOptions)
}

type callOptions struct {
	etag     string
	validate bool
	wait     time.Duration
	provider Provider
	status   Status
	pageSize int32
	tag      string
	kind     string
}

// IfMatch makes Complete, Update or Delete fail with ABORTED / ETAG_MISMATCH
// unless the connection's etag is still etag.
func IfMatch(etag string) Option {
	return Option{"IfMatch", func(o *callOptions) { o.etag = etag }}
}

// AndValidate makes Complete also start a validation of the new revision
// (it runs in the background; Validate waits for it).
func AndValidate() Option {
	return Option{"AndValidate", func(o *callOptions) { o.validate = true }}
}

// Wait is how long Validate waits for the outcome: 60 s unless said, 0
// returns at once (state "queued"). The server caps it at 300 s.
func Wait(d time.Duration) Option {
	return Option{"Wait", func(o *callOptions) { o.wait = d }}
}

// OfProvider makes List return only this provider's connections.
func OfProvider(p Provider) Option {
	return Option{"OfProvider", func(o *callOptions) { o.provider = p }}
}

// OfStatus makes List return only connections in this status.
func OfStatus(s Status) Option {
	return Option{"OfStatus", func(o *callOptions) { o.status = s }}
}

// PageSize is how many connections List asks for per request (the server's
// page_size: 0 means 50, at most 1000). List fetches every page either way.
func PageSize(n int32) Option {
	return Option{"PageSize", func(o *callOptions) { o.pageSize = n }}
}

// ForTag makes Watch stream only this connection's events.
func ForTag(tag string) Option {
	return Option{"ForTag", func(o *callOptions) { o.tag = tag }}
}

// OfKind makes Setup return the kit of one credential kind
// (ProviderSpec.Kinds), e.g. "web_identity" for a keyless AWS connection;
// without it, the saved kind's, else the provider's default.
func OfKind(kind string) Option {
	return Option{"OfKind", func(o *callOptions) { o.kind = kind }}
}

// DefaultValidateWait is how long Validate waits for the outcome unless told.
const DefaultValidateWait = 60 * time.Second

// resolve applies opts, refusing one that `call` does not take.
func resolve(call string, opts []Option, allowed ...string) (callOptions, error) {
	o := callOptions{wait: DefaultValidateWait}
	for _, opt := range opts {
		ok := false
		for _, a := range allowed {
			ok = ok || a == opt.name
		}
		if !ok || opt.apply == nil {
			return o, invalidArgument(opt.name, "not an option of "+call)
		}
		opt.apply(&o)
	}
	return o, nil
}
