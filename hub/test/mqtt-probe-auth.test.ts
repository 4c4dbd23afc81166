/**
 * Wrong passwords for a known device id over raw TCP, from one address. Each is a scrypt on a libuv thread; before the
 * login limit, 1,500 of them (about 120 KB sent) kept another device's first login waiting past its 5 s timeout.
 */
import { describe, expect, it, vi } from 'vitest';
import { AUTH_FAILURES_PER_MIN } from '../src/broker/auth-attempt-limiter.js';
import { createManualClock } from '../src/clock.js';
import { connectDevice, connectError, enrollDevice } from './helpers/devices.js';
import { connectPacket, openRaw } from './helpers/raw-mqtt.js';
import { startTestHub } from './helpers/test-hub.js';

/** A burst of wrong passwords from one address against a hub whose budget is `budget` (config mqttLoginFailuresPerMin). */
async function burstOfWrongPasswords(budget: number, config: { mqttLoginFailuresPerMin?: number } = {}): Promise<void> {
  const clock = createManualClock();
  const testHub = await startTestHub({ clock, config });
  const victim = await enrollDevice(testHub);
  const device = await enrollDevice(testHub);
  const verify = vi.spyOn(testHub.hub.deviceCredentials, 'verify');
  const port = Number(new URL(testHub.mqttUrl).port);

  const attempts = await Promise.all(Array.from({ length: 2 * budget }, () => openRaw(port)));
  for (const attempt of attempts) attempt.socket.write(connectPacket({ clientId: victim.clientId, username: victim.username, password: 'guess' }));
  const codes = await Promise.all(attempts.map(async (attempt) => (await attempt.receivedAtLeast(4))[3]));
  expect(codes.filter((code) => code === 4)).toHaveLength(budget); // checked: bad password
  expect(codes.filter((code) => code === 3)).toHaveLength(budget); // server unavailable: try later
  expect(verify).toHaveBeenCalledTimes(budget);
  expect(testHub.hub.metrics.authFailures.get({ reason: 'too many failed logins' })).toBe(budget);

  // The address is refused until its budget refills, whoever logs in from it.
  expect((await connectError(testHub.mqttUrl, { clientId: device.clientId, username: device.username, password: device.password }))?.code).toBe(3);
  clock.advance(60_000);
  // Good logins give their token back: far more of them than the budget pass.
  for (let i = 0; i < budget + 5; i++) {
    const client = await connectDevice(testHub, device, { will: false });
    await client.endAsync();
  }
  expect(verify).toHaveBeenCalledTimes(2 * budget + 5);
}

describe('password checks per client address (raw TCP)', () => {
  it('checks a burst of wrong passwords up to the budget, refuses the rest unchecked, and refunds good logins', async () => {
    await burstOfWrongPasswords(AUTH_FAILURES_PER_MIN);
  });

  it('takes its budget from config mqttLoginFailuresPerMin', async () => {
    await burstOfWrongPasswords(7, { mqttLoginFailuresPerMin: 7 });
  });
});
