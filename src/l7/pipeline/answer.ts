/**
 * The answer stage: every status the load balancer makes itself is decided here, and every
 * response it makes is written here (spec 7.1): the reasons a request is refused, the failures
 * of forwarding, the requests the HTTP parser rejects, and fixed-response and redirect
 * answers. The error page is the small HTML page with `Server: awselb/2.0` that ALBs are seen
 * to send (page text and header value UNCONFIRMED in AWS's docs).
 */
import { ErrorCodes, isElbError, type ErrorCode } from '../../core/errors.ts';
import type { Rejection } from '../http1/client-connection.ts';
import { reasonPhrase } from '../http1/wire.ts';
import type { RequestContext } from './context.ts';
import { finish } from './record.ts';
import { applyResponseHeaders } from '../response-headers.ts';

export const SERVER_HEADER = 'awselb/2.0';

/** The status line text of ALB's error pages (ALB's own codes 460, 463, 464 have none). */
export const statusText: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Authorization Required',
  403: 'Forbidden',
  405: 'Method Not Allowed',
  408: 'Request Timeout',
  413: 'Request Entity Too Large',
  414: 'Request-URI Too Large',
  460: '',
  463: '',
  464: '',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Temporarily Unavailable',
  504: 'Gateway Time-out',
  505: 'HTTP Version Not Supported',
  561: '',
};

/**
 * Why the load balancer answers a request itself before choosing a target, and the status
 * each gets (spec 7.1, 6.4, 5.3). The key is also the `errorCode` of the request record.
 */
export const refusalStatus = {
  /** A request-target that is neither origin-form, absolute-form nor `*` for OPTIONS. */
  BadUri: 400,
  /** HTTP/0.9 (a request line without a version). */
  BadHttpVersion: 400,
  /** HTTP/2.0 or another major version on an HTTP/1 connection. */
  UnsupportedHttpVersion: 505,
  /** A request line over 16 KiB (spec 6.4; AWS lists both 400 for the line and 414 for "URL too long": 414 chosen). */
  UriTooLong: 414,
  /** One header line over 16 KiB (spec 6.4). */
  HeaderTooLong: 400,
  TraceMethod: 405,
  /** CONNECT: a load balancer is not a forward proxy (ALB's answer UNCONFIRMED; 400 chosen). */
  ConnectMethod: 400,
  /** A transfer coding other than chunked or identity. */
  UnsupportedTransferEncoding: 501,
  /** More than 30 addresses in X-Forwarded-For. */
  TooManyForwardedFor: 463,
  /**
   * The request's protocol does not suit the target group's protocol version (spec 1.1, 12.4.2):
   * HTTP/1.x to an HTTP2 or GRPC group, a non-POST to a GRPC group, gRPC to an HTTP1 group.
   */
  IncompatibleProtocol: 464,
  /** An HTTP/2 header name with something other than letters, digits and hyphens (spec 7.3). */
  InvalidHeaderName: 400,
  /** The client's body ended early or was malformed (a bad chunk size). */
  IncompleteBody: 400,
  /** Desync mitigation (spec 13.1.1): a Severe request in defensive or strictest mode. */
  DesyncSevere: 400,
  /** Desync mitigation's strictest mode: an Acceptable or Ambiguous request (AWS's status UNCONFIRMED: 400, as for Severe). */
  DesyncNotCompliant: 400,
  /**
   * In every desync mode, a request the load balancer cannot frame or write as it came (spec
   * 13.1.7): a Content-Length it cannot read, transfer codings that do not end in chunked, a CR,
   * LF or NUL in the request line, a CR or LF in a header, a version it cannot read.
   */
  MalformedRequest: 400,
  /**
   * The matched rule's transform matched but its result cannot be sent (spec 6.1, 7.1): a
   * url-rewrite that is not an origin-form request-target or too long, a host-header-rewrite
   * that is not a host name (src/l7/transforms.ts).
   */
  TransformFailed: 500,
} as const satisfies Record<string, number>;

export type Refusal = keyof typeof refusalStatus;

/**
 * What an authenticate action answers itself (spec 13.2.8), and with which status: `deny`
 * without a session, an error from the identity provider on the callback, and every
 * `error_reason` (the `Auth…` keys, also the access log's field 25). AWS documents the status
 * of only some of them: nonce, state, code and cookie problems and non-2XX endpoints are 401,
 * unreachable endpoints and internal errors 500, an `error=` on the callback 561 (emulator
 * choices where UNCONFIRMED). The claims over 11K are 500 (the flow's wording, spec 13.2.8).
 */
