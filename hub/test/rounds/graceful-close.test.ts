/**
 * Defect "Ctrl+C during a round logs error-level `The database connection is not open` from the update handler": a
 * graceful stop stops intake, waits for the update handlers in flight, and only then closes the store. An update
 * whose handling began is recorded (spooled file and row) before the store closes; one that arrives after intake
 * stopped is held — never acknowledged, never half-recorded — so its device sends it again to the restarted hub.
 */
import { describe, expect, it, onTestFinished, vi } from 'vitest';
import { decodeEnvelope, encodeEnvelope } from '@fedfleet/proto';
import type { DeviceMessage } from '../../src/broker/router.js';
import { HubEvents } from '../../src/events/hub-events.js';
import { createLogger } from '../../src/logger.js';
import { InFlight } from '../../src/rounds/in-flight.js';
import type { RoundRepo } from '../../src/rounds/round-repo.js';
import { createUpdateIntake } from '../../src/rounds/update-intake.js';
import { UpdateSpool } from '../../src/rounds/update-spool.js';
import { createManualClock } from '../../src/clock.js';
import { startTestHub } from '../helpers/test-hub.js';
import { getCampaign, participantOf, startCampaign, startRoundHub, tinyDelta, waitForCampaign, type Api } from './round-helpers.js';

interface LogLine { level: number; msg: string; err?: { message?: string } }

function gate() {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

describe('closing the hub during a round', () => {
  it('finishes the update being spooled before the store closes: recorded, no error logged, the round resumes', async () => {
    const lines: LogLine[] = [];
    const intakeStopped = gate();
    const logger = createLogger('info', {
      write(line: string) {
        const entry = JSON.parse(line) as LogLine;
        lines.push(entry);
        if (entry.msg === 'rounds closing: intake stopped') intakeStopped.open();
      },
    });
    const first = await startRoundHub({ logger });
    const { hub } = first.testHub;
    const [a, b] = [await first.enroll('a'), await first.enroll('b')];
    await first.online([a.deviceId, b.deviceId]);
    const campaign = await startCampaign(first.api, { model: 'tiny', rounds: 1, clients: 2, overSelect: 1, minClients: 2, deadlineSec: 120, evaluate: false });
    const [taskA, taskB] = [await a.trainTask(), await b.trainTask()];

    // a's update is slow to spool: the write goes on once the hub is closing — or, were the close not ordered, once
    // the store is gone.
    const storeClosed = gate();
    const closeStore = hub.store.close.bind(hub.store);
    vi.spyOn(hub.store, 'close').mockImplementation(() => {
      closeStore();
      storeClosed.open();
    });
    const writing = gate();
    const written = gate();
    const write = UpdateSpool.prototype.write;
    const spy = vi.spyOn(UpdateSpool.prototype, 'write').mockImplementation(async function (this: UpdateSpool, ...args) {
      writing.open();
      await Promise.race([intakeStopped.promise, storeClosed.promise]);
      try {
        return await write.apply(this, args);
      } finally {
        written.open();
      }
    });
    onTestFinished(() => spy.mockRestore());
    // Not awaited: whether the PUBACK still reaches the device before its connection closes is up to the broker.
    void a.sendUpdate(a.update(taskA, tinyDelta(0.1), 5)).catch(() => {});
    await writing.promise;
    await hub.close();
    spy.mockRestore();
    // Whatever the handler still does after its write has happened by now.
    await written.promise;
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));

    expect(lines.filter((l) => l.level >= 50).map((l) => `${l.msg}: ${l.err?.message ?? ''}`)).toEqual([]);

    // The database the hub left: a's update recorded (and its spooled file there, see below), b still owing its own.
    const second = await startTestHub({ dataDir: first.testHub.dataDir, logger });
    const api: Api = (method, url, body) => second.api(method, url, body);
    const view = await getCampaign(api, campaign.id);
    expect(view.rounds.map((r) => r.state)).toEqual(['training']);
    expect(participantOf(view, 1, a.deviceId)).toMatchObject({ state: 'updated', exampleCount: 5 });
    expect(participantOf(view, 1, b.deviceId)?.state).toBe('selected');

    // b sends its update to the restarted hub: the round aggregates both, a's read back from the spool.
    await b.connect(second.mqttUrl);
    await b.sendUpdate(b.update(taskB, tinyDelta(0.2), 5));
    const done = await waitForCampaign(api, campaign.id, (c) => c.state !== 'running', 5000, 'campaign end');
    expect([done.state, done.rounds[0]!.updates, done.rounds[0]!.rejectedUpdates]).toEqual(['completed', 2, 0]);
    expect(lines.filter((l) => l.level >= 50).map((l) => l.msg)).toEqual([]);
  });

  it('holds an update that arrives after intake stopped: nothing read or written, never acknowledged', async () => {
    const touched: string[] = [];
    const rounds = new Proxy({}, { get: (_t, name) => () => void touched.push(String(name)) }) as RoundRepo;
    const work = new InFlight(() => {});
    const handler = createUpdateIntake({
      rounds, work, registry: { loadContent: () => Promise.reject(new Error('not called')) }, spool: { write: () => Promise.reject(new Error('not called')) },
      store: { transaction: (fn) => fn() }, events: new HubEvents(() => {}), clock: createManualClock(), log: createLogger('silent'),
      onAccepted: () => touched.push('onAccepted'),
    });
    const message: DeviceMessage = {
      deviceId: 'dev-a', kind: 'update', sessionId: 1, viaWill: false, receivedAtMs: 0,
      envelope: decodeEnvelope(encodeEnvelope({ deviceId: 'dev-a', weightUpdate: { roundId: 'r', commandId: 'c', exampleCount: 1 } }), { topicKind: 'update' }),
    };
    work.stop();
    let settled = false;
    void handler(message)?.then(() => (settled = true), () => (settled = true));
    for (let i = 0; i < 5; i++) await new Promise((resolve) => setImmediate(resolve));
    expect({ settled, touched }).toEqual({ settled: false, touched: [] });
  });
});
