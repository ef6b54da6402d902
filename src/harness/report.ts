/**
 * What a load run saw: every request's fate, the failures, and one readable timeline that puts
 * them beside the pod, endpoint and target events. Prints as text, serialises as JSON, and
 * renders as one standalone HTML page (`html()`): the request-fate timeline with failures as
 * marks on the time axis and pods and targets as lanes, in the dashboard's look.
 */
import type { TimelineEvent } from '../pods/timeline.ts';
import { escapeHtml, inlineJson, webAsset } from '../web/assets.ts';

export interface RequestFate {
  readonly id: number;
  /** The trace id Root the request carried. */
  readonly root: string;
  readonly startMs: number;
  readonly endMs: number;
  /** `ok`: 1xx–3xx; `http_error`: a 4xx/5xx answer; `connection_error`: reset, refused, closed; `timeout`. */
  readonly outcome: 'ok' | 'http_error' | 'connection_error' | 'timeout';
  readonly status?: number;
  /** The client-side error code (`ECONNRESET`, `UND_ERR_SOCKET`, …). */
  readonly errorCode?: string;
  /** Who made the response, as the load balancer recorded it. */
  readonly producedBy?: 'elb' | 'target';
  readonly elbStatus?: number;
  /** Why the ELB answered itself (`ELB_ERR_TARGET_CONNECTION_FAILED`, …). */
  readonly elbErrorCode?: string;
  readonly target?: string;
  readonly pod?: string;
  readonly podPhase?: string;
}

export class LoadReport {
  readonly startedMs: number;
  readonly endedMs: number;
  readonly fates: readonly RequestFate[];
  readonly failed: readonly RequestFate[];
  readonly timeline: readonly TimelineEvent[];

  constructor(init: { startedMs: number; endedMs: number; fates: readonly RequestFate[]; timeline: readonly TimelineEvent[] }) {
    this.startedMs = init.startedMs;
    this.endedMs = init.endedMs;
    this.fates = init.fates;
    this.failed = init.fates.filter((f) => f.outcome !== 'ok');
    this.timeline = init.timeline;
  }

  get total(): number {
    return this.fates.length;
  }

  get ok(): number {
    return this.total - this.failed.length;
  }

  /** Failures grouped by a short signature: `502 ELB`, `503 ELB`, `500 target`, `ECONNRESET` … */
  failureCounts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const f of this.failed) {
      const key = f.status !== undefined ? `${f.status} ${f.producedBy === 'elb' ? 'ELB' : f.producedBy === 'target' ? 'target' : ''}`.trim() : (f.errorCode ?? f.outcome);
      out[key] = (out[key] ?? 0) + 1;
    }
    return out;
  }

  /**
   * The timeline as text, failures marked ✗: times from the start of the load, or from the first
   * event when one came before it (a rollout started in the same millisecond), so none is negative.
   */
  format(options: { maxFailures?: number } = {}): string {
    const maxFailures = options.maxFailures ?? 40;
    const rows: Array<{ timeMs: number; text: string }> = this.timeline.map((e) => ({
      timeMs: e.timeMs,
      text: `  ${e.kind.padEnd(22)} ${e.pod ?? ''}${e.detail ? `  ${e.detail}` : ''}`,
    }));
    this.failed.slice(0, maxFailures).forEach((f) => rows.push({ timeMs: f.endMs, text: `✗ ${failureText(f)}` }));
    rows.sort((a, b) => a.timeMs - b.timeMs);
    const origin = Math.min(this.startedMs, rows[0]?.timeMs ?? this.startedMs);
    const t = (ms: number) => `t+${((ms - origin) / 1000).toFixed(3).padStart(7)}s`;
    const lines = rows.map((r) => `${t(r.timeMs)} ${r.text}`);
    if (this.failed.length > maxFailures) lines.push(`  … and ${this.failed.length - maxFailures} more failures (see the JSON report)`);
    const counts = Object.entries(this.failureCounts()).map(([k, v]) => `${v}× ${k}`).join(', ');
    lines.push(
      `${this.total} requests in ${((this.endedMs - this.startedMs) / 1000).toFixed(1)}s: ${this.ok} ok, ${this.failed.length} failed${counts ? ` (${counts})` : ''}`,
    );
    return lines.join('\n');
  }

  /**
   * The report as one self-contained HTML page (no network: the stylesheet and the lanes'
   * script are inline): the summary, the request-fate timeline (requests per bin, each failure
   * a red mark, pods and targets as lanes) and the text timeline. What `scenario rollout --html`
   * writes.
   */
  html(options: { readonly title?: string } = {}): string {
    return reportPage(options.title ?? 'local-elb load report', [{ report: this }]);
  }

  /** The data the lanes are drawn from: the timeline, each failure, and requests per bin. */
  lanesData(): { startMs: number; endMs: number; events: unknown[]; requests: Array<{ timeMs: number; ok: number; failed: number }> } {
    const spanMs = Math.max(1, this.endedMs - this.startedMs);
    const binMs = Math.max(50, Math.ceil(spanMs / 200 / 50) * 50);
    const bins = new Map<number, { timeMs: number; ok: number; failed: number }>();
    for (const f of this.fates) {
      const at = this.startedMs + Math.floor((f.endMs - this.startedMs) / binMs) * binMs;
      const bin = bins.get(at) ?? { timeMs: at, ok: 0, failed: 0 };
      if (f.outcome === 'ok') bin.ok++;
      else bin.failed++;
      bins.set(at, bin);
    }
    const events = [...this.timeline, ...this.failed.map((f) => ({ timeMs: f.endMs, kind: 'request.failed', detail: failureText(f) }))];
    return { startMs: this.startedMs, endMs: this.endedMs, events, requests: [...bins.values()].sort((a, b) => a.timeMs - b.timeMs) };
  }

  toJSON() {
    return {
      startedMs: this.startedMs,
      endedMs: this.endedMs,
      total: this.total,
      ok: this.ok,
      failed: this.failed,
      failureCounts: this.failureCounts(),
      timeline: this.timeline,
    };
  }
}

