package cloudconn

import "time"

// Provider is a cloud provider, as the seed spells it. A value this SDK does
// not know (a newer server, or an unset field) reads as Unspecified.
type Provider string

// The providers.
const (
	AWS          Provider = "aws"
	GCP          Provider = "gcp"
	Azure        Provider = "azure"
	MongoDBAtlas Provider = "mongodb_atlas"
	Neo4jAura    Provider = "neo4j_aura"
)

// Status is a connection's lifecycle status.
type Status string

// The statuses.
const (
	Pending Status = "pending"
	Active  Status = "active"
	Failed  Status = "failed"
)

// ValidationState is the state of one validation run.
type ValidationState string

// The validation states.
const (
	Queued           ValidationState = "queued"
	Running          ValidationState = "running"
	Succeeded        ValidationState = "succeeded"
	ValidationFailed ValidationState = "failed"
	Superseded       ValidationState = "superseded"
)

// ValidationTrigger is what started a validation.
type ValidationTrigger string

// The validation triggers (prefixed: Complete is already a method name
// users read next to them).
const (
	// Validate (ValidateConnection).
	TriggerManual ValidationTrigger = "manual"
	// Complete with AndValidate().
	TriggerComplete ValidationTrigger = "complete"
	// The server's re-validation schedule.
	TriggerScheduled ValidationTrigger = "scheduled"
)

// Unspecified is how an enum value this SDK does not know reads.
const Unspecified = "unspecified"

// Connection is a workspace's link to one cloud provider account. It never
// holds a secret value.
type Connection struct {
	Workspace string
	// The seed's name (Name on create): fixed forever.
	Tag         string
	UID         string
	Provider    Provider
	DisplayName string
	Description string
	Scopes      []string
	Status      Status
	// AWS only: the sts:ExternalId the role's trust policy must require.
	ExternalID  string
	Credentials CredentialsView
	// The most recent validation, nil before the first.
	LastValidation *Validation
	// Changes on every change; pass it with IfMatch to make a change conditional.
	Etag       string
	CreateTime time.Time
	UpdateTime time.Time
	// Who was issued credentials in the last 30 days, most recent first.
	Consumers    []Consumer
	LastUsedTime time.Time
	// When the server's schedule validates it again; zero unless the
	// connection is active and the server's re-validation is on.
	NextValidationTime time.Time
}

// Consumer is one component that was issued credentials.
type Consumer struct {
	Consumer     string
	LastUsedTime time.Time
}

// CredentialsView is what the server knows about the saved credentials,
// without secret values.
type CredentialsView struct {
	// Non-secret values by the seed's snake_case names (role_arn, tenant_id, …).
	Fields map[string]string
	// Names of the secret fields that hold a value, never the values.
	SecretFieldsSet []string
	// Latest saved revision, 0 = none.
	Revision int64
	// Revision in use, 0 = none.
	ActiveRevision int64
	UpdateTime     time.Time
}

// Validation is one validation run of one credential revision.
type Validation struct {
	ID       string
	State    ValidationState
	Revision int64
	Attempts int32
	// Zero when not reached yet.
	CreateTime, StartTime, EndTime time.Time
	// Set when State is "failed": why, and what to change.
	Error       *ValidationError
	ScopeChecks []ScopeCheck
	// Provider identity found: account_id, arn, project_number, …
	Identity map[string]string
	// Non-fatal findings (and, against --dev, the sandbox notice), e.g. a
	// credential that expires soon.
	Warnings []string
	Trigger  ValidationTrigger
}

// ValidationError says why a validation failed.
type ValidationError struct {
	// INVALID_CREDENTIALS, ACCESS_DENIED, RESOURCE_NOT_FOUND, …
	Code               string
	Message            string
	Hint               string
	Retryable          bool
	MissingPermissions []string
}

// ScopeCheck says whether a requested scope is usable.
type ScopeCheck struct {
	Scope              string
	Granted            bool
	MissingPermissions []string
}

// ValidationResult is what Validate returns: the validation, and the
// connection after it.
type ValidationResult struct {
	Validation
	Connection Connection
}

// ConnectionEvent is one lifecycle event from Watch.
type ConnectionEvent struct {
	// Stable per event: de-duplicate on it.
	ID string
	// cloudconn.connection.<event>.v1, e.g. cloudconn.connection.updated.v1.
	Type string
	Time time.Time
	// The connection after the change (for deleted, as it was).
	Connection *Connection
}

