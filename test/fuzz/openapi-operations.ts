/**
 * Every operation of the hub's HTTP API, read from its own OpenAPI document (`GET /docs/json`, generated from the route
 * schemas), so a route added later is fuzzed without anyone listing it here.
 */
import type { JsonSchema } from './schema-arbitrary.js';

export interface OperationParameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: JsonSchema;
}

export interface Operation {
  /** Upper case, e.g. `POST`. */
  method: string;
  /** OpenAPI path template, e.g. `/v1/devices/{id}`. */
  path: string;
  /** False when the operation declares `security: []` (public). */
  needsAuth: boolean;
  pathParams: OperationParameter[];
  queryParams: OperationParameter[];
  /** JSON request body schema, when the operation takes one. */
  body?: JsonSchema;
}

interface OpenApiOperation {
  parameters?: OperationParameter[];
  requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
  security?: unknown[];
}

export interface OpenApiDocument {
  paths: Record<string, Record<string, OpenApiOperation>>;
  components?: { schemas?: Record<string, JsonSchema> };
}

/** Reads before writes, deletions last: a run that revoked every seeded device first would reach little else. */
const METHOD_ORDER = ['get', 'head', 'options', 'post', 'put', 'patch', 'delete'];

/** Every operation of the document, ordered by method (see METHOD_ORDER), then by path. */
export function listOperations(doc: OpenApiDocument): Operation[] {
  const operations: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (!METHOD_ORDER.includes(method)) continue;
      const parameters = op.parameters ?? [];
      const body = op.requestBody?.content?.['application/json']?.schema;
      operations.push({
        method: method.toUpperCase(),
        path,
        needsAuth: !(Array.isArray(op.security) && op.security.length === 0),
        pathParams: parameters.filter((p) => p.in === 'path'),
        queryParams: parameters.filter((p) => p.in === 'query'),
        ...(body ? { body } : {}),
      });
    }
  }
  const rank = (op: Operation) => METHOD_ORDER.indexOf(op.method.toLowerCase());
  return operations.sort((a, b) => rank(a) - rank(b) || a.path.localeCompare(b.path));
}

/** Resolves `#/components/schemas/Name` references of the document. */
export function refResolver(doc: OpenApiDocument): (ref: string) => JsonSchema | undefined {
  return (ref) => {
    const match = /^#\/components\/schemas\/(.+)$/.exec(ref);
    return match ? doc.components?.schemas?.[decodeURIComponent(match[1]!)] : undefined;
  };
}

export function operationName(op: Pick<Operation, 'method' | 'path'>): string {
  return `${op.method} ${op.path}`;
}
