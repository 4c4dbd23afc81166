/**
 * Commands reaching the real agent over the hub's broker: bad payloads are dropped and counted without hurting the
 * session (DESIGN section 2), unknown kinds are refused, `config` changes the heartbeat, and a redelivered command
 * is answered from memory rather than run twice.
 */
import { describe, expect, it } from 'vitest';
import { ResultCode, deviceTopic, encodeEnvelope, type CommandProps, type CommandResultProps } from '@fedfleet/proto';
import type { CommandHandler } from '@fedfleet/agent';
import { startTestHub, type TestHub } from '../../hub/test/helpers/test-hub.js';
import { captureAedes, recordReplies, startAgent, waitFor } from './helpers/agent-harness.js';

async function send(testHub: TestHub, deviceId: string, command: CommandProps): Promise<void> {
  await testHub.hub.broker.sendToDevice(deviceId, 'cmd', { command });
}

function repliesTo(replies: CommandResultProps[], commandId: string): CommandResultProps[] {
  return replies.filter((reply) => reply.commandId === commandId);
}

/** Protobuf length-delimited field (wire type 2) with a one-byte tag and a one-byte length. */
function field(number: number, bytes: Uint8Array): Buffer {
  if (number > 15 || bytes.length > 127) throw new Error('keep the test encoder small');
  return Buffer.concat([Buffer.from([(number << 3) | 2, bytes.length]), bytes]);
}

/** An Envelope carrying a Command whose kind is a oneof member this agent does not know (field 20, a future hub). */
function futureCommandEnvelope(deviceId: string, commandId: string): Buffer {
  const unknownKind = Buffer.from([0xa2, 0x01, 0x00]); // field 20, wire type 2 (two-byte tag), empty message
  const command = Buffer.concat([field(1, Buffer.from(commandId)), unknownKind]);
  return Buffer.concat([field(1, Buffer.from('msg-future')), field(2, Buffer.from(deviceId)), field(12, command)]);
}

