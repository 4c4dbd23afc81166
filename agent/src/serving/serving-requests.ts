import { decodeFloat32Le } from '@fedfleet/proto';
import { AgentError } from '../errors.js';

/** The bodies POST /predict and POST /feedback take, parsed and type-checked (agent/docs/agent.md#serving). */

export const JSON_MEDIA_TYPE = 'application/json';
export const BINARY_MEDIA_TYPE = 'application/octet-stream';

/** Inputs of one /predict request; `batch` = the body had `inputs`, so the answer is a list. */
export interface PredictRequest {
  inputs: Float32Array[];
  batch: boolean;
}

export interface FeedbackRequest {
  requestId: string;
  label: number;
}

const MAX_REQUEST_ID_CHARS = 128;

function badInput(detail: string): never {
  throw new AgentError('AGENT_ERR_BAD_INPUT', detail);
}

function unsupported(mediaType: string, accepted: string[]): never {
  throw new AgentError('AGENT_ERR_UNSUPPORTED_MEDIA_TYPE', `got ${mediaType ? `"${mediaType}"` : 'no Content-Type'}, accepted: ${accepted.join(', ')}`);
}

function parseJsonObject(body: Buffer): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch (error) {
    throw new AgentError('AGENT_ERR_BAD_JSON', (error as Error).message);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) badInput('the body must be a JSON object');
  return value as Record<string, unknown>;
}

/** A JSON array of numbers as float32. */
function floatsOf(value: unknown, path: string): Float32Array {
  if (!Array.isArray(value)) badInput(`${path} must be an array of numbers`);
  const out = new Float32Array(value.length);
  for (let i = 0; i < value.length; i++) {
    const v: unknown = value[i];
    if (typeof v !== 'number') badInput(`${path}[${i}] is ${v === null ? 'null' : typeof v}, not a number`);
    // Finiteness (1e999 parses to Infinity; 1e39 is one as a float32) is the service's check, done for every path.
    out[i] = v;
  }
  return out;
}

/**
 * Parses a /predict body: JSON `{"input": number[]}` or `{"inputs": number[][]}` (at most `maxBatch`), or raw
 * little-endian float32 values (`application/octet-stream`, one input). Lengths are checked against the model by
 * the service, which knows which model runs.
 */
export function parsePredictRequest(mediaType: string, body: Buffer, maxBatch: number): PredictRequest {
  if (mediaType === BINARY_MEDIA_TYPE) {
    if (body.length === 0 || body.length % 4 !== 0) badInput(`a binary body is float32 values: a non-zero multiple of 4 bytes, got ${body.length}`);
    return { inputs: [decodeFloat32Le(body)], batch: false };
  }
  if (mediaType !== JSON_MEDIA_TYPE) unsupported(mediaType, [JSON_MEDIA_TYPE, BINARY_MEDIA_TYPE]);
  const json = parseJsonObject(body);
  const hasInput = json.input !== undefined;
  const hasInputs = json.inputs !== undefined;
  if (hasInput === hasInputs) badInput('the body must have exactly one of "input" (number[]) and "inputs" (number[][])');
  if (hasInput) return { inputs: [floatsOf(json.input, 'input')], batch: false };
  const list = json.inputs;
  if (!Array.isArray(list) || list.length === 0 || list.length > maxBatch) {
    badInput(`"inputs" must be an array of 1 to ${maxBatch} inputs${Array.isArray(list) ? `, got ${list.length}` : ''}`);
  }
  return { inputs: list.map((item, i) => floatsOf(item, `inputs[${i}]`)), batch: true };
}

/** Parses a /feedback body: JSON `{"requestId": string, "label": integer}` (the class range is the service's check). */
export function parseFeedbackRequest(mediaType: string, body: Buffer): FeedbackRequest {
  if (mediaType !== JSON_MEDIA_TYPE) unsupported(mediaType, [JSON_MEDIA_TYPE]);
  const json = parseJsonObject(body);
  const { requestId, label } = json;
  if (typeof requestId !== 'string' || requestId.length === 0 || requestId.length > MAX_REQUEST_ID_CHARS) {
    badInput(`"requestId" must be a string of 1 to ${MAX_REQUEST_ID_CHARS} characters`);
  }
  if (typeof label !== 'number' || !Number.isInteger(label)) badInput('"label" must be an integer class index');
  return { requestId, label };
}
