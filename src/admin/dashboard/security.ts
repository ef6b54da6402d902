/**
 * What keeps a web page on another site from driving the admin API through the user's
 * browser, now that the admin API has a page of its own:
 *
 * - A browser's mutating request (it carries `Origin` or `Sec-Fetch-Site`) must come from the
 *   admin API's own origin and carry the dashboard's CSRF token in `X-CSRF-Token` (a random
 *   value per run, written into the dashboard page, which another origin cannot read).
 * - While the admin API listens on loopback, the dashboard, its event stream and browser
 *   actions answer only to a loopback `Host` (a DNS-rebinding page names its own host).
 *
 * Requests with neither header (the CLI, curl, SDKs) are not a browser's and pass as before:
 * the admin API stays what it was, loopback by default.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { isIP } from 'node:net';
import type { IncomingMessage } from 'node:http';
import { ErrorCodes } from '../../core/errors.ts';

export interface Refusal {
  readonly status: 403;
  readonly code: typeof ErrorCodes.FORBIDDEN;
  readonly message: string;
}

export const CSRF_HEADER = 'x-csrf-token';

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

function isLoopbackName(host: string): boolean {
  const h = host.replace(/^\[|\]$/g, '').toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  if (isIP(h) === 6) return h === '::1' || h.startsWith('::ffff:127.');
  return false;
}

/** `127.0.0.1:9090` → `127.0.0.1`; `[::1]:9090` → `[::1]`. */
function hostnameOf(hostHeader: string): string {
  if (hostHeader.startsWith('[')) return hostHeader.slice(0, hostHeader.indexOf(']') + 1);
  const colon = hostHeader.lastIndexOf(':');
  return colon < 0 ? hostHeader : hostHeader.slice(0, colon);
}

export class AdminSecurity {
  /** The token the dashboard page carries and its actions send back. */
  readonly csrfToken = randomBytes(24).toString('base64url');
  readonly #loopbackOnly: boolean;

  /** `address`: where the admin API listens; on loopback, browsers must name a loopback host. */
  constructor(address: string) {
    this.#loopbackOnly = isLoopbackName(address);
  }

  /** Refuses a page or stream request whose Host is not the admin API's own (loopback) address. */
  checkHost(req: IncomingMessage): Refusal | undefined {
    const host = req.headers.host;
    if (!this.#loopbackOnly || host === undefined || isLoopbackName(hostnameOf(host))) return undefined;
    return refuse(`Host ${JSON.stringify(host)} is not a loopback address, and this admin API listens on loopback only: open it as http://127.0.0.1:<port>/`);
  }

  /** Refuses a browser's mutating request from another origin or without the CSRF token. */
  checkMutation(req: IncomingMessage): Refusal | undefined {
    if (!MUTATING.has(req.method ?? '')) return undefined;
    const origin = req.headers.origin;
    const site = req.headers['sec-fetch-site'];
    if (origin === undefined && site === undefined) return undefined;
    const hostRefusal = this.checkHost(req);
    if (hostRefusal !== undefined) return hostRefusal;
    if (site !== undefined && site !== 'same-origin') return refuse(`a ${req.method} from a page on another site (Sec-Fetch-Site: ${site}) is refused: use the dashboard on this address, or the CLI`);
    if (origin !== undefined && origin !== `http://${req.headers.host ?? ''}`) {
      return refuse(`a ${req.method} from origin ${origin} is refused: only the dashboard at http://${req.headers.host ?? ''}/ may change things from a browser`);
    }
    const token = req.headers[CSRF_HEADER];
    if (typeof token !== 'string' || !sameToken(token, this.csrfToken)) {
      return refuse(`a browser's ${req.method} must carry the dashboard's ${CSRF_HEADER} header: got ${typeof token === 'string' ? 'a wrong one' : 'none'}`);
    }
    return undefined;
  }
}

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function refuse(message: string): Refusal {
  return { status: 403, code: ErrorCodes.FORBIDDEN, message };
}
