/**
 * A small fake Kubernetes API server that speaks real HTTP on 127.0.0.1, for testing the
 * Kubernetes integration with the real `@kubernetes/client-node` (and kubectl) without a cluster.
 *
 * What it does like the real kube-apiserver:
 * - paths, verbs, List/Status shapes, discovery (/api, /apis, /api/v1, /apis/<g>/<v>, /version),
 *   server-side printing (meta.k8s.io/v1 Table) for `kubectl get`;
 * - one global resourceVersion counter (as etcd), uid, creationTimestamp, generation (bumped on
 *   spec changes), no-op writes do not bump it (configurable), finalizers defer deletion
 *   (deletionTimestamp set, DELETED when the last finalizer goes), namespaces terminate by
 *   deleting their contents first;
 * - CRD versions served side by side on one store (`storageVersion`: objects kept as the storage
 *   version, read as the version asked for, conversion None);
 * - status subresources: writes to the main resource keep the stored status, writes to
 *   `/status` change only status; create resets status (pods start `Pending`);
 * - labelSelector / fieldSelector on list and watch (a watch whose selector stops or starts
 *   matching an object gets DELETED / ADDED, as the real server does);
 * - watch: newline-delimited JSON events replayed from a history from `resourceVersion`,
 *   `resourceVersion` "" or "0" sends the current objects as ADDED first, bookmarks, timeoutSeconds,
 *   410 Expired (an ERROR event with a Status, then the stream ends) for a compacted resourceVersion;
 * - PATCH as JSON merge patch (RFC 7386, json-merge-patch), JSON patch (RFC 6902, fast-json-patch)
 *   and strategic merge patch (./kube-strategic-merge.ts);
 * - errors as Status objects: 404 NotFound, 409 AlreadyExists / Conflict, 422 Invalid,
 *   415 UnsupportedMediaType, 400 BadRequest, 405 MethodNotAllowed, 410 Expired.
 * What it does not do: authentication, admission, server-side apply, protobuf, OpenAPI
 * (/openapi/v2 and /openapi/v3 answer 404; kubectl then skips schema validation), garbage
 * collection by ownerReferences, pod lifecycle (nothing runs pods: tests write pod status).
 *
 * Test hooks on the returned object act on the same store and emit the same watch events.
 */
import http from 'node:http';
import type { Socket } from 'node:net';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import fastJsonPatch from 'fast-json-patch';
import type { Operation as JsonPatchOperation } from 'fast-json-patch';
import { apply as applyMergePatch } from 'json-merge-patch';
import { KubeConfig } from '@kubernetes/client-node';
import { isJsonObject, strategicMergePatch, StrategicMergePatchError, type Json, type JsonObject } from './kube-strategic-merge.ts';
import { renderTable, wantsTable, type PrinterColumn } from './kube-tables.ts';

// ---------------------------------------------------------------------------------------------
// Public types

/** A stored Kubernetes object as JSON (apiVersion, kind, metadata, spec, status, …). */
export type KubeObject = Record<string, any>;

export interface ResourceTypeSpec {
  /** API group, '' for the core group. */
  group: string;
  version: string;
  /** Plural resource name as in the URL: `pods`. */
  plural: string;
  kind: string;
  namespaced: boolean;
  /** Subresources served; only 'status' is implemented. */
  subresources?: string[];
  /** Singular resource name (discovery's singularName); default the kind in lower case. */
  singular?: string;
  shortNames?: string[];
  categories?: string[];
  /** DELETE answers with the deleted object (pods, services) rather than a Status. */
  returnDeletedObject?: boolean;
  /**
   * For a CRD version that is served but not stored: the storage version. Both versions share
   * one store (objects are kept as the storage version and read as the version asked for, the
   * CRD's `conversion: None`), as `elbv2.k8s.aws` v1alpha1 and v1beta1 TargetGroupBindings do.
   */
  storageVersion?: string;
  /**
   * A CRD's structural-schema defaults, applied as the real server applies them on every write
   * (e.g. ./gateway-api-crds.ts). `old` is the stored object on updates.
   */
  defaults?: (obj: KubeObject, old: KubeObject | undefined) => void;
  /**
   * A CRD's structural-schema and CEL validation, run after the defaults on every write: the
   * causes of a 422 Invalid (`field`, `message`, `reason` as the real server words them), none when valid.
   */
  validate?: (obj: KubeObject) => Array<{ field: string; message: string; reason: string }>;
  /** A CRD's additionalPrinterColumns (after NAME) for `kubectl get`, as ./kube-tables.ts renders them. */
  printerColumns?: PrinterColumn[];
}

export interface FakeKubeApiServerOptions {
  /** Interval of BOOKMARK events on watches with allowWatchBookmarks=true. Default 60 000 (the real server sends about one a minute). */
  bookmarkIntervalMs?: number;
  /** Server-side timeout for watches that give no timeoutSeconds (seconds). Default: none (the real server picks 30–60 min). */
  watchTimeoutSeconds?: number;
  /** Watch history kept for replay; older events are compacted away (410 for watches from before). Default 10 000. */
  historyLimit?: number;
  /** Namespaces created at start. Default: default, kube-system, kube-public, kube-node-lease. */
  seedNamespaces?: string[];
  /** Namespaced objects need their namespace to exist (and not be terminating), as in Kubernetes. Default true. */
  strictNamespaces?: boolean;
  /** A write that changes nothing: 'skip' (the real server: no new resourceVersion, no event) or 'bump'. Default 'skip'. */
  noopWrites?: 'skip' | 'bump';
  /**
   * How a watch from a compacted resourceVersion is refused: 'event' (HTTP 200, one ERROR event
   * carrying a 410 Status, then the stream ends: what the watch cache does) or 'status' (HTTP 410
   * with a Status body). Default 'event'.
   */
  expiredWatch?: 'event' | 'status';
  /** Extra resource types (e.g. CRDs such as elbv2.k8s.aws/v1beta1 targetgroupbindings). */
  resources?: ResourceTypeSpec[];
  /** Port to listen on (default 0: any free port). */
  port?: number;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  /** The request is a watch (watch=true|1 or a /watch/ path). */
  watch: boolean;
  contentType: string | undefined;
  accept: string | undefined;
  /** Response status, once the response has started. */
  status?: number;
}

export type PatchType = 'merge' | 'strategic' | 'json' | string;

export interface InjectedError {
  method?: string;
  /** Exact path or a RegExp tested against the path. */
  path?: string | RegExp;
  watch?: boolean;
  code: number;
  reason?: string;
  message?: string;
  /** How many matching requests fail (default 1). */
  times?: number;
}

/** Requests to hold back (answered as usual once released). */
export interface HeldRequests {
  /** Resolves when the first matching request has arrived (and is being held). */
  readonly arrived: Promise<void>;
  /** Lets every held request through, and stops holding new ones. */
  release(): void;
}

export interface FakeKubeApiServer {
  readonly url: string;
  readonly port: number;
  /** Every request received, in order (method, path, query, …). */
  readonly requests: RecordedRequest[];
  /** A kubeconfig (YAML) for this server: cluster `fake`, user `fake-user` (no credentials), context `fake` (namespace default). */
  kubeconfigYaml(): string;
  /** Writes the kubeconfig to `dir/kubeconfig` and returns the path. */
  writeKubeconfig(dir: string): string;
  /** A KubeConfig loaded from `kubeconfigYaml()`. */
  kubeConfig(): KubeConfig;

