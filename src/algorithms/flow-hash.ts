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

/** FNV-1a over the parts of a flow tuple (numbers as 32-bit words): cheap, stable, well spread. */
export function flowHash(parts: readonly (string | number)[]): number {
  let h = 0x811c9dc5;
  for (const part of parts) {
    if (typeof part === 'number') {
      for (let shift = 0; shift < 32; shift += 8) {
        h ^= (part >>> shift) & 0xff;
        h = Math.imul(h, 0x01000193);
      }
    } else {
      for (let i = 0; i < part.length; i++) {
        h ^= part.charCodeAt(i);
        h = Math.imul(h, 0x01000193);
      }
    }
    h ^= 0x7c;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}
