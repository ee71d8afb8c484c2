# shellcheck shell=bash disable=SC2034 # the variables are used by the scripts that source this
# Shared by scripts/wordpress-up, scripts/wordpress-down and scripts/wp-php (sourced, not run).
#
# Everything the test site owns lives in one state dir so several checkouts (or CI jobs) never mix:
#   $AIMO_WP_DIR (default <repo>/.wp; <repo>/.wp-multisite with AIMO_WP_MULTISITE=1)
#     .aimo-wp               stamp: marks the dir as ours, so --purge never deletes a stranger's dir
#     .provisioned           written last by a successful provisioning; its absence means "start over"
#     .multisite             the site is a subdirectory multisite network (AIMO_WP_MULTISITE=1)
#     root/                  the Debian .debs unpacked with dpkg -x (WordPress is root/usr/share/wordpress)
#     db/                    MariaDB data dir
#     run/                   pid files (and the MariaDB socket when the path is short enough)
#     logs/                  mariadbd.log, php-server.log, wp-debug.log, apt.log, provision.log
#     opcache/               OPcache file cache of scripts/wp-php (compiled WordPress; safe to delete)
#     peers-staging/         the tests' copies of the peer plugins while a run is on (tests/peers.py)
#     router.php             php -S router (serves run/ready-token at /.aimo-wp-ready: see wordpress-up)
#     site.json              what tests read (see wordpress-up)
#     wp-config-extra.php    optional, written by tests; included by wp-config.php before our defaults
#     server.env             optional NAME=VALUE lines, the only environment php -S and wp-php get
#                            besides a minimal base (see wp_env_args)
#
# The .deb cache is outside the state dir so `wordpress-down --purge` keeps it:
#   $AIMO_WP_CACHE (default ${XDG_CACHE_HOME:-~/.cache}/aimo-wp): debs/ + manifest, and the private apt dirs.

