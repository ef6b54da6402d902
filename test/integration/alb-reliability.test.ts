/**
 * Reliability of the ALB data path on real sockets (spec 6.4, 7.1–7.3, 13.1): malformed and
 * smuggling requests never reach a target, slow clients do not starve a normal one, broken
 * targets get AWS's statuses without harming the next request, 512 MiB streams both ways in
 * bounded memory, thousands of idle connections end at the idle timeout, and file descriptors
 * return to their baseline after faulty traffic. The ALB, targets and clients share this
 * process, so RSS and /proc/self/fd measure the ALB too.
 */
import { createHash } from 'node:crypto';
import net, { type Socket } from 'node:net';
import { Readable } from 'node:stream';
import { Client, Pool, request } from 'undici';
import { describe, expect, it } from 'vitest';
import type { LocalElb } from '../../src/local-elb.ts';
import { deferCleanups, startAlb, waitHealthy, type AlbOptions, type RuleInput, type TestAlb } from '../support/alb.ts';
import { ensureOpenFilesLimit, openFileDescriptors, sampleRss } from '../support/process-stats.ts';
import { openRawConnection, type RawConnection } from '../support/raw-connection.ts';
import { rawExchange, parseRawResponse } from '../support/raw-http.ts';
import { startRawTarget, type Misbehaviour } from '../support/raw-target.ts';
import { startTarget, type TestTarget } from '../support/targets.ts';
import { StopWaiting, waitFor } from '../support/wait.ts';

const defer = deferCleanups();
const MiB = 1024 * 1024;

async function target(name: string): Promise<TestTarget> {
  const t = await startTarget(name);
  defer(() => t.close());
  return t;
}

async function alb(options: AlbOptions = {}): Promise<TestAlb> {
  const a = await startAlb(options);
  defer(() => a.elb.close());
  if ((options.targetPorts ?? []).length > 0) await waitHealthy(a.group, options.targetPorts!.length);
  return a;
}

async function raw(url: string): Promise<RawConnection> {
  const c = await openRawConnection(url);
  defer(() => c.destroy());
  return c;
}

async function get(url: string) {
  const res = await request(url, { signal: AbortSignal.timeout(5_000) });
  return { status: res.statusCode, headers: res.headers, body: await res.body.text() };
}

async function activeConnections(elb: LocalElb): Promise<number> {
  const metric = elb.metrics.registry.getSingleMetric('ActiveConnectionCount');
  if (metric === undefined) throw new Error('no ActiveConnectionCount metric');
  const { values } = await metric.get();
  return values.find((v) => v.labels.load_balancer === 'app')?.value ?? 0;
}

