/**
 * The device commands of federated rounds, sent through the commands capability (hub/src/commands) as owner
 * `rounds`, keyed by round id: each participant's train task, each evaluator's eval task, and the cancel of a task a
 * round no longer needs. A task is built from the stored round and campaign, so a participant gets the same command
 * every time it is sent (at selection, on resume after a restart, when it comes back online).
 */
import { randomUUID } from 'node:crypto';
import { wireEncodingOf, type CommandProps, type Encoding, type ModelRefProps } from '@fedfleet/proto';
import type { DeviceCommands } from '../commands/device-commands.js';
import type { HubLogger } from '../logger.js';
import type { ModelRegistry } from '../models/model-registry.js';
import { modelRefOf } from '../models/model-ref.js';
import type { Store } from '../store/store.js';
import type { RoundRecord, RoundRepo } from './round-repo.js';

/** The owner name of round commands at the commands capability. */
export const ROUNDS_OWNER = 'rounds';

export type TaskKind = 'train' | 'eval';

export interface RoundCommands {
  /** Sends a participant its task (and owes it until settled); a failure to build or send it is logged. */
  send(kind: TaskKind, roundId: string, deviceId: string, commandId: string): Promise<void>;
  /** Owes a task without sending it now: it goes out when the device comes back online. */
  owe(kind: TaskKind, roundId: string, deviceId: string, commandId: string): Promise<void>;
  /** Settles a task and tells the device to stop it. */
  cancel(deviceId: string, targetCommandId: string, roundId: string, reason: string): void;
  /** The task is answered or no longer wanted. */
  settle(commandId: string): void;
  /** Every task of a round (it left the phase they belong to). */
  settleRound(roundId: string): void;
}

export interface RoundCommandsDeps {
  rounds: RoundRepo;
  registry: Pick<ModelRegistry, 'getVersion' | 'downlinkArtifact'>;
  blobs: Pick<Store['blobs'], 'info'>;
  commands: DeviceCommands;
  log: HubLogger;
}

export function createRoundCommands(deps: RoundCommandsDeps): RoundCommands {
  const { rounds, commands, log } = deps;

  const modelRef = (versionId: string, encoding: Encoding, sha256?: string): Promise<ModelRefProps> => modelRefOf(deps, versionId, encoding, sha256);

  /** A train task trains the round's base model (its downlink artifact); an eval task evaluates its result. */
  async function build(kind: TaskKind, round: RoundRecord, commandId: string): Promise<CommandProps & { commandId: string }> {
    const { config } = rounds.campaign(round.campaignId)!;
    const roundId = round.id;
    if (kind === 'eval') {
      const model = await modelRef(round.resultVersionId!, config.downlink);
      return { commandId, eval: { roundId, campaignId: round.campaignId, model, deadlineAtMs: round.evalDeadlineAtMs ?? 0 } };
    }
    return {
      commandId,
      train: {
        roundId, roundNumber: round.number, campaignId: round.campaignId,
        baseModel: await modelRef(round.baseVersionId, config.downlink, round.artifactSha256 ?? undefined),
        epochs: config.epochs, batchSize: config.batchSize, learningRate: config.learningRate, proximalMu: config.proximalMu,
        deadlineAtMs: round.deadlineAtMs ?? 0, updateEncoding: wireEncodingOf(config.uplink),
        seed: (round.seed * 1_000_003 + round.number) >>> 0, maxExamples: config.maxExamples,
      },
    };
  }

  async function deliver(kind: TaskKind, roundId: string, deviceId: string, commandId: string, now: boolean): Promise<void> {
    try {
      const round = rounds.round(roundId);
      if (!round) return;
      const sent = { owner: ROUNDS_OWNER, key: roundId, deviceId, command: await build(kind, round, commandId) };
      // The round may have left the task's phase while the task was built: then nobody waits for it.
      if (rounds.round(roundId)?.state !== (kind === 'train' ? 'training' : 'evaluating')) return;
      if (now) await commands.send(sent);
      else commands.owe(sent);
    } catch (error) {
      log.warn({ err: error, roundId, deviceId, kind }, 'task not sent');
    }
  }

  return {
    send: (kind, roundId, deviceId, commandId) => deliver(kind, roundId, deviceId, commandId, true),
    owe: (kind, roundId, deviceId, commandId) => deliver(kind, roundId, deviceId, commandId, false),
    cancel(deviceId, targetCommandId, roundId, reason) {
      commands.settle(targetCommandId);
      void commands.notify(deviceId, { commandId: randomUUID(), cancel: { targetCommandId, roundId, reason } });
    },
    settle: (commandId) => void commands.settle(commandId),
    settleRound: (roundId) => void commands.settleAll(ROUNDS_OWNER, roundId),
  };
}
