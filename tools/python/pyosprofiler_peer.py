#!/usr/bin/python3
"""Python OSProfiler peer for the interop tests of OSProfiler.js.

Uses the REAL library (Debian python3-osprofiler). Run it with /usr/bin/python3: a pyenv
`python3` cannot see Debian's dist-packages.

Subcommands (see shared/interop/osprofiler-wire.md section 11):
    version
        -> osprofiler's version, e.g. 3.4.3
    headers --key K [--base-id B] [--parent-id P] [--decoded]
        -> {"X-Trace-Info": ..., "X-Trace-HMAC": ...} as produced by
           osprofiler.profiler.init + osprofiler.web.get_trace_id_headers
           (--decoded adds "decoded": the JSON text inside X-Trace-Info)
    headers-batch
        stdin: JSON lines {"key", "base_id"?, "parent_id"?}; stdout: one headers JSON per line
    verify --key K[,K2] --info I --hmac H
        -> the unpacked dict (with hmac_key) as JSON and exit 0, or a reason on stderr and
           exit 1. signed_unpack followed by WsgiMiddleware's own validity check.
    verify-batch
        stdin: JSON lines {"keys": [..] | "K1,K2", "info": str|null, "hmac": str|null}
        stdout: one JSON line per input:
            {"accepted": bool, "result": dict|null, "result_json": str|null,
             "reason": str|null, "raised": str|null,
             "middleware": {"traced": bool, "base_id": .., "parent_id": .., "status": ..}}
        "middleware" runs the real WsgiMiddleware (webob) with the headers; only when the
        keys contain no ',' (it takes a comma-separated string) and webob is importable.
    serve --key K[,K2] [--port N] [--connection redis://…] [--service S] [--forward URL]
        a wsgiref app behind the real WsgiMiddleware; prints "LISTENING <port>", answers
        JSON {"traced", "base_id", "wsgi_trace_id", "wsgi_parent_id", "result"} (/error: 500);
        exits when its stdin closes. --connection stores the points with Python's own driver;
        --forward GETs URL from inside the wsgi point with get_trace_id_headers() and adds
        "forwarded": {"status", "body"} to the answer.

    emit --key K [--connection redis://127.0.0.1:6379] [--error] [--base-id B --parent-id P]
            [--project P] [--service S] [--transport-url rabbit://…  (with --connection messaging://)]
        stores a trace with Python's own driver: peer_emit > peer_outer > peer_inner >
        peer_leaf > db (+ a failing peer_leaf with --error; error traces are indexed);
        prints its base_id
    report --base-id B [--connection ...] [--allow-empty]
        -> byte-identical to `osprofiler trace show --json B`
    list [--connection ...] [--error-trace]
        -> JSON [{"base_id", "timestamp"}, ...] from list_traces / list_error_traces
"""

import argparse
import json
import sys

from osprofiler import _utils as utils
from osprofiler import profiler
from osprofiler import web


def osprofiler_version():
    try:
        from importlib.metadata import version
        return version("osprofiler")
    except Exception:  # pragma: no cover - fall back to pbr's version info
        from osprofiler import version as v  # type: ignore
        return v.version_info.version_string()


def _text(v):
    return v.decode("ascii") if isinstance(v, bytes) else v


def make_headers(key, base_id=None, parent_id=None, decoded=False):
    profiler.clean()
    try:
        profiler.init(key, base_id=base_id, parent_id=parent_id)
        h = web.get_trace_id_headers()
    finally:
        profiler.clean()
    # 3.4.3 returns the X-Trace-Info value as bytes (HEAD: str); same wire bytes.
    out = {k: _text(v) for k, v in h.items()}
    if decoded and web.X_TRACE_INFO in out:
        import base64
        out["decoded"] = base64.urlsafe_b64decode(out[web.X_TRACE_INFO]).decode("utf-8")
    return out


def _trace_is_valid(d):
    # The real method; it does not use `self`'s state.
    return web.WsgiMiddleware(None)._trace_is_valid(d)


