import { describe, expect, it } from 'vitest';
import { ManifestError } from './errors.js';
import { isMapOnly, validateManifest } from './manifest.js';
import { MANIFEST_LIMITS } from './manifest-limits.js';
import { taskId } from './model.js';
import { isLastStep, stepTaskPrefix, stepView } from './steps.js';

const io = { input: 's3://bkt/in/', output: 's3://bkt/out/' };

function issues(raw: unknown): readonly string[] {
  try {
    validateManifest(raw);
  } catch (err) {
    expect(err).toBeInstanceOf(ManifestError);
    return (err as ManifestError).issues;
  }
  throw new Error(`accepted: ${JSON.stringify(raw)}`);
}

describe('manifest steps (schema)', () => {
  it('a single-step manifest is the same job as steps: [that step]', () => {
    const single = validateManifest({ ...io, mapper: 'cut -f1', reducer: 'uniq -c', combiner: 'uniq -c', numReducers: 3 });
    const multi = validateManifest({ ...io, numReducers: 3, steps: [{ mapper: 'cut -f1', reducer: 'uniq -c', combiner: 'uniq -c' }] });
    expect(single).toEqual(multi);
    expect(single.steps).toEqual([{ mapper: 'cut -f1', reducer: 'uniq -c', combiner: 'uniq -c', numReducers: 3, jobconf: {} }]);
    expect(single).not.toHaveProperty('mapper');
  });

  it('validating a normalised manifest again gives it back unchanged', () => {
    const m = validateManifest({
      ...io,
      numReducers: 2,
      jobconf: { 'mapreduce.job.reduces': '4', 'x.y': '1' },
      steps: [{ mapper: 'cat', reducer: 'sort' }, { mapper: 'cat', reducer: 'uniq', numReducers: 7 }, { mapper: 'cat', jobconf: { 'mapreduce.job.reduces': '0' } }],
    });
    expect(m.steps.map((s) => s.numReducers)).toEqual([4, 7, 0]);
    expect(validateManifest(JSON.parse(JSON.stringify(m)))).toEqual(m);
  });

  it("a step's numReducers defaults to the job's; its own jobconf wins over both", () => {
    const m = validateManifest({
      ...io,
      numReducers: 5,
      steps: [{ mapper: 'cat', reducer: 'cat' }, { mapper: 'cat', reducer: 'cat', numReducers: 2, jobconf: { 'mapreduce.job.reduces': '3' } }],
    });
    expect(m.steps.map((s) => s.numReducers)).toEqual([5, 3]);
  });

  it('exactly one of mapper or steps, 1..maxSteps steps, reducer/combiner inside steps', () => {
    expect(issues({ ...io, mapper: 'cat', steps: [{ mapper: 'cat' }] })).toEqual(['steps: give either "mapper" (a single-step job) or "steps", not both']);
    expect(issues({ ...io })).toEqual(['mapper: is required (or "steps" for a multi-step job)']);
    expect(issues({ ...io, steps: [] })).toEqual(['steps: must list at least one step']);
    const many = Array.from({ length: MANIFEST_LIMITS.maxSteps + 1 }, () => ({ mapper: 'cat' }));
    expect(issues({ ...io, steps: many })).toEqual([`steps: must list at most ${MANIFEST_LIMITS.maxSteps} steps`]);
    expect(issues({ ...io, reducer: 'cat', steps: [{ mapper: 'cat' }] })).toEqual([
      'reducer: a multi-step job gives its reducer inside each step, not at the top level (got "cat")',
    ]);
  });

  it('names the bad field of the bad step', () => {
    expect(issues({ ...io, steps: [{ mapper: 'cat' }, { mapper: 3 }] })).toEqual([
      'steps.1.mapper: expected a command line string or {"module": "file.mjs"}, got 3',
    ]);
    expect(issues({ ...io, steps: [{ mapper: 'cat', reducers: 2 }] })).toEqual([
      'steps.0: unknown field "reducers" (allowed: mapper, reducer, combiner, numReducers, jobconf)',
    ]);
    expect(issues({ ...io, steps: [{ mapper: 'cat' }, { mapper: 'cat', combiner: 'cat' }] })).toEqual([
      'steps.1.combiner: a combiner needs a reducer (got "cat")',
    ]);
    expect(issues({ ...io, steps: [{ mapper: 'cat', reducer: 'cat', jobconf: { 'mapreduce.job.reduces': 'x' } }] })[0]).toMatch(
      /^steps\.0\.jobconf: mapreduce\.job\.reduces must be a whole number/,
    );
    expect(issues({ ...io, steps: [{ mapper: 'cat', numReducers: -1 }] })).toEqual(['steps.0.numReducers: must be at least 0 (got -1)']);
  });
});

