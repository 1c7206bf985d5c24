# The Tether agent image: `docker build -t tether:0.1.0 .` (the tag bootstrap deploys by default).
# The image's contents come from tools/image/rootfs.sh, the one recipe: this file runs it in the
# `rootfs` stage, and `npm run image` (tools/image/build.ts) runs it without a Docker engine and reads
# the final stage below for the image config, so the two builds cannot drift apart.
#   tools    the pinned binaries, from the same Go modules and script the tests use
#   build    the esbuild bundle and the web UI (dist/, as `npm run build` and `npm run build:ui` make it)
#   rootfs   Debian's packages (mmdebstrap) + node + those binaries + dist/; no npm, node_modules or tsx
#   final    that root filesystem alone, non-root, meant to run with a read-only root filesystem

FROM golang:1.26-bookworm AS tools
WORKDIR /src
COPY tools/ tools/
# sops and age decrypt, helm, kustomize and tether-jsonnet render; tools/build.sh pins them and sets their ldflags.
RUN TETHER_TOOLS_CACHE=/tmp/tools-cache bash tools/build.sh age sops kustomize jsonnet helm \
 && mkdir /out && cp -L .tools/bin/* /out/

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
RUN TETHER_COMMIT=$TETHER_COMMIT node tools/bundle.mjs && npx vite build --config ui/vite.config.ts

FROM debian:bookworm AS rootfs
RUN apt-get update && apt-get install -y --no-install-recommends mmdebstrap ca-certificates && rm -rf /var/lib/apt/lists/*
COPY tools/image/rootfs.sh /recipe/rootfs.sh
RUN bash /recipe/rootfs.sh debian /recipe/debian.tar && mkdir /rootfs && tar --numeric-owner -xpf /recipe/debian.tar -C /rootfs
COPY --from=tools /out/ /recipe/tools/
COPY --from=build /usr/local/bin/node /recipe/node
COPY --from=build /app/dist/ /recipe/dist/
RUN bash /recipe/rootfs.sh app /rootfs /recipe/node /recipe/tools /recipe/dist

FROM scratch
COPY --from=rootfs /rootfs/ /
# The UID bootstrap's Deployment runs as; HOME and the cache are the emptyDirs it mounts.
USER 10001:10001
ENV PATH=/usr/local/bin:/usr/bin:/bin HOME=/tmp NODE_ENV=production
WORKDIR /app
EXPOSE 8080
ENTRYPOINT ["node", "/app/dist/tether.mjs"]
CMD ["agent", "--listen", "0.0.0.0:8080", "--cache-dir", "/var/cache/tether"]