def unpack_and_check(keys, info, hmac):
    """(result_or_None, reason_or_None, raised_or_None)"""
    try:
        d = utils.signed_unpack(info, hmac, keys)
    except Exception as e:  # e.g. compare_digest's TypeError on a non-ASCII HMAC
        return None, "signed_unpack raised %s: %s" % (type(e).__name__, e), "%s: %s" % (type(e).__name__, e)
    if d is None:
        return None, "signed_unpack returned None (no key matched, or undecodable)", None
    if not _trace_is_valid(d):
        return d, "rejected by WsgiMiddleware._trace_is_valid: %s" % json.dumps(d, default=repr), None
    return d, None, None


def run_middleware(keys, info, hmac):
    import webob

    seen = {}

    def app(environ, start_response):
        p = profiler.get()
        seen["traced"] = p is not None
        if p is not None:
            seen["base_id"] = p.get_base_id()
            seen["parent_id"] = p.get_parent_id()
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [b"ok"]

    mw = web.WsgiMiddleware(app, hmac_keys=",".join(keys), enabled=True)
    headers = {}
    if info is not None:
        headers[web.X_TRACE_INFO] = info
    if hmac is not None:
        headers[web.X_TRACE_HMAC] = hmac
    profiler.clean()
    try:
        resp = webob.Request.blank("/", headers=headers).get_response(mw)
        status = resp.status_int
    except Exception as e:
        return {"traced": False, "status": None, "raised": "%s: %s" % (type(e).__name__, e)}
    finally:
        profiler.clean()
    out = {"traced": bool(seen.get("traced")), "status": status}
    if seen.get("traced"):
        out["base_id"] = _jsonable(seen.get("base_id"))
        out["parent_id"] = _jsonable(seen.get("parent_id"))
    return out


def _jsonable(v):
    try:
        json.dumps(v, allow_nan=False)
        return v
    except (TypeError, ValueError):
        return {"__repr__": repr(v)}


def _keys(v):
    return utils.split(v) if isinstance(v, str) else list(v)


def cmd_version(args):
    print(osprofiler_version())
    return 0


def cmd_headers(args):
    print(json.dumps(make_headers(args.key, args.base_id, args.parent_id, args.decoded)))
    return 0


def cmd_headers_batch(args):
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        out = make_headers(req["key"], req.get("base_id"), req.get("parent_id"), req.get("decoded", False))
        sys.stdout.write(json.dumps(out) + "\n")
    return 0


def cmd_verify(args):
    d, reason, _ = unpack_and_check(utils.split(args.key), args.info, args.hmac)
    if reason is not None:
        print(reason, file=sys.stderr)
        return 1
    print(json.dumps(d))
    return 0


def cmd_verify_batch(args):
    try:
        import webob  # noqa: F401
        have_webob = True
    except ImportError:
        have_webob = False
    for line in sys.stdin:
        if not line.strip():
            continue
        req = json.loads(line)
        keys = _keys(req["keys"])
        info, hmac = req.get("info"), req.get("hmac")
        d, reason, raised = unpack_and_check(keys, info, hmac)
        accepted = reason is None
        out = {
            "accepted": accepted,
            # NaN/Infinity values (Python-only JSON literals) become {"__repr__": "nan"}.
            "result": {k: _jsonable(v) for k, v in d.items()} if accepted else None,
            # Python's own JSON of the dict (may hold NaN/Infinity, which JSON.parse rejects).
            "result_json": json.dumps(d) if accepted else None,
            "reason": reason,
            "raised": raised,
        }
        if have_webob and all(isinstance(k, str) and "," not in k for k in keys):
            out["middleware"] = run_middleware(keys, info, hmac)
        sys.stdout.write(json.dumps(out) + "\n")
        sys.stdout.flush()
    return 0


# --- emit / report / list: Python OSProfiler's own storage driver (redis:// by default)

DEFAULT_CONNECTION = "redis://127.0.0.1:6379"


