#!/usr/bin/env bash
# A throwaway PostgreSQL server for peer benches (bench/peers/postgres-transfers.ts).
#
#   scripts/postgres.sh [start [<datadir>]]   prints the connection URL on stdout (one line)
#   scripts/postgres.sh stop <datadir>        stops the server and removes <datadir>
#
# Start installs PostgreSQL from Debian's packages when no initdb is found (as root, with
# apt-get), makes a new cluster in <datadir> (a new temporary folder when omitted; its path is
# told on stderr), and starts it listening on 127.0.0.1 only, on a free port, with trust auth
# for loopback and durable commits (fsync=on, synchronous_commit=on): a transaction is
# answered only once its WAL is on disk, as a bourse result is only once it is journaled.
# Every wait is bounded; on failure the server's log goes to stderr and the exit is non-zero.
set -euo pipefail

readonly start_timeout_s=30
readonly stop_timeout_s=30
readonly port_attempts_max=50
readonly start_attempts_max=5
# Marks a folder this script made a cluster in: stop removes no other folder.
readonly marker=.bourse-postgres-bench

die() {
  echo "postgres.sh: $*" >&2
  exit 1
}

# The newest PostgreSQL's bin folder from Debian's packages, or initdb's folder on PATH.
pg_bin() {
  local found
  found=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [[ -n "$found" && -x "$found/initdb" && -x "$found/pg_ctl" ]]; then
    echo "$found"
  elif command -v initdb >/dev/null && command -v pg_ctl >/dev/null; then
    dirname "$(readlink -f "$(command -v initdb)")"
  fi
}

install_postgres() {
  [[ $EUID -eq 0 ]] || die "PostgreSQL is not installed; as root: apt-get install postgresql"
  command -v apt-get >/dev/null || die "PostgreSQL is not installed and there is no apt-get"
  echo "postgres.sh: installing PostgreSQL from Debian's packages" >&2
  # Debian's package would create and start a 'main' cluster on port 5432; ask it not to, so
  # that this script never leaves a server running.
  mkdir -p /etc/postgresql-common
  if [[ ! -e /etc/postgresql-common/createcluster.conf ]]; then
    echo 'create_main_cluster = false' >/etc/postgresql-common/createcluster.conf
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q >&2 || die "apt-get update failed"
  apt-get install -y -q -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold \
    postgresql >&2 || die "apt-get install postgresql failed"
}

# Runs a command as the 'postgres' user when root (initdb and postgres refuse root).
as_pg() {
  if [[ $EUID -eq 0 ]]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

# A port on 127.0.0.1 that nothing listens on (checked by connecting; bounded attempts), below
# the kernel's ephemeral range, so that no outgoing connection takes it before the server binds
# it (seen once: "could not bind ... Address already in use" while other tests ran).
free_port() {
  local port low=20000 high=32768
  read -r high _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || true
  ((high > low + 1000)) || { low=10000; high=20000; }
  for ((i = 0; i < port_attempts_max; i++)); do
    port=$((low + RANDOM % (high - low)))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  die "no free port found in $port_attempts_max attempts"
}

start() {
  local dir="${1:-}" bin port
  bin=$(pg_bin)
  if [[ -z "$bin" ]]; then
    install_postgres
    bin=$(pg_bin)
    [[ -n "$bin" ]] || die "PostgreSQL was installed but no initdb was found"
  fi
  if [[ $EUID -eq 0 ]] && ! id -u postgres >/dev/null 2>&1; then
    die "running as root needs a 'postgres' user (Debian's package makes one)"
  fi
  if [[ -z "$dir" ]]; then
    dir=$(mktemp -d /tmp/bourse-postgres.XXXXXX)
    echo "postgres.sh: data dir $dir (stop with: scripts/postgres.sh stop $dir)" >&2
  fi
  mkdir -p "$dir"
  dir=$(readlink -f "$dir")
  [[ -z "$(ls -A "$dir")" ]] || die "$dir is not empty"
  touch "$dir/$marker"
  # Until the server is up, any exit stops whatever started and removes the folder.
  # shellcheck disable=SC2064 # the folder's path is fixed now
  trap "(stop $(printf '%q' "$dir")) >/dev/null 2>&1 || true" EXIT
  local data="$dir/data"
  mkdir "$data"
  [[ $EUID -ne 0 ]] || chown -R postgres:postgres "$dir"
  chmod 700 "$dir" "$data"
  cd /tmp # the postgres user may not read the caller's folder
  as_pg "$bin/initdb" -D "$data" -U postgres --auth-local=trust --auth-host=trust \
    --no-locale -E UTF8 >"$dir/initdb.log" 2>&1 || {
    cat "$dir/initdb.log" >&2
    die "initdb failed (log above)"
  }
  cat >>"$data/postgresql.conf" <<EOF
# scripts/postgres.sh: loopback only, durable commits (the port is given at start).
listen_addresses = '127.0.0.1'
unix_socket_directories = '$dir'
fsync = on
synchronous_commit = on
full_page_writes = on
max_connections = 100
EOF
  # A port another process took between the check and the bind: try another (bounded).
  local started=0
  for ((attempt = 0; attempt < start_attempts_max && started == 0; attempt++)); do
    port=$(free_port)
    if as_pg "$bin/pg_ctl" -D "$data" -l "$dir/server.log" -o "-p $port" -w \
      -t "$start_timeout_s" start >/dev/null; then
      started=1
    elif ! grep -q "Address already in use" "$dir/server.log"; then
      break
    fi
  done
  if ((started == 0)); then
    cat "$dir/server.log" >&2 || true
    die "PostgreSQL did not start (waited at most ${start_timeout_s} s; log above)"
  fi
  trap - EXIT
  echo "postgresql://postgres@127.0.0.1:$port/postgres"
}

stop() {
  local dir="${1:-}" bin pid
  [[ -n "$dir" ]] || die "usage: scripts/postgres.sh stop <datadir>"
  [[ -d "$dir" ]] || return 0 # already gone
  [[ -e "$dir/$marker" ]] || die "$dir was not made by this script; not touching it"
  local data="$dir/data"
  if [[ -f "$data/postmaster.pid" ]]; then
    pid=$(head -n 1 "$data/postmaster.pid")
    bin=$(pg_bin)
    if [[ -n "$bin" ]]; then
      as_pg "$bin/pg_ctl" -D "$data" -m fast -w -t "$stop_timeout_s" stop >/dev/null 2>&1 ||
        as_pg "$bin/pg_ctl" -D "$data" -m immediate -w -t "$stop_timeout_s" stop \
          >/dev/null 2>&1 || true
    fi
    # Last resort: the postmaster is killed, and with it its children.
    if [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null; then
      kill -KILL "$pid" 2>/dev/null || true
      sleep 1
    fi
  fi
  rm -rf "$dir"
}

case "${1:-start}" in
  start) start "${2:-}" ;;
  stop) stop "${2:-}" ;;
  *) die "usage: scripts/postgres.sh [start [<datadir>]] | stop <datadir>" ;;
esac
