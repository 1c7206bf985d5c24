#!/usr/bin/env bash
# Everything `npm test` and `npm run demo` need on a fresh clone: checks the toolchain, installs the
# npm dependencies when package-lock.json changed, and builds the tool binaries (cached).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
log() { printf '[setup] %s\n' "$*" >&2; }

need() { command -v "$1" >/dev/null || { log "error: $1 is required: $2"; exit 1; }; }
need node "install Node.js 20.19 or newer"
need git "install git (apt-get install git)"
need go "install Go 1.26 (the tool binaries are built from Go modules)"
need openssl "install openssl (apt-get install openssl): the local control plane makes its certificates with it"
need tar "install tar"
node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' \
  || { log "error: Node.js $(node --version) is too old; Tether needs 20.19 or newer"; exit 1; }

if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  log "installing npm dependencies from package-lock.json"
  # Not `npm ci`: npm 11 here writes lock files without the other platforms' optional packages
  # (rollup, esbuild) and then its own `npm ci` refuses them as out of sync. `npm install --no-save`
  # installs the same locked versions and leaves the lock file alone.
  npm install --no-audit --no-fund --no-save >&2
else
  log "npm dependencies up to date"
fi
# The browser tests (test/ui) drive Debian's Chromium through playwright-core: Playwright's own
# browser download cannot run here. A check of one file when it is installed; apt-get once when not.
if [[ ! -x /usr/bin/chromium ]]; then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    log "installing Debian's chromium and fonts for the browser tests"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-liberation; } >&2
  else
    log "warning: /usr/bin/chromium is missing, so the browser tests (test/ui) will fail; install it: sudo apt-get install chromium"
  fi
fi
# The SSH repository tests (test/security/repo-credentials.test.ts) start OpenSSH's sshd on 127.0.0.1.
if [[ ! -x /usr/sbin/sshd ]]; then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    log "installing Debian's openssh-server for the SSH repository tests (sshd is started by the tests only, never as a service)"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openssh-server; } >&2
  else
    log "warning: /usr/sbin/sshd is missing, so the SSH repository tests will fail; install it: sudo apt-get install openssh-server"
  fi
fi
# The agent image is built without a Docker engine (tools/image: mmdebstrap for Debian's packages) and
# run by runc (test/deploy/image.test.ts). Debian's packages, installed once like chromium above.
missing=()
command -v mmdebstrap >/dev/null || missing+=(mmdebstrap)
command -v runc >/dev/null || missing+=(runc)
if ((${#missing[@]})); then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get >/dev/null; then
    log "installing Debian's ${missing[*]} for the agent image"
    { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >&2
  else
    log "warning: ${missing[*]} missing, so the image tests (test/deploy/image.test.ts) will fail; install: sudo apt-get install ${missing[*]}"
  fi
fi
bash tools/build.sh
