// The request-fate timeline as lanes, drawn in the browser as SVG: one lane per pod (its
// phase: Pending, Running, Ready, Terminating) and per target (its AWS state), rollout and
// signal marks on them, and a top lane of requests with each failure as a red mark on the time
// axis. The dashboard draws it live from its event stream; a harness report (report.html())
// draws it from the report's own timeline. Plain browser JavaScript: no build step.
(function () {
  'use strict';

  const POD_STATES = {
    'pod.created': 'Pending',
    'pod.started': 'Running',
    'pod.restarted': 'Running',
    'pod.ready': 'Ready',
    'pod.deleting': 'Terminating',
  };
  const POD_MARKS = { 'pod.prestop_started': 'preStop', 'pod.sigterm': 'SIGTERM', 'pod.sigkill': 'SIGKILL', 'pod.exited': 'exited' };

  /** `127.0.0.1:3001 healthy -> draining (Target.DeregistrationInProgress)` → its parts. */
  function parseTargetDetail(detail) {
    const m = /^(\S+) (\S+) -> (\S+)(?: \(([^)]+)\))?/.exec(detail || '');
    return m ? { target: m[1], from: m[2], to: m[3], reason: m[4] } : undefined;
  }

  /**
   * Lanes from timeline events ({ timeMs, kind, pod?, detail?, target?, to?, reason? }), between
   * startMs and endMs (default: the events' span). `requests` (optional): [{ timeMs, ok, failed }] bins.
   */
  function fromEvents(events, options) {
    options = options || {};
    const sorted = [...events].sort((a, b) => a.timeMs - b.timeMs);
    const startMs = options.startMs ?? (sorted[0] ? sorted[0].timeMs : 0);
    const endMs = options.endMs ?? (sorted.length ? sorted[sorted.length - 1].timeMs : startMs + 1000);
    const lanes = new Map();
    // A lane whose first event is a change from a known state (a target `healthy -> draining`,
    // a pod turning not-ready) was in that state since the window's start.
    const lane = (name, kind, before) => {
      let l = lanes.get(name);
      if (!l) {
        l = { name, kind, segments: [], marks: [], open: before === undefined ? undefined : { state: before, fromMs: startMs } };
        lanes.set(name, l);
      }
      return l;
    };
    const enter = (l, state, timeMs, label) => {
      if (l.open && l.open.state === state) return;
      if (l.open && timeMs > l.open.fromMs) l.segments.push({ fromMs: l.open.fromMs, toMs: timeMs, state: l.open.state, label: l.open.label });
      l.open = state === undefined ? undefined : { state, fromMs: timeMs, label };
    };
    const marks = [];
    const failures = [];
    const podOfTarget = new Map();
    for (const e of sorted) {
      if (e.kind === 'request.failed') {
        failures.push({ timeMs: e.timeMs, label: e.detail || 'failed' });
        continue;
      }
      if (e.kind === 'rollout.started' || e.kind === 'rollout.finished') {
        marks.push({ timeMs: e.timeMs, label: `${e.kind === 'rollout.started' ? 'rollout' : 'rolled out'} ${e.detail || ''}`.trim() });
        continue;
      }
      if (e.kind.startsWith('pod.') && e.pod) {
        const l = lane(e.pod, 'pod', e.kind === 'pod.not_ready' || e.kind === 'pod.deleting' ? 'Ready' : undefined);
        if (e.kind in POD_STATES) enter(l, POD_STATES[e.kind], e.timeMs, e.detail);
        else if (e.kind === 'pod.not_ready') enter(l, l.open && l.open.state === 'Terminating' ? 'Terminating' : 'Running', e.timeMs);
        else if (e.kind === 'pod.terminated') enter(l, undefined, e.timeMs);
        if (e.kind in POD_MARKS) l.marks.push({ timeMs: e.timeMs, label: POD_MARKS[e.kind] + (e.detail ? ` (${e.detail})` : '') });
        continue;
      }
      if (e.kind === 'target.register' && e.detail) {
        // A pod's target registered (the timeline's detail is its `ip:port`): its lane starts here.
        if (e.pod) podOfTarget.set(e.detail, e.pod);
        enter(lane(`${e.detail}${e.pod ? ` (${e.pod})` : ''}`, 'target'), 'initial', e.timeMs, 'Elb.RegistrationInProgress');
        continue;
      }
      if (e.kind === 'target.state_changed' || e.kind === 'target.state' || e.kind === 'target.removed') {
        const parsed = e.target ? { target: e.target, from: e.from, to: e.to, reason: e.reason } : parseTargetDetail(e.detail);
        if (!parsed) continue;
        if (e.pod) podOfTarget.set(parsed.target, e.pod);
        const pod = podOfTarget.get(parsed.target);
        // (Not from `initial`: a new target's first change may come before its target.register event.)
        const before = e.kind === 'target.state_changed' && parsed.from !== 'initial' ? parsed.from : undefined;
        const l = lane(`${parsed.target}${pod ? ` (${pod})` : ''}`, 'target', before);
        if (e.kind === 'target.removed') enter(l, undefined, e.timeMs);
        else enter(l, parsed.to, e.timeMs, parsed.reason);
      }
    }
    const out = [...lanes.values()].map((l) => {
      const segments = l.open ? [...l.segments, { fromMs: l.open.fromMs, toMs: endMs, state: l.open.state, label: l.open.label }] : l.segments;
      return { name: l.name, kind: l.kind, segments: segments.filter((s) => s.toMs >= startMs), marks: l.marks };
    });
    out.sort((a, b) => (a.kind === b.kind ? 0 : a.kind === 'pod' ? -1 : 1));
    return { startMs, endMs, lanes: out, marks, failures, requests: options.requests || [] };
  }

  const NS = 'http://www.w3.org/2000/svg';
  function el(name, attrs, parent) {
    const node = document.createElementNS(NS, name);
    for (const k in attrs) node.setAttribute(k, String(attrs[k]));
    if (parent) parent.appendChild(node);
    return node;
  }
  function titled(node, text) {
    el('title', {}, node).textContent = text;
    return node;
  }

  /** A tick step (ms) that puts about `count` ticks on `spanMs`. */
  function tickStep(spanMs, count) {
    const raw = spanMs / count;
    const steps = [100, 250, 500, 1000, 2000, 5000, 10000, 15000, 30000, 60000, 120000, 300000, 600000, 1800000, 3600000];
    return steps.find((s) => s >= raw) || steps[steps.length - 1];
  }

  /** Draws `model` (fromEvents) into `container`; `zeroMs` is where t+0 is (default startMs). */
  function render(container, model, options) {
    options = options || {};
    const zeroMs = options.zeroMs ?? model.startMs;
    const width = Math.max(600, options.width || container.clientWidth || 1000);
    const labelWidth = 250;
    const laneHeight = 14;
    const gap = 5;
    const top = 22;
    const requestsHeight = 28;
    const height = top + requestsHeight + gap + model.lanes.length * (laneHeight + gap) + 6;
    const span = Math.max(1, model.endMs - model.startMs);
    const x = (t) => labelWidth + ((Math.min(Math.max(t, model.startMs), model.endMs) - model.startMs) / span) * (width - labelWidth - 10);
    const svg = el('svg', { width, height, viewBox: `0 0 ${width} ${height}`, role: 'img' });
    const step = tickStep(span, 10);
    const first = Math.ceil((model.startMs - zeroMs) / step) * step + zeroMs;
    for (let t = first; t <= model.endMs; t += step) {
      el('line', { x1: x(t), x2: x(t), y1: top - 4, y2: height, class: 'axis' }, svg);
      el('text', { x: x(t) + 2, y: top - 8, class: 'tick' }, svg).textContent = `t+${((t - zeroMs) / 1000).toFixed(step < 1000 ? 1 : 0)}s`;
    }
    // Requests: the ok rate as an area (when bins are given) and each failure as a red mark.
    const ry = top;
    el('text', { x: 4, y: ry + requestsHeight / 2 + 4, class: 'lane-name' }, svg).textContent = `requests (${model.failures.length} failed)`;
    if (model.requests.length > 1) {
      const peak = Math.max(1, ...model.requests.map((b) => b.ok + b.failed));
      let d = `M ${x(model.requests[0].timeMs)} ${ry + requestsHeight}`;
      for (const b of model.requests) d += ` L ${x(b.timeMs)} ${ry + requestsHeight - (b.ok / peak) * requestsHeight}`;
      d += ` L ${x(model.requests[model.requests.length - 1].timeMs)} ${ry + requestsHeight} Z`;
      el('path', { d, class: 'ok-rate' }, svg);
    }
    for (const f of model.failures) {
      titled(el('line', { x1: x(f.timeMs), x2: x(f.timeMs), y1: ry, y2: ry + requestsHeight, class: 'fail', 'data-failure': '' }, svg), `t+${((f.timeMs - zeroMs) / 1000).toFixed(3)}s ${f.label}`);
    }
    for (const m of model.marks) {
      titled(el('line', { x1: x(m.timeMs), x2: x(m.timeMs), y1: top - 4, y2: height, class: 'mark', 'stroke-dasharray': '3 3' }, svg), `t+${((m.timeMs - zeroMs) / 1000).toFixed(3)}s ${m.label}`);
    }
    model.lanes.forEach((l, i) => {
      const y = top + requestsHeight + gap + i * (laneHeight + gap);
      const name = l.name.length > 38 ? `${l.name.slice(0, 37)}…` : l.name;
      titled(el('text', { x: 4, y: y + laneHeight - 3, class: 'lane-name' }, svg), l.name).textContent = name;
      const g = el('g', { 'data-lane': l.name, 'data-kind': l.kind }, svg);
      for (const s of l.segments) {
        const x1 = x(s.fromMs);
        const w = Math.max(1, x(s.toMs) - x1);
        titled(el('rect', { x: x1, y, width: w, height: laneHeight, rx: 2, class: `seg-${s.state}`, 'data-state': s.state }, g), `${l.name}: ${s.state}${s.label ? ` (${s.label})` : ''} from t+${((s.fromMs - zeroMs) / 1000).toFixed(3)}s for ${((s.toMs - s.fromMs) / 1000).toFixed(3)}s`);
      }
      for (const m of l.marks) {
        titled(el('line', { x1: x(m.timeMs), x2: x(m.timeMs), y1: y - 2, y2: y + laneHeight + 2, class: 'mark' }, g), `t+${((m.timeMs - zeroMs) / 1000).toFixed(3)}s ${m.label}`);
      }
    });
    container.replaceChildren(svg);
  }

  const api = { fromEvents, render, parseTargetDetail };
  if (typeof window !== 'undefined') window.LocalElbLanes = api;
  if (typeof module !== 'undefined') module.exports = api;
})();
