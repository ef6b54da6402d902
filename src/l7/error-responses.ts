/**
 * Responses the load balancer makes itself (spec 7.1): the status codes AWS uses and its small
 * HTML error page with `Server: awselb/2.0` (page text and server value UNCONFIRMED in the
 * docs; this is the page ALBs are observed to send). The one place errors become statuses.
 */
import type { ServerResponse } from 'node:http';
import { ErrorCodes, isElbError } from '../core/errors.ts';

export const statusText: Readonly<Record<number, string>> = {
  400: 'Bad Request',
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
};

export const SERVER_HEADER = 'awselb/2.0';

export function errorPage(status: number): string {
  const line = `${status} ${statusText[status] ?? ''}`.trim();
  return `<html>\r\n<head><title>${line}</title></head>\r\n<body>\r\n<center><h1>${line}</h1></center>\r\n</body>\r\n</html>\r\n`;
}

/** Writes the ALB error page on a response whose headers have not been sent. */
export function sendErrorPage(res: ServerResponse, status: number, options: { close?: boolean } = {}): number {
  const body = errorPage(status);
  const headers: Record<string, string | number> = {
    Server: SERVER_HEADER,
    'Content-Type': 'text/html',
    'Content-Length': Buffer.byteLength(body),
  };
  if (options.close) headers.Connection = 'close';
  res.writeHead(status, statusText[status] || undefined, headers);
  res.end(res.req?.method === 'HEAD' ? undefined : body);
  return Buffer.byteLength(body);
}

/** The same page as raw bytes, for sockets the HTTP parser rejected (no response object). */
export function rawErrorResponse(status: number): string {
  const body = errorPage(status);
  return (
    `HTTP/1.1 ${status} ${statusText[status] ?? ''}\r\nServer: ${SERVER_HEADER}\r\nContent-Type: text/html\r\n` +
    `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`
  );
}

/**
 * Maps a failure while forwarding to the status ALB gives (spec 7.1). Undici and socket codes
 * are matched here and nowhere else.
 */
export function statusForError(err: unknown): number {
  if (isElbError(err)) {
    switch (err.code) {
      case ErrorCodes.NO_REGISTERED_TARGETS:
      case ErrorCodes.NO_ROUTABLE_TARGETS:
        return 503;
      case ErrorCodes.TARGET_CONNECT_TIMEOUT:
      case ErrorCodes.TARGET_TIMEOUT:
        return 504;
      case ErrorCodes.CLIENT_CLOSED:
        return 460;
      default:
        return 502;
    }
  }
  const code = (err as { code?: unknown } | null)?.code;
  switch (code) {
    case 'UND_ERR_CONNECT_TIMEOUT':
    case 'UND_ERR_HEADERS_TIMEOUT':
    case 'UND_ERR_BODY_TIMEOUT':
    case 'ETIMEDOUT':
      return 504;
    case 'UND_ERR_REQ_CONTENT_LENGTH_MISMATCH':
      return 400;
    default:
      return 502;
  }
}

/** True when the failure was on the connection to the target (TargetConnectionErrorCount). */
export function isTargetConnectionError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'ECONNREFUSED' || code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'EHOSTUNREACH' || code === 'ENETUNREACH' || code === 'EADDRNOTAVAIL';
}
