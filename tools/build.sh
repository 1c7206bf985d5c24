#!/usr/bin/env bash
# Builds the binaries Tether's tests, demo and agent run (kube-apiserver, etcd, kwok, sops, age, helm,
# kustomize, jsonnet, ...) from the Go modules pinned under tools/<name>/, into a cache outside the repository
# keyed by the module's go.mod + go.sum, then links them into .tools/bin. A tool already in the cache is
# not rebuilt, so a warm run takes about a second.
#   bash tools/build.sh            build everything that is missing
#   bash tools/build.sh sops helm  only these
#   bash tools/build.sh pulumi     the Pulumi engine (CLI, language host, provider), built only when asked
# TETHER_TOOLS_CACHE moves the cache (default ~/.cache/tether/tools).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cache=${TETHER_TOOLS_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/tether/tools}
bindir="$root/.tools/bin"

# dir:module whose version names the build. Ordered so the quick ones come first.
tools=(
  age:filippo.io/age
  sops:github.com/getsops/sops/v3
  kustomize:sigs.k8s.io/kustomize/kustomize/v5
  jsonnet:github.com/google/go-jsonnet
  helm:helm.sh/helm/v3
  registry:github.com/distribution/distribution/v3
  etcd:go.etcd.io/etcd/server/v3
  kwok:sigs.k8s.io/kwok
  kubernetes:k8s.io/kubernetes
  # The real node (test/harness/node.ts): a kubelet from the same k8s.io/kubernetes version, containerd.
  kubelet:k8s.io/kubernetes
  containerd:github.com/containerd/containerd/v2
)
# Built only when named: the Pulumi engine for the end-to-end test of `pulumi up` (test/bootstrap).
# Cold it costs more than everything above together, so `npm test` does without it;
# `bash tools/build.sh pulumi` builds the CLI, its Node.js language host and the Kubernetes provider.
on_request=(
  pulumi-language-nodejs:github.com/pulumi/pulumi/sdk/v3
  pulumi-kubernetes:github.com/pulumi/pulumi-kubernetes/provider/v4
  pulumi:github.com/pulumi/pulumi/pkg/v3
)

log() { printf '[tools] %s\n' "$*" >&2; }

command -v go >/dev/null || { log "error: 'go' is not on PATH. Install Go 1.26 (https://go.dev/dl) and run again."; exit 1; }

# The version a go.mod requires for a module, read without calling the network.
modversion() { awk -v m="$2" '$1 == m && $2 ~ /^v/ { print $2; exit } $1 == "require" && $2 == m { print $3; exit }' "$1/go.mod"; }

ldflags() {
  local name=$1 dir=$2 version=$3 flags="-s -w"
  case $name in
    kubernetes|kubelet)
      local minor; minor=$(cut -d. -f2 <<<"$version")
      for p in k8s.io/component-base/version k8s.io/client-go/pkg/version; do
        flags+=" -X $p.gitVersion=$version -X $p.gitMajor=1 -X $p.gitMinor=$minor"
        flags+=" -X $p.gitTreeState=clean -X $p.buildDate=1970-01-01T00:00:00Z"
      done ;;
    helm)
      # helm derives the Kubernetes version it templates for from these (see helm's Makefile).
      local cg major minor; cg=$(modversion "$dir" k8s.io/client-go); cg=${cg#v}
      major=$(( ${cg%%.*} + 1 )); minor=$(cut -d. -f2 <<<"$cg")
      flags+=" -X helm.sh/helm/v3/internal/version.version=$version"
      for p in helm.sh/helm/v3/pkg/chartutil helm.sh/helm/v3/pkg/lint/rules; do
        flags+=" -X $p.k8sVersionMajor=$major -X $p.k8sVersionMinor=$minor"
      done ;;
    kwok) flags+=" -X sigs.k8s.io/kwok/pkg/consts.Version=$version" ;;
    containerd) flags+=" -X github.com/containerd/containerd/v2/version.Version=$version -X github.com/containerd/containerd/v2/version.Revision=$version" ;;
    pulumi|pulumi-language-nodejs) flags+=" -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$version" ;;
    pulumi-kubernetes)
      # The pinned commit (pseudo-version v4.0.0-DATE-HASH) came after release 4.24.1 and before 4.25.0:
      # it reports 4.24.1+DATE-HASH, which satisfies the >=4.24.1 that @pulumi/kubernetes 4.24.1 asks for.
      flags+=" -X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=4.24.1+${version#v4.0.0-}" ;;
  esac
  printf '%s' "$flags"
}

