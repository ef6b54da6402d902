/**
 * Strategic merge patch (`application/strategic-merge-patch+json`) for the fake API server.
 *
 * Kubernetes defines the merge behaviour of each list by Go struct tags (`patchStrategy`,
 * `patchMergeKey`); there is no maintained JavaScript implementation, so this module carries a
 * small table of the built-in types' list fields that merge (by the field's name and its parent's),
 * and treats every other list as atomic (replaced whole), as the real server does for lists
 * without a strategy. Maps merge key by key, `null` deletes a key.
 *
 * Directives supported: `$patch: replace | delete | merge` (in maps and list items),
 * `$retainKeys`, `$deleteFromPrimitiveList/<field>`, `$setElementOrder/<field>`.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export interface ListPatchMeta {
  /** Items are objects merged by this key. */
  mergeKey?: string;
  /** Items are primitives merged as a set (e.g. `metadata.finalizers`). */
  primitiveSet?: boolean;
}

const CONTAINER_LISTS = new Set(['containers', 'initContainers', 'ephemeralContainers']);

/**
 * The patch strategy of the list at `path` (field names from the object root; list items add no
 * segment). `undefined` means atomic: the patch's list replaces the original.
 */
export function listPatchMeta(path: readonly string[]): ListPatchMeta | undefined {
  const field = path[path.length - 1];
  const parent = path[path.length - 2];
  switch (field) {
    case 'finalizers':
      return parent === 'metadata' ? { primitiveSet: true } : undefined;
    case 'ownerReferences':
      return { mergeKey: 'uid' };
    case 'containers':
    case 'initContainers':
    case 'ephemeralContainers':
      return { mergeKey: 'name' };
    case 'ports':
      if (parent !== undefined && CONTAINER_LISTS.has(parent)) return { mergeKey: 'containerPort' };
      // Service spec.ports merge by port; EndpointSlice ports and status.loadBalancer.ingress[].ports are atomic.
      if (path.length === 2 && parent === 'spec') return { mergeKey: 'port' };
      return undefined;
    case 'env':
      return { mergeKey: 'name' };
    case 'volumeMounts':
      return { mergeKey: 'mountPath' };
    case 'volumeDevices':
      return { mergeKey: 'devicePath' };
    case 'volumes':
    case 'imagePullSecrets':
      return { mergeKey: 'name' };
    case 'conditions':
      return { mergeKey: 'type' };
    case 'podIPs':
    case 'hostIPs':
      return { mergeKey: 'ip' };
    case 'addresses':
      // Node status.addresses merge by type; EndpointSlice endpoints[].addresses is a string list (atomic).
      return parent === 'status' ? { mergeKey: 'type' } : undefined;
    default:
      return undefined;
  }
}

export class StrategicMergePatchError extends Error {}

