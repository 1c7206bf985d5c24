# The Tether agent image: `docker build -t tether:0.1.0 .` (the tag bootstrap deploys by default).
# Three stages: the tool binaries from the same Go modules and script the tests use, the TypeScript
# compiled to JavaScript, and a slim runtime with node, git and those binaries, running as non-root.

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
COPY tsconfig.json tsconfig.build.json ./
COPY agent/ agent/
COPY cli/ cli/
# bootstrap/ (the Pulumi program) stays out: it runs from a checkout, not in the cluster.
RUN npx tsc -p tsconfig.build.json

FROM node:20-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends git ca-certificates openssh-client \
 && rm -rf /var/lib/apt/lists/*
COPY --from=tools /out/ /usr/local/bin/
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm install --omit=dev --no-audit --no-fund --no-save && npm cache clean --force
COPY --from=build /app/dist/ ./dist/
# The UID bootstrap's Deployment runs as; HOME and the cache are the emptyDirs it mounts.
USER 10001:10001
ENV HOME=/tmp NODE_ENV=production
EXPOSE 8080
ENTRYPOINT ["node", "/app/dist/cli/main.js"]
CMD ["agent", "--listen", "0.0.0.0:8080", "--cache-dir", "/var/cache/tether"]
