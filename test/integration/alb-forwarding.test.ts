/**
 * The ALB forwarding path on real sockets (spec 3.1, 5.3–5.5, 7.2): what the target sees,
 * bodies streamed both ways, keep-alive to targets, and routing over real targets.
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { request } from 'undici';
import { describe, expect, it } from 'vitest';
import { deferCleanups, startAlb, waitHealthy, type AlbOptions, type TestAlb } from '../support/alb.ts';
import { parseRawResponse, rawExchange } from '../support/raw-http.ts';
import { startTarget, type TestTarget } from '../support/targets.ts';
import { waitFor } from '../support/wait.ts';

const defer = deferCleanups();

async function targets(...names: string[]): Promise<TestTarget[]> {
  const out: TestTarget[] = [];
  for (const name of names) {
    const t = await startTarget(name);
    defer(() => t.close());
    out.push(t);
  }
  return out;
}

async function albFor(ts: readonly TestTarget[], options: AlbOptions = {}): Promise<TestAlb> {
  const alb = await startAlb({ ...options, targetPorts: ts.map((t) => t.port) });
  defer(() => alb.elb.close());
  await waitHealthy(alb.group, ts.length);
  return alb;
}

async function get(url: string, headers: Record<string, string> = {}) {
  const res = await request(url, { headers });
  return { status: res.statusCode, headers: res.headers, body: await res.body.text() };
}

describe('headers the target sees', () => {
  it.each([
    ['no X-Forwarded-For', undefined, '127.0.0.1'],
    ['one incoming address', '203.0.113.7', '203.0.113.7, 127.0.0.1'],
    ['two incoming addresses', '203.0.113.7, 198.51.100.2', '203.0.113.7, 198.51.100.2, 127.0.0.1'],
  ])('appends the client address to X-Forwarded-For with %s', async (_name, incoming, expected) => {
    const [a] = await targets('a');
    const alb = await albFor([a!]);
    const res = await get(`${alb.url}/xff`, incoming === undefined ? {} : { 'x-forwarded-for': incoming });
    expect(res.status).toBe(200);
    expect(a!.seen.at(-1)!.headers['x-forwarded-for']).toBe(expected);
  });

  it('sets X-Forwarded-Proto to http and X-Forwarded-Port to the listener port, overwriting what the client sent', async () => {
    const [a] = await targets('a');
    const alb = await albFor([a!]);
    await get(`${alb.url}/`);
    await get(`${alb.url}/`, { 'x-forwarded-proto': 'https', 'x-forwarded-port': '443' });
    expect(a!.seen).toHaveLength(2);
    for (const seen of a!.seen) {
      expect(seen.headers['x-forwarded-proto']).toBe('http');
      expect(seen.headers['x-forwarded-port']).toBe(String(alb.port));
    }
  });

  it.each([
    ['appends the listener port to a Host without one', 'example.com', (port: number) => `example.com:${port}`],
    ['keeps a Host that has a port', 'example.com:8080', () => 'example.com:8080'],
  ])('%s', async (_name, host, expected) => {
    const [a] = await targets('a');
    const alb = await albFor([a!]);
    await get(`${alb.url}/host`, { host });
    expect(a!.seen.at(-1)!.headers.host).toBe(expected(alb.port));
  });

  it('adds X-Amzn-Trace-Id Root=1-<epoch hex>-<24 hex>, and inserts Self when the client sent a Root', async () => {
    const [a] = await targets('a');
    const alb = await albFor([a!]);
    const before = Math.floor(Date.now() / 1000);
    await get(`${alb.url}/trace`);
    const after = Math.floor(Date.now() / 1000);
    const trace = a!.seen.at(-1)!.headers['x-amzn-trace-id'] as string;
    const m = /^Root=1-([0-9a-f]{8})-[0-9a-f]{24}$/.exec(trace);
    expect(m, trace).not.toBeNull();
    const seconds = parseInt(m![1]!, 16);
    expect(seconds).toBeGreaterThanOrEqual(before);
    expect(seconds).toBeLessThanOrEqual(after);

    const incoming = 'Root=1-67891233-abcdef012345678912345678;CalledFrom=app';
    await get(`${alb.url}/trace`, { 'x-amzn-trace-id': incoming });
    expect(a!.seen.at(-1)!.headers['x-amzn-trace-id']).toMatch(/^Self=1-[0-9a-f]{8}-[0-9a-f]{24};Root=1-67891233-abcdef012345678912345678;CalledFrom=app$/);
  });

  it('does not forward hop-by-hop headers: Connection-listed ones, Keep-Alive, Proxy-Connection', async () => {
    const [a] = await targets('a');
    const alb = await albFor([a!]);
    const raw = await rawExchange(
      alb.url,
      'GET /hop HTTP/1.1\r\nHost: example.com\r\nConnection: close, X-Secret\r\nX-Secret: s3cret\r\n' +
        'Keep-Alive: timeout=5\r\nProxy-Connection: keep-alive\r\nX-Kept: yes\r\n\r\n',
    );
    expect(parseRawResponse(raw).status).toBe(200);
    const seen = a!.seen.at(-1)!;
    expect(seen.headers['x-kept']).toBe('yes');
    expect(seen.headers['x-secret']).toBeUndefined();
    expect(seen.headers['keep-alive']).toBeUndefined();
    expect(seen.headers['proxy-connection']).toBeUndefined();
    expect(seen.headers.connection ?? '').not.toMatch(/x-secret|close/i);
  });

  it('answers 463 to an X-Forwarded-For with more than 30 addresses, and forwards one with 30', async () => {
    const [a] = await targets('a');
    const alb = await albFor([a!]);
    const addresses = (n: number) => Array.from({ length: n }, (_, i) => `10.0.0.${i + 1}`).join(', ');
    const ok = await get(`${alb.url}/`, { 'x-forwarded-for': addresses(30) });
    expect(ok.status).toBe(200);
    const rejected = await get(`${alb.url}/`, { 'x-forwarded-for': addresses(31) });
    expect(rejected.status).toBe(463);
    expect(rejected.headers.server).toBe('awselb/2.0');
    expect(rejected.body).toContain('<title>463</title>');
    expect(a!.seen).toHaveLength(1);
  });
});

describe('streaming', () => {
  it.each([
    ['chunked', true],
    ['with Content-Length', false],
  ])('delivers a 6 MB request body %s to the target intact', async (_name, chunked) => {
    const [a] = await targets('a');
    a!.handler = (req, res) => {
      const hash = createHash('sha256');
      let bytes = 0;
      req.on('data', (c: Buffer) => {
        hash.update(c);
        bytes += c.length;
      });
      req.on('end', () => res.end(JSON.stringify({ bytes, sha256: hash.digest('hex'), te: req.headers['transfer-encoding'] ?? null })));
    };
    const alb = await albFor([a!]);
    const chunks = Array.from({ length: 96 }, (_, i) => Buffer.alloc(64 * 1024, i));
    const total = Buffer.concat(chunks);
    const res = await request(`${alb.url}/upload`, {
      method: 'POST',
      body: chunked ? Readable.from(chunks) : total,
    });
    expect(res.statusCode).toBe(200);
    const seen = (await res.body.json()) as { bytes: number; sha256: string; te: string | null };
    expect(seen.bytes).toBe(total.length);
    expect(seen.sha256).toBe(createHash('sha256').update(total).digest('hex'));
    expect(seen.te).toBe(chunked ? 'chunked' : null);
  });

  it('streams the request body: the target reads the first chunk before the client sends the last', async () => {
    const [a] = await targets('a');
    const events: string[] = [];
    let targetGotFirst!: () => void;
    const gotFirst = new Promise<void>((r) => (targetGotFirst = r));
    a!.handler = (req, res) => {
      const parts: string[] = [];
      req.on('data', (c: Buffer) => {
        parts.push(c.toString());
        if (parts.length === 1) {
          events.push('target:first');
          targetGotFirst();
        }
      });
      req.on('end', () => res.end(parts.join('')));
    };
    const alb = await albFor([a!]);
    const body = new Readable({ read() {} });
    const pending = request(`${alb.url}/up`, { method: 'POST', body });
    body.push('first;');
    events.push('client:first');
    await withTimeout(gotFirst, 5_000, 'the target never saw the first chunk while the body was still open');
    events.push('client:last');
    body.push('last');
    body.push(null);
    const res = await pending;
    expect(await res.body.text()).toBe('first;last');
    expect(events).toEqual(['client:first', 'target:first', 'client:last']);
  });

  it('streams the response: the client sees the first chunk before the target sends the last', async () => {
    const [a] = await targets('a');
    const events: string[] = [];
    let clientGotFirst!: () => void;
    const gotFirst = new Promise<void>((r) => (clientGotFirst = r));
    a!.handler = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('first;');
      events.push('target:first');
      void withTimeout(gotFirst, 5_000, '').then(
        () => {
          events.push('target:last');
          res.end('last');
        },
        () => {
          events.push('target:last-after-timeout');
          res.end('last');
        },
      );
    };
    const alb = await albFor([a!]);
    const res = await request(`${alb.url}/slow`);
    expect(res.statusCode).toBe(200);
    const received: string[] = [];
    for await (const chunk of res.body) {
      received.push(String(chunk));
      if (received.length === 1) {
        events.push('client:first');
        clientGotFirst();
      }
    }
    expect(received.join('')).toBe('first;last');
    expect(received[0]).toBe('first;');
    expect(events).toEqual(['target:first', 'client:first', 'target:last']);
  });
});

describe('connections to targets', () => {
  it('reuses keep-alive connections: 10 sequential requests arrive on one TCP connection', async () => {
    const [a] = await targets('a');
    const alb = await albFor([a!]);
    for (let i = 0; i < 10; i++) expect((await get(`${alb.url}/ka/${i}`)).status).toBe(200);
    expect(a!.seen).toHaveLength(10);
    expect(new Set(a!.seen.map((s) => s.remotePort)).size).toBe(1);
  });
});

describe('routing algorithms', () => {
  it('round_robin rotates through three healthy targets in order', async () => {
    const ts = await targets('a', 'b', 'c');
    const alb = await albFor(ts);
    const bodies: string[] = [];
    for (let i = 0; i < 12; i++) bodies.push((await get(`${alb.url}/rr`)).body);
    for (let i = 3; i < bodies.length; i++) expect(bodies[i]).toBe(bodies[i - 3]);
    expect(new Set(bodies.slice(0, 3))).toEqual(new Set(['a', 'b', 'c']));
  });

  it('least_outstanding_requests sends new requests away from a target holding a slow one', async () => {
    const ts = await targets('a', 'b', 'c');
    const [a, b, c] = ts as [TestTarget, TestTarget, TestTarget];
    const held: Array<() => void> = [];
    a.handler = (_req, res) => void held.push(() => res.end('a-slow'));
    defer(() => held.forEach((release) => release()));
    const alb = await albFor(ts, { targetGroupAttributes: { 'load_balancing.algorithm.type': 'least_outstanding_requests' } });

    // Send requests one at a time until one of them is held by a (b and c answer at once).
    let slow: Promise<{ status: number; body: string }> | undefined;
    for (let i = 0; i < 6 && slow === undefined; i++) {
      const p = get(`${alb.url}/lor`);
      const first = await Promise.race([p.then(() => 'answered' as const), waitFor(() => a.seen.length > 0 && 'held', { what: 'a request on a' })]);
      if (first === 'held') slow = p;
    }
    expect(slow, 'a never received a request').toBeDefined();

    for (let i = 0; i < 20; i++) expect((await get(`${alb.url}/lor`)).status).toBe(200);
    expect(a.seen).toHaveLength(1);
    expect(b.seen.length + c.seen.length).toBeGreaterThanOrEqual(20);
    held.splice(0).forEach((release) => release());
    expect(await slow).toMatchObject({ status: 200, body: 'a-slow' });
  });
});

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms: ${what}`)), ms);
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}