function percentile(samples: readonly number[], p: number): number {
  const sorted = [...samples].sort((x, y) => x - y);
  return sorted[Math.max(0, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

/** The title of ALB error pages (spec 7.1). */
const pageTitle: Readonly<Record<number, string>> = {
  400: '400 Bad Request',
  405: '405 Method Not Allowed',
  414: '414 Request-URI Too Large',
  501: '501 Not Implemented',
  505: '505 HTTP Version Not Supported',
};

/** A fixed response the ALB makes itself, to show a connection still serves requests without touching the target. */
const stillOpenRule: RuleInput = {
  priority: 1,
  conditions: [{ field: 'path-pattern', values: ['/still-open'] }],
  actions: [{ type: 'fixed-response', fixedResponseConfig: { statusCode: '200', contentType: 'text/plain', messageBody: 'still open' } }],
};

const kib = (n: number) => 'a'.repeat(n * 1024);

describe('malformed requests sent raw: AWS status, Server: awselb/2.0, and nothing reaches the target', () => {
  const corpus: ReadonlyArray<{ title: string; bytes: string; status: number; closes: boolean }> = [
    { title: 'a request line without a request-target', bytes: 'GET HTTP/1.1\r\nHost: x\r\n\r\n', status: 400, closes: true },
    { title: 'a method with a character that is not a token', bytes: 'G(T / HTTP/1.1\r\nHost: x\r\n\r\n', status: 400, closes: true },
    { title: 'a header line without a colon', bytes: 'GET / HTTP/1.1\r\nHost: x\r\nno colon here\r\n\r\n', status: 400, closes: true },
    { title: 'a NUL byte in a header value', bytes: 'GET / HTTP/1.1\r\nHost: x\r\nX-Nul: a\u0000b\r\n\r\n', status: 400, closes: true },
    { title: 'two different Content-Length values', bytes: 'POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\nabcd', status: 400, closes: true },
    // One write and a cold pool: the chunk error is read with the head, before a target connection exists.
    { title: 'a chunk size that is not hex', bytes: 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n', status: 400, closes: true },
    { title: 'an obs-fold header continuation line', bytes: 'GET / HTTP/1.1\r\nHost: x\r\nX-Folded: a\r\n b\r\n\r\n', status: 400, closes: true },
    { title: 'a 17 KiB request line', bytes: `GET /${kib(17)} HTTP/1.1\r\nHost: x\r\n\r\n`, status: 414, closes: false },
    { title: 'a 70 KiB request line (over the 64 KiB head as well)', bytes: `GET /${kib(70)} HTTP/1.1\r\nHost: x\r\n\r\n`, status: 414, closes: true },
    { title: 'one 17 KiB header', bytes: `GET / HTTP/1.1\r\nHost: x\r\nX-Big: ${kib(17)}\r\n\r\n`, status: 400, closes: true },
    {
      title: 'nine 8 KiB headers (72 KiB of headers, each under 16 KiB)',
      bytes: `GET / HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 9 }, (_, i) => `X-H${i}: ${kib(8)}\r\n`).join('')}\r\n`,
      status: 400,
      closes: true,
    },
    { title: 'the HTTP/2 connection preface', bytes: 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', status: 505, closes: true },
    { title: 'TRACE', bytes: 'TRACE / HTTP/1.1\r\nHost: x\r\n\r\n', status: 405, closes: false },
    // The body's framing is unknown, so nothing after it can be read: the connection must close.
    { title: 'Transfer-Encoding: gzip (unknown to the ALB)', bytes: 'POST / HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n', status: 501, closes: true },
  ];

  it.each(corpus)('$status for $title', async ({ bytes, status, closes }) => {
    const a = await target('a');
    const { url } = await alb({ targetPorts: [a.port], rules: [stillOpenRule] });
    const conn = await raw(url);
    conn.write(bytes);
    const res = await conn.readResponse();
    expect(res.status).toBe(status);
    expect(res.headers.server).toBe('awselb/2.0');
    expect(res.body).toContain(`<title>${pageTitle[status]}</title>`);
    if (closes) {
      // A server that closes after its answer says so, or a keep-alive client reuses a dead connection.
      expect(res.headers.connection).toBe('close');
      await conn.closed();
    } else {
      expect(res.headers.connection).toBe('keep-alive');
      conn.write('GET /still-open HTTP/1.1\r\nHost: x\r\n\r\n');
      expect(await conn.readResponse()).toMatchObject({ status: 200, body: 'still open' });
    }
    expect(a.seen).toEqual([]);
    // The target is still served, and nothing sent earlier arrives before this request.
    expect(await get(`${url}/after`)).toMatchObject({ status: 200, body: 'a' });
    expect(a.seen.map((s) => `${s.method} ${s.url}`)).toEqual(['GET /after']);
  });
});

describe('request smuggling: no request hidden in another reaches the target', () => {
  const smuggled = 'GET /smuggled HTTP/1.1\r\nHost: x\r\n\r\n';
  /** Ends a chunked body, then the request to smuggle: a body to a reader that goes by Content-Length. */
  const endThenSmuggled = `0\r\n\r\n${smuggled}`;
  const post = (headers: string, body: string) => `POST / HTTP/1.1\r\nHost: x\r\n${headers}\r\n${body}`;
  const cl = `Content-Length: ${endThenSmuggled.length}\r\n`;

  const attacks: ReadonlyArray<{ title: string; bytes: string; forwardedBody?: string }> = [
    { title: 'Content-Length with Transfer-Encoding: chunked (CL.TE)', bytes: post(`${cl}Transfer-Encoding: chunked\r\n`, endThenSmuggled) },
    { title: 'Transfer-Encoding: chunked with a shorter Content-Length (TE.CL)', bytes: post('Transfer-Encoding: chunked\r\nContent-Length: 3\r\n', endThenSmuggled) },
    { title: '"Transfer-Encoding : chunked" (a space before the colon) with a Content-Length', bytes: post(`Transfer-Encoding : chunked\r\n${cl}`, endThenSmuggled) },
    { title: '"Transfer-Encoding:\\vchunked" (a vertical tab) with a Content-Length', bytes: post(`Transfer-Encoding:\u000bchunked\r\n${cl}`, endThenSmuggled) },
    { title: 'a Transfer-Encoding folded onto a continuation line, with a Content-Length', bytes: post(`Transfer-Encoding:\r\n chunked\r\n${cl}`, endThenSmuggled) },
    { title: '" Transfer-Encoding: chunked" with a leading space, with a Content-Length', bytes: `POST / HTTP/1.1\r\n Transfer-Encoding: chunked\r\nHost: x\r\n${cl}\r\n${endThenSmuggled}` },
    { title: '"tRaNsFeR-eNcOdInG: cHuNkEd" (mixed case) with a Content-Length', bytes: post(`tRaNsFeR-eNcOdInG: cHuNkEd\r\n${cl}`, endThenSmuggled) },
    { title: '"Transfer-Encoding: xchunked" with a Content-Length', bytes: post(`Transfer-Encoding: xchunked\r\n${cl}`, endThenSmuggled) },
    { title: '"Transfer-Encoding: chunked\\0" (a NUL)', bytes: post('Transfer-Encoding: chunked\u0000\r\n', endThenSmuggled) },
    { title: '"Transfer-Encoding: chunked" twice, the second "identity"', bytes: post('Transfer-Encoding: chunked\r\nTransfer-Encoding: identity\r\n', endThenSmuggled) },
    { title: 'a Content-Length with a sign ("+N")', bytes: post(`Content-Length: +${endThenSmuggled.length}\r\n`, endThenSmuggled) },
    { title: '"Transfer_Encoding: chunked" (an underscore) with a Content-Length, framed by Content-Length', bytes: post(`Transfer_Encoding: chunked\r\n${cl}`, endThenSmuggled), forwardedBody: endThenSmuggled },
    { title: 'a Content-Length body that is a whole request', bytes: post(`Content-Length: ${smuggled.length}\r\n`, smuggled), forwardedBody: smuggled },
    {
      title: 'a chunked body whose one chunk is a whole request',
      bytes: post('Transfer-Encoding: chunked\r\n', `${smuggled.length.toString(16)}\r\n${smuggled}\r\n0\r\n\r\n`),
      forwardedBody: smuggled,
    },
  ];

  /** A target that answers with the request it saw, so a response shows which request it is for. */
  async function echoTarget(): Promise<{ target: TestTarget; bodies: Map<string, string> }> {
    const t = await target('a');
    const bodies = new Map<string, string>();
    t.handler = (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        bodies.set(`${req.method} ${req.url}`, Buffer.concat(chunks).toString('latin1'));
        res.writeHead(200, { 'content-type': 'text/plain' }).end(`seen ${req.method} ${req.url}`);
      });
    };
    return { target: t, bodies };
  }

  it.each(attacks)('$title', async ({ bytes, forwardedBody }) => {
    const { target: t, bodies } = await echoTarget();
    const { url } = await alb({ targetPorts: [t.port] });
    const conn = await raw(url);
    conn.write(bytes);
    const first = await conn.readResponse();
    const seen = () => t.seen.map((s) => `${s.method} ${s.url}`);
    if (forwardedBody !== undefined) {
      // Framed as the ALB read it: one POST whose body carries the other request as bytes.
      expect(first).toMatchObject({ status: 200, body: 'seen POST /' });
      expect(bodies.get('POST /')).toBe(forwardedBody);
    } else {
      // Refused, or (as AWS's defensive mode may do for some) forwarded as one request.
      expect([200, 400, 501]).toContain(first.status);
      if (first.status !== 200) expect(seen()).toEqual([]);
    }
    if (first.headers.connection === 'close') {
      await conn.closed();
    } else {
      // The same client connection carries the next request, and its answer is for that request.
      conn.write('GET /next HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
      expect(await conn.readResponse()).toMatchObject({ status: 200, body: 'seen GET /next' });
      await conn.closed();
    }
    expect(seen().filter((s) => s !== 'POST /' && s !== 'GET /next')).toEqual([]);
    expect(seen().filter((s) => s === 'POST /').length).toBeLessThanOrEqual(1);
    // A new connection: a smuggled request left in a pooled target connection would answer this one.
    expect(await get(`${url}/fresh`)).toMatchObject({ status: 200, body: 'seen GET /fresh' });
    expect(seen()).not.toContain('GET /smuggled');
  });

  it('400 and close for "Transfer-Encoding: chunked, chunked" (Severe, MultipleTransferEncodingChunked: spec 13.1.1, 13.1.4), and nothing reaches the target', async () => {
    const { target: t } = await echoTarget();
    const { url } = await alb({ targetPorts: [t.port] });
    const conn = await raw(url);
    conn.write(post('Transfer-Encoding: chunked, chunked\r\n', endThenSmuggled));
    const res = await conn.readResponse();
    expect(res.status).toBe(400);
    expect(res.headers.server).toBe('awselb/2.0');
    await conn.closed();
    expect(t.seen).toEqual([]);
  });

  it('a malformed request pipelined behind a good one never reaches the target, and the connection closes after the good one is answered', async () => {
    const { target: t } = await echoTarget();
    const { url } = await alb({ targetPorts: [t.port] });
    const conn = await raw(url);
    conn.write(`GET /good HTTP/1.1\r\nHost: x\r\n\r\nGET /bad HTTP/1.1\r\nHost: x\r\nno colon\r\n\r\n${smuggled}`);
    expect(await conn.readResponse()).toMatchObject({ status: 200, body: 'seen GET /good' });
    await conn.closed();
    const rest = conn.unread === '' ? undefined : parseRawResponse(conn.unread);
    if (rest !== undefined) expect(rest.status).toBe(400);
    expect(t.seen.map((s) => s.url)).toEqual(['/good']);
  });
});

describe('slow clients', () => {
  /** Opens `count` connections that send the start of a request head and then a few bytes every 100 ms, never ending it. */
  async function dribblers(port: number, count: number): Promise<{ sockets: Socket[]; ticks: () => number; received: () => number }> {
    const sockets: Socket[] = [];
    let received = 0;
    for (let i = 0; i < count; i += 100) {
      await Promise.all(
        Array.from(
          { length: Math.min(100, count - i) },
          () =>
            new Promise<void>((resolve, reject) => {
              const s = net.connect({ host: '127.0.0.1', port }, () => {
                s.off('error', reject);
                s.on('error', () => {});
                s.write('GET /slow HTTP/1.1\r\nHost: x\r\nX-Dribble: ');
                resolve();
              });
              s.on('data', (d: Buffer) => (received += d.length));
              s.once('error', reject);
              sockets.push(s);
            }),
        ),
      );
    }
    let ticks = 0;
    const timer = setInterval(() => {
      ticks++;
      for (const s of sockets) if (s.writable) s.write('abc');
    }, 100);
    defer(() => {
      clearInterval(timer);
      for (const s of sockets) s.destroy();
    });
    return { sockets, ticks: () => ticks, received: () => received };
  }

  it('serves every request of a normal client while 400 slow clients dribble request headers (idle timeout 60 s)', async () => {
    const a = await target('a');
    const { url, port, elb } = await alb({ targetPorts: [a.port] });
    const slow = await dribblers(port, 400);
    await waitFor(async () => (await activeConnections(elb)) >= 400, { what: '400 slow client connections at the ALB' });
    const startTick = slow.ticks();

    const client = new Client(url);
    defer(() => client.destroy());
    const latenciesMs: number[] = [];
    const failures: string[] = [];
    // At least 200 requests, and for at least 5 dribble rounds so both really run together (capped).
    for (let i = 0; (i < 200 || slow.ticks() - startTick < 5) && i < 20_000; i++) {
      const started = performance.now();
      try {
        const res = await client.request({ path: `/normal/${i}`, method: 'GET', signal: AbortSignal.timeout(10_000) });
        const body = await res.body.text();
        if (res.statusCode !== 200 || body !== 'a') failures.push(`#${i}: ${res.statusCode} ${body}`);
      } catch (err) {
        failures.push(`#${i}: ${(err as Error).message}`);
      }
      latenciesMs.push(performance.now() - started);
    }
    console.log(
      `[alb-reliability] normal client next to 400 slow clients: ${latenciesMs.length} requests over ${slow.ticks() - startTick} dribble rounds, ` +
        `p50 ${percentile(latenciesMs, 50).toFixed(2)} ms, p99 ${percentile(latenciesMs, 99).toFixed(2)} ms, max ${percentile(latenciesMs, 100).toFixed(2)} ms`,
    );
    expect(failures).toEqual([]);
    expect(latenciesMs.length).toBeGreaterThanOrEqual(200);
    expect(a.seen.every((s) => s.url.startsWith('/normal/'))).toBe(true);
    expect(a.seen).toHaveLength(latenciesMs.length);
    // Within their idle timeout the slow clients are neither answered nor dropped.
    expect(slow.sockets.filter((s) => s.destroyed)).toHaveLength(0);
    expect(slow.received()).toBe(0);

    for (const s of slow.sockets) s.destroy();
    await client.close();
    await waitFor(async () => (await activeConnections(elb)) === 0, { what: 'ActiveConnectionCount back to 0 after the slow clients left' });
  });

  it('does not time out a client that sends header bytes more often than the idle timeout (1 s), spec 7.2: idle means no data', async () => {
    const a = await target('a');
    const { url } = await alb({ targetPorts: [a.port], loadBalancerAttributes: { 'idle_timeout.timeout_seconds': '1' } });
    const conn = await raw(url);
    conn.write('GET /patient HTTP/1.1\r\nHost: x\r\nX-Dribble: ');
    // 25 rounds of 100 ms: more than twice the idle timeout, each with data from the client.
    let rounds = 0;
    await waitFor(
      () => {
        if (conn.isClosed || conn.unread !== '') throw new StopWaiting(`the ALB answered or closed after ${rounds} rounds of header bytes: ${JSON.stringify(conn.unread.slice(0, 80))}`);
        conn.write('abc');
        return ++rounds >= 25;
      },
      { intervalMs: 100, timeoutMs: 15_000, what: '25 rounds of header bytes' },
    );
    conn.write('\r\nConnection: close\r\n\r\n');
    expect(await conn.readResponse()).toMatchObject({ status: 200, body: 'a' });
    expect(a.seen.map((s) => s.url)).toEqual(['/patient']);
  });
});

describe('misbehaving targets: the client gets AWS status, and the ALB serves the target normally afterwards', () => {
  const cases: ReadonlyArray<{ title: string; misbehave: Misbehaviour; idleTimeoutSeconds?: string; expected: 502 | 504 | 'cut' }> = [
    {
      title: '502 when the target resets the connection in the middle of its response head',
      misbehave: (s) => s.write('HTTP/1.1 200 OK\r\nContent-Le', () => s.resetAndDestroy()),
      expected: 502,
    },
    { title: '504 when the target takes the request and never answers (idle timeout 1 s)', misbehave: () => {}, idleTimeoutSeconds: '1', expected: 504 },
    { title: '502 when the target answers with bytes that are not HTTP', misbehave: (s) => s.write('SSH-2.0-OpenSSH_9.6\r\n\u0000\u0001\u0002 not http\r\n\r\n'), expected: 502 },
    {
      title: 'a 200 head then a cut connection when the target sends 10 of its 100 body bytes and closes',
      misbehave: (s) => s.end('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\n0123456789'),
      expected: 'cut',
    },
    {
      title: 'a 200 head then a cut connection when the target resets after its head and 10 body bytes',
      misbehave: (s) => s.write('HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\n0123456789', () => s.resetAndDestroy()),
      expected: 'cut',
    },
  ];

  it.each(cases)('$title', async ({ misbehave, idleTimeoutSeconds, expected }) => {
    const t = await startRawTarget(misbehave);
    defer(() => t.close());
    const { url, group } = await alb({
      targetPorts: [t.port],
      ...(idleTimeoutSeconds ? { loadBalancerAttributes: { 'idle_timeout.timeout_seconds': idleTimeoutSeconds } } : {}),
    });
    let conn = await raw(url);
    conn.write('GET /fault HTTP/1.1\r\nHost: x\r\n\r\n');
    if (expected === 'cut') {
      const cut = await conn.readUntilClose();
      expect(cut.head.status).toBe(200);
      expect(cut.head.headers['content-length']).toBe('100');
      expect(cut.bodyBytes).toBeLessThan(100);
      conn = await raw(url);
    } else {
      const res = await conn.readResponse({ timeoutMs: 10_000 });
      expect(res.status).toBe(expected);
      expect(res.headers.server).toBe('awselb/2.0');
      expect(res.body).toContain(`<title>${expected} ${expected === 502 ? 'Bad Gateway' : 'Gateway Time-out'}</title>`);
    }
    await waitFor(() => t.scripted.length === 1 && t.scripted[0]!.closed, { what: "the ALB's connection to the misbehaving target closed" });

    // The ALB carries on: five requests on the client connection (a new one after a cut) reach the same target.
    for (let i = 0; i < 5; i++) {
      conn.write(`GET /ok/${i} HTTP/1.1\r\nHost: x\r\n\r\n`);
      expect(await conn.readResponse()).toMatchObject({ status: 200, body: `ok /ok/${i}` });
    }
    expect(t.requests).toEqual(['GET /fault', ...Array.from({ length: 5 }, (_, i) => `GET /ok/${i}`)]);
    expect(group.healthyHostCount).toBe(1);
  });
});

describe('512 MiB streamed through the ALB each way, with RSS growth under 200 MiB', () => {
  const TOTAL = 512 * MiB;
  const CHUNK = 64 * 1024;

  /** 512 MiB in 64 KiB chunks, each stamped with its index so order matters to the hash. */
  function* stampedChunks(onChunk: (chunk: Buffer) => void): Generator<Buffer> {
    for (let i = 0; i < TOTAL / CHUNK; i++) {
      const chunk = Buffer.alloc(CHUNK, i & 0xff);
      chunk.writeUInt32BE(i, 0);
      onChunk(chunk);
      yield chunk;
    }
  }

  function report(direction: string, growth: number, ms: number): void {
    console.log(`[alb-reliability] ${direction}: 512 MiB in ${(ms / 1000).toFixed(1)} s (${((TOTAL / MiB / ms) * 1000).toFixed(0)} MiB/s), peak RSS growth ${(growth / MiB).toFixed(0)} MiB`);
  }

  it('delivers a 512 MiB request body to a target that hashes it, byte for byte', async () => {
    const sink = await target('sink');
    sink.handler = (req, res) => {
      const hash = createHash('md5');
      let bytes = 0;
      req.on('data', (c: Buffer) => {
        bytes += c.length;
        hash.update(c);
      });
      req.on('end', () => res.end(JSON.stringify({ bytes, md5: hash.digest('hex') })));
    };
    const { url } = await alb({ targetPorts: [sink.port] });
    const sent = createHash('md5');
    const rss = sampleRss(50);
    const started = Date.now();
    let seen: unknown;
    try {
      const res = await request(`${url}/upload`, {
        method: 'POST',
        headers: { 'content-length': String(TOTAL) },
        body: Readable.from(stampedChunks((c) => sent.update(c))),
        bodyTimeout: 30_000,
        headersTimeout: 30_000,
      });
      expect(res.statusCode).toBe(200);
      seen = await res.body.json();
    } finally {
      const growth = rss.stop();
      report('POST', growth, Date.now() - started);
      expect(growth).toBeLessThan(200 * MiB);
    }
    expect(seen).toEqual({ bytes: TOTAL, md5: sent.digest('hex') });
  }, 120_000);

  it('delivers a 512 MiB response generated on the fly by the target, byte for byte', async () => {
    const source = await target('source');
    const expected = createHash('md5');
    source.handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(TOTAL) });
      const chunks = stampedChunks((c) => expected.update(c));
      const pump = () => {
        for (let next = chunks.next(); !next.done; next = chunks.next()) {
          if (!res.write(next.value)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    };
    const { url } = await alb({ targetPorts: [source.port] });
    const received = createHash('md5');
    let bytes = 0;
    const rss = sampleRss(50);
    const started = Date.now();
    try {
      const res = await request(`${url}/download`, { bodyTimeout: 30_000, headersTimeout: 30_000 });
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-length']).toBe(String(TOTAL));
      for await (const chunk of res.body) {
        bytes += (chunk as Buffer).length;
        received.update(chunk as Buffer);
      }
    } finally {
      const growth = rss.stop();
      report('GET', growth, Date.now() - started);
      expect(growth).toBeLessThan(200 * MiB);
    }
    expect(bytes).toBe(TOTAL);
    expect(received.digest('hex')).toBe(expected.digest('hex'));
  }, 120_000);
});

describe('5,000 idle keep-alive connections', () => {
  interface IdleClient {
    readonly socket: Socket;
    response: string;
    answeredAtMs: number;
    closedAtMs: number;
    endedByServer: boolean;
    error: string | undefined;
  }

  /** Connects, sends one request, and resolves once its whole response (Content-Length 4) is in; then idles. */
  function idleClient(port: number): Promise<IdleClient> {
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: '127.0.0.1', port });
      const c: IdleClient = { socket, response: '', answeredAtMs: 0, closedAtMs: 0, endedByServer: false, error: undefined };
      socket.setEncoding('latin1');
      socket.on('connect', () => socket.write('GET /idle HTTP/1.1\r\nHost: x\r\n\r\n'));
      socket.on('data', (d: string) => {
        c.response += d;
        if (c.answeredAtMs === 0 && c.response.endsWith('\r\n\r\nidle')) {
          c.answeredAtMs = Date.now();
          resolve(c);
        }
      });
      socket.on('end', () => (c.endedByServer = true));
      socket.on('error', (err: NodeJS.ErrnoException) => {
        c.error = err.code ?? err.message;
        reject(err);
      });
      socket.on('close', () => {
        c.closedAtMs = Date.now();
        if (c.answeredAtMs === 0) reject(new Error(`closed before the response; received ${JSON.stringify(c.response)}`));
      });
    });
  }

  it('are all closed by the ALB at the idle timeout (2 s), and ActiveConnectionCount returns to 0', async () => {
    const COUNT = 5_000;
    // Each connection is two descriptors here (the client's and the ALB's), plus the targets' and headroom.
    ensureOpenFilesLimit(openFileDescriptors() + 2 * COUNT + 1_000);
    const t = await target('a');
    t.handler = (_req, res) => res.writeHead(200, { 'content-type': 'text/plain', 'content-length': '4' }).end('idle');
    const { port, elb } = await alb({ targetPorts: [t.port], loadBalancerAttributes: { 'idle_timeout.timeout_seconds': '2' } });
    const clients: IdleClient[] = [];
    defer(() => clients.forEach((c) => c.socket.destroy()));
    let peak = 0;
    const sampler = setInterval(() => void activeConnections(elb).then((n) => (peak = Math.max(peak, n))), 50);
    defer(() => clearInterval(sampler));

    const BATCH = 250;
    for (let i = 0; i < COUNT; i += BATCH) clients.push(...(await Promise.all(Array.from({ length: Math.min(BATCH, COUNT - i) }, () => idleClient(port)))));
    expect(clients).toHaveLength(COUNT);
    const keptAlive = clients.filter((c) => /\r\nConnection: keep-alive\r\n/i.test(c.response) && c.response.startsWith('HTTP/1.1 200 '));
    expect(keptAlive).toHaveLength(COUNT);

    await waitFor(() => clients.every((c) => c.closedAtMs > 0), { timeoutMs: 30_000, what: `all ${COUNT} idle connections closed by the ALB` });
    clearInterval(sampler);
    // Closed by the server with a FIN, and nothing sent after the one response (no 408 on an idle keep-alive connection).
    expect(clients.filter((c) => !c.endedByServer || c.error !== undefined).length).toBe(0);
    expect(clients.filter((c) => !c.response.endsWith('\r\n\r\nidle')).length).toBe(0);
    await waitFor(async () => (await activeConnections(elb)) === 0, { what: 'ActiveConnectionCount back to 0' });
    const idleMs = clients.map((c) => c.closedAtMs - c.answeredAtMs);
    console.log(
      `[alb-reliability] ${COUNT} idle connections: peak ActiveConnectionCount ${peak}, idle before the ALB closed them ` +
        `min ${percentile(idleMs, 0).toFixed(0)} ms, median ${percentile(idleMs, 50).toFixed(0)} ms, max ${percentile(idleMs, 100).toFixed(0)} ms`,
    );
  }, 90_000);
});

