/**
 * Mutation fuzzing of the embedded MQTT broker from outside, over real TCP (issue 7, DESIGN §9): each case opens one
 * connection and sends a generated stream (mqtt-stream-arbitrary.ts) — MQTT 3.1.1 and MQTT 5 packets of every type,
 * damaged, cut into TCP writes at random points — either from the first byte or after a valid login as the fuzzer's
 * own device. After every connection the invariants of mqtt-fuzz-hub.ts must hold. The hub speaks MQTT 3.1 and 3.1.1
 * only, so an MQTT 5 CONNECT, whatever its properties, or one at any other protocol level, must be refused with
 * return code 1; MQTT 5 packets after a 3.1.1 login are just more damaged bytes.
 *
 * 4 × `FEDFLEET_FUZZ_RUNS` connections plus `FEDFLEET_FUZZ_RUNS` MQTT 5 and other-level CONNECTs (100 + 25 in `npm test`, ~10 s);
 * see fuzz-settings.ts. A failure prints the seed to replay and the first failing case: the hub's state carries over
 * from case to case, so the case fast-check shrinks to may only have inherited the damage.
 */
import type { Socket } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FUZZ_SETTINGS, fuzzParameters, fuzzTimeoutMs } from './fuzz-settings.js';
import { startMqttFuzzHub, type MqttFuzzHub, type RawSocket } from './mqtt-fuzz-hub.js';
import { connectArb, encodePacket, isEncodable, loginPacket, mqttFuzzCaseArb, renderCase, type MqttFuzzCase, type PacketSpec } from './mqtt-stream-arbitrary.js';

const SCALE = 4;
/** Quiet time after the last write, or after the clock moved, before the connection is judged settled. */
const SETTLE_MS = 20;

interface Outcomes {
  cases: number;
  loggedIn: number;
  closedByHub: number;
  bytesSent: number;
  firstFailure?: string;
}

function write(socket: Socket, chunk: Buffer): Promise<void> {
  return new Promise((resolve) => {
    if (socket.destroyed) return resolve();
    socket.write(chunk, () => setImmediate(resolve));
  });
}

async function runCase(fuzzHub: MqttFuzzHub, fuzzCase: MqttFuzzCase, outcomes: Outcomes): Promise<void> {
  const ctx = { deviceId: fuzzHub.fuzzer.deviceId, password: fuzzHub.fuzzer.password, victimId: fuzzHub.victim.deviceId };
  const raw = await fuzzHub.openRaw();
  const others: RawSocket[] = [];
  try {
    if (fuzzCase.opening.kind === 'login') {
      await write(raw.socket, loginPacket(ctx, fuzzCase.opening));
      const connack = await raw.waitFor(4, 2000);
      if (connack.length >= 4 && connack[0] === 0x20 && connack[3] === 0) outcomes.loggedIn++;
    }
    let first = true;
    for (const chunk of renderCase(fuzzCase)) {
      if (raw.isClosed()) break;
      await write(raw.socket, chunk);
      outcomes.bytesSent += chunk.length;
      if (fuzzCase.clockStepMs > 0) fuzzHub.clock.advance(fuzzCase.clockStepMs);
      if (!first) continue;
      first = false;
      for (let i = 0; i < fuzzCase.hubCommands; i++) {
        // Queued for a persistent session, delivered to a live one, dropped otherwise: all fine, none may throw.
        await fuzzHub.hub.broker.sendToDevice(ctx.deviceId, 'cmd', { command: { commandId: `fuzz-${i}`, cancel: {} } });
      }
      if (fuzzCase.takeover) {
        const second = await fuzzHub.openRaw();
        others.push(second);
        await write(second.socket, loginPacket(ctx, { kind: 'login', clean: true, keepaliveSec: 0 }));
      }
    }
    await raw.settle(SETTLE_MS);
    // Timers of the hub (connect timeout, pacing) fire; rate limits refill for the next case.
    fuzzHub.clock.advance(11_000);
    await raw.settle(SETTLE_MS);
    if (raw.isClosed()) outcomes.closedByHub++;
  } finally {
    raw.socket.destroy();
    for (const other of others) other.socket.destroy();
  }
  outcomes.cases++;
  try {
    await fuzzHub.checkInvariants(`after ${JSON.stringify(fuzzCase).slice(0, 4000)}`);
  } catch (error) {
    // What the hub holds outlives a case, so fast-check's shrunk case may only inherit the damage: keep the first.
    outcomes.firstFailure ??= `case ${outcomes.cases}: ${(error as Error).message}`;
    throw error;
  }
}

