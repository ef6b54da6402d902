/**
 * Errors carry a stable `code`; callers branch on the code, never on the message. Only
 * src/l7 turns these into HTTP statuses, and src/l4 into resets.
 */
export const ErrorCodes = {
  /** The configuration failed validation; `issues` lists every problem. */
  CONFIG_INVALID: 'ELB_ERR_CONFIG_INVALID',
  /** A named target group, load balancer or target does not exist. */
  NOT_FOUND: 'ELB_ERR_NOT_FOUND',
  /** An argument to a library call is out of range. */
  INVALID_ARGUMENT: 'ELB_ERR_INVALID_ARGUMENT',
  /** The target group has no registered targets (ALB answers 503). */
  NO_REGISTERED_TARGETS: 'ELB_ERR_NO_REGISTERED_TARGETS',
  /** Targets are registered but none can take traffic: all `initial` or `draining` (503). */
  NO_ROUTABLE_TARGETS: 'ELB_ERR_NO_ROUTABLE_TARGETS',
  /** The target refused or reset the connection, or closed it with a request outstanding (502). */
  TARGET_CONNECTION_FAILED: 'ELB_ERR_TARGET_CONNECTION_FAILED',
  /** The target sent a response that is not valid HTTP (502). */
  TARGET_INVALID_RESPONSE: 'ELB_ERR_TARGET_INVALID_RESPONSE',
  /** No connection to the target within the 10 s connect timeout (504). */
  TARGET_CONNECT_TIMEOUT: 'ELB_ERR_TARGET_CONNECT_TIMEOUT',
  /** The TLS handshake with an HTTPS/TLS target failed: no shared version or cipher, or the target broke it off (502). */
  TARGET_TLS_FAILED: 'ELB_ERR_TARGET_TLS_NEGOTIATION_FAILED',
  /** The TLS handshake with a target did not finish within 10 s (504, spec 12.1.11). */
  TARGET_TLS_TIMEOUT: 'ELB_ERR_TARGET_TLS_TIMEOUT',
  /** The target did not answer within the idle timeout (504). */
  TARGET_TIMEOUT: 'ELB_ERR_TARGET_TIMEOUT',
  /** The deregistration delay ended while the target was still handling the request (502). */
  DEREGISTRATION_DELAY_ELAPSED: 'ELB_ERR_DEREGISTRATION_DELAY_ELAPSED',
  /** An NLB target failed its health checks and its connections were reset (spec 4.3). */
  TARGET_UNHEALTHY: 'ELB_ERR_TARGET_UNHEALTHY',
  /** The client went away before the response was complete (logged as 460). */
  CLIENT_CLOSED: 'ELB_ERR_CLIENT_CLOSED',
  /** The listener could not bind its address. */
  LISTEN_FAILED: 'ELB_ERR_LISTEN_FAILED',
  /** Local pods did not become ready in time. */
  PODS_NOT_READY: 'ELB_ERR_PODS_NOT_READY',
  /** The admin API could not be reached, or answered something that is not its JSON (CLI side). */
  ADMIN_REQUEST_FAILED: 'ELB_ERR_ADMIN_REQUEST_FAILED',
  /** An admin API route does not take this method (405). */
  METHOD_NOT_ALLOWED: 'ELB_ERR_METHOD_NOT_ALLOWED',
  /** An admin API request body over the limit (413). */
  BODY_TOO_LARGE: 'ELB_ERR_BODY_TOO_LARGE',
  /** A bug: the admin API failed in a way it does not name (500). */
  INTERNAL: 'ELB_ERR_INTERNAL',
  /** `local-elb kind` found no kubeconfig (and is not in a pod); the message says where it looked. */
  KUBECONFIG_NOT_FOUND: 'ELB_ERR_KUBECONFIG_NOT_FOUND',
  /** The local certificate authority on disk is unusable (corrupt, half-written, expired); delete it to make a new one. */
  CA_INVALID: 'ELB_ERR_CA_INVALID',
  /** The state directory (or the CA in it) could not be created or read: permissions, disk full; `cause` is the fs error. */
  STATE_DIR_FAILED: 'ELB_ERR_STATE_DIR_FAILED',
  /** A browser request to the admin API from another site, or a dashboard action without its CSRF token (403). */
  FORBIDDEN: 'ELB_ERR_FORBIDDEN',
} as const;

export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

export class ElbError extends Error {
  readonly code: ErrorCode;

  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ElbError';
    this.code = code;
  }
}

/** One problem found while validating a configuration. */
export interface ConfigIssue {
  /** Field path as a user writes it: `targetGroups[0].healthCheckIntervalSeconds`. */
  readonly path: string;
  readonly message: string;
}

/** A configuration error that names the source, and every field path that is wrong. */
export class ConfigError extends ElbError {
  readonly source: string;
  readonly issues: readonly ConfigIssue[];

  constructor(source: string, issues: readonly ConfigIssue[]) {
    const lines = issues.map((i) => `  ${i.path ? `${i.path}: ` : ''}${i.message}`);
    super(ErrorCodes.CONFIG_INVALID, `invalid configuration in ${source}:\n${lines.join('\n')}`);
    this.name = 'ConfigError';
    this.source = source;
    this.issues = issues;
  }
}

const KNOWN_CODES: ReadonlySet<string> = new Set(Object.values(ErrorCodes));

/** True for a code this package defines (an admin API answer's `code`, read back by the CLI). */
export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && KNOWN_CODES.has(code);
}

export function isElbError(err: unknown, code?: ErrorCode): err is ElbError {
  return err instanceof ElbError && (code === undefined || err.code === code);
}
