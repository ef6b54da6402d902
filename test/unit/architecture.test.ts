import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// The folders of src/ are the architecture: each is a layer, and a file may import only from its
// own folder and from layers below its own. Folders on the same rank are siblings that must not
// know each other (l4 and l7; pods and k8s; harness, admin and elbv2; the lab, which uses no sockets).
const LAYERS: readonly (readonly string[])[] = [
  ['core', 'web'],
  ['algorithms'],
  ['tls'],
  ['config'],
  ['targets'],
  ['l4', 'l7', 'lab'],
  ['runtime'],
  ['pods', 'k8s'],
  ['local-elb'],
  ['harness', 'admin', 'elbv2'],
  ['cli'],
  ['index'],
];
// The demo target is a process of its own; it imports nothing from src/.
const STANDALONE = new Set(['demo']);

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const src = join(root, 'src');

function rankOf(layer: string): number {
  const rank = LAYERS.findIndex((rankLayers) => rankLayers.includes(layer));
  if (rank < 0 && !STANDALONE.has(layer)) throw new Error(`src/${layer} is in no layer of architecture.test.ts`);
  return rank;
}

/** src/l7/pipeline/act.ts → l7; src/local-elb.ts → local-elb. */
function layerOf(file: string): string {
  const first = relative(src, file).split(sep)[0]!;
  return first.replace(/\.ts$/, '');
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') ? [path] : [];
  });
}

/** Relative specifiers of static imports, re-exports, type imports and dynamic imports. */
function relativeImports(text: string): string[] {
  const specifiers: string[] = [];
  const patterns = [/\bfrom\s+'(\.[^']*)'/g, /\bimport\s+'(\.[^']*)'/g, /\bimport\(\s*'(\.[^']*)'\s*\)/g];
  for (const pattern of patterns) {
    for (const match of text.matchAll(pattern)) specifiers.push(match[1]!);
  }
  return specifiers;
}

interface Edge {
  readonly file: string;
  readonly imports: string;
  readonly from: string;
  readonly to: string;
}

function edges(): Edge[] {
  const found: Edge[] = [];
  for (const file of sourceFiles(src)) {
    for (const specifier of relativeImports(readFileSync(file, 'utf8'))) {
      const target = resolve(dirname(file), specifier);
      found.push({
        file: relative(root, file),
        imports: specifier,
        from: layerOf(file),
        to: target.startsWith(src + sep) ? layerOf(target) : `outside src (${relative(root, target)})`,
      });
    }
  }
  return found;
}

describe('architecture: imports point one way', () => {
  const all = edges();

  it('reads the imports (the check is not vacuous)', () => {
    expect(all.length).toBeGreaterThan(200);
    expect(all.some((edge) => edge.from === 'cli' && edge.to === 'k8s')).toBe(true); // a dynamic import
    expect(all.some((edge) => edge.from === 'l7' && edge.to === 'targets')).toBe(true);
  });

  it('every folder of src/ is in a layer', () => {
    for (const entry of readdirSync(src)) expect(() => rankOf(entry.replace(/\.ts$/, ''))).not.toThrow();
  });

  it('no file imports from its own layer’s siblings or from a layer above', () => {
    const wrong = all
      .filter((edge) => edge.from !== edge.to)
      .filter((edge) => STANDALONE.has(edge.from) || edge.to.startsWith('outside') || rankOf(edge.to) >= rankOf(edge.from))
      .map((edge) => `${edge.file} imports ${edge.imports} (${edge.from} → ${edge.to})`);
    expect(wrong).toEqual([]);
  });

  it('the HTTP/1.1 engine and the upstream know nothing of the pipeline stages or the load balancer', () => {
    // (The listener is where a connection meets handleRequest, so it alone may import the pipeline.)
    const lower = ['src/l7/http1/', 'src/l7/upstream/', 'src/l7/exchange.ts'];
    const above = /\/(pipeline|actions)\/|application-load-balancer/;
    const wrong = all
      .filter((edge) => lower.some((prefix) => edge.file.startsWith(prefix)))
      .filter((edge) => above.test(edge.imports))
      .map((edge) => `${edge.file} imports ${edge.imports}`);
    expect(wrong).toEqual([]);
  });

  it('the README draws the same layers', () => {
    const readme = readFileSync(join(root, 'README.md'), 'utf8');
    const drawn = LAYERS.slice(0, -1)
      .map((rankLayers) => rankLayers.join(' | '))
      .join(' ← ');
    expect(readme).toContain(`Imports point one way: \`${drawn}\``);
  });
});
