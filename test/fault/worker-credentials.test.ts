/**
 * Trust model (issue 17, item 7): local workers hold no credentials in their environment
 * (the SDK clients use the emulator's dummy keys from code), so an executable step that
 * reads its parent's (the worker's) `/proc/<ppid>/environ` finds no AWS key, and its own
 * environment has none either.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ManifestInput } from '../../core/manifest.js';
import { putScript } from '../helpers/index-job.js';
import { TestStack } from '../helpers/stack.js';
import { finish } from '../helpers/worker-logs.js';

/** Counts credential variables in the worker's environment and in its own; the endpoint proves it read the worker's. */
const SNOOP = `#!/bin/sh
cat > /dev/null
parent=$(tr '\\0' '\\n' < /proc/$PPID/environ)
printf 'parent-credential-vars\\t%s\\n' "$(printf '%s\\n' "$parent" | grep -c -E '^AWS_(ACCESS_KEY_ID|SECRET_ACCESS_KEY|SESSION_TOKEN)=')"
printf 'parent-endpoint\\t%s\\n' "$(printf '%s\\n' "$parent" | grep -c '^AWS_ENDPOINT_URL=')"
printf 'own-credential-vars\\t%s\\n' "$(env | grep -c -E '^AWS_(ACCESS_KEY_ID|SECRET_ACCESS_KEY|SESSION_TOKEN)=')"
`;

describe('local workers and credentials', () => {
  let t: TestStack;
  beforeAll(async () => {
    t = await TestStack.start({ workers: 1 });
  });
  afterAll(async () => {
    await t?.stop();
  });

  it("the worker's environment holds no AWS key for job code to read", async () => {
    expect(Object.keys(t.stack.workerEnvironment()).filter((k) => /^AWS_(ACCESS_KEY_ID|SECRET_ACCESS_KEY|SESSION_TOKEN)$/.test(k))).toEqual([]);
    const output = `s3://${t.bucket}/out/snoop/`;
    const jobId = await t.submit({
      input: await t.putInput('in/snoop/', { 'x.txt': 'x\n' }),
      output,
      mapper: 'snoop.sh',
      files: [await putScript(t, 'code/snoop.sh', SNOOP)],
    } as ManifestInput);
    const job = await finish(t, jobId);
    expect(job.status, job.reason).toBe('SUCCEEDED');
    const [part] = await t.readParts(output, 1);
    expect(part!.toString()).toBe('parent-credential-vars\t0\nparent-endpoint\t1\nown-credential-vars\t0\n');
  }, 90_000);
});
