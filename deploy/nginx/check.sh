#!/usr/bin/env bash
# Validates deploy/nginx/cdn.conf with the local nginx binary (`nginx -t`), without
# Docker and without root.
#
# cdn.conf is a conf.d include (it belongs inside `http {}`), so this wraps it in
# a throw-away main config under a temp dir, points the absolute paths it uses
# (cache dir, access log) into that dir and moves `listen 80` to a free
# unprivileged loopback port. The upstream host `minio` needs no
# rewriting: cdn.conf resolves it per request through a variable, so nginx -t
# never looks it up.
#
# Usage: deploy/nginx/check.sh [path/to/cdn.conf]      (exit 0 = valid)
# Needs: nginx (Debian: apt-get install nginx-light).
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
conf="${1:-$here/cdn.conf}"
nginx_bin="${NGINX:-nginx}"

if ! command -v "$nginx_bin" >/dev/null 2>&1; then
  echo "check.sh: nginx not found. Install it (Debian/Ubuntu: apt-get install -y nginx-light) or set NGINX=/path/to/nginx." >&2
  exit 1
fi
if [ ! -f "$conf" ]; then
  echo "check.sh: $conf does not exist" >&2
  exit 1
fi

tmp="$(mktemp -d "${TMPDIR:-/tmp}/pixmill-nginx-check.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/cache" "$tmp/logs" "$tmp/temp"

# nginx -t binds the listen sockets, and port 80 needs root: listen on a free
# unprivileged loopback port instead.
port=""
for _ in 1 2 3 4 5 6 7 8 9 10; do
  candidate=$((20000 + RANDOM % 40000))
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then
    port=$candidate
    break
  fi
done
if [ -z "$port" ]; then
  echo "check.sh: found no free local port for the test listener" >&2
  exit 1
fi

sed -E -e "s#/var/cache/nginx/pixmill#$tmp/cache#g" \
    -e "s#/var/log/nginx/#$tmp/logs/#g" \
    -e "s#^([[:space:]]*listen[[:space:]]+)[0-9]+([[:space:];])#\\1127.0.0.1:$port\\2#" \
    "$conf" >"$tmp/cdn.conf"

# Any other absolute path would make the check depend on this machine's layout
# (or on root); fail loudly so the rewrite list above gets extended.
if leftover="$(grep -nE '^[^#]*[[:space:]]/(var|etc|usr|run|srv|opt)/' "$tmp/cdn.conf")"; then
  echo "check.sh: cdn.conf uses absolute paths this check does not relocate:" >&2
  echo "$leftover" >&2
  exit 1
fi

# Temp paths default to compiled-in locations (/var/lib/nginx/...) that only root
# may create; point every one this nginx was built with into the temp dir.
nginx_v="$("$nginx_bin" -V 2>&1)"
temp_paths="    client_body_temp_path $tmp/temp/body;
    proxy_temp_path $tmp/temp/proxy;"
for m in fastcgi uwsgi scgi; do
  case "$nginx_v" in
    *"--without-http_${m}_module"*) ;;
    *) temp_paths="$temp_paths
    ${m}_temp_path $tmp/temp/$m;" ;;
  esac
done

cat >"$tmp/nginx.conf" <<CONF
# Wrapper shaped like the nginx image's /etc/nginx/nginx.conf.
worker_processes 1;
pid $tmp/nginx.pid;
error_log $tmp/logs/error.log warn;

events {
    worker_connections 64;
}

http {
    default_type application/octet-stream;
    access_log $tmp/logs/access.log;
$temp_paths
    include $tmp/cdn.conf;
}
CONF

# -e (nginx >= 1.19.5) keeps the start-up error log out of /var/log/nginx.
if "$nginx_bin" -p "$tmp/" -e "$tmp/logs/error.log" -t -c "$tmp/nginx.conf" >"$tmp/out" 2>&1; then
  sed "s#$tmp#<tmp>#g" "$tmp/out"
  echo "check.sh: $conf OK ($("$nginx_bin" -v 2>&1))"
else
  sed "s#$tmp#<tmp>#g" "$tmp/out" >&2
  echo "check.sh: $conf FAILED nginx -t" >&2
  exit 1
fi
