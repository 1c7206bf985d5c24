// The distribution registry (github.com/distribution/distribution/v3/cmd/registry) with only the
// storage drivers and auth the tests use: filesystem and in-memory storage, htpasswd and token auth. Upstream's
// main also links the Azure, GCS and S3 drivers, which more than double the cold build for nothing
// a test on 127.0.0.1 needs.
package main

import (
	"github.com/distribution/distribution/v3/registry"
	_ "github.com/distribution/distribution/v3/registry/auth/htpasswd"
	_ "github.com/distribution/distribution/v3/registry/auth/token"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/filesystem"
	_ "github.com/distribution/distribution/v3/registry/storage/driver/inmemory"
)

func main() {
	// RootCmd exits non-zero itself when serving fails.
	_ = registry.RootCmd.Execute()
}
