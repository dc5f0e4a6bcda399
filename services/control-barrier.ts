/**
 * Test hook (integration tests only) for killing the control plane at a known instant:
 * `MR_TEST_CONTROL_BARRIER=<point>@<directory>`. A process that reaches `point` writes
 * its pid to `<directory>/<point>.<pid>` and waits there (at most CONTROL_BARRIER_WAIT_MS,
 * then carries on, so a forgotten barrier never hangs a job), for the test to SIGKILL
 * the local stack. Unset, it costs one environment read.
 *
 *   planning      task records written, job still CREATING, no map task sent (plan-writer.ts)
 *   phase-change  MAP → REDUCE written, no reduce task sent yet (phases.ts)
 *   release       reduces released early (slow-start) written, no reduce task sent yet (phases.ts)
 *   finishing     FINALIZING written, parts copied, no `_SUCCESS` yet (phases.ts)
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';

export const CONTROL_BARRIER_ENV = 'MR_TEST_CONTROL_BARRIER';
export const CONTROL_BARRIER_WAIT_MS = 120_000;
export const CONTROL_POINTS = ['planning', 'phase-change', 'release', 'finishing'] as const;
export type ControlPoint = (typeof CONTROL_POINTS)[number];

/** Pause at `point` when the test hook names it; a no-op otherwise. */
export async function controlBarrier(point: ControlPoint, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  const spec = env[CONTROL_BARRIER_ENV];
  if (!spec) return;
  const at = spec.indexOf('@');
  if (at < 0 || spec.slice(0, at) !== point) return;
  writeFileSync(path.join(spec.slice(at + 1), `${point}.${process.pid}`), String(process.pid));
  await new Promise((r) => setTimeout(r, CONTROL_BARRIER_WAIT_MS));
}
