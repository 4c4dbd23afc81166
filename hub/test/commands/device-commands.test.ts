/**
 * The commands capability on its own (hub/src/commands/device-commands.ts): a command sent for an owner is owed
 * until settled, replies reach the owner of the command they name — only from the device it was sent to — and a
 * device that comes back online gets exactly what it is still owed.
 */
import { describe, expect, it, onTestFinished } from 'vitest';
import { ResultCode, decodeEnvelope, encodeEnvelope, type CommandProps, type EnvelopeProps } from '@fedfleet/proto';
import type { DeviceMessage, MessageHandler } from '../../src/broker/router.js';
import { createDeviceCommands, type CommandReply, type DeviceCommand } from '../../src/commands/device-commands.js';
import { HubEvents } from '../../src/events/hub-events.js';
import { createLogger } from '../../src/logger.js';
import { createManualClock } from '../../src/clock.js';
import { createArtifactGrants } from '../../src/store/artifact-grants.js';
import { openDatabase } from '../../src/store/database.js';
import { migrate } from '../../src/store/migrate.js';

function setup() {
  let replyHandler: MessageHandler | undefined;
  const sent: { deviceId: string; command: CommandProps }[] = [];
  /** Ids of the commands whose artifact the device could fetch at the moment the command went out. */
  const grantedAtSend: string[] = [];
  const db = openDatabase(':memory:');
  migrate(db);
  onTestFinished(() => void db.close());
  const clock = createManualClock();
  const grants = createArtifactGrants({ db, clock, ttlMs: 60_000 });
  const events = new HubEvents((error) => {
    throw error;
  });
  const commands = createDeviceCommands({
    router: {
      on(kind, handler) {
        expect(kind).toBe('reply');
        replyHandler = handler;
        return () => (replyHandler = undefined);
      },
    },
    broker: {
      async sendToDevice(deviceId, kind, envelope) {
        expect(kind).toBe('cmd');
        const sha256 = envelope.command!.deploy?.model?.sha256;
        if (sha256 && grants.allows(deviceId, sha256)) grantedAtSend.push(envelope.command!.commandId!);
        sent.push({ deviceId, command: envelope.command! });
      },
    },
    events,
    grants,
    log: createLogger('silent'),
  });
  /** Delivers a reply as the router would: decoded from the device's own topic. */
  const reply = (deviceId: string, body: Omit<EnvelopeProps, 'deviceId'>) => {
    const message: DeviceMessage = {
      deviceId, kind: 'reply', envelope: decodeEnvelope(encodeEnvelope({ ...body, deviceId }), { topicKind: 'reply' }),
      sessionId: 1, viaWill: false, receivedAtMs: 0,
    };
    return replyHandler?.(message);
  };
  /** Announces the device online and lets the re-sends (queued after the event's handlers) run. */
  const online = async (deviceId: string) => {
    events.emit('device.online', { deviceId, at: new Date(0).toISOString() });
    await Promise.resolve();
  };
  return { commands, sent, grantedAtSend, reply, online, events, grants, clock, db, isRouted: () => replyHandler !== undefined };
}

const train = (commandId: string, roundId = 'r1'): DeviceCommand['command'] => ({ commandId, train: { roundId, epochs: 1 } });

