/**
 * A CONNECT with a protocol level the broker does not speak must be answered with CONNACK 0x01 (unacceptable protocol
 * level) before the connection closes [MQTT-3.1.2-2]. aedes' parser refused levels other than 3, 4 and 5 as malformed
 * and the connection closed without a word (protocol-level-probe.ts). Found with mosquitto_pub and raw probes while
 * writing the broker fuzzer (test/fuzz/mqtt-broker.test.ts).
 */
import { describe, expect, it } from 'vitest';
import { ProtocolLevelProbe } from '../src/broker/protocol-level-probe.js';
import { closesWithin, openRaw, remainingLength, utf8 } from './helpers/raw-mqtt.js';
import { startTestHub } from './helpers/test-hub.js';

/** A CONNECT (clean session, no credentials) under `name` at protocol level `level`. */
function connectAtLevel(level: number, name = 'MQTT'): Buffer {
  const variable = Buffer.concat([utf8(name), Buffer.from([level, 0x02, 0, 60]), utf8('probe')]);
  return Buffer.concat([Buffer.from([0x10]), remainingLength(variable.length), variable]);
}

/** Feeds `bytes` one at a time; the index of the byte after which the probe said "unsupported", or -1. */
function verdictAt(bytes: Buffer): number {
  const probe = new ProtocolLevelProbe();
  for (let i = 0; i < bytes.length; i++) if (probe.unsupported(bytes.subarray(i, i + 1))) return i;
  return -1;
}

describe('protocol level probe', () => {
  it('names a level no MQTT version has, at the level byte, however the bytes arrive', () => {
    for (const level of [0, 1, 2, 6, 7, 0x7f, 0x86, 0xff]) {
      expect(verdictAt(connectAtLevel(level)), `level ${level}`).toBe(8);
      expect(new ProtocolLevelProbe().unsupported(connectAtLevel(level)), `level ${level} at once`).toBe(true);
    }
    expect(verdictAt(connectAtLevel(6, 'MQIsdp'))).toBe(10);
  });

  it('leaves everything else to aedes', () => {
    for (const level of [3, 4, 5, 0x83, 0x84]) expect(verdictAt(connectAtLevel(level)), `level ${level}`).toBe(-1);
    expect(verdictAt(connectAtLevel(6, 'MQTX'))).toBe(-1); // another protocol: closed without a CONNACK [MQTT-3.1.2-1]
    expect(verdictAt(Buffer.concat([Buffer.from([0x30, 2, 0, 0]), connectAtLevel(6)]))).toBe(-1); // not a CONNECT first
    expect(verdictAt(Buffer.from([0x10, 0xff, 0xff, 0xff, 0xff, 0x01, 0, 4]))).toBe(-1); // a malformed Remaining Length
  });
});

describe('a CONNECT at an unsupported protocol level', () => {
  it('is answered with CONNACK 0x01 and closed, also when its bytes come in separate writes [MQTT-3.1.2-2]', async () => {
    const testHub = await startTestHub();
    const port = Number(new URL(testHub.mqttUrl).port);
    for (const [level, splitAt] of [[6, 0], [2, 8], [0, 3], [0xff, 9]] as const) {
      const connection = await openRaw(port);
      const bytes = connectAtLevel(level);
      if (splitAt === 0) connection.socket.write(bytes);
      else {
        // Two TCP writes: the second leaves once the first is handed to the socket.
        await new Promise((resolve) => connection.socket.write(bytes.subarray(0, splitAt), () => setImmediate(resolve)));
        connection.socket.write(bytes.subarray(splitAt));
      }
      expect(await closesWithin(connection, 5000), `level ${level}`).toBe(true);
      expect(connection.received().toString('hex'), `level ${level}`).toBe('20020001');
    }
    const metrics = (await testHub.hub.inject({ method: 'GET', url: '/metrics' })).body;
    expect(metrics).toMatch(/fedfleet_mqtt_connections_refused_total\{reason="unsupported-protocol-level"\} 4/);
  });
});