export function isJsonObject(v: unknown): v is JsonObject {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function clone<T>(v: T): T {
  return v === undefined ? v : (structuredClone(v) as T);
}

/** Removes directive keys (`$patch`, `$retainKeys`, `$setElementOrder/…`, `$deleteFromPrimitiveList/…`) recursively. */
function stripDirectives(v: Json): Json {
  if (Array.isArray(v)) return v.filter((i) => !(isJsonObject(i) && i.$patch === 'delete')).map(stripDirectives);
  if (!isJsonObject(v)) return v;
  const out: JsonObject = {};
  for (const [k, val] of Object.entries(v)) {
    if (k.startsWith('$')) continue;
    out[k] = stripDirectives(val);
  }
  return out;
}

/** Applies a strategic merge patch to `original` (not modified) and returns the result. */
export function strategicMergePatch(original: JsonObject, patch: Json): JsonObject {
  if (!isJsonObject(patch)) throw new StrategicMergePatchError('a strategic merge patch must be a JSON object');
  const out = mergeMap(original, patch, []);
  if (out === undefined) throw new StrategicMergePatchError('$patch: delete of the whole object is not allowed');
  return out;
}

function mergeMap(original: Json | undefined, patch: JsonObject, path: string[]): JsonObject | undefined {
  const directive = patch.$patch;
  if (directive === 'delete') return undefined;
  if (directive === 'replace') return stripDirectives(patch) as JsonObject;
  if (directive !== undefined && directive !== 'merge') throw new StrategicMergePatchError(`unknown patch directive $patch: ${JSON.stringify(directive)}`);
  const result: JsonObject = isJsonObject(original) ? clone(original) : {};
  const elementOrders: Array<[string, Json]> = [];
  const primitiveDeletes: Array<[string, Json]> = [];
  for (const [key, value] of Object.entries(patch)) {
    if (key === '$patch' || key === '$retainKeys') continue;
    if (key.startsWith('$setElementOrder/')) {
      elementOrders.push([key.slice('$setElementOrder/'.length), value]);
      continue;
    }
    if (key.startsWith('$deleteFromPrimitiveList/')) {
      primitiveDeletes.push([key.slice('$deleteFromPrimitiveList/'.length), value]);
      continue;
    }
    if (value === null) {
      delete result[key];
    } else if (Array.isArray(value)) {
      result[key] = mergeList(result[key], value, [...path, key]);
    } else if (isJsonObject(value)) {
      const merged = mergeMap(result[key], value, [...path, key]);
      if (merged === undefined) delete result[key];
      else result[key] = merged;
    } else {
      result[key] = value;
    }
  }
  for (const [field, values] of primitiveDeletes) {
    const list = result[field];
    if (Array.isArray(list) && Array.isArray(values)) result[field] = list.filter((i) => !values.some((d) => d === i));
  }
  for (const [field, order] of elementOrders) {
    const list = result[field];
    if (Array.isArray(list) && Array.isArray(order)) result[field] = reorder(list, order, listPatchMeta([...path, field])?.mergeKey);
  }
  const retain = patch.$retainKeys;
  if (Array.isArray(retain)) {
    for (const k of Object.keys(result)) if (!retain.includes(k)) delete result[k];
  }
  return result;
}

function mergeList(original: Json | undefined, patch: Json[], path: string[]): Json[] {
  const meta = listPatchMeta(path);
  if (meta === undefined) return stripDirectives(patch) as Json[];
  const replaceIdx = patch.findIndex((i) => isJsonObject(i) && i.$patch === 'replace');
  if (replaceIdx >= 0) return stripDirectives(patch.filter((_, i) => i !== replaceIdx)) as Json[];
  const result: Json[] = Array.isArray(original) ? clone(original) : [];
  if (meta.primitiveSet) {
    for (const item of patch) if (!result.some((r) => r === item)) result.push(item);
    return result;
  }
  const key = meta.mergeKey!;
  for (const item of patch) {
    if (!isJsonObject(item)) throw new StrategicMergePatchError(`list ${path.join('.')} merges by ${key}; its items must be objects`);
    const keyValue = item[key];
    if (keyValue === undefined) throw new StrategicMergePatchError(`map: ${JSON.stringify(item)} does not contain declared merge key: ${key}`);
    const idx = result.findIndex((r) => isJsonObject(r) && r[key] === keyValue);
    if (item.$patch === 'delete') {
      if (idx >= 0) result.splice(idx, 1);
      continue;
    }
    if (idx >= 0) {
      const merged = mergeMap(result[idx], item, path);
      if (merged === undefined) result.splice(idx, 1);
      else result[idx] = merged;
    } else {
      result.push(stripDirectives(item));
    }
  }
  return result;
}

/** `$setElementOrder`: the listed elements first, in that order; the others after, in their order. */
function reorder(list: Json[], order: Json[], mergeKey: string | undefined): Json[] {
  const keyOf = (v: Json): Json => (mergeKey !== undefined && isJsonObject(v) ? (v[mergeKey] ?? null) : v);
  const wanted = order.map(keyOf);
  const placed = wanted.flatMap((w) => list.filter((i) => keyOf(i) === w));
  const rest = list.filter((i) => !wanted.includes(keyOf(i)));
  return [...placed, ...rest];
}