// ProviderSpec is the catalogue entry of one provider.
type ProviderSpec struct {
	Provider    Provider
	DisplayName string
	Fields      []FieldSpec
	Scopes      []string
	// Per scope, the provider permissions it needs.
	ScopeSpecs []ScopeSpec
	// How a connection may sign in (its credentials' "kind"), keyless first.
	Kinds []CredentialKind
	// What a blank "kind" means on a first completion.
	DefaultKind string
}

// CredentialKind is one way of signing in to a provider (docs/keyless.md).
type CredentialKind struct {
	// The credentials' "kind" value, e.g. "web_identity".
	Name        string
	DisplayName string
	Description string
	// Stores no secret: the server's OpenID Connect tokens stand in for one.
	Keyless bool
	// The fields this kind uses, besides "kind".
	Fields []string
	// For a keyless kind on a server that is an issuer: what the customer's cloud must trust.
	IssuerURL string
}

// FieldSpec is one credential field of a provider.
type FieldSpec struct {
	// The seed's snake_case name, as Complete takes it.
	Name        string
	Secret      bool
	Required    bool
	Pattern     string
	Description string
}

// ScopeSpec is what one scope needs at its provider.
type ScopeSpec struct {
	Name        string
	Permissions []string
}

// SetupInstructions is a connection's setup kit: what the customer grants
// at the provider.
type SetupInstructions struct {
	Tag      string
	Provider Provider
	Scopes   []string
	Steps    []SetupStep
}

// SetupStep is one step: Markdown text, and files to copy as they are.
type SetupStep struct {
	Title     string
	Text      string
	Artifacts []SetupArtifact
}

// SetupArtifact is a file such as trust-policy.json.
type SetupArtifact struct {
	Name      string
	MediaType string
	Content   string
}

// CreateInput is Create's input, with the seed's snake_case keys in JSON.
type CreateInput struct {
	Provider Provider `json:"provider"`
	// The tag: ^[a-z][a-z0-9_]{1,62}$, unique in the workspace, fixed forever.
	Name        string   `json:"name"`
	Scopes      []string `json:"scopes"`
	DisplayName string   `json:"display_name,omitempty"`
	Description string   `json:"description,omitempty"`
	// Idempotency key: a retry with the same key returns the first call's connection.
	RequestID string `json:"request_id,omitempty"`
}

// Credentials is Complete's input: the provider's fields by the seed's
// snake_case names ({"role_arn": …} for AWS; see Providers). A blank or
// missing field keeps the stored value; the first completion must set
// every required field.
type Credentials map[string]string

// UpdateInput is Update's input: only the fields set (non-nil) change.
type UpdateInput struct {
	// "" reverts to the tag.
	DisplayName *string  `json:"display_name,omitempty"`
	Description *string  `json:"description,omitempty"`
	Scopes      []string `json:"scopes,omitempty"`
}

// String returns a pointer to s, for UpdateInput.
func String(s string) *string { return &s }

// IssueInput is Credentials.Issue's input.
type IssueInput struct {
	// One of the connection's scopes.
	Scope string `json:"scope"`
	// Who will use them, e.g. "billing-api/prd": audited.
	Consumer string `json:"consumer"`
	// 0 means the server's default (15 minutes).
	TTL time.Duration `json:"ttl,omitempty"`
}

// IssuedCredentials are short-lived credentials for one scope. Exactly one
// of the provider fields is set. They hold secret values: never log them.
type IssuedCredentials struct {
	Tag      string
	Provider Provider
	Scope    string
	// The active revision they came from.
	Revision   int64
	ExpireTime time.Time

	AWS          *AWSSessionCredentials
	GCP          *AccessToken
	Azure        *AccessToken
	MongoDBAtlas *DatabaseUser
	Neo4jAura    *AccessToken
}

// AWSSessionCredentials are STS session credentials limited to the scope.
type AWSSessionCredentials struct {
	AccessKeyID, SecretAccessKey, SessionToken, Region, AssumedRoleARN string
}

// AccessToken is an OAuth 2.0 bearer token (GCP, Azure, Neo4j Aura).
type AccessToken struct {
	AccessToken, TokenType string
	Scopes                 []string
	Audience               string
}

// DatabaseUser is a temporary MongoDB Atlas database user.
type DatabaseUser struct {
	Username, Password, Database string
	Roles                        []string
}
