/**
 * Hadoop Streaming jobs run unchanged, through the real CLI against one `local up`
 * stack: secondary sort, an order-dependent reduce-side join, compressed input,
 * Hadoop's input rules, line ends, map-only, the task environment and a status storm.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, cliEnv, Scratch, STACK_LINE } from '../helpers/cli.js';
import { LocalUp, StackAccess, uniquePrefix } from '../helpers/local-up.js';
import { prng, referenceInput, WC_MAP, WC_REDUCE } from '../helpers/pipeline.js';
import { example, sortedLines, unixPipeline } from '../helpers/stack.js';

const PREFIX = uniquePrefix('hadoop');
let s: Scratch;
let env: NodeJS.ProcessEnv;
let up: LocalUp;
let access: StackAccess;

/** `mapreduce run <args> --prefix PREFIX --overwrite`, in the scratch directory; fails the test on a non-zero exit. */
async function run(...args: string[]): Promise<{ stdout: string; stderr: string }> {
  const r = await cli(['run', ...args, '--prefix', PREFIX], env, { cwd: s.dir, timeoutMs: 170_000 });
  expect(r.code, `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`).toBe(0);
  return r;
}

/** The part files of a local output directory, in part order. */
function parts(dir: string): Buffer[] {
  return readdirSync(dir)
    .filter((f) => f.startsWith('part-'))
    .sort()
    .map((f) => readFileSync(path.join(dir, f)));
}

/** The `result` event of a `--json` run. */
function resultEvent(stdout: string): Record<string, unknown> {
  const result = stdout
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>)
    .find((e) => e.event === 'result');
  expect(result, stdout).toBeDefined();
  return result!;
}

const lines = (b: Buffer): string[] => b.toString('latin1').split('\n').filter((l) => l !== '');

beforeAll(async () => {
  s = new Scratch();
  env = cliEnv(s.path('state'));
  up = await LocalUp.start(PREFIX, env, 2);
  access = new StackAccess(PREFIX);
}, 120_000);

afterAll(async () => {
  access?.close();
  try {
    if (up) await up.stop();
  } finally {
    s?.remove();
  }
});

