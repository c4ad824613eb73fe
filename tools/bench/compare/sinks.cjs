// The loopback receivers of the comparison, in their own process so their CPU is counted
// apart from the server's: an OTLP/HTTP (protobuf) sink and a fake Datadog agent. Each
// counts the spans it received, by decoding just enough of the body (no dependency):
// OTLP ExportTraceServiceRequest → resource_spans(1) → scope_spans(2) → spans(2), and the
// Datadog v0.4/v0.5 msgpack payload (an array of traces, each an array of spans).
// IPC: sends {otlpPort, ddPort} when listening; answers 'count' with {otlp, dd} and resets.
'use strict';
const http = require('node:http');
const zlib = require('node:zlib');

// ------------------------------------------------------------------ protobuf (OTLP)
function varint(buf, pos) {
  let v = 0;
  let mul = 1;
  for (;;) {
    const b = buf[pos.i++];
    v += (b & 0x7f) * mul;
    if (b < 0x80) return v;
    mul *= 128;
  }
}

/** Counts the LEN fields numbered `path[depth]` at each depth; at the last depth, counts them. */
function countNested(buf, start, end, path, depth) {
  let n = 0;
  const pos = { i: start };
  while (pos.i < end) {
    const tag = varint(buf, pos);
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    if (wire === 0) varint(buf, pos);
    else if (wire === 1) pos.i += 8;
    else if (wire === 5) pos.i += 4;
    else if (wire === 2) {
      const len = varint(buf, pos);
      if (field === path[depth]) n += depth === path.length - 1 ? 1 : countNested(buf, pos.i, pos.i + len, path, depth + 1);
      pos.i += len;
    } else throw new Error(`protobuf wire type ${wire} not expected`);
  }
  return n;
}

const countOtlpSpans = (buf) => countNested(buf, 0, buf.length, [1, 2, 2], 0);

// ------------------------------------------------------------------- msgpack (Datadog)
function mpLen(buf, pos, fix, fixMask, b16, b32) {
  const b = buf[pos.i++];
  if ((b & ~fixMask) === fix) return b & fixMask;
  if (b === b16) {
    const v = buf.readUInt16BE(pos.i);
    pos.i += 2;
    return v;
  }
  if (b === b32) {
    const v = buf.readUInt32BE(pos.i);
    pos.i += 4;
    return v;
  }
  throw new Error(`msgpack: 0x${b.toString(16)} is not the container expected`);
}

function mpSkip(buf, pos) {
  const b = buf[pos.i++];
  if (b <= 0x7f || b >= 0xe0 || b === 0xc0 || b === 0xc2 || b === 0xc3) return;
  if ((b & 0xe0) === 0xa0) return void (pos.i += b & 0x1f); // fixstr
  if ((b & 0xf0) === 0x90) return skipN(buf, pos, b & 0x0f); // fixarray
  if ((b & 0xf0) === 0x80) return skipN(buf, pos, 2 * (b & 0x0f)); // fixmap
  const u8 = () => buf[pos.i];
  const u16 = () => buf.readUInt16BE(pos.i);
  const u32 = () => buf.readUInt32BE(pos.i);
  switch (b) {
    case 0xcc: case 0xd0: pos.i += 1; return;
    case 0xcd: case 0xd1: pos.i += 2; return;
    case 0xce: case 0xd2: case 0xca: pos.i += 4; return;
    case 0xcf: case 0xd3: case 0xcb: pos.i += 8; return;
    case 0xd9: case 0xc4: { const n = u8(); pos.i += 1 + n; return; }
    case 0xda: case 0xc5: { const n = u16(); pos.i += 2 + n; return; }
    case 0xdb: case 0xc6: { const n = u32(); pos.i += 4 + n; return; }
    case 0xdc: { const n = u16(); pos.i += 2; return skipN(buf, pos, n); }
    case 0xdd: { const n = u32(); pos.i += 4; return skipN(buf, pos, n); }
    case 0xde: { const n = u16(); pos.i += 2; return skipN(buf, pos, 2 * n); }
    case 0xdf: { const n = u32(); pos.i += 4; return skipN(buf, pos, 2 * n); }
    case 0xd4: pos.i += 2; return;
    case 0xd5: pos.i += 3; return;
    case 0xd6: pos.i += 5; return;
    case 0xd7: pos.i += 9; return;
    case 0xd8: pos.i += 17; return;
    case 0xc7: { const n = u8(); pos.i += 2 + n; return; }
    case 0xc8: { const n = u16(); pos.i += 3 + n; return; }
    case 0xc9: { const n = u32(); pos.i += 5 + n; return; }
    default: throw new Error(`msgpack: byte 0x${b.toString(16)} not expected`);
  }
}

function skipN(buf, pos, n) {
  for (let k = 0; k < n; k++) mpSkip(buf, pos);
}

/** v0.4: [[span, …], …]; v0.5: [strings, [[span-array, …], …]]. */
function countDdSpans(buf, v05) {
  const pos = { i: 0 };
  if (v05) {
    mpLen(buf, pos, 0x90, 0x0f, 0xdc, 0xdd);
    mpSkip(buf, pos); // the string table
  }
  const traces = mpLen(buf, pos, 0x90, 0x0f, 0xdc, 0xdd);
  let spans = 0;
  for (let t = 0; t < traces; t++) {
    const n = mpLen(buf, pos, 0x90, 0x0f, 0xdc, 0xdd);
    spans += n;
    skipN(buf, pos, n);
  }
  return spans;
}

// ---------------------------------------------------------------------------- servers
const counts = { otlp: 0, dd: 0, otlpRequests: 0, ddRequests: 0, errors: 0 };

function body(req, cb) {
  const parts = [];
  req.on('data', (d) => parts.push(d));
  req.on('end', () => {
    let buf = Buffer.concat(parts);
    if (req.headers['content-encoding'] === 'gzip') buf = zlib.gunzipSync(buf);
    cb(buf);
  });
}

const otlp = http.createServer((req, res) =>
  body(req, (buf) => {
    try {
      if (req.url === '/v1/traces') {
        counts.otlp += countOtlpSpans(buf);
        counts.otlpRequests++;
      }
    } catch (err) {
      counts.errors++;
      console.error(`otlp sink: ${err.message}`);
    }
    res.writeHead(200, { 'content-type': 'application/x-protobuf' });
    res.end();
  }),
);

const dd = http.createServer((req, res) =>
  body(req, (buf) => {
    const m = /^\/v0\.(4|5)\/traces/.exec(req.url);
    if (m) {
      try {
        counts.dd += countDdSpans(buf, m[1] === '5');
        counts.ddRequests++;
      } catch (err) {
        counts.errors++;
        console.error(`dd sink: ${err.message}`);
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"rate_by_service":{}}');
      return;
    }
    // /info and anything else (telemetry, remote config are turned off): "not here".
    res.writeHead(404);
    res.end();
  }),
);

otlp.keepAliveTimeout = dd.keepAliveTimeout = 60_000;
let listening = 0;
const ready = () => {
  if (++listening === 2) process.send({ otlpPort: otlp.address().port, ddPort: dd.address().port });
};
otlp.listen(0, '127.0.0.1', ready);
dd.listen(0, '127.0.0.1', ready);
process.on('message', (m) => {
  if (m === 'count') {
    process.send({ counted: { ...counts } });
    counts.otlp = counts.dd = counts.otlpRequests = counts.ddRequests = 0;
  } else if (m === 'stop') process.exit(0);
});
process.on('disconnect', () => process.exit(0));
