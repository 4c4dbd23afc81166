/**
 * The artifacts a command names (hub/src/commands/command-artifacts.ts) are what a device is granted. Its table is
 * checked against the wire contract itself: every ModelRef field reachable from `Command` in proto/fleet.proto must
 * be found, so a new command kind or field that points a device at an artifact cannot be forgotten.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import type { CommandProps } from '@fedfleet/proto';
import { artifactsOf } from '../../src/commands/command-artifacts.js';

const FLEET_PROTO = fileURLToPath(new URL('../../../proto/fleet.proto', import.meta.url));
const HUB_SRC = fileURLToPath(new URL('../../src/', import.meta.url));

/** Paths (camelCase field names, as the generated props use) from `type` to every ModelRef field under it. */
function modelRefPaths(type: protobuf.Type, seen: Set<string> = new Set()): { path: string[]; repeated: boolean }[] {
  const paths: { path: string[]; repeated: boolean }[] = [];
  for (const field of type.fieldsArray) {
    field.resolve();
    const child = field.resolvedType;
    if (!(child instanceof protobuf.Type)) continue;
    if (child.fullName === '.fedfleet.v1.ModelRef') paths.push({ path: [field.name], repeated: field.repeated });
    else if (!seen.has(child.fullName)) {
      for (const sub of modelRefPaths(child, new Set([...seen, type.fullName]))) paths.push({ path: [field.name, ...sub.path], repeated: sub.repeated || field.repeated });
    }
  }
  return paths;
}

function commandWith(path: string[], value: unknown): CommandProps {
  let node: unknown = value;
  for (const name of [...path].reverse()) node = { [name]: node };
  return { commandId: 'c-1', ...(node as object) };
}

describe('artifacts a command names', () => {
  it('finds the sha256 of every ModelRef fleet.proto lets a Command carry', () => {
    const command = protobuf.loadSync(FLEET_PROTO).lookupType('fedfleet.v1.Command');
    const paths = modelRefPaths(command);
    expect(paths.map((p) => p.path.join('.')).sort()).toEqual(expect.arrayContaining(['calibrate.model', 'deploy.model', 'eval.model', 'train.baseModel']));
    for (const [i, { path, repeated }] of paths.entries()) {
      const sha256 = i.toString(16).padStart(64, 'f');
      const ref = { sha256, versionId: 'v' };
      expect({ path: path.join('.'), found: artifactsOf(commandWith(path, repeated ? [ref] : ref)) }).toEqual({ path: path.join('.'), found: [sha256] });
    }
  });

  it('lowercases digests and leaves out empty or malformed ones', () => {
    expect(artifactsOf({ commandId: 'c', deploy: { model: { sha256: 'AB'.repeat(32) } } })).toEqual(['ab'.repeat(32)]);
    expect(artifactsOf({ commandId: 'c', deploy: { model: { sha256: '' } } })).toEqual([]);
    expect(artifactsOf({ commandId: 'c', eval: { model: { sha256: '../../etc/passwd' } } })).toEqual([]);
    expect(artifactsOf({ commandId: 'c', cancel: { targetCommandId: 'x' } })).toEqual([]);
  });

  it('every command reaches a device through the commands capability, the one place that grants', () => {
    const callers = readdirSync(HUB_SRC, { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.ts') && /\.sendToDevice\(/.test(readFileSync(join(HUB_SRC, file), 'utf8')))
      .map((file) => file.split('\\').join('/'))
      .sort();
    // fetch.ts answers on `chunk`; anything else that publishes to a device must go through hub.commands.
    expect(callers).toEqual(['broker/handlers/fetch.ts', 'commands/device-commands.ts']);
  });
});