# Build tags and cgo per tool. containerd: static, without the snapshotters that need cgo or kernel
# modules this machine lacks (btrfs, devmapper, zfs); it runs with overlayfs and Debian's runc.
buildenv() { case $1 in containerd) printf 'CGO_ENABLED=0 no_btrfs,no_devmapper,no_zfs' ;; esac; }

# Data files that belong with a binary, taken from the same module version.
extras() {
  local name=$1 dir=$2 out=$3 src
  case $name in
    etcd) mv "$out/server" "$out/etcd" ;;  # `go build` names it after the module's last path element
    kwok)
      # Standalone kwok has no built-in stages (kwokctl injects them): ship the upstream ones.
      src=$(cd "$dir" && go list -m -f '{{.Dir}}' sigs.k8s.io/kwok)/kustomize/stage
      for f in node/fast/node-initialize.yaml node/heartbeat-with-lease/node-heartbeat-with-lease.yaml \
               pod/fast/pod-ready.yaml pod/fast/pod-complete.yaml pod/fast/pod-delete.yaml; do
        printf -- '---\n'; cat "$src/$f"
      done > "$out/kwok-stages.yaml" ;;
  esac
}

# A -overlay file for packages that embed files their module does not ship; prints nothing for the others.
overlay() {
  local name=$1 dir=$2 src pkg
  case $name in
    pulumi-kubernetes)
      # The provider's main package (a copy lives in tools/pulumi-kubernetes/cmd, see there) embeds the
      # schema and the terraform mapping; take them from the module version that go.mod pins.
      (cd "$dir" && go mod download github.com/pulumi/pulumi-kubernetes/provider/v4)
      src=$(cd "$dir" && go list -m -f '{{.Dir}}' github.com/pulumi/pulumi-kubernetes/provider/v4)/cmd/pulumi-resource-kubernetes
      pkg=$dir/cmd/pulumi-resource-kubernetes
      printf '{"Replace":{"%s/schema.json":"%s/schema.json","%s/terraform-mapping.json":"%s/terraform-mapping.json"}}\n' \
        "$pkg" "$src" "$pkg" "$src" ;;
  esac
}

want=("$@")
[[ " ${want[*]} " == *" pulumi "* ]] && want+=(pulumi-language-nodejs pulumi-kubernetes)
entries=("${tools[@]}")
((${#want[@]})) && entries+=("${on_request[@]}")
mkdir -p "$cache" "$bindir"
for entry in "${entries[@]}"; do
  name=${entry%%:*}; module=${entry#*:}
  if ((${#want[@]})) && [[ ! " ${want[*]} " == *" $name "* ]]; then continue; fi
  dir="$root/tools/$name"
  version=$(modversion "$dir" "$module")
  flags=$(ldflags "$name" "$dir" "$version")
  env=(); tags=""; read -r cgo tags <<<"$(buildenv "$name")" || true; [[ -n $cgo ]] && env=("$cgo")
  if [[ $name == kubelet ]] && [[ $version != "$(modversion "$root/tools/kubernetes" k8s.io/kubernetes)" ]]; then
    log "error: tools/kubelet pins k8s.io/kubernetes $version but tools/kubernetes pins $(modversion "$root/tools/kubernetes" k8s.io/kubernetes): keep them equal"
    exit 1
  fi
  key=$( { cat "$dir/go.mod" "$dir/go.sum"; echo "$flags${tags:+ $cgo -tags $tags}"; go env GOVERSION GOOS GOARCH; } | sha256sum | cut -c1-12)
  out="$cache/$name-$version-$key"
  if [[ -f "$out/.complete" ]]; then
    log "$name $version: cached"
  else
    log "$name $version: building (first time only; kubernetes takes the longest) ..."
    start=$SECONDS
    rm -rf "$out.tmp" "$out.overlay.json"
    overlay "$name" "$dir" > "$out.overlay.json"
    ov=(); [[ -s "$out.overlay.json" ]] && ov=(-overlay "$out.overlay.json")
    (cd "$dir" && env "${env[@]}" go build -trimpath "${ov[@]}" ${tags:+-tags "$tags"} -ldflags "$flags" -o "$out.tmp/" tool)
    rm -f "$out.overlay.json"
    extras "$name" "$dir" "$out.tmp"
    touch "$out.tmp/.complete"
    rm -rf "$out" && mv "$out.tmp" "$out"
    log "$name $version: built in $((SECONDS - start))s"
  fi
  for bin in "$out"/*; do ln -sfn "$bin" "$bindir/$(basename "$bin")"; done
done
log "binaries in $bindir"
