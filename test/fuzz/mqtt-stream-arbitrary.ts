/**
 * Seeded MQTT byte streams for the broker fuzzer: valid packets of every type in MQTT 3.1.1 and MQTT 5 (with the v5
 * properties: topic alias, user properties, session expiry, receive maximum, maximum packet size, will delay,
 * authentication method and data, subscription identifiers, response topic and correlation data), then damaged —
 * bits flipped, Remaining Length rewritten, packets truncated, duplicated or spliced from two of different types,
 * reserved flag bits and QoS 3 set, invalid UTF-8 in strings, zero-length and maximum-length strings, packet id 0,
 * topic aliases past any announced maximum — and cut into TCP writes at random points.
 *
 * A case is plain data (what fast-check prints for a failure); {@link renderCase} turns it into bytes.
 */
import fc from 'fast-check';
import mqttPacket, { type Packet } from 'mqtt-packet';
import { DeviceState, deviceTopic, encodeEnvelope, DEVICE_TOPIC_KINDS, type EnvelopeProps } from '@fedfleet/proto';
import { remainingLength } from '../../hub/test/helpers/mqtt-remaining-length.js';

/** Who the fuzzer may name: its own device (valid password) and a victim device whose session must not change. */
export interface StreamContext {
  deviceId: string;
  password: string;
  victimId: string;
}

export type ProtocolVersion = 3 | 4 | 5;

/** One packet as mqtt-packet describes it, and the protocol version to encode it for. */
export interface PacketSpec {
  version: ProtocolVersion;
  packet: Packet;
}

export type Mutation =
  /** The low nibble of the first byte: reserved flag bits, or QoS 3 on a PUBLISH [MQTT-2.2.2-2, MQTT-3.3.1-4]. */
  | { op: 'flags'; index: number; bits: number }
  /** The Remaining Length re-encoded as another value (the body unchanged). */
  | { op: 'length'; index: number; value: number }
  /** Remaining Length bytes replaced by raw bytes (over-long or non-terminated encodings). */
  | { op: 'length-bytes'; index: number; bytes: readonly number[] }
  | { op: 'truncate'; index: number; keepPerMille: number }
  | { op: 'duplicate'; index: number }
  /** The packet `count` times in a row: a flood past the per-connection packet rate. */
  | { op: 'repeat'; index: number; count: number }
  /** The head of packet `index` followed by the tail of packet `other` (of another type). */
  | { op: 'splice'; index: number; other: number; cutPerMille: number; otherCutPerMille: number }
  | { op: 'bit-flip'; index: number; positionPerMille: number; bit: number }
  | { op: 'set-byte'; index: number; positionPerMille: number; value: number }
  | { op: 'insert'; index: number; positionPerMille: number; bytes: number[] };

/** Byte sequences that replace the {@link UTF8_MARKER} in a string: invalid UTF-8, U+0000, a noncharacter, a C1 control. */
export const UTF8_REPLACEMENTS: readonly (readonly number[])[] = [
  [0xc3, 0x28, 0x41], // a lead byte without its continuation
  [0xed, 0xa0, 0x80], // a UTF-16 surrogate encoded [MQTT-1.5.3-1]
  [0xc0, 0xaf, 0x41], // an over-long encoding
  [0xff, 0xfe, 0x41], // bytes that never occur in UTF-8
  [0x00, 0x41, 0x41], // U+0000 [MQTT-1.5.3-2]
  [0xef, 0xbf, 0xbf], // U+FFFF, a noncharacter
  [0xc2, 0x80, 0x41], // U+0080, a control character
];
/** Three bytes in a generated string that renderCase replaces with one of UTF8_REPLACEMENTS. */
export const UTF8_MARKER = 'Q~Q';

export type Opening =
  /** A valid MQTT 3.1.1 CONNECT as the fuzzer's own device; the stream follows once the CONNACK has arrived. */
  | { kind: 'login'; clean: boolean; keepaliveSec: number; will?: { kind: 'status-online' | 'status-victim' | 'junk' | 'other-topic'; qos: 0 | 1 | 2; retain: boolean } }
  /** The stream is all there is: it may begin with any CONNECT, damaged or not, or none. */
  | { kind: 'raw' };