  /** Creates an object as POST does (namespace from metadata.namespace, default 'default'). Unlike POST, a given status is kept unless keepStatus is false. */
  create<T = KubeObject>(obj: object, opts?: { keepStatus?: boolean }): T;
  /** Replaces an object as PUT does (409 Conflict on a stale metadata.resourceVersion); subresource 'status' changes only status. */
  update<T = KubeObject>(obj: object, opts?: { subresource?: 'status' }): T;
  /** Patches as PATCH does; type 'merge' (default), 'strategic', 'json' or a Content-Type. */
  patch<T = KubeObject>(apiVersion: string, kind: string, namespace: string | undefined, name: string, patch: unknown, opts?: { type?: PatchType; subresource?: 'status' }): T;
  /** Deletes as DELETE does (deferred while finalizers remain); returns the deleted (or now terminating) object. */
  delete<T = KubeObject>(apiVersion: string, kind: string, namespace: string | undefined, name: string): T;
  get<T = KubeObject>(apiVersion: string, kind: string, namespace: string | undefined, name: string): T | undefined;
  list<T = KubeObject>(apiVersion: string, kind: string, namespace?: string): T[];
  /** The current (latest) resourceVersion. */
  resourceVersion(): number;
  /** Serves one more resource type from now on (discovery included), as installing a CRD does. */
  installResource(spec: ResourceTypeSpec): void;
  /** Forgets watch history up to `rv` (default: the current resourceVersion): watches from an older resourceVersion get 410 Expired. */
  compact(rv?: number): void;
  /** Ends every open watch: 'clean' ends the response (chunked terminator), 'reset' destroys the socket with a TCP RST. Returns how many. */
  dropWatches(opts?: { mode?: 'clean' | 'reset' }): number;
  /** Open watch streams (optionally of one type). */
  watchCount(filter?: { apiVersion: string; kind: string }): number;
  /** Makes the next matching request(s) fail with a Status of `code`. */
  injectError(err: InjectedError): void;
  /** Holds matching requests (method, path as in injectError) until `release()`: a slow API server, without a clock. */
  hold(match: Omit<InjectedError, 'code' | 'reason' | 'message' | 'times'>): HeldRequests;
  /**
   * An API server restart: watches end ('clean', default) or are reset ('reset'), the listening
   * socket and every connection close, `whileDown` runs (connections are refused meanwhile),
   * then it listens again on the same port with the same state.
   */
  restart(opts?: { mode?: 'clean' | 'reset'; whileDown?: () => Promise<void> | void }): Promise<void>;
  close(): Promise<void>;
}

/** An API error as the server would answer it; `status` is the Status object. */
export class KubeApiError extends Error {
  readonly code: number;
  readonly status: KubeObject;
  constructor(code: number, reason: string, message: string, details?: KubeObject) {
    super(message);
    this.code = code;
    this.status = { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, ...(details ? { details } : {}), code };
  }
}

// ---------------------------------------------------------------------------------------------
// Resource types

interface ResourceType extends ResourceTypeSpec {
  apiVersion: string;
  /** The version objects are stored as (this one, or `storageVersion`'s). */
  storedAs: string;
  key: string;
  subresources: string[];
}

const BUILTIN: ResourceTypeSpec[] = [
  { group: '', version: 'v1', plural: 'namespaces', kind: 'Namespace', namespaced: false, subresources: ['status'], shortNames: ['ns'] },
  { group: '', version: 'v1', plural: 'nodes', kind: 'Node', namespaced: false, subresources: ['status'], shortNames: ['no'] },
  { group: '', version: 'v1', plural: 'pods', kind: 'Pod', namespaced: true, subresources: ['status'], shortNames: ['po'], categories: ['all'], returnDeletedObject: true },
  { group: '', version: 'v1', plural: 'services', kind: 'Service', namespaced: true, subresources: ['status'], shortNames: ['svc'], categories: ['all'], returnDeletedObject: true },
  { group: '', version: 'v1', plural: 'events', kind: 'Event', namespaced: true, shortNames: ['ev'] },
  { group: '', version: 'v1', plural: 'secrets', kind: 'Secret', namespaced: true },
  { group: '', version: 'v1', plural: 'configmaps', kind: 'ConfigMap', namespaced: true, shortNames: ['cm'] },
  { group: 'discovery.k8s.io', version: 'v1', plural: 'endpointslices', kind: 'EndpointSlice', namespaced: true },
  { group: 'networking.k8s.io', version: 'v1', plural: 'ingresses', kind: 'Ingress', namespaced: true, subresources: ['status'], shortNames: ['ing'] },
  { group: 'networking.k8s.io', version: 'v1', plural: 'ingressclasses', kind: 'IngressClass', namespaced: false },
];

function resourceType(spec: ResourceTypeSpec): ResourceType {
  const gv = (v: string) => (spec.group ? `${spec.group}/${v}` : v);
  const apiVersion = gv(spec.version);
  const storedAs = gv(spec.storageVersion ?? spec.version);
  return { ...spec, subresources: spec.subresources ?? [], apiVersion, storedAs, key: `${storedAs}/${spec.plural}` };
}

/** A stored object as the version `rt` serves (only apiVersion differs: conversion None). */
const asVersion = (rt: ResourceType, o: KubeObject): KubeObject => (o.apiVersion === rt.apiVersion ? o : { ...o, apiVersion: rt.apiVersion });

/** `pods`, `ingresses.networking.k8s.io`: how the server names a resource in messages. */
const qualified = (rt: ResourceType) => (rt.group ? `${rt.plural}.${rt.group}` : rt.plural);
const groupDetail = (rt: ResourceType) => (rt.group ? { group: rt.group } : {});

function notFound(rt: ResourceType, name: string): KubeApiError {
  return new KubeApiError(404, 'NotFound', `${qualified(rt)} "${name}" not found`, { name, ...groupDetail(rt), kind: rt.plural });
}
function alreadyExists(rt: ResourceType, name: string): KubeApiError {
  return new KubeApiError(409, 'AlreadyExists', `${qualified(rt)} "${name}" already exists`, { name, ...groupDetail(rt), kind: rt.plural });
}
function conflict(rt: ResourceType, name: string, why = 'the object has been modified; please apply your changes to the latest version and try again'): KubeApiError {
  return new KubeApiError(409, 'Conflict', `Operation cannot be fulfilled on ${qualified(rt)} "${name}": ${why}`, { name, ...groupDetail(rt), kind: rt.plural });
}
function invalid(rt: ResourceType, name: string, causes: Array<{ field: string; message: string; reason: string }>): KubeApiError {
  const msg = `${rt.kind}${rt.group ? `.${rt.group}` : ''} "${name}" is invalid: ${causes.map((c) => `${c.field}: ${c.message}`).join(', ')}`;
  return new KubeApiError(422, 'Invalid', msg, { name, ...groupDetail(rt), kind: rt.kind, causes });
}
const badRequest = (message: string) => new KubeApiError(400, 'BadRequest', message);
const serverNotFound = () => new KubeApiError(404, 'NotFound', 'the server could not find the requested resource', {});
const methodNotAllowed = () => new KubeApiError(405, 'MethodNotAllowed', 'the server does not allow this method on the requested resource', {});
const expired = (message: string) => new KubeApiError(410, 'Expired', message);
const PATCH_TYPES: Record<string, 'merge' | 'strategic' | 'json'> = {
  'application/merge-patch+json': 'merge',
  'application/strategic-merge-patch+json': 'strategic',
  'application/json-patch+json': 'json',
};
const unsupportedMediaType = (ct: string) =>
  new KubeApiError(
    415,
    'UnsupportedMediaType',
    `the body of the request was in an unknown format (${ct || 'none'}) - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json`,
    {},
  );

const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const TRUE_VALUES = new Set(['1', 't', 'T', 'true', 'TRUE', 'True']);

// ---------------------------------------------------------------------------------------------
// Selectors

interface LabelRequirement {
  key: string;
  op: '=' | '!=' | 'in' | 'notin' | 'exists' | '!exists';
  values: string[];
}

function splitTopLevel(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '(') depth++;
    if (ch === ')') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += ch;
  }
  out.push(cur);
  return out.map((t) => t.trim()).filter((t) => t !== '');
}

