/**
 * Commands to devices on behalf of hub capabilities (DESIGN §2: `Command` on `cmd`, replies on `reply`). A capability
 * — the owner, e.g. `rounds` (keyed by round id), later `rollouts` — sends a command through here; the command is owed
 * until the owner settles it. Replies (`CommandResult`, `EvalResult`, `CalibrationReport`, `DeployReport`, `Progress`) go to the owner of the command they
 * name, and only when they come from the device it was sent to. A device that comes back online gets every command
 * it is still owed again: QoS 1 [MQTT-4.3.2] delivers at least once, and agents answer a command id they already
 * ran from their memory instead of running it twice. Owed commands live in memory; an owner re-registers (`owe`) or
 * re-sends (`send`) the ones it still waits for when it resumes after a restart — its own tables hold their ids.
 * Every command goes out through `publish` below, the one place that grants the device the artifacts the command names
 * (command-artifacts.ts) before the device can see it; settling a command revokes them (store/artifact-grants.ts).
 */
import type {
  CalibrationReportProps, CommandProps, CommandResultProps, DeployReportProps, EvalResultProps, ProgressProps,
} from '@fedfleet/proto';
import type { Broker } from '../broker/broker.js';
import type { DeviceMessage, Router } from '../broker/router.js';
import type { HubEvents } from '../events/hub-events.js';
import type { HubLogger } from '../logger.js';
import type { ArtifactGrants } from '../store/artifact-grants.js';
import { artifactsOf } from './command-artifacts.js';

/** A command as the commands capability keeps it. */
export interface DeviceCommand {
  /** Who sent it (`rounds`, `rollouts`): its replies go to that owner's handler. */
  readonly owner: string;
  /** The owner's grouping of its commands (a round id), to settle them together. */
  readonly key: string;
  readonly deviceId: string;
  readonly command: CommandProps & { commandId: string };
}

/** A reply a device sent to a command. */
export type CommandReply =
  | { kind: 'result'; result: CommandResultProps }
  | { kind: 'eval'; result: EvalResultProps }
  | { kind: 'calibration'; report: CalibrationReportProps }
  | { kind: 'deploy'; report: DeployReportProps }
  | { kind: 'progress'; progress: ProgressProps };

/** Handles the replies to one owner's commands; `sent` is the command replied to (still owed). */
export type ReplyHandler = (reply: CommandReply, sent: DeviceCommand) => void;

export interface DeviceCommands {
  /** Registers the handler of an owner's replies (one per owner); returns its remover. */
  onReply(owner: string, handler: ReplyHandler): () => void;
  /** Sends a command and owes it until settled. Resolves once the broker took it; a failure is logged, never thrown. */
  send(sent: DeviceCommand): Promise<void>;
  /** Owes a command without sending it now (it goes out when the device comes back online). */
  owe(sent: DeviceCommand): void;
  /** Sends a command nobody waits for (a cancel): not owed, never re-sent, its replies go nowhere. */
  notify(deviceId: string, command: CommandProps & { commandId: string }): Promise<void>;
  /**
   * The command is answered or no longer wanted: no more re-sends, its replies are ignored, the device may no longer
   * fetch the artifacts it named. False when not owed.
   */
  settle(commandId: string): boolean;
  /** Settles every command of `owner` under `key` (revoking their grants, also those from before a restart); returns how many owed. */
  settleAll(owner: string, key: string): number;
  /** The commands a device is owed, oldest first. */
  owedTo(deviceId: string): DeviceCommand[];
  /** Stops routing, re-sending and sending (the hub closes). */
  stop(): void;
}

export interface DeviceCommandsOptions {
  /** Where device replies arrive (`reply` topic). */
  router: Pick<Router, 'on'>;
  broker: Pick<Broker, 'sendToDevice'>;
  /** `device.online` triggers the re-sends. */
  events: HubEvents;
  /** Where the artifacts a command names are granted to its device (and revoked when it is settled). */
  grants: Pick<ArtifactGrants, 'grant' | 'revokeCommand' | 'revokeOwner'>;
  log: HubLogger;
}

function replyOf(message: DeviceMessage): { commandId: string; reply: CommandReply } | undefined {
  const { commandResult, evalResult, calibrationReport, deployReport, progress } = message.envelope;
  if (commandResult) return { commandId: commandResult.commandId ?? '', reply: { kind: 'result', result: commandResult } };
  if (evalResult) return { commandId: evalResult.commandId ?? '', reply: { kind: 'eval', result: evalResult } };
  if (calibrationReport) return { commandId: calibrationReport.commandId ?? '', reply: { kind: 'calibration', report: calibrationReport } };
  if (deployReport) return { commandId: deployReport.commandId ?? '', reply: { kind: 'deploy', report: deployReport } };
  if (progress) return { commandId: progress.commandId ?? '', reply: { kind: 'progress', progress } };
  return undefined;
}