describe('embedded MQTT broker under mutated packet streams', () => {
  let fuzzHub: MqttFuzzHub | undefined;

  beforeAll(async () => {
    fuzzHub = await startMqttFuzzHub();
  }, 60_000);

  afterAll(async () => {
    await fuzzHub?.close();
  });

  it(
    'keeps serving, keeps other sessions and retained statuses intact and returns to its baseline after every connection',
    async () => {
      const hub = fuzzHub!;
      const ctx = { deviceId: hub.fuzzer.deviceId, password: hub.fuzzer.password, victimId: hub.victim.deviceId };
      const outcomes: Outcomes = { cases: 0, loggedIn: 0, closedByHub: 0, bytesSent: 0 };
      const details = await fc.check(fc.asyncProperty(mqttFuzzCaseArb(ctx), (fuzzCase) => runCase(hub, fuzzCase, outcomes)), fuzzParameters(SCALE));
      console.info(
        `mqtt fuzz: seed ${details.seed}, ${outcomes.cases} connections, ${outcomes.loggedIn} logged in, `
          + `${outcomes.closedByHub} closed by the hub, ${outcomes.bytesSent} bytes`,
      );
      const error = details.errorInstance instanceof Error ? details.errorInstance.message : String(details.errorInstance);
      const replay = `replay: FEDFLEET_FUZZ_SEED=${details.seed} FEDFLEET_FUZZ_RUNS=${FUZZ_SETTINGS.runs} (shrunk ${details.numShrinks}×)`;
      expect(details.failed ? `${replay}\n${error}\nfirst failure: ${outcomes.firstFailure}` : '').toBe('');
    },
    fuzzTimeoutMs(FUZZ_SETTINGS.runs * SCALE, 1000),
  );

  it(
    'answers an MQTT 5 CONNECT, whatever its properties, or one at any other level, with return code 1 and closes [MQTT-3.1.2-2]',
    async () => {
      const hub = fuzzHub!;
      const ctx = { deviceId: hub.fuzzer.deviceId, password: hub.fuzzer.password, victimId: hub.victim.deviceId };
      // Larger CONNECTs are closed unread by the stream guard (mqttMaxConnectBytes): refused from their header.
      const fits = (spec: PacketSpec) => isEncodable(spec) && encodePacket(spec).length <= hub.hub.config.mqttMaxConnectBytes;
      const otherLevel = fc.integer({ min: 0, max: 255 }).filter((level) => ![3, 4, 5].includes(level & 0x7f));
      const connect = fc.oneof(
        connectArb(ctx, [5]).filter(fits).map((spec) => ({ spec, bytes: encodePacket(spec) })),
        fc.tuple(connectArb(ctx, [4]).filter(fits), otherLevel).map(([spec, level]) => {
          const bytes = Buffer.from(encodePacket(spec));
          bytes[bytes.indexOf('MQTT') + 4] = level;
          return { spec: { ...spec, level }, bytes };
        }),
      );
      const property = fc.asyncProperty(connect, async ({ spec, bytes }) => {
        const raw = await hub.openRaw();
        try {
          await write(raw.socket, bytes);
          await raw.waitFor(Infinity, 2000);
          expect({ received: raw.received().toString('hex'), closed: raw.isClosed() }).toEqual({ received: '20020001', closed: true });
        } finally {
          raw.socket.destroy();
        }
        await hub.checkInvariants(`after ${JSON.stringify(spec).slice(0, 2000)}`);
      });
      await fc.assert(property, fuzzParameters(1));
    },
    fuzzTimeoutMs(FUZZ_SETTINGS.runs, 1000),
  );
});
