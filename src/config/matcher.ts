/**
 * Health-check matcher codes (spec 2.1, 12.4.4): a single code `"200"`, a list `"200,202"`, a
 * range `"200-299"`, or (UNCONFIRMED in AWS; accepted here) a mix such as `"200,300-399"`.
 * HTTP codes are three digits (ALB 200–499, NLB 200–599); gRPC status codes are 0–99.
 */
export type Matcher = (status: number) => boolean;

export type MatcherParse = { ok: true; matches: Matcher } | { ok: false; message: string };

/** HTTP status codes within `lo`–`hi`. */
export function parseMatcher(text: string, lo: number, hi: number): MatcherParse {
  const ranges = parseCodes(text, /^\s*(\d{3})(?:\s*-\s*(\d{3}))?\s*$/, lo, hi);
  if (ranges === undefined) return { ok: false, message: `must be codes or lo-hi ranges within ${lo}–${hi}, comma-separated: got ${JSON.stringify(text)}` };
  return { ok: true, matches: matchesAny(ranges) };
}

/** The range of `Matcher.GrpcCode` (spec 2.1). */
export const GRPC_CODE_RANGE = [0, 99] as const;

/**
 * gRPC status codes 0–99 (`Matcher.GrpcCode`, spec 12.4.4). The error begins with AWS's own
 * wording ("Health check matcher GRPC code '200' must be within '0-99' inclusive").
 */
export function parseGrpcMatcher(text: string): MatcherParse {
  const [lo, hi] = GRPC_CODE_RANGE;
  const ranges = parseCodes(text, /^\s*(\d{1,2})(?:\s*-\s*(\d{1,2}))?\s*$/, lo, hi);
  if (ranges === undefined) return { ok: false, message: `${grpcRangeMessage(text)} (codes or lo-hi ranges, comma-separated, e.g. "12", "0,1", "0-5"): got ${JSON.stringify(text)}` };
  return { ok: true, matches: matchesAny(ranges) };
}

/** AWS's error for a GrpcCode outside 0–99 [S-LBC-2804]. */
export function grpcRangeMessage(text: string): string {
  return `Health check matcher GRPC code '${text}' must be within '${GRPC_CODE_RANGE[0]}-${GRPC_CODE_RANGE[1]}' inclusive`;
}

function parseCodes(text: string, item: RegExp, lo: number, hi: number): Array<readonly [number, number]> | undefined {
  const ranges: Array<readonly [number, number]> = [];
  for (const part of text.split(',')) {
    const m = item.exec(part);
    if (!m) return undefined;
    const from = Number(m[1]);
    const to = m[2] !== undefined ? Number(m[2]) : from;
    if (from > to || from < lo || to > hi) return undefined;
    ranges.push([from, to]);
  }
  return ranges;
}

function matchesAny(ranges: ReadonlyArray<readonly [number, number]>): Matcher {
  return (status) => ranges.some(([a, b]) => status >= a && status <= b);
}
