import type { CommandKind, CommandProps, CommandResultProps, EnvelopeProps, ProgressProps } from '@fedfleet/proto';
import type { ArtifactRef } from '../artifact-fetcher.js';
import type { Logger } from '../logger.js';

/** What a command handler may do; given by the agent for each command. */
export interface CommandContext {
  readonly deviceId: string;
  readonly commandId: string;
  readonly log: Logger;
  /** Aborted by a Cancel command or when the agent stops. */
  readonly signal: AbortSignal;
  /** Sends a CommandResult on `reply`. */
  reply(result: Omit<CommandResultProps, 'commandId'>): Promise<void>;
  /** Sends a Progress on `reply` (QoS 0: progress may be lost, results may not). */
  progress(progress: Omit<ProgressProps, 'commandId'>): void;
  /** Publishes any other envelope body on a device topic (e.g. a WeightUpdate on `update`). */
  publish(kind: 'update' | 'reply', body: Omit<EnvelopeProps, 'deviceId'>): Promise<void>;
  /** Downloads an artifact through fetch/chunk (cached by sha256); stops at `signal` too (a deadline) when given. */
  fetchArtifact(ref: ArtifactRef, signal?: AbortSignal): Promise<Uint8Array>;
}

export interface CommandHandler {
  /** True when the command occupies the device (training, evaluation): a second one is refused as busy. */
  readonly exclusive: boolean;
  run(ctx: CommandContext, command: CommandProps): Promise<void>;
}

export type CommandTable = Partial<Record<CommandKind, CommandHandler>>;
