package cloudconn

import (
	"sort"
	"strings"
	"time"

	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/timestamppb"

	pb "github.com/cloudconn/cloudconn/sdk/go/gen/cloudconn/v1"
)

// Between the generated messages and the SDK's plain structs. Enum words are
// read off the proto's value names (PROVIDER_MONGODB_ATLAS -> mongodb_atlas),
// so a provider added to the proto needs no table here.

func word(v protoreflect.Enum, prefix string) string {
	name := string(v.Descriptor().Values().ByNumber(v.Number()).Name())
	if v.Number() == 0 || name == "" {
		return Unspecified
	}
	return strings.ToLower(strings.TrimPrefix(name, prefix))
}

// enumNumber is the value of enum `ed` named by `w` (a lower-case word),
// or an INVALID_ARGUMENT naming `field`.
func enumNumber(ed protoreflect.EnumDescriptor, prefix, field, w string) (protoreflect.EnumNumber, error) {
	if w != "" && w != Unspecified && w == strings.ToLower(w) {
		if v := ed.Values().ByName(protoreflect.Name(prefix + strings.ToUpper(w))); v != nil {
			return v.Number(), nil
		}
	}
	var words []string
	for i := 1; i < ed.Values().Len(); i++ {
		words = append(words, strings.ToLower(strings.TrimPrefix(string(ed.Values().Get(i).Name()), prefix)))
	}
	return 0, invalidArgument(field, "must be one of "+strings.Join(words, ", ")+` (got "`+w+`")`)
}

func providerValue(p Provider) (pb.Provider, error) {
	n, err := enumNumber(pb.Provider(0).Descriptor(), "PROVIDER_", "provider", string(p))
	return pb.Provider(n), err
}

func statusValue(s Status) (pb.ConnectionStatus, error) {
	n, err := enumNumber(pb.ConnectionStatus(0).Descriptor(), "CONNECTION_STATUS_", "status", string(s))
	return pb.ConnectionStatus(n), err
}

func providerWord(p pb.Provider) Provider { return Provider(word(p, "PROVIDER_")) }

func timeOf(ts *timestamppb.Timestamp) time.Time {
	if ts == nil {
		return time.Time{}
	}
	return ts.AsTime()
}

func strs(s []string) []string { return append([]string{}, s...) }