describe('device commands', () => {
  it('routes each reply to the owner of the command it names, only from the device it was sent to', async () => {
    const { commands, reply } = setup();
    const got: Array<{ owner: string; kind: CommandReply['kind']; commandId: string }> = [];
    commands.onReply('rounds', (r, s) => got.push({ owner: 'rounds', kind: r.kind, commandId: s.command.commandId }));
    commands.onReply('rollouts', (r, s) => got.push({ owner: 'rollouts', kind: r.kind, commandId: s.command.commandId }));
    await commands.send({ owner: 'rounds', key: 'r1', deviceId: 'dev-a', command: train('c-train') });
    await commands.send({ owner: 'rollouts', key: 'w1', deviceId: 'dev-a', command: { commandId: 'c-deploy', deploy: {} } });

    await reply('dev-a', { commandResult: { commandId: 'c-train', code: ResultCode.RESULT_CODE_ACCEPTED } });
    await reply('dev-a', { progress: { commandId: 'c-train', phase: 'train', fraction: 0.5 } });
    await reply('dev-a', { evalResult: { commandId: 'c-deploy', accuracy: 0.5, loss: 1, exampleCount: 3 } });
    await reply('dev-b', { commandResult: { commandId: 'c-train', code: ResultCode.RESULT_CODE_REFUSED } }); // not its command
    await reply('dev-a', { commandResult: { commandId: 'c-unknown', code: ResultCode.RESULT_CODE_DONE } });
    expect(got).toEqual([
      { owner: 'rounds', kind: 'result', commandId: 'c-train' },
      { owner: 'rounds', kind: 'progress', commandId: 'c-train' },
      { owner: 'rollouts', kind: 'eval', commandId: 'c-deploy' },
    ]);

    // A settled command's replies go nowhere.
    expect(commands.settle('c-train')).toBe(true);
    await reply('dev-a', { commandResult: { commandId: 'c-train', code: ResultCode.RESULT_CODE_DONE } });
    expect(got).toHaveLength(3);
  });

  it('re-sends what a device is still owed when it comes back online, nothing settled, nothing of other devices', async () => {
    const { commands, sent, online } = setup();
    await commands.send({ owner: 'rounds', key: 'r1', deviceId: 'dev-a', command: train('a-1') });
    await commands.send({ owner: 'rounds', key: 'r1', deviceId: 'dev-b', command: train('b-1') });
    await commands.send({ owner: 'rounds', key: 'r2', deviceId: 'dev-a', command: train('a-2', 'r2') });
    commands.owe({ owner: 'rounds', key: 'r3', deviceId: 'dev-a', command: train('a-3', 'r3') }); // owed, not sent yet
    await commands.notify('dev-a', { commandId: 'cancel-1', cancel: { targetCommandId: 'x' } }); // nobody waits for it
    expect(sent.map((s) => s.command.commandId)).toEqual(['a-1', 'b-1', 'a-2', 'cancel-1']);

    expect(commands.settleAll('rounds', 'r2')).toBe(1);
    sent.length = 0;
    await online('dev-a');
    expect(sent).toEqual([{ deviceId: 'dev-a', command: train('a-1') }, { deviceId: 'dev-a', command: train('a-3', 'r3') }]);
    expect(commands.owedTo('dev-a').map((s) => s.command.commandId)).toEqual(['a-1', 'a-3']);

    commands.settle('a-1');
    commands.settle('a-3');
    sent.length = 0;
    await online('dev-a');
    expect(sent).toEqual([]);
  });

  it('lets an owner settle on the same device.online event before the re-send goes out', async () => {
    const { commands, sent, events, online } = setup();
    await commands.send({ owner: 'rounds', key: 'r1', deviceId: 'dev-a', command: train('a-1') });
    events.on('device.online', () => void commands.settleAll('rounds', 'r1')); // e.g. the round closed meanwhile
    sent.length = 0;
    await online('dev-a');
    expect(sent).toEqual([]);
  });

  it('keeps one reply handler per owner, and stops routing and sending once stopped', async () => {
    const { commands, sent, reply, online, isRouted } = setup();
    const got: string[] = [];
    const off = commands.onReply('rounds', (_r, s) => got.push(s.command.commandId));
    expect(() => commands.onReply('rounds', () => {})).toThrow(/already/);
    await commands.send({ owner: 'rounds', key: 'r1', deviceId: 'dev-a', command: train('a-1') });
    off();
    await reply('dev-a', { commandResult: { commandId: 'a-1', code: ResultCode.RESULT_CODE_ACCEPTED } });
    expect(got).toEqual([]);

    commands.stop();
    expect(isRouted()).toBe(false);
    sent.length = 0;
    await online('dev-a');
    await commands.send({ owner: 'rounds', key: 'r1', deviceId: 'dev-a', command: train('a-2') });
    expect(sent).toEqual([]);
  });

  const [shaA, shaB, shaC] = ['a', 'b', 'c'].map((c) => c.repeat(64)) as [string, string, string];
  const deploy = (commandId: string, sha256: string): DeviceCommand['command'] => ({ commandId, deploy: { model: { sha256 } } });

  it('grants a device the artifact a command names before the command goes out; settling revokes it', async () => {
    const { commands, grants, grantedAtSend } = setup();
    await commands.send({ owner: 'rollouts', key: 'ro-1', deviceId: 'dev-a', command: deploy('d-1', shaA) });
    await commands.send({ owner: 'rollouts', key: 'ro-1', deviceId: 'dev-b', command: deploy('d-2', shaB) });
    await commands.send({ owner: 'rounds', key: 'r1', deviceId: 'dev-a', command: deploy('d-3', shaC) });
    expect(grantedAtSend).toEqual(['d-1', 'd-2', 'd-3']);
    expect(grants.allows('dev-b', shaB)).toBe(true);
    expect([grants.allows('dev-b', shaA), grants.allows('dev-a', shaB)]).toEqual([false, false]); // only to whom it was sent

    commands.settle('d-1');
    expect(grants.allows('dev-a', shaA)).toBe(false);
    commands.settleAll('rollouts', 'ro-1');
    expect(grants.allows('dev-b', shaB)).toBe(false);
    expect(grants.allows('dev-a', shaC)).toBe(true); // another owner's
    // Grants of commands sent before a restart (not owed in this process) are revoked all the same.
    grants.grant('dev-c', [shaA], { commandId: 'old-1', owner: 'rounds', key: 'r0' });
    grants.grant('dev-c', [shaB], { commandId: 'old-2', owner: 'rounds', key: 'r9' });
    expect(commands.settle('old-1')).toBe(false);
    commands.settleAll('rounds', 'r9');
    expect([grants.allows('dev-c', shaA), grants.allows('dev-c', shaB)]).toEqual([false, false]);
  });

  it('lets an unrevoked grant expire a TTL after its last send (a re-send renews it), pruning expired rows', async () => {
    const { commands, grants, online, clock, db } = setup();
    await commands.send({ owner: 'rollouts', key: 'ro-1', deviceId: 'dev-a', command: deploy('d-1', shaA) });
    clock.advance(59_000);
    await online('dev-a');
    clock.advance(59_000);
    expect(grants.allows('dev-a', shaA)).toBe(true);
    clock.advance(1_000);
    expect(grants.allows('dev-a', shaA)).toBe(false);
    await commands.notify('dev-b', deploy('n-1', shaB)); // unowned: only the TTL ends it
    expect(db.prepare('SELECT command_id FROM artifact_grants').pluck().all()).toEqual(['n-1']);
  });

  it('does not send a command whose grant could not be written (the device could not fetch what it names)', async () => {
    const { commands, sent, db } = setup();
    db.close();
    await commands.send({ owner: 'rollouts', key: 'ro-1', deviceId: 'dev-a', command: deploy('d-1', shaA) });
    expect(sent).toEqual([]);
    expect(commands.owedTo('dev-a')).toHaveLength(1);
    expect(commands.settle('d-1')).toBe(true); // the revoke fails quietly
  });
});