const KEY = String.raw`[A-Za-z0-9]([-A-Za-z0-9_./]*[A-Za-z0-9])?`;
const VALUE = String.raw`[A-Za-z0-9._-]*`;

export function parseLabelSelector(selector: string): LabelRequirement[] {
  return splitTopLevel(selector).map((term) => {
    let m: RegExpMatchArray | null;
    if ((m = term.match(new RegExp(`^!\\s*(${KEY})$`)))) return { key: m[1]!, op: '!exists', values: [] };
    if ((m = term.match(new RegExp(`^(${KEY})\\s+(in|notin)\\s*\\((.*)\\)$`)))) {
      return { key: m[1]!, op: m[3] as 'in' | 'notin', values: m[4]!.split(',').map((v) => v.trim()) };
    }
    if ((m = term.match(new RegExp(`^(${KEY})\\s*(==|=|!=)\\s*(${VALUE})$`)))) return { key: m[1]!, op: m[3] === '!=' ? '!=' : '=', values: [m[4]!] };
    if ((m = term.match(new RegExp(`^(${KEY})$`)))) return { key: m[1]!, op: 'exists', values: [] };
    throw badRequest(`unable to parse requirement: ${JSON.stringify(term)}`);
  });
}

function labelsMatch(reqs: LabelRequirement[], labels: Record<string, string> | undefined): boolean {
  const l = labels ?? {};
  return reqs.every((r) => {
    const has = Object.hasOwn(l, r.key);
    const v = l[r.key];
    switch (r.op) {
      case '=':
        return has && v === r.values[0];
      case '!=':
        return !has || v !== r.values[0];
      case 'in':
        return has && r.values.includes(v!);
      case 'notin':
        return !has || !r.values.includes(v!);
      case 'exists':
        return has;
      case '!exists':
        return !has;
    }
  });
}

interface FieldRequirement {
  path: string[];
  negate: boolean;
  value: string;
}

export function parseFieldSelector(selector: string): FieldRequirement[] {
  return splitTopLevel(selector).map((term) => {
    const m = term.match(/^([A-Za-z0-9_.]+)\s*(==|=|!=)\s*(.*)$/);
    if (!m) throw badRequest(`invalid selector: '${selector}'; can't understand '${term}'`);
    return { path: m[1]!.split('.'), negate: m[2] === '!=', value: m[3]! };
  });
}

function fieldsMatch(reqs: FieldRequirement[], obj: KubeObject): boolean {
  return reqs.every((r) => {
    let v: any = obj;
    for (const p of r.path) v = v?.[p];
    const s = v === undefined || v === null ? '' : String(v);
    return r.negate ? s !== r.value : s === r.value;
  });
}

// ---------------------------------------------------------------------------------------------
// Implementation

interface HistoryEntry {
  rv: number;
  rt: ResourceType;
  type: 'ADDED' | 'MODIFIED' | 'DELETED';
  object: KubeObject;
  old: KubeObject | undefined;
}

interface Watcher {
  rt: ResourceType;
  namespace: string | undefined;
  labels: LabelRequirement[];
  fields: FieldRequirement[];
  res: http.ServerResponse;
  timers: NodeJS.Timeout[];
  /** `kubectl get -w`: objects are sent as one-row Tables; the value is the includeObject parameter. */
  table: { includeObject: string | null } | undefined;
}

const isPlainObject = (v: unknown): boolean => typeof v === 'object' && v !== null && !Array.isArray(v);
const json = (v: unknown): KubeObject => JSON.parse(JSON.stringify(v));
const nowIso = () => new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
const objKey = (ns: string | undefined, name: string) => `${ns ?? ''}/${name}`;
const randomSuffix = () =>
  Array.from(randomBytes(5), (b) => 'bcdfghjklmnpqrstvwxz2456789'[b % 27])
    .join('');

const gvPath = (apiVersion: string) => (apiVersion.includes('/') ? `apis/${apiVersion}` : `api/${apiVersion}`);

/**
 * A minimal OpenAPI v3 document for one group/version: only the PATCH operations, tagged with
 * x-kubernetes-group-version-kind and listing the fieldValidation parameter. That is what kubectl
 * looks up to decide that the server validates fields (so `kubectl apply`/`create` work without
 * --validate=false). No request body media types and no schemas are given, so kubectl computes
 * apply patches from its compiled-in types, as it does for built-in resources without OpenAPI.
 */
function openApiV3(gv: string, types: ResourceType[]): KubeObject {
  const param = (name: string) => ({ name, in: 'query', schema: { type: 'string', uniqueItems: true } });
  const paths: KubeObject = {};
  for (const t of types) {
    const base = t.namespaced ? `/${gv}/namespaces/{namespace}/${t.plural}/{name}` : `/${gv}/${t.plural}/{name}`;
    for (const sub of ['', ...t.subresources.map((s) => `/${s}`)]) {
      paths[base + sub] = {
        patch: {
          operationId: `patch${t.kind}${sub}`,
          parameters: [param('dryRun'), param('fieldManager'), param('fieldValidation'), { name: 'force', in: 'query', schema: { type: 'boolean', uniqueItems: true } }],
          responses: { '200': { description: 'OK' } },
          'x-kubernetes-action': 'patch',
          'x-kubernetes-group-version-kind': { group: t.group, version: t.version, kind: t.kind },
        },
      };
    }
  }
  return { openapi: '3.0.0', info: { title: 'Kubernetes', version: 'v1.32.0-fake' }, paths, components: { schemas: {} } };
}

class Server implements FakeKubeApiServer {
  url = '';
  port = 0;
  readonly requests: RecordedRequest[] = [];

  private readonly opts: Required<Omit<FakeKubeApiServerOptions, 'watchTimeoutSeconds' | 'resources' | 'port'>> & { watchTimeoutSeconds: number | undefined };
  private readonly types: ResourceType[];
  private readonly store = new Map<string, Map<string, KubeObject>>();
  private rv = 1;
  private compactedRv = 1;
  private history: HistoryEntry[] = [];
  private readonly watchers = new Set<Watcher>();
  private readonly sockets = new Set<Socket>();
  private injected: InjectedError[] = [];
  private holds: Array<{ match: Omit<InjectedError, 'code'>; arrive: () => void; released: Promise<void> }> = [];
  private nextClusterIp = 10;
  private nextNodePort = 30000;
  private server: http.Server;

  constructor(options: FakeKubeApiServerOptions) {
    this.opts = {
      bookmarkIntervalMs: options.bookmarkIntervalMs ?? 60_000,
      watchTimeoutSeconds: options.watchTimeoutSeconds,
      historyLimit: options.historyLimit ?? 10_000,
      seedNamespaces: options.seedNamespaces ?? ['default', 'kube-system', 'kube-public', 'kube-node-lease'],
      strictNamespaces: options.strictNamespaces ?? true,
      noopWrites: options.noopWrites ?? 'skip',
      expiredWatch: options.expiredWatch ?? 'event',
    };
    this.types = [...BUILTIN, ...(options.resources ?? [])].map(resourceType);
    for (const rt of this.types) if (!this.store.has(rt.key)) this.store.set(rt.key, new Map());
    this.server = this.makeServer();
    const nsType = this.typeOf('v1', 'Namespace');
    for (const ns of this.opts.seedNamespaces) this.createObject(nsType, undefined, { metadata: { name: ns } }, { keepStatus: false });
  }

  private makeServer(): http.Server {
    const server = http.createServer((req, res) => {
      this.handle(req, res).catch((err: unknown) => {
        if (!res.headersSent) this.sendError(res, err);
        else res.destroy();
      });
    });
    server.keepAliveTimeout = 30_000;
    server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    return server;
  }

