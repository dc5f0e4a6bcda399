/**
 * A fault-injecting proxy for manual runs (issue 17): point AWS_ENDPOINT_URL of workers at it.
 *
 *   npx tsx scripts/fault-proxy.ts --target http://127.0.0.1:4566 --port 4599 \
 *     --error 0.05 --latency 0.05 --reset-before 0.02 --reset-mid-body 0.02 --blackhole 0.005 \
 *     --seed 7 --lifetime 600
 *
 * Listens on 127.0.0.1 only, stops after --lifetime seconds (or Ctrl-C), and prints the
 * fault counts every 10 s and on exit.
 */
import { Command, InvalidArgumentError } from 'commander';
import { FaultProxy } from '../test/helpers/fault-proxy.js';

const rate = (v: string): number => {
  const n = Number(v);
  if (!(n >= 0 && n <= 1)) throw new InvalidArgumentError('a rate is a number from 0 to 1');
  return n;
};
const int = (v: string): number => {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new InvalidArgumentError('a non-negative integer');
  return n;
};

const o = new Command('fault-proxy')
  .option('--target <url>', 'the emulator endpoint', process.env.AWS_ENDPOINT_URL || 'http://127.0.0.1:4566')
  .option('--port <n>', 'port on 127.0.0.1 (0: a free one)', int, 0)
  .option('--seed <n>', 'seed of the fault draws', int, 1)
  .option('--lifetime <s>', 'stop after this many seconds', int, 600)
  .option('--error <rate>', 'AWS error answers', rate, 0.05)
  .option('--latency <rate>', 'latency spikes of 200-3000 ms', rate, 0.05)
  .option('--reset-before <rate>', 'connection resets before the answer', rate, 0.02)
  .option('--reset-mid-body <rate>', 'connection resets in the middle of the body', rate, 0.02)
  .option('--blackhole <rate>', 'requests never answered', rate, 0.005)
  .parse(process.argv)
  .opts<{ target: string; port: number; seed: number; lifetime: number; error: number; latency: number; resetBefore: number; resetMidBody: number; blackhole: number }>();

const proxy = await FaultProxy.start({
  target: o.target,
  port: o.port,
  seed: o.seed,
  maxLifetimeMs: o.lifetime * 1000,
  rates: { error: o.error, latency: o.latency, resetBefore: o.resetBefore, resetMidBody: o.resetMidBody, blackhole: o.blackhole },
});
console.log(`Fault proxy on ${proxy.endpoint} -> ${o.target} for ${o.lifetime} s (seed ${o.seed}).`);
const report = setInterval(() => console.log(JSON.stringify(proxy.counts)), 10_000);
const stop = () => {
  clearInterval(report);
  void proxy.close().then(() => console.log(JSON.stringify(proxy.counts)));
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
setTimeout(stop, o.lifetime * 1000).unref();
