# The runtime image of postgres-operator-functions: the kubeless-compatible function host (default command), the
# event bridge (dist/bridge/bridge.js) and every function bundle (dist/functions/<name>/handler.js). Which
# function a container runs is set by its env (MOD_NAME=handler, FUNC_HANDLER=<export>,
# KUBELESS_INSTALL_VOLUME=/app/dist/functions/<name>); `npm run deploy` writes that env.
#
#   docker build -t postgres-operator-functions:0.1.0 .
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
ENV NODE_ENV=production \
    NODE_OPTIONS=--enable-source-maps \
    FUNC_PORT=8080
WORKDIR /app
COPY --from=build /src/dist/ /app/dist/
# uid/gid 1000 (the image's `node` user), as the Kubeless runtimes run; the manifests require a non-root user.
USER 1000:1000
EXPOSE 8080
CMD ["node", "/app/dist/host/host.js"]
