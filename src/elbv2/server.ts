/**
 * The ELBv2 endpoint (spec 14.1–14.3, 14.11): the awsQuery protocol over HTTP, as the AWS SDKs,
 * boto3 and the AWS CLI speak it to `elasticloadbalancing` (API version 2015-12-01), in front
 * of one ElbRuntime. Any path, POST (form body) or GET (query string); SigV4 signatures are read
 * for the account and region, never verified. Every answer is XML with a RequestId in the body
 * and in `x-amzn-RequestId`; errors are `ErrorResponse` with AWS's code and status.
 */
import { randomUUID } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { hostForUrl } from '../core/addresses.ts';
import { ErrorCodes, isElbError } from '../core/errors.ts';
import { bindListener } from '../core/listen.ts';
import { silentLogger, type Logger } from '../core/logger.ts';
import type { ElbRuntime } from '../runtime/runtime.ts';
import { accountHandlers } from './account.ts';
import { Elbv2Api, type ManagedResources } from './api.ts';
import { callerOf, DEFAULT_ACCOUNT, DEFAULT_REGION, type Caller } from './arns.ts';
import { Catalog } from './catalog.ts';
import { ApiError } from './errors.ts';
import { listenerHandlers } from './listeners.ts';
import { loadBalancerHandlers } from './load-balancers.ts';
import { decodeForm, Members } from './query.ts';
import { ruleHandlers } from './rules.ts';
import { tagHandlers } from './tags.ts';
import { targetGroupHandlers } from './target-groups.ts';
import { defaultS3Dir, trustStoreHandlers } from './trust-stores.ts';
import { defaultStateDir } from '../tls/ca.ts';
import { xmlError, xmlResponse } from './xml.ts';

/** The API version of ELBv2; Classic ELB (2012-06-01) shares the service name and is not emulated. */
export const API_VERSION = '2015-12-01';
/** LocalStack's port, so `AWS_ENDPOINT_URL` set for it works unchanged. */
export const DEFAULT_ELBV2_PORT = 4566;

const MAX_BODY_BYTES = 1024 * 1024;

export interface Elbv2EndpointOptions {
  /** Where to listen (default 127.0.0.1). */
  readonly address?: string;
  /** Default 4566; 0 for any free port (tests). */
  readonly port?: number;
  readonly logger?: Logger;
  /** The account and region of unsigned calls and of resources from the config file (default 000000000000, us-east-1). */
  readonly defaults?: Caller;
  /** Load balancers the API creates each get an address of `<prefix>.x.y` (default `127.250`), where their listeners bind. */
  readonly addressPrefix?: string;
  /** Load balancers and target groups to describe but not change (`local-elb kind`: the controller's). */
  readonly managed?: ManagedResources;
  /** Where S3 objects are (trust store bundles and CRLs): `<s3Dir>/<bucket>/<key>`. Default `$LOCAL_ELB_S3_DIR`, else `<state dir>/s3`. */
  readonly s3Dir?: string;
}

export interface Elbv2Endpoint {
  /** `http://127.0.0.1:4566` */
  readonly url: string;
  readonly port: number;
  readonly api: Elbv2Api;
  close(): Promise<void>;
}

/** The ELBv2 API over `runtime`, every action this endpoint answers. */
export function elbv2Api(runtime: ElbRuntime, options: Pick<Elbv2EndpointOptions, 'defaults' | 'addressPrefix' | 'managed' | 's3Dir'> = {}): Elbv2Api {
  const catalog = new Catalog(options.defaults ?? { account: DEFAULT_ACCOUNT, region: DEFAULT_REGION });
  return new Elbv2Api(runtime, catalog, {
    ...loadBalancerHandlers({ addressPrefix: options.addressPrefix ?? '127.250' }),
    ...targetGroupHandlers,
    ...listenerHandlers,
    ...ruleHandlers,
    ...tagHandlers,
    ...accountHandlers,
    ...trustStoreHandlers({ s3Dir: options.s3Dir ?? defaultS3Dir(defaultStateDir()) }),
  }, options.managed);
}

/** Starts the endpoint; rejects with `ELB_ERR_LISTEN_FAILED` naming the address when it cannot bind. */
export async function startElbv2Endpoint(runtime: ElbRuntime, options: Elbv2EndpointOptions = {}): Promise<Elbv2Endpoint> {
  const log = (options.logger ?? silentLogger()).child({ component: 'elbv2' });
  const api = elbv2Api(runtime, options);
  const defaults = api.catalog.defaults;
  const server = http.createServer((req, res) => {
    void handle(api, req, res, defaults, log);
  });
  const address = options.address ?? '127.0.0.1';
  const port = options.port ?? DEFAULT_ELBV2_PORT;
  await bindListener(server, (done) => server.listen(port, address, done), `the ELBv2 endpoint on ${address}:${port}`, log);
  const bound = (server.address() as AddressInfo).port;
  const url = `http://${hostForUrl(address)}:${bound}`;
  log.info({ event: 'elbv2.started', url }, `ELBv2 API on ${url}`);
  return {
    url,
    port: bound,
    api,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

async function handle(api: Elbv2Api, req: IncomingMessage, res: ServerResponse, defaults: Caller, log: Logger): Promise<void> {
  const requestId = randomUUID();
  let action = '';
  try {
    const body = await readBody(req);
    const query = new URL(req.url ?? '/', 'http://local').search.slice(1);
    const params = new Members(decodeForm(body !== '' ? body : query));
    const version = params.string('Version');
    action = params.string('Action') ?? '';
    if (action === '') throw new ApiError('MissingAction', 'The request must contain the parameter Action');
    if (version !== API_VERSION) {
      throw new ApiError(
        'InvalidAction',
        version === '2012-06-01'
          ? `Classic Load Balancer calls (Version 2012-06-01) are not emulated by local-elb: ${action}`
          : `Version must be ${API_VERSION} for the ELBv2 API: got ${version === undefined ? 'none' : `'${version}'`}`,
      );
    }
    const caller = callerOf(req.headers.authorization, defaults);
    const result = await api.call(action, params, caller);
    log.debug({ event: 'elbv2.call', action, requestId }, `${action}`);
    send(res, 200, xmlResponse(action, result, requestId), requestId);
  } catch (err) {
    const error = apiError(err);
    if (error.status >= 500) log.error({ err, action, requestId }, `ELBv2 ${action || 'call'} failed`);
    else log.info({ event: 'elbv2.refused', action, code: error.code, requestId }, `${action}: ${error.code}: ${error.message}`);
    send(res, error.status, xmlError(error, requestId), requestId);
  }
}

/** Anything a call throws as an ApiError: the library's own errors named as AWS would name them, a bug as InternalFailure. */
function apiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (isElbError(err, ErrorCodes.INVALID_ARGUMENT) || isElbError(err, ErrorCodes.CONFIG_INVALID)) return new ApiError('ValidationError', err.message, { cause: err });
  if (isElbError(err, ErrorCodes.NOT_FOUND)) return new ApiError('ValidationError', err.message, { cause: err });
  if (isElbError(err)) return new ApiError('InvalidConfigurationRequest', `${err.message} [${err.code}]`, { cause: err });
  return new ApiError('InternalFailure', `local-elb failed: ${String(err)}`, { cause: err });
}

function send(res: ServerResponse, status: number, body: string, requestId: string): void {
  res.writeHead(status, { 'content-type': 'text/xml', 'x-amzn-RequestId': requestId, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY_BYTES) throw new ApiError('ValidationError', `The request body must be at most ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}
