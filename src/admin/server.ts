/**
 * The admin API (loopback by default; JSON in the ELBv2 API's shapes, camelCase): describe and
 * change target groups and load balancers of a running LocalElb, and `/metrics` for
 * Prometheus. Errors are `{ "code", "message" }` with 400, 404, 405 or 409.
 */
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { formatPath, intIn, show, strict } from '../config/fields.ts';
import { hostForUrl } from '../core/addresses.ts';
import { bindListener } from '../core/listen.ts';
import { ElbError, ErrorCodes, isElbError } from '../core/errors.ts';
import { silentLogger, type Logger } from '../core/logger.ts';
import type { Clock } from '../core/clock.ts';
import { createDashboard } from './dashboard/dashboard.ts';
import type { ElbView, LoadBalancer, PodsView } from '../runtime/runtime.ts';

export interface AdminServerOptions {
  readonly address?: string;
  readonly port?: number;
  readonly logger?: Logger;
  /** The dashboard's clock (default: the LocalElb's, else the real one). */
  readonly clock?: Clock;
}

export interface AdminServer {
  readonly url: string;
  /** The live dashboard (`${url}/`). */
  readonly dashboardUrl: string;
  close(): Promise<void>;
}

class HttpError extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

// The config's field builders, so a bad request reads like a bad config file:
// `targets[0].port: must be an integer 1–65535: got 70000`.
const targetsBody = strict({
  targets: z
    .array(
      strict({
        id: z.string({ error: (iss) => `must be an IP address or host name: got ${show(iss.input)}` }).min(1, { error: 'must be an IP address or host name: got ""' }),
        port: intIn(1, 65535).optional(),
      }),
      { error: (iss) => `must be a list of { id, port? }: got ${show(iss.input)}` },
    )
    .min(1, { error: 'must list at least one target: got []' }),
});
const attributesBody = strict({
  attributes: z
    .array(
      strict({
        key: z.string({ error: (iss) => `must be an attribute key such as "deregistration_delay.timeout_seconds": got ${show(iss.input)}` }),
        value: z.union([z.string(), z.number(), z.boolean()], { error: (iss) => `must be a string: got ${show(iss.input)}` }).transform(String),
      }),
      { error: (iss) => `must be a list of { key, value }: got ${show(iss.input)}` },
    )
    .min(1, { error: 'must list at least one attribute: got []' }),
});
const scaleBody = strict({ replicas: intIn(0, 100) });

const MAX_BODY_BYTES = 1024 * 1024;

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new HttpError(413, ErrorCodes.BODY_TOO_LARGE, `the request body must be at most ${MAX_BODY_BYTES} bytes: got more`);
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new HttpError(400, ErrorCodes.INVALID_ARGUMENT, `the request body must be JSON: ${(err as Error).message}`);
  }
}

