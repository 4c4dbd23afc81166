/**
 * How device traffic other than updates moves a round's participants (DESIGN §4): replies to their tasks (accepted,
 * refused, failed, cancelled; evaluation results; progress), devices going offline (a trainer is dropped, an
 * evaluator settled) and coming back (a dropped trainer rejoins, an evaluator is waited for again — the commands
 * capability re-sends what each is owed), fleet changes that a waiting selection must see, and model downloads
 * counted toward the round. What it changes may end a phase: it tells the life cycle.
 */
import { ResultCode, type CommandResultProps, type EvalResultProps } from '@fedfleet/proto';
import type { Clock } from '../clock.js';
import type { CommandReply, DeviceCommand } from '../commands/device-commands.js';
import type { HubEvents } from '../events/hub-events.js';
import type { HubLogger } from '../logger.js';
import { checkEvalResult } from './eval-result-check.js';
import type { RoundCommands } from './round-commands.js';
import type { RoundLifecycle } from './round-lifecycle.js';
import type { ParticipantRecord, RoundRepo } from './round-repo.js';
import type { RoundRuntimes } from './round-runtime.js';
import { isPending } from './round-state.js';
import './round-events.js';

export interface RoundParticipationDeps {
  rounds: RoundRepo;
  tasks: RoundCommands;
  runtimes: RoundRuntimes;
  lifecycle: Pick<RoundLifecycle, 'select' | 'maybeFinishTraining' | 'maybeFinishEvaluation'>;
  events: HubEvents;
  clock: Clock;
  log: HubLogger;
}

export interface RoundParticipation {
  /** A reply to a round's task (routed here by the commands capability). */
  onReply(reply: CommandReply, sent: DeviceCommand): void;
  onDeviceOffline(deviceId: string): void;
  onDeviceOnline(deviceId: string): void;
  /** Devices were revoked or relabelled: a waiting selection may have become impossible. */
  onFleetChanged(): void;
  onTransfer(deviceId: string, sha256: string, bytes: number): void;
}

const ENDED_STATES = {
  [ResultCode.RESULT_CODE_REFUSED]: 'refused',
  [ResultCode.RESULT_CODE_FAILED]: 'failed',
  [ResultCode.RESULT_CODE_CANCELLED]: 'cancelled',
} as const;

/** The participant state a result code ends a task in; undefined when it does not end it (accepted, done). */
function endedState(result: CommandResultProps): (typeof ENDED_STATES)[keyof typeof ENDED_STATES] | undefined {
  const code = result.code ?? ResultCode.RESULT_CODE_UNSPECIFIED;
  return Object.hasOwn(ENDED_STATES, code) ? ENDED_STATES[code as keyof typeof ENDED_STATES] : undefined;
}