func strMap(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func connection(c *pb.Connection) Connection {
	v := c.GetCredentials()
	out := Connection{
		Workspace:   c.GetWorkspace(),
		Tag:         c.GetTag(),
		UID:         c.GetUid(),
		Provider:    providerWord(c.GetProvider()),
		DisplayName: c.GetDisplayName(),
		Description: c.GetDescription(),
		Scopes:      strs(c.GetScopes()),
		Status:      Status(word(c.GetStatus(), "CONNECTION_STATUS_")),
		ExternalID:  c.GetExternalId(),
		Credentials: CredentialsView{
			Fields:          strMap(v.GetFields()),
			SecretFieldsSet: strs(v.GetSecretFieldsSet()),
			Revision:        v.GetRevision(),
			ActiveRevision:  v.GetActiveRevision(),
			UpdateTime:      timeOf(v.GetUpdateTime()),
		},
		Etag:               c.GetEtag(),
		CreateTime:         timeOf(c.GetCreateTime()),
		UpdateTime:         timeOf(c.GetUpdateTime()),
		LastUsedTime:       timeOf(c.GetLastUsedTime()),
		NextValidationTime: timeOf(c.GetNextValidationTime()),
	}
	if c.GetLastValidation() != nil {
		lv := validation(c.GetLastValidation())
		out.LastValidation = &lv
	}
	for _, u := range c.GetConsumers() {
		out.Consumers = append(out.Consumers, Consumer{Consumer: u.GetConsumer(), LastUsedTime: timeOf(u.GetLastUsedTime())})
	}
	return out
}

func validation(v *pb.Validation) Validation {
	out := Validation{
		ID:         v.GetId(),
		State:      ValidationState(word(v.GetState(), "VALIDATION_STATE_")),
		Revision:   v.GetRevision(),
		Attempts:   v.GetAttempts(),
		CreateTime: timeOf(v.GetCreateTime()),
		StartTime:  timeOf(v.GetStartTime()),
		EndTime:    timeOf(v.GetEndTime()),
		Identity:   strMap(v.GetIdentity()),
		Warnings:   strs(v.GetWarnings()),
		Trigger:    ValidationTrigger(word(v.GetTrigger(), "VALIDATION_TRIGGER_")),
	}
	if e := v.GetError(); e != nil {
		out.Error = &ValidationError{
			Code:               e.GetCode(),
			Message:            e.GetMessage(),
			Hint:               e.GetHint(),
			Retryable:          e.GetRetryable(),
			MissingPermissions: strs(e.GetMissingPermissions()),
		}
	}
	for _, c := range v.GetScopeChecks() {
		out.ScopeChecks = append(out.ScopeChecks, ScopeCheck{Scope: c.GetScope(), Granted: c.GetGranted(), MissingPermissions: strs(c.GetMissingPermissions())})
	}
	return out
}

func connectionEvent(e *pb.ConnectionEvent) ConnectionEvent {
	out := ConnectionEvent{ID: e.GetId(), Type: e.GetType(), Time: timeOf(e.GetTime())}
	if e.GetConnection() != nil {
		c := connection(e.GetConnection())
		out.Connection = &c
	}
	return out
}

func providerSpec(p *pb.ProviderSpec) ProviderSpec {
	out := ProviderSpec{Provider: providerWord(p.GetProvider()), DisplayName: p.GetDisplayName(), Scopes: strs(p.GetScopes())}
	for _, f := range p.GetFields() {
		out.Fields = append(out.Fields, FieldSpec{Name: f.GetName(), Secret: f.GetSecret(), Required: f.GetRequired(), Pattern: f.GetPattern(), Description: f.GetDescription()})
	}
	for _, s := range p.GetScopeSpecs() {
		out.ScopeSpecs = append(out.ScopeSpecs, ScopeSpec{Name: s.GetName(), Permissions: strs(s.GetPermissions())})
	}
	for _, k := range p.GetKinds() {
		out.Kinds = append(out.Kinds, CredentialKind{
			Name: k.GetName(), DisplayName: k.GetDisplayName(), Description: k.GetDescription(),
			Keyless: k.GetKeyless(), Fields: strs(k.GetFields()), IssuerURL: k.GetIssuerUrl(),
		})
	}
	out.DefaultKind = p.GetDefaultKind()
	return out
}

func setupInstructions(k *pb.SetupInstructions) SetupInstructions {
	out := SetupInstructions{Tag: k.GetTag(), Provider: providerWord(k.GetProvider()), Scopes: strs(k.GetScopes())}
	for _, s := range k.GetSteps() {
		step := SetupStep{Title: s.GetTitle(), Text: s.GetText()}
		for _, a := range s.GetArtifacts() {
			step.Artifacts = append(step.Artifacts, SetupArtifact{Name: a.GetName(), MediaType: a.GetMediaType(), Content: a.GetContent()})
		}
		out.Steps = append(out.Steps, step)
	}
	return out
}

func issuedCredentials(c *pb.IssuedCredentials) IssuedCredentials {
	out := IssuedCredentials{
		Tag:        c.GetTag(),
		Provider:   providerWord(c.GetProvider()),
		Scope:      c.GetScope(),
		Revision:   c.GetRevision(),
		ExpireTime: timeOf(c.GetExpireTime()),
	}
	token := func(t *pb.AccessToken) *AccessToken {
		return &AccessToken{AccessToken: t.GetAccessToken(), TokenType: t.GetTokenType(), Scopes: strs(t.GetScopes()), Audience: t.GetAudience()}
	}
	switch k := c.GetCredentials().(type) {
	case *pb.IssuedCredentials_Aws:
		a := k.Aws
		out.AWS = &AWSSessionCredentials{
			AccessKeyID: a.GetAccessKeyId(), SecretAccessKey: a.GetSecretAccessKey(), SessionToken: a.GetSessionToken(),
			Region: a.GetRegion(), AssumedRoleARN: a.GetAssumedRoleArn(),
		}
	case *pb.IssuedCredentials_Gcp:
		out.GCP = token(k.Gcp)
	case *pb.IssuedCredentials_Azure:
		out.Azure = token(k.Azure)
	case *pb.IssuedCredentials_Neo4JAura:
		out.Neo4jAura = token(k.Neo4JAura)
	case *pb.IssuedCredentials_MongodbAtlas:
		d := k.MongodbAtlas
		out.MongoDBAtlas = &DatabaseUser{Username: d.GetUsername(), Password: d.GetPassword(), Database: d.GetDatabase(), Roles: strs(d.GetRoles())}
	}
	return out
}

// setCredentials sets the oneof `credentials` of req for provider p from the
// seed's snake_case keys, read off the proto: the oneof field named like the
// provider word, and its message's fields. Blank or missing keys are sent
// blank (the server keeps the stored value); an unknown key is refused.
func setCredentials(req *pb.CompleteConnectionRequest, p Provider, in Credentials) error {
	m := req.ProtoReflect()
	fd := m.Descriptor().Oneofs().ByName("credentials").Fields().ByName(protoreflect.Name(p))
	if fd == nil || fd.Message() == nil {
		return invalidArgument("provider", "no credentials message for "+string(p))
	}
	fields := fd.Message().Fields()
	keys := make([]string, 0, len(in))
	for k := range in {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	creds := m.NewField(fd).Message()
	for _, k := range keys {
		f := fields.ByName(protoreflect.Name(k))
		if f == nil || f.Kind() != protoreflect.StringKind {
			var names []string
			for i := 0; i < fields.Len(); i++ {
				names = append(names, string(fields.Get(i).Name()))
			}
			return invalidArgument(k, "not a field of "+string(p)+" credentials (expected "+strings.Join(names, ", ")+")")
		}
		creds.Set(f, protoreflect.ValueOfString(in[k]))
	}
	m.Set(fd, protoreflect.ValueOfMessage(creds))
	return nil
}
