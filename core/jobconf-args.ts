/**
 * The command-line forms of a job configuration: `-D key=value` and `--cmdenv NAME=VALUE`
 * (Hadoop Streaming's -D and -cmdenv), parsed into plain records.
 */
import { UsageError } from './errors.js';

/**
 * Parse one `key=value` (the argument of `-D`). The value may contain '=' and
 * may be empty; the key may not.
 */
function parseJobConfPair(text: string): [key: string, value: string] {
  const eq = text.indexOf('=');
  const key = eq < 0 ? '' : text.slice(0, eq).trim();
  if (eq < 0 || key === '') {
    throw new UsageError(`-D expects key=value (e.g. -D mapreduce.job.reduces=2), got ${JSON.stringify(text)}`);
  }
  return [key, text.slice(eq + 1)];
}

/** Parse repeated `key=value` arguments into a configuration; later ones win, like Hadoop. */
export function parseJobConfPairs(pairs: readonly string[]): Record<string, string> {
  const conf: Record<string, string> = {};
  for (const p of pairs) {
    const [k, v] = parseJobConfPair(p);
    conf[k] = v;
  }
  return conf;
}

/**
 * Parse repeated `--cmdenv NAME=VALUE` arguments (Hadoop Streaming's -cmdenv); the
 * name must be a valid environment variable name. Later ones win.
 */
export function parseEnvPairs(pairs: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const text of pairs) {
    const eq = text.indexOf('=');
    const name = eq < 0 ? '' : text.slice(0, eq);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) {
      throw new UsageError(
        `--cmdenv expects NAME=VALUE, NAME made of letters, digits and _ (e.g. --cmdenv LANG=C), got ${JSON.stringify(text)}`,
      );
    }
    env[name] = text.slice(eq + 1);
  }
  return env;
}
