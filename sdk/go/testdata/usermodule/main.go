// A user's program: the seed flow, built the way the SDK's users build it, in
// a module of its own outside this repository (TestUserModule in
// usermodule_test.go writes its go.mod, requiring the SDK with a replace to
// this checkout). It prints one line a step and exits 1 on any failure.
//
//	user -address http://127.0.0.1:50051 -token … -workspace acme
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"strings"
	"time"

	cloudconn "github.com/cloudconn/cloudconn/sdk/go"
)

func main() {
	address := flag.String("address", "", "the server's address")
	token := flag.String("token", "", "a bearer token")
	workspace := flag.String("workspace", "", "the workspace")
	flag.Parse()
	log.SetFlags(0)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	client, err := cloudconn.New(ctx, cloudconn.Config{Address: *address, Token: *token, Workspace: *workspace})
	check("new", err)
	defer client.Close()
	conns := client.Cloud.Connections

	c, err := conns.Create(ctx, cloudconn.CreateInput{Provider: cloudconn.AWS, Name: "prod_aws", Scopes: []string{"storage", "database"}})
	check("create", err)
	want("status after create", c.Status, cloudconn.Pending)
	fmt.Println("created", c.Tag, c.Provider, c.Status, strings.Join(c.Scopes, ","))

	c, err = conns.Complete(ctx, "prod_aws", cloudconn.Credentials{"role_arn": "arn:aws:iam::123456789012:role/DuctapeAccess"})
	check("complete", err)
	fmt.Println("completed", c.Tag, "revision", c.Credentials.Revision)

	v, err := conns.Validate(ctx, "prod_aws")
	check("validate", err)
	want("validation state", v.State, cloudconn.Succeeded)
	want("status after validate", v.Connection.Status, cloudconn.Active)
	fmt.Println("validated", v.State, v.Connection.Status)

	c, err = conns.Fetch(ctx, "prod_aws")
	check("get", err)
	want("status", c.Status, cloudconn.Active)
	fmt.Println("got", c.Tag, c.Status, c.Credentials.Fields["role_arn"])

	check("delete", conns.Delete(ctx, "prod_aws"))
	fmt.Println("deleted prod_aws")

	_, err = conns.Fetch(ctx, "prod_aws")
	var ce *cloudconn.Error
	if !errors.As(err, &ce) || ce.Code != cloudconn.CodeNotFound {
		log.Fatalf("get after delete: want a NOT_FOUND *cloudconn.Error, got %v", err)
	}
	fmt.Println("gone", ce.Code, ce.Reason)
}

func check(step string, err error) {
	if err != nil {
		log.Fatalf("%s: %v", step, err)
	}
}

func want[T comparable](what string, got, expected T) {
	if got != expected {
		log.Fatalf("%s: got %v, want %v", what, got, expected)
	}
}
