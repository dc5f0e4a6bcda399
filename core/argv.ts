/**
 * Word splitting of Hadoop-Streaming command lines (`mapper`, `reducer`, `combiner`).
 *
 * The framework never runs a shell: a command line is split into argv the way a
 * POSIX shell splits words, and the first word is executed directly. Only
 * quoting is understood; nothing is expanded or interpreted.
 */
import { UsageError } from './errors.js';

const BLANKS = new Set([' ', '\t', '\n', '\r', '\f', '\v']);
/** Characters a backslash escapes inside double quotes (POSIX); any other backslash stays literal there. */
const DQ_ESCAPABLE = new Set(['"', '\\', '$', '`']);

/**
 * Split a command line into argv words, like a POSIX shell but WITHOUT any
 * expansion or interpretation:
 *
 * - blanks (space, tab, newline) separate words;
 * - `'...'` is taken literally (no escapes inside);
 * - `"..."` is literal except that a backslash escapes `"`, `\`, `$` and a
 *   backtick, and backslash-newline is removed; any other backslash is kept;
 * - outside quotes a backslash makes the next character literal, and
 *   backslash-newline is removed (line continuation);
 * - quotes may join parts into one word (`a'b c'd` is `ab cd`), and `''` is an empty word.
 *
 * `$VAR`, `~`, globs (`*`), `#` comments and shell operators (`|`, `>`, `<`,
 * `&&`, `;`, `2>&1`...) are NOT interpreted: they are passed to the program as
 * literal words. To run a pipeline or use redirections, put them in a script
 * file shipped with the job (`files`) and name that script as the mapper or reducer.
 *
 * @example splitCommandLine(`python3 wc.py --sep ' ' "a \\"b\\""`) // ['python3', 'wc.py', '--sep', ' ', 'a "b"']
 * @throws UsageError on an empty command, an unterminated quote, or a trailing lone backslash.
 */
export function splitCommandLine(cmd: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let i = 0;
  const n = cmd.length;

  while (i < n) {
    const c = cmd[i]!;
    if (BLANKS.has(c)) {
      if (inWord) {
        words.push(word);
        word = '';
        inWord = false;
      }
      i++;
      continue;
    }
    if (c === "'") {
      inWord = true;
      const close = cmd.indexOf("'", i + 1);
      if (close < 0) throw unterminated(cmd, 'single', i);
      word += cmd.slice(i + 1, close);
      i = close + 1;
    } else if (c === '"') {
      inWord = true;
      i = readDoubleQuoted(cmd, i, (part) => {
        word += part;
      });
    } else if (c === '\\') {
      if (i + 1 >= n) {
        throw new UsageError(`Command line ends with a lone backslash: ${JSON.stringify(cmd)}`, {
          context: { command: cmd },
        });
      }
      const next = cmd[i + 1]!;
      // Backslash-newline is a line continuation: removed entirely, it does not start a word.
      if (next !== '\n') {
        word += next;
        inWord = true;
      }
      i += 2;
    } else {
      inWord = true;
      word += c;
      i++;
    }
  }
  if (inWord) words.push(word);
  if (words.length === 0) {
    throw new UsageError('Command line is empty: give the program to run, e.g. "cat" or "wc_map.sh"', {
      context: { command: cmd },
    });
  }
  return words;
}

/** Read a double-quoted part starting at the opening quote `start`; returns the index after the closing quote. */
function readDoubleQuoted(cmd: string, start: number, append: (part: string) => void): number {
  let i = start + 1;
  let part = '';
  while (i < cmd.length) {
    const c = cmd[i]!;
    if (c === '"') {
      append(part);
      return i + 1;
    }
    if (c === '\\' && i + 1 < cmd.length) {
      const next = cmd[i + 1]!;
      if (DQ_ESCAPABLE.has(next)) {
        part += next;
        i += 2;
        continue;
      }
      if (next === '\n') {
        i += 2;
        continue;
      }
    }
    part += c;
    i++;
  }
  throw unterminated(cmd, 'double', start);
}

function unterminated(cmd: string, kind: 'single' | 'double', at: number): UsageError {
  return new UsageError(
    `Unterminated ${kind} quote at position ${at + 1} in command line ${JSON.stringify(cmd)}: add the closing ${
      kind === 'single' ? "'" : '"'
    }`,
    { context: { command: cmd } },
  );
}

/**
 * How messages name a command: the program and the script it runs, e.g.
 * `python3 job.py` for `python3 -u job.py --step-num=0 --mapper` (the first word
 * alone says little when it is an interpreter).
 */
export function programLabel(argv: readonly string[]): string {
  const script = argv.slice(1).find((w) => !w.startsWith('-'));
  return script === undefined ? (argv[0] ?? '') : `${argv[0]} ${script}`;
}

/**
 * Quote one argv word so that splitCommandLine gives it back unchanged (POSIX single
 * quotes, `'\''` for a quote inside); plain words stay bare.
 */
export function quoteCommandWord(w: string): string {
  return /^[A-Za-z0-9_./:=@%+,-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`;
}

/** The command line of argv words: the inverse of splitCommandLine. */
export function joinCommandLine(words: readonly string[]): string {
  return words.map(quoteCommandWord).join(' ');
}