describe('Hadoop Streaming jobs', () => {
  it('secondary sort: key = sensor, sorted by sensor then numeric timestamp, partitioned on sensor; 4 maps, 3 reducers', async () => {
    const rand = prng(12);
    const sensors = ['s01', 's02', 's03', 's04', 's05', 's06', 's07'];
    const all: string[] = [];
    // 4 input files = at least 4 map tasks; timestamps of varying digit counts, so byte order is not numeric order.
    for (let f = 0; f < 4; f++) {
      const rows: string[] = [];
      for (let i = 0; i < 200; i++) {
        const ts = Math.floor(rand() ** 3 * 1_000_000);
        rows.push(`${ts},${sensors[Math.floor(rand() * sensors.length)]},${(rand() * 100).toFixed(2)}`);
      }
      s.file(`sensors/readings-${f}.csv`, `${rows.join('\n')}\n`);
      all.push(...rows);
    }
    s.script('sensor_map.sh', `exec awk -F, '{ print $2 "\\t" $1 "\\t" $3 }'`);
    const out = s.path('out-sensors');
    const r = await run(
      '-i', 'sensors', '-o', out, '-m', './sensor_map.sh', '-r', 'cat', '-R', '3', '--json',
      '-D', 'stream.num.map.output.key.fields=2',
      '-D', 'mapreduce.partition.keypartitioner.options=-k1,1',
      '-D', 'mapreduce.partition.keycomparator.options=-k1,1 -k2,2n',
      '--partitioner', 'org.apache.hadoop.mapred.lib.KeyFieldBasedPartitioner',
      '--comparator', 'org.apache.hadoop.mapred.lib.KeyFieldBasedComparator',
    );
    const result = resultEvent(r.stdout);
    expect(result.numMaps).toBeGreaterThanOrEqual(4);
    expect(result.numReduces).toBe(3);
    const ps = parts(out);
    expect(ps).toHaveLength(3);
    const seenIn = new Map<string, number>();
    ps.forEach((part, p) => {
      const rows = lines(part).map((l) => l.split('\t'));
      for (let i = 0; i < rows.length; i++) {
        const [sensor, ts] = rows[i]!;
        const prev = rows[i - 1];
        if (prev && prev[0] === sensor) expect(Number(ts)).toBeGreaterThanOrEqual(Number(prev[1]));
        else {
          // A sensor's readings are together, in one part only.
          expect(seenIn.has(sensor!), `sensor ${sensor} seen twice`).toBe(false);
          seenIn.set(sensor!, p);
        }
      }
    });
    expect([...seenIn.keys()].sort()).toEqual(sensors);
    expect(new Set(seenIn.values()).size).toBeGreaterThan(1);
    const expected = all.map((r) => r.split(',')).map(([ts, sensor, v]) => `${sensor}\t${ts}\t${v}`);
    expect(sortedLines(ps)).toEqual(sortedLines(Buffer.from(`${expected.join('\n')}\n`)));
  });

  it('order-dependent reduce-side join: the user record arrives before its orders, same rows as the Unix reference', async () => {
    const rand = prng(5);
    const users = Array.from({ length: 60 }, (_, i) => `U,u${i},name-${i}`);
    const orders = Array.from({ length: 900 }, (_, i) => `O,o${i},u${Math.floor(rand() * 66)},${Math.floor(rand() * 1000)}`);
    // Orders sort before users by file name, so without the tag sort orders would come first.
    s.file('join/a-orders.txt', `${orders.join('\n')}\n`);
    s.file('join/b-users.txt', `${users.join('\n')}\n`);
    s.script('join_map.sh', `exec awk -F, '$1 == "U" { print $2 "\\t0\\t" $3 } $1 == "O" { print $3 "\\t1\\t" $2 "\\t" $4 }'`);
    s.script(
      'join_reduce.sh',
      `exec awk -F'\\t' '$2 == "0" { uid = $1; name = $3; next } { print $1 "\\t" ($1 == uid ? name : "MISSING") "\\t" $3 "\\t" $4 }'`,
    );
    const out = s.path('out-join');
    await run(
      '-i', 'join', '-o', out, '-m', './join_map.sh', '-r', './join_reduce.sh', '-R', '3',
      '-D', 'stream.num.map.output.key.fields=2',
      '-D', 'mapred.text.key.partitioner.options=-k1,1',
      '-D', 'mapreduce.partition.keycomparator.options=-k1,1 -k2,2n',
      '--partitioner', 'KeyFieldBasedPartitioner',
      '--comparator', 'KeyFieldBasedComparator',
    );
    // The Unix reference: map, sort by uid then tag, reduce.
    const input = referenceInput({
      'a-orders.txt': readFileSync(s.path('join/a-orders.txt')),
      'b-users.txt': readFileSync(s.path('join/b-users.txt')),
    });
    const ref = unixPipeline(input, s.path('join_map.sh'), `LC_ALL=C sort -t "$(printf '\\t')" -k1,1 -k2,2n | ${s.path('join_reduce.sh')}`);
    const got = sortedLines(parts(out));
    expect(got).toEqual(sortedLines(ref));
    expect(got.filter((l) => l.includes('MISSING')).every((l) => Number(l.slice(1, l.indexOf('\t'))) >= 60)).toBe(true);
    expect(got.filter((l) => !l.includes('MISSING')).length).toBeGreaterThan(700);
  });

  it('reads .bz2 and .zst input (one task per file) like the plain text', async () => {
    const data = example('data');
    const files = Object.fromEntries(readdirSync(data).map((f) => [f, readFileSync(path.join(data, f))]));
    const names = Object.keys(files).sort();
    s.file(`compressed/${names[0]}.bz2`, execFileSync('bzip2', ['-c'], { input: files[names[0]!] }));
    s.file(`compressed/${names[1]}.zst`, execFileSync('zstd', ['-c', '-q'], { input: files[names[1]!] }));
    const out = s.path('out-compressed');
    await run('-i', 'compressed', '-o', out, '-m', WC_MAP, '-r', WC_REDUCE, '-R', '2');
    expect(sortedLines(parts(out))).toEqual(sortedLines(unixPipeline(referenceInput(files), WC_MAP, WC_REDUCE)));
  });

  it('refuses an input it cannot decompress with a message naming the file', async () => {
    s.file('lz4/data.txt.lz4', 'not text at all');
    const r = await cli(['run', '-i', 'lz4', '-o', s.path('out-lz4'), '-m', 'cat', '--prefix', PREFIX], env, { cwd: s.dir });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/data\.txt\.lz4 is lz4-compressed/);
    expect(r.stderr).not.toMatch(STACK_LINE);
  });

  it('multiple -i, comma lists and globs; hidden _* and .* files skipped; -R 0 is map-only', async () => {
    const b = access.bucket;
    const put = (key: string, body: string) => access.blobs.putBytes(b, key, body);
    await put('hin/a/x.txt', 'x1\nx2\n');
    await put('hin/b/y.txt', 'y1\n');
    await put('hin/b/_SUCCESS', 'HIDDEN-SUCCESS\n');
    await put('hin/b/.y.txt.crc', 'HIDDEN-CRC\n');
    await put('hin/b/_logs/history', 'HIDDEN-LOG\n');
    await put('hin/c/2026-11-01/z.txt', 'z1\n');
    await put('hin/c/2026-11-02/w.txt', 'w1\n');
    await put('hin/c/2026-12-01/v.txt', 'NOT-MATCHED\n');
    await put('hin/d/u.txt', 'u1\n');
    const out = s.path('out-inputs');
    await run(
      '-i', `s3://${b}/hin/a/x.txt`,
      '-i', `s3://${b}/hin/b/,s3://${b}/hin/d/u.txt`,
      '-i', `s3://${b}/hin/c/2026-11-*/`,
      '-o', out, '-m', 'cat', '-r', 'cat', '-R', '0',
    );
    const ps = parts(out);
    expect(sortedLines(ps)).toEqual(['u1', 'w1', 'x1', 'x2', 'y1', 'z1']);
    expect(ps.length).toBe(5); // map-only: one part per map task, no reduce
  });

  it('a subdirectory without --recursive fails with a clear reason; with --recursive it is read', async () => {
    const b = access.bucket;
    await access.blobs.putBytes(b, 'rin/top.txt', 't\n');
    await access.blobs.putBytes(b, 'rin/sub/deep.txt', 'd\n');
    const refused = await cli(['run', '-i', `s3://${b}/rin/`, '-o', s.path('out-r1'), '-m', 'cat', '--prefix', PREFIX], env, {
      cwd: s.dir,
    });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/--recursive/);
    const out = s.path('out-r2');
    await run('-i', `s3://${b}/rin/`, '-o', out, '-m', 'cat', '-R', '0', '--recursive');
    expect(sortedLines(parts(out))).toEqual(['d', 't']);
  });

  it("strips CR-LF and lone CR line ends as Hadoop's LineReader does", async () => {
    const text = Buffer.from('dos 1\r\ndos 2\r\nmac 1\rmac 2\r\rmixed\n\r\nlast\r', 'latin1');
    s.file('crlf/in.txt', text);
    const records = ['dos 1', 'dos 2', 'mac 1', 'mac 2', '', 'mixed', '', 'last'];
    // `cat` is the in-process identity (lines as strings); `/bin/cat` is a process reading the split's bytes.
    for (const [mapper, out] of [['cat', 'out-crlf'], ['/bin/cat', 'out-crlf-exe']] as const) {
      const r = await run('-i', 'crlf/in.txt', '-o', s.path(out), '-m', mapper, '-R', '0', '--json');
      const got = Buffer.concat(parts(s.path(out))).toString('latin1');
      expect(got).not.toContain('\r');
      expect(got.split('\n').slice(0, -1), mapper).toEqual(records);
      // Counted as the mapper read them: each record ended by one '\n'.
      const job = await access.jobs.get(resultEvent(r.stdout).jobId as string);
      expect(job?.counters['mapreduce.MAP_INPUT_RECORDS'], mapper).toBe(records.length);
      expect(job?.counters['mapreduce.MAP_INPUT_BYTES'], mapper).toBe(records.join('\n').length + 1);
    }
  });

  it('a mapper that dumps its environment sees the Hadoop task variables, jobconf keys and --cmdenv', async () => {
    s.file('envin/a.txt', 'one\ntwo\n');
    s.script('env_map.sh', 'cat > /dev/null\nenv | grep -E "^(mapreduce_|map_input|stream_|my_|MR_|TEAM)" | sort');
    const out = s.path('out-env');
    await run(
      '-i', 'envin', '-o', out, '-m', './env_map.sh', '-R', '0', '--name', 'env-dump',
      '-D', 'my.team-setting=blue', '-D', 'mapreduce.job.queuename=default',
      '--cmdenv', 'TEAM=data',
    );
    const vars = Object.fromEntries(
      lines(Buffer.concat(parts(out))).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]),
    );
    const jobPart = vars.mapreduce_job_id?.slice('job_'.length);
    expect(vars.mapreduce_job_id).toMatch(/^job_\d+_\d{4}$/);
    expect(vars).toMatchObject({
      mapreduce_task_id: `task_${jobPart}_m_000000`,
      mapreduce_task_attempt_id: `attempt_${jobPart}_m_000000_0`,
      mapreduce_task_partition: '0',
      mapreduce_task_ismap: 'true',
      mapreduce_job_maps: '1',
      mapreduce_job_reduces: '0',
      mapreduce_map_input_start: '0',
      mapreduce_map_input_length: '8',
      mapreduce_job_name: 'env-dump',
      my_team_setting: 'blue',
      TEAM: 'data',
      MR_TASK_ID: 'm-00000',
      MR_ATTEMPT: '1',
    });
    // `run` on a local stack reads the local input in place: the task sees its file:// URI.
    expect(vars.mapreduce_map_input_file).toMatch(/^file:\/\/\/.+\/a\.txt$/);
    expect(vars.mapreduce_task_output_dir).toMatch(/^s3:\/\//);
    expect(vars.MR_JOB_ID).toBeTruthy();
  });

  it('a status on every one of 100k lines: no failed attempt, same output as the mapper without status, status writes coalesced, last status shown', async () => {
    s.file('storm/in.txt', Array.from({ length: 100_000 }, (_, i) => `line ${i}`).join('\n') + '\n');
    s.script('quiet_map.sh', `exec awk '{ print $0 "\\t1" }'`);
    s.script('storm_map.sh', `exec awk '{ print $0 "\\t1"; print "reporter:status:at " NR > "/dev/stderr" }'`);
    /** One map-only run: its wall time, the map task's claim-to-commit time and DynamoDB updates, and the job. */
    const runOnce = async (mapper: string, out: string) => {
      const t0 = process.hrtime.bigint();
      const r = await run('-i', 'storm', '-o', s.path(out), '-m', mapper, '-R', '0', '--json');
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      const jobId = resultEvent(r.stdout).jobId as string;
      const [job, tasks] = await Promise.all([access.jobs.get(jobId), access.tasks.list(jobId)]);
      expect(tasks.map((t) => t.taskId)).toEqual(['m-00000']);
      const history = tasks[0]!.history ?? [];
      // No failed attempt: one attempt, committed, and no failure counted anywhere.
      expect(history.map((h) => h.outcome)).toEqual(['committed']);
      expect(tasks[0]!.failures).toBe(0);
      expect(job?.counters['mapreduce.FAILED_ATTEMPTS'] ?? 0).toBe(0);
      const h = history[0]!;
      return { ms, taskMs: h.endedAt - h.startedAt, updates: h.requests?.['DynamoDB.UpdateItem'] ?? 0, job: job! };
    };
    // Interleaved, best of three each: the first run also warms the workers, and a load spike
    // on the shared machine slows one run, not the best of three.
    const quiet: Awaited<ReturnType<typeof runOnce>>[] = [];
    const storm: Awaited<ReturnType<typeof runOnce>>[] = [];
    for (let i = 0; i < 3; i++) {
      quiet.push(await runOnce('./quiet_map.sh', `out-quiet-${i}`));
      storm.push(await runOnce('./storm_map.sh', `out-storm-${i}`));
      expect(sortedLines(parts(s.path(`out-storm-${i}`)))).toEqual(sortedLines(parts(s.path(`out-quiet-${i}`))));
      expect(storm[i]!.job.statusMessage).toBe('m-00000: at 100000');
    }
    const show = (runs: typeof quiet) => runs.map((r) => `${r.ms.toFixed(0)} (task ${r.taskMs}, ${r.updates} updates)`).join(', ');
    console.log(`status storm, job ms: quiet [${show(quiet)}], storm [${show(storm)}]`);
    // Coalesced: the attempt's item updates (lease renewals and status writes) are bounded by
    // its heartbeats, never one per status line. A status per line would be 100k updates.
    const beats = (r: (typeof storm)[number]) => Math.ceil(r.taskMs / Number(env.MR_HEARTBEAT_MS));
    for (const r of storm) expect(r.updates).toBeLessThanOrEqual(3 * beats(r) + 4);
    // The wall times are printed above, not asserted: a speed bound is the bench's, never a
    // test's (developers' guide). A 2x bound held here until the quiet job got faster than the
    // awk mapper's own 100k unbuffered stderr writes (~0.7 s, docs/hadoop-streaming.md), a
    // fixed cost the framework cannot remove; it then failed a fresh-clone CI run at 2,196 ms
    // against 2 x 966 ms. What the framework controls is asserted: no failed attempt, the
    // same output, DynamoDB updates bounded by heartbeats, the last status shown.
  });
});
