import { describe, expect, it } from 'vitest';
import { ElbError, ErrorCodes, type ErrorCode } from '../../../src/core/errors.ts';
import { errorPage, isTargetConnectionError, rawErrorResponse, SERVER_HEADER, statusForError } from '../../../src/l7/error-responses.ts';

const elb = (code: ErrorCode) => new ElbError(code, 'x');
const coded = (code: string) => Object.assign(new Error(code), { code });

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

  it.each([
    ['UND_ERR_CONNECT_TIMEOUT', 504],
    ['UND_ERR_HEADERS_TIMEOUT', 504],
    ['UND_ERR_BODY_TIMEOUT', 504],
    ['ETIMEDOUT', 504],
    ['UND_ERR_REQ_CONTENT_LENGTH_MISMATCH', 400],
    ['ECONNREFUSED', 502],
    ['ECONNRESET', 502],
    ['EPIPE', 502],
    ['UND_ERR_SOCKET', 502],
    ['HPE_INVALID_HEADER_TOKEN', 502],
  ])('answers a transport error with code %s with %i', (code, status) => {
    expect(statusForError(coded(code))).toBe(status);
  });

  it.each([[null], [undefined], ['boom'], [new Error('plain')], [{}]])('answers an unknown failure %j with 502', (err) => {
    expect(statusForError(err)).toBe(502);
  });
});

describe('isTargetConnectionError', () => {
  it.each([
    ['ECONNREFUSED', true],
    ['UND_ERR_CONNECT_TIMEOUT', true],
    ['EHOSTUNREACH', true],
    ['ENETUNREACH', true],
    ['EADDRNOTAVAIL', true],
    ['ECONNRESET', false],
    ['UND_ERR_HEADERS_TIMEOUT', false],
  ])('counts %s as a target connection error: %s', (code, expected) => {
    expect(isTargetConnectionError(coded(code))).toBe(expected);
  });

  it('is false for null', () => {
    expect(isTargetConnectionError(null)).toBe(false);
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
