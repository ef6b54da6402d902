import { describe, expect, it } from 'vitest';
import { ElbError, ErrorCodes, type ErrorCode } from '../../../src/core/errors.ts';
import { errorPage, isTargetConnectionError, rawErrorResponse, refusalStatus, SERVER_HEADER, statusForError, statusForRejection } from '../../../src/l7/pipeline/answer.ts';

const elb = (code: ErrorCode) => new ElbError(code, 'x');

describe('statusForError (spec 7.1)', () => {
  it.each([
    [ErrorCodes.NO_REGISTERED_TARGETS, 503],
    [ErrorCodes.NO_ROUTABLE_TARGETS, 503],
    [ErrorCodes.TARGET_CONNECT_TIMEOUT, 504],
    [ErrorCodes.TARGET_TIMEOUT, 504],
    [ErrorCodes.CLIENT_CLOSED, 460],
    [ErrorCodes.TARGET_CONNECTION_FAILED, 502],
    [ErrorCodes.TARGET_INVALID_RESPONSE, 502],
    [ErrorCodes.DEREGISTRATION_DELAY_ELAPSED, 502],
  ])('answers ElbError %s with %i', (code, status) => {
    expect(statusForError(elb(code))).toBe(status);
  });

  it.each([[null], [undefined], ['boom'], [new Error('plain')], [{}]])('answers an unknown failure %j with 502', (err) => {
    expect(statusForError(err)).toBe(502);
  });
});

describe('isTargetConnectionError (TargetConnectionErrorCount)', () => {
  const failed = (code: string) => new ElbError(ErrorCodes.TARGET_CONNECTION_FAILED, code, { cause: Object.assign(new Error(code), { code }) });
  it.each([
    ['ECONNREFUSED', true],
    ['EHOSTUNREACH', true],
    ['ENETUNREACH', true],
    ['EADDRNOTAVAIL', true],
    ['ECONNRESET', false],
    ['EPIPE', false],
  ])('counts a failed connection with cause %s: %s', (code, expected) => {
    expect(isTargetConnectionError(failed(code))).toBe(expected);
  });

  it.each([
    [ErrorCodes.TARGET_CONNECT_TIMEOUT, true],
    [ErrorCodes.TARGET_TIMEOUT, false],
    [ErrorCodes.TARGET_INVALID_RESPONSE, false],
  ])('counts %s: %s', (code, expected) => {
    expect(isTargetConnectionError(elb(code))).toBe(expected);
  });

  it('is false for null', () => {
    expect(isTargetConnectionError(null)).toBe(false);
  });
});

describe('statusForRejection: requests the parser refused, and the idle timeout (spec 7.1)', () => {
  const parse = (code: string, reason: string, requestLineBytes: number | 'unended' = 20) => ({
    kind: 'parse' as const,
    error: { code, reason },
    requestLineBytes: requestLineBytes === 'unended' ? undefined : requestLineBytes,
  });
  it.each([
    ['no complete head within the idle timeout', { kind: 'timeout' as const }, 408],
    ['an HTTP/2 connection preface', parse('HPE_PAUSED_H2_UPGRADE', 'Pause on PRI/Upgrade'), 505],
    ['Transfer-Encoding other than chunked', parse('HPE_INVALID_TRANSFER_ENCODING', 'Request has invalid `Transfer-Encoding`'), 501],
    ['Transfer-Encoding with Content-Length', parse('HPE_INVALID_TRANSFER_ENCODING', "Transfer-Encoding can't be present with Content-Length"), 400],
    ['a request line that fills the 64 KiB head', parse('HPE_HEADER_OVERFLOW', 'Header overflow', 'unended'), 414],
    ['a head over 64 KiB with a request line over 16 KiB', parse('HPE_HEADER_OVERFLOW', 'Header overflow', 17 * 1024), 414],
    ['headers over 64 KiB after a short request line', parse('HPE_HEADER_OVERFLOW', 'Header overflow', 20), 400],
    ['a bad method', parse('HPE_INVALID_METHOD', 'Invalid method encountered'), 400],
    ['an unknown version', parse('HPE_INVALID_VERSION', 'Invalid HTTP version'), 400],
    ['two Content-Lengths', parse('HPE_UNEXPECTED_CONTENT_LENGTH', 'Duplicate Content-Length'), 400],
    ['a header without a colon', parse('HPE_INVALID_HEADER_TOKEN', 'Invalid header token'), 400],
  ])('%s gets %i', (_name, rejection, status) => {
    expect(statusForRejection(rejection)).toBe(status);
  });
});

describe('refusalStatus: requests the accept stage refuses (spec 7.1, 6.4, 5.3)', () => {
  it.each([
    ['BadUri', 400],
    ['BadHttpVersion', 400],
    ['UnsupportedHttpVersion', 505],
    ['UriTooLong', 414],
    ['HeaderTooLong', 400],
    ['TraceMethod', 405],
    ['ConnectMethod', 400],
    ['UnsupportedTransferEncoding', 501],
    ['TooManyForwardedFor', 463],
    ['IncompleteBody', 400],
    ['IncompatibleProtocol', 464],
    ['InvalidHeaderName', 400],
    ['DesyncSevere', 400],
    ['DesyncNotCompliant', 400],
    ['MalformedRequest', 400],
    ['TransformFailed', 500],
  ] as const)('%s is %i', (refusal, status) => {
    expect(refusalStatus[refusal]).toBe(status);
  });

  it('has no refusal without a row above', () => {
    expect(Object.keys(refusalStatus)).toHaveLength(16);
  });
});

describe('error pages', () => {
  it.each([
    [503, '503 Service Temporarily Unavailable'],
    [502, '502 Bad Gateway'],
    [504, '504 Gateway Time-out'],
    [463, '463'],
  ])('titles the %i page %j', (status, line) => {
    const page = errorPage(status);
    expect(page).toContain(`<title>${line}</title>`);
    expect(page).toContain(`<h1>${line}</h1>`);
  });

  it('builds a complete raw response with the awselb server header and a correct length', () => {
    const raw = rawErrorResponse(400);
    const [head, body] = raw.split('\r\n\r\n', 2) as [string, string];
    const lines = head.split('\r\n');
    expect(lines[0]).toBe('HTTP/1.1 400 Bad Request');
    expect(lines).toContain(`Server: ${SERVER_HEADER}`);
    expect(SERVER_HEADER).toBe('awselb/2.0');
    expect(lines).toContain('Connection: close');
    expect(lines).toContain(`Content-Length: ${Buffer.byteLength(raw.slice(head.length + 4))}`);
    expect(body).toContain('400 Bad Request');
  });
});
