/**
 * The CLI's own logger for `--verbose`: the embedded coordinator and checker log
 * through it as readable one-line records on stderr (the Lambdas and workers log
 * structured JSON instead). Quiet by default: without --verbose nothing is logged.
 */
import type { Services } from '../services/context.js';
import type { Io } from './io.js';

type Level = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

function formatValue(v: unknown): string {
  if (v instanceof Error) return JSON.stringify(v.message);
  if (typeof v === 'string') return /^[^\s"=]+$/.test(v) ? v : JSON.stringify(v);
  return JSON.stringify(v);
}

/** `key=value` pairs of the extra arguments of a log call (objects are flattened one level). */
function formatFields(extra: readonly unknown[]): string {
  const fields: string[] = [];
  for (const x of extra) {
    if (x instanceof Error) fields.push(`error=${formatValue(x)}`);
    else if (x !== null && typeof x === 'object') {
      for (const [k, v] of Object.entries(x)) if (v !== undefined) fields.push(`${k}=${formatValue(v)}`);
    } else if (x !== undefined) fields.push(formatValue(x));
  }
  return fields.join(' ');
}

/** A logger with Powertools' call shape writing `HH:MM:SS.mmm LEVEL source: message k=v` to stderr. */
export function stderrLogger(io: Io, source: string, debug = false): Services['log'] {
  const write =
    (level: Level) =>
    (message: unknown, ...extra: unknown[]): void => {
      if (level === 'DEBUG' && !debug) return;
      const time = new Date().toISOString().slice(11, 23);
      const text = typeof message === 'string' ? message : formatFields([message]);
      const fields = formatFields(extra);
      io.err(`${time} ${level.padEnd(5)} ${source}: ${text}${fields ? ` ${fields}` : ''}\n`);
    };
  return {
    debug: write('DEBUG'),
    info: write('INFO'),
    warn: write('WARN'),
    error: write('ERROR'),
  } as unknown as Services['log'];
}
