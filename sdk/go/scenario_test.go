package cloudconn_test

import (
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	cloudconn "github.com/cloudconn/cloudconn/sdk/go"
)

// The scenario the three SDKs share (sdk/scenario/scenario.json).

func TestScenarioFlow(t *testing.T) {
	s := loadScenario(t)
	for _, step := range s.Flow {
		step := step
		t.Run(string(step.Provider), func(t *testing.T) {
			t.Parallel()
			ctx := testContext(t)
			conns := newClient(t, "flow-"+string(step.Provider)).Cloud.Connections
			tag := step.Create.Name
			var results []interface{}

			created := must(conns.Create(ctx, step.Create))(t)
			results = append(results, created)
			equal(t, "provider", created.Provider, step.Provider)
			equal(t, "status", created.Status, cloudconn.Pending)
			equal(t, "a pending connection is not scheduled", created.NextValidationTime, time.Time{})

			completed := must(conns.Complete(ctx, tag, step.Complete))(t)
			results = append(results, completed)
			equal(t, "revision", completed.Credentials.Revision, 1)
			equalJSON(t, "fields", completed.Credentials.Fields, step.Fields)
			equalJSON(t, "secret fields set", completed.Credentials.SecretFieldsSet, step.SecretFieldsSet)

			v := must(conns.Validate(ctx, tag))(t)
			results = append(results, v)
			equal(t, "validation", v.State, cloudconn.Succeeded)
			equal(t, "status after validate", v.Connection.Status, cloudconn.Active)
			equal(t, "trigger", v.Trigger, cloudconn.TriggerManual)
			scheduledAfter(t, v)

			fetched := must(conns.Fetch(ctx, tag))(t)
			results = append(results, fetched)
			equal(t, "active revision", fetched.Credentials.ActiveRevision, 1)
			listed := must(conns.List(ctx))(t)
			equal(t, "listed", len(listed), 1)
			equal(t, "listed tag", listed[0].Tag, tag)

			updated := must(conns.Update(ctx, tag, s.Update))(t)
			equal(t, "display name", updated.DisplayName, *s.Update.DisplayName)
			equal(t, "description", updated.Description, *s.Update.Description)
			equalJSON(t, "scopes", updated.Scopes, s.Update.Scopes)
			partial := must(conns.Update(ctx, tag, s.UpdatePartial))(t)
			equal(t, "display name", partial.DisplayName, *s.UpdatePartial.DisplayName)
			equal(t, "fields not given stay", partial.Description, *s.Update.Description)

			again := must(conns.Complete(ctx, tag, step.CompleteBlank, cloudconn.AndValidate()))(t)
			results = append(results, again)
			equal(t, "revision", again.Credentials.Revision, 2)
			if again.LastValidation == nil {
				t.Fatal("Complete with AndValidate queued no validation")
			}
			equal(t, "trigger of the validation Complete queued", again.LastValidation.Trigger, cloudconn.TriggerComplete)
			v2 := must(conns.Validate(ctx, tag))(t)
			results = append(results, v2)
			equal(t, "validation of blank keeps", v2.State, cloudconn.Succeeded)
			equal(t, "active revision", v2.Connection.Credentials.ActiveRevision, 2)
			equalJSON(t, "blank fields keep the stored values", v2.Connection.Credentials.Fields, step.Fields)
			equalJSON(t, "secret fields set", v2.Connection.Credentials.SecretFieldsSet, step.SecretFieldsSet)

			for _, r := range results {
				b, _ := json.Marshal(r)
				if strings.Contains(string(b), s.SecretMarker) {
					t.Fatalf("a result holds a secret value: %s", b)
				}
			}
			if err := conns.Delete(ctx, tag); err != nil {
				t.Fatal(err)
			}
			_, err := conns.Fetch(ctx, tag)
			wantFailure(t, err, s.NotFound.expected)
		})
	}
}

func TestScenarioInvalidArgument(t *testing.T) {
	s := loadScenario(t)
	_, err := newClient(t, "inv").Cloud.Connections.Create(testContext(t), s.InvalidArgument.Create)
	ce := wantFailure(t, err, s.InvalidArgument.expected)
	var fields []string
	for _, v := range ce.FieldViolations {
		fields = append(fields, v.Field)
	}
	equalJSON(t, "field violations", fields, s.InvalidArgument.FieldViolations)
}

func TestScenarioNotFound(t *testing.T) {
	s := loadScenario(t)
	ctx, nf := testContext(t), s.NotFound
	conns := newClient(t, "nf").Cloud.Connections
	_, err := conns.Fetch(ctx, nf.Tag)
	wantFailure(t, err, nf.expected)
	_, err = conns.Complete(ctx, nf.Tag, nf.Complete)
	wantFailure(t, err, nf.expected)
	_, err = conns.Validate(ctx, nf.Tag)
	wantFailure(t, err, nf.expected)
	_, err = conns.Update(ctx, nf.Tag, nf.Update)
	wantFailure(t, err, nf.expected)
	wantFailure(t, conns.Delete(ctx, nf.Tag), nf.expected)
}

