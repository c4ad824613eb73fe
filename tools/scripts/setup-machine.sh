#!/usr/bin/env bash
# Installs the Debian packages the tests use (the real Python OSProfiler peer, protoc, redis-server
# for the tests' own servers, Debian's chromium for the browser tests, wrk for the benchmarks) and
# starts any local service that is down. Idempotent, and quick when everything is there (one
# Python start, a few `command -v` and port probes): `npm test` runs it first every time.
# Prints what it could not do and exits 0 regardless: the tests that need the missing piece then
# fail with their own message (a missing browser or broker fails a test, it never skips it).
set -uo pipefail

missing=()
need_apt=()
py_missing=$(/usr/bin/python3 - 2>/dev/null <<'EOF'
# find_spec: present or not, without importing (oslo.messaging alone takes seconds to import).
from importlib.util import find_spec
want = {'osprofiler': 'python3-osprofiler', 'redis': 'python3-redis', 'webob': 'python3-webob',
        'graphviz': 'python3-graphviz', 'oslo_messaging': 'python3-oslo.messaging'}
print(' '.join(deb for mod, deb in want.items() if find_spec(mod) is None))
EOF
) || py_missing="python3 python3-osprofiler python3-redis python3-webob python3-graphviz python3-oslo.messaging"
[ -x /usr/bin/python3 ] || py_missing="python3 $py_missing"
for deb in $py_missing; do need_apt+=("$deb"); done
command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
command -v protoc >/dev/null 2>&1 || need_apt+=(protobuf-compiler)
[ -x /usr/bin/chromium ] || need_apt+=(chromium)
command -v wrk >/dev/null 2>&1 || need_apt+=(wrk)

if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing Debian packages: ${need_apt[*]}"
  SUDO=()
  [ "$(id -u)" -eq 0 ] || SUDO=(sudo -n)
  # Another apt run on the machine holds the lock for a while: wait for it rather than fail.
  if "${SUDO[@]}" apt-get -qq -o DPkg::Lock::Timeout=600 update &&
    "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
      -o DPkg::Lock::Timeout=600 "${need_apt[@]}" >/dev/null; then
    :
  else
    missing+=("Debian packages (${need_apt[*]}): apt-get failed; install them as root")
  fi
fi

up() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_port() { for _ in $(seq 1 60); do up "$1" && return 0; sleep 1; done; missing+=("$2 (port $1 still down)"); return 1; }

if ! up 6379; then
  echo "setup: starting redis"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
  wait_port 6379 redis
fi
if ! up 5432; then
  echo "setup: starting postgresql"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start
  wait_port 5432 postgresql
fi
if ! up 3306; then
  echo "setup: starting mariadb"
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd
  wait_port 3306 mariadb
fi
if ! up 5672; then
  echo "setup: starting rabbitmq"
  rabbitmq-server -detached
  wait_port 5672 rabbitmq
fi
if ! up 4222; then
  echo "setup: starting nats"
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log
  wait_port 4222 nats
fi

for tool in redis-server protoc wrk; do
  command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
[ -x /usr/bin/chromium ] || missing+=("/usr/bin/chromium (Debian's chromium: the browser tests fail without it)")
if [ ${#missing[@]} -gt 0 ]; then
  for m in "${missing[@]}"; do echo "setup: MISSING $m" >&2; done
else
  echo "setup: machine ready (python osprofiler $(/usr/bin/python3 -c 'import importlib.metadata as m; print(m.version("osprofiler"))' 2>/dev/null), chromium, protoc, wrk, services up)"
fi
exit 0
