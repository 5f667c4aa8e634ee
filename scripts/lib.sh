# Shared helpers for scripts/run and scripts/test. Source it; do not run it.
# shellcheck shell=bash

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

is_root() { [ "$(id -u)" = 0 ]; }

apt_install() {
  # apt_install PACKAGE... : install Debian packages when we are root on Debian.
  if ! is_root || ! command -v apt-get >/dev/null 2>&1; then
    say "Saknar $* och kan inte installera (kräver root på Debian). Installera och försök igen."
    return 1
  fi
  say "Installerar $* (apt-get)"
  if [ -z "${STEGVIS_APT_UPDATED:-}" ]; then
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    export STEGVIS_APT_UPDATED=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

find_python() {
  local candidate
  for candidate in python3.11 python3; do
    if command -v "$candidate" >/dev/null 2>&1 &&
      "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
      echo "$candidate"
      return 0
    fi
  done
  return 1
}

lock_installed() {
  # lock_installed LOCKFILE : whether .venv has LOCKFILE installed as it is now.
  [ "$(cat ".venv/.installed-$(basename "$1")" 2>/dev/null)" = "$(sha256sum "$1" | cut -d' ' -f1)" ]
}

ensure_venv() {
  # ensure_venv LOCKFILE : creates .venv with Python 3.11 and installs LOCKFILE (every package pinned,
  # with its hashes; scripts/lock writes it) when it changed: requirements/runtime.lock for running,
  # requirements/test.lock for the tests. The test lock holds the runtime lock's versions
  # (tests/test_requirements.py), so a .venv with it installed runs Stegvis as it is.
  local lock=${1:-requirements/runtime.lock} python
  if [ ! -x .venv/bin/python ]; then
    python=$(find_python) || { apt_install python3 python3-venv && python=$(find_python); } || {
      say "Python 3.11 behövs."
      return 1
    }
    say "Skapar virtuell miljö (.venv)"
    "$python" -m venv .venv || { apt_install python3-venv && "$python" -m venv .venv; }
  fi
  if lock_installed "$lock"; then return 0; fi
  if [ "$lock" = requirements/runtime.lock ] && lock_installed requirements/test.lock; then return 0; fi
  say "Installerar Python-paket ($lock)"
  .venv/bin/python -m pip install --quiet --disable-pip-version-check --require-hashes -r "$lock"
  sha256sum "$lock" | cut -d' ' -f1 >".venv/.installed-$(basename "$lock")"
}

ensure_debian_packages() {
  # ensure_debian_packages PACKAGE... : install the Debian packages that are missing (root on Debian).
  local missing=() package
  command -v dpkg-query >/dev/null 2>&1 || return 0
  for package in "$@"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
  done
  [ "${#missing[@]}" -eq 0 ] || apt_install "${missing[@]}"
}

# WeasyPrint (the PDF report pack) needs Pango and a font.
PDF_PACKAGES=(libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core)

# Read-aloud audio for the participant's forms (surveys/speech.py): espeak-ng speaks, lame makes MP3.
# Without them instruments still load; the "Lyssna" buttons then use the device's own voice.
SPEECH_PACKAGES=(espeak-ng lame)

ensure_chromium() {
  # The browser tests (tests/e2e) drive Debian's Chromium through Playwright, which never downloads a
  # browser of its own. Without one they skip locally and fail with a clear message when CI=true.
  command -v chromium >/dev/null 2>&1 && return 0
  apt_install chromium || say "Saknar chromium: webbläsartesterna (tests/e2e) hoppas över (och fallerar med CI=true)."
}

free_port() {
  .venv/bin/python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

STEGVIS_CLEANUP=()
cleanup() {
  local action
  for action in "${STEGVIS_CLEANUP[@]}"; do eval "$action" || true; done
}
trap cleanup EXIT

pg_bin_dir() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)
  [ -n "$dir" ] && [ -x "$dir/initdb" ] && echo "$dir"
}

ensure_postgres() {
  # Sets DATABASE_URL: as given; else the local server on 5432; else a throw-away server.
  if [ -n "${DATABASE_URL:-}" ]; then
    say "PostgreSQL: DATABASE_URL är satt, använder den"
    return 0
  fi
  if command -v pg_isready >/dev/null 2>&1 && pg_isready -q -h 127.0.0.1 -p 5432 &&
    .venv/bin/python -c 'import psycopg; psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", connect_timeout=3).close()' 2>/dev/null; then
    say "PostgreSQL: använder servern på 127.0.0.1:5432"
    # A name of its own per run, so that two test runs on one server never share a test database.
    export DATABASE_URL="postgresql://postgres@127.0.0.1:5432/stegvis_$$"
    return 0
  fi
  local bin dir port owner
  bin=$(pg_bin_dir) || { apt_install postgresql && bin=$(pg_bin_dir); } || return 1
  dir=$(mktemp -d /tmp/stegvis-pg.XXXXXX)
  port=$(free_port)
  owner=$(id -un)
  if is_root; then
    owner=postgres
    id postgres >/dev/null 2>&1 || useradd --system --home-dir "$dir" postgres
    chown postgres "$dir"
  fi
  say "PostgreSQL: startar en tillfällig server på port $port"
  run_as() { if is_root; then runuser -u postgres -- "$@"; else "$@"; fi; }
  run_as "$bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
  run_as "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" start >/dev/null
  STEGVIS_CLEANUP+=("run_as '$bin/pg_ctl' -D '$dir/data' -m immediate stop >/dev/null; rm -rf '$dir'")
  export DATABASE_URL="postgresql://postgres@127.0.0.1:$port/stegvis"
  export STEGVIS_PG_BIN="$bin" STEGVIS_PG_DATA="$dir/data" STEGVIS_PG_OWNER="$owner"
}

ensure_redis() {
  # Sets REDIS_URL: as given; else the local server on 6379 (database 15); else a throw-away server.
  if [ -n "${REDIS_URL:-}" ]; then
    say "Redis: REDIS_URL är satt, använder den"
    return 0
  fi
  if .venv/bin/python -c 'import redis; redis.Redis(host="127.0.0.1", port=6379, socket_connect_timeout=2).ping()' 2>/dev/null; then
    say "Redis: använder servern på 127.0.0.1:6379 (databas 15)"
    export REDIS_URL="redis://127.0.0.1:6379/15"
    return 0
  fi
  command -v redis-server >/dev/null 2>&1 || apt_install redis-server || return 1
  local dir port
  dir=$(mktemp -d /tmp/stegvis-redis.XXXXXX)
  port=$(free_port)
  say "Redis: startar en tillfällig server på port $port"
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no --daemonize yes \
    --dir "$dir" --pidfile "$dir/redis.pid" --logfile "$dir/redis.log"
  for _ in $(seq 50); do [ -s "$dir/redis.pid" ] && break; sleep 0.1; done
  STEGVIS_CLEANUP+=("kill \$(cat '$dir/redis.pid') 2>/dev/null; rm -rf '$dir'")
  export REDIS_URL="redis://127.0.0.1:$port/0"
}