export interface MqttFuzzCase {
  opening: Opening;
  /** Hub-to-device commands sent to the fuzzer's device after the first write (so its acknowledgements meet some). */
  hubCommands: number;
  /** A second connection logs in as the fuzzer's device after the first write: a takeover mid-stream. */
  takeover: boolean;
  /** How far the hub's clock moves after each write (pacing releases, timeouts, rate-limit refills). */
  clockStepMs: number;
  packets: PacketSpec[];
  mutations: Mutation[];
  /** Which UTF8_REPLACEMENTS entry replaces the marker. */
  utf8Replacement: number;
  /** Cut points (per mille of the stream) where one TCP write ends and the next begins. */
  splitsPerMille: number[];
}

const MAX_STRING = 65_535;
const MAX_VARIABLE_INT = 268_435_455;

export function statusBytes(deviceId: string, state = DeviceState.DEVICE_STATE_ONLINE, agentVersion = 'fuzz/1'): Buffer {
  return Buffer.from(encodeEnvelope({ deviceId, status: { state, agentVersion } }));
}

function topicArb(ctx: StreamContext): fc.Arbitrary<string> {
  const own = DEVICE_TOPIC_KINDS.map((kind) => deviceTopic(ctx.deviceId, kind));
  const victim = DEVICE_TOPIC_KINDS.map((kind) => deviceTopic(ctx.victimId, kind));
  return fc.oneof(
    { arbitrary: fc.constantFrom(...own), weight: 16 },
    { arbitrary: fc.constantFrom(...victim), weight: 3 },
    {
      arbitrary: fc.constantFrom(
        '#', '+', '+/+', 'ff/v1/dev/+/status', 'ff/v1/dev/#', '$SYS/#', '$SYS/fedfleet-hub/dropped', `$share/g/${own[5]}`, '', '/', 'a/b',
        `${own[0]}/extra`, `${own[0]}#`, `ff/v1/dev/${ctx.deviceId}/+`, `ff/v1/dev/${ctx.deviceId}/${UTF8_MARKER}`, `${UTF8_MARKER}/x`,
      ),
      weight: 4,
    },
    { arbitrary: fc.string({ maxLength: 24 }), weight: 1 },
    { arbitrary: fc.constantFrom('t'.repeat(MAX_STRING), `${own[0]}/${'x'.repeat(4096)}`), weight: 1 },
  );
}

function payloadArb(ctx: StreamContext): fc.Arbitrary<Buffer> {
  return fc.oneof(
    { arbitrary: fc.constant(statusBytes(ctx.deviceId)), weight: 4 },
    { arbitrary: fc.constant(statusBytes(ctx.deviceId, DeviceState.DEVICE_STATE_OFFLINE)), weight: 1 },
    { arbitrary: fc.constant(statusBytes(ctx.victimId, DeviceState.DEVICE_STATE_OFFLINE, 'forged')), weight: 2 },
    {
      arbitrary: fc.constant(Buffer.from(encodeEnvelope({ deviceId: ctx.deviceId, telemetry: { cpuPercent: 1, memTotalBytes: 2 } }))),
      weight: 1,
    },
    { arbitrary: fc.constant(Buffer.alloc(0)), weight: 2 },
    { arbitrary: fc.uint8Array({ maxLength: 64 }).map((bytes) => Buffer.from(bytes)), weight: 3 },
    { arbitrary: fc.constantFrom(Buffer.alloc(70_000, 1), Buffer.alloc(65_536 + 1024, 2)), weight: 1 },
  );
}

/** Mostly a few small ids, so that acknowledgements meet the publishes they name. */
const messageIdArb = fc.oneof(
  { arbitrary: fc.integer({ min: 1, max: 3 }), weight: 8 },
  { arbitrary: fc.integer({ min: 1, max: 65_535 }), weight: 3 },
  { arbitrary: fc.constant(0), weight: 1 },
);
const qosArb = fc.constantFrom(0 as const, 1 as const, 2 as const);
const shortString = fc.oneof(fc.string({ maxLength: 16 }), fc.constantFrom('', UTF8_MARKER));
const bytesArb = fc.oneof(fc.uint8Array({ maxLength: 32 }), fc.constant(new Uint8Array(0))).map((b) => Buffer.from(b));
const u32 = fc.oneof(fc.constantFrom(0, 1, 0xffff_ffff), fc.nat());
const u16 = fc.oneof(fc.constantFrom(0, 1, 0xffff), fc.integer({ min: 0, max: 0xffff }));

