# The Tether agent image: `docker build -t tether:0.1.0 .` (the tag bootstrap deploys by default).
# Three stages: the tool binaries from the same Go modules and script the tests use, the esbuild bundle
# (dist/, as `npm run build` makes it), and a slim runtime with node, git, those binaries and dist/
# alone (no node_modules, no npm, no tsx), running as non-root.

FROM golang:1.26-bookworm AS tools
WORKDIR /src
COPY tools/ tools/
# sops and age decrypt, helm and kustomize render; tools/build.sh pins them and sets their ldflags.
RUN TETHER_TOOLS_CACHE=/tmp/tools-cache bash tools/build.sh age sops kustomize helm \
 && mkdir /out && cp -L .tools/bin/age .tools/bin/sops .tools/bin/kustomize .tools/bin/helm /out/

FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# `npm install --no-save` from the lock, as tools/setup.sh does: `npm ci` refuses the lock npm 11 writes here.
RUN npm install --no-audit --no-fund --no-save
COPY tsconfig.json ./
COPY tools/bundle.mjs tools/
COPY agent/ agent/
COPY cli/ cli/
COPY bootstrap/manifests.ts bootstrap/
COPY ui/ ui/
# The commit the bundle reports (`tether version`, GET /version); the build context has no .git.
ARG TETHER_COMMIT=unknown
# One esbuild bundle with every dependency inside (what `npm run build` makes and the tests run),
# and the web UI; the runtime stage needs neither node_modules nor TypeScript.
RUN TETHER_COMMIT=$TETHER_COMMIT node tools/bundle.mjs && npx vite build --config ui/vite.config.ts

FROM node:20-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends git ca-certificates openssh-client \
 && rm -rf /var/lib/apt/lists/* \
 && rm -rf /usr/local/lib/node_modules/npm /usr/local/lib/node_modules/corepack /usr/local/bin/npm /usr/local/bin/npx /usr/local/bin/corepack
COPY --from=tools /out/ /usr/local/bin/
COPY --from=build /app/dist/ /app/dist/
# The UID bootstrap's Deployment runs as; HOME and the cache are the emptyDirs it mounts.
USER 10001:10001
ENV HOME=/tmp NODE_ENV=production
EXPOSE 8080
ENTRYPOINT ["node", "/app/dist/tether.mjs"]
CMD ["agent", "--listen", "0.0.0.0:8080", "--cache-dir", "/var/cache/tether"]
