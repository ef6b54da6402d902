/**
 * Reading ALB access-log lines back (spec 8.1), independently of the writer: the field list is
 * the spec's table, copied here, so a test parses each line field by field against the spec
 * rather than against the code that wrote it.
 */

/** Spec 8.1's fields, in order; `quoted` ones are written in double quotes. */
export const SPEC_8_1_FIELDS = [
  { name: 'type', quoted: false },
  { name: 'time', quoted: false },
  { name: 'elb', quoted: false },
  { name: 'client:port', quoted: false },
  { name: 'target:port', quoted: false },
  { name: 'request_processing_time', quoted: false },
  { name: 'target_processing_time', quoted: false },
  { name: 'response_processing_time', quoted: false },
  { name: 'elb_status_code', quoted: false },
  { name: 'target_status_code', quoted: false },
  { name: 'received_bytes', quoted: false },
  { name: 'sent_bytes', quoted: false },
  { name: 'request', quoted: true },
  { name: 'user_agent', quoted: true },
  { name: 'ssl_cipher', quoted: false },
  { name: 'ssl_protocol', quoted: false },
  { name: 'target_group_arn', quoted: false },
  { name: 'trace_id', quoted: true },
  { name: 'domain_name', quoted: true },
  { name: 'chosen_cert_arn', quoted: true },
  { name: 'matched_rule_priority', quoted: false },
  { name: 'request_creation_time', quoted: false },
  { name: 'actions_executed', quoted: true },
  { name: 'redirect_url', quoted: true },
  { name: 'error_reason', quoted: true },
  { name: 'target:port_list', quoted: true },
  { name: 'target_status_code_list', quoted: true },
  { name: 'classification', quoted: true },
  { name: 'classification_reason', quoted: true },
  { name: 'conn_trace_id', quoted: false },
  { name: 'transformed_host', quoted: true },
  { name: 'transformed_uri', quoted: true },
  { name: 'request_transform_status', quoted: true },
] as const;

export type AccessLogField = (typeof SPEC_8_1_FIELDS)[number]['name'];
/** One line's fields by spec name, quoted ones unquoted and unescaped (`\"`, `\xHH`). */
export type AccessLogEntry = Record<AccessLogField, string>;

const TOKEN = /"(?:[^"\\]|\\.)*"|[^ ]+/g;

function unescape(quoted: string): string {
  return quoted.slice(1, -1).replace(/\\x([0-9a-f]{2})|\\(.)/g, (_m, hex: string | undefined, c: string | undefined) => (hex !== undefined ? String.fromCharCode(parseInt(hex, 16)) : c!));
}

/**
 * Splits one line into spec 8.1's fields: spaces outside double quotes separate them, and a
 * field is quoted exactly when the spec's table says so. Throws, naming the field, when not.
 * Extra trailing fields are ignored (spec 8.1: new fields are appended at the end).
 */
export function parseAccessLogLine(line: string): AccessLogEntry {
  if (/[\r\n]/.test(line)) throw new Error(`an access-log line holds a line break: ${JSON.stringify(line)}`);
  const tokens = line.match(TOKEN) ?? [];
  if (tokens.join(' ') !== line) throw new Error(`fields are not separated by single spaces: ${JSON.stringify(line)}`);
  if (tokens.length < SPEC_8_1_FIELDS.length) throw new Error(`${tokens.length} fields, spec 8.1 has ${SPEC_8_1_FIELDS.length}: ${JSON.stringify(line)}`);
  const entry = {} as AccessLogEntry;
  SPEC_8_1_FIELDS.forEach(({ name, quoted }, i) => {
    const token = tokens[i]!;
    const isQuoted = token.startsWith('"');
    if (isQuoted !== quoted) throw new Error(`field ${i + 1} (${name}) should${quoted ? '' : ' not'} be quoted: ${token}`);
    entry[name] = quoted ? unescape(token) : token;
  });
  return entry;
}

const ISO_MICROS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/;
const SECONDS = /^(-1|\d+\.\d{3})$/;
const ADDRESS = /^(\d{1,3}(\.\d{1,3}){3}|[0-9a-f:]+):\d{1,5}$/;