describe('agent commands', () => {
  it('drops and counts malformed, oversize and misplaced payloads, and keeps answering', async () => {
    const broker = captureAedes();
    const testHub = await startTestHub();
    const replies = recordReplies(testHub);
    const { agent } = await startAgent(testHub, { maxPayloadBytes: 64 * 1024 });
    const deviceId = agent.deviceId!;
    const rejected: string[] = [];
    agent.on('rejected', ({ code, kind }) => rejected.push(`${kind}:${code}`));
    const cmd = deviceTopic(deviceId, 'cmd');

    await broker.publish(cmd, Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0f, 0x01])); // not protobuf
    await broker.publish(cmd, Buffer.alloc(64 * 1024 + 1, 1)); // over the agent's limit
    await broker.publish(cmd, Buffer.alloc(0)); // no body at all
    await testHub.hub.broker.sendToDevice(deviceId, 'cmd', { telemetry: { cpuPercent: 1 } }); // a body cmd never carries
    await broker.publish(cmd, Buffer.from(encodeEnvelope({ deviceId: 'dev-someone-else', command: { commandId: 'not-mine', config: { heartbeatSec: 7 } } })));
    await broker.publish(deviceTopic(deviceId, 'chunk'), Buffer.from('garbage!'));

    await waitFor(() => rejected.length >= 6, 5000, 'six rejections');
    expect(rejected.sort()).toEqual([
      'chunk:PROTO_ERR_MALFORMED',
      'cmd:PROTO_ERR_DEVICE_MISMATCH',
      'cmd:PROTO_ERR_EMPTY_BODY',
      'cmd:PROTO_ERR_MALFORMED',
      'cmd:PROTO_ERR_TOO_LARGE',
      'cmd:PROTO_ERR_WRONG_BODY',
    ]);
    expect(agent.rejectedMessages).toBe(6);
    expect(agent.online).toBe(true);

    await send(testHub, deviceId, { commandId: 'after-garbage', config: { heartbeatSec: 3 } });
    const reply = await waitFor(() => repliesTo(replies, 'after-garbage')[0]);
    expect(reply).toMatchObject({ code: ResultCode.RESULT_CODE_DONE });
    expect(repliesTo(replies, 'not-mine')).toEqual([]); // the misplaced command was not run
    expect(agent.rejectedMessages).toBe(6);
  });

  it('refuses command kinds it has no handler for with AGENT_ERR_BAD_COMMAND', async () => {
    const broker = captureAedes();
    const testHub = await startTestHub();
    const replies = recordReplies(testHub);
    const { agent } = await startAgent(testHub);
    const deviceId = agent.deviceId!;

    await send(testHub, deviceId, { commandId: 'deploy-1', deploy: { rolloutId: 'r-1' } }); // no deploy handler yet
    await broker.publish(deviceTopic(deviceId, 'cmd'), futureCommandEnvelope(deviceId, 'future-1'));
    await send(testHub, deviceId, { commandId: 'empty-1' });
    await send(testHub, deviceId, { config: { heartbeatSec: 2 } }); // no commandId

    await waitFor(() => replies.length >= 4, 5000, 'four replies');
    for (const commandId of ['deploy-1', 'future-1', 'empty-1', '']) {
      expect(repliesTo(replies, commandId), commandId).toEqual([
        expect.objectContaining({ code: ResultCode.RESULT_CODE_REFUSED, errorCode: 'AGENT_ERR_BAD_COMMAND' }),
      ]);
    }
    expect(testHub.hub.fleet.liveness.state(deviceId)?.heartbeatSec).toBe(1); // the id-less config was not applied
    expect(agent.rejectedMessages).toBe(0);
  });

  it('changes the heartbeat on a config command and refuses one out of range', async () => {
    const testHub = await startTestHub();
    const replies = recordReplies(testHub);
    const { agent } = await startAgent(testHub);
    const deviceId = agent.deviceId!;
    expect(testHub.hub.fleet.liveness.state(deviceId)?.heartbeatSec).toBe(1);
    const samples: number[] = [];
    agent.on('telemetry', (telemetry) => samples.push(telemetry.heartbeatSec ?? 0));

    await send(testHub, deviceId, { commandId: 'cfg-too-long', config: { heartbeatSec: 4_000_000 } });
    const refused = await waitFor(() => repliesTo(replies, 'cfg-too-long')[0]);
    expect(refused).toMatchObject({ code: ResultCode.RESULT_CODE_REFUSED, errorCode: 'AGENT_ERR_BAD_COMMAND' });

    await send(testHub, deviceId, { commandId: 'cfg-2', config: { heartbeatSec: 2 } });
    const done = await waitFor(() => repliesTo(replies, 'cfg-2')[0]);
    expect(done.code).toBe(ResultCode.RESULT_CODE_DONE);
    // The new period travels in the re-published status (the hub's liveness uses it) and in every telemetry sample.
    await waitFor(() => testHub.hub.fleet.liveness.state(deviceId)?.heartbeatSec === 2, 5000, 'hub sees heartbeatSec 2');
    await waitFor(() => samples.includes(2), 5000, 'telemetry with heartbeatSec 2');
    expect(samples.slice(samples.indexOf(2))).not.toContain(1);
  });

  it('answers a redelivered command from memory and never runs it twice', async () => {
    const broker = captureAedes();
    const testHub = await startTestHub();
    const replies = recordReplies(testHub);
    let runs = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const evalHandler: CommandHandler = {
      exclusive: true,
      async run(ctx, command) {
        runs += 1;
        await gate;
        await ctx.reply({ code: ResultCode.RESULT_CODE_DONE, roundId: command.eval?.roundId ?? '' });
      },
    };
    const { agent } = await startAgent(testHub, { commands: { eval: evalHandler } });
    const deviceId = agent.deviceId!;
    // The very same bytes twice, as a QoS 1 redelivery would bring them.
    const bytes = Buffer.from(encodeEnvelope({ deviceId, command: { commandId: 'eval-1', eval: { roundId: 'round-1' } } }));
    const topic = deviceTopic(deviceId, 'cmd');
    const seen: string[] = [];
    agent.on('command', ({ commandId }) => seen.push(commandId));

    await broker.publish(topic, bytes);
    await broker.publish(topic, bytes); // while the first is still running: ignored
    await waitFor(() => seen.length === 2);
    release();
    await waitFor(() => repliesTo(replies, 'eval-1').length === 1);
    await broker.publish(topic, bytes); // after it finished: the remembered result again
    await waitFor(() => repliesTo(replies, 'eval-1').length === 2);

    expect(runs).toBe(1);
    const [first, second] = repliesTo(replies, 'eval-1');
    expect(second).toEqual(first);
    expect(first).toMatchObject({ code: ResultCode.RESULT_CODE_DONE, roundId: 'round-1' });
    expect(agent.busy).toBe(false);
  });
});
