/**
 * Only what the router accepts reaches aedes' store (issue 7, defect 2): a device's junk published with `retain` is
 * neither retained nor forwarded, only its own valid `status` stays retained, and the empty retained publish still
 * deletes the retained status.
 */
import { describe, expect, it } from 'vitest';
import { DeviceState, deviceTopic, encodeEnvelope, type DeviceTopicKind } from '@fedfleet/proto';
import type { AedesBroker } from '../src/broker/aedes-broker.js';
import { applyDispatchResult } from '../src/broker/publish-policy.js';
import type { DispatchOutcome } from '../src/broker/router.js';
import { connectDevice, enrollDevice, statusPayload, waitFor } from './helpers/devices.js';
import { startTestHub, type TestHub } from './helpers/test-hub.js';

interface StoredPacket {
  topic: string;
  payload: Buffer;
}

async function retained(testHub: TestHub, pattern: string): Promise<StoredPacket[]> {
  const { aedes } = testHub.hub.broker as AedesBroker;
  const persistence = (aedes as unknown as { persistence: { createRetainedStream(p: string): AsyncIterable<StoredPacket> } }).persistence;
  const packets: StoredPacket[] = [];
  for await (const packet of persistence.createRetainedStream(pattern)) packets.push({ topic: packet.topic, payload: Buffer.from(packet.payload) });
  return packets;
}

/** Everything aedes hands to subscribers of `filter` (a broker-level subscriber, as a bridge or plugin would be). */
async function forwardedTo(testHub: TestHub, filter: string): Promise<StoredPacket[]> {
  const { aedes } = testHub.hub.broker as AedesBroker;
  const seen: StoredPacket[] = [];
  await new Promise<void>((resolve) =>
    aedes.subscribe(filter, (packet, done) => {
      seen.push({ topic: packet.topic, payload: Buffer.from(packet.payload) });
      done();
    }, resolve),
  );
  return seen;
}

describe('what the broker keeps of device publishes', () => {
  it('retains only the valid status; junk sent with retain is neither retained nor forwarded', async () => {
    const testHub = await startTestHub();
    const device = await enrollDevice(testHub);
    const id = device.deviceId;
    const client = await connectDevice(testHub, device, { will: false });
    const forwarded = await forwardedTo(testHub, `ff/v1/dev/${id}/#`);

    const status = Buffer.from(statusPayload(id, { state: DeviceState.DEVICE_STATE_ONLINE, agentVersion: 'test/1.0' }));
    await client.publishAsync(deviceTopic(id, 'status'), status, { qos: 1, retain: true });
    const junk = Buffer.alloc(256 * 1024, 0xff);
    const kinds: DeviceTopicKind[] = ['telemetry', 'status', 'update', 'reply', 'fetch'];
    for (const kind of kinds) await client.publishAsync(deviceTopic(id, kind), junk, { qos: 1, retain: true });
    // Valid, but telemetry: handled, forwarded, never retained.
    const telemetry = Buffer.from(encodeEnvelope({ deviceId: id, telemetry: { cpuPercent: 3 } }));
    await client.publishAsync(deviceTopic(id, 'telemetry'), telemetry, { qos: 1, retain: true });

    await waitFor(() => forwarded.some((p) => p.payload.equals(telemetry)), 5000, 'telemetry forwarded');
    expect(client.connected).toBe(true); // dropped, acknowledged, not disconnected
    expect(forwarded).toEqual([{ topic: deviceTopic(id, 'status'), payload: status }, { topic: deviceTopic(id, 'telemetry'), payload: telemetry }]);
    expect(await retained(testHub, `ff/v1/dev/${id}/#`)).toEqual([{ topic: deviceTopic(id, 'status'), payload: status }]);
    expect(Buffer.from((await testHub.hub.broker.retainedStatus(id))!)).toEqual(status);
    const rejected = kinds.length;
    expect(testHub.hub.metrics.mqttRejected.get({ code: 'PROTO_ERR_MALFORMED' })).toBe(rejected);

    // The empty retained publish still deletes the retained status [MQTT-3.3.1-10].
    await client.publishAsync(deviceTopic(id, 'status'), Buffer.alloc(0), { qos: 1, retain: true });
    await waitFor(async () => (await retained(testHub, `ff/v1/dev/${id}/#`)).length === 0, 5000, 'retained status deleted');
  });

  it('lets aedes keep a publish only when the router accepted it, and retain only a status', () => {
    const outcomes: DispatchOutcome[] = ['accepted', 'cleared', 'rejected', 'duplicate', 'rate-limited'];
    const kept = outcomes.flatMap((outcome) =>
      (['status', 'telemetry', 'update'] as const).map((kind) => {
        const packet = { topic: `ff/v1/dev/d1/${kind}`, payload: Buffer.from('x'), retain: true };
        applyDispatchResult(packet, { outcome, kind }, '$SYS/hub/dropped');
        return `${outcome}/${kind}: ${packet.topic === '$SYS/hub/dropped' ? 'dropped' : packet.retain ? 'retained' : 'forwarded'}`;
      }),
    );
    expect(kept).toEqual([
      'accepted/status: retained', 'accepted/telemetry: forwarded', 'accepted/update: forwarded',
      'cleared/status: retained', 'cleared/telemetry: forwarded', 'cleared/update: forwarded',
      'rejected/status: dropped', 'rejected/telemetry: dropped', 'rejected/update: dropped',
      'duplicate/status: dropped', 'duplicate/telemetry: dropped', 'duplicate/update: dropped',
      'rate-limited/status: dropped', 'rate-limited/telemetry: dropped', 'rate-limited/update: dropped',
    ]);
  });
});
