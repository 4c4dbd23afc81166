/**
 * The artifacts a command points a device at: every `ModelRef` it carries (fleet.proto: "Points a device at a model
 * artifact it can fetch through fetch and chunk"). The commands capability grants these to the device before it
 * publishes the command (device-commands.ts), and the fetch handler serves a device nothing else. The table has one
 * entry per `Command` kind, so a new kind does not compile until it says what it references;
 * hub/test/commands/command-artifacts.test.ts walks fleet.proto for ModelRef fields this table would miss.
 */
import type { CommandKind, CommandProps, ModelRefProps } from '@fedfleet/proto';
import { isSha256Hex } from '../store/blobs.js';

type RefsOf = (command: CommandProps) => readonly (ModelRefProps | null | undefined)[];

const MODEL_REFS: { readonly [K in CommandKind]: RefsOf } = {
  train: (c) => [c.train?.baseModel],
  eval: (c) => [c.eval?.model],
  calibrate: (c) => [c.calibrate?.model],
  deploy: (c) => [c.deploy?.model],
  cancel: () => [],
  config: () => [],
  rollback: () => [],
};

/** The distinct sha256 digests (lowercase hex) a command names; malformed ones are left out (nothing can match them). */
export function artifactsOf(command: CommandProps): string[] {
  const found = new Set<string>();
  for (const refsOf of Object.values(MODEL_REFS)) {
    for (const ref of refsOf(command)) {
      const sha256 = (ref?.sha256 ?? '').toLowerCase();
      if (isSha256Hex(sha256)) found.add(sha256);
    }
  }
  return [...found];
}
