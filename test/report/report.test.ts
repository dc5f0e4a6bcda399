/**
 * A real job's report, rendered in headless Chromium: word count over examples/data on
 * the emulator, `mapreduce report` as users run it, then the page's DOM is checked
 * against the job's task records (read independently of the report code).
 */
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COST_SERVICES, costLine } from '../../core/cost.js';
import { MARKS } from '../../cli/report-specs.js';
import { cli, cliEnv } from '../helpers/cli.js';
import { runJob, WC_MAP, WC_REDUCE } from '../helpers/pipeline.js';
import { example, TestStack } from '../helpers/stack.js';
import { launchChromium } from './browser.js';

const data = example('data');
const files = Object.fromEntries(readdirSync(data).map((f) => [f, readFileSync(path.join(data, f))]));

describe('mapreduce report', () => {
  let t: TestStack;
  let dir: string;
  let browser: Browser | undefined;
  let skipReason: string | undefined;
  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'mr-report-'));
    const launched = await launchChromium();
    if (typeof launched === 'string') skipReason = launched;
    else browser = launched;
    t = await TestStack.start({ workers: 2 });
  });
  afterAll(async () => {
    await browser?.close();
    await t?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('renders a word-count job: a bar per attempt, a row per worker, phase boundaries, the cost breakdown', async (ctx) => {
    // The example word count, with the first attempt of map task 0 failing on purpose.
    const flaky = path.join(dir, 'flaky_wc_map.sh');
    writeFileSync(
      flaky,
      '#!/bin/sh\nif [ "$mapreduce_task_partition" = 0 ] && [ "$MR_ATTEMPT" = 1 ]; then\n' +
        '  echo "flaky failure on purpose" >&2; exit 3\nfi\nexec sh ./wc_map.sh\n',
    );
    chmodSync(flaky, 0o755);
    const run = await runJob(t, {
      name: 'wc-report',
      files,
      mapper: 'flaky_wc_map.sh',
      reducer: 'wc_reduce.sh',
      ship: [flaky, WC_MAP, WC_REDUCE],
      extra: { numMappers: 4, numReducers: 2 },
    });
    const tasks = await t.s.tasks.list(run.jobId);
    // Each claim is one attempt; the workers are the ones that held an attempt (current owner or history).
    const attempts = tasks.reduce((n, x) => n + x.attempt, 0);
    const workers = [...new Set(tasks.flatMap((x) => [x.owner, ...(x.history ?? []).map((h) => h.worker)]))].sort();
    expect(tasks.length).toBe(run.job.numMaps + 2);
    expect(tasks.find((x) => x.taskId === 'm-00000')?.attempt).toBe(2);

    const out = path.join(dir, 'report.html');
    const r = await cli(['report', run.jobId, '--out', out, '--prefix', t.stack.options.prefix], cliEnv(path.join(dir, 'state')));
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout.trim()).toBe(out);
    const html = readFileSync(out, 'utf8');
    expect(html).not.toMatch(/<script[^>]+src=|<link[^>]+href=["']?https?:/i); // self-contained
    console.log(`[report] ${out}: ${statSync(out).size} bytes, ${attempts} attempts on ${workers.length} workers`);
    // `status` ends with the same modeled cost as the report's total.
    const status = await cli(['status', run.jobId, '--prefix', t.stack.options.prefix], cliEnv(path.join(dir, 'state')));
    expect(status.code, status.stderr).toBe(0);
    const reportTotal = Number(/id="cost-total">([0-9.]+)</.exec(html)?.[1]);
    expect(status.stdout.trimEnd().split('\n').at(-1)).toBe(costLine(reportTotal));

    if (!browser) {
      console.log(`[report] SKIPPED the browser check: ${skipReason}`);
      ctx.skip();
      return;
    }
    const page = await browser.newPage({ viewport: { width: 1150, height: 900 } });
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    page.on('request', (req) => {
      if (!req.url().startsWith('file:') && !req.url().startsWith('data:')) errors.push(`network request ${req.url()}`);
    });
    await page.goto(`file://${out}`);
    await page.waitForSelector('body[data-rendered="true"]', { timeout: 30_000 });
    expect(errors).toEqual([]);
    const shot = path.resolve('test-results', 'report.png');
    mkdirSync(path.dirname(shot), { recursive: true });
    await page.screenshot({ path: shot, fullPage: true });
    expect(statSync(shot).size).toBeGreaterThan(10_000);

    const count = (sel: string) => page.locator(sel).count();
    expect(await count(`g.${MARKS.attempts}_marks > path`)).toBe(attempts);
    const rows = await page.locator(`g.${MARKS.workerLabels}_marks > text`).allTextContents();
    expect(rows.sort()).toEqual(workers);
    // job start, maps done, reduce start, job succeeded
    expect(await count(`g.${MARKS.boundaries}_marks > line`)).toBe(4);
    const services = await page.locator('#cost-table tbody tr').evaluateAll((trs: { getAttribute(name: string): string | null }[]) =>
      trs.map((tr) => tr.getAttribute('data-service')),
    );
    expect(services).toEqual([...COST_SERVICES]);
    const usd = await page.locator('#cost-table tbody td.num').allTextContents();
    const total = Number(await page.locator('#cost-total').textContent());
    expect(total).toBeGreaterThan(0);
    expect(total).toBeCloseTo(usd.reduce((n, x) => n + Number(x), 0), 6);
    expect(await count(`g.${MARKS.cost}_marks > path`)).toBe(COST_SERVICES.length);
    expect(await page.locator('#counters caption').allTextContents()).toContain('Map-Reduce Framework');
    // The failed attempt: its reason and the tail of its stderr.
    const failure = page.locator('.failure[data-task="m-00000"][data-attempt="1"]');
    expect(await failure.count()).toBe(1);
    expect(await failure.locator('pre').textContent()).toContain('flaky failure on purpose');
    await page.close();
  });
});
