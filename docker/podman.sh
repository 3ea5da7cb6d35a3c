#!/usr/bin/env bash
# Builds and runs docker/ with podman, where there is no Docker engine (the project's machines:
# Debian bookworm, root, no registry of images, the npm registry and Debian's packages only).
#
#   docker/podman.sh install            # podman, podman-compose, runc, debootstrap, dnsname (apt)
#   docker/podman.sh base               # the base image, built here (below)
#   docker/podman.sh build              # base, then the Dockerfile -> localhost/bourse:local
#   docker/podman.sh compose up -d bourse-1 bourse-2 bourse-3   # podman-compose, any args
#   docker/podman.sh compose run --rm bench
#   docker/podman.sh compose down -v
#   docker/podman.sh podman ps          # podman itself, with the settings below
#
# Where Docker Hub is reachable, `docker build` / `docker compose` need none of this.
#
# The base image. The Dockerfile starts FROM ${NODE_IMAGE} (node:20-bookworm-slim by default),
# which cannot be pulled here. This builds an equivalent: Debian bookworm (minbase) from
# Debian's packages with debootstrap, this machine's Node 20 and npm copied in, a user `node`
# (uid 1000, as in the official image), and the CA certificates this machine trusts (its
# egress to the npm registry goes through a proxy with its own CA, which `npm ci` inside the
# build has to trust as well).
#
# Settings (CONTAINERS_CONF, written to a temporary file): runc, because crun refuses the
# hybrid cgroup v1 hierarchy these machines mount; and default ulimits no higher than this
# shell's hard limits, because root here lacks CAP_SYS_RESOURCE and podman's defaults (about
# 1M open files) cannot be set.
set -euo pipefail

cd "$(dirname "$0")/.."
base_image=localhost/bourse-base:node20-bookworm
image=localhost/bourse:local
root= # the base image's file tree while it is built (removed on exit)

install() {
  local missing=()
  for tool in podman podman-compose runc debootstrap; do
    command -v "$tool" > /dev/null || missing+=("$tool")
  done
  # compose's members find each other by service name through this CNI plugin: without it (a
  # Recommends that --no-install-recommends leaves out) no name resolves and no member votes.
  [ -x /usr/lib/cni/dnsname ] || missing+=(golang-github-containernetworking-plugin-dnsname)
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "podman.sh: installing ${missing[*]} from Debian's packages" >&2
  export DEBIAN_FRONTEND=noninteractive
  if ! apt-get install -y -q --no-install-recommends "${missing[@]}" > /dev/null; then
    apt-get update -q > /dev/null
    apt-get install -y -q --no-install-recommends "${missing[@]}" > /dev/null
  fi
}

settings() {
  local conf="${TMPDIR:-/tmp}/bourse-containers.conf"
  local nofile nproc
  nofile=$(ulimit -Hn)
  nproc=$(ulimit -Hu)
  [ "$nproc" = unlimited ] || [ "$nproc" -gt 8192 ] && nproc=8192
  cat > "$conf" << EOF
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=$nproc:$nproc"]
[engine]
runtime = "runc"
EOF
  export CONTAINERS_CONF="$conf"
}

base() {
  if podman image exists "$base_image"; then return 0; fi
  local node_version
  node_version=$(node -p 'process.versions.node.split(".")[0]')
  [ "$node_version" = 20 ] || { echo "podman.sh: Node 20 needed, found $(node -v)" >&2; exit 1; }
  root=$(mktemp -d "${TMPDIR:-/tmp}/bourse-rootfs.XXXXXX")
  trap 'rm -rf "$root"' EXIT
  echo "podman.sh: building $base_image (debootstrap bookworm, Node $(node -v))" >&2
  debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian > /dev/null
  cp /usr/bin/node "$root/usr/bin/node"
  mkdir -p "$root/usr/lib/node_modules"
  cp -a "$(dirname "$(readlink -f "$(command -v npm)")")/.." "$root/usr/lib/node_modules/npm"
  ln -sf ../lib/node_modules/npm/bin/npm-cli.js "$root/usr/bin/npm"
  ln -sf ../lib/node_modules/npm/bin/npx-cli.js "$root/usr/bin/npx"
  cp /etc/resolv.conf "$root/etc/resolv.conf"
  mkdir -p "$root/usr/local/share/ca-certificates"
  for crt in /usr/local/share/ca-certificates/*.crt; do
    [ -e "$crt" ] && cp "$crt" "$root/usr/local/share/ca-certificates/"
  done
  chroot "$root" sh -c '
    set -e
    apt-get install -y -q --no-install-recommends ca-certificates > /dev/null
    update-ca-certificates > /dev/null
    apt-get clean && rm -rf /var/lib/apt/lists/*
    groupadd -g 1000 node && useradd -u 1000 -g node -m -s /bin/bash node
    node -v && npm -v'
  rm -f "$root/etc/resolv.conf"
  tar -C "$root" -c . | podman import \
    --change 'CMD ["node"]' \
    --change 'ENV NODE_EXTRA_CA_CERTS=/etc/ssl/certs/ca-certificates.crt' \
    - "$base_image" > /dev/null
  echo "podman.sh: $base_image ready" >&2
}

build() {
  base
  podman build --format docker --build-arg "NODE_IMAGE=$base_image" \
    -f docker/Dockerfile -t "$image" .
}

command=${1:-}
[ $# -gt 0 ] && shift
case "$command" in
  install) install ;;
  base) install && settings && base ;;
  build) install && settings && build ;;
  compose)
    install && settings
    export NODE_IMAGE="$base_image"
    exec podman-compose -p "${BOURSE_PROJECT:-bourse}" -f docker/compose.yml "$@"
    ;;
  podman) install && settings && exec podman "$@" ;;
  *)
    sed -n '2,12p' "$0" >&2
    exit 2
    ;;
esac