/** User properties: a few pairs, repeated keys, or one value as long as a string can be. */
const userPropertiesArb = fc.oneof(
  { arbitrary: fc.dictionary(shortString, fc.oneof(shortString, fc.array(shortString, { maxLength: 3 })), { maxKeys: 4 }), weight: 6 },
  { arbitrary: fc.constant({ big: 'v'.repeat(MAX_STRING) }), weight: 1 },
  { arbitrary: fc.constant(Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`k${i}`, 'v'.repeat(200)]))), weight: 1 },
);

function optional<T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined> {
  return fc.option(arb, { nil: undefined, freq: 2 });
}

/** Drops the keys whose value is undefined (mqtt-packet encodes a present key, even an undefined one, on some paths). */
function defined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

const reasonPropsArb = fc.record({ reasonString: optional(shortString), userProperties: optional(userPropertiesArb) }).map(defined);

/** A CONNECT of any protocol version (3 = MQTT 3.1, 4 = 3.1.1, 5), with every v5 property the version allows. */
export function connectArb(ctx: StreamContext, versions: readonly ProtocolVersion[] = [3, 4, 4, 5]): fc.Arbitrary<PacketSpec> {
  const ids = fc.constantFrom(ctx.deviceId, ctx.deviceId, ctx.victimId, '', 'd'.repeat(65), UTF8_MARKER);
  const usernames = fc.constantFrom(ctx.deviceId, ctx.deviceId, ctx.victimId, '', undefined);
  const passwords = fc.constantFrom(ctx.password, ctx.password, 'wrong', '', undefined);
  const willArb = fc.record({
    topic: fc.oneof(fc.constant(deviceTopic(ctx.deviceId, 'status')), topicArb(ctx)),
    payload: payloadArb(ctx),
    qos: qosArb,
    retain: fc.boolean(),
    properties: optional(fc.record({
      willDelayInterval: optional(u32),
      payloadFormatIndicator: optional(fc.boolean()),
      messageExpiryInterval: optional(u32),
      contentType: optional(shortString),
      responseTopic: optional(topicArb(ctx)),
      correlationData: optional(bytesArb),
      userProperties: optional(userPropertiesArb),
    }).map(defined)),
  });
  return fc.record({
    version: fc.constantFrom(...versions),
    clientId: ids,
    username: usernames,
    password: passwords,
    clean: fc.boolean(),
    keepalive: fc.constantFrom(0, 1, 60, 65_535),
    will: optional(willArb),
    properties: fc.record({
      sessionExpiryInterval: optional(u32),
      receiveMaximum: optional(u16),
      maximumPacketSize: optional(fc.oneof(fc.constantFrom(0, 1, 16, 0xffff_ffff), fc.nat())),
      topicAliasMaximum: optional(u16),
      requestResponseInformation: optional(fc.boolean()),
      requestProblemInformation: optional(fc.boolean()),
      userProperties: optional(userPropertiesArb),
      authenticationMethod: optional(fc.constantFrom('SCRAM-SHA-1', '', UTF8_MARKER)),
      authenticationData: optional(bytesArb),
    }).map(defined),
  }).map(({ version, password, will, properties, username, ...rest }) => {
    const packet = defined({
      cmd: 'connect' as const,
      protocolId: version === 3 ? ('MQIsdp' as const) : ('MQTT' as const),
      protocolVersion: version,
      ...rest,
      username,
      password: password === undefined ? undefined : Buffer.from(password),
      will: will && (version === 5 ? will : { ...will, properties: undefined }),
      properties: version === 5 ? properties : undefined,
    });
    return { version, packet };
  });
}

/** A topic the device may publish to with a valid envelope for it (a fresh msgId: the router drops repeats). */
function ownMessageArb(ctx: StreamContext): fc.Arbitrary<{ topic: string; payload: Buffer }> {
  const bodies: Record<'status' | 'telemetry' | 'reply' | 'update' | 'fetch', Omit<EnvelopeProps, 'msgId' | 'deviceId'>> = {
    status: { status: { state: DeviceState.DEVICE_STATE_ONLINE, agentVersion: 'fuzz/2' } },
    telemetry: { telemetry: { cpuPercent: 12, memTotalBytes: 1024 } },
    reply: { commandResult: { commandId: 'fuzz-0', code: 3 } },
    update: { weightUpdate: { roundId: 'fuzz-round', commandId: 'fuzz-0', exampleCount: 1, tensors: [] } },
    fetch: { chunkRequest: { sha256: '0'.repeat(64), index: 0, chunkSize: 1024 } },
  };
  return fc.tuple(fc.constantFrom(...(Object.keys(bodies) as (keyof typeof bodies)[])), fc.nat()).map(([kind, n]) => ({
    topic: deviceTopic(ctx.deviceId, kind),
    payload: Buffer.from(encodeEnvelope({ msgId: `fuzz-${n}`, deviceId: ctx.deviceId, ...bodies[kind] })),
  }));
}