  async listen(port: number): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, '127.0.0.1', () => {
        this.server.off('error', reject);
        resolve();
      });
    });
    const addr = this.server.address();
    if (addr === null || typeof addr === 'string') throw new Error('no address');
    this.port = addr.port;
    this.url = `http://127.0.0.1:${addr.port}`;
  }

  // ------------------------------------------------------------------ kubeconfig

  kubeconfigYaml(): string {
    // client-node refuses an http:// server unless insecure-skip-tls-verify is set.
    return [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: fake',
      '  cluster:',
      `    server: ${this.url}`,
      '    insecure-skip-tls-verify: true',
      'users:',
      '- name: fake-user',
      '  user: {}',
      'contexts:',
      '- name: fake',
      '  context:',
      '    cluster: fake',
      '    user: fake-user',
      '    namespace: default',
      'current-context: fake',
      '',
    ].join('\n');
  }

  writeKubeconfig(dir: string): string {
    mkdirSync(dir, { recursive: true });
    const file = join(dir, 'kubeconfig');
    writeFileSync(file, this.kubeconfigYaml(), { mode: 0o600 });
    return file;
  }

  kubeConfig(): KubeConfig {
    const kc = new KubeConfig();
    kc.loadFromString(this.kubeconfigYaml());
    return kc;
  }

  // ------------------------------------------------------------------ hooks

  private typeOf(apiVersion: string, kind: string): ResourceType {
    const rt = this.types.find((t) => t.apiVersion === apiVersion && t.kind === kind);
    if (!rt) throw new Error(`fake-kube-apiserver: no resource type ${apiVersion} ${kind}`);
    return rt;
  }

  create<T = KubeObject>(obj: object, opts: { keepStatus?: boolean } = {}): T {
    const o = json(obj);
    const rt = this.typeOf(o.apiVersion, o.kind);
    const ns = rt.namespaced ? (o.metadata?.namespace ?? 'default') : undefined;
    return this.createObject(rt, ns, o, { keepStatus: opts.keepStatus ?? true }) as T;
  }

  update<T = KubeObject>(obj: object, opts: { subresource?: 'status' } = {}): T {
    const o = json(obj);
    const rt = this.typeOf(o.apiVersion, o.kind);
    const ns = rt.namespaced ? (o.metadata?.namespace ?? 'default') : undefined;
    return this.updateObject(rt, ns, o.metadata?.name ?? '', o, { subresource: opts.subresource }) as T;
  }

  patch<T = KubeObject>(apiVersion: string, kind: string, namespace: string | undefined, name: string, patch: unknown, opts: { type?: PatchType; subresource?: 'status' } = {}): T {
    const rt = this.typeOf(apiVersion, kind);
    const t = opts.type ?? 'merge';
    const contentType = Object.entries(PATCH_TYPES).find(([, v]) => v === t)?.[0] ?? t;
    return this.patchObject(rt, rt.namespaced ? (namespace ?? 'default') : undefined, name, JSON.stringify(patch), contentType, { subresource: opts.subresource }) as T;
  }

  delete<T = KubeObject>(apiVersion: string, kind: string, namespace: string | undefined, name: string): T {
    const rt = this.typeOf(apiVersion, kind);
    return this.deleteObject(rt, rt.namespaced ? (namespace ?? 'default') : undefined, name, {}).object as T;
  }

  get<T = KubeObject>(apiVersion: string, kind: string, namespace: string | undefined, name: string): T | undefined {
    const rt = this.typeOf(apiVersion, kind);
    const o = this.store.get(rt.key)!.get(objKey(rt.namespaced ? (namespace ?? 'default') : undefined, name));
    return o === undefined ? undefined : (structuredClone(o) as T);
  }

  list<T = KubeObject>(apiVersion: string, kind: string, namespace?: string): T[] {
    const rt = this.typeOf(apiVersion, kind);
    return this.select(rt, namespace, [], []).map((o) => structuredClone(o) as T);
  }

  resourceVersion(): number {
    return this.rv;
  }

  installResource(spec: ResourceTypeSpec): void {
    const rt = resourceType(spec);
    if (this.types.some((t) => t.key === rt.key)) throw new Error(`${rt.key} is already served`);
    this.types.push(rt);
    this.store.set(rt.key, new Map());
  }

  compact(rv: number = this.rv): void {
    this.compactedRv = Math.max(this.compactedRv, Math.min(rv, this.rv));
    this.history = this.history.filter((e) => e.rv > this.compactedRv);
  }

  dropWatches({ mode = 'clean' }: { mode?: 'clean' | 'reset' } = {}): number {
    const all = [...this.watchers];
    for (const w of all) this.endWatch(w, mode);
    return all.length;
  }

  watchCount(filter?: { apiVersion: string; kind: string }): number {
    if (!filter) return this.watchers.size;
    return [...this.watchers].filter((w) => w.rt.apiVersion === filter.apiVersion && w.rt.kind === filter.kind).length;
  }

  injectError(err: InjectedError): void {
    this.injected.push({ times: 1, ...err });
  }

  hold(match: Omit<InjectedError, 'code' | 'reason' | 'message' | 'times'>): HeldRequests {
    let arrive!: () => void;
    const arrived = new Promise<void>((resolve) => (arrive = resolve));
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const entry = { match, arrive, released };
    this.holds.push(entry);
    return {
      arrived,
      release: () => {
        this.holds = this.holds.filter((h) => h !== entry);
        release();
      },
    };
  }

  async restart({ mode = 'clean', whileDown }: { mode?: 'clean' | 'reset'; whileDown?: () => Promise<void> | void } = {}): Promise<void> {
    await this.shutdown(mode);
    await whileDown?.();
    this.server = this.makeServer();
    await this.listen(this.port);
  }

  async close(): Promise<void> {
    await this.shutdown('clean');
  }

  private async shutdown(mode: 'clean' | 'reset'): Promise<void> {
    const finished = [...this.watchers].map((w) => new Promise<void>((r) => (w.res.writableFinished || w.res.destroyed ? r() : w.res.once('close', () => r()).once('finish', () => r()))));
    this.dropWatches({ mode });
    if (mode === 'clean') await Promise.all(finished);
    const closed = new Promise<void>((resolve) => this.server.close(() => resolve()));
    for (const s of this.sockets) {
      if (mode === 'reset') s.resetAndDestroy();
      else s.destroy();
    }
    await closed;
  }

  // ------------------------------------------------------------------ store

  private select(rt: ResourceType, namespace: string | undefined, labels: LabelRequirement[], fields: FieldRequirement[]): KubeObject[] {
    const out: KubeObject[] = [];
    for (const o of this.store.get(rt.key)!.values()) {
      if (namespace !== undefined && o.metadata?.namespace !== namespace) continue;
      if (!labelsMatch(labels, o.metadata?.labels) || !fieldsMatch(fields, o)) continue;
      out.push(o);
    }
    const k = (o: KubeObject) => objKey(o.metadata?.namespace, o.metadata?.name);
    return out.sort((a, b) => (k(a) < k(b) ? -1 : k(a) > k(b) ? 1 : 0));
  }

  private commit(rt: ResourceType, type: HistoryEntry['type'], object: KubeObject, old: KubeObject | undefined): void {
    const entry: HistoryEntry = { rv: this.rv, rt, type, object, old };
    this.history.push(entry);
    if (this.history.length > this.opts.historyLimit) {
      const drop = this.history.length - this.opts.historyLimit;
      this.compactedRv = this.history[drop - 1]!.rv;
      this.history = this.history.slice(drop);
    }
    for (const w of this.watchers) {
      if (w.rt.key !== rt.key) continue;
      const ev = this.eventFor(w, entry);
      if (ev) this.writeEvent(w, ev.type, ev.object);
    }
  }

  private eventFor(w: Watcher, e: HistoryEntry): { type: string; object: KubeObject } | undefined {
    const matches = (o: KubeObject | undefined) =>
      o !== undefined && (w.namespace === undefined || o.metadata?.namespace === w.namespace) && labelsMatch(w.labels, o.metadata?.labels) && fieldsMatch(w.fields, o);
    const cur = e.type !== 'DELETED' && matches(e.object);
    const prev = matches(e.old);
    switch (e.type) {
      case 'ADDED':
        return cur ? { type: 'ADDED', object: e.object } : undefined;
      case 'MODIFIED':
        if (prev && cur) return { type: 'MODIFIED', object: e.object };
        if (cur) return { type: 'ADDED', object: e.object };
        if (prev) return { type: 'DELETED', object: e.object };
        return undefined;
      case 'DELETED':
        return prev ? { type: 'DELETED', object: e.object } : undefined;
    }
  }

  private checkNamespace(ns: string): void {
    if (!this.opts.strictNamespaces) return;
    const nsObj = this.store.get('v1/namespaces')!.get(objKey(undefined, ns));
    if (!nsObj) throw new KubeApiError(404, 'NotFound', `namespaces "${ns}" not found`, { name: ns, kind: 'namespaces' });
    if (nsObj.metadata?.deletionTimestamp) {
      throw new KubeApiError(403, 'Forbidden', `unable to create new content in namespace ${ns} because it is being terminated`, { name: ns, kind: 'namespaces' });
    }
  }

  private ordered(rt: ResourceType, o: KubeObject): KubeObject {
    const { apiVersion: _a, kind: _k, metadata, ...rest } = o;
    return { apiVersion: rt.storedAs, kind: rt.kind, metadata: metadata ?? {}, ...rest };
  }

  private applyDefaults(rt: ResourceType, o: KubeObject, old: KubeObject | undefined): void {
    const meta = o.metadata;
    if (rt.key === 'v1/namespaces') {
      meta.labels = { ...meta.labels, 'kubernetes.io/metadata.name': meta.name };
      o.spec ??= { finalizers: ['kubernetes'] };
      o.status ??= { phase: 'Active' };
    }
    if (rt.key === 'v1/services') {
      const spec = (o.spec ??= {});
      spec.type ??= 'ClusterIP';
      if (spec.type !== 'ExternalName') {
        spec.clusterIP ??= old?.spec?.clusterIP ?? `10.96.${Math.floor(this.nextClusterIp / 256)}.${this.nextClusterIp++ % 256}`;
        spec.clusterIPs ??= [spec.clusterIP];
        spec.ipFamilies ??= structuredClone(old?.spec?.ipFamilies) ?? ['IPv4'];
        spec.ipFamilyPolicy ??= old?.spec?.ipFamilyPolicy ?? 'SingleStack';
        spec.internalTrafficPolicy ??= 'Cluster';
      }
      spec.sessionAffinity ??= 'None';
      if (spec.type === 'LoadBalancer' || spec.type === 'NodePort') spec.externalTrafficPolicy ??= 'Cluster';
      if (spec.type === 'LoadBalancer') spec.allocateLoadBalancerNodePorts ??= true;
      for (const p of (spec.ports ?? []) as KubeObject[]) {
        p.protocol ??= 'TCP';
        p.targetPort ??= p.port;
        const wantsNodePort = spec.type === 'NodePort' || (spec.type === 'LoadBalancer' && spec.allocateLoadBalancerNodePorts !== false);
        if (wantsNodePort && p.nodePort === undefined) {
          const prev = ((old?.spec?.ports ?? []) as KubeObject[]).find((q) => q.port === p.port && (q.protocol ?? 'TCP') === p.protocol);
          p.nodePort = prev?.nodePort ?? this.nextNodePort++;
        }
      }
      o.status ??= { loadBalancer: {} };
    }
    if (rt.key === 'networking.k8s.io/v1/ingresses') o.status ??= { loadBalancer: {} };
    rt.defaults?.(o, old);
    const causes = rt.validate?.(o) ?? [];
    if (causes.length > 0) throw invalid(rt, String(meta.name ?? ''), causes);
    if (rt.key === 'v1/pods') {
      o.spec ??= {};
      o.spec.restartPolicy ??= 'Always';
      o.status ??= { phase: 'Pending' };
    }
  }

  createObject(rt: ResourceType, urlNamespace: string | undefined, body: KubeObject, opts: { keepStatus: boolean; dryRun?: boolean }): KubeObject {
    if (!isPlainObject(body)) throw badRequest('the body of the request must be a JSON object');
    const o = this.ordered(rt, structuredClone(body));
    if (body.kind !== undefined && body.kind !== rt.kind) throw badRequest(`the kind of the object (${body.kind}) does not match the resource (${rt.kind})`);
    const meta = o.metadata;
    if (!meta.name && meta.generateName) meta.name = `${meta.generateName}${randomSuffix()}`;
    if (!meta.name) {
      throw invalid(rt, '', [{ reason: 'FieldValueRequired', message: 'Required value: name or generateName is required', field: 'metadata.name' }]);
    }
    if (typeof meta.name !== 'string' || meta.name.length > 253 || !DNS1123_SUBDOMAIN.test(meta.name)) {
      throw invalid(rt, String(meta.name), [
        { reason: 'FieldValueInvalid', message: `Invalid value: ${JSON.stringify(meta.name)}: a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.'`, field: 'metadata.name' },
      ]);
    }
    if (rt.namespaced) {
      if (meta.namespace !== undefined && urlNamespace !== undefined && meta.namespace !== urlNamespace) {
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      meta.namespace = urlNamespace ?? meta.namespace ?? 'default';
      this.checkNamespace(meta.namespace);
    } else {
      delete meta.namespace;
    }
    const store = this.store.get(rt.key)!;
    const key = objKey(meta.namespace, meta.name);
    if (store.has(key)) throw alreadyExists(rt, meta.name);
    meta.uid = randomUUID();
    meta.creationTimestamp = nowIso();
    meta.generation = 1;
    delete meta.resourceVersion;
    delete meta.deletionTimestamp;
    delete meta.deletionGracePeriodSeconds;
    if (rt.subresources.includes('status') && !opts.keepStatus) delete o.status;
    this.applyDefaults(rt, o, undefined);
    if (opts.dryRun) return o;
    meta.resourceVersion = String(++this.rv);
    store.set(key, o);
    this.commit(rt, 'ADDED', o, undefined);
    return structuredClone(o);
  }

  private current(rt: ResourceType, ns: string | undefined, name: string): KubeObject {
    const o = this.store.get(rt.key)!.get(objKey(ns, name));
    if (!o) throw notFound(rt, name);
    return o;
  }

  updateObject(rt: ResourceType, ns: string | undefined, name: string, body: KubeObject, opts: { subresource?: string; dryRun?: boolean }): KubeObject {
    if (!isPlainObject(body)) throw badRequest('the body of the request must be a JSON object');
    const bodyName = body.metadata?.name;
    if (!bodyName) throw invalid(rt, '', [{ reason: 'FieldValueRequired', message: 'Required value: name is required', field: 'metadata.name' }]);
    if (bodyName !== name) throw badRequest(`the name of the object (${bodyName}) does not match the name on the URL (${name})`);
    if (rt.namespaced && body.metadata?.namespace !== undefined && body.metadata.namespace !== ns) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    const old = this.current(rt, ns, name);
    const rv = body.metadata?.resourceVersion;
    if (rv !== undefined && rv !== '' && rv !== old.metadata.resourceVersion) throw conflict(rt, name);
    return this.finishWrite(rt, old, structuredClone(body), opts);
  }

  patchObject(rt: ResourceType, ns: string | undefined, name: string, raw: string, contentType: string, opts: { subresource?: string; dryRun?: boolean }): KubeObject {
    const type = PATCH_TYPES[contentType.split(';')[0]!.trim().toLowerCase()];
    if (!type) throw unsupportedMediaType(contentType);
    let patch: Json;
    try {
      patch = JSON.parse(raw) as Json;
    } catch (err) {
      throw badRequest(`error decoding patch: ${(err as Error).message}`);
    }
    const old = this.current(rt, ns, name);
    let patched: unknown;
    try {
      if (type === 'merge') {
        if (!isJsonObject(patch)) throw badRequest('a JSON merge patch must be a JSON object');
        patched = applyMergePatch(structuredClone(old), patch);
      } else if (type === 'strategic') {
        patched = strategicMergePatch(old as JsonObject, patch);
      } else {
        if (!Array.isArray(patch)) throw badRequest('a JSON patch must be a JSON array of operations');
        patched = fastJsonPatch.applyPatch(structuredClone(old), patch as unknown as JsonPatchOperation[], true, true).newDocument;
      }
    } catch (err) {
      if (err instanceof KubeApiError) throw err;
      if (err instanceof StrategicMergePatchError || err instanceof fastJsonPatch.JsonPatchError) {
        throw new KubeApiError(422, 'Invalid', err.message, { name, ...groupDetail(rt), kind: rt.kind });
      }
      throw err;
    }
    if (!isJsonObject(patched)) throw new KubeApiError(422, 'Invalid', 'the patched object is not a JSON object', { name, kind: rt.kind });
    const rv = (patched as KubeObject).metadata?.resourceVersion;
    if (rv !== undefined && rv !== old.metadata.resourceVersion) throw conflict(rt, name);
    return this.finishWrite(rt, old, patched as KubeObject, opts);
  }

  /** Common end of update and patch: keep what the client cannot change, bump generation and resourceVersion, emit. */
  private finishWrite(rt: ResourceType, old: KubeObject, candidate: KubeObject, opts: { subresource?: string; dryRun?: boolean }): KubeObject {
    let next: KubeObject;
    if (opts.subresource === 'status') {
      next = structuredClone(old);
      if (candidate.status === undefined) delete next.status;
      else next.status = candidate.status;
    } else {
      next = this.ordered(rt, candidate);
      if (rt.subresources.includes('status')) {
        if (old.status === undefined) delete next.status;
        else next.status = structuredClone(old.status);
      }
      const m = (next.metadata = isJsonObject(next.metadata) ? next.metadata : {});
      for (const f of ['name', 'namespace', 'uid', 'creationTimestamp', 'deletionTimestamp', 'deletionGracePeriodSeconds', 'generation', 'resourceVersion']) {
        if (old.metadata[f] === undefined) delete m[f];
        else m[f] = old.metadata[f];
      }
      this.applyDefaults(rt, next, old);
      const { metadata: _m1, status: _s1, ...oldBody } = old;
      const { metadata: _m2, status: _s2, ...newBody } = next;
      if (!isDeepStrictEqual(oldBody, newBody)) m.generation = (old.metadata.generation ?? 0) + 1;
    }
    next.apiVersion = rt.storedAs;
    next.kind = rt.kind;
    if (this.opts.noopWrites === 'skip' && isDeepStrictEqual(next, old)) return structuredClone(old);
    if (opts.dryRun) return next;
    const store = this.store.get(rt.key)!;
    const key = objKey(old.metadata.namespace, old.metadata.name);
    next.metadata.resourceVersion = String(++this.rv);
    if (rt.key !== 'v1/namespaces' && next.metadata.deletionTimestamp && !(next.metadata.finalizers?.length > 0)) {
      store.delete(key);
      this.commit(rt, 'DELETED', next, old);
      this.afterRemoval(rt, next);
      return structuredClone(next);
    }
    store.set(key, next);
    this.commit(rt, 'MODIFIED', next, old);
    if (rt.key === 'v1/namespaces') this.maybeFinishNamespace(next.metadata.name);
    return structuredClone(next);
  }

  deleteObject(rt: ResourceType, ns: string | undefined, name: string, opts: { preconditions?: { uid?: string; resourceVersion?: string }; dryRun?: boolean }): { object: KubeObject; removed: boolean } {
    const old = this.current(rt, ns, name);
    const pre = opts.preconditions ?? {};
    if (pre.uid && pre.uid !== old.metadata.uid) throw conflict(rt, name, `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${old.metadata.uid}`);
    if (pre.resourceVersion && pre.resourceVersion !== old.metadata.resourceVersion) {
      throw conflict(rt, name, `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${old.metadata.resourceVersion}`);
    }
    const store = this.store.get(rt.key)!;
    const key = objKey(old.metadata.namespace, name);
    const isNamespace = rt.key === 'v1/namespaces';
    if (old.metadata.finalizers?.length > 0 || isNamespace) {
      if (old.metadata.deletionTimestamp) return { object: structuredClone(old), removed: false };
      const next = structuredClone(old);
      next.metadata.deletionTimestamp = nowIso();
      next.metadata.deletionGracePeriodSeconds = 0;
      if (isNamespace) next.status = { ...next.status, phase: 'Terminating' };
      if (opts.dryRun) return { object: next, removed: false };
      next.metadata.resourceVersion = String(++this.rv);
      store.set(key, next);
      this.commit(rt, 'MODIFIED', next, old);
      if (isNamespace) {
        for (const t of this.types.filter((t) => t.namespaced)) {
          for (const o of this.select(t, name, [], [])) this.deleteObject(t, name, o.metadata.name, {});
        }
        const gone = this.maybeFinishNamespace(name);
        if (gone) return { object: gone, removed: true };
      }
      return { object: structuredClone(store.get(key) ?? next), removed: false };
    }
    const final = structuredClone(old);
    if (opts.dryRun) return { object: final, removed: true };
    final.metadata.resourceVersion = String(++this.rv);
    store.delete(key);
    this.commit(rt, 'DELETED', final, old);
    this.afterRemoval(rt, final);
    return { object: structuredClone(final), removed: true };
  }

  private afterRemoval(rt: ResourceType, removed: KubeObject): void {
    if (rt.namespaced && removed.metadata.namespace) this.maybeFinishNamespace(removed.metadata.namespace);
  }

  /** A terminating namespace goes away once it holds nothing more. */
  private maybeFinishNamespace(name: string): KubeObject | undefined {
    const rt = this.typeOf('v1', 'Namespace');
    const store = this.store.get(rt.key)!;
    const ns = store.get(objKey(undefined, name));
    if (!ns?.metadata.deletionTimestamp || ns.metadata.finalizers?.length > 0) return undefined;
    for (const t of this.types) if (t.namespaced && this.select(t, name, [], []).length > 0) return undefined;
    const final = structuredClone(ns);
    final.metadata.resourceVersion = String(++this.rv);
    store.delete(objKey(undefined, name));
    this.commit(rt, 'DELETED', final, ns);
    return structuredClone(final);
  }

  // ------------------------------------------------------------------ HTTP

  private sendJson(res: http.ServerResponse, code: number, body: unknown): void {
    const text = JSON.stringify(body);
    res.writeHead(code, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-cache, private' });
    res.end(text);
  }

  private sendError(res: http.ServerResponse, err: unknown): void {
    if (err instanceof KubeApiError) return this.sendJson(res, err.code, err.status);
    const e = new KubeApiError(500, 'InternalError', `Internal error occurred: ${(err as Error)?.stack ?? String(err)}`);
    this.sendJson(res, 500, e.status);
  }

  private async readBody(req: http.IncomingMessage): Promise<string> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    return Buffer.concat(chunks).toString('utf8');
  }

  private async readJsonBody(req: http.IncomingMessage): Promise<KubeObject> {
    const text = await this.readBody(req);
    try {
      return JSON.parse(text) as KubeObject;
    } catch (err) {
      throw badRequest(`error decoding request body: ${(err as Error).message}`);
    }
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://fake');
    const method = (req.method ?? 'GET').toUpperCase();
    let path = url.pathname.replace(/\/+$/, '') || '/';
    let watch = TRUE_VALUES.has(url.searchParams.get('watch') ?? '');
    // Legacy watch paths: /api/v1/watch/…, /apis/g/v/watch/…
    const legacy = path.match(/^(\/api\/[^/]+|\/apis\/[^/]+\/[^/]+)\/watch(\/.*)$/);
    if (legacy) {
      path = legacy[1]! + legacy[2]!;
      watch = true;
    }
    this.requests.push({
      method,
      path: url.pathname,
      query: Object.fromEntries(url.searchParams),
      watch,
      contentType: req.headers['content-type'],
      accept: req.headers.accept,
      get status() {
        return res.headersSent ? res.statusCode : undefined;
      },
    });

    const matches = (f: Omit<InjectedError, 'code'>) =>
      (f.method === undefined || f.method.toUpperCase() === method) &&
      (f.path === undefined || (typeof f.path === 'string' ? f.path === url.pathname : f.path.test(url.pathname))) &&
      (f.watch === undefined || f.watch === watch);
    const held = this.holds.find((h) => matches(h.match));
    if (held) {
      held.arrive();
      await held.released;
    }
    const fault = this.injected.find(matches);
    if (fault) {
      if (--fault.times! <= 0) this.injected = this.injected.filter((f) => f !== fault);
      await this.readBody(req);
      const e = new KubeApiError(fault.code, fault.reason ?? 'InternalError', fault.message ?? `injected error ${fault.code}`, {});
      return this.sendJson(res, fault.code, e.status);
    }

    // Discovery and health.
    if (method === 'GET') {
      const discovery = this.discovery(path);
      if (discovery !== undefined) return this.sendJson(res, 200, discovery);
      if (path === '/healthz' || path === '/readyz' || path === '/livez') {
        res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
        res.end('ok');
        return;
      }
    }

    const route = this.route(path);
    if (!route) {
      await this.readBody(req);
      throw serverNotFound();
    }
    const { rt, namespace, name, subresource } = route;
    const q = url.searchParams;
    const dryRun = q.getAll('dryRun').includes('All');

    if (name === undefined) {
      // Collection.
      if (method === 'GET') {
        if (watch) return this.startWatch(req, res, rt, namespace, q);
        return this.sendList(req, res, rt, namespace, q);
      }
      if (method === 'POST') {
        if (rt.namespaced && namespace === undefined) throw methodNotAllowed();
        const body = await this.readJsonBody(req);
        return this.sendJson(res, 201, this.createObject(rt, namespace, body, { keepStatus: false, dryRun }));
      }
      if (method === 'DELETE') {
        await this.readBody(req);
        const items = this.select(rt, namespace, parseLabelSelector(q.get('labelSelector') ?? ''), parseFieldSelector(q.get('fieldSelector') ?? ''));
        const deleted = items.map((o) => this.deleteObject(rt, o.metadata.namespace, o.metadata.name, { dryRun }).object);
        return this.sendJson(res, 200, { kind: `${rt.kind}List`, apiVersion: rt.apiVersion, metadata: { resourceVersion: String(this.rv) }, items: deleted });
      }
      await this.readBody(req);
      throw methodNotAllowed();
    }

    if (subresource !== undefined && !rt.subresources.includes(subresource)) {
      await this.readBody(req);
      throw serverNotFound();
    }
    switch (method) {
      case 'GET': {
        if (watch) {
          const fs = q.get('fieldSelector');
          q.set('fieldSelector', [`metadata.name=${name}`, ...(fs ? [fs] : [])].join(','));
          return this.startWatch(req, res, rt, namespace, q);
        }
        const o = this.current(rt, namespace, name);
        if (wantsTable(req.headers.accept)) return this.sendJson(res, 200, renderTable(rt.kind, [o], { resourceVersion: o.metadata.resourceVersion }, q.get('includeObject'), rt.printerColumns));
        return this.sendJson(res, 200, asVersion(rt, o));
      }
      case 'PUT': {
        const body = await this.readJsonBody(req);
        return this.sendJson(res, 200, this.updateObject(rt, namespace, name, body, { subresource, dryRun }));
      }
      case 'PATCH': {
        const raw = await this.readBody(req);
        return this.sendJson(res, 200, this.patchObject(rt, namespace, name, raw, req.headers['content-type'] ?? '', { subresource, dryRun }));
      }
      case 'DELETE': {
        const text = await this.readBody(req);
        if (subresource !== undefined) throw methodNotAllowed();
        let options: KubeObject = {};
        if (text.trim() !== '') {
          try {
            options = JSON.parse(text) as KubeObject;
          } catch (err) {
            throw badRequest(`error decoding DeleteOptions: ${(err as Error).message}`);
          }
        }
        const { object, removed } = this.deleteObject(rt, namespace, name, { preconditions: options.preconditions, dryRun });
        if (!removed || rt.returnDeletedObject) return this.sendJson(res, 200, object);
        return this.sendJson(res, 200, {
          kind: 'Status',
          apiVersion: 'v1',
          metadata: {},
          status: 'Success',
          details: { name, ...groupDetail(rt), kind: rt.plural, uid: object.metadata.uid },
        });
      }
      default:
        await this.readBody(req);
        throw methodNotAllowed();
    }
  }

  /** Maps a path to a resource: /api/v1/[namespaces/NS/]PLURAL[/NAME[/SUB]], /apis/G/V/… */
  private route(path: string): { rt: ResourceType; namespace: string | undefined; name: string | undefined; subresource: string | undefined } | undefined {
    const segs = path.split('/').slice(1).map(decodeURIComponent);
    let apiVersion: string;
    let rest: string[];
    if (segs[0] === 'api' && segs.length >= 3) {
      apiVersion = segs[1]!;
      rest = segs.slice(2);
    } else if (segs[0] === 'apis' && segs.length >= 4) {
      apiVersion = `${segs[1]}/${segs[2]}`;
      rest = segs.slice(3);
    } else return undefined;
    const types = this.types.filter((t) => t.apiVersion === apiVersion);
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      const rt = types.find((t) => t.namespaced && t.plural === rest[2]);
      if (rt && rest.length <= 5) return { rt, namespace: rest[1], name: rest[3], subresource: rest[4] };
    }
    const rt = types.find((t) => t.plural === rest[0]);
    if (!rt) return undefined;
    if (rt.namespaced) return rest.length === 1 ? { rt, namespace: undefined, name: undefined, subresource: undefined } : undefined;
    if (rest.length > 3) return undefined;
    return { rt, namespace: undefined, name: rest[1], subresource: rest[2] };
  }

  private discovery(path: string): unknown {
    const groups = new Map<string, ResourceType[]>();
    for (const t of this.types) if (t.group) groups.set(t.group, [...(groups.get(t.group) ?? []), t]);
    const groupEntry = (name: string, ts: ResourceType[]) => {
      const versions = [...new Set(ts.map((t) => t.version))].map((v) => ({ groupVersion: `${name}/${v}`, version: v }));
      return { name, versions, preferredVersion: versions[0] };
    };
    if (path === '/version') {
      return { major: '1', minor: '32', gitVersion: 'v1.32.0-fake', gitCommit: '0000000000000000000000000000000000000000', gitTreeState: 'clean', buildDate: '2025-01-01T00:00:00Z', goVersion: 'go1.23.0', compiler: 'gc', platform: 'linux/amd64' };
    }
    if (path === '/openapi/v3') {
      const gvs = [...new Set(this.types.map((t) => t.apiVersion))];
      return { paths: Object.fromEntries(gvs.map((gv) => [gvPath(gv), { serverRelativeURL: `/openapi/v3/${gvPath(gv)}?hash=fake${this.types.length}` }])) };
    }
    const v3 = path.match(/^\/openapi\/v3\/(api\/v1|apis\/[^/]+\/[^/]+)$/);
    if (v3) {
      const ts = this.types.filter((t) => gvPath(t.apiVersion) === v3[1]);
      return ts.length > 0 ? openApiV3(v3[1]!, ts) : undefined;
    }
    if (path === '/api') {
      return { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: `127.0.0.1:${this.port}` }] };
    }
    if (path === '/apis') {
      return { kind: 'APIGroupList', apiVersion: 'v1', groups: [...groups].map(([name, ts]) => groupEntry(name, ts)) };
    }
    let m = path.match(/^\/apis\/([^/]+)$/);
    if (m && groups.has(m[1]!)) return { kind: 'APIGroup', apiVersion: 'v1', ...groupEntry(m[1]!, groups.get(m[1]!)!) };
    m = path.match(/^\/api\/(v1)$/) ?? path.match(/^\/apis\/([^/]+\/[^/]+)$/);
    if (m) {
      const ts = this.types.filter((t) => t.apiVersion === m![1]);
      if (ts.length === 0) return undefined;
      const resources: KubeObject[] = [];
      for (const t of ts) {
        resources.push({
          name: t.plural,
          singularName: t.singular ?? t.kind.toLowerCase(),
          namespaced: t.namespaced,
          kind: t.kind,
          verbs: ['create', 'delete', 'deletecollection', 'get', 'list', 'patch', 'update', 'watch'],
          ...(t.shortNames ? { shortNames: t.shortNames } : {}),
          ...(t.categories ? { categories: t.categories } : {}),
        });
        for (const sub of t.subresources) resources.push({ name: `${t.plural}/${sub}`, singularName: '', namespaced: t.namespaced, kind: t.kind, verbs: ['get', 'patch', 'update'] });
      }
      return { kind: 'APIResourceList', apiVersion: 'v1', groupVersion: m[1], resources };
    }
    return undefined;
  }

  private sendList(req: http.IncomingMessage, res: http.ServerResponse, rt: ResourceType, namespace: string | undefined, q: URLSearchParams): void {
    const rvParam = q.get('resourceVersion');
    if (q.get('resourceVersionMatch') === 'Exact' && rvParam && Number(rvParam) < this.compactedRv) {
      throw expired(`The resourceVersion for the provided list is too old.`);
    }
    let items = this.select(rt, namespace, parseLabelSelector(q.get('labelSelector') ?? ''), parseFieldSelector(q.get('fieldSelector') ?? ''));
    const meta: KubeObject = { resourceVersion: String(this.rv) };
    const cont = q.get('continue');
    if (cont) {
      let start: string;
      try {
        start = JSON.parse(Buffer.from(cont, 'base64url').toString('utf8')).start as string;
      } catch {
        throw badRequest('continue key is not valid');
      }
      items = items.filter((o) => objKey(o.metadata.namespace, o.metadata.name) > start);
    }
    const limit = Number(q.get('limit') ?? '0');
    if (limit > 0 && items.length > limit) {
      const last = items[limit - 1]!;
      meta.continue = Buffer.from(JSON.stringify({ start: objKey(last.metadata.namespace, last.metadata.name) })).toString('base64url');
      meta.remainingItemCount = items.length - limit;
      items = items.slice(0, limit);
    }
    if (wantsTable(req.headers.accept)) return this.sendJson(res, 200, renderTable(rt.kind, items, meta, q.get('includeObject'), rt.printerColumns));
    this.sendJson(res, 200, { kind: `${rt.kind}List`, apiVersion: rt.apiVersion, metadata: meta, items: items.map((o) => asVersion(rt, o)) });
  }

  private startWatch(req: http.IncomingMessage, res: http.ServerResponse, rt: ResourceType, namespace: string | undefined, q: URLSearchParams): void {
    const labels = parseLabelSelector(q.get('labelSelector') ?? '');
    const fields = parseFieldSelector(q.get('fieldSelector') ?? '');
    const rvParam = q.get('resourceVersion') ?? '';
    const sendInitial = q.get('sendInitialEvents') === 'true';
    const bookmarks = TRUE_VALUES.has(q.get('allowWatchBookmarks') ?? '');
    let from: number | undefined;
    if (rvParam !== '' && rvParam !== '0' && !sendInitial) {
      from = Number(rvParam);
      if (!Number.isSafeInteger(from) || from < 0) throw badRequest(`invalid resource version: ${JSON.stringify(rvParam)}`);
      if (from < this.compactedRv && this.opts.expiredWatch === 'status') {
        throw expired(`too old resource version: ${from} (${this.compactedRv})`);
      }
    }
    const timeoutParam = q.get('timeoutSeconds');
    const timeoutSeconds = timeoutParam !== null ? Number(timeoutParam) : this.opts.watchTimeoutSeconds;

    res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-cache, private', 'Transfer-Encoding': 'chunked' });
    res.flushHeaders();
    const w: Watcher = { rt, namespace, labels, fields, res, timers: [], table: wantsTable(req.headers.accept) ? { includeObject: q.get('includeObject') } : undefined };
    if (from !== undefined && from < this.compactedRv) {
      this.writeEvent(w, 'ERROR', expired(`too old resource version: ${from} (${this.compactedRv})`).status);
      res.end();
      return;
    }
    if (from === undefined) {
      for (const o of this.select(rt, namespace, labels, fields)) this.writeEvent(w, 'ADDED', o);
      if (sendInitial && bookmarks) {
        this.writeEvent(w, 'BOOKMARK', { kind: rt.kind, apiVersion: rt.apiVersion, metadata: { resourceVersion: String(this.rv), annotations: { 'k8s.io/initial-events-end': 'true' } } });
      }
    } else {
      for (const e of this.history) {
        if (e.rt.key !== rt.key || e.rv <= from) continue;
        const ev = this.eventFor(w, e);
        if (ev) this.writeEvent(w, ev.type, ev.object);
      }
    }
    this.watchers.add(w);
    if (bookmarks) {
      w.timers.push(setInterval(() => this.writeEvent(w, 'BOOKMARK', { kind: rt.kind, apiVersion: rt.apiVersion, metadata: { resourceVersion: String(this.rv) } }), this.opts.bookmarkIntervalMs));
    }
    if (timeoutSeconds !== undefined && Number.isFinite(timeoutSeconds) && timeoutSeconds > 0) {
      w.timers.push(setTimeout(() => this.endWatch(w, 'clean'), timeoutSeconds * 1000));
    }
    const gone = () => this.forgetWatch(w);
    req.on('close', gone);
    res.on('close', gone);
  }

  private writeEvent(w: Watcher, type: string, object: KubeObject): void {
    if (w.res.writableEnded || w.res.destroyed) return;
    if (type !== 'ERROR' && type !== 'BOOKMARK') object = asVersion(w.rt, object);
    if (w.table && (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED')) {
      object = renderTable(w.rt.kind, [object], { resourceVersion: object.metadata?.resourceVersion }, w.table.includeObject, w.rt.printerColumns);
    }
    w.res.write(`${JSON.stringify({ type, object })}\n`);
  }

  private forgetWatch(w: Watcher): void {
    for (const t of w.timers) clearTimeout(t);
    w.timers = [];
    this.watchers.delete(w);
  }

  private endWatch(w: Watcher, mode: 'clean' | 'reset'): void {
    this.forgetWatch(w);
    if (mode === 'reset') {
      const s = w.res.socket;
      if (s && !s.destroyed) s.resetAndDestroy();
      else w.res.destroy();
    } else if (!w.res.writableEnded) {
      w.res.end();
    }
  }
}

/** Starts a fake Kubernetes API server on 127.0.0.1 (port 0 unless `options.port`). */
export async function startFakeKubeApiServer(options: FakeKubeApiServerOptions = {}): Promise<FakeKubeApiServer> {
  const s = new Server(options);
  await s.listen(options.port ?? 0);
  return s;
}
