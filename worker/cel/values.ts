import { isCelList, isCelMap, isCelType, isCelUint } from '@bufbuild/cel';
import type { CelInput, CelValue } from '@bufbuild/cel';

/**
 * Converts a plain JSON value to a CEL input.
 *
 * Integral numbers become CEL `int` (bigint), others `double`. JSON cannot tell 3 from 3.0, and
 * runbooks mostly count things (replicas, evicted pods, PR numbers), so `inputs.replicas + 1` and
 * `steps.drain.result.evicted == 3` work as written. Comparisons across int and double work in
 * CEL either way; only arithmetic mixing them needs `double(x)`.
 *
 * Plain objects become Maps, so keys are looked up exactly; `undefined` members are left out,
 * which makes them absent (`has(inputs.x)` is false) rather than null.
 */
export function toCelInput(value: unknown): CelInput {
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'bigint':
      return value;
    case 'number':
      return Number.isSafeInteger(value) ? BigInt(value) : value;
    case 'object':
      break;
    default:
      throw new TypeError(`cannot pass a ${typeof value} to CEL`);
  }
  if (value === null) return null;
  if (Array.isArray(value)) return value.map((item: unknown) => toCelInput(item));
  if (value instanceof Date) return value.toISOString();
  if (value instanceof Uint8Array) return value;
  const map = new Map<string, CelInput>();
  for (const [key, member] of Object.entries(value)) {
    if (member !== undefined) map.set(key, toCelInput(member));
  }
  return map;
}

/**
 * Converts a CEL result back to plain JSON: int/uint → number, list → array, map → object,
 * timestamp → ISO string, duration → `"1.5s"` (the protobuf JSON form), bytes → base64.
 * Integers beyond 2^53 lose precision; results that large do not occur in runbooks.
 */
export function fromCelValue(value: CelValue): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
    case 'number':
      return value;
    case 'bigint':
      return Number(value);
  }
  if (value === null) return null;
  if (isCelUint(value)) return Number(value.value);
  if (value instanceof Uint8Array) return btoa(String.fromCharCode(...value));
  if (isCelList(value)) return Array.from(value, (item) => fromCelValue(item));
  if (isCelMap(value)) {
    const out: Record<string, unknown> = {};
    for (const [key, member] of value) out[mapKey(key)] = fromCelValue(member);
    return out;
  }
  if (isCelType(value)) return value.name;
  return messageToJson(value);
}

function mapKey(key: unknown): string {
  return isCelUint(key) ? String(key.value) : String(key);
}

/** Timestamps and durations arrive as protobuf messages; nothing else produces messages here. */
function messageToJson(value: object): unknown {
  const message = 'message' in value ? (value.message as Record<string, unknown> | undefined) : undefined;
  const typeName = message?.['$typeName'];
  const seconds = Number(message?.['seconds'] ?? 0);
  const nanos = Number(message?.['nanos'] ?? 0);
  if (typeName === 'google.protobuf.Timestamp') return new Date(seconds * 1000 + Math.floor(nanos / 1e6)).toISOString();
  if (typeName === 'google.protobuf.Duration') return `${seconds + nanos / 1e9}s`;
  throw new TypeError(`cannot convert a CEL ${String(typeName ?? 'value')} to JSON`);
}