function publishArb(ctx: StreamContext, version: ProtocolVersion): fc.Arbitrary<PacketSpec> {
  const properties = fc.record({
    payloadFormatIndicator: optional(fc.boolean()),
    messageExpiryInterval: optional(u32),
    // 1..65535 are encodable; no server here announced any alias maximum, so every one is beyond it [MQTT-3.3.2-9].
    topicAlias: optional(fc.integer({ min: 1, max: 0xffff })),
    responseTopic: optional(topicArb(ctx)),
    correlationData: optional(bytesArb),
    userProperties: optional(userPropertiesArb),
    // A client must not send one [MQTT-3.3.4-6]; mqtt-packet encodes it anyway.
    subscriptionIdentifier: optional(fc.integer({ min: 1, max: MAX_VARIABLE_INT })),
    contentType: optional(shortString),
  }).map(defined);
  const message = fc.oneof(
    { arbitrary: ownMessageArb(ctx), weight: 2 },
    { arbitrary: fc.record({ topic: topicArb(ctx), payload: payloadArb(ctx) }), weight: 1 },
  );
  return fc.record({
    message,
    qos: qosArb,
    dup: fc.boolean(),
    retain: fc.boolean(),
    messageId: messageIdArb,
    properties: version === 5 ? optional(properties) : fc.constant(undefined),
  }).map(({ message, ...p }) => ({ version, packet: defined({ cmd: 'publish' as const, ...message, ...p }) }));
}

function subscribeArb(ctx: StreamContext, version: ProtocolVersion): fc.Arbitrary<PacketSpec> {
  const subscription = fc.record({
    topic: topicArb(ctx),
    qos: qosArb,
    nl: version === 5 ? fc.boolean() : fc.constant(undefined),
    rap: version === 5 ? fc.boolean() : fc.constant(undefined),
    rh: version === 5 ? fc.constantFrom(0, 1, 2) : fc.constant(undefined),
  }).map(defined);
  return fc.record({
    messageId: messageIdArb,
    subscriptions: fc.oneof(
      { arbitrary: fc.array(subscription, { minLength: 1, maxLength: 4 }), weight: 8 },
      // Many filters in one packet: aedes checks each one (MAX_DENIED_SUBSCRIPTIONS).
      { arbitrary: fc.array(subscription, { minLength: 17, maxLength: 40 }), weight: 1 },
    ),
    properties: version === 5
      ? optional(fc.record({ subscriptionIdentifier: optional(fc.integer({ min: 1, max: MAX_VARIABLE_INT })), userProperties: optional(userPropertiesArb) }).map(defined))
      : fc.constant(undefined),
  }).map((p) => ({ version, packet: defined({ cmd: 'subscribe' as const, ...p }) }));
}

