//go:build tools

// Package tools pins the Python language host. Its own module
// (sdk/python/cmd/pulumi-language-python/v3) is not served by the module proxy
// these machines reach, so the host is built from sdk/v3 v3.68.0, the last
// release that still carried it inside sdk/v3. The host speaks the same
// language-plugin protocol to today's CLI and runs the exec script copied from
// the pinned sdk/v3 release, so programs run on the current Python SDK.
package tools

import _ "github.com/pulumi/pulumi/sdk/v3/python/cmd/pulumi-language-python"