describe('stepView', () => {
  const m = validateManifest({
    ...io,
    name: 'chain',
    jobconf: { 'stream.num.map.output.key.fields': '2', 'mapreduce.map.maxattempts': '3', 'my.key': 'job' },
    numReducers: 2,
    steps: [
      { mapper: 'cat', reducer: 'uniq' },
      { mapper: 'cut -f2', jobconf: { 'stream.num.map.output.key.fields': '1', 'my.key': 'step', 'mapreduce.task.timeout': '5000' } },
      { mapper: 'cat', reducer: 'sort', numReducers: 1, jobconf: { 'mapreduce.reduce.maxattempts': '7' } },
    ],
  });

  it("a step's jobconf overrides the job-wide one for that step only, with what it controls applied", () => {
    const [a, b, c] = [stepView(m, 0), stepView(m, 1), stepView(m, 2)];
    expect(a).toMatchObject({ mapper: 'cat', reducer: 'uniq', numReducers: 2, stepIndex: 0, stepCount: 3, name: 'chain', maxAttempts: 3 });
    expect(a.jobconf['stream.num.map.output.key.fields']).toBe('2');
    expect(b.jobconf).toMatchObject({ 'stream.num.map.output.key.fields': '1', 'my.key': 'step', 'mapreduce.map.maxattempts': '3' });
    expect(b.taskTimeoutSeconds).toBe(5);
    expect(a.taskTimeoutSeconds).toBeUndefined();
    expect(c).toMatchObject({ numReducers: 1, maxAttempts: 7 });
    expect([a, b, c].map(isMapOnly)).toEqual([false, true, false]);
    expect([0, 1, 2].map((i) => isLastStep(m, i))).toEqual([false, false, true]);
    expect(() => stepView(m, 3)).toThrow(RangeError);
  });

  it('task ids never collide across steps, and one step is listed by prefix', () => {
    expect([taskId('map', 3), taskId('map', 3, 1), taskId('reduce', 0, 11)]).toEqual(['m-00003', 's2-m-00003', 's12-r-00000']);
    const ids = [0, 1, 2, 11].flatMap((s) => [taskId('map', 0, s), taskId('reduce', 0, s)]);
    expect(new Set(ids).size).toBe(ids.length);
    // The TaskStore lists a step's tasks by `TASK#<prefix><kind>-`: no other step's ids match.
    for (const s of [0, 1, 2, 11]) {
      const prefix = `${stepTaskPrefix(s)}m-`;
      expect(ids.filter((id) => id.startsWith(prefix))).toEqual([taskId('map', 0, s)]);
    }
  });
});

describe('step progress and map ids', () => {
  it('status lines name each finished step and the current one; none for a single step', async () => {
    const { stepProgressLines, isMapTaskId } = await import('./steps.js');
    const m = validateManifest({ ...io, steps: [{ mapper: 'cat' }, { mapper: 'cat' }, { mapper: 'cat' }] });
    const lines = stepProgressLines({ manifest: m, step: 1, stepsDone: [{ numMaps: 4, numReduces: 2, finishedAt: 't1' }] });
    expect(lines).toEqual(['Step 1/3: done, 4 maps, 2 reduces (finished t1)', "Step 2/3: current (the Map and Reduce lines below are this step's)"]);
    expect(stepProgressLines({ manifest: validateManifest({ ...io, mapper: 'cat' }) })).toEqual([]);
    expect(['m-00001', 's2-m-00001', 's12-m-00000', 'r-00001', 's2-r-00000'].map(isMapTaskId)).toEqual([true, true, true, false, false]);
  });

  it('the step of a task id is the one taskId() gave it', async () => {
    const { stepOfTaskId } = await import('./steps.js');
    const { taskId } = await import('./model.js');
    for (const step of [0, 1, 2, 11]) {
      for (const kind of ['map', 'reduce'] as const) expect(stepOfTaskId(taskId(kind, 7, step))).toBe(step);
    }
  });
});

describe('total order in a multi-step job', () => {
  it('is refused after the first step (no split points there)', () => {
    const to = { 'mapreduce.job.partitioner.class': 'total-order' };
    expect(() => validateManifest({ ...io, steps: [{ mapper: 'cat', reducer: 'cat', jobconf: to }, { mapper: 'cat', reducer: 'cat' }] })).not.toThrow();
    expect(issues({ ...io, steps: [{ mapper: 'cat', reducer: 'cat' }, { mapper: 'cat', reducer: 'cat', jobconf: to }] })).toEqual([
      'steps.1.jobconf: the total-order partitioner is supported in the first step only (its split points are sampled from the job input)',
    ]);
  });
});
