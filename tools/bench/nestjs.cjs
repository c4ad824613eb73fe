// Nest "hello" (Express platform) three ways (`node tools/bench/nestjs.cjs`):
//   plain      a Nest app with no profiler at all
//   plain-b    the same again, in another process: an A/A control that shows how far two
//              identical servers differ on this machine (the noise floor of the ratios)
//   no-header  the app with ProfilerModule.forRoot() (tracing enabled), requests carry no header
//   traced     the module app, every request carries a valid signed header (stored in the
//              embedded file:// backend, in a temporary directory)
// Then, because separate processes differ by a few % even when identical (see plain-b),
// the untraced cost is also measured inside ONE server process: two Nest apps on two ports
// (plain; with ProfilerModule), nothing ever traced there, alternating short windows.
// Each variant is its own server process on 127.0.0.1; the load comes from a separate
// process (a keep-alive HTTP loop). Rounds alternate the variants (rotating the order); the
// figure to trust is the server's CPU time per request (process.cpuUsage in the server).
// Bounded: about 70 s by default, killed at 90 s. Needs packages/nestjs built.
'use strict';
const { load, runServerBench } = require('./lib/http-bench.cjs');

const ROUNDS = Number(process.env.BENCH_ROUNDS || 7);
const PAIR_ROUNDS = Number(process.env.BENCH_PAIR_ROUNDS || 12);
const PAIR_SECONDS = Number(process.env.BENCH_PAIR_SECONDS || 0.8);
const SECONDS = Number(process.env.BENCH_SECONDS || 1.2);
const WARMUP_SECONDS = Number(process.env.BENCH_WARMUP_SECONDS || 1.5);
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS || 16);
const KEY = 'bench-key';
const VARIANTS = ['plain', 'plain-b', 'no-header', 'traced'];

// ---------------------------------------------------------------------------- server
/** A Nest app module in plain JS (decorators applied by hand), with or without the profiler. */
function appModule(withProfiler, storeDir) {
  require('reflect-metadata');
  const { Controller, Get, Module } = require('@nestjs/common');
  class HelloController {
    hello() {
      return 'hello';
    }
  }
  const proto = HelloController.prototype;
  Reflect.decorate([Get('hello')], proto, 'hello', Object.getOwnPropertyDescriptor(proto, 'hello'));
  Controller()(HelloController);
  class AppModule {}
  const imports = [];
  if (withProfiler) {
    const { ProfilerModule } = require('@osprofiler/nestjs');
    imports.push(ProfilerModule.forRoot({ enabled: true, hmacKeys: [KEY], connectionString: `file://${storeDir}`, host: 'bench', service: 'bench' }));
  }
  Module({ imports, controllers: [HelloController] })(AppModule);
  return AppModule;
}

async function listen(AppModule) {
  const { NestFactory } = require('@nestjs/core');
  const app = await NestFactory.create(AppModule, { logger: false });
  await app.listen(0, '127.0.0.1');
  const srv = app.getHttpServer();
  srv.keepAliveTimeout = 60_000;
  return { app, port: srv.address().port };
}

async function server(variant, storeDir) {
  const apps = [];
  if (variant === 'pair') {
    // Two apps in one process: plain and with the module. Nothing is ever traced here.
    apps.push(await listen(appModule(false, storeDir)));
    apps.push(await listen(appModule(true, storeDir)));
    process.send({ port: apps.map((a) => a.port) });
  } else {
    apps.push(await listen(appModule(!variant.startsWith('plain'), storeDir)));
    process.send({ port: apps[0].port });
  }
  process.on('message', (m) => {
    if (m === 'cpu') {
      const u = process.cpuUsage();
      process.send({ cpu: u.user + u.system });
    } else if (m === 'stop') {
      const finish = () => Promise.all(apps.map((a) => a.app.close())).finally(() => process.exit(0));
      if (variant.startsWith('plain')) finish();
      else require('@osprofiler/core').flush().then(finish, finish);
    }
  });
}

// ------------------------------------------------------------------------ orchestrator
function main() {
  return runServerBench({
    name: 'nestjs', script: __filename, title: `Nest ${require('@nestjs/core/package.json').version} (Express platform)`, pairLabels: ['ProfilerModule'],
    variants: VARIANTS, key: KEY, limitSeconds: 90, rounds: ROUNDS, seconds: SECONDS, warmupSeconds: WARMUP_SECONDS,
    pairRoundCount: PAIR_ROUNDS, pairSeconds: PAIR_SECONDS, connections: CONNECTIONS,
  });
}

if (process.argv[2] === '--server') server(process.argv[3], process.argv[4]);
else if (process.argv[2] === '--load') load(CONNECTIONS);
else main().catch((err) => {
  console.error(err);
  process.exit(1);
});
