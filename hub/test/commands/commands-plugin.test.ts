/**
 * `hub.commands` in a running hub, with a raw MQTT client as the device: a command reaches the device on its `cmd`
 * topic, the device's reply reaches the owner, and after a reconnect the device gets again what it is still owed —
 * and nothing once the owner settled it.
 */
import { describe, expect, it } from 'vitest';
import { ResultCode } from '@fedfleet/proto';
import type { CommandReply } from '../../src/commands/device-commands.js';
import { startTestHub } from '../helpers/test-hub.js';
import { createToken, RawDevice, waitFor } from '../rounds/round-helpers.js';

describe('commands plugin', () => {
  it('sends, routes replies to the owner and re-sends owed commands when the device comes back', async () => {
    const testHub = await startTestHub();
    const { hub } = testHub;
    const api = testHub.api.bind(testHub);
    const device = await RawDevice.enroll(api, testHub.mqttUrl, { name: 'd', token: await createToken(api) });
    await device.connect();
    await waitFor(() => hub.fleet.presence.isOnline(device.deviceId), 5000, 'online');

    const replies: Array<{ reply: CommandReply; key: string }> = [];
    hub.commands.onReply('test-owner', (reply, sent) => replies.push({ reply, key: sent.key }));
    const command = { commandId: 'cmd-1', config: { heartbeatSec: 7 } };
    await hub.commands.send({ owner: 'test-owner', key: 'k', deviceId: device.deviceId, command });
    await waitFor(() => device.commands.find((c) => c.commandId === 'cmd-1'), 5000, 'command delivered');

    await device.reply('cmd-1', ResultCode.RESULT_CODE_ACCEPTED);
    expect(replies.map((r) => [r.key, r.reply.kind, r.reply.kind === 'result' ? r.reply.result.code : undefined])).toEqual([['k', 'result', ResultCode.RESULT_CODE_ACCEPTED]]);

    // Offline and back (a clean session: only the hub's re-send can bring the command again).
    device.drop();
    await waitFor(() => !hub.fleet.presence.isOnline(device.deviceId), 5000, 'offline');
    device.commands.length = 0;
    await device.connect();
    await waitFor(() => device.commands.find((c) => c.commandId === 'cmd-1'), 5000, 'owed command re-sent');
    expect(device.commands.filter((c) => c.commandId === 'cmd-1')).toHaveLength(1);

    // Settled: not sent again, and its replies no longer reach the owner.
    hub.commands.settle('cmd-1');
    await device.reply('cmd-1', ResultCode.RESULT_CODE_DONE);
    expect(replies).toHaveLength(1);
    device.drop();
    await waitFor(() => !hub.fleet.presence.isOnline(device.deviceId), 5000, 'offline again');
    device.commands.length = 0;
    await device.connect();
    await waitFor(() => hub.fleet.presence.isOnline(device.deviceId), 5000, 'online again');
    await hub.commands.send({ owner: 'test-owner', key: 'k', deviceId: device.deviceId, command: { commandId: 'cmd-2', config: {} } });
    await waitFor(() => device.commands.find((c) => c.commandId === 'cmd-2'), 5000, 'next command');
    expect(device.commands.map((c) => c.commandId)).toEqual(['cmd-2']);
  });
});
