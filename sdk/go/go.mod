// For users building with Go modules. The versions are current upstream
// ones; this repository's tests build the SDK offline in GOPATH mode against
// Debian's Go 1.19 and grpc 1.33 instead (README.md says which versions), so
// there is no go.sum here: run `go mod tidy` once.
module github.com/cloudconn/cloudconn/sdk/go

go 1.24

require (
	google.golang.org/genproto/googleapis/rpc v0.0.0-20251222181119-0a764e51fe1b
	google.golang.org/grpc v1.78.0
	google.golang.org/protobuf v1.36.11
)
