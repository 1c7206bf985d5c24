#!/usr/bin/env bash
# The agent image's contents: the one recipe both builds run. The Dockerfile's `rootfs` stage runs it
# under `docker build`; tools/image/build.ts runs it on a machine without a Docker engine and packs the
# result as an OCI image. Two layers:
#
#   rootfs.sh debian OUT.tar
#       Debian bookworm's Essential packages plus git, ca-certificates, openssh-client and libstdc++6
#       (which node links), from Debian's mirrors with mmdebstrap: no apt, no docs, no man pages. The
#       user tether (10001:10001) the Deployment runs as, and /var/cache/tether for the agent's cache.
#   rootfs.sh app DEST NODE TOOLS DIST
#       What Tether adds on top: NODE (the node binary; 20.19 or newer, as package.json's engines say) and
#       the pinned binaries in TOOLS (sops, age, age-keygen, helm, kustomize, tether-jsonnet) into
#       DEST/usr/local/bin, and the esbuild bundle DIST (dist/ with the web UI) into DEST/app/dist.
#       Nothing else: no node_modules, npm, tsx or TypeScript.
#
# mmdebstrap runs as root; under `docker build` (no CAP_SYS_ADMIN) it skips mounting /proc and /sys.
set -euo pipefail

log() { printf '[image] %s\n' "$*" >&2; }

# Debian's packages the agent needs at run time. Essential (bash, coreutils, dpkg, ...) comes with the variant.
PACKAGES=ca-certificates,git,libstdc++6,openssh-client
SUITE=bookworm
TOOLS=(sops age age-keygen helm kustomize tether-jsonnet)

debian() {
  local out=$1
  command -v mmdebstrap >/dev/null || { log "error: mmdebstrap is required (apt-get install mmdebstrap)"; exit 1; }
  [[ $(id -u) -eq 0 ]] || { log "error: the Debian layer is built as root (mmdebstrap's root mode)"; exit 1; }
  # Fixed timestamps: the same packages give the same layer.
  SOURCE_DATE_EPOCH=${SOURCE_DATE_EPOCH:-0} mmdebstrap --quiet --variant=essential --include="$PACKAGES" \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-exclude=/usr/share/lintian/*' \
    --customize-hook='echo "tether:x:10001:10001:Tether agent:/tmp:/usr/sbin/nologin" >> "$1/etc/passwd"' \
    --customize-hook='echo "tether:x:10001:" >> "$1/etc/group"' \
    --customize-hook='mkdir -p "$1/var/cache/tether" "$1/app" && chown 10001:10001 "$1/var/cache/tether"' \
    --customize-hook='rm -rf "$1"/var/log/* "$1"/var/cache/ldconfig/aux-cache "$1"/var/lib/dpkg/*-old' \
    "$SUITE" "$out" \
    "deb http://deb.debian.org/debian $SUITE main" \
    "deb http://deb.debian.org/debian $SUITE-updates main" \
    "deb http://deb.debian.org/debian-security $SUITE-security main"
}

app() {
  local dest=$1 node=$2 tools=$3 dist=$4
  # engines in package.json: node >= 20.19.
  "$node" -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' \
    || { log "error: $node is Node.js $("$node" --version); the image needs 20.19 or newer"; exit 1; }
  [[ -f "$dist/tether.mjs" ]] || { log "error: $dist/tether.mjs is missing: run \`npm run build\` first"; exit 1; }
  [[ -f "$dist/ui/index.html" ]] || { log "error: $dist/ui is missing: run \`npm run build:ui\` first"; exit 1; }
  mkdir -p "$dest/usr/local/bin" "$dest/app"
  install -m 0755 "$node" "$dest/usr/local/bin/node"
  for tool in "${TOOLS[@]}"; do
    [[ -e "$tools/$tool" ]] || { log "error: $tools/$tool is missing: run \`bash tools/build.sh\` first"; exit 1; }
    install -m 0755 "$tools/$tool" "$dest/usr/local/bin/$tool"
  done
  rm -rf "$dest/app/dist"
  cp -r "$dist" "$dest/app/dist"
  chmod -R u=rwX,go=rX "$dest/app/dist"
}

case ${1:-} in
  debian) shift; debian "$@" ;;
  app) shift; app "$@" ;;
  *) log "usage: rootfs.sh debian OUT.tar | rootfs.sh app DEST NODE TOOLS DIST"; exit 2 ;;
esac
