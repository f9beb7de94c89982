//go:build tools

// Package tools keeps the engine's main packages in go.mod and go.sum, so that
// `go mod tidy` does not prune them and `go build` can run offline from the
// module cache. The build tag means this file is never compiled.
package tools

import (
	_ "github.com/pulumi/pulumi/pkg/v3/cmd/pulumi"
	// The CLI's version string is stamped into this package with -ldflags -X,
	// so sdk/v3 stays a direct requirement pinned to the same release as pkg/v3.
	_ "github.com/pulumi/pulumi/sdk/v3/go/common/version"
)
