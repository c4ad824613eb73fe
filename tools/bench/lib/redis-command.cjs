// Commands to the benches' own redis-server over a connection of their own: one command
// (redisCommand), one per key pipelined on one connection (redisEach), or KEYS (redisKeys).
'use strict';
const net = require('node:net');

/** One command as RESP. */
function resp(args) {
  return `*${args.length}\r\n` + args.map((x) => `$${Buffer.byteLength(String(x))}\r\n${x}\r\n`).join('');
}

/** One command to Redis (after SELECT db); resolves with the reply's first line, rejects on an error reply. */
function redisCommand(port, db, ...args) {
  return new Promise((resolve, reject) => {
    const s = net.createConnection(port, '127.0.0.1');
    s.write(resp(['SELECT', db]) + resp(args));
    let buf = '';
    s.on('data', (d) => {
      buf += d;
      const lines = buf.split('\r\n');
      if (lines.length >= 3) {
        s.destroy();
        if (lines[1].startsWith('-')) reject(new Error(`redis: ${lines[1]}`));
        else resolve(lines[1]);
      }
    });
    s.on('error', reject);
  });
}

/**
 * `command(key)` for each key, pipelined on one connection (after SELECT db), each answered
 * by an integer: resolves with their sum, rejects on an error reply or when Redis closes
 * before every reply came. A connection a key opened ~24k connections for one of
 * agent.cjs's counts, several seconds of Redis's accept/close (session 33).
 */
function redisEach(port, db, keys, command) {
  return new Promise((resolve, reject) => {
    const s = net.createConnection(port, '127.0.0.1');
    s.write(resp(['SELECT', db]) + keys.map((k) => resp(command(k))).join(''));
    // Replies: SELECT's +OK, then one integer a key.
    let rest = '';
    let replies = 0;
    let total = 0;
    s.on('data', (d) => {
      const lines = (rest + d.toString('latin1')).split('\r\n');
      rest = lines.pop();
      for (const l of lines) {
        if (l[0] === '-') {
          s.destroy();
          return reject(new Error(`redis: ${l}`));
        }
        if (l[0] === ':') total += Number(l.slice(1));
        replies++;
      }
      if (replies === keys.length + 1) {
        s.destroy();
        resolve(total);
      }
    });
    s.on('error', reject);
    // Closed before every reply came: said, not waited for until the bench's time limit.
    s.on('close', () => {
      if (replies !== keys.length + 1) reject(new Error(`redis closed the connection after ${replies} of ${keys.length + 1} replies`));
    });
  });
}

/**
 * `KEYS pattern` (after SELECT db): resolves with the keys, rejects on an error reply or when
 * Redis closes before the whole reply came. For the benches' own redis-server only (KEYS
 * walks the whole keyspace).
 */
function redisKeys(port, db, pattern) {
  return new Promise((resolve, reject) => {
    const s = net.createConnection(port, '127.0.0.1');
    s.write(resp(['SELECT', db]) + resp(['KEYS', pattern]));
    let buf = '';
    let settled = false;
    const settle = (err, keys) => {
      if (settled) return;
      settled = true;
      s.destroy();
      if (err) reject(err);
      else resolve(keys);
    };
    s.on('data', (d) => {
      buf += d.toString('latin1');
      // SELECT's reply, then `*N` and a `$len`, key pair a key; each line ends with CRLF.
      const lines = buf.split('\r\n');
      const bad = lines.slice(0, 2).find((l) => l[0] === '-');
      if (bad !== undefined) return settle(new Error(`redis: ${bad}`));
      if (lines.length < 3) return;
      const n = Number(lines[1].slice(1));
      if (lines.length < 3 + 2 * n) return;
      const keys = [];
      for (let i = 0; i < n; i++) keys.push(lines[3 + 2 * i]);
      settle(undefined, keys);
    });
    s.on('error', (err) => settle(err));
    s.on('close', () => settle(new Error('redis closed the connection before the KEYS reply')));
  });
}

module.exports = { redisCommand, redisEach, redisKeys };
