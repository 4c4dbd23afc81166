/**
 * Liveness of the real agent as the hub sees it (DESIGN section 6): the last will, a graceful goodbye, a heartbeat
 * timeout, and the agent reconnecting by itself, with backoff, when the network or the hub goes away.
 */
import { describe, expect, it } from 'vitest';
import { ResultCode, type CommandResultProps } from '@fedfleet/proto';
import type { CommandHandler } from '@fedfleet/agent';
import type { DeviceJson } from '../../hub/src/fleet/schemas.js';
import type { HubConfig } from '../../hub/src/config.js';
import { startTestHub, type TestHub } from '../../hub/test/helpers/test-hub.js';
import { nextAgentEvent, recordHubEvents, recordReplies, startAgent, tempDir, waitFor } from './helpers/agent-harness.js';
import { startTcpProxy, type TcpProxy } from './helpers/tcp-proxy.js';

/**
 * Hub timers shortened so that 2 missed 1 s heartbeats mean offline. Other tests keep the default 3 missed
 * heartbeats (of the agent's 1 s) so that a loaded machine does not make a device time out by accident.
 */
const FAST_LIVENESS = { heartbeatSec: 1, missedHeartbeats: 2 };

/** A hub whose devices reach its broker through a fault-injecting proxy. */
async function hubBehindProxy(config: Partial<HubConfig> = {}): Promise<{ testHub: TestHub; proxy: TcpProxy }> {
  const proxy = await startTcpProxy();
  const testHub = await startTestHub({ config: { ...config, publicMqttUrl: proxy.mqttUrl } });
  proxy.setTarget(Number(new URL(testHub.mqttUrl).port));
  return { testHub, proxy };
}

async function status(testHub: TestHub, deviceId: string): Promise<string> {
  return (await testHub.api<DeviceJson>('GET', `/v1/devices/${deviceId}`)).body.status;
}


