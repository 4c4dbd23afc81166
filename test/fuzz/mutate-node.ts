/**
 * One mutation deep inside a valid-looking document: a node replaced by a hostile value or by its own text, an
 * object entry dropped, duplicated or joined by a hostile key. Mutating a valid request reaches the code behind
 * schema validation, which random documents rarely do.
 */
import fc from 'fast-check';
import { hostileKey, hostileNode } from './hostile-values.js';
import { JsonObject, RawJson, toJsonText, type JsonNode } from './json-text.js';

type Path = readonly number[];

/** Paths (child indexes) of every node of `root`, root first. */
function nodePaths(root: JsonNode): Path[] {
  const paths: Path[] = [];
  const stack: [JsonNode, Path][] = [[root, []]];
  while (stack.length > 0) {
    const [node, path] = stack.pop()!;
    paths.push(path);
    const children = childrenOf(node);
    for (let i = children.length - 1; i >= 0; i--) stack.push([children[i]!, [...path, i]]);
  }
  return paths;
}

function childrenOf(node: JsonNode): readonly JsonNode[] {
  if (node instanceof JsonObject) return node.entries.map(([, v]) => v);
  if (Array.isArray(node)) return node as readonly JsonNode[];
  return [];
}

/** `root` with the node at `path` replaced by `edit(node)`. */
function editAt(root: JsonNode, path: Path, edit: (node: JsonNode) => JsonNode): JsonNode {
  if (path.length === 0) return edit(root);
  const [index, ...rest] = path as [number, ...number[]];
  if (root instanceof JsonObject) {
    return new JsonObject(root.entries.map(([k, v], i) => (i === index ? [k, editAt(v, rest, edit)] as const : [k, v] as const)));
  }
  return (root as readonly JsonNode[]).map((v, i) => (i === index ? editAt(v, rest, edit) : v));
}

type Mutation = { kind: 'replace'; value: JsonNode } | { kind: 'as-text' } | { kind: 'drop' } | { kind: 'duplicate'; value: JsonNode } | { kind: 'add'; key: string; value: JsonNode } | { kind: 'wrap' };

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  { arbitrary: hostileNode.map((value): Mutation => ({ kind: 'replace', value })), weight: 6 },
  { arbitrary: fc.constant<Mutation>({ kind: 'as-text' }), weight: 2 },
  { arbitrary: fc.constant<Mutation>({ kind: 'drop' }), weight: 2 },
  { arbitrary: hostileNode.map((value): Mutation => ({ kind: 'duplicate', value })), weight: 1 },
  { arbitrary: fc.tuple(hostileKey, hostileNode).map(([key, value]): Mutation => ({ kind: 'add', key, value })), weight: 1 },
  { arbitrary: fc.constant<Mutation>({ kind: 'wrap' }), weight: 1 },
);

function apply(node: JsonNode, m: Mutation): JsonNode {
  switch (m.kind) {
    case 'replace':
      return m.value;
    case 'as-text':
      return node instanceof RawJson ? node.text : typeof node === 'string' ? new RawJson(JSON.stringify(node)) : toJsonText(node);
    case 'wrap':
      return [node];
    case 'drop':
      if (node instanceof JsonObject) return new JsonObject(node.entries.slice(1));
      return Array.isArray(node) ? (node as readonly JsonNode[]).slice(1) : null;
    case 'duplicate':
      if (node instanceof JsonObject && node.entries.length > 0) return new JsonObject([...node.entries, [node.entries[0]![0], m.value]]);
      return m.value;
    case 'add':
      return node instanceof JsonObject ? new JsonObject([...node.entries, [m.key, m.value]]) : new JsonObject([[m.key, node]]);
  }
}

/** `root` with one mutation at one of its nodes (object-level mutations act on the entries of the node's object). */
export function mutateOnce(root: JsonNode): fc.Arbitrary<JsonNode> {
  const paths = nodePaths(root);
  return fc.tuple(fc.nat({ max: paths.length - 1 }), mutation).map(([index, m]) => editAt(root, paths[index]!, (node) => apply(node, m)));
}