function packetArb(ctx: StreamContext): fc.Arbitrary<PacketSpec> {
  return fc.constantFrom(4 as const, 4 as const, 5 as const).chain((version) => {
    const props = version === 5 ? optional(reasonPropsArb) : fc.constant(undefined);
    const reason = version === 5 ? optional(fc.constantFrom(0, 0x10, 0x80, 0x87, 0x91, 0x92, 0xff)) : fc.constant(undefined);
    const ack = (cmd: 'puback' | 'pubrec' | 'pubrel' | 'pubcomp') =>
      fc.record({ messageId: messageIdArb, reasonCode: reason, properties: props }).map((p) => ({ version, packet: defined({ cmd, ...p }) as Packet }));
    return fc.oneof(
      { arbitrary: publishArb(ctx, version), weight: 12 },
      { arbitrary: subscribeArb(ctx, version), weight: 5 },
      {
        arbitrary: fc.record({ messageId: messageIdArb, unsubscriptions: fc.array(topicArb(ctx), { minLength: 1, maxLength: 4 }), properties: props })
          .map((p) => ({ version, packet: defined({ cmd: 'unsubscribe' as const, ...p }) })),
        weight: 3,
      },
      { arbitrary: ack('puback'), weight: 2 },
      { arbitrary: ack('pubrec'), weight: 2 },
      { arbitrary: ack('pubrel'), weight: 3 },
      { arbitrary: ack('pubcomp'), weight: 2 },
      { arbitrary: fc.constant({ version, packet: { cmd: 'pingreq' as const } }), weight: 3 },
      { arbitrary: connectArb(ctx), weight: 3 },
      // Packets only a server sends.
      {
        arbitrary: fc.oneof(
          fc.constant({ version, packet: { cmd: 'connack' as const, returnCode: 0, reasonCode: 0, sessionPresent: false } as Packet }),
          fc.constant({ version, packet: { cmd: 'pingresp' as const } as Packet }),
          messageIdArb.map((messageId) => ({ version, packet: { cmd: 'suback' as const, messageId, granted: [0, 1, 128] } as Packet })),
          messageIdArb.map((messageId) => ({ version, packet: { cmd: 'unsuback' as const, messageId, granted: [] } as Packet })),
        ),
        weight: 1,
      },
      {
        arbitrary: fc.record({
          reasonCode: reason,
          properties: version === 5
            ? optional(fc.record({ sessionExpiryInterval: optional(u32), reasonString: optional(shortString), userProperties: optional(userPropertiesArb) }).map(defined))
            : fc.constant(undefined),
        }).map((p) => ({ version, packet: defined({ cmd: 'disconnect' as const, ...p }) })),
        weight: 1,
      },
      {
        arbitrary: fc.record({
          reasonCode: fc.constantFrom(0, 0x18, 0x19),
          properties: optional(fc.record({
            authenticationMethod: optional(shortString),
            authenticationData: optional(bytesArb),
            reasonString: optional(shortString),
            userProperties: optional(userPropertiesArb),
          }).map(defined)),
        }).map((p) => ({ version: 5 as const, packet: defined({ cmd: 'auth' as const, ...p }) })),
        weight: 1,
      },
    );
  });
}

function mutationArb(): fc.Arbitrary<Mutation> {
  const index = fc.nat({ max: 63 });
  const perMille = fc.integer({ min: 0, max: 1000 });
  return fc.oneof(
    fc.record({ op: fc.constant('flags' as const), index, bits: fc.oneof(fc.constantFrom(0b0110, 0b0111, 0b0001, 0b1000), fc.integer({ min: 0, max: 15 })) }),
    fc.record({
      op: fc.constant('length' as const),
      index,
      value: fc.oneof(fc.constantFrom(0, 1, 2, 127, 128, 16_383, 16_384, 65_536, MAX_VARIABLE_INT), fc.integer({ min: 0, max: 70_000 })),
    }),
    fc.record({
      op: fc.constant('length-bytes' as const),
      index,
      bytes: fc.constantFrom([0x80, 0x00], [0xff, 0xff, 0xff, 0x7f], [0xff, 0xff, 0xff, 0xff, 0x01], [0x80, 0x80, 0x80, 0x80]),
    }),
    fc.record({ op: fc.constant('truncate' as const), index, keepPerMille: perMille }),
    fc.record({ op: fc.constant('duplicate' as const), index }),
    fc.record({ op: fc.constant('repeat' as const), index, count: fc.constantFrom(3, 50, 2100, 3000) }),
    fc.record({ op: fc.constant('splice' as const), index, other: index, cutPerMille: perMille, otherCutPerMille: perMille }),
    fc.record({ op: fc.constant('bit-flip' as const), index, positionPerMille: perMille, bit: fc.integer({ min: 0, max: 7 }) }),
    fc.record({
      op: fc.constant('set-byte' as const), index, positionPerMille: perMille, value: fc.oneof(fc.constantFrom(0, 0xff, 0x7f, 0x80), fc.integer({ min: 0, max: 255 })),
    }),
    fc.record({ op: fc.constant('insert' as const), index, positionPerMille: perMille, bytes: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 4 }) }),
  );
}

