/** Orders strings by UTF-16 code units: the same on every device, unlike `localeCompare`. */
export function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0
}

/**
 * A copy of a JSON-like value with every object's keys sorted, so that
 * `JSON.stringify` gives the same bytes on every replica. `Object.fromEntries`
 * keeps a key named `__proto__` as an ordinary property.
 */
export function sortKeysDeep<T>(value: T): T {
  if (Array.isArray(value)) return value.map(sortKeysDeep) as T
  if (typeof value !== 'object' || value === null) return value
  const keys = Object.keys(value).sort(compareStrings)
  return Object.fromEntries(keys.map((k) => [k, sortKeysDeep((value as Record<string, unknown>)[k])])) as T
}
