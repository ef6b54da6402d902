import type { Pickable, PickContext, Picker } from './picker.ts';

/**
 * NLB target selection (spec 3.5): `hash(flow tuple) mod candidates`. The hash is computed once
 * per new flow by the listener; the flow then keeps its target for its whole life, so this is
 * only asked for new flows.
 */
export class FlowHashPicker<T extends Pickable = Pickable> implements Picker<T> {
  readonly name = 'flow_hash';

  pick(candidates: readonly T[], ctx?: PickContext): T | undefined {
    if (candidates.length === 0) return undefined;
    return candidates[(ctx?.flowHash ?? 0) % candidates.length];
  }
}

/** FNV-1a over the parts of a flow tuple: cheap, stable, and good enough to spread flows. */
export function flowHash(parts: readonly (string | number)[]): number {
  let h = 0x811c9dc5;
  for (const part of parts) {
    const s = typeof part === 'number' ? String(part) : part;
    for (let i = 0; i < s.length; i++) {
      h ^= s.charCodeAt(i);
      h = Math.imul(h, 0x01000193);
    }
    h ^= 0x7c;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
