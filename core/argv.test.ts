import { describe, expect, it } from 'vitest';
import { splitCommandLine } from './argv.js';
import { UsageError } from './errors.js';

describe('splitCommandLine', () => {
  it('splits on any run of blanks', () => {
    expect(splitCommandLine('  wc_map.sh   -a\t-b\n c  ')).toEqual(['wc_map.sh', '-a', '-b', 'c']);
    expect(splitCommandLine('cat')).toEqual(['cat']);
  });

  it('takes single quotes literally', () => {
    expect(splitCommandLine(`awk '{ print $1 "\\t" 1 }'`)).toEqual(['awk', '{ print $1 "\\t" 1 }']);
    expect(splitCommandLine(`echo 'a\\'`)).toEqual(['echo', 'a\\']);
  });

  it('handles backslash escapes inside double quotes only for " \\ $ and backtick', () => {
    expect(splitCommandLine(String.raw`x "a \"b\" \\ \$HOME \` \n \t"`)).toEqual(['x', 'a "b" \\ $HOME ` \\n \\t']);
    expect(splitCommandLine('x "line\\\ncont"')).toEqual(['x', 'linecont']);
  });

  it('escapes the next character with a backslash outside quotes', () => {
    expect(splitCommandLine(String.raw`grep a\ b \"q\" \\ \'`)).toEqual(['grep', 'a b', '"q"', '\\', "'"]);
    expect(splitCommandLine('a \\\n b')).toEqual(['a', 'b']);
    expect(splitCommandLine('a\\\nb')).toEqual(['ab']);
  });

  it('joins adjacent quoted and unquoted parts into one word and keeps empty quoted words', () => {
    expect(splitCommandLine(`a'b c'd"e f"g`)).toEqual(['ab cde fg']);
    expect(splitCommandLine(`cmd '' ""`)).toEqual(['cmd', '', '']);
    expect(splitCommandLine(`cmd ''\\\n`)).toEqual(['cmd', '']);
  });

  it('does not expand or interpret anything', () => {
    expect(splitCommandLine('cut -f1 | sort > out.txt 2>&1 && $HOME/x ~ *.txt # comment')).toEqual([
      'cut',
      '-f1',
      '|',
      'sort',
      '>',
      'out.txt',
      '2>&1',
      '&&',
      '$HOME/x',
      '~',
      '*.txt',
      '#',
      'comment',
    ]);
  });

  it('keeps non-ASCII characters', () => {
    expect(splitCommandLine(`grep 'café' ünï`)).toEqual(['grep', 'café', 'ünï']);
  });

  it('rejects empty commands, unterminated quotes and a trailing lone backslash with a UsageError', () => {
    for (const bad of ['', '   \t\n', `echo 'abc`, 'echo "abc', `echo "it's`, 'echo \\', '\\\n']) {
      expect(() => splitCommandLine(bad), JSON.stringify(bad)).toThrow(UsageError);
    }
    expect(() => splitCommandLine(`echo 'abc`)).toThrow(/Unterminated single quote at position 6/);
    expect(() => splitCommandLine('echo "abc')).toThrow(/Unterminated double quote/);
    expect(() => splitCommandLine('  ')).toThrow(/empty/);
  });
});
