// pulumi-resource-kubernetes, as upstream's provider/cmd/pulumi-resource-kubernetes builds it. Upstream's
// main package embeds schema-embed.json and terraform-mapping-embed.json, which its `go generate` writes
// and its module does not ship; this copy embeds the schema.json and terraform-mapping.json that the
// module does ship, supplied by tools/build.sh through `go build -overlay` (the go command refuses
// overlays of files inside the module cache, so the package has to live here).
package main

import (
	_ "embed"

	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/provider"
	"github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version"
)

//go:embed schema.json
var pulumiSchema []byte

//go:embed terraform-mapping.json
var terraformMapping []byte

func main() {
	provider.Serve("kubernetes", version.Version, pulumiSchema, terraformMapping)
}