AIMO_REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
WP_STATE=${AIMO_WP_DIR:-$AIMO_REPO/.wp$([[ ${AIMO_WP_MULTISITE:-} == 1 ]] && echo -multisite || true)}
case $WP_STATE in /*) ;; *) WP_STATE=$PWD/$WP_STATE ;; esac
WP_STATE=${WP_STATE%/}
WP_CACHE=${AIMO_WP_CACHE:-${XDG_CACHE_HOME:-${HOME:-/root}/.cache}/aimo-wp}

WP_STAMP=$WP_STATE/.aimo-wp
WP_DONE=$WP_STATE/.provisioned
WP_ROOT=$WP_STATE/root
WP_PATH=$WP_ROOT/usr/share/wordpress
WP_DB=$WP_STATE/db
WP_RUN=$WP_STATE/run
WP_LOGS=$WP_STATE/logs
WP_SITE_JSON=$WP_STATE/site.json
WP_SERVER_ENV=$WP_STATE/server.env
WP_EXTRA_CONFIG=$WP_STATE/wp-config-extra.php
WP_ROUTER=$WP_STATE/router.php
PHP_BIN=/usr/bin/php8.2

# A unix socket path must fit in sun_path (108 bytes): a deep checkout would silently break MariaDB,
# so fall back to a short per-state-dir directory under /tmp.
WP_SOCK=$WP_RUN/mysqld.sock
if ((${#WP_SOCK} > 100)); then
  WP_SOCK=/tmp/aimo-wp-$(printf '%s' "$WP_STATE" | md5sum | cut -c1-12)/mysqld.sock
fi

_wp_prog=$(basename "$0")
log() { printf '%s: %s\n' "$_wp_prog" "$*" >&2; }
die() {
  printf '%s: error: %s\n' "$_wp_prog" "$*" >&2
  exit 1
}

# Show the end of a log on failure: the first thing anyone needs when CI goes red.
log_tail() {
  local f=$1 n=${2:-30}
  [[ -s $f ]] || return 0
  printf -- '--- last %s lines of %s ---\n' "$n" "$f" >&2
  tail -n "$n" "$f" >&2
}

# The environment php -S, mariadbd and wp-php run with: a minimal base plus $STATE/server.env.
# Deliberately not the caller's: a developer's exported OPENAI_API_KEY (core reads {ID}_API_KEY
# from the environment before the database) would otherwise change what tests observe.
wp_env_args() {
  local line name
  WP_ENV=(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "HOME=${HOME:-/root}" LANG=C.UTF-8 TZ=UTC)
  [[ -f $WP_SERVER_ENV ]] || return 0
  while IFS= read -r line || [[ -n $line ]]; do
    [[ $line =~ ^[[:space:]]*(#|$) ]] && continue
    name=${line%%=*}
    [[ $line == *=* && $name =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]] || die "$WP_SERVER_ENV: not NAME=VALUE: $line"
    WP_ENV+=("$line")
  done <"$WP_SERVER_ENV"
}

# PID of a service we started, or nothing. A pid file alone is not trusted (PIDs get reused):
# the process must still carry an argument that names this state dir.
own_pid() {
  local name=$1 pid
  [[ -f $WP_RUN/$name.pid ]] || return 0
  pid=$(<"$WP_RUN/$name.pid")
  [[ $pid =~ ^[0-9]+$ ]] || return 0
  proc_has_arg "$pid" "*$(printf '%q' "$WP_STATE")/*" && echo "$pid"
  return 0
}

# proc_has_arg PID GLOB: does one of the process's arguments match GLOB? (pure bash: a
# `tr | grep -q` pipeline can fail under pipefail when grep exits first)
proc_has_arg() {
  local a args=()
  mapfile -d '' args 2>/dev/null <"/proc/$1/cmdline" || return 1
  for a in "${args[@]}"; do
    # shellcheck disable=SC2053 # $2 is a glob on purpose
    [[ $a == $2 ]] && return 0
  done
  return 1
}

# php -S processes of this state dir, found by their exact router path (catches workers whose
# master is gone). Each PID is then killed individually.
php_server_pids() {
  local d
  for d in /proc/[0-9]*; do
    proc_has_arg "${d#/proc/}" "$(printf '%q' "$WP_ROUTER")" && echo "${d#/proc/}"
  done
  return 0
}

# A process that has exited but not been reaped yet (a zombie: its parent is now PID 1, which may reap
# late) counts as gone.
running() {
  local stat
  { stat=$(<"/proc/$1/stat"); } 2>/dev/null || return 1
  stat=${stat##*) }
  [[ ${stat:0:1} != Z ]]
}

wait_gone() { # wait_gone SECONDS PID...
  local deadline=$((SECONDS + $1)) p alive
  shift
  while :; do
    alive=()
    for p in "$@"; do running "$p" && alive+=("$p"); done
    ((${#alive[@]} == 0)) && return 0
    ((SECONDS >= deadline)) && { kill -KILL "${alive[@]}" 2>/dev/null || true; return 0; }
    sleep 0.1
  done
}

pgid_of() { # process group of PID (from /proc: procps may not be installed)
  local stat
  { stat=$(<"/proc/$1/stat"); } 2>/dev/null || return 0
  read -ra stat <<<"${stat##*) }" # state ppid pgrp ...
  echo "${stat[2]}"
}

# php -S with PHP_CLI_SERVER_WORKERS forks workers that survive a SIGTERM to the master, so stop the
# master's process group (started with setsid: pgid == pid, which also catches anything a request
# spawned) and every process running our router (master and workers, even orphaned ones), by PID.
stop_php() {
  local pid pids=()
  pid=$(own_pid php)
  mapfile -t pids < <(php_server_pids)
  if [[ -n $pid && $(pgid_of "$pid") == "$pid" ]]; then
    kill -TERM -- "-$pid" 2>/dev/null || true
  fi
  if ((${#pids[@]})); then
    kill -TERM "${pids[@]}" 2>/dev/null || true
    wait_gone 5 "${pids[@]}"
    log "stopped php -S (pids ${pids[*]})"
  fi
  rm -f "$WP_RUN/php.pid"
}

stop_mariadb() {
  local pid
  pid=$(own_pid mariadbd)
  if [[ -n $pid ]]; then
    kill -TERM "$pid" 2>/dev/null || true
    wait_gone 60 "$pid" # clean InnoDB shutdown takes a moment; SIGKILL only as a last resort
    log "stopped mariadbd (pid $pid)"
  fi
  rm -f "$WP_RUN/mariadbd.pid" "$WP_SOCK"
}
