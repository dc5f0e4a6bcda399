/**
 * The manifest's `env` is documented as never printed: `status --json` (one job and the
 * list) and `jobs --json` show its keys with REDACTED values. Real CLI processes against
 * a job record seeded in an isolated namespace.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REDACTED } from '../../cli/redact.js';
import { newJobId } from '../../core/model.js';
import { cli, cliEnv } from '../helpers/cli.js';
import { isolatedNamespace, type Namespace } from '../helpers/emulators.js';
import { runningJob } from '../helpers/seed-records.js';

describe('CLI output redacts the manifest env', () => {
  const secret = 'sk-live-0123456789-secret';
  const jobId = newJobId();
  let ns: Namespace;
  let stateDir: string;
  let prefix: string;

  beforeAll(async () => {
    ns = await isolatedNamespace();
    prefix = ns.names.bucket.replace(/-jobs$/, '');
    stateDir = mkdtempSync(path.join(os.tmpdir(), 'mr-redact-'));
    const job = runningJob(jobId, 1, 1, Date.now());
    await ns.services(Date.now).jobs.create({ ...job, manifest: { ...job.manifest!, env: { API_TOKEN: secret, MODE: 'fast' } } });
  });
  afterAll(() => {
    ns?.close();
    rmSync(stateDir, { recursive: true, force: true });
  });

  it('status JOB --json, status --json and jobs --json show env keys with *** values', async () => {
    const env = cliEnv(stateDir);
    const runs = await Promise.all([
      cli(['status', jobId, '--prefix', prefix, '--json'], env),
      cli(['status', '--prefix', prefix, '--json'], env),
      cli(['jobs', '--prefix', prefix, '--json'], env),
    ]);
    for (const r of runs) {
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).not.toContain(secret);
    }
    const [one, list, jobs] = runs.map((r) => JSON.parse(r.stdout) as unknown);
    const expected = { API_TOKEN: REDACTED, MODE: REDACTED };
    expect((one as { manifest: { env: unknown } }).manifest.env).toEqual(expected);
    for (const l of [list, jobs] as { jobId: string; manifest: { env: unknown } }[][]) {
      expect(l.find((j) => j.jobId === jobId)?.manifest.env).toEqual(expected);
    }
  });
});