export const authenticationStatus = {
  /** `onUnauthenticatedRequest: deny` and no session. */
  Denied: 401,
  /** The identity provider redirected back with `error=` (access denied at its login page, …). */
  IdentityProviderError: 561,
  AuthInvalidCookie: 401,
  AuthInvalidGrantError: 401,
  AuthInvalidIdToken: 401,
  AuthInvalidStateParam: 401,
  AuthMissingStateParam: 401,
  AuthInvalidAWSALBAuthNonce: 401,
  AuthMissingAWSALBAuthNonce: 401,
  AuthInvalidTokenResponse: 401,
  AuthInvalidUserinfoResponse: 401,
  AuthMissingCodeParam: 401,
  AuthMissingHostHeader: 401,
  AuthTokenEpRequestFailed: 401,
  AuthUserinfoEpRequestFailed: 401,
  AuthTokenEpRequestTimeout: 500,
  AuthUserinfoEpRequestTimeout: 500,
  AuthUnhandledException: 500,
  AuthUserinfoResponseSizeExceeded: 500,
} as const satisfies Record<string, number>;

export type AuthenticationOutcome = keyof typeof authenticationStatus;

/**
 * What a jwt-validation action answers itself (README, "JWT validation"). AWS documents only
 * that it "rejects the request": 401 chosen for a missing or invalid token (as for the
 * authenticate actions' deny), 500 when the JWKS endpoint cannot be read or breaks ALB's limits
 * (AWS: the request is not forwarded). The keys are the request record's `errorCode`; AWS
 * documents no access-log `error_reason` for them, so it stays `-`.
 */
export const jwtValidationStatus = {
  /** No `Authorization: Bearer <token>`. */
  JwtMissing: 401,
  /** Bad signature, unknown key, not RS256, wrong `iss`, expired, not yet valid, an additional claim that does not match. */
  JwtInvalid: 401,
  JwksRequestFailed: 500,
  JwksRequestTimeout: 500,
  JwksResponseTooLarge: 500,
  JwksTooManyKeys: 500,
  JwksInvalidResponse: 500,
} as const satisfies Record<string, number>;

export type JwtValidationOutcome = keyof typeof jwtValidationStatus;

/** The status for a failure while forwarding (spec 7.1). */
export function statusForError(err: unknown): number {
  if (!isElbError(err)) return 502;
  return failureStatus[err.code] ?? 502;
}

const failureStatus: Partial<Record<ErrorCode, number>> = {
  [ErrorCodes.NO_REGISTERED_TARGETS]: 503,
  [ErrorCodes.NO_ROUTABLE_TARGETS]: 503,
  [ErrorCodes.TARGET_CONNECTION_FAILED]: 502,
  [ErrorCodes.TARGET_INVALID_RESPONSE]: 502,
  [ErrorCodes.DEREGISTRATION_DELAY_ELAPSED]: 502,
  [ErrorCodes.TARGET_TLS_FAILED]: 502,
  [ErrorCodes.TARGET_CONNECT_TIMEOUT]: 504,
  // Spec 12.1.11 (current troubleshooting page): a handshake over 10 s is 504, not 502.
  [ErrorCodes.TARGET_TLS_TIMEOUT]: 504,
  [ErrorCodes.TARGET_TIMEOUT]: 504,
  [ErrorCodes.CLIENT_CLOSED]: 460,
};

