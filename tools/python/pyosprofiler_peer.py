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

Later: serve, emit, report, list.
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

    args = ap.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