export function mqttFuzzCaseArb(ctx: StreamContext): fc.Arbitrary<MqttFuzzCase> {
  const opening: fc.Arbitrary<Opening> = fc.oneof(
    {
      arbitrary: fc.record({
        kind: fc.constant('login' as const),
        clean: fc.boolean(),
        keepaliveSec: fc.constantFrom(0, 30, 60),
        will: optional(fc.record({
          kind: fc.constantFrom('status-online' as const, 'status-victim' as const, 'junk' as const, 'other-topic' as const),
          qos: qosArb,
          retain: fc.boolean(),
        })),
      }).map(defined),
      weight: 3,
    },
    { arbitrary: fc.constant({ kind: 'raw' as const }), weight: 2 },
  );
  return fc.record({
    opening,
    hubCommands: fc.constantFrom(0, 0, 1, 3),
    takeover: fc.constantFrom(false, false, false, true),
    clockStepMs: fc.constantFrom(0, 0, 1, 250, 11_000),
    packets: fc.oneof(
      // Most raw streams begin with a CONNECT (of any kind): without one aedes closes at the first packet.
      { arbitrary: fc.tuple(connectArb(ctx), fc.array(packetArb(ctx), { maxLength: 7 })).map(([c, rest]) => [c, ...rest]), weight: 1 },
      { arbitrary: fc.array(packetArb(ctx), { minLength: 1, maxLength: 8 }), weight: 2 },
    ),
    mutations: fc.oneof(
      { arbitrary: fc.constant<Mutation[]>([]), weight: 2 },
      { arbitrary: fc.array(mutationArb(), { minLength: 1, maxLength: 1 }), weight: 2 },
      { arbitrary: fc.array(mutationArb(), { minLength: 2, maxLength: 4 }), weight: 2 },
    ),
    utf8Replacement: fc.nat({ max: UTF8_REPLACEMENTS.length - 1 }),
    splitsPerMille: fc.array(fc.integer({ min: 1, max: 999 }), { maxLength: 6 }),
  });
}

/**
 * Whether mqtt-packet encodes the packet as it is, to bytes its own parser reads back as one packet of that type. It
 * refuses some (an empty client id with clean=0 throws) and silently writes nothing for others (empty user properties).
 */
export function isEncodable(spec: PacketSpec): boolean {
  let bytes: Buffer;
  try {
    bytes = mqttPacket.generate(spec.packet, { protocolVersion: spec.version });
  } catch {
    return false;
  }
  const parsed: string[] = [];
  const parser = mqttPacket.parser({ protocolVersion: spec.version });
  parser.on('packet', (packet) => void parsed.push(packet.cmd));
  parser.on('error', () => void parsed.push('error'));
  parser.parse(bytes);
  return parsed.length === 1 && parsed[0] === spec.packet.cmd;
}

/** A packet mqtt-packet refuses to encode is sent as its fixed header over a body of junk (still a packet, just a bad one). */
export function encodePacket(spec: PacketSpec): Buffer {
  try {
    const bytes = mqttPacket.generate(spec.packet, { protocolVersion: spec.version });
    if (bytes.length > 0) return bytes;
    throw new Error('nothing encoded');
  } catch {
    const type = ({ connect: 1, publish: 3, subscribe: 8, unsubscribe: 10, auth: 15 } as Record<string, number>)[spec.packet.cmd] ?? 12;
    return Buffer.concat([Buffer.from([type << 4]), remainingLength(3), Buffer.from([0, 1, 0x41])]);
  }
}

/** The first byte of a CONNECT's Remaining Length and its length in bytes. */
function headerLength(packet: Buffer): number {
  let i = 1;
  while (i < packet.length && i < 5 && packet[i]! & 0x80) i++;
  return Math.min(i + 1, packet.length);
}

function at(perMille: number, length: number): number {
  return Math.min(length, Math.floor((perMille * length) / 1000));
}