/** Each field's form as spec 8.1 gives it; returns the problems, `[]` when the line is as AWS writes one. */
export function checkAccessLogEntry(e: AccessLogEntry): string[] {
  const problems: string[] = [];
  const expect = (ok: boolean, field: AccessLogField, what: string) => {
    if (!ok) problems.push(`${field}: ${what}, got ${JSON.stringify(e[field])}`);
  };
  expect(['http', 'https', 'h2', 'grpcs', 'ws', 'wss'].includes(e.type), 'type', 'http, https, h2, grpcs, ws or wss');
  expect(ISO_MICROS.test(e.time), 'time', 'ISO 8601 with microseconds');
  expect(/^app\/.+\/.+$/.test(e.elb), 'elb', 'app/<name>/<id>');
  expect(ADDRESS.test(e['client:port']), 'client:port', 'ip:port');
  expect(e['target:port'] === '-' || ADDRESS.test(e['target:port']), 'target:port', 'ip:port or -');
  for (const f of ['request_processing_time', 'target_processing_time', 'response_processing_time'] as const) expect(SECONDS.test(e[f]), f, 'seconds with ms precision or -1');
  expect(/^\d{3}$/.test(e.elb_status_code), 'elb_status_code', 'a status code');
  expect(e.target_status_code === '-' || /^\d{3}$/.test(e.target_status_code), 'target_status_code', 'a status code or -');
  expect(/^\d+$/.test(e.received_bytes), 'received_bytes', 'a byte count');
  expect(/^\d+$/.test(e.sent_bytes), 'sent_bytes', 'a byte count');
  // A request the load balancer could not read: `- http://host:port- -` (as ALB logs a 408 or a malformed head).
  const unread = /^- (https?|wss?):\/\/(\[[^\]]*\]|[^/:]*):\d+- -$/.test(e.request);
  expect(unread || /^\S+ (https?|wss?):\/\/(\[[^\]]*\]|[^/:]*):\d+.* HTTP\/\S*$/.test(e.request), 'request', 'METHOD protocol://host:port/uri HTTP/version');
  expect(e.ssl_cipher === '-' || /^[A-Z0-9_-]+$/.test(e.ssl_cipher), 'ssl_cipher', 'an OpenSSL cipher name or -');
  expect(e.ssl_protocol === '-' || /^TLSv1(\.[0-3])?$/.test(e.ssl_protocol), 'ssl_protocol', 'TLSv1.x or -');
  expect(e.target_group_arn === '-' || /^arn:aws:elasticloadbalancing:[^:]+:\d{12}:targetgroup\/[^/]+\/.+$/.test(e.target_group_arn), 'target_group_arn', 'a target group ARN or -');
  expect(e.trace_id === '-' || /^([A-Za-z]+=[^;]*)(;[A-Za-z]+=[^;]*)*$/.test(e.trace_id), 'trace_id', 'Field=value;… or -');
  expect(e.matched_rule_priority === '-' || /^(-1|0|[1-9]\d{0,4})$/.test(e.matched_rule_priority), 'matched_rule_priority', '1–50000, 0, -1 or -');
  expect(ISO_MICROS.test(e.request_creation_time), 'request_creation_time', 'ISO 8601 with microseconds');
  expect(e.actions_executed === '-' || /^(authenticate|fixed-response|forward|redirect|waf|waf-failed)(,(authenticate|fixed-response|forward|redirect|waf|waf-failed))*$/.test(e.actions_executed), 'actions_executed', 'a comma list of actions or -');
  expect(e.redirect_url === '-' || /^https?:\/\//.test(e.redirect_url), 'redirect_url', 'a Location or -');
  expect(e['target:port_list'] === (e['target:port'] === '-' ? '-' : e['target:port']), 'target:port_list', 'field 5 as a one-item list');
  expect(e.target_status_code_list === e.target_status_code, 'target_status_code_list', 'field 10 as a one-item list');
  expect(['-', 'Acceptable', 'Ambiguous', 'Severe'].includes(e.classification), 'classification', 'Acceptable, Ambiguous, Severe or -');
  expect((e.classification === '-') === (e.classification_reason === '-'), 'classification_reason', 'a reason exactly when there is a classification');
  expect(['-', 'TransformSucceeded', 'TransformNoMatch', 'TransformFailed'].includes(e.request_transform_status), 'request_transform_status', 'TransformSucceeded, TransformNoMatch, TransformFailed or - (emulator values, README)');
  expect(e.transformed_uri === '-' || e.transformed_uri.startsWith('/'), 'transformed_uri', 'an origin-form URI or -');
  return problems;
}
