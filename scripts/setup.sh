#!/usr/bin/env bash
# One-shot, idempotent setup: environments, widget packages, database, demo data, model.
# Fast on a second run: each step is skipped when its inputs did not change.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
export RASA_TELEMETRY_ENABLED=false
export PROMPTLINK_DEMO="${PROMPTLINK_DEMO:-1}"
mkdir -p var

step() { printf '\n==> %s\n' "$*"; }
stamp_ok() { [ -f "$1" ] && [ "$(cat "$1")" = "$2" ]; }
hash_of() { cat "$@" | sha256sum | cut -c1-16; }

find_python() {  # find_python 3.10 -> path of a working interpreter of that version
  local want=$1 cand
  for cand in "python$want" "$(command -v pyenv >/dev/null 2>&1 && pyenv root)/versions/$want"*/bin/"python$want" \
              /usr/bin/"python$want" /usr/local/bin/"python$want"; do
    [ -n "$cand" ] || continue
    if "$cand" -c "import sys; assert sys.version_info[:2] == tuple(map(int, '$want'.split('.')))" >/dev/null 2>&1; then
      "$cand" -c 'import sys; print(sys.executable)'; return 0
    fi
  done
  return 1
}

step "Backend environment (.venv, Python 3.11+)"
if [ ! -x .venv/bin/python ]; then
  PY311=$(find_python 3.11 || find_python 3.12 || true)
  [ -n "$PY311" ] || { echo "Python 3.11 or 3.12 is required for the backend" >&2; exit 1; }
  "$PY311" -m venv .venv
fi
[ -x .venv/bin/uv ] || .venv/bin/python -m pip install -q --disable-pip-version-check uv
UV=.venv/bin/uv
h=$(hash_of requirements/backend.lock)
if ! stamp_ok .venv/.lock-stamp "$h"; then
  $UV pip sync -q -p .venv/bin/python requirements/backend.lock
  echo "$h" > .venv/.lock-stamp
fi
echo "ok"

step "Bot environment (.venv-bot, Python 3.10, rasa 3.6.21)"
if [ ! -x .venv-bot/bin/python ]; then
  PY310=$(find_python 3.10) || { echo "Python 3.10 is required for Rasa 3.6 (pyenv install 3.10)" >&2; exit 1; }
  $UV venv -q -p "$PY310" .venv-bot
fi
h=$(hash_of requirements/bot.lock)
if ! stamp_ok .venv-bot/.lock-stamp "$h"; then
  # `pip sync` installs exactly the lock, so setuptools stays at rasa's pin (rasa needs pkg_resources).
  $UV pip sync -q -p .venv-bot/bin/python requirements/bot.lock
  echo "$h" > .venv-bot/.lock-stamp
fi
echo "ok"

step "Widget packages (webchat/, npm)"
h=$(hash_of webchat/package-lock.json)
if ! stamp_ok webchat/node_modules/.lock-stamp "$h"; then
  (cd webchat && npm ci --no-audit --no-fund --loglevel=error)
  echo "$h" > webchat/node_modules/.lock-stamp
fi
echo "ok"

step "net-snmp tools (snmptrap for sending test traps by hand; snmptrapd for bench/snmp.py)"
if ! command -v snmptrap >/dev/null 2>&1 || ! command -v snmptrapd >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq snmp snmptrapd >/dev/null || true
  else
    echo "optional: 'sudo apt-get install snmp snmptrapd' for the SNMP tests and benchmark"
  fi
fi
echo "ok"

step "PostgreSQL client tools (pg_dump, pg_restore, psql for backup and restore on PostgreSQL)"
if ! command -v pg_dump >/dev/null 2>&1 || ! command -v pg_restore >/dev/null 2>&1 || ! command -v psql >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql-client >/dev/null || true
  else
    echo "optional: 'sudo apt-get install postgresql-client' to back up and restore a PostgreSQL deployment"
  fi
fi
echo "ok"

step "HAProxy (deploy/haproxy.cfg check; the load balancer of \`make cluster\` and tests/deploy)"
if ! command -v haproxy >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq haproxy >/dev/null || true
  else
    echo "optional: 'sudo apt-get install haproxy' for make cluster and the cluster tests"
  fi
fi
echo "ok"

step "Database (Alembic migrations) and demo data"
PYTHONPATH=backend .venv/bin/python -m promptlink migrate
PYTHONPATH=backend .venv/bin/python -m promptlink seed

step "Rasa model (trained only when data/, domain.yml or config.yml changed)"
.venv/bin/python bot/model.py ensure
