import { describe, expect, it } from 'vitest';
import {
  DEFAULT_MAX_ENVELOPE_BYTES, DeviceState, MAX_DEVICE_STRING_CHARS, ProtoError, TensorEncoding, clampDeviceStrings, decodeEnvelope,
  encodeEnvelope, deviceTopic, parseDeviceTopic, type DeviceTopicKind, type EnvelopeProps,
} from '../src/index.js';

describe('envelope codec', () => {
  it('round-trips a status envelope and fills msgId and sentAtMs', () => {
    const bytes = encodeEnvelope({ deviceId: 'dev1', status: { state: DeviceState.DEVICE_STATE_ONLINE, agentVersion: '1' } }, { now: () => 42 });
    const env = decodeEnvelope(bytes, { deviceId: 'dev1', topicKind: 'status' });
    expect(env.body).toBe('status');
    expect(env.status?.state).toBe(DeviceState.DEVICE_STATE_ONLINE);
    expect(env.sentAtMs).toBe(42);
    expect(env.msgId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('turns garbage into PROTO_ERR_MALFORMED, never a crash', () => {
    const garbage = [new Uint8Array([0xff, 0xff, 0xff, 0xff, 0xff]), new Uint8Array([0x0a, 0x50, 0x01]), Buffer.from('{"json":true}')];
    for (const bytes of garbage) {
      try {
        decodeEnvelope(bytes);
        expect.unreachable();
      } catch (error) {
        expect(error).toBeInstanceOf(ProtoError);
        expect(['PROTO_ERR_MALFORMED', 'PROTO_ERR_EMPTY_BODY']).toContain((error as ProtoError).code);
      }
    }
  });

  it('rejects an empty body, a body on the wrong topic, and a device id that is not the topic', () => {
    const empty = encodeEnvelope({ deviceId: 'dev1' });
    expect(() => decodeEnvelope(empty)).toThrow(expect.objectContaining({ code: 'PROTO_ERR_EMPTY_BODY' }));
    const status = encodeEnvelope({ deviceId: 'dev1', status: { state: 1 } });
    expect(() => decodeEnvelope(status, { topicKind: 'update' })).toThrow(expect.objectContaining({ code: 'PROTO_ERR_WRONG_BODY' }));
    expect(() => decodeEnvelope(status, { deviceId: 'dev2' })).toThrow(expect.objectContaining({ code: 'PROTO_ERR_DEVICE_MISMATCH' }));
  });

  it('enforces the maximum size on both sides', () => {
    const big = new Uint8Array(DEFAULT_MAX_ENVELOPE_BYTES + 1);
    expect(() => decodeEnvelope(big)).toThrow(expect.objectContaining({ code: 'PROTO_ERR_TOO_LARGE' }));
    expect(() => encodeEnvelope({ deviceId: 'd', chunk: { data: new Uint8Array(2000) } }, { maxBytes: 1000 }))
      .toThrow(expect.objectContaining({ code: 'PROTO_ERR_TOO_LARGE' }));
  });
});

describe('topics', () => {
  it('builds and parses device topics, refusing wildcards and unknown kinds', () => {
    expect(deviceTopic('abc', 'update')).toBe('ff/v1/dev/abc/update');
    expect(parseDeviceTopic('ff/v1/dev/abc/update')).toEqual({ deviceId: 'abc', kind: 'update' });
    expect(parseDeviceTopic('ff/v1/dev/+/update')).toBeUndefined();
    expect(parseDeviceTopic('ff/v1/dev/abc/#')).toBeUndefined();
    expect(parseDeviceTopic('ff/v1/dev/abc/other')).toBeUndefined();
    expect(parseDeviceTopic('ff/v1/dev/abc/update/x')).toBeUndefined();
    expect(() => deviceTopic('a/b', 'cmd')).toThrow();
  });
});

describe('64-bit fields', () => {
  it('decode as plain numbers, including defaults', async () => {
    const { Envelope } = await import('../src/index.js');
    const env = Envelope.decode(encodeEnvelope({ deviceId: 'd', telemetry: { memTotalBytes: 2 ** 40 } }));
    expect(env.telemetry?.memTotalBytes).toBe(2 ** 40);
    expect(Envelope.decode(new Uint8Array(0)).sentAtMs).toBe(0);
  });

  it('bounds the text a device sends, in any field at any depth; the hub-to-device direction is not bounded', () => {
    const long = 'x'.repeat(MAX_DEVICE_STRING_CHARS + 1);
    const fits = 'y'.repeat(MAX_DEVICE_STRING_CHARS);
    const refusal = (props: EnvelopeProps, topicKind: DeviceTopicKind) => {
      try {
        decodeEnvelope(encodeEnvelope(props), { topicKind });
      } catch (error) {
        return `${(error as ProtoError).code}: ${(error as ProtoError).message}`;
      }
      return undefined;
    };
    const status = (agentVersion: string): EnvelopeProps => ({ deviceId: 'd', status: { state: DeviceState.DEVICE_STATE_ONLINE, agentVersion } });
    expect(refusal(status(fits), 'status')).toBeUndefined();
    expect(refusal(status(long), 'status')).toMatch(/^PROTO_ERR_STRING_TOO_LONG: .*status\.agentVersion is longer than 1024/);
    expect(refusal({ deviceId: 'd', status: { state: 1, profile: { kind: long } } }, 'status')).toMatch(/status\.profile\.kind/);
    expect(refusal({ deviceId: 'd', commandResult: { commandId: 'c', reason: long } }, 'reply')).toMatch(/commandResult\.reason/);
    const tensor = { name: long, shape: [1], encoding: TensorEncoding.TENSOR_ENCODING_FP32, data: new Uint8Array(4) };
    expect(refusal({ deviceId: 'd', weightUpdate: { roundId: 'r', tensors: [tensor] } }, 'update')).toMatch(/weightUpdate\.tensors\[0\]\.name/);
    expect(refusal({ deviceId: 'd', msgId: long, telemetry: { cpuPercent: 1 } }, 'telemetry')).toMatch(/msgId/);
    // Commands come from the hub: an operator's long abort reason reaches the device whole.
    expect(refusal({ deviceId: 'd', command: { commandId: 'c', cancel: { reason: long } } }, 'cmd')).toBeUndefined();
  });

  it('clamps a device\'s own text to the bound and leaves everything else as it was', () => {
    const data = new Uint8Array([1, 2, 3, 4]);
    const props = { deviceId: 'd', commandResult: { commandId: 'c', reason: 'r'.repeat(5000) }, weightUpdate: { tensors: [{ name: 'w', data, scales: [0.5] }] } };
    const clamped = clampDeviceStrings(props);
    expect(clamped.commandResult.reason).toHaveLength(MAX_DEVICE_STRING_CHARS);
    expect(clamped.commandResult.reason.endsWith('…')).toBe(true);
    expect(clamped.weightUpdate.tensors[0]!.data).toBe(data);
    expect(clamped.weightUpdate.tensors[0]!.scales).toEqual([0.5]);
    expect(props.commandResult.reason).toHaveLength(5000);
    const bytes = encodeEnvelope(clampDeviceStrings({ deviceId: 'd', commandResult: { commandId: 'c', reason: 'é'.repeat(3000) } }));
    expect(decodeEnvelope(bytes, { topicKind: 'reply' }).commandResult?.reason).toHaveLength(MAX_DEVICE_STRING_CHARS);
  });
});
