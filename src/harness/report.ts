/**
 * What a load run saw: every request's fate, the failures, and one readable timeline that puts
 * them beside the pod, endpoint and target events. Prints as text and serialises as JSON.
 */
import type { TimelineEvent } from '../pods/timeline.ts';

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

  /** The timeline as text: times relative to the start of the load, failures marked ✗. */
  format(options: { maxFailures?: number } = {}): string {
    const maxFailures = options.maxFailures ?? 40;
    const t = (ms: number) => `t+${((ms - this.startedMs) / 1000).toFixed(3).padStart(7)}s`;
    const rows: Array<{ timeMs: number; text: string }> = this.timeline.map((e) => ({
      timeMs: e.timeMs,
      text: `  ${e.kind.padEnd(22)} ${e.pod ?? ''}${e.detail ? `  ${e.detail}` : ''}`,
    }));
    this.failed.slice(0, maxFailures).forEach((f) => {
      const what = f.status !== undefined ? `${f.status} from ${f.producedBy === 'elb' ? 'the ELB' : f.producedBy === 'target' ? 'the target' : 'the server'}` : `${f.outcome} ${f.errorCode ?? ''}`.trim();
      const why = f.elbErrorCode && f.producedBy === 'elb' ? ` (${f.elbErrorCode})` : '';
      const where = f.target ? ` via ${f.target}${f.pod ? ` ${f.pod} [${f.podPhase}]` : ''}` : '';
      rows.push({ timeMs: f.endMs, text: `✗ request #${f.id} ${what}${why}${where}` });
    });
    rows.sort((a, b) => a.timeMs - b.timeMs);
    const lines = rows.map((r) => `${t(r.timeMs)} ${r.text}`);
    if (this.failed.length > maxFailures) lines.push(`  … and ${this.failed.length - maxFailures} more failures (see the JSON report)`);
    const counts = Object.entries(this.failureCounts()).map(([k, v]) => `${v}× ${k}`).join(', ');
    lines.push(
      `${this.total} requests in ${((this.endedMs - this.startedMs) / 1000).toFixed(1)}s: ${this.ok} ok, ${this.failed.length} failed${counts ? ` (${counts})` : ''}`,
    );
    return lines.join('\n');
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
