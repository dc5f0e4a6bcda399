import { describe, expect, it } from 'vitest';
import { hadoopTaskIds, taskEnv, type TaskFacts } from './task-env.js';

const facts: TaskFacts = {
  jobId: 'sensors-20261126',
  createdAt: '2026-11-26T13:00:00.000Z',
  kind: 'map',
  index: 3,
  attempt: 1,
  taskId: 'm-00003',
  numMaps: 8,
  numReduces: 3,
  jobconf: { 'stream.num.map.output.key.fields': '2', 'my.team-key': 'v' },
  cmdenv: { LANG: 'C', mapreduce_job_maps: 'user wins over jobconf, as -cmdenv does', MR_JOB_ID: 'ignored' },
  outputUri: 's3://out/sensors/',
  split: { bucket: 'in', key: 'data/a.txt', start: 100, end: 350 },
};

describe('hadoopTaskIds', () => {
  it("has Hadoop's shapes, attempts counted from 0, the same job part for every task", () => {
    const ids = hadoopTaskIds(facts);
    expect(ids.job).toMatch(/^job_\d{13}_\d{4}$/);
    expect(ids.task).toBe(`task_${ids.job.slice(4)}_m_000003`);
    expect(ids.attempt).toBe(`attempt_${ids.job.slice(4)}_m_000003_0`);
    expect(hadoopTaskIds({ ...facts, kind: 'reduce', index: 1, attempt: 3 }).attempt).toBe(`attempt_${ids.job.slice(4)}_r_000001_2`);
  });
});

describe('taskEnv', () => {
  it('exports jobconf keys with _ names, the Hadoop task variables, cmdenv, and our MR_* ids', () => {
    const env = taskEnv(facts);
    const ids = hadoopTaskIds(facts);
    expect(env).toMatchObject({
      stream_num_map_output_key_fields: '2',
      my_team_key: 'v',
      mapreduce_job_id: ids.job,
      mapreduce_task_id: ids.task,
      mapreduce_task_attempt_id: ids.attempt,
      mapreduce_task_partition: '3',
      mapreduce_task_ismap: 'true',
      mapreduce_job_reduces: '3',
      mapreduce_map_input_file: 's3://in/data/a.txt',
      mapreduce_map_input_start: '100',
      mapreduce_map_input_length: '250',
      mapreduce_task_output_dir: 's3://out/sensors/',
      LANG: 'C',
      mapreduce_job_maps: 'user wins over jobconf, as -cmdenv does',
      MR_JOB_ID: 'sensors-20261126',
      MR_TASK_ID: 'm-00003',
      MR_INPUT_FILE: 's3://in/data/a.txt',
    });
  });

  it('a reduce task has no map input variables and ismap false', () => {
    const env = taskEnv({ ...facts, kind: 'reduce', index: 2, taskId: 'r-00002', split: undefined });
    expect(env.mapreduce_task_ismap).toBe('false');
    expect(env.mapreduce_task_partition).toBe('2');
    expect(env.mapreduce_map_input_file).toBeUndefined();
    expect(env.mapreduce_job_maps).toBe('user wins over jobconf, as -cmdenv does');
  });
});