describe('file descriptors', () => {
  it('return to their baseline after 2,000 requests, a tenth of them faulty (target resets, client aborts mid-response, malformed requests)', async () => {
    const t = await target('a');
    const held = new Set<() => void>();
    t.handler = (req, res) => {
      if (req.url === '/reset') return void req.socket.resetAndDestroy();
      if (req.url === '/stream') {
        res.writeHead(200, { 'content-type': 'text/plain' });
        res.write('first chunk;');
        const release = () => res.end();
        held.add(release);
        res.on('close', () => held.delete(release));
        return;
      }
      res.end('a');
    };
    defer(() => held.forEach((release) => release()));
    // A short idle timeout lets the ALB's pooled target connections close once traffic stops.
    const { url, elb } = await alb({ targetPorts: [t.port], loadBalancerAttributes: { 'idle_timeout.timeout_seconds': '2' } });
    const baseline = openFileDescriptors();

    const pool = new Pool(url, { connections: 16 });
    defer(() => pool.destroy());
    const outcomes = new Map<string, number>();
    const count = (what: string) => outcomes.set(what, (outcomes.get(what) ?? 0) + 1);
    const TOTAL = 2_000;
    let next = 0;
    const worker = async () => {
      for (let i = next++; i < TOTAL; i = next++) {
        const fault = i % 10 === 3 ? (['reset', 'abort', 'malformed'] as const)[Math.floor(i / 10) % 3] : undefined;
        try {
          if (fault === 'reset') {
            const res = await pool.request({ path: '/reset', method: 'GET', signal: AbortSignal.timeout(10_000) });
            await res.body.text();
            count(`reset:${res.statusCode}`);
          } else if (fault === 'abort') {
            const abort = new AbortController();
            const res = await pool.request({ path: '/stream', method: 'GET', signal: abort.signal });
            await new Promise<void>((resolve) => res.body.once('data', () => resolve()));
            abort.abort();
            await res.body.text().catch(() => undefined);
            count(`abort:${res.statusCode}`);
          } else if (fault === 'malformed') {
            count(`malformed:${parseRawResponse(await rawExchange(url, 'GET / HTTP/1.1\r\nHost: x\r\nno colon\r\n\r\n')).status}`);
          } else {
            const res = await pool.request({ path: `/n/${i}`, method: 'GET', signal: AbortSignal.timeout(10_000) });
            count(`normal:${res.statusCode}:${await res.body.text()}`);
          }
        } catch (err) {
          count(`${fault ?? 'normal'}:error:${(err as { code?: string }).code ?? (err as Error).message}`);
        }
      }
    };
    await Promise.all(Array.from({ length: 16 }, worker));
    expect(Object.fromEntries(outcomes)).toEqual({ 'normal:200:a': 1_800, 'reset:502': 67, 'abort:200': 67, 'malformed:400': 66 });
    await pool.close();

    const margin = 3;
    await waitFor(
      () => {
        const open = openFileDescriptors();
        if (open > baseline + margin) throw new Error(`${open} open`);
        return true;
      },
      { timeoutMs: 15_000, intervalMs: 100, what: `open file descriptors back to the baseline of ${baseline} (+${margin})` },
    );
    await waitFor(async () => (await activeConnections(elb)) === 0 && t.open === 0, { what: 'no client or target connection left open' });
    expect(held.size).toBe(0);
  }, 60_000);
});