func TestScenarioAlreadyExists(t *testing.T) {
	s := loadScenario(t)
	ctx, conns := testContext(t), newClient(t, "ae").Cloud.Connections
	must(conns.Create(ctx, s.AlreadyExists.Create))(t)
	_, err := conns.Create(ctx, s.AlreadyExists.Create)
	wantFailure(t, err, s.AlreadyExists.expected)
}

func TestScenarioEtagConflict(t *testing.T) {
	s := loadScenario(t)
	ctx, conns, ec := testContext(t), newClient(t, "etag").Cloud.Connections, s.EtagConflict
	tag := ec.Create.Name
	created := must(conns.Create(ctx, ec.Create))(t)
	changed := must(conns.Update(ctx, tag, ec.Update, cloudconn.IfMatch(created.Etag)))(t)
	stale := cloudconn.IfMatch(created.Etag)
	_, err := conns.Update(ctx, tag, ec.StaleUpdate, stale)
	wantFailure(t, err, ec.expected)
	_, err = conns.Complete(ctx, tag, ec.StaleComplete, stale)
	wantFailure(t, err, ec.expected)
	wantFailure(t, conns.Delete(ctx, tag, stale), ec.expected)
	if err := conns.Delete(ctx, tag, cloudconn.IfMatch(changed.Etag)); err != nil {
		t.Fatal(err)
	}
}

func TestScenarioWatch(t *testing.T) {
	s := loadScenario(t)
	ctx, conns, w := testContext(t), newClient(t, "watch").Cloud.Connections, s.Watch
	tag := w.Create.Name
	watcher := must(conns.Watch(ctx, cloudconn.ForTag(tag)))(t)
	defer watcher.Close()
	type got struct {
		types []string
		err   error
	}
	done := make(chan got, 1)
	go func() {
		var g got
		for len(g.types) < len(w.Events) {
			e, err := watcher.Next()
			if err != nil {
				g.err = err
				break
			}
			g.types = append(g.types, e.Type)
		}
		done <- g
	}()
	must(conns.Create(ctx, w.Create))(t)
	must(conns.Complete(ctx, tag, w.Complete))(t)
	equal(t, "validation", must(conns.Validate(ctx, tag))(t).State, cloudconn.Succeeded)
	must(conns.Update(ctx, tag, w.Update))(t)
	if err := conns.Delete(ctx, tag); err != nil {
		t.Fatal(err)
	}
	select {
	case g := <-done:
		if g.err != nil {
			t.Fatalf("after %v: %v", g.types, g.err)
		}
		equalJSON(t, "events", g.types, w.Events)
	case <-time.After(10 * time.Second):
		t.Fatal("the events did not arrive within 10 s")
	}
	watcher.Close()
	if _, err := watcher.Next(); !errors.Is(err, io.EOF) {
		t.Fatalf("Next after Close: got %v, want io.EOF", err)
	}
}

// The run step for every provider (the --dev token carries connections:use).
func TestScenarioIssueCredentials(t *testing.T) {
	s := loadScenario(t)
	for _, step := range s.Flow {
		step := step
		t.Run(string(step.Provider), func(t *testing.T) {
			ctx := testContext(t)
			client := newClient(t, "issue-"+string(step.Provider))
			conns, tag := client.Cloud.Connections, step.Create.Name
			must(conns.Create(ctx, step.Create))(t)
			must(conns.Complete(ctx, tag, step.Complete))(t)
			equal(t, "validation", must(conns.Validate(ctx, tag))(t).State, cloudconn.Succeeded)
			issued, err := client.Cloud.Credentials.Issue(ctx, tag, step.Issue)
			if err != nil {
				t.Fatal(err)
			}
			equal(t, "tag", issued.Tag, tag)
			equal(t, "provider", issued.Provider, step.Provider)
			equal(t, "scope", issued.Scope, step.Issue.Scope)
			if !issued.ExpireTime.After(time.Now()) {
				t.Fatalf("expire time %v is not in the future", issued.ExpireTime)
			}
			set := map[cloudconn.Provider]bool{
				cloudconn.AWS: issued.AWS != nil, cloudconn.GCP: issued.GCP != nil, cloudconn.Azure: issued.Azure != nil,
				cloudconn.MongoDBAtlas: issued.MongoDBAtlas != nil, cloudconn.Neo4jAura: issued.Neo4jAura != nil,
			}
			for p, ok := range set {
				equal(t, "credentials for "+string(p), ok, p == step.Provider)
			}
		})
	}
}
