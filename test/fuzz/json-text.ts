/**
 * A JSON document as the fuzzer builds it, before it becomes text. Plain JS values cannot carry everything a hostile
 * client sends: number tokens such as `1e309` or `-0`, an own key `__proto__` (assigning it sets the prototype),
 * duplicate keys. So objects are ordered entry lists and number tokens can be raw text.
 */

/** A JSON token written verbatim (e.g. `1e309`, `-0`, `123456789012345678901234567890`). */
export class RawJson {
  constructor(readonly text: string) {}
}

/** A JSON object as an ordered list of entries: keys may repeat and may be `__proto__`. */
export class JsonObject {
  constructor(readonly entries: readonly (readonly [string, JsonNode])[]) {}
}

export type JsonNode = null | boolean | number | string | RawJson | JsonObject | readonly JsonNode[];

/** The node of a plain JSON value (own enumerable keys only). */
export function fromJsValue(value: unknown): JsonNode {
  if (value === null || typeof value === 'boolean' || typeof value === 'number' || typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map(fromJsValue);
  if (typeof value === 'object') return new JsonObject(Object.entries(value as object).map(([k, v]) => [k, fromJsValue(v)] as const));
  return null;
}

/** JSON text of a node. `JSON.stringify` writes NaN and ±Infinity as `null`, as a real client would. */
export function toJsonText(node: JsonNode): string {
  // Iterative, because the fuzzer nests deeper than the call stack allows.
  const out: string[] = [];
  const stack: (JsonNode | { close: string } | { sep: string })[] = [node];
  while (stack.length > 0) {
    const item = stack.pop()!;
    if (item !== null && typeof item === 'object' && 'close' in item) out.push(item.close);
    else if (item !== null && typeof item === 'object' && 'sep' in item) out.push(item.sep);
    else if (item instanceof RawJson) out.push(item.text);
    else if (item instanceof JsonObject) {
      out.push('{');
      stack.push({ close: '}' });
      for (let i = item.entries.length - 1; i >= 0; i--) {
        const [key, value] = item.entries[i]!;
        stack.push(value, { sep: `${i > 0 ? ',' : ''}${JSON.stringify(key)}:` });
      }
    } else if (Array.isArray(item)) {
      out.push('[');
      stack.push({ close: ']' });
      for (let i = item.length - 1; i >= 0; i--) {
        stack.push(item[i] as JsonNode);
        if (i > 0) stack.push({ sep: ',' });
      }
    } else out.push(JSON.stringify(item as null | boolean | number | string));
  }
  return out.join('');
}

/**
 * Query-string values of a node: scalars as their text, arrays as repeated keys (`a=1&a=2`), objects as JSON text.
 */
export function toQueryValues(node: JsonNode): string[] {
  if (Array.isArray(node)) return node.flatMap((item) => (Array.isArray(item) ? [toJsonText(item)] : toQueryValues(item as JsonNode)));
  if (node === null) return ['null'];
  if (typeof node === 'string') return [node];
  if (node instanceof RawJson) return [node.text];
  if (node instanceof JsonObject) return [toJsonText(node)];
  return [String(node)];
}

/** The text of a node cut to `maxChars`, for failure messages. */
export function preview(text: string, maxChars = 600): string {
  return text.length <= maxChars ? text : `${text.slice(0, maxChars)}… (${text.length} chars)`;
}
