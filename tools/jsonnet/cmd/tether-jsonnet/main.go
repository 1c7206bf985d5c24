// tether-jsonnet evaluates one Jsonnet file with go-jsonnet, as Argo CD's directory sources do, but
// with every import confined to one directory (the checkout): the stock `jsonnet` binary reads any
// file an `import "/…"` names, which would let a repository read the agent's own files.
//
//	tether-jsonnet --root DIR [-J DIR]... [--ext-str K=V] [--ext-code K=V] [--tla-str K=V] [--tla-code K=V] FILE
//
// Paths are relative to the working directory (the checkout), so messages name repository paths.
// Prints the JSON value; exits 1 with go-jsonnet's message (file:line:column) on error.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/google/go-jsonnet"
)

type list []string

func (l *list) String() string     { return strings.Join(*l, ",") }
func (l *list) Set(v string) error { *l = append(*l, v); return nil }

// confined refuses any import that resolves (symlinks followed) outside root.
type confined struct {
	root  string
	inner *jsonnet.FileImporter
}

func (c *confined) Import(from, path string) (jsonnet.Contents, string, error) {
	contents, foundAt, err := c.inner.Import(from, path)
	if err != nil {
		return contents, foundAt, err
	}
	real, err := filepath.EvalSymlinks(foundAt)
	if err == nil {
		real, err = filepath.Abs(real)
	}
	if err != nil || (real != c.root && !strings.HasPrefix(real, c.root+string(filepath.Separator))) {
		return jsonnet.Contents{}, "", fmt.Errorf("import %q is outside the repository: Jsonnet sources may import only files of their own repository", path)
	}
	return contents, foundAt, nil
}

func pairs(vm *jsonnet.VM, values list, set func(*jsonnet.VM, string, string)) error {
	for _, kv := range values {
		k, v, ok := strings.Cut(kv, "=")
		if !ok {
			return fmt.Errorf("%q: want NAME=VALUE", kv)
		}
		set(vm, k, v)
	}
	return nil
}

func run() error {
	var root string
	var jpaths, extStr, extCode, tlaStr, tlaCode list
	flag.StringVar(&root, "root", "", "the only directory imports may read")
	flag.Var(&jpaths, "J", "library search directory")
	flag.Var(&extStr, "ext-str", "external variable NAME=STRING")
	flag.Var(&extCode, "ext-code", "external variable NAME=CODE")
	flag.Var(&tlaStr, "tla-str", "top-level argument NAME=STRING")
	flag.Var(&tlaCode, "tla-code", "top-level argument NAME=CODE")
	flag.Parse()
	if root == "" || flag.NArg() != 1 {
		return fmt.Errorf("usage: tether-jsonnet --root DIR [-J DIR]... [--ext-str|--ext-code|--tla-str|--tla-code NAME=VALUE]... FILE")
	}
	realRoot, err := filepath.EvalSymlinks(root)
	if err == nil {
		realRoot, err = filepath.Abs(realRoot)
	}
	if err != nil {
		return err
	}
	vm := jsonnet.MakeVM()
	vm.Importer(&confined{root: realRoot, inner: &jsonnet.FileImporter{JPaths: jpaths}})
	for _, p := range []struct {
		values list
		set    func(*jsonnet.VM, string, string)
	}{{extStr, (*jsonnet.VM).ExtVar}, {extCode, (*jsonnet.VM).ExtCode}, {tlaStr, (*jsonnet.VM).TLAVar}, {tlaCode, (*jsonnet.VM).TLACode}} {
		if err := pairs(vm, p.values, p.set); err != nil {
			return err
		}
	}
	out, err := vm.EvaluateFile(flag.Arg(0))
	if err != nil {
		return err
	}
	_, err = os.Stdout.WriteString(out)
	return err
}

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
