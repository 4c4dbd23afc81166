/**
 * The store's one record, `<dir>/state.json`: which version serves (active), which it would roll back to (previous)
 * and which runs in shadow. Validated where it enters (a file damaged outside the store reads as "no record"), and
 * written with a fixed key order so that equal states are equal bytes.
 */
import { readFile } from 'node:fs/promises';
import { BUNDLE_FORMATS, ENCODINGS, type SelfTestProps } from '@fedfleet/proto';
import Type from 'typebox';
import Value from 'typebox/value';
import type { ModelStoreState, StoredModelInfo } from './types.js';

export const STATE_FILE = 'state.json';
/** The layout this version writes and reads. */
const STATE_VERSION = 1;

const SelfTestSchema = Type.Object({
  examples: Type.Optional(Type.Integer({ minimum: 0 })),
  accuracy: Type.Optional(Type.Number()),
  p50Ms: Type.Optional(Type.Number()),
  p95Ms: Type.Optional(Type.Number()),
}, { additionalProperties: false });

const StoredModelSchema = Type.Object({
  modelId: Type.String({ minLength: 1 }),
  versionId: Type.String({ minLength: 1 }),
  sha256: Type.String({ pattern: '^[0-9a-f]{64}$' }),
  format: Type.Union(BUNDLE_FORMATS.map((f) => Type.Literal(f))),
  encoding: Type.Union(ENCODINGS.map((e) => Type.Literal(e))),
  activatedAtMs: Type.Number({ minimum: 0 }),
  selfTest: Type.Optional(SelfTestSchema),
  baseline: Type.Optional(SelfTestSchema),
  rolloutId: Type.Optional(Type.String()),
  commandId: Type.Optional(Type.String()),
}, { additionalProperties: false });

const StateFileSchema = Type.Object({
  stateVersion: Type.Literal(STATE_VERSION),
  active: Type.Optional(StoredModelSchema),
  previous: Type.Optional(StoredModelSchema),
  shadow: Type.Optional(StoredModelSchema),
}, { additionalProperties: false });

export type StateRead = { state: ModelStoreState; problem?: undefined } | { state: ModelStoreState; problem: 'missing' | 'corrupt'; detail: string };

/** Reads and validates state.json; a missing or invalid file is an empty state with the problem named. */
export async function readStateFile(path: string): Promise<StateRead> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return { state: {}, problem: 'missing', detail: 'no state.json' };
    return { state: {}, problem: 'corrupt', detail: (error as Error).message };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { state: {}, problem: 'corrupt', detail: 'state.json is not JSON' };
  }
  if (!Value.Check(StateFileSchema, parsed)) {
    const first = [...Value.Errors(StateFileSchema, parsed)][0];
    return { state: {}, problem: 'corrupt', detail: `state.json ${first?.instancePath || '/'} ${first?.message ?? 'is invalid'}` };
  }
  const { active, previous, shadow } = parsed;
  return { state: compactState({ active, previous, shadow }) };
}

/** The numbers of a self-test, without the nulls and NaNs a protobuf object may hold (JSON would write null). */
function selfTestJson(t: SelfTestProps): SelfTestProps {
  const out: SelfTestProps = {};
  for (const key of ['examples', 'accuracy', 'p50Ms', 'p95Ms'] as const) {
    const value = t[key];
    if (typeof value === 'number' && Number.isFinite(value)) out[key] = value;
  }
  return out;
}

function infoJson(info: StoredModelInfo): StoredModelInfo {
  // Fixed key order, absent optionals left out (JSON has no undefined).
  return {
    modelId: info.modelId, versionId: info.versionId, sha256: info.sha256, format: info.format, encoding: info.encoding,
    activatedAtMs: info.activatedAtMs,
    ...(info.selfTest ? { selfTest: selfTestJson(info.selfTest) } : {}),
    ...(info.baseline ? { baseline: selfTestJson(info.baseline) } : {}),
    ...(info.rolloutId ? { rolloutId: info.rolloutId } : {}),
    ...(info.commandId ? { commandId: info.commandId } : {}),
  };
}

/** The bytes of state.json for `state`. */
export function stateFileBytes(state: ModelStoreState): Uint8Array {
  const doc = {
    stateVersion: STATE_VERSION,
    ...(state.active ? { active: infoJson(state.active) } : {}),
    ...(state.previous ? { previous: infoJson(state.previous) } : {}),
    ...(state.shadow ? { shadow: infoJson(state.shadow) } : {}),
  };
  return new TextEncoder().encode(`${JSON.stringify(doc, null, 2)}\n`);
}

/** `state` without undefined slots (so that `'previous' in state` means there is one). */
export function compactState(state: ModelStoreState): ModelStoreState {
  return {
    ...(state.active ? { active: state.active } : {}),
    ...(state.previous ? { previous: state.previous } : {}),
    ...(state.shadow ? { shadow: state.shadow } : {}),
  };
}

/** Payload sha256s the state refers to: the blobs garbage collection keeps. */
export function referencedBlobs(state: ModelStoreState): Set<string> {
  return new Set([state.active, state.previous, state.shadow].flatMap((info) => (info ? [info.sha256] : [])));
}
