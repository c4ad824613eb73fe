#!/usr/bin/env bash
# Installs the Debian packages the tests use (the real Python OSProfiler peer) and starts
# any local service that is down. Idempotent; safe to run on a developer machine.
set -uo pipefail

need_apt=()
/usr/bin/python3 -c 'import osprofiler, redis, webob' 2>/dev/null || need_apt+=(python3-osprofiler python3-redis python3-webob)
command -v redis-server >/dev/null 2>&1 || need_apt+=(redis-server)
/usr/bin/python3 -c 'import graphviz' 2>/dev/null || need_apt+=(python3-graphviz)
/usr/bin/python3 -c 'import oslo_messaging' 2>/dev/null || need_apt+=(python3-oslo.messaging)
command -v protoc >/dev/null 2>&1 || need_apt+=(protobuf-compiler)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "setup: installing ${need_apt[*]}"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

up() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
wait_port() { for _ in $(seq 1 60); do up "$1" && return 0; sleep 1; done; echo "setup: port $1 still down" >&2; return 1; }

if ! up 6379; then
  echo "setup: starting redis"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log
  wait_port 6379
fi
if ! up 5432; then
  echo "setup: starting postgresql"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start && wait_port 5432
fi
if ! up 3306; then
  echo "setup: starting mariadb"
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/mariadbd && wait_port 3306
fi
if ! up 5672; then
  echo "setup: starting rabbitmq"
  rabbitmq-server -detached && wait_port 5672
fi
if ! up 4222; then
  echo "setup: starting nats"
  start-stop-daemon --start --oknodo --background --exec /usr/sbin/nats-server -- -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server -l /var/log/nats-server.log && wait_port 4222
fi
echo "setup: python $(/usr/bin/python3 -c 'import osprofiler, importlib.metadata as m; print(m.version("osprofiler"))' 2>/dev/null || echo missing) osprofiler"
exit 0
