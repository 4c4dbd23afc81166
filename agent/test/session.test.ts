import { EventEmitter } from 'node:events';
import type { IClientOptions, MqttClient } from 'mqtt';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { MAX_DEVICE_STRING_CHARS, decodeEnvelope, encodeEnvelope } from '@fedfleet/proto';
import type { DeviceCredentials } from '../src/credentials.js';
import { DeviceSession } from '../src/session.js';

const creds: DeviceCredentials = {
  deviceId: 'dev-1', name: 'pi', hubUrl: 'http://h', mqttUrl: 'mqtt://h:1883', username: 'dev-1', password: 'secret',
  clientId: 'dev-1', hubPublicKey: 'pk', heartbeatSec: 10, labels: {}, enrolledAt: new Date(0).toISOString(),
};

/** The slice of mqtt.js' MqttClient the session uses, driven by the test. */
class FakeClient extends EventEmitter {
  connected = false;
  outgoing: Record<number, unknown> = {};
  readonly incomingStore = { name: 'incoming' };
  readonly outgoingStore = { name: 'outgoing' };
  readonly stream = { destroy: vi.fn() };
  readonly published: Array<{ topic: string; payload: Buffer }> = [];
  readonly reconnect = vi.fn();
  readonly end = vi.fn();
  readonly endAsync = vi.fn(async (_force?: boolean) => {
    this.connected = false;
  });
  async subscribeAsync(topics: string[]) {
    return topics.map((topic) => ({ topic, qos: 1 }));
  }
  async publishAsync(topic: string, payload: Buffer) {
    this.published.push({ topic, payload });
  }
  /** The broker accepted the connection. */
  accept(sessionPresent = false): void {
    this.connected = true;
    this.emit('connect', { sessionPresent });
  }
  /** The connection went away. */
  lose(): void {
    this.connected = false;
    this.emit('close');
  }
}

function startSession(): { session: DeviceSession; client: FakeClient } {
  const client = new FakeClient();
  const session = new DeviceSession({
    credentials: creds,
    status: () => ({ agentVersion: 'test' }),
    backoff: { initialMs: 10, maxMs: 10, random: () => 0.5 },
    connect: (_url: string, _options: IClientOptions) => client as unknown as MqttClient,
  });
  session.start();
  return { session, client };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('DeviceSession', () => {
  it('reconnects after a lost connection keeping the message stores (QoS 1 messages published offline survive)', async () => {
    vi.useFakeTimers();
    const { session, client } = startSession();
    const reconnecting = vi.fn();
    session.on('reconnecting', reconnecting);
    client.accept();
    client.lose();
    expect(reconnecting).toHaveBeenCalledWith({ attempt: 1, delayMs: expect.any(Number) });
    await vi.advanceTimersByTimeAsync(20);
    expect(client.reconnect).toHaveBeenCalledWith({ incomingStore: client.incomingStore, outgoingStore: client.outgoingStore });
  });

  it('does not reconnect after crash(), and drops the connection without a DISCONNECT', async () => {
    vi.useFakeTimers();
    const { session, client } = startSession();
    const disconnected = vi.fn();
    session.on('disconnected', disconnected);
    client.accept();
    await vi.advanceTimersByTimeAsync(0);
    session.crash();
    expect(client.stream.destroy).toHaveBeenCalled();
    expect(client.end).toHaveBeenCalledWith(true);
    client.lose();
    await vi.advanceTimersByTimeAsync(1000);
    expect(client.reconnect).not.toHaveBeenCalled();
    expect(disconnected).toHaveBeenCalledWith({ reason: 'crashed' });
  });

  it('stops at once without a connection, even with unacknowledged messages', async () => {
    const { session, client } = startSession();
    client.accept();
    client.outgoing = { 7: { cb: () => {} } };
    client.lose();
    await session.stop('SIGTERM');
    expect(client.endAsync).toHaveBeenCalledWith(true); // forced: a clean end would wait for the PUBACK forever
    expect(client.published).toEqual([]); // nothing published into the void
  });

  it('says goodbye (retained OFFLINE) and disconnects cleanly when connected', async () => {
    const { session, client } = startSession();
    client.accept();
    await session.stop('maintenance');
    expect(client.published.map((p) => p.topic)).toContain('ff/v1/dev/dev-1/status');
    expect(client.endAsync).toHaveBeenCalledWith(false);
  });

  it('cuts its own long text to what the hub accepts: a long error message as a reason arrives, shortened', async () => {
    const { session, client } = startSession();
    client.accept();
    await session.publish('reply', { commandResult: { commandId: 'c1', code: 3, reason: `tfjs said: ${'x'.repeat(10_000)}` } });
    const sent = client.published.find((p) => p.topic === 'ff/v1/dev/dev-1/reply')!;
    // Decoded as the hub decodes it: on the reply topic, where text is bounded.
    const reason = decodeEnvelope(sent.payload, { topicKind: 'reply', deviceId: 'dev-1' }).commandResult!.reason!;
    expect(reason).toHaveLength(MAX_DEVICE_STRING_CHARS);
    expect(reason.startsWith('tfjs said: xxx')).toBe(true);
  });

  it('drops and reports envelopes addressed to another device', () => {
    const { session, client } = startSession();
    const rejected = vi.fn();
    const message = vi.fn();
    session.on('rejected', rejected);
    session.on('message', message);
    const cmd = 'ff/v1/dev/dev-1/cmd';
    client.emit('message', cmd, Buffer.from(encodeEnvelope({ deviceId: 'dev-2', command: { commandId: 'c1', config: { heartbeatSec: 5 } } })));
    client.emit('message', cmd, Buffer.from(encodeEnvelope({ deviceId: 'dev-1', command: { commandId: 'c2', config: { heartbeatSec: 5 } } })));
    expect(rejected).toHaveBeenCalledExactlyOnceWith({ code: 'PROTO_ERR_DEVICE_MISMATCH', kind: 'cmd' });
    expect(message).toHaveBeenCalledOnce();
    expect(message.mock.calls[0]![0].envelope.command.commandId).toBe('c2');
  });

  it('drops and reports messages on topics it did not subscribe to, whatever device the envelope names', () => {
    const { session, client } = startSession();
    const rejected = vi.fn();
    const message = vi.fn();
    session.on('rejected', rejected);
    session.on('message', message);
    const forUs = Buffer.from(encodeEnvelope({ deviceId: 'dev-1', command: { commandId: 'c1', config: { heartbeatSec: 5 } } }));
    for (const topic of ['ff/v1/dev/dev-2/cmd', 'x/cmd', 'ff/v1/dev/dev-1/cmd/extra', 'ff/v1/dev/dev-1/status']) client.emit('message', topic, forUs);
    expect(rejected.mock.calls.map(([r]) => r.code)).toEqual(Array(4).fill('PROTO_ERR_BAD_TOPIC'));
    client.emit('message', 'ff/v1/dev/dev-1/cmd', forUs);
    expect(message).toHaveBeenCalledOnce();
  });

  it('gives up with AGENT_ERR_CREDENTIALS_REJECTED when the broker refuses the credentials', async () => {
    vi.useFakeTimers();
    const { session, client } = startSession();
    const fatal = vi.fn();
    session.on('fatal', fatal);
    client.emit('error', Object.assign(new Error('Connection refused: Bad username or password'), { code: 4 }));
    client.lose();
    await vi.advanceTimersByTimeAsync(1000);
    expect(fatal).toHaveBeenCalledWith(expect.objectContaining({ code: 'AGENT_ERR_CREDENTIALS_REJECTED' }));
    expect(client.reconnect).not.toHaveBeenCalled();
  });
});
