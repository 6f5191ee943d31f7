# Pixmill image: one image, two roles.
#   API (default):  node dist/apps/api/src/main.js
#   Worker:         node dist/apps/worker/src/main.js
#   Migrations:     npm run migrate
# Builds with the classic builder and with BuildKit (no BuildKit-only syntax), so
# both `docker compose build` and Debian's docker-compose 1.29 can build it.

ARG NODE_IMAGE=node:20-bookworm-slim

# ---- build: full dependency tree, TypeScript -> dist/ ----------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
# Some transitive packages phone home from their install scripts; nothing here needs that.
ENV SCARF_ANALYTICS=false \
    npm_config_fund=false \
    npm_config_audit=false \
    npm_config_update_notifier=false

# Lockfile first, so source edits do not invalidate the dependency layer.
COPY package.json package-lock.json ./
RUN npm ci

COPY . .
RUN npm run build

# ---- runtime: production dependencies only, non-root -----------------------
FROM ${NODE_IMAGE} AS runtime

# tini as PID 1: forwards SIGTERM to node (graceful shutdown finishes the work in
# hand) and reaps zombies, also where the orchestrator has no `--init`.
RUN apt-get update \
 && apt-get install -y --no-install-recommends tini \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
ENV NODE_ENV=production \
    SCARF_ANALYTICS=false \
    npm_config_fund=false \
    npm_config_audit=false \
    npm_config_update_notifier=false

# sharp (@img/sharp-linux-x64 + libvips) and argon2 ship prebuilt glibc binaries
# for linux-x64, so no compiler toolchain is needed in either stage.
COPY package.json package-lock.json ./
RUN npm ci --omit=dev \
 && npm cache clean --force

COPY --from=build /app/dist ./dist
# scripts/ holds the migration runner behind `npm run migrate`.
COPY --from=build /app/scripts ./scripts

# Writable only where Pixmill writes: ./data is STORAGE_LOCAL_DIR for the local
# storage driver (unused when STORAGE_DRIVER=s3).
RUN mkdir -p /app/data && chown node:node /app/data
USER node

EXPOSE 3000
# Stopping: on SIGTERM Pixmill finishes the work in hand for up to its grace period,
# API_SHUTDOWN_TIMEOUT_MS (40 s) for the API and WORKER_SHUTDOWN_TIMEOUT_MS (120 s) for a
# worker, then ends itself (a worker hands its unfinished jobs back to the queue first).
# Let the orchestrator wait ~10 s longer before its SIGKILL: `docker stop` waits only 10 s
# unless told (`docker run --stop-timeout 130`, compose `stop_grace_period`, Kubernetes
# `terminationGracePeriodSeconds`).
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/apps/api/src/main.js"]
