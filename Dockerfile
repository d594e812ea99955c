# The runtime image of postgres-operator-functions: the kubeless-compatible function host (default command), the
# event bridge (dist/bridge/bridge.js) and every function bundle (dist/functions/<name>/handler.js). Which
# function a container runs is set by its env (MOD_NAME=handler, FUNC_HANDLER=<export>,
# KUBELESS_INSTALL_VOLUME=/app/dist/functions/<name>); `npm run deploy` writes that env.
#
#   npm run image        # = docker build --build-arg VERSION=<v> -t postgres-operator-functions:<v> .
#
# <v> is package.json's "version", the one place the version lives: the chart's version and appVersion, the
# kustomize images and `npm run deploy`'s default image take it from there too (test/unit/deploy/version.test.ts).
#
# The bundles carry their dependencies (esbuild), so the image has no node_modules.

# Build stage: the bundles, from a clean install of the locked dependencies.
FROM node:22-bookworm AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build

# Runtime stage.
FROM node:22-bookworm-slim
ARG VERSION=unversioned
LABEL org.opencontainers.image.title=postgres-operator-functions \
      org.opencontainers.image.version=$VERSION
ENV NODE_ENV=production \
    NODE_OPTIONS=--enable-source-maps \
    FUNC_PORT=8080
WORKDIR /app
COPY --from=build /src/dist/ /app/dist/
# uid/gid 1000 (the image's `node` user), as the Kubeless runtimes run; the manifests require a non-root user.
USER 1000:1000
EXPOSE 8080
CMD ["node", "/app/dist/host/host.js"]
