#!/usr/bin/env bash
# The scale-out's servers on loopback, for tests, benchmarks and trying it out: PostgreSQL 15
# (state) and one or more ClickHouse servers (facts; with two or more, a `greenwatch` cluster
# of them for Distributed tables). Everything lives under one directory and is gone with it.
#
#   scripts/services.sh start DIR [--clickhouse-shards N]   install what is missing, start, print the URLs
#                                                          (N = 0: PostgreSQL alone)
#   scripts/services.sh stop DIR                           stop what DIR's servers are
#
# Installs from Debian's packages when missing (postgresql, clickhouse-server). PostgreSQL's
# initdb refuses to run as root, so as root the cluster belongs to the `postgres` user.
# Ports: PostgreSQL 55432 (GREENWATCH_PG_PORT to change it); ClickHouse shard i HTTP 58123+i,
# native 59000+i, interserver 59009+i.
set -euo pipefail

usage() { sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 2; }
[ $# -ge 2 ] || usage
action=$1
given_dir=$2
shift 2
shards=1
while [ $# -gt 0 ]; do
  case $1 in
    --clickhouse-shards) shards=$2; shift 2 ;;
    *) usage ;;
  esac
done
case $shards in ''|*[!0-9]*) echo "--clickhouse-shards must be a number (0: none)" >&2; exit 2 ;; esac
dir=$(mkdir -p "$given_dir" && cd "$given_dir" && pwd)

PG_PORT=${GREENWATCH_PG_PORT:-55432}
PG_BIN=/usr/lib/postgresql/15/bin

as_owner() {
  if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

install_missing() {
  local wanted=()
  [ -x "$PG_BIN/postgres" ] || wanted+=(postgresql)
  [ "$shards" -eq 0 ] || command -v clickhouse-server >/dev/null || wanted+=(clickhouse-server)
  [ ${#wanted[@]} -eq 0 ] && return
  local sudo=""
  [ "$(id -u)" = 0 ] || sudo=sudo
  echo "installing ${wanted[*]} from Debian's packages" >&2
  $sudo apt-get update -q >&2
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q "${wanted[@]}" >&2
}

start_postgres() {
  local data=$dir/postgres
  if [ ! -f "$data/PG_VERSION" ]; then
    mkdir -p "$data"
    [ "$(id -u)" = 0 ] && chown postgres: "$dir" "$data"
    as_owner "$PG_BIN/initdb" -D "$data" -U greenwatch --auth=trust -E UTF8 >/dev/null
  fi
  as_owner "$PG_BIN/pg_ctl" -D "$data" -l "$data/server.log" -w \
    -o "-c listen_addresses=127.0.0.1 -c port=$PG_PORT -c unix_socket_directories=$data" start >/dev/null
  as_owner "$PG_BIN/psql" -h 127.0.0.1 -p $PG_PORT -U greenwatch -d postgres -tAc \
    "SELECT 1 FROM pg_database WHERE datname = 'greenwatch'" | grep -q 1 ||
    as_owner "$PG_BIN/createdb" -h 127.0.0.1 -p $PG_PORT -U greenwatch greenwatch
  echo "postgres://greenwatch@127.0.0.1:$PG_PORT/greenwatch"
}

# One server's config.xml: its own ports and paths, and the cluster of every shard.
clickhouse_config() {
  local i=$1 home=$2
  local replicas=""
  for ((s = 0; s < shards; s++)); do
    replicas+="<shard><replica><host>127.0.0.1</host><port>$((59000 + s))</port></replica></shard>"
  done
  cat > "$home/config.xml" <<XML
<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>$home/server.log</log><errorlog>$home/error.log</errorlog></logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>$((58123 + i))</http_port>
  <tcp_port>$((59000 + i))</tcp_port>
  <interserver_http_port>$((59009 + i * 10))</interserver_http_port>
  <path>$home/data/</path>
  <tmp_path>$home/tmp/</tmp_path>
  <user_files_path>$home/user_files/</user_files_path>
  <format_schema_path>$home/format_schemas/</format_schema_path>
  <users_config>users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>536870912</mark_cache_size>
  <remote_servers><greenwatch>$replicas</greenwatch></remote_servers>
</yandex>
XML
  cat > "$home/users.xml" <<XML
<?xml version="1.0"?>
<yandex>
  <profiles><default><max_memory_usage>4000000000</max_memory_usage></default></profiles>
  <users><default><password></password><networks><ip>127.0.0.1</ip></networks>
    <profile>default</profile><quota>default</quota></default></users>
  <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors>
    <result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time>
  </interval></default></quotas>
</yandex>
XML
}

start_clickhouse() {
  [ "$shards" -gt 0 ] || return 0
  local urls=()
  for ((i = 0; i < shards; i++)); do
    local home=$dir/clickhouse-$i
    mkdir -p "$home/data" "$home/tmp" "$home/user_files" "$home/format_schemas"
    clickhouse_config "$i" "$home"
    if [ "$(id -u)" = 0 ] && id clickhouse >/dev/null 2>&1; then
      chown -R clickhouse: "$home"
      runuser -u clickhouse -- clickhouse-server --config-file="$home/config.xml" \
        --pid-file="$home/server.pid" --daemon
    else
      clickhouse-server --config-file="$home/config.xml" --pid-file="$home/server.pid" --daemon
    fi
    local port=$((58123 + i))
    for _ in $(seq 100); do
      curl -fsS "http://127.0.0.1:$port/ping" >/dev/null 2>&1 && break
      sleep 0.1
    done
    curl -fsS "http://127.0.0.1:$port/ping" >/dev/null ||
      { echo "clickhouse shard $i did not start; see $home/error.log" >&2; exit 1; }
    urls+=("clickhouse://127.0.0.1:$port")
  done
  printf '%s\n' "${urls[@]}"
}

stop_all() {
  if [ -f "$dir/postgres/postmaster.pid" ]; then
    as_owner "$PG_BIN/pg_ctl" -D "$dir/postgres" -m fast -w stop >/dev/null || true
  fi
  for pid_file in "$dir"/clickhouse-*/server.pid; do
    [ -f "$pid_file" ] || continue
    kill "$(cat "$pid_file")" 2>/dev/null || true
    rm -f "$pid_file"
  done
}

case $action in
  start) install_missing; start_postgres; start_clickhouse ;;
  stop) stop_all ;;
  *) usage ;;
esac
