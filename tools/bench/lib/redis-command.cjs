// Commands to the benches' own redis-server over a connection of their own: one command
// (redisCommand), one per key pipelined on one connection (redisEach), or KEYS (redisKeys).
'use strict';
const net = require('node:net');

/** One command as RESP. */
function resp(args) {
  return `*${args.length}\r\n` + args.map((x) => `$${Buffer.byteLength(String(x))}\r\n${x}\r\n`).join('');
}

/**
 * One connection's exchange with Redis: SELECT db, then `commands` (RESP text). `read` is
 * handed the reply's whole lines so far (CRLF taken off; SELECT's is the first) after each
 * chunk, and returns undefined until the replies it waits for have come, then the result.
 * Rejects when `read` throws (an error reply), on a socket error, and when Redis closes
 * before `read` had its result: said, not waited for until the bench's time limit.
 */
function exchange(port, db, commands, read) {
  return new Promise((resolve, reject) => {
    const s = net.createConnection(port, '127.0.0.1');
    s.write(resp(['SELECT', db]) + commands);
    const lines = [];
    let rest = '';
    let settled = false;
    const settle = (err, value) => {
      if (settled) return;
      settled = true;
      s.destroy();
      if (err) reject(err);
      else resolve(value);
    };
    s.on('data', (d) => {
      const parts = (rest + d.toString('latin1')).split('\r\n');
      rest = parts.pop();
      for (const l of parts) lines.push(l);
      let value;
      try {
        value = read(lines);
      } catch (err) {
        return settle(err);
      }
      if (value !== undefined) settle(undefined, value);
    });
    s.on('error', (err) => settle(err));
    s.on('close', () => settle(new Error(`redis closed the connection after ${lines.length} reply lines`)));
  });
}

/** An error reply as an Error. */
function failIfError(line) {
  if (line[0] === '-') throw new Error(`redis: ${line}`);
}

/** One command to Redis (after SELECT db); resolves with the reply's first line, rejects on an error reply. */
function redisCommand(port, db, ...args) {
  return exchange(port, db, resp(args), (lines) => {
    if (lines.length < 2) return undefined;
    failIfError(lines[1]);
    return lines[1];
  });
}

/**
 * `command(key)` for each key, pipelined on one connection (after SELECT db), each answered
 * by an integer: resolves with their sum, rejects on an error reply or when Redis closes
 * before every reply came. A connection a key opened ~24k connections for one of
 * agent.cjs's counts, several seconds of Redis's accept/close (session 33).
 */
function redisEach(port, db, keys, command) {
  // Replies: SELECT's +OK, then one integer a key; each line read once.
  let seen = 0;
  let total = 0;
  return exchange(port, db, keys.map((k) => resp(command(k))).join(''), (lines) => {
    for (; seen < lines.length; seen++) {
      const l = lines[seen];
      failIfError(l);
      if (l[0] === ':') total += Number(l.slice(1));
    }
    return seen === keys.length + 1 ? total : undefined;
  });
}

/**
 * `KEYS pattern` (after SELECT db): resolves with the keys, rejects on an error reply or when
 * Redis closes before the whole reply came. For the benches' own redis-server only (KEYS
 * walks the whole keyspace).
 */
function redisKeys(port, db, pattern) {
  return exchange(port, db, resp(['KEYS', pattern]), (lines) => {
    // SELECT's reply, then `*N` and a `$len`, key pair a key.
    for (const l of lines.slice(0, 2)) failIfError(l);
    if (lines.length < 2) return undefined;
    const n = Number(lines[1].slice(1));
    if (lines.length < 2 + 2 * n) return undefined;
    const keys = [];
    for (let i = 0; i < n; i++) keys.push(lines[3 + 2 * i]);
    return keys;
  });
}

module.exports = { redisCommand, redisEach, redisKeys };
