/**
 * The job report as one self-contained HTML file: the Vega-Lite specs are compiled
 * to Vega here (so the page needs no Vega-Lite compiler), and the Vega runtime and
 * vega-embed are inlined from node_modules: no CDN, works offline.
 */
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { compile, type TopLevelSpec } from 'vega-lite';
import { COST_SERVICES, formatUsd } from '../core/cost.js';
import type { JobReport } from '../core/job-report.js';
import { costSpec, histogramSpec, throughputSpec, timelineSpec } from './report-specs.js';

/** A package's file next to the module its `exports` map resolves to. */
function packageBuildFile(pkg: string, file: string): string {
  return path.join(path.dirname(fileURLToPath(import.meta.resolve(pkg))), file);
}

/** The browser builds, read once. `</script` inside them would end the inline script early. */
async function runtime(): Promise<string> {
  const files = [packageBuildFile('vega', 'vega.min.js'), packageBuildFile('vega-embed', 'vega-embed.min.js')];
  const sources = await Promise.all(files.map((f) => readFile(f, 'utf8')));
  return sources.map((s) => `<script>${s.replace(/<\/script/gi, '<\\/script')}</script>`).join('\n');
}

const esc = (s: string) =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

/** JSON safe inside a <script> element. */
const scriptJson = (x: unknown) => JSON.stringify(x).replace(/</g, '\\u003c');

const CHARTS = {
  timeline: timelineSpec,
  durations: histogramSpec,
  throughput: throughputSpec,
  cost: costSpec,
} as const;

function summary(r: JobReport): string {
  const j = r.job;
  const rows: [string, string][] = [
    ['Job', `${j.jobId}${j.manifest?.name ? ` (${j.manifest.name})` : ''}`],
    ['Status', `${j.status}${j.reason ? `: ${j.reason}` : ''}`],
    ['Tasks', `${j.mapsCommitted}/${j.numMaps} maps, ${j.reducesCommitted}/${j.numReduces} reduces committed`],
    ['Attempts', `${r.attempts.length} on ${r.workers.length} worker${r.workers.length === 1 ? '' : 's'}`],
    ['Input', `${j.inputBytes} bytes`],
    ['Created', `${j.createdAt}${j.finishedAt ? `, finished ${j.finishedAt}` : ' (still running)'}`],
    ['Modeled cost', `≈ ${formatUsd(r.cost.totalUsd)} on AWS`],
  ];
  return `<table class="kv">${rows.map(([k, v]) => `<tr><th>${esc(k)}</th><td>${esc(v)}</td></tr>`).join('')}</table>`;
}

function costTable(r: JobReport): string {
  const u = r.cost.usage;
  const detail: Record<string, string> = {
    fargate_on_demand: `${u.onDemandWorkerSeconds.toFixed(1)} worker-s (${u.workerVcpu} vCPU, ${u.workerGb} GB)`,
    fargate_spot: `${u.spotWorkerSeconds.toFixed(1)} worker-s`,
    s3_requests: `${Math.round(u.requests.s3Get)} GET-class, ${Math.round(u.requests.s3Put)} PUT-class`,
    s3_storage: `${(u.storageGbMonths * 30).toFixed(4)} GB-days`,
    sqs: `${Math.round(u.requests.sqs)} requests`,
    dynamodb: `${Math.round(u.requests.ddbWriteUnits)} WRU, ${Math.round(u.requests.ddbReadUnits)} RRU`,
    lambda: `${u.lambdaRequests} invocations, ${u.lambdaGbSeconds.toFixed(1)} GB-s`,
  };
  const rows = COST_SERVICES.map(
    (s) => `<tr data-service="${s}"><td>${s}</td><td class="num">${r.cost.usd[s].toFixed(8)}</td><td>${esc(detail[s] ?? '')}</td></tr>`,
  ).join('');
  const note =
    r.cost.estimatedAttempts > 0
      ? `<p class="note">${r.cost.estimatedAttempts} attempt(s) have no recorded request counts; their data-path requests are assumed.</p>`
      : '';
  return `<table id="cost-table"><thead><tr><th>service</th><th>USD</th><th>usage</th></tr></thead><tbody>${rows}</tbody>
<tfoot><tr><th>total</th><td class="num" id="cost-total">${r.cost.totalUsd.toFixed(8)}</td><td></td></tr></tfoot></table>${note}`;
}

function counters(r: JobReport): string {
  if (r.counterGroups.length === 0) return '<p>No counters.</p>';
  return counterTables(r.counterGroups);
}

/** One table per counter group. */
function counterTables(groups: JobReport['counterGroups']): string {
  return groups
    .map(
      (g) =>
        `<table class="counters" data-group="${esc(g.group)}"><caption>${esc(g.group)}</caption>${g.counters
          .map((c) => `<tr><td>${esc(c.name)}</td><td class="num">${c.value}</td></tr>`)
          .join('')}</table>`,
    )
    .join('\n');
}

