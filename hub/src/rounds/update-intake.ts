/**
 * Update intake (DESIGN §4, §9): a WeightUpdate on a device's `update` topic is checked (its round, that the device
 * was selected, that it answers the round's train task, the deadline, then validate-update.ts), spooled durably and
 * recorded — all before the handler returns, i.e. before the broker's PUBACK (commit-before-ack, DESIGN §3). A
 * rejected update is counted per round, device and code. A second update of a device is a duplicate, never counted
 * twice (QoS 1 redeliveries with the same msgId are dropped earlier, by the router).
 *
 * When the hub closes, intake stops first: an update whose handling began is finished (the close waits for it), any
 * later one is held — never acknowledged. A PUBACK says the hub took ownership of the message [MQTT-4.3.2-4]:
 * acknowledging an update it no longer stores would lose it, while an unacknowledged one stays with the device,
 * which sends it again when it reconnects to the restarted hub [MQTT-4.4.0-1].
 */
import { randomUUID } from 'node:crypto';
import { WeightUpdate, type WeightUpdateProps } from '@fedfleet/proto';
import type { DeviceMessage } from '../broker/router.js';
import type { Clock } from '../clock.js';
import { HubError, isHubError } from '../errors.js';
import type { HubEvents } from '../events/hub-events.js';
import type { HubLogger } from '../logger.js';
import type { ModelRegistry } from '../models/model-registry.js';
import type { Store } from '../store/store.js';
import type { InFlight } from './in-flight.js';
import type { RoundRepo } from './round-repo.js';
import type { UpdateSpool } from './update-spool.js';
import { validateUpdate } from './validate-update.js';
import './round-events.js';

export interface UpdateIntakeDeps {
  rounds: RoundRepo;
  registry: Pick<ModelRegistry, 'loadContent'>;
  spool: Pick<UpdateSpool, 'write'>;
  store: Pick<Store, 'transaction'>;
  work: InFlight;
  events: HubEvents;
  clock: Clock;
  log: HubLogger;
  /** An update was accepted for the round: it may have reached its target. */
  onAccepted(roundId: string, deviceId: string, commandId: string): void;
}

/** Never settles: the broker never acknowledges the message (see the file comment). */
const hold = (): Promise<void> => new Promise<void>(() => {});

export function createUpdateIntake(deps: UpdateIntakeDeps): (message: DeviceMessage) => Promise<void> {
  const { rounds, work, clock, log } = deps;

  function reject(roundId: string | null, deviceId: string, error: HubError): void {
    rounds.addRejection(roundId, deviceId, error.code, error.message, clock.now());
    log.warn({ roundId, deviceId, code: error.code, detail: error.message }, 'update rejected');
    deps.events.emit('round.update-rejected', { roundId: roundId ?? '', deviceId, code: error.code, at: new Date(clock.now()).toISOString() });
  }

  async function handle(message: DeviceMessage): Promise<void> {
    const update = message.envelope.weightUpdate as WeightUpdateProps;
    const { deviceId } = message;
    const roundId = update.roundId ?? '';
    const round = rounds.round(roundId);
    if (!round) return reject(null, deviceId, new HubError('HUB_ERR_UPDATE_UNKNOWN_ROUND', { message: `no round ${JSON.stringify(roundId)}` }));
    const participant = rounds.participant(roundId, deviceId);
    if (!participant) return reject(roundId, deviceId, new HubError('HUB_ERR_UPDATE_NOT_SELECTED', { message: 'device is not a participant of this round' }));
    if (participant.state === 'updated') return reject(roundId, deviceId, new HubError('HUB_ERR_UPDATE_DUPLICATE', { message: 'device already sent its update for this round' }));
    // Every update names the train task it answers; a missing (empty) commandId answers none (agents always set it).
    if ((update.commandId ?? '') !== participant.commandId) {
      return reject(roundId, deviceId, new HubError('HUB_ERR_UPDATE_MALFORMED', { message: 'update does not answer this round\'s train task' }));
    }
    if (round.state !== 'training' || message.receivedAtMs > (round.deadlineAtMs ?? Infinity)) {
      return reject(roundId, deviceId, new HubError('HUB_ERR_UPDATE_LATE', { message: `round is ${round.state}${round.state === 'training' ? ' and past its deadline' : ''}` }));
    }
    const campaign = rounds.campaign(round.campaignId)!;
    let exampleCount: number;
    try {
      const base = await deps.registry.loadContent(round.baseVersionId);
      if (work.closed) return hold();
      ({ exampleCount } = validateUpdate(update, {
        baseVersionId: round.baseVersionId, shapes: base.weights.map((w) => ({ name: w.name, shape: w.shape })), maxUpdateNorm: campaign.config.maxUpdateNorm,
      }));
    } catch (error) {
      if (isHubError(error)) return reject(roundId, deviceId, error);
      throw error;
    }
    const bytes = WeightUpdate.encode(update).finish();
    // Never the device's msgId: it is free text from the device and would become a path.
    const ref = await deps.spool.write(roundId, `${deviceId}-${randomUUID()}`, bytes);
    if (work.closed) return hold(); // the store may be gone: the device keeps the update (the spooled file is an orphan)
    const m = update.metrics ?? {};
    const accepted = deps.store.transaction(() => {
      // The round may have left `training` while the file was written: then this update is late, not counted.
      if (rounds.round(roundId)?.state !== 'training') return false;
      const ok = rounds.acceptUpdate({
        roundId, deviceId, ref, exampleCount, bytes: bytes.byteLength, nowMs: clock.now(),
        trainMetrics: {
          lossBefore: m.lossBefore ?? 0, accuracyBefore: m.accuracyBefore ?? 0, lossAfter: m.lossAfter ?? 0,
          accuracyAfter: m.accuracyAfter ?? 0, trainLoss: m.trainLoss ?? 0, trainMs: m.trainMs ?? 0, evalExamples: m.evalExamples ?? 0,
        },
      });
      if (ok) rounds.addBytes(roundId, 0, bytes.byteLength);
      return ok;
    });
    if (!accepted) {
      const now = rounds.participant(roundId, deviceId);
      const code = now?.state === 'updated' ? 'HUB_ERR_UPDATE_DUPLICATE' : 'HUB_ERR_UPDATE_LATE';
      return reject(roundId, deviceId, new HubError(code, { message: 'update arrived after the round closed or was already counted' }));
    }
    log.debug({ roundId, deviceId, exampleCount }, 'update accepted');
    deps.onAccepted(roundId, deviceId, participant.commandId);
  }

  return async (message) => {
    if (!work.open) return hold();
    await work.run(() => handle(message));
  };
}
