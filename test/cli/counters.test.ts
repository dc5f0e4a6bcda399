/**
 * Counters through the Hadoop Streaming stderr protocol, end to end with the real
 * binary: a mapper emits `reporter:counter:` and `reporter:status:` lines and fails
 * its first attempt. The job must count the committed attempt once (the failed
 * attempt's counters are dropped), count the failed and retried attempts, and
 * show all of it in `run --json`, `status` and `logs`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, cliEnv, Scratch, STACK_LINE } from '../helpers/cli.js';
import { expectNoStackProcesses, uniquePrefix } from '../helpers/local-up.js';

const PREFIX = uniquePrefix('counters');
let s: Scratch;
let env: NodeJS.ProcessEnv;

/** Five input lines; the mapper counts each one, and fails after counting them on attempt 1. */
const MAPPER = `
echo "mapping $MR_TASK_ID, attempt $MR_ATTEMPT" >&2
n=0
while IFS= read -r line; do
  n=$((n + 1))
  printf '%s\\t1\\n' "$line"
  echo "reporter:counter:App,Lines,1" >&2
done
echo "reporter:counter:App,Batches,10" >&2
echo "reporter:status:mapped $n lines in attempt $MR_ATTEMPT" >&2
if [ "$MR_ATTEMPT" = "1" ]; then
  echo "attempt 1 fails on purpose after counting" >&2
  exit 1
fi`;

let jobId: string;
let result: Record<string, unknown> & { counters: Record<string, number> };

beforeAll(async () => {
  s = new Scratch();
  env = cliEnv(s.path('state'));
  s.file('in/lines.txt', 'alpha\nbeta\ngamma\ndelta\nepsilon\n');
  s.script('count_map.sh', MAPPER);
  const r = await cli(
    ['run', '--prefix', PREFIX, '--json', '-i', 'in', '-o', 'out', '-m', './count_map.sh', '-r', 'cat', '-w', '1', '--max-attempts', '3'],
    env,
    { cwd: s.dir },
  );
  expect(r.code, r.stderr).toBe(0);
  // --json: stdout holds JSON lines only: a submitted event, progress events, one result.
  const events = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as Record<string, unknown>);
  expect(events[0]).toMatchObject({ event: 'submitted' });
  expect(events.filter((e) => e.event === 'progress').length).toBeGreaterThanOrEqual(1);
  expect(events.filter((e) => e.event === 'result')).toHaveLength(1);
  expect(events.at(-1)).toMatchObject({ event: 'result', status: 'SUCCEEDED', output: 'out', partFiles: 1 });
  expect(r.stderr).not.toMatch(/Submitted job|^job /m); // no human progress with --json
  jobId = events[0]!.jobId as string;
  result = events.at(-1) as typeof result;
  await expectNoStackProcesses(PREFIX);
});

afterAll(() => s?.remove());

describe('user counters from reporter:counter lines', () => {
  it("counts the committed attempt once: the failed attempt's counters are not added", () => {
    expect(result.counters['App.Lines']).toBe(5);
    expect(result.counters['App.Batches']).toBe(10);
    expect(result.counters['mapreduce.FAILED_ATTEMPTS']).toBe(1);
    expect(result.counters['mapreduce.RETRIED_ATTEMPTS']).toBe(1);
    expect(result.counters).toMatchObject({
      'mapreduce.MAP_INPUT_RECORDS': 5,
      'mapreduce.MAP_OUTPUT_RECORDS': 5,
      'mapreduce.REDUCE_INPUT_GROUPS': 5,
      'mapreduce.REDUCE_INPUT_RECORDS': 5,
      'mapreduce.REDUCE_OUTPUT_RECORDS': 5,
    });
  });

  it('stores them on the job record: `status JOB` shows counters, the last status message and the failed attempt', async () => {
    const [json, text] = await Promise.all([
      cli(['status', jobId, '--prefix', PREFIX, '--json'], env),
      cli(['status', jobId, '--prefix', PREFIX], env),
    ]);
    expect(json.code, json.stderr).toBe(0);
    const job = JSON.parse(json.stdout) as Record<string, unknown>;
    expect(job).toMatchObject({
      jobId,
      status: 'SUCCEEDED',
      phase: 'DONE',
      counters: result.counters,
      statusMessage: 'm-00000: mapped 5 lines in attempt 2',
      tasks: { map: { COMMITTED: 1 }, reduce: { COMMITTED: 1 } },
    });
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(new RegExp(`^Job: +${jobId}\\nStatus: +SUCCEEDED +Phase: DONE\\n`));
    expect(text.stdout).toMatch(/^Map: +1\/1 committed \(committed 1\)$/m);
    expect(text.stdout).toMatch(/^Last task status: m-00000: mapped 5 lines in attempt 2$/m);
    expect(text.stdout).toMatch(/^ {2}m-00000 \(attempt 2, 1 failed, 0 stalled\): mapper "count_map\.sh" exited with code 1$/m);
    expect(text.stdout).toMatch(/Duration: [\d.]+s/);
    expect(text.stdout).toMatch(/^Counters:\n(.*\n)*? {2}App\.Batches +10\n {2}App\.Lines +5$/m);
    expect(text.stdout).toMatch(/^ {2}mapreduce\.RETRIED_ATTEMPTS +1$/m);
  });

  it('`logs JOB --task` prints the stderr of each attempt from S3 (reporter: lines are protocol, not log)', async () => {
    const all = await cli(['logs', jobId, '--prefix', PREFIX, '--task', 'm-00000'], env);
    expect(all.code, all.stderr).toBe(0);
    expect(all.stdout).toBe(
      '==> task m-00000 attempt 1 <==\nmapping m-00000, attempt 1\nattempt 1 fails on purpose after counting\n' +
        '==> task m-00000 attempt 2 <==\nmapping m-00000, attempt 2\n',
    );
    const one = await cli(['logs', jobId, '--prefix', PREFIX, '--task', 'm-00000', '--attempt', '2'], env);
    expect(one.stdout).not.toMatch(/attempt 1 </);
    const reduce = await cli(['logs', jobId, '--prefix', PREFIX, '--task', 'r-00000'], env);
    expect(reduce.code).toBe(0);
    expect(reduce.stdout).toMatch(/^No stderr recorded for job \S+ task r-00000/);
    const none = await cli(['logs', 'no-such-job', '--prefix', PREFIX], env);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/No job "no-such-job" on local stack/);
    expect(none.stderr).not.toMatch(STACK_LINE);
  });
});