/** A multi-step job's steps: one row each (progress, time span, attempts), then each step's counters. */
function steps(r: JobReport): string {
  if (r.steps.length <= 1) return '';
  const n = (x: number | undefined, digits = 0) => (x === undefined ? '-' : x.toFixed(digits));
  const rows = r.steps
    .map(
      (s) => `<tr data-step="${s.step}" data-state="${s.state}"><td>${s.step}</td><td>${esc(s.state)}</td>
<td class="num">${s.numMaps === undefined ? '-' : `${s.mapsCommitted}/${s.numMaps}`}</td>
<td class="num">${s.numReduces === undefined ? '-' : `${s.reducesCommitted}/${s.numReduces}`}</td>
<td class="num">${n(s.start, 1)}</td><td class="num">${n(s.seconds, 1)}</td>
<td class="num">${s.attempts}${s.failedAttempts > 0 ? ` (${s.failedAttempts} failed)` : ''}</td>
<td><code>${esc(s.mapper)}</code>${s.reducer ? ` | <code>${esc(s.reducer)}</code>` : ' (map-only)'}</td></tr>`,
    )
    .join('');
  const counters = r.steps
    .filter((s) => s.counterGroups !== undefined && s.counterGroups.length > 0)
    .map(
      (s) => `<div class="step-counters" data-step="${s.step}"><h3>Step ${s.step} counters</h3>${counterTables(s.counterGroups!)}</div>`,
    )
    .join('\n');
  return `<h2>Steps</h2><div id="steps"><table id="steps-table"><thead><tr><th>step</th><th>state</th><th>maps</th><th>reduces</th>
<th>start (s)</th><th>seconds</th><th>attempts</th><th>runs</th></tr></thead><tbody>${rows}</tbody></table>
<p class="note">A step runs from the end of the step before it (the job's creation for the first) to its own end;
its counters are the job's counters over that span.</p>${counters}</div>`;
}

function failures(r: JobReport): string {
  if (r.failures.length === 0) return '<p id="no-failures">No failed attempts.</p>';
  return r.failures
    .map(
      (f) => `<div class="failure" data-task="${esc(f.taskId)}" data-attempt="${f.attempt}">
<h3>${esc(f.taskId)} attempt ${f.attempt} on ${esc(f.worker)}: ${esc(f.outcome)}</h3>
<p>${esc(f.reason)}</p>${f.stderrTail ? `<pre>${esc(f.stderrTail)}</pre>` : ''}</div>`,
    )
    .join('\n');
}

const STYLE = `body{font:14px system-ui,sans-serif;margin:24px;color:#222;max-width:1100px}
h1{font-size:20px}h2{font-size:16px;margin-top:28px;border-bottom:1px solid #ddd}
table{border-collapse:collapse;margin:6px 16px 6px 0}td,th{padding:2px 8px;text-align:left;border-bottom:1px solid #eee}
.num{text-align:right;font-variant-numeric:tabular-nums}.counters{display:inline-table;vertical-align:top}
caption{font-weight:600;text-align:left}pre{background:#f6f6f6;padding:8px;overflow:auto;max-height:300px}
.note{color:#666}.failure h3{font-size:14px;margin-bottom:0}`;

/** The report page. */
export async function renderReportHtml(r: JobReport): Promise<string> {
  const specs = Object.fromEntries(
    Object.entries(CHARTS).map(([id, make]) => [id, compile(make(r) as unknown as TopLevelSpec).spec]),
  );
  const title = `Job ${r.job.jobId}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(title)} report</title><style>${STYLE}</style></head>
<body data-rendered="false">
<h1>${esc(title)}</h1>
${summary(r)}
<h2>Timeline</h2><div id="timeline"></div>
<h2>Attempt durations</h2><div id="durations"></div>
<h2>Throughput</h2><div id="throughput"></div>
${steps(r)}
<h2>Counters</h2><div id="counters">${counters(r)}</div>
<h2>Failed attempts</h2><div id="failures">${failures(r)}</div>
<h2>Modeled AWS cost</h2>
<p class="note">Priced with us-east-1 list prices from the job's recorded request counts and attempt times;
workers placed as the stack's defaults (one on demand, the rest on Fargate Spot). Free tiers ignored.</p>
<div id="cost">${costTable(r)}<div id="cost-chart"></div></div>
<p class="note">Generated ${esc(r.generatedAt)} by mapreduce report.</p>
${await runtime()}
<script type="application/json" id="specs">${scriptJson(specs)}</script>
<script>
const specs = JSON.parse(document.getElementById('specs').textContent);
const opts = { mode: 'vega', renderer: 'svg', actions: { export: true, source: false, compiled: false, editor: false } };
const target = { timeline: '#timeline', durations: '#durations', throughput: '#throughput', cost: '#cost-chart' };
Promise.all(Object.entries(specs).map(([id, spec]) => vegaEmbed(target[id], spec, opts)))
  .then(() => { document.body.dataset.rendered = 'true'; })
  .catch((err) => { document.body.dataset.rendered = 'error'; document.body.insertAdjacentText('afterbegin', String(err)); });
</script>
</body></html>
`;
}
