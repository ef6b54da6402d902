// local-elb's live dashboard, in the browser: one EventSource on /v1/events (a snapshot,
// then deltas; EventSource reconnects by itself and the server resumes from the last event
// id), a map of entities kept like the server's, and views drawn from it. Charts are uPlot;
// countdowns tick here from the server's times, so no request is made to keep them moving.
// Buttons call the admin API's own routes with the page's CSRF token. Plain browser
// JavaScript: no build step.
(function () {
  'use strict';

  const token = document.querySelector('meta[name="csrf-token"]').content;
  const entities = new Map();
  let samples = [];
  let events = [];
  let seq = -1;
  /** Date.now() minus the server clock, from the last message. */
  let offsetMs = 0;
  const serverNow = () => Date.now() - offsetMs;
  const $ = (id) => document.getElementById(id);

  const KEEP_SAMPLES = 300;
  const KEEP_EVENTS = 1000;
  const SPARK_SAMPLES = 120;
  const LANES_WINDOW_MS = 5 * 60 * 1000;

  // ---------------------------------------------------------------- the stream
  let source;
  function connect() {
    source = new EventSource('/v1/events');
    source.addEventListener('open', () => setConn(true));
    source.addEventListener('error', () => setConn(false));
    source.addEventListener('snapshot', (e) => {
      const m = JSON.parse(e.data);
      entities.clear();
      for (const [k, v] of Object.entries(m.entities)) entities.set(k, v);
      samples = m.samples.slice(-KEEP_SAMPLES);
      events = m.events.slice(-KEEP_EVENTS);
      seq = m.seq;
      offsetMs = Date.now() - m.nowMs;
      changed(true);
    });
    source.addEventListener('delta', (e) => {
      const m = JSON.parse(e.data);
      if (m.seq <= seq) return;
      for (const [k, v] of Object.entries(m.set)) entities.set(k, v);
      for (const k of m.del) entities.delete(k);
      if (m.events.length) events = events.concat(m.events).slice(-KEEP_EVENTS);
      if (m.sample) samples = samples.concat([m.sample]).slice(-KEEP_SAMPLES);
      seq = m.seq;
      offsetMs = Date.now() - m.nowMs;
      changed(m.events.length > 0);
    });
  }
  function setConn(live) {
    const el = $('conn');
    el.className = `conn ${live ? 'live' : 'down'}`;
    el.textContent = live ? '● live' : '○ reconnecting…';
    document.body.dataset.connected = String(live);
  }

  let pending = false;
  let eventsChanged = false;
  function changed(withEvents) {
    eventsChanged = eventsChanged || withEvents;
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => {
      pending = false;
      render();
    });
  }

  // ---------------------------------------------------------------- helpers
  function esc(s) {
    return String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
  }
  function of(kind) {
    const out = [];
    for (const [k, v] of entities) if (k.startsWith(`${kind}:`)) out.push(v);
    return out;
  }
  function duration(ms) {
    if (!(ms >= 0)) ms = 0;
    const s = ms / 1000;
    if (s < 60) return `${s.toFixed(1)}s`;
    const m = Math.floor(s / 60);
    if (m < 60) return `${m}m ${String(Math.floor(s % 60)).padStart(2, '0')}s`;
    return `${Math.floor(m / 60)}h ${String(m % 60).padStart(2, '0')}m`;
  }
  /** A span the ticker keeps counting down to `untilMs` (server clock). */
  function countdown(label, untilMs) {
    return `<span class="countdown" data-until="${untilMs}" data-label="${esc(label)}">${esc(label)} ${duration(untilMs - serverNow())}</span>`;
  }
  function since(sinceMs) {
    return `<span class="countdown" data-since="${sinceMs}">${duration(serverNow() - sinceMs)}</span>`;
  }
  function keyed(container, selector, key, create) {
    let el = container.querySelector(`${selector}[data-key="${CSS.escape(key)}"]`);
    if (!el) {
      el = create();
      el.dataset.key = key;
      container.appendChild(el);
    }
    return el;
  }
  function prune(container, selector, keep) {
    for (const el of [...container.querySelectorAll(selector)]) if (!keep.has(el.dataset.key)) el.remove();
  }

  // ---------------------------------------------------------------- load balancers
  const charts = new Map();
  const STATUS_SERIES = [
    { key: 'target2xx', label: 'target 2XX', stroke: '#1a7f37' },
    { key: 'target3xx', label: 'target 3XX', stroke: '#0969da' },
    { key: 'target4xx', label: 'target 4XX', stroke: '#bf8700' },
    { key: 'target5xx', label: 'target 5XX', stroke: '#cf222e' },
    { key: 'elb4xx', label: 'ELB 4XX', stroke: '#8250df' },
    { key: 'elb5xx', label: 'ELB 5XX', stroke: '#a40e26' },
  ];
  function chartFor(lbName, el) {
    let c = charts.get(lbName);
    if (c || typeof uPlot === 'undefined') return c;
    const width = 520;
    const statusEl = document.createElement('div');
    statusEl.className = 'chart';
    statusEl.innerHTML = '<div class="caption">requests/s by status class</div>';
    const latencyEl = document.createElement('div');
    latencyEl.className = 'chart';
    latencyEl.innerHTML = '<div class="caption">TargetResponseTime (ms)</div>';
    el.append(statusEl, latencyEl);
    const empty = (n) => Array.from({ length: n + 1 }, () => []);
    const status = new uPlot(
      { width, height: 180, scales: { x: { time: true } }, series: [{}, ...STATUS_SERIES.map((s) => ({ label: s.label, stroke: s.stroke, width: 1.5, points: { show: false } }))], axes: [{}, { size: 56 }] },
      empty(STATUS_SERIES.length),
      statusEl,
    );
    const latency = new uPlot(
      { width, height: 180, scales: { x: { time: true } }, series: [{}, { label: 'p50', stroke: '#0969da', width: 1.5, points: { show: false } }, { label: 'p99', stroke: '#cf222e', width: 1.5, points: { show: false } }], axes: [{}, { size: 56 }] },
      empty(2),
      latencyEl,
    );
    c = { status, latency };
    charts.set(lbName, c);
    return c;
  }
  function renderLoadBalancers() {
    const root = $('lbs');
    const lbs = of('lb').sort((a, b) => a.name.localeCompare(b.name));
    for (const lb of lbs) {
      const card = keyed(root, '.card', lb.name, () => {
        const d = document.createElement('div');
        d.className = 'card';
        d.dataset.lb = lb.name;
        d.innerHTML = '<div class="title"></div><div class="listeners"></div><div class="charts"></div>';
        return d;
      });
      const json = JSON.stringify(lb);
      if (card.dataset.json !== json) {
        card.dataset.json = json;
        card.querySelector('.title').innerHTML = `<b>${esc(lb.name)}</b><span class="badge info">${lb.type === 'network' ? 'NLB' : 'ALB'}</span><span class="muted">target groups: ${esc(lb.targetGroupNames.join(', ') || 'none')}</span>`;
        const rows = lb.listeners
          .map((l) => {
            const rules = l.rules.map((r) => `<div><code>${r.priority}</code> ${esc(r.conditions.join(' and '))} → ${esc(r.actions.join(', '))}${r.transforms ? ` <span class="muted">rewriting ${esc(r.transforms.join('; '))}</span>` : ''}</div>`).join('');
            return `<tr><td>${esc(l.protocol)}</td><td class="mono">${esc(l.address)}:${l.port}</td><td>${l.url ? `<a href="${esc(l.url)}">${esc(l.url)}</a>` : ''}</td><td class="wrap">${rules}<div><code>default</code> → ${esc(l.defaultActions.join(', '))}</div></td></tr>`;
          })
          .join('');
        card.querySelector('.listeners').innerHTML = `<table><thead><tr><th>protocol</th><th>address</th><th>URL</th><th>rules (priority order)</th></tr></thead><tbody>${rows}</tbody></table>`;
      }
      if (lb.type !== 'network') {
        const c = chartFor(lb.name, card.querySelector('.charts'));
        if (c) {
          const xs = samples.map((s) => s.t / 1000);
          const per = samples.map((s) => s.loadBalancers[lb.name] || {});
          c.status.setData([xs, ...STATUS_SERIES.map((s) => per.map((p) => p[s.key] ?? null))]);
          c.latency.setData([xs, per.map((p) => p.p50Ms ?? null), per.map((p) => p.p99Ms ?? null)]);
        }
      }
    }
    prune(root, '.card', new Set(lbs.map((l) => l.name)));
  }

  // ---------------------------------------------------------------- target groups
  function sparkline(seriesKey) {
    const values = samples.slice(-SPARK_SAMPLES).map((s) => s.targets[seriesKey] ?? 0);
    const w = 120;
    const h = 22;
    if (values.length < 2) return `<svg class="spark" width="${w}" height="${h}"></svg>`;
    const peak = Math.max(1, ...values);
    const step = w / (SPARK_SAMPLES - 1);
    const x0 = w - (values.length - 1) * step;
    const pts = values.map((v, i) => `${(x0 + i * step).toFixed(1)},${(h - 1 - (v / peak) * (h - 2)).toFixed(1)}`);
    const last = values[values.length - 1];
    return `<svg class="spark" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}"><title>${last} req/s now, peak ${peak}</title><path d="M${x0.toFixed(1)},${h} L${pts.join(' L')} L${w},${h} Z"></path><polyline points="${pts.join(' ')}"></polyline></svg>`;
  }
  function targetCountdown(t) {
    if (t.drainEndsAtMs !== undefined) return countdown('drain ends in', t.drainEndsAtMs);
    if (t.registrationEndsAtMs !== undefined) return countdown('checks start in', t.registrationEndsAtMs);
    if (t.slowStart) return countdown('slow start ends in', t.slowStart.endsAtMs);
    return '';
  }
  function renderTargetGroups() {
    const root = $('tgs');
    const groups = of('tg').sort((a, b) => a.name.localeCompare(b.name));
    const targets = of('target');
    for (const g of groups) {
      const card = keyed(root, '.card', g.name, () => {
        const d = document.createElement('div');
        d.className = 'card';
        d.dataset.targetGroup = g.name;
        d.innerHTML = `<div class="title"></div><table><thead><tr><th>target</th><th>state</th><th>reason</th><th>in state</th><th>countdown</th><th>in flight</th><th>requests/s</th><th>weight</th><th>anomaly</th><th>pod</th><th></th></tr></thead><tbody></tbody></table>`;
        return d;
      });
      const json = JSON.stringify(g);
      if (card.dataset.json !== json) {
        card.dataset.json = json;
        card.querySelector('.title').innerHTML =
          `<b>${esc(g.name)}</b><span class="muted">${esc(g.protocol)}${g.port ? `:${g.port}` : ''} · ${esc(g.algorithm)} · ${esc(g.healthCheck)} · deregistration delay ${g.deregistrationDelaySeconds}s${g.slowStartSeconds ? ` · slow start ${g.slowStartSeconds}s` : ''}</span>` +
          `<span class="badge ${g.healthy > 0 ? 'info' : 'off'}" data-healthy="${g.healthy}">${g.healthy} healthy</span>${g.unhealthy ? `<span class="badge warn">${g.unhealthy} unhealthy</span>` : ''}${g.failingOpen ? '<span class="badge warn">failing open</span>' : ''}` +
          `<button data-action="register" data-group="${esc(g.name)}">Register target…</button>`;
      }
      const body = card.querySelector('tbody');
      const mine = targets.filter((t) => t.targetGroup === g.name).sort((a, b) => a.key.localeCompare(b.key, undefined, { numeric: true }));
      for (const t of mine) {
        const key = `${g.name}|${t.key}`;
        const row = keyed(body, 'tr', key, () => document.createElement('tr'));
        row.dataset.target = key;
        row.dataset.state = t.state;
        row.innerHTML =
          `<td class="mono">${esc(t.key)}</td>` +
          `<td><span class="state ${esc(t.state)}">${esc(t.state)}</span></td>` +
          `<td class="reason wrap" title="${esc(t.description || '')}">${t.reason ? `<code>${esc(t.reason)}</code> <span class="muted">${esc(t.description || '')}</span>` : ''}</td>` +
          `<td>${since(t.sinceMs)}</td>` +
          `<td class="timer">${targetCountdown(t)}</td>` +
          `<td class="in-flight">${t.inFlight}</td>` +
          `<td>${sparkline(key)}</td>` +
          `<td>${t.slowStart ? `${t.slowStart.weight}` : ''}</td>` +
          `<td>${t.anomaly ? `<span class="badge ${t.anomaly.result === 'anomalous' ? 'warn' : 'off'}">${esc(t.anomaly.result)}</span>${t.anomaly.mitigationInEffect === 'yes' ? ` mitigated ×${t.anomaly.weight}` : ''}` : ''}</td>` +
          `<td class="mono">${esc(t.pod || '')}</td>` +
          `<td>${t.registration === 'registered' ? `<button class="danger" data-action="deregister" data-group="${esc(g.name)}" data-id="${esc(t.id)}" data-port="${t.port}">Deregister</button>` : ''}</td>`;
      }
      prune(body, 'tr', new Set(mine.map((t) => `${g.name}|${t.key}`)));
    }
    prune(root, '.card', new Set(groups.map((g) => g.name)));
  }

  // ---------------------------------------------------------------- local pods
  function podCountdown(p) {
    const t = p.termination;
    if (!t) return '';
    const graceEnds = t.startedAtMs + t.gracePeriodMs;
    if (t.sigkillAtMs !== undefined) return 'SIGKILL sent';
    if (t.sigtermAtMs !== undefined) return `SIGTERM sent · ${countdown('SIGKILL in', t.sigkillDueAtMs)}`;
    if (t.preStopStartedAtMs !== undefined && t.preStopFinishedAtMs === undefined) {
      return `${t.preStopEndsAtMs !== undefined ? countdown('preStop ends in', t.preStopEndsAtMs) : 'preStop running'} · ${countdown('grace', graceEnds)}`;
    }
    return countdown('grace', graceEnds);
  }
  function renderPods() {
    const root = $('pods');
    const deployments = of('deployment').sort((a, b) => a.targetGroup.localeCompare(b.targetGroup));
    $('local-pods').hidden = deployments.length === 0;
    const pods = of('pod');
    for (const d of deployments) {
      const card = keyed(root, '.card', d.targetGroup, () => {
        const el = document.createElement('div');
        el.className = 'card';
        el.dataset.deployment = d.targetGroup;
        el.innerHTML = `<div class="title"></div><table><thead><tr><th>pod</th><th>phase</th><th>termination</th><th>revision</th><th>target</th><th>target state</th><th>restarts</th><th>pid</th><th></th></tr></thead><tbody></tbody></table>`;
        return el;
      });
      const json = JSON.stringify(d);
      if (card.dataset.json !== json) {
        card.dataset.json = json;
        card.querySelector('.title').innerHTML =
          `<b>${esc(d.targetGroup)}</b><span class="muted">revision ${d.revision} · ${d.replicas} replicas</span>${d.rollingOut ? '<span class="badge info">rolling out</span>' : ''}` +
          `<button data-action="rollout" data-group="${esc(d.targetGroup)}">Roll out</button>` +
          `<span><input type="number" min="0" max="100" value="${d.replicas}" data-scale-input="${esc(d.targetGroup)}" style="width:4rem"> <button data-action="scale" data-group="${esc(d.targetGroup)}">Scale</button></span>`;
      }
      const body = card.querySelector('tbody');
      const mine = pods.filter((p) => p.targetGroup === d.targetGroup).sort((a, b) => a.revision - b.revision || a.name.localeCompare(b.name));
      for (const p of mine) {
        const row = keyed(body, 'tr', p.name, () => document.createElement('tr'));
        row.dataset.pod = p.name;
        row.dataset.phase = p.phase;
        row.dataset.revision = String(p.revision);
        row.innerHTML =
          `<td class="mono">${esc(p.name)}</td>` +
          `<td><span class="phase ${esc(p.phase)}">${esc(p.phase)}</span></td>` +
          `<td class="timer">${podCountdown(p)}</td>` +
          `<td>${p.revision}</td>` +
          `<td class="mono">${esc(p.target)}</td>` +
          `<td>${p.targetState ? `<span class="state ${esc(p.targetState)}">${esc(p.targetState)}</span>` : '<span class="muted">not registered</span>'}</td>` +
          `<td>${p.restartCount}</td>` +
          `<td class="mono">${p.pid ?? ''}</td>` +
          `<td>${p.phase !== 'Terminating' && p.phase !== 'Terminated' ? `<button class="danger" data-action="delete-pod" data-group="${esc(d.targetGroup)}" data-pod="${esc(p.name)}">Delete</button>` : ''}</td>`;
      }
      prune(body, 'tr', new Set(mine.map((p) => p.name)));
    }
    prune(root, '.card', new Set(deployments.map((d) => d.targetGroup)));
  }

  // ---------------------------------------------------------------- timeline
  let lanesDrawnAt = 0;
  function renderTimeline(force) {
    if (!force && Date.now() - lanesDrawnAt < 1000) return;
    lanesDrawnAt = Date.now();
    const endMs = serverNow();
    const startMs = Math.max(events.length ? events[0].timeMs : endMs - 60000, endMs - LANES_WINDOW_MS);
    const recent = events.filter((e) => e.timeMs >= startMs - LANES_WINDOW_MS);
    if (window.LocalElbLanes) {
      // Requests per second from the samples: answered (target 1XX–4XX) against failed (target and ELB 5XX).
      const requests = samples
        .filter((x) => x.t >= startMs)
        .map((x) => {
          let ok = 0;
          let failed = 0;
          for (const lb of Object.values(x.loadBalancers)) {
            ok += lb.target2xx + lb.target3xx + lb.target4xx;
            failed += lb.target5xx + lb.elb5xx;
          }
          return { timeMs: x.t, ok, failed };
        });
      const model = window.LocalElbLanes.fromEvents(recent, { startMs, endMs: Math.max(endMs, startMs + 1000), requests });
      window.LocalElbLanes.render($('lanes'), model);
    }
    const log = $('events');
    log.innerHTML = events
      .slice(-200)
      .reverse()
      .map((e) => `<div class="${e.kind === 'request.failed' ? 'fail' : ''}">${esc(new Date(e.timeMs + offsetMs).toLocaleTimeString())} ${esc(e.kind.padEnd(22))} ${esc(e.pod || '')} ${esc(e.detail || '')}</div>`)
      .join('');
  }

  function render() {
    renderLoadBalancers();
    renderTargetGroups();
    renderPods();
    renderTimeline(eventsChanged);
    eventsChanged = false;
  }

  // Countdowns and times in state move between messages, from the server's clock offset.
  setInterval(() => {
    const now = serverNow();
    for (const el of document.querySelectorAll('[data-until]')) el.textContent = `${el.dataset.label} ${duration(Number(el.dataset.until) - now)}`;
    for (const el of document.querySelectorAll('[data-since]')) el.textContent = duration(now - Number(el.dataset.since));
    $('clock').textContent = new Date().toLocaleTimeString();
    renderTimeline(false);
  }, 250);

  // ---------------------------------------------------------------- actions
  function flash(text, bad) {
    let el = $('flash');
    if (!el) {
      el = document.createElement('span');
      el.id = 'flash';
      document.querySelector('header.bar').appendChild(el);
    }
    el.className = bad ? 'badge warn' : 'muted';
    el.textContent = text;
  }
  async function call(method, path, body) {
    const res = await fetch(path, {
      method,
      headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': token },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const answer = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(`${answer.code || res.status}: ${answer.message || res.statusText}`);
    return answer;
  }
  const group = (name) => `/v1/target-groups/${encodeURIComponent(name)}`;
  document.addEventListener('click', async (e) => {
    const b = e.target.closest('button[data-action]');
    if (!b) return;
    const g = b.dataset.group;
    try {
      switch (b.dataset.action) {
        case 'deregister': {
          const tg = entities.get(`tg:${g}`);
          if (!confirm(`Deregister ${b.dataset.id}:${b.dataset.port} from ${g}? It drains for up to ${tg ? tg.deregistrationDelaySeconds : '?'} s.`)) return;
          await call('POST', `${group(g)}/deregister-targets`, { targets: [{ id: b.dataset.id, port: Number(b.dataset.port) }] });
          flash(`deregistering ${b.dataset.id}:${b.dataset.port}`);
          break;
        }
        case 'register': {
          const answer = prompt(`Register a target in ${g} (address:port):`, '127.0.0.1:');
          if (!answer) return;
          const m = /^(.+):(\d+)$/.exec(answer.trim());
          if (!m) return flash(`not address:port: ${answer}`, true);
          if (!confirm(`Register ${m[1]}:${m[2]} in ${g}?`)) return;
          await call('POST', `${group(g)}/register-targets`, { targets: [{ id: m[1], port: Number(m[2]) }] });
          flash(`registered ${m[1]}:${m[2]}`);
          break;
        }
        case 'rollout':
          if (!confirm(`Roll out ${g}? Every pod is replaced under the rolling-update limits.`)) return;
          await call('POST', `${group(g)}/rollout`);
          flash(`rollout of ${g} started`);
          break;
        case 'scale': {
          const input = document.querySelector(`input[data-scale-input="${CSS.escape(g)}"]`);
          const replicas = Number(input.value);
          if (!confirm(`Scale ${g} to ${replicas} replicas?`)) return;
          await call('POST', `${group(g)}/scale`, { replicas });
          flash(`${g} scaled to ${replicas}`);
          break;
        }
        case 'delete-pod':
          if (!confirm(`Delete pod ${b.dataset.pod}? It terminates (preStop, SIGTERM, grace period) and is replaced.`)) return;
          await call('DELETE', `${group(g)}/pods/${encodeURIComponent(b.dataset.pod)}`);
          flash(`deleting ${b.dataset.pod}`);
          break;
      }
    } catch (err) {
      flash(String(err.message || err), true);
    }
  });

  // Legend of the lanes' colours.
  $('legend').innerHTML = ['healthy', 'initial', 'unhealthy', 'draining', 'Pending', 'Running', 'Ready', 'Terminating']
    .map((s) => `<span style="--c: var(--${s.toLowerCase().replace('.', '-')})">${s}</span>`)
    .join('') + '<span style="--c: var(--failed)">failed request</span>';

  connect();
})();
