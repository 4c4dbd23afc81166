/**
 * Every number the API takes is finite (DESIGN §9). ajv lets ±Infinity through two doors: `coerceTypes` turns the
 * strings "Infinity", "-Infinity" and "1e309" into ±Infinity for integer and number fields, and skips their
 * minimum/maximum checks afterwards (the type was wrong when the checks were chosen); and `Type.Unknown()` fields
 * take JSON's 1e309 as Infinity. So one hook, after validation and coercion and before any handler, walks what the
 * request carries (body, querystring, params, headers) and refuses the request with HUB_ERR_VALIDATION naming the
 * first field that holds NaN or ±Infinity — for every route, whatever its schema says.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HubError } from '../errors.js';

const REQUEST_PARTS = ['body', 'query', 'params', 'headers'] as const;

/** Names used in messages, as fastify names the parts in its own validation messages (`body/ttlSec …`). */
const PART_NAMES: Record<(typeof REQUEST_PARTS)[number], string> = {
  body: 'body', query: 'querystring', params: 'params', headers: 'headers',
};

/**
 * The path (`/a/0/b`) of the first non-finite number in `value`, or undefined. Iterative: a deeply nested JSON body
 * must not overflow the stack.
 */
export function findNonFiniteNumber(value: unknown): string | undefined {
  const stack: Array<{ value: unknown; path: string }> = [{ value, path: '' }];
  while (stack.length > 0) {
    const { value: current, path } = stack.pop()!;
    if (typeof current === 'number') {
      if (!Number.isFinite(current)) return path;
    } else if (Array.isArray(current)) {
      for (let i = current.length - 1; i >= 0; i--) stack.push({ value: current[i], path: `${path}/${i}` });
    } else if (current !== null && typeof current === 'object' && !ArrayBuffer.isView(current)) {
      const entries = Object.entries(current);
      for (let i = entries.length - 1; i >= 0; i--) stack.push({ value: entries[i]![1], path: `${path}/${entries[i]![0]}` });
    }
  }
  return undefined;
}

/** Throws HUB_ERR_VALIDATION when any part of the (validated, coerced) request holds a non-finite number. */
export function checkFiniteNumbers(request: FastifyRequest): void {
  for (const part of REQUEST_PARTS) {
    const path = findNonFiniteNumber(request[part]);
    if (path !== undefined) {
      throw new HubError('HUB_ERR_VALIDATION', { message: `${PART_NAMES[part]}${path} must be a finite number` });
    }
  }
}

/** Adds the check to every route of `app` (call on the root instance before any route is registered). */
export function refuseNonFiniteNumbers(app: FastifyInstance): void {
  // preHandler: the first hook after validation, so it sees the values the handler will see.
  app.addHook('preHandler', async (request) => checkFiniteNumbers(request));
}