/** `request #12 502 from the ELB (ELB_ERR_TARGET_CONNECTION_FAILED) via 127.1.0.3:8080 web-r1-x [Terminating]`. */
function failureText(f: RequestFate): string {
  const what = f.status !== undefined ? `${f.status} from ${f.producedBy === 'elb' ? 'the ELB' : f.producedBy === 'target' ? 'the target' : 'the server'}` : `${f.outcome} ${f.errorCode ?? ''}`.trim();
  const why = f.elbErrorCode && f.producedBy === 'elb' ? ` (${f.elbErrorCode})` : '';
  const where = f.target ? ` via ${f.target}${f.pod ? ` ${f.pod} [${f.podPhase}]` : ''}` : '';
  return `request #${f.id} ${what}${why}${where}`;
}

/**
 * One self-contained HTML page of one or more load reports (a `scenario rollout` sweep has
 * one per combination): for each, its summary, the request-fate lanes and its text timeline;
 * `preface` (already HTML) goes first. The stylesheet and the lanes' script are inline.
 */
export function reportPage(title: string, sections: ReadonlyArray<{ readonly heading?: string; readonly report: LoadReport }>, preface = ''): string {
  const body = sections
    .map(({ heading, report }, i) => {
      const counts = Object.entries(report.failureCounts()).map(([k, v]) => `${v}× ${k}`).join(', ');
      const failed = report.failed.length;
      return `<section>
${heading !== undefined ? `<h2>${escapeHtml(heading)}</h2>` : ''}
<p><b>${report.total}</b> requests in ${((report.endedMs - report.startedMs) / 1000).toFixed(1)} s: <b>${report.ok}</b> ok, <b${failed > 0 ? ' style="color: var(--failed)"' : ''}>${failed}</b> failed${counts ? ` (${escapeHtml(counts)})` : ''}.</p>
<div class="lanes" id="lanes-${i}"></div>
<details><summary>Timeline as text</summary><pre>${escapeHtml(report.format({ maxFailures: 200 }))}</pre></details>
</section>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>${escapeHtml(title)}</title>
<style>
${webAsset('look.css')}
</style>
</head>
<body>
<main>
<h1>${escapeHtml(title)}</h1>
${preface}
<div class="legend"><span style="--c: var(--healthy)">healthy / Ready</span><span style="--c: var(--initial)">initial</span><span style="--c: var(--unhealthy)">unhealthy</span><span style="--c: var(--draining)">draining / Terminating</span><span style="--c: var(--pending)">Pending</span><span style="--c: var(--running)">Running</span><span style="--c: var(--failed)">failed request</span></div>
${body}
</main>
<script>
${webAsset('lanes.js')}
</script>
<script>
const reports = ${inlineJson(sections.map(({ report }) => report.lanesData()))};
reports.forEach((r, i) => {
  const model = LocalElbLanes.fromEvents(r.events, { startMs: r.startMs, endMs: r.endMs, requests: r.requests });
  LocalElbLanes.render(document.getElementById('lanes-' + i), model, { width: Math.max(900, document.body.clientWidth - 60) });
});
</script>
</body>
</html>
`;
}