describe('agent liveness', () => {
  it('goes offline by its last will when it crashes, and comes back when started again', async () => {
    const testHub = await startTestHub();
    const log = recordHubEvents(testHub);
    const { agent } = await startAgent(testHub);
    const deviceId = agent.deviceId!;
    await log.next('device.online', { deviceId });

    agent.crash();
    await log.next('device.offline', { deviceId, reason: 'will' });
    expect(await status(testHub, deviceId)).toBe('offline');
    expect(agent.online).toBe(false);

    const mark = log.mark();
    const online = nextAgentEvent(agent, 'online');
    await agent.start();
    await online;
    await log.next('device.online', { deviceId }, mark);
    expect(await status(testHub, deviceId)).toBe('online');
  });

  it('goes offline at once on a graceful stop (reason status, not the will)', async () => {
    const testHub = await startTestHub();
    const log = recordHubEvents(testHub);
    const { agent } = await startAgent(testHub);
    const deviceId = agent.deviceId!;
    await log.next('device.online', { deviceId });

    await agent.stop('maintenance');
    const offline = await log.next('device.offline', { deviceId });
    expect(offline).toMatchObject({ reason: 'status', detail: 'maintenance' });
    expect(await status(testHub, deviceId)).toBe('offline');
    expect(log.count('device.offline', { deviceId })).toBe(1);
  });

  it('goes offline after missed heartbeats while its connection is frozen, and online when it thaws', async () => {
    const { testHub, proxy } = await hubBehindProxy(FAST_LIVENESS);
    const log = recordHubEvents(testHub);
    const { agent } = await startAgent(testHub);
    const deviceId = agent.deviceId!;
    await log.next('device.online', { deviceId });

    proxy.freeze(); // TCP stays up, nothing arrives: only the heartbeat timeout can notice
    const offline = await log.next('device.offline', { deviceId });
    expect(offline.reason).toBe('heartbeat-timeout');
    expect(agent.online).toBe(true); // the agent cannot tell

    const mark = log.mark();
    proxy.thaw();
    await log.next('device.online', { deviceId }, mark);
    expect(await status(testHub, deviceId)).toBe('online');
    expect(proxy.accepted).toBe(1); // the same connection carried on
  });

  it('reconnects by itself through several connection drops in a row', async () => {
    const { testHub, proxy } = await hubBehindProxy();
    const log = recordHubEvents(testHub);
    const { agent } = await startAgent(testHub);
    const deviceId = agent.deviceId!;
    await log.next('device.online', { deviceId });

    for (let flap = 1; flap <= 4; flap++) {
      const mark = log.mark();
      const reconnecting = nextAgentEvent(agent, 'reconnecting');
      const back = nextAgentEvent(agent, 'online');
      proxy.dropConnections();
      await reconnecting;
      await back;
      const offline = await log.next('device.offline', { deviceId }, mark);
      expect(['will', 'disconnected']).toContain(offline.reason);
      await log.next('device.online', { deviceId }, mark);
    }
    expect(proxy.accepted).toBe(5);
    expect(await status(testHub, deviceId)).toBe('online');
    // The broker kept the persistent session: commands still reach the agent.
    const replies = recordReplies(testHub);
    await testHub.hub.broker.sendToDevice(deviceId, 'cmd', { command: { commandId: 'after-flaps', config: { heartbeatSec: 1 } } });
    expect(await waitFor(() => replies.find((r) => r.commandId === 'after-flaps'))).toMatchObject({ code: ResultCode.RESULT_CODE_DONE });
  });

  it('backs off while the broker refuses connections, then reconnects', async () => {
    const { testHub, proxy } = await hubBehindProxy();
    const log = recordHubEvents(testHub);
    const { agent } = await startAgent(testHub, { backoff: { initialMs: 10, maxMs: 80 } });
    const deviceId = agent.deviceId!;
    await log.next('device.online', { deviceId });

    const attempts: Array<{ attempt: number; delayMs: number }> = [];
    agent.on('reconnecting', (info) => attempts.push(info));
    proxy.refuse(true);
    proxy.dropConnections();
    await waitFor(() => attempts.length >= 5, 10_000, 'five reconnection attempts');
    // Attempts are numbered 1, 2, 3…; each delay is jittered below a ceiling that doubles up to maxMs.
    expect(attempts.slice(0, 5).map((a) => a.attempt)).toEqual([1, 2, 3, 4, 5]);
    attempts.slice(0, 5).forEach(({ attempt, delayMs }) => expect(delayMs).toBeLessThanOrEqual(Math.min(80, 10 * 2 ** (attempt - 1))));
    await log.next('device.offline', { deviceId });

    const mark = log.mark();
    const online = nextAgentEvent(agent, 'online');
    proxy.refuse(false);
    await online;
    await log.next('device.online', { deviceId }, mark);
  });

  it('reconnects to a restarted hub, subscribes again and still answers commands', async () => {
    const dataDir = tempDir('fedfleet-hub-restart-');
    const before = await startTestHub({ dataDir });
    // The same ports again: the agent keeps the MQTT URL it was given at enrollment.
    const config = { httpPort: Number(new URL(before.httpUrl).port), mqttPort: Number(new URL(before.mqttUrl).port) };
    const { agent } = await startAgent(before);
    const deviceId = agent.deviceId!;

    const offline = nextAgentEvent(agent, 'offline');
    await before.hub.close();
    await offline;

    const after = await startTestHub({ dataDir, config });
    const log = recordHubEvents(after);
    await log.next('device.online', { deviceId });
    const replies = recordReplies(after);
    // The new broker has no session for the device: the command reaches it only if it subscribed again.
    await after.hub.broker.sendToDevice(deviceId, 'cmd', { command: { commandId: 'after-restart', config: { heartbeatSec: 2 } } });
    const reply = await waitFor(() => replies.find((r) => r.commandId === 'after-restart'));
    expect(reply.code).toBe(ResultCode.RESULT_CODE_DONE);
  });

  it('delivers a result produced while disconnected once it is back, and stops promptly without a connection', async () => {
    const { testHub, proxy } = await hubBehindProxy();
    const gate = releasableHandler();
    const { agent } = await startAgent(testHub, { commands: { eval: gate.handler } });
    const deviceId = agent.deviceId!;
    const replies = recordReplies(testHub);

    const disconnectWithResultPending = async (commandId: string) => {
      const started = nextAgentEvent(agent, 'command');
      await testHub.hub.broker.sendToDevice(deviceId, 'cmd', { command: { commandId, eval: { roundId: commandId } } });
      await started;
      proxy.refuse(true);
      const offline = nextAgentEvent(agent, 'offline');
      proxy.dropConnections();
      await offline;
      const result = nextAgentEvent(agent, 'result');
      gate.release(); // the handler replies while there is no connection: the QoS 1 reply waits in the agent
      await result;
    };

    await disconnectWithResultPending('eval-offline');
    const online = nextAgentEvent(agent, 'online');
    proxy.refuse(false);
    await online;
    const reply = await waitFor(() => replies.find((r) => r.commandId === 'eval-offline'));
    expect(reply).toMatchObject({ code: ResultCode.RESULT_CODE_DONE, roundId: 'eval-offline' });
    expect(agent.busy).toBe(false);

    // SIGTERM while the hub is unreachable and a reply is still undelivered: the agent must not wait forever.
    await disconnectWithResultPending('eval-undelivered');
    const stopped = await Promise.race([agent.stop('SIGTERM').then(() => 'stopped'), sleep(3000).then(() => 'hung')]);
    expect(stopped).toBe('stopped');
  });
});

/** An exclusive command handler that replies DONE when released (once per release). */
function releasableHandler(): { handler: CommandHandler; release(): void } {
  let waiting: Array<() => void> = [];
  let released = 0;
  return {
    handler: {
      exclusive: true,
      async run(ctx, command) {
        if (released === 0) await new Promise<void>((resolve) => waiting.push(resolve));
        released = Math.max(0, released - 1);
        await ctx.reply({ code: ResultCode.RESULT_CODE_DONE, roundId: command.eval?.roundId ?? '' });
      },
    },
    release() {
      const next = waiting.shift();
      if (next) next();
      else released += 1;
    },
  };
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