/** The socket codes of a failed connection attempt (TargetConnectionErrorCount). */
const CONNECT_FAILURES = new Set(['ECONNREFUSED', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL']);

/** True when the failure was in connecting to the target (TargetConnectionErrorCount). */
export function isTargetConnectionError(err: unknown): boolean {
  if (isElbError(err, ErrorCodes.TARGET_CONNECT_TIMEOUT)) return true;
  const code = ((err as { cause?: { code?: unknown } } | null)?.cause?.code ?? (err as { code?: unknown } | null)?.code) as unknown;
  return typeof code === 'string' && CONNECT_FAILURES.has(code);
}

/** Request line limit (spec 6.4): a longer one is 414 (see refusalStatus.UriTooLong). */
export const MAX_REQUEST_LINE_BYTES = 16 * 1024;

/**
 * The status for a request the HTTP parser rejected, or one that did not arrive within the
 * idle timeout (spec 7.1): 408; 505 for an HTTP/2 connection preface; 501 for an unknown
 * transfer coding; 414 when a head over 64 KiB has a request line over 16 KiB; else 400.
 */
export function statusForRejection(rejection: Rejection): number {
  if (rejection.kind === 'timeout') return 408;
  const { code, reason } = rejection.error;
  switch (code) {
    case 'HPE_PAUSED_H2_UPGRADE':
      return 505;
    case 'HPE_INVALID_TRANSFER_ENCODING':
      // A coding other than chunked is 501; llhttp uses this code for malformed framing too
      // (`chunked, chunked`, Transfer-Encoding with Content-Length): those are 400.
      return reason === 'Request has invalid `Transfer-Encoding`' ? 501 : 400;
    case 'HPE_HEADER_OVERFLOW':
      return (rejection.requestLineBytes ?? Infinity) > MAX_REQUEST_LINE_BYTES ? 414 : 400;
    default:
      return 400;
  }
}

export function errorPage(status: number): string {
  const line = `${status} ${statusText[status] ?? ''}`.trim();
  return `<html>\r\n<head><title>${line}</title></head>\r\n<body>\r\n<center><h1>${line}</h1></center>\r\n</body>\r\n</html>\r\n`;
}

/** The error page as a whole raw response, for a connection the parser rejected (no request to answer). */
export function rawErrorResponse(status: number): string {
  const body = errorPage(status);
  return (
    `HTTP/1.1 ${status} ${statusText[status] ?? ''}\r\nServer: ${SERVER_HEADER}\r\nContent-Type: text/html\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
  );
}

/** Answers with the error page for `status` and finishes the request. 400 and 463 close the connection. */
export function answerError(ctx: RequestContext, status: number, errorCode?: string, close = false): void {
  const body = Buffer.from(errorPage(status), 'latin1');
  const headers = ['Server', SERVER_HEADER, 'Content-Type', 'text/html', 'Content-Length', String(body.length)];
  // AWS answers gRPC requests with plain HTTP statuses (spec 12.4.3); the emulator can add the
  // status gRPC's own HTTP mapping gives (UNCONFIRMED that ALB does).
  if (ctx.grpc && ctx.listener.http2.grpcStatusOnErrors) headers.push('grpc-status', String(grpcStatusFor(status)), 'grpc-message', `${status} ${statusText[status] ?? ''}`.trim());
  writeAnswer(ctx, status, statusText[status] ?? '', headers, body, {
    close: close || status === 400 || status === 463,
    length: body.length,
  });
  ctx.errorCode = errorCode;
  finish(ctx);
}

/** gRPC's code for an HTTP status of the load balancer (gRPC's HTTP-to-status mapping; 464 → UNIMPLEMENTED chosen). */
export function grpcStatusFor(status: number): number {
  if (status === 502 || status === 503 || status === 504) return 14;
  if (status === 464) return 12;
  if (status === 400) return 13;
  if (status === 401) return 16;
  if (status === 403) return 7;
  if (status === 404) return 12;
  if (status === 429) return 14;
  return 2;
}

/** Refusals after which the client connection stays open: the request was framed correctly. */
const KEEPS_CONNECTION = new Set<Refusal>(['TraceMethod', 'UriTooLong', 'TransformFailed']);

/** Answers a refused request (see refusalStatus); the connection closes unless the request was well framed. */
export function refuse(ctx: RequestContext, refusal: Refusal): void {
  answerError(ctx, refusalStatus[refusal], refusal, !KEEPS_CONNECTION.has(refusal));
}

/** Answers an authenticate action's refusal (see authenticationStatus) with the error page and `headers` (expired cookies). */
export function answerAuthentication(ctx: RequestContext, outcome: AuthenticationOutcome, headers: readonly string[] = []): void {
  const status = authenticationStatus[outcome];
  const body = Buffer.from(errorPage(status), 'latin1');
  writeAnswer(ctx, status, statusText[status] ?? '', ['Server', SERVER_HEADER, 'Content-Type', 'text/html', ...headers, 'Content-Length', String(body.length)], body, { close: false, length: body.length });
  ctx.errorCode = outcome;
  if (outcome.startsWith('Auth')) ctx.errorReason = outcome;
  finish(ctx);
}

/** Answers a jwt-validation action's refusal (see jwtValidationStatus) with the error page and `headers` (WWW-Authenticate). */
export function answerJwtValidation(ctx: RequestContext, outcome: JwtValidationOutcome, headers: readonly string[] = []): void {
  const status = jwtValidationStatus[outcome];
  const body = Buffer.from(errorPage(status), 'latin1');
  writeAnswer(ctx, status, statusText[status] ?? '', ['Server', SERVER_HEADER, 'Content-Type', 'text/html', ...headers, 'Content-Length', String(body.length)], body, { close: false, length: body.length });
  ctx.errorCode = outcome;
  finish(ctx);
}

/** Answers a failure to forward: the ELB's page when no response has started, else the connection is cut. */
export function answerFailure(ctx: RequestContext, err: unknown, errorCode: string | undefined): void {
  if (ctx.response.headersSent) {
    ctx.response.abort();
    ctx.errorCode = errorCode;
    finish(ctx);
    return;
  }
  answerError(ctx, statusForError(err), errorCode);
}

/** A fixed-response or redirect answer: `status` and `headers` come from the action (spec 6.3). */
export function answerAction(ctx: RequestContext, status: number, headers: string[], body: Buffer): void {
  writeAnswer(ctx, status, reasonPhrase(status), ['Server', SERVER_HEADER, ...headers, 'Content-Length', String(body.length)], body, { close: false, length: body.length });
  finish(ctx);
}

function writeAnswer(ctx: RequestContext, status: number, reason: string, headers: string[], body: Buffer, options: { close: boolean; length: number }): void {
  const res = ctx.response;
  ctx.status = status;
  ctx.producedBy = 'elb';
  if (res.finished) return;
  ctx.responseStartMs = ctx.listener.clock.now();
  res.writeHead(status, reason, applyResponseHeaders(ctx.listener.responseHeaders, headers, 'elb'), { contentLength: options.length, close: options.close });
  if (body.length > 0) res.write(body);
  res.end();
}
