#!/bin/sh
# One-shot set-up of the compose MinIO (run by the minio-init service, image
# minio/mc): create the `pixmill` bucket and let anonymous clients -- the nginx CDN
# -- GET image objects by exact key. No anonymous listing, writing or deleting:
# the policy grants s3:GetObject on users/*/images/*/{original,derivatives/*}
# only. Idempotent, so it runs on every `docker compose up`.
set -eu

# Fixed: anonymous-read-policy.json and deploy/nginx/cdn.conf name it too.
bucket=pixmill

mc alias set pixmill "${MINIO_URL:-http://minio:9000}" "$MINIO_ROOT_USER" "$MINIO_ROOT_PASSWORD" >/dev/null
mc mb --ignore-existing "pixmill/$bucket"
mc anonymous set-json /deploy/minio/anonymous-read-policy.json "pixmill/$bucket"
echo "anonymous policy on $bucket:"
mc anonymous get-json "pixmill/$bucket"