export function createDeviceCommands(options: DeviceCommandsOptions): DeviceCommands {
  const { router, broker, events, grants, log } = options;
  const owed = new Map<string, DeviceCommand>();
  /** The same commands by device, in the order they were owed (re-sends keep it). */
  const byDevice = new Map<string, Map<string, DeviceCommand>>();
  const handlers = new Map<string, ReplyHandler>();
  let stopped = false;

  function remember(sent: DeviceCommand): void {
    forget(sent.command.commandId);
    owed.set(sent.command.commandId, sent);
    let ofDevice = byDevice.get(sent.deviceId);
    if (!ofDevice) byDevice.set(sent.deviceId, (ofDevice = new Map()));
    ofDevice.set(sent.command.commandId, sent);
  }

  function forget(commandId: string): boolean {
    const sent = owed.get(commandId);
    if (!sent) return false;
    owed.delete(commandId);
    const ofDevice = byDevice.get(sent.deviceId);
    ofDevice?.delete(commandId);
    if (ofDevice?.size === 0) byDevice.delete(sent.deviceId);
    return true;
  }

  async function publish(deviceId: string, command: CommandProps & { commandId: string }, owner?: string, key?: string): Promise<void> {
    if (stopped) return;
    try {
      // Committed before the command goes out: the device asks for the artifact as soon as it has the command. A
      // command whose grant failed is not sent (the device could not fetch what it names); it stays owed.
      grants.grant(deviceId, artifactsOf(command), { commandId: command.commandId, owner, key });
      await broker.sendToDevice(deviceId, 'cmd', { command });
    } catch (error) {
      log.warn({ err: error, deviceId, commandId: command.commandId, owner }, 'command not sent');
    }
  }

  /** Drops grants of settled commands; a failure (the store closing under a late settle) leaves them to their TTL. */
  function revoke(what: Record<string, string>, drop: () => number): void {
    try {
      drop();
    } catch (error) {
      log.warn({ err: error, ...what }, 'artifact grants not revoked');
    }
  }

  function onReplyMessage(message: DeviceMessage): void {
    const found = replyOf(message);
    if (!found) return;
    const sent = owed.get(found.commandId);
    // A reply to a command nobody is owed (settled, forgotten by a restart) or sent to another device is stale.
    if (!sent || sent.deviceId !== message.deviceId) {
      log.debug({ deviceId: message.deviceId, commandId: found.commandId, kind: found.reply.kind }, 'reply to no owed command ignored');
      return;
    }
    handlers.get(sent.owner)?.(found.reply, sent);
  }

  function resendTo(deviceId: string): void {
    for (const sent of commands.owedTo(deviceId)) {
      log.debug({ deviceId, commandId: sent.command.commandId, owner: sent.owner }, 'owed command re-sent');
      void publish(deviceId, sent.command, sent.owner, sent.key);
    }
  }

  const unsubscribe = [
    router.on('reply', onReplyMessage),
    // After the event's other handlers ran: an owner reacting to the same `device.online` (a round that closed meanwhile)
    // settles first, and the device is not sent what it is no longer owed.
    events.on('device.online', ({ deviceId }) => queueMicrotask(() => {
      if (!stopped) resendTo(deviceId);
    })),
  ];

  const commands: DeviceCommands = {
    onReply(owner, handler) {
      if (handlers.has(owner)) throw new Error(`commands of ${owner} already have a reply handler`);
      handlers.set(owner, handler);
      return () => {
        if (handlers.get(owner) === handler) handlers.delete(owner);
      };
    },
    async send(sent) {
      commands.owe(sent);
      await publish(sent.deviceId, sent.command, sent.owner, sent.key);
    },
    owe: remember,
    notify: (deviceId, command) => publish(deviceId, command),
    settle(commandId) {
      // Also when not owed here: it may have been sent before a restart, its grants are in the store.
      revoke({ commandId }, () => grants.revokeCommand(commandId));
      return forget(commandId);
    },
    settleAll(owner, key) {
      revoke({ owner, key }, () => grants.revokeOwner(owner, key));
      let settled = 0;
      for (const [commandId, sent] of owed) {
        if (sent.owner === owner && sent.key === key && forget(commandId)) settled++;
      }
      return settled;
    },
    owedTo: (deviceId) => [...(byDevice.get(deviceId)?.values() ?? [])],
    stop() {
      stopped = true;
      for (const off of unsubscribe.splice(0)) off();
    },
  };
  return commands;
}