def _driver(connection, project=None, service=None, filter_error_trace=False, transport_url=None):
    import socket
    import types
    from osprofiler.drivers import base
    # What oslo.config's [profiler] group gives the base driver (it reads filter_error_trace).
    conf = {"profiler": types.SimpleNamespace(filter_error_trace=filter_error_trace)}
    if transport_url is not None:
        # messaging://: oslo.messaging needs a real oslo.config object, and a request context.
        from oslo_config import cfg
        conf = cfg.ConfigOpts()
        conf([], project="pyosprofiler_peer")
        return base.get_driver(connection, project=project, service=service, host=socket.gethostname(),
                               conf=conf, context={}, transport_url=transport_url)
    return base.get_driver(connection, project=project, service=service, host=socket.gethostname(), conf=conf)


@profiler.trace("peer_leaf", info={"peer": "leaf"}, hide_args=False)
def emit_leaf(fail):
    if fail:
        raise ValueError("peer_leaf failed on purpose")
    with profiler.Trace("db", info={"db": {"statement": "SELECT * FROM peer WHERE id = %(id)s",
                                           "params": {"id": 7}}}):
        pass
    return "leaf"


@profiler.trace("peer_inner", info={"peer": "inner"})
def emit_inner(fail):
    result = emit_leaf(False)
    if fail:
        try:
            emit_leaf(True)
        except ValueError:
            pass
    return result


@profiler.trace("peer_outer", info={"peer": "outer"})
def emit_outer(fail):
    return emit_inner(fail)


def cmd_emit(args):
    """peer_emit > peer_outer > peer_inner > peer_leaf > db (+ a failing peer_leaf with --error)."""
    from osprofiler import notifier
    drv = _driver(args.connection, args.project, args.service, filter_error_trace=True,
                  transport_url=args.transport_url)
    previous = notifier.get()
    notifier.set(drv.notify)
    profiler.clean()
    try:
        profiler.init(args.key, base_id=args.base_id, parent_id=args.parent_id)
        base_id = profiler.get().get_base_id()
        with profiler.Trace("peer_emit", info={"peer": "emit"}):
            emit_outer(args.error)
    finally:
        profiler.clean()
        notifier.set(previous)
    print(base_id)
    return 0


def cmd_report(args):
    """Exactly what `osprofiler trace show --json <base_id>` prints."""
    trace = _driver(args.connection).get_report(args.base_id)
    if not trace or not trace.get("children"):
        if not args.allow_empty:
            print("Trace with UUID %s not found." % args.base_id, file=sys.stderr)
            return 1

    def datetime_json_serialize(obj):
        return obj.isoformat() if hasattr(obj, "isoformat") else obj

    print(json.dumps(trace, default=datetime_json_serialize, separators=(",", ": "), indent=2))
    return 0


def cmd_list(args):
    """list_traces (or list_error_traces) as JSON: [{"base_id", "timestamp"}, ...] in the driver's order."""
    drv = _driver(args.connection)
    traces = drv.list_error_traces() if args.error_trace else drv.list_traces(("base_id", "timestamp"))
    print(json.dumps([{"base_id": t["base_id"], "timestamp": t["timestamp"]} for t in traces]))
    return 0


# --- serve: a wsgiref app behind the real WsgiMiddleware (our outgoing headers must pass it)