function validate<T>(schema: z.ZodType<T>, body: unknown): T {
  const result = schema.safeParse(body);
  if (!result.success) {
    const message = result.error.issues.map((i) => `${i.path.length ? `${formatPath(i.path)}: ` : ''}${i.message}`).join('; ');
    throw new HttpError(400, ErrorCodes.INVALID_ARGUMENT, message);
  }
  return result.data;
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body, null, 2)}\n`;
  res.writeHead(status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text) });
  res.end(text);
}

const toAttributeList = (a: Readonly<Record<string, string>>) => Object.entries(a).map(([key, value]) => ({ key, value }));

type Handler = (req: IncomingMessage, params: string[], url: URL) => Promise<[number, unknown]> | [number, unknown];

/** Serves the admin API for `elb` until `close()`. */
export async function startAdminServer(elb: ElbView, options: AdminServerOptions = {}): Promise<AdminServer> {
  const log = (options.logger ?? silentLogger()).child({ component: 'admin' });
  const routes: Array<{ method: string; pattern: RegExp; handler: Handler }> = [];
  const route = (method: string, pattern: RegExp, handler: Handler) => routes.push({ method, pattern, handler });

  route('GET', /^\/healthz$/, () => [200, { status: 'ok' }]);
  route('GET', /^\/v1\/target-groups$/, () => [200, { targetGroups: elb.targetGroups().map((g) => g.describe()) }]);
  route('GET', /^\/v1\/target-groups\/([^/]+)$/, (_req, [name]) => [200, { targetGroups: [elb.targetGroup(name!).describe()] }]);
  route('GET', /^\/v1\/target-groups\/([^/]+)\/target-health$/, (_req, [name], url) => {
    const ids = url.searchParams.getAll('id');
    const ports = url.searchParams.getAll('port');
    const specs = ids.map((id, i) => (ports[i] !== undefined ? { id, port: Number(ports[i]) } : { id }));
    const include = url.searchParams.getAll('include').filter((i): i is 'AnomalyDetection' | 'All' => i === 'AnomalyDetection' || i === 'All');
    return [200, { targetHealthDescriptions: elb.targetGroup(name!).describeTargetHealth(specs.length > 0 ? specs : undefined, { include }) }];
  });
  route('POST', /^\/v1\/target-groups\/([^/]+)\/register-targets$/, async (req, [name]) => {
    const group = elb.targetGroup(name!);
    const body = validate(targetsBody, await readJson(req));
    group.register(body.targets);
    return [200, {}];
  });
  route('POST', /^\/v1\/target-groups\/([^/]+)\/deregister-targets$/, async (req, [name], url) => {
    const group = elb.targetGroup(name!);
    const body = validate(targetsBody, await readJson(req));
    const drained = group.deregister(body.targets);
    if (url.searchParams.get('wait') === 'true') return [200, { drainOutcomes: await drained }];
    return [200, {}];
  });
  route('GET', /^\/v1\/target-groups\/([^/]+)\/attributes$/, (_req, [name]) => [200, { attributes: toAttributeList(elb.targetGroup(name!).attributes()) }]);
  route('PUT', /^\/v1\/target-groups\/([^/]+)\/attributes$/, async (req, [name]) => {
    const group = elb.targetGroup(name!);
    const body = validate(attributesBody, await readJson(req));
    return [200, { attributes: toAttributeList(group.modifyAttributes(Object.fromEntries(body.attributes.map((a) => [a.key, a.value])))) }];
  });
  route('GET', /^\/v1\/target-groups\/([^/]+)\/pods$/, (_req, [name]) => [200, { pods: podsOf(elb).status(name!) }]);
  route('POST', /^\/v1\/target-groups\/([^/]+)\/rollout$/, async (_req, [name], url) => {
    const deployment = podsOf(elb).deployment(name!);
    const done = deployment.rollout();
    if (url.searchParams.get('wait') === 'true') await done;
    else done.catch((err: unknown) => log.error({ err }, 'rollout failed'));
    return [url.searchParams.get('wait') === 'true' ? 200 : 202, { revision: deployment.revision, pods: deployment.status() }];
  });
  route('POST', /^\/v1\/target-groups\/([^/]+)\/scale$/, async (req, [name]) => {
    const deployment = podsOf(elb).deployment(name!);
    const body = validate(scaleBody, await readJson(req));
    deployment.scale(body.replicas);
    return [200, { replicas: deployment.replicas, pods: deployment.status() }];
  });
  route('DELETE', /^\/v1\/target-groups\/([^/]+)\/pods\/([^/]+)$/, (_req, [name, pod]) => {
    const deployment = podsOf(elb).deployment(name!);
    deployment.deletePod(pod!).catch((err: unknown) => log.error({ err }, 'pod deletion failed'));
    return [202, { pods: deployment.status() }];
  });
  route('GET', /^\/v1\/config$/, () => {
    if (elb.exportConfig === undefined) throw new ElbError(ErrorCodes.NOT_FOUND, 'this local-elb has no single config to export (local-elb kind runs one per Service or Ingress)');
    return [200, { config: elb.exportConfig() }];
  });
  route('GET', /^\/v1\/load-balancers$/, () => [200, { loadBalancers: elb.loadBalancers().map(describeLoadBalancer) }]);
  route('GET', /^\/v1\/load-balancers\/([^/]+)\/attributes$/, (_req, [name]) => [200, { attributes: toAttributeList(elb.loadBalancer(name!).attributes()) }]);
  route('PUT', /^\/v1\/load-balancers\/([^/]+)\/attributes$/, async (req, [name]) => {
    const lb = elb.loadBalancer(name!);
    const body = validate(attributesBody, await readJson(req));
    return [200, { attributes: toAttributeList(lb.modifyAttributes(Object.fromEntries(body.attributes.map((a) => [a.key, a.value])))) }];
  });

  const dashboard = createDashboard(elb, { address: options.address ?? '127.0.0.1', ...(options.clock !== undefined ? { clock: options.clock } : {}) });
  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://admin');
    void (async () => {
      try {
        if (dashboard.handle(req, res, url)) return;
        const refusal = dashboard.checkMutation(req);
        if (refusal !== undefined) return send(res, refusal.status, { code: refusal.code, message: refusal.message });
        if (url.pathname === '/metrics' && req.method === 'GET') {
          const text = await elb.metrics.registry.metrics();
          res.writeHead(200, { 'Content-Type': elb.metrics.registry.contentType });
          res.end(text);
          return;
        }
        const matches = routes.filter((r) => r.pattern.test(url.pathname));
        if (matches.length === 0) throw new HttpError(404, ErrorCodes.NOT_FOUND, `no admin route ${url.pathname}`);
        const r = matches.find((m) => m.method === req.method);
        if (r === undefined) {
          res.setHeader('Allow', matches.map((m) => m.method).join(', '));
          throw new HttpError(405, ErrorCodes.METHOD_NOT_ALLOWED, `${url.pathname} takes ${matches.map((m) => m.method).join(' | ')}: got ${req.method}`);
        }
        const params = r.pattern.exec(url.pathname)!.slice(1).map((p) => decodeURIComponent(p));
        const [status, body] = await r.handler(req, params, url);
        send(res, status, body);
      } catch (err) {
        if (err instanceof HttpError) return send(res, err.status, { code: err.code, message: err.message });
        if (isElbError(err)) {
          const status = err.code === ErrorCodes.NOT_FOUND ? 404 : err.code === ErrorCodes.INVALID_ARGUMENT ? 400 : 409;
          return send(res, status, { code: err.code, message: err.message });
        }
        log.error({ err }, 'admin request failed');
        send(res, 500, { code: ErrorCodes.INTERNAL, message: String(err) });
      }
    })();
  });
  const address = options.address ?? '127.0.0.1';
  await bindListener(server, (done) => server.listen(options.port ?? 0, address, done), `the admin API on ${address}:${options.port ?? 0}`, log);
  const { port } = server.address() as AddressInfo;
  const url = `http://${hostForUrl(address)}:${port}`;
  log.info({ event: 'admin.started', url }, `admin API on ${url}`);
  return {
    url,
    dashboardUrl: `${url}/`,
    close: () =>
      new Promise<void>((resolve) => {
        dashboard.close();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Local pods of the view, or the error a view without them (`kind`) gives. */
function podsOf(elb: ElbView): PodsView {
  if (elb.localPods === undefined) throw new ElbError(ErrorCodes.NOT_FOUND, 'local pods do not exist in kind mode: use kubectl');
  return elb.localPods;
}

function describeLoadBalancer(lb: LoadBalancer) {
  return {
    loadBalancerName: lb.name,
    type: lb.config.type,
    ...(lb.config.listeners.length > 0 ? { dnsName: lb.url(0).replace(/^[a-z]+:\/\//, '') } : {}),
    listeners: lb.config.listeners.map((l, i) => ({
      protocol: l.protocol,
      port: lb.ports[i],
      address: l.address,
      url: lb.url(i),
      rules: l.rules.length,
    })),
    targetGroupNames: lb.targetGroupNames(),
  };
}