export function createRoundParticipation(deps: RoundParticipationDeps): RoundParticipation {
  const { rounds, tasks, runtimes, lifecycle, events, clock, log } = deps;
  const iso = () => new Date(clock.now()).toISOString();

  function onTrainResult(p: ParticipantRecord, result: CommandResultProps): void {
    const ended = endedState(result);
    if (!ended) {
      if (result.code === ResultCode.RESULT_CODE_ACCEPTED && p.state === 'selected') rounds.settleParticipant(p.roundId, p.deviceId, 'training', null, clock.now());
      return;
    }
    tasks.settle(p.commandId);
    const reason = [result.errorCode, result.reason].filter(Boolean).join(': ');
    if (rounds.settleParticipant(p.roundId, p.deviceId, ended, reason, clock.now())) {
      log.info({ roundId: p.roundId, deviceId: p.deviceId, state: ended, reason }, 'participant out');
      lifecycle.maybeFinishTraining(p.roundId);
    }
  }

  /** An evaluation that ends without a result (refused, failed, cancelled, nonsense) no longer holds the commit. */
  function evaluationEnded(p: ParticipantRecord): void {
    tasks.settle(p.evalCommandId!);
    runtimes.of(p.roundId).evalSettled.add(p.deviceId);
    lifecycle.maybeFinishEvaluation(p.roundId);
  }

  function onEvalResult(p: ParticipantRecord, result: EvalResultProps): void {
    const verdict = checkEvalResult(result);
    if (!verdict.ok) return evaluationEnded(p);
    tasks.settle(p.evalCommandId!);
    rounds.setEvalResult(p.roundId, p.deviceId, verdict.metrics, clock.now());
    lifecycle.maybeFinishEvaluation(p.roundId);
  }

  return {
    onReply(reply, sent) {
      const roundId = sent.key;
      const { deviceId } = sent;
      if (reply.kind === 'progress') {
        const p = reply.progress;
        events.emit('round.device-progress', {
          roundId: p.roundId || roundId, deviceId, phase: p.phase ?? '', fraction: p.fraction ?? 0, epoch: p.epoch ?? 0, epochs: p.epochs ?? 0, at: iso(),
        });
        return;
      }
      const participant = rounds.participant(roundId, deviceId);
      if (!participant) return;
      const { commandId } = sent.command;
      if (commandId === participant.evalCommandId) {
        if (reply.kind === 'eval') onEvalResult(participant, reply.result);
        else if (reply.kind === 'result' && endedState(reply.result)) evaluationEnded(participant);
      } else if (commandId === participant.commandId && reply.kind === 'result') {
        onTrainResult(participant, reply.result);
      }
    },

    onDeviceOffline(deviceId) {
      const nowMs = clock.now();
      for (const round of rounds.activeRounds()) {
        const p = rounds.participant(round.id, deviceId);
        if (!p) continue;
        if (round.state === 'training' && isPending(p.state)) {
          // Still owed its task: it may come back within the round (its update with it, QoS 1).
          rounds.settleParticipant(round.id, deviceId, 'dropped', 'went offline during the round', nowMs);
          log.info({ roundId: round.id, deviceId }, 'participant dropped');
          lifecycle.maybeFinishTraining(round.id);
        } else if (round.state === 'evaluating' && p.evalCommandId && p.evalAccuracy === null) {
          const rt = runtimes.of(round.id);
          if (!rt.evalSettled.has(deviceId)) rt.evalOffline.add(deviceId);
          rt.evalSettled.add(deviceId);
          lifecycle.maybeFinishEvaluation(round.id);
        }
      }
    },

    onDeviceOnline(deviceId) {
      for (const round of rounds.activeRounds()) {
        if (round.state === 'selecting') lifecycle.select(round.id);
        // The commands capability re-sends the task the device is still owed; the agent answers a task it already
        // ran from its memory of command ids instead of running it twice.
        const p = rounds.participant(round.id, deviceId);
        if (round.state === 'training' && p?.state === 'dropped' && rounds.reviveParticipant(round.id, deviceId, clock.now())) {
          // Back within the round (a flapping connection): it trains on, or has its update still queued.
          log.info({ roundId: round.id, deviceId }, 'participant rejoined');
          lifecycle.maybeFinishTraining(round.id);
        } else if (round.state === 'evaluating' && p?.evalCommandId && p.evalAccuracy === null) {
          const rt = runtimes.of(round.id);
          if (rt.evalOffline.delete(deviceId)) rt.evalSettled.delete(deviceId);
        }
      }
    },

    onFleetChanged() {
      for (const round of rounds.activeRounds()) if (round.state === 'selecting') lifecycle.select(round.id);
    },

    onTransfer(deviceId, sha256, bytes) {
      for (const round of rounds.activeRounds()) {
        if (round.artifactSha256 === sha256 && rounds.participant(round.id, deviceId)) rounds.addBytes(round.id, bytes, 0);
        else if (round.state === 'evaluating' && round.resultVersionId && rounds.participant(round.id, deviceId)?.evalCommandId) {
          // Evaluation downloads of the new version count toward the round that produced it.
          rounds.addBytes(round.id, bytes, 0);
        }
      }
    },
  };
}
