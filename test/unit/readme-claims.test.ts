/**
 * test/README-claims.md maps each behaviour the README states to the test that proves it.
 * This reads the table and checks that every listed test file exists and still holds a test
 * with the listed name (a `describe`/`it` title, or a row of an `it.each` table, in the file's
 * source), so renaming or deleting a test that backs a README claim fails here.
 */
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../../', import.meta.url));
const table = readFileSync(`${root}test/README-claims.md`, 'utf8');

interface Row {
  readonly section: string;
  readonly claim: string;
  readonly file: string;
  readonly name: string;
}

/** The rows of the markdown table: `| section | claim | file | name |`, header and rule left out. */
function rows(markdown: string): Row[] {
  const out: Row[] = [];
  for (const line of markdown.split('\n')) {
    if (!line.startsWith('| ') || line.startsWith('| ---') || line.startsWith('| README section')) continue;
    const cells = line.slice(2, -2).split(' | ');
    if (cells.length !== 4) throw new Error(`test/README-claims.md: a row must have 4 cells: ${line}`);
    const [section, claim, file, name] = cells.map((c) => c.trim()) as [string, string, string, string];
    out.push({ section, claim, file, name });
  }
  return out;
}

/** The string literals of a source file (quotes, escapes and template holes as written), joined. */
function literals(source: string): string {
  const found: string[] = [];
  const re = /'((?:[^'\\\n]|\\.)*)'|"((?:[^"\\\n]|\\.)*)"|`((?:[^`\\]|\\.)*)`/g;
  for (const m of source.matchAll(re)) found.push((m[1] ?? m[2] ?? m[3] ?? '').replace(/\\(['"`\\])/g, '$1'));
  return found.join('\n');
}

const claims = rows(table);

describe('test/README-claims.md', () => {
  it('lists claims (the table parses)', () => {
    expect(claims.length).toBeGreaterThan(50);
  });

  it.each(claims.map((c) => [`${c.section}: ${c.claim}`, c] as const))('%s', (_title, claim) => {
    expect(claim.file, 'a test file under test/').toMatch(/^test\/.+\.test\.ts$/);
    expect(existsSync(`${root}${claim.file}`), `${claim.file} exists`).toBe(true);
    expect(claim.name.length, 'a name fragment long enough to mean one test').toBeGreaterThanOrEqual(12);
    const strings = literals(readFileSync(`${root}${claim.file}`, 'utf8'));
    expect(strings.includes(claim.name), `${claim.file} has a test named "${claim.name}"`).toBe(true);
  });
});
