/**
 * A load report as one standalone HTML page (`report.html()`, `scenario rollout --html`): the
 * summary, the request-fate data with every failure and the pod and target events, the lanes'
 * script and the shared stylesheet inline, and nothing fetched from elsewhere.
 */
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from 'vitest';
import { LoadReport, type RequestFate } from '../../../src/harness/report.ts';
import { sweepHtml } from '../../../src/harness/scenario.ts';
import { webAsset } from '../../../src/web/assets.ts';

const fate = (id: number, endMs: number, extra: Partial<RequestFate> = {}): RequestFate => ({ id, root: `r${id}`, startMs: endMs - 5, endMs, outcome: 'ok', status: 200, ...extra });

function report(): LoadReport {
  return new LoadReport({
    startedMs: 1000,
    endedMs: 3000,
    fates: [
      fate(0, 1100),
      fate(1, 1500, { outcome: 'http_error', status: 502, producedBy: 'elb', elbErrorCode: 'ELB_ERR_TARGET_CONNECTION_FAILED', target: '127.1.0.1:8080', pod: 'web-r1-abcde', podPhase: 'Terminating' }),
      fate(2, 2500),
    ],
    timeline: [
      { timeMs: 1200, kind: 'pod.deleting', pod: 'web-r1-abcde', detail: 'grace period 30s' },
      { timeMs: 1400, kind: 'target.state_changed', pod: 'web-r1-abcde', detail: '127.1.0.1:8080 healthy -> draining (Target.DeregistrationInProgress)' },
    ],
  });
}

/** The JSON the page draws from. */
function pageData(html: string): Array<{ events: Array<{ kind: string; detail?: string }>; requests: Array<{ ok: number; failed: number }> }> {
  return JSON.parse(/const reports = (.*);\n/.exec(html)![1]!);
}

describe('LoadReport.html()', () => {
  it('is one self-contained page: summary, lanes data with the failure and the events, the lanes script and the stylesheet inline', () => {
    const html = report().html({ title: 'rollout of web' });
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('<title>rollout of web</title>');
    expect(html).toContain('<b>3</b> requests in 2.0 s: <b>2</b> ok');
    expect(html).toContain('1× 502 ELB');
    expect(html).toContain('window.LocalElbLanes = api');
    expect(html).toContain('--healthy: #1a7f37');
    expect(html).not.toMatch(/<(script|link)[^>]+(src|href)=/); // nothing fetched
    const [data] = pageData(html);
    expect(data!.events.map((e) => e.kind)).toEqual(['pod.deleting', 'target.state_changed', 'request.failed']);
    expect(data!.events[2]!.detail).toBe('request #1 502 from the ELB (ELB_ERR_TARGET_CONNECTION_FAILED) via 127.1.0.1:8080 web-r1-abcde [Terminating]');
    expect(data!.requests.reduce((n, b) => n + b.ok, 0)).toBe(2);
    expect(data!.requests.reduce((n, b) => n + b.failed, 0)).toBe(1);
  });

  it('escapes what it shows: a detail cannot end the inline script', () => {
    const r = new LoadReport({ startedMs: 0, endedMs: 10, fates: [], timeline: [{ timeMs: 1, kind: 'pod.exited', pod: 'p', detail: '</script><script>alert(1)</script>' }] });
    const html = r.html();
    expect(html).not.toContain('</script><script>alert(1)');
    expect(pageData(html)[0]!.events[0]!.detail).toBe('</script><script>alert(1)</script>');
  });

  it('puts a scenario sweep on one page: the table, then one section of lanes per run', () => {
    const scenario = { command: ['node', 'app.mjs'], replicas: 2, rps: 100, preStopSeconds: 0, propagationSeconds: 1, gracePeriodSeconds: 10 };
    const html = sweepHtml([
      { scenario, report: report(), rolloutSeconds: 1.2 },
      { scenario: { ...scenario, preStopSeconds: 2 }, report: report(), rolloutSeconds: 4.8 },
    ]);
    expect(html).toContain('preStop  propagation  grace');
    expect(html).toContain('<h2>preStop 0s, propagation 1s, grace 10s: 1 failed, rollout 1.2s</h2>');
    expect(html).toContain('id="lanes-1"');
    expect(pageData(html)).toHaveLength(2);
  });
});

describe('the lanes (src/web/lanes.js, run here as the browser runs it)', () => {
  const window: { LocalElbLanes?: { fromEvents(events: unknown[], options: object): { lanes: Array<{ name: string; kind: string; segments: Array<{ fromMs: number; toMs: number; state: string }> }>; failures: unknown[] } } } = {};
  runInNewContext(webAsset('lanes.js'), { window });
  const lanes = window.LocalElbLanes!;

  it('draws a pod’s phases, a target from its registration, and a target already in a state before the window from its start', () => {
    const model = lanes.fromEvents(
      [
        { timeMs: 100, kind: 'pod.created', pod: 'web-r2-a' },
        { timeMs: 150, kind: 'pod.started', pod: 'web-r2-a' },
        { timeMs: 300, kind: 'pod.ready', pod: 'web-r2-a' },
        { timeMs: 350, kind: 'target.register', pod: 'web-r2-a', detail: '127.1.0.2:8080' },
        { timeMs: 400, kind: 'target.state_changed', pod: 'web-r2-a', detail: '127.1.0.2:8080 initial -> healthy' },
        { timeMs: 500, kind: 'pod.deleting', pod: 'web-r1-b' }, // the order Pod records them in
        { timeMs: 500, kind: 'pod.not_ready', pod: 'web-r1-b' },
        { timeMs: 700, kind: 'pod.terminated', pod: 'web-r1-b' },
        { timeMs: 600, kind: 'target.state_changed', pod: 'web-r1-b', detail: '127.1.0.1:8080 healthy -> draining (Target.DeregistrationInProgress)' },
        { timeMs: 650, kind: 'request.failed', detail: 'request #3 502 from the ELB' },
      ],
      { startMs: 0, endMs: 1000 },
    );
    const byName = Object.fromEntries(model.lanes.map((l) => [l.name, l.segments.map((s) => [s.state, s.fromMs, s.toMs])]));
    expect(byName['web-r2-a']).toEqual([['Pending', 100, 150], ['Running', 150, 300], ['Ready', 300, 1000]]);
    expect(byName['web-r1-b']).toEqual([['Ready', 0, 500], ['Terminating', 500, 700]]);
    expect(byName['127.1.0.2:8080 (web-r2-a)']).toEqual([['initial', 350, 400], ['healthy', 400, 1000]]);
    expect(byName['127.1.0.1:8080 (web-r1-b)']).toEqual([['healthy', 0, 600], ['draining', 600, 1000]]);
    expect(model.lanes.map((l) => l.kind)).toEqual(['pod', 'pod', 'target', 'target']);
    expect(model.failures).toEqual([{ timeMs: 650, label: 'request #3 502 from the ELB' }]);
  });
});
