/**
 * Health-check matcher codes (spec 2.1): a single code `"200"`, a list `"200,202"`, a range
 * `"200-299"`, or (UNCONFIRMED in AWS; accepted here) a mix such as `"200,300-399"`.
 */
export type Matcher = (status: number) => boolean;

export function parseMatcher(
  text: string,
  lo: number,
  hi: number,
): { ok: true; matches: Matcher } | { ok: false; message: string } {
  const ranges: Array<readonly [number, number]> = [];
  for (const item of text.split(',')) {
    const m = /^\s*(\d{3})(?:\s*-\s*(\d{3}))?\s*$/.exec(item);
    const from = m ? Number(m[1]) : NaN;
    const to = m?.[2] !== undefined ? Number(m[2]) : from;
    if (!m || from > to || from < lo || to > hi) {
      return { ok: false, message: `must be codes or lo-hi ranges within ${lo}–${hi}, comma-separated: got ${JSON.stringify(text)}` };
    }
    ranges.push([from, to]);
  }
  return { ok: true, matches: (status) => ranges.some(([a, b]) => status >= a && status <= b) };
}
