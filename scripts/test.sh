#!/usr/bin/env bash
# The whole test suite: lint (ruff), types (mypy --strict) and tests (pytest) against a real Redis server.
# Redis: $REDIS_URL if it answers; else a redis-server on PATH; else Debian's redis-server is installed.
# The server this script starts listens on a free loopback port and is stopped when the script exits.
set -euo pipefail
export RA_EXTRAS=${RA_EXTRAS:-dev,e2e}
source "$(dirname "${BASH_SOURCE[0]}")/bootstrap.sh"

redis_answers() { python -c 'import os,sys,redis; redis.Redis.from_url(os.environ["REDIS_URL"], socket_timeout=2).ping()' >/dev/null 2>&1; }

redis_dir=""
cleanup() {
  if [ -n "$redis_dir" ] && [ -f "$redis_dir/redis.pid" ]; then
    kill "$(cat "$redis_dir/redis.pid")" 2>/dev/null || true
  fi
  [ -n "$redis_dir" ] && rm -rf "$redis_dir"
}
trap cleanup EXIT

if [ -n "${REDIS_URL:-}" ] && redis_answers; then
  echo "tests: using the Redis at \$REDIS_URL"
else
  if ! command -v redis-server >/dev/null; then
    echo "tests: installing Debian's redis-server"
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
    # Debian starts a system service on install; we use our own server, so stop it if it started.
    (as_root service redis-server stop >/dev/null 2>&1 || true)
  fi
  redis_dir=$(mktemp -d)
  port=$(python -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()')
  redis-server --port "$port" --bind 127.0.0.1 --save "" --appendonly no --dir "$redis_dir" \
    --daemonize yes --pidfile "$redis_dir/redis.pid" --logfile "$redis_dir/redis.log"
  export REDIS_URL="redis://127.0.0.1:$port/0"
  for _ in $(seq 50); do redis_answers && break; sleep 0.1; done
  redis_answers || { echo "tests: redis-server did not start:"; cat "$redis_dir/redis.log"; exit 1; }
  echo "tests: started redis-server on $REDIS_URL"
fi

# The HTML report is checked in a real headless Chromium (Debian's package).
if ! command -v chromium >/dev/null; then
  echo "tests: installing Debian's chromium"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
fi

# tests/e2e's MLflow server runs from its own virtualenv, made on first use under a file lock (a clean clone,
# as in CI, has none): start making it now, so the e2e test finds it ready instead of installing it then.
warm_log="$(mktemp)"
# (its own process group, so that stopping it early also stops its pip)
setsid python -c 'from tests.e2e.mlflow_server import mlflow_executable; mlflow_executable()' >"$warm_log" 2>&1 &
warm_pid=$!
stop_jobs() { kill -- "-$warm_pid" 2>/dev/null || true; rm -f "$warm_log"; }
trap 'stop_jobs; cleanup' EXIT

echo "== ruff"; ruff check routing_agent tests workflows evals benchmarks
echo "== ruff format"; ruff format --check routing_agent tests workflows evals benchmarks

# mypy (~15 s of CPU on a clean clone, which CI is: no cache to reuse) runs beside pytest, whose two
# workers leave a core idle while they wait on servers, sockets and subprocesses. It runs niced so the tests
# keep priority; no test depends on machine speed, so sharing the cores cannot fail one. Its output is printed
# after pytest's, and either failing fails the script.
mypy_log="$(mktemp)"
nice -n 10 mypy >"$mypy_log" 2>&1 &
mypy_pid=$!
trap 'kill "$mypy_pid" 2>/dev/null || true; rm -f "$mypy_log"; stop_jobs; cleanup' EXIT
echo "== pytest (mypy runs beside it)"
pytest_rc=0
# loadgroup: each e2e module (one Phoenix or MLflow server per worker that runs it) stays on one worker; no
# reorder: keep tests/conftest.py's order (the longest tests first, e2e last)
pytest -n "${RA_TEST_WORKERS:-2}" --dist loadgroup --no-loadscope-reorder -p no:cacheprovider "$@" ||
  pytest_rc=$?
mypy_rc=0
wait "$mypy_pid" || mypy_rc=$?
echo "== mypy"; cat "$mypy_log"
if [ "$pytest_rc" != 0 ] || [ "$mypy_rc" != 0 ]; then
  echo "tests: FAILED (pytest exit $pytest_rc, mypy exit $mypy_rc) after ${SECONDS} s"
  exit $((pytest_rc != 0 ? pytest_rc : mypy_rc))
fi
echo "tests: passed in ${SECONDS} s (target on a quiet 2-core machine: 480 s)"