def cmd_serve(args):
    """Prints "LISTENING <port>"; every request answers JSON {"traced", "base_id",
    "wsgi_trace_id", "wsgi_parent_id", "result"}; /error answers 500. Exits on stdin EOF."""
    import os
    import threading
    import urllib.error
    import urllib.request
    from socketserver import ThreadingMixIn
    from wsgiref import simple_server

    if args.connection:
        from osprofiler import notifier
        notifier.set(_driver(args.connection, service=args.service).notify)

    def forward():
        # Inside the middleware's wsgi point: the headers carry it as the parent.
        headers = {k: _text(v) for k, v in web.get_trace_id_headers().items()}
        req = urllib.request.Request(args.forward, headers=headers)
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return {"status": r.status, "body": r.read().decode("utf-8")}
        except urllib.error.HTTPError as e:
            return {"status": e.code, "body": e.read().decode("utf-8")}

    def app(environ, start_response):
        p = profiler.get()
        body = {"traced": p is not None, "base_id": None, "wsgi_trace_id": None,
                "wsgi_parent_id": None, "result": "ok"}
        if p is not None:
            # Inside the middleware's wsgi point: the top of the stack is that point's id,
            # the entry below it the parent_id the caller sent.
            body["base_id"] = p.get_base_id()
            body["wsgi_trace_id"] = p.get_id()
            body["wsgi_parent_id"] = p.get_parent_id()
        if args.forward:
            body["forwarded"] = forward()
        status = "200 OK"
        if environ.get("PATH_INFO") == "/error":
            status, body["result"] = "500 Internal Server Error", "error"
        data = json.dumps(body).encode("utf-8")
        start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data)))])
        return [data]

    class Server(ThreadingMixIn, simple_server.WSGIServer):
        daemon_threads = True

    class Quiet(simple_server.WSGIRequestHandler):
        def log_message(self, *a):
            pass

    mw = web.WsgiMiddleware(app, hmac_keys=args.key, enabled=True)
    httpd = simple_server.make_server("127.0.0.1", args.port, mw, server_class=Server, handler_class=Quiet)

    def watch_stdin():
        # The test holds our stdin open; when it closes (or the test dies) we go too.
        try:
            while sys.stdin.read(4096):
                pass
        finally:
            os._exit(0)

    threading.Thread(target=watch_stdin, daemon=True).start()
    print("LISTENING %d" % httpd.server_port, flush=True)
    httpd.serve_forever()
    return 0


def main(argv=None):
    ap = argparse.ArgumentParser(prog="pyosprofiler_peer.py", description=__doc__.split("\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)

    p = sub.add_parser("version", help="print osprofiler's version")
    p.set_defaults(func=cmd_version)

    p = sub.add_parser("headers", help="trace headers as Python's get_trace_id_headers makes them")
    p.add_argument("--key", required=True)
    p.add_argument("--base-id")
    p.add_argument("--parent-id")
    p.add_argument("--decoded", action="store_true", help="also print the JSON inside X-Trace-Info")
    p.set_defaults(func=cmd_headers)

    p = sub.add_parser("headers-batch", help="headers for each JSON line on stdin")
    p.set_defaults(func=cmd_headers_batch)

    p = sub.add_parser("verify", help="signed_unpack + WsgiMiddleware validity check")
    p.add_argument("--key", required=True, help="comma-separated server keys")
    p.add_argument("--info", required=True)
    p.add_argument("--hmac", required=True)
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser("verify-batch", help="verify each JSON line on stdin")
    p.set_defaults(func=cmd_verify_batch)

    p = sub.add_parser("serve", help="wsgiref app behind the real WsgiMiddleware; prints LISTENING <port>")
    p.add_argument("--key", required=True, help="comma-separated server keys")
    p.add_argument("--port", type=int, default=0, help="0: any free port")
    p.add_argument("--connection", help="store the points with Python's driver (e.g. redis://127.0.0.1:6379/15)")
    p.add_argument("--service", help="service name stored with the points (with --connection)")
    p.add_argument("--forward", help="GET this URL with the trace headers from inside the wsgi point")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("emit", help="store a trace with Python's driver; prints its base_id")
    p.add_argument("--key", required=True)
    p.add_argument("--connection", default=DEFAULT_CONNECTION)
    p.add_argument("--error", action="store_true", help="also run a failing peer_leaf")
    p.add_argument("--transport-url", help="with --connection messaging://: rabbit://user:pw@host:port/vhost")
    p.add_argument("--base-id")
    p.add_argument("--parent-id")
    p.add_argument("--project")
    p.add_argument("--service")
    p.set_defaults(func=cmd_emit)

    p = sub.add_parser("report", help="the report JSON, as `osprofiler trace show --json`")
    p.add_argument("--base-id", required=True)
    p.add_argument("--connection", default=DEFAULT_CONNECTION)
    p.add_argument("--allow-empty", action="store_true", help="print an empty report instead of failing")
    p.set_defaults(func=cmd_report)

    p = sub.add_parser("list", help="stored traces as JSON")
    p.add_argument("--connection", default=DEFAULT_CONNECTION)
    p.add_argument("--error-trace", action="store_true")
    p.set_defaults(func=cmd_list)

    args = ap.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
