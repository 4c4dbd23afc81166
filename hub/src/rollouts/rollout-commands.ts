/**
 * The commands a rollout sends (fleet.proto DeployModel, RollbackModel, Cancel) through the commands capability,
 * owner `rollouts`, keyed by rollout id. A command is rebuilt from the rollout's stored bundle and the target's
 * command id, so every send of one id — the first, re-sends on reconnect, re-owed after a hub restart — carries the
 * same bytes, and the agent answers a repeat from its memory instead of installing twice.
 */
import { randomUUID } from 'node:crypto';
import { DeployMode, type CommandProps } from '@fedfleet/proto';
import type { DeviceCommand, DeviceCommands } from '../commands/device-commands.js';
import type { RolloutRecord, TargetRecord } from './rollout-repo.js';

/** The owner name of rollout commands at the commands capability (keyed by rollout id). */
export const ROLLOUTS_OWNER = 'rollouts';

export type Command = CommandProps & { commandId: string };

/**
 * DeployModel for a target. Its `deadlineAtMs` is the target's stored deadline — the one the hub times the device
 * out at — so the device gives up on its own then (AGENT_ERR_DEADLINE) instead of activating after the hub failed it;
 * 0 (none) when the command went to an offline device, which the hub does not time out. The deadline is fixed when
 * the command id is: a fresh window for a returning device is a new command (RolloutEngine.redeploy), never other
 * bytes under the same id, which an agent answers from memory with the deadline it first got.
 */
export function deployCommand(commandId: string, rollout: RolloutRecord, target: Pick<TargetRecord, 'mode' | 'deadlineAtMs'>): Command {
  const { manifest, signature, payload } = rollout.bundle;
  return {
    commandId,
    deploy: {
      rolloutId: rollout.id, model: payload, manifest, signature, deadlineAtMs: target.deadlineAtMs ?? 0, selfTestExamples: 0,
      mode: target.mode === 'shadow' ? DeployMode.DEPLOY_MODE_SHADOW : DeployMode.DEPLOY_MODE_ACTIVATE,
    },
  };
}

/** RollbackModel: idempotent on the device (one not serving or shadowing the version answers DONE, changing nothing). */
export function rollbackCommand(commandId: string, rollout: RolloutRecord, reason: string): Command {
  return { commandId, rollback: { rolloutId: rollout.id, fromVersionId: rollout.versionId, reason } };
}

/** The command a target waits on, rebuilt from the stored rollout (undefined when it waits on none). */
export function commandOf(rollout: RolloutRecord, target: TargetRecord): Command | undefined {
  if (!target.commandId) return undefined;
  return target.commandKind === 'rollback'
    ? rollbackCommand(target.commandId, rollout, target.reason ?? 'rollback')
    : deployCommand(target.commandId, rollout, target);
}

export function sentCommand(rollout: RolloutRecord, deviceId: string, command: Command): DeviceCommand {
  return { owner: ROLLOUTS_OWNER, key: rollout.id, deviceId, command };
}

export const newCommandId = (): string => randomUUID();

/** Tells a device to stop a command it may still be running (not owed, never re-sent). */
export function cancelOn(commands: Pick<DeviceCommands, 'notify'>, deviceId: string, commandId: string, reason: string): void {
  void commands.notify(deviceId, { commandId: randomUUID(), cancel: { targetCommandId: commandId, reason } });
}