/** Applies one mutation to the list of encoded packets (in place); indexes wrap around the list. */
export function applyMutation(packets: Buffer[], mutation: Mutation): void {
  if (packets.length === 0) return;
  const i = mutation.index % packets.length;
  const packet = packets[i]!;
  switch (mutation.op) {
    case 'flags':
      packets[i] = Buffer.concat([Buffer.from([(packet[0]! & 0xf0) | mutation.bits]), packet.subarray(1)]);
      return;
    case 'length':
      packets[i] = Buffer.concat([packet.subarray(0, 1), remainingLength(mutation.value), packet.subarray(headerLength(packet))]);
      return;
    case 'length-bytes':
      packets[i] = Buffer.concat([packet.subarray(0, 1), Buffer.from(mutation.bytes), packet.subarray(headerLength(packet))]);
      return;
    case 'truncate':
      packets[i] = packet.subarray(0, at(mutation.keepPerMille, packet.length));
      return;
    case 'duplicate':
      packets.splice(i, 0, packet);
      return;
    case 'repeat':
      // At most ~100 kB of repeats: the point is the packet count, not the bytes.
      packets[i] = Buffer.concat(Array<Buffer>(Math.max(1, Math.min(mutation.count, Math.floor(100_000 / Math.max(1, packet.length))))).fill(packet));
      return;
    case 'splice': {
      const other = packets[mutation.other % packets.length]!;
      packets[i] = Buffer.concat([packet.subarray(0, at(mutation.cutPerMille, packet.length)), other.subarray(at(mutation.otherCutPerMille, other.length))]);
      return;
    }
    case 'bit-flip': {
      if (packet.length === 0) return;
      const copy = Buffer.from(packet);
      const pos = Math.min(copy.length - 1, at(mutation.positionPerMille, copy.length));
      copy[pos]! ^= 1 << mutation.bit;
      packets[i] = copy;
      return;
    }
    case 'set-byte': {
      if (packet.length === 0) return;
      const copy = Buffer.from(packet);
      copy[Math.min(copy.length - 1, at(mutation.positionPerMille, copy.length))] = mutation.value;
      packets[i] = copy;
      return;
    }
    case 'insert': {
      const pos = at(mutation.positionPerMille, packet.length);
      packets[i] = Buffer.concat([packet.subarray(0, pos), Buffer.from(mutation.bytes), packet.subarray(pos)]);
      return;
    }
  }
}

/** Replaces every UTF8_MARKER in `bytes` with `replacement` (same length, so every length prefix stays right). */
export function replaceMarkers(bytes: Buffer, replacement: readonly number[]): Buffer {
  const marker = Buffer.from(UTF8_MARKER);
  let pos = bytes.indexOf(marker);
  if (pos < 0) return bytes;
  const copy = Buffer.from(bytes);
  while (pos >= 0) {
    copy.set(replacement, pos);
    pos = copy.indexOf(marker, pos + marker.length);
  }
  return copy;
}

/** The CONNECT of a `login` opening: a valid MQTT 3.1.1 login as the fuzzer's device, with the will asked for. */
export function loginPacket(ctx: StreamContext, opening: Extract<Opening, { kind: 'login' }>): Buffer {
  const willTopic = opening.will?.kind === 'other-topic' ? deviceTopic(ctx.deviceId, 'telemetry') : deviceTopic(ctx.deviceId, 'status');
  const willPayload = {
    'status-online': statusBytes(ctx.deviceId, DeviceState.DEVICE_STATE_OFFLINE, 'fuzz-will'),
    'status-victim': statusBytes(ctx.victimId, DeviceState.DEVICE_STATE_OFFLINE, 'forged-will'),
    junk: Buffer.from([0xde, 0xad]),
    'other-topic': statusBytes(ctx.deviceId),
  };
  return mqttPacket.generate({
    cmd: 'connect', protocolId: 'MQTT', protocolVersion: 4, clientId: ctx.deviceId, username: ctx.deviceId, password: Buffer.from(ctx.password),
    clean: opening.clean, keepalive: opening.keepaliveSec,
    ...(opening.will ? { will: { topic: willTopic, payload: willPayload[opening.will.kind], qos: opening.will.qos, retain: opening.will.retain } } : {}),
  });
}

/** The stream's bytes, mutated, cut into the TCP writes to send. */
export function renderCase(fuzzCase: MqttFuzzCase): Buffer[] {
  const packets = fuzzCase.packets.map(encodePacket);
  for (const mutation of fuzzCase.mutations) applyMutation(packets, mutation);
  const stream = replaceMarkers(Buffer.concat(packets), UTF8_REPLACEMENTS[fuzzCase.utf8Replacement]!);
  const cuts = [...new Set(fuzzCase.splitsPerMille.map((p) => at(p, stream.length)))].filter((c) => c > 0 && c < stream.length).sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let start = 0;
  for (const cut of [...cuts, stream.length]) {
    if (cut > start) chunks.push(stream.subarray(start, cut));
    start = cut;
  }
  return chunks;
}
