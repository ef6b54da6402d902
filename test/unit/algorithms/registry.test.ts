/**
 * The algorithm registry (spec 3.1): one descriptor per routing algorithm, read by the config's
 * `load_balancing.algorithm.type`, by `createPicker` and by the README's table of algorithms.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { algorithmRegistry, algorithms, awsAlgorithms, createPicker, isAlgorithmName } from '../../../src/algorithms/registry.ts';
import { applicationTargetGroupAttributes, resolveAttributes } from '../../../src/config/attributes.ts';

const names = algorithmRegistry.map((a) => a.name);

describe('algorithm registry', () => {
  it('lists six algorithms, each name once', () => {
    expect(names).toHaveLength(6);
    expect(new Set(names).size).toBe(names.length);
  });

  it('gives the ALB exactly round_robin, least_outstanding_requests and weighted_random, in that order (spec 3.1)', () => {
    expect(awsAlgorithms).toEqual(['round_robin', 'least_outstanding_requests', 'weighted_random']);
    expect(algorithmRegistry.filter((a) => !a.aws).map((a) => a.name)).toEqual(['random', 'power_of_two_choices', 'kube_proxy_random']);
  });

  it.each(names.map((name) => [name, awsAlgorithms.includes(name)] as const))('accepts %s as load_balancing.algorithm.type (an ALB algorithm): %s', (name, accepted) => {
    expect(resolveAttributes(applicationTargetGroupAttributes, { 'load_balancing.algorithm.type': name }, 'attributes').ok).toBe(accepted);
  });

  it('keys `algorithms` by the registry names, in registry order', () => {
    expect(Object.keys(algorithms)).toEqual(names);
  });

  it.each(algorithmRegistry.map((a) => [a.name, a] as const))('creates %s through createPicker and through its descriptor, a picker named after the descriptor', (name, descriptor) => {
    expect(createPicker(name).name).toBe(descriptor.name);
    expect(descriptor.create().name).toBe(descriptor.name);
    expect(algorithms[name]!().name).toBe(descriptor.name);
    expect(isAlgorithmName(name)).toBe(true);
  });

  it('throws for an unknown name, naming every known one', () => {
    expect(() => createPicker('fastest')).toThrow(RangeError);
    expect(() => createPicker('fastest')).toThrow(
      'unknown load_balancing.algorithm.type "fastest"; known: round_robin, least_outstanding_requests, weighted_random, random, power_of_two_choices, kube_proxy_random',
    );
    expect(isAlgorithmName('fastest')).toBe(false);
  });
});

/** The rows of the markdown table `| Algorithm | What it does |` under "**Algorithms.**" in the README. */
function readmeAlgorithmRows(): Array<{ name: string; description: string }> {
  const lines = readFileSync(new URL('../../../README.md', import.meta.url), 'utf8').split('\n');
  const heading = lines.findIndex((l) => l.startsWith('**Algorithms.**'));
  expect(heading, 'README has a paragraph starting **Algorithms.**').toBeGreaterThanOrEqual(0);
  const header = lines.findIndex((l, i) => i > heading && l.trim() === '| Algorithm | What it does |');
  expect(header, 'a `| Algorithm | What it does |` table follows it').toBeGreaterThan(heading);
  expect(lines[header + 1]!.trim()).toMatch(/^\|\s*-+\s*\|\s*-+\s*\|$/);
  const rows: Array<{ name: string; description: string }> = [];
  for (let i = header + 2; i < lines.length && lines[i]!.trim().startsWith('|'); i++) {
    const match = /^\|\s*(.+?)\s*\|\s*(.+?)\s*\|$/.exec(lines[i]!.trim());
    expect(match, `README table row ${JSON.stringify(lines[i])}`).not.toBeNull();
    // Markdown formatting around the name (`round_robin`) is not part of it; the description is compared as written.
    rows.push({ name: match![1]!.replace(/^`(.*)`$/, '$1'), description: match![2]! });
  }
  return rows;
}

describe('README table of algorithms', () => {
  it('lists exactly the registry, in registry order, with each descriptor’s description as its text', () => {
    const rows = readmeAlgorithmRows();
    expect(rows).toHaveLength(algorithmRegistry.length);
    expect(rows).toEqual(algorithmRegistry.map((a) => ({ name: a.name, description: a.description })));
  });
});
