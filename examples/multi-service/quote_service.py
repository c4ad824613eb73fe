"""quote: a small Python WSGI service behind Debian's python3-osprofiler WsgiMiddleware.

Points go through OSProfiler's messaging driver (oslo.messaging → RabbitMQ, exchange
`openstack`, key `profiler.info`), which the collector's AMQP intake reads. GET /quote
prices an order inside a traced function and calls back into the gateway once: OSProfiler
3.4.3 has no requests hook, so the call adds the trace headers itself.

Usage: quote_service.py HMAC_KEY TRANSPORT_URL GATEWAY_URL  (prints "LISTENING <port>";
exits when stdin closes, so it never outlives the example).
"""
import json
import os
import socket
import sys
import threading
import urllib.request
from socketserver import ThreadingMixIn
from wsgiref import simple_server

from oslo_config import cfg
from osprofiler import notifier, profiler, web
from osprofiler.drivers import base

key, transport_url, gateway = sys.argv[1], sys.argv[2], sys.argv[3]

conf = cfg.ConfigOpts()
conf([], project="multi-service")
notifier.set(base.get_driver("messaging://", project="multi-service", service="quote",
                             host=socket.gethostname(), conf=conf, context={},
                             transport_url=transport_url).notify)


@profiler.trace("quote_callback", info={"target": "gateway"})
def call_gateway():
    headers = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in web.get_trace_id_headers().items()}
    with urllib.request.urlopen(urllib.request.Request(gateway + "/callback", headers=headers), timeout=30) as r:
        return json.loads(r.read().decode("utf-8"))


@profiler.trace("quote_price")
def price(order_id):
    return {"order": order_id, "price_cents": 100 * (order_id % 17 + 1)}


def app(environ, start_response):
    qs = dict(p.split("=", 1) for p in environ.get("QUERY_STRING", "").split("&") if "=" in p)
    body = price(int(qs.get("id", "0")))
    body["gateway"] = call_gateway()
    data = json.dumps(body).encode("utf-8")
    start_response("200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
    return [data]


class Server(ThreadingMixIn, simple_server.WSGIServer):
    daemon_threads = True


class Quiet(simple_server.WSGIRequestHandler):
    def log_message(self, *a):
        pass


def watch_stdin():
    try:
        while sys.stdin.read(4096):
            pass
    finally:
        os._exit(0)


httpd = simple_server.make_server("127.0.0.1", 0, web.WsgiMiddleware(app, hmac_keys=key, enabled=True),
                                  server_class=Server, handler_class=Quiet)
threading.Thread(target=watch_stdin, daemon=True).start()
print("LISTENING %d" % httpd.server_port, flush=True)
httpd.serve_forever()
