/**
 * Helpers of the end-to-end rollout tests (issue 10 acceptance): rollouts created through the API against a real hub
 * and real simulated devices (firmware-sim SimFleet), devices enrolled ahead of their fleet so that a test knows the
 * wave each one lands in (waves are filled in id order) before it chooses the device's local data, and the devices
 * as the hub's API shows them.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { enroll, type DeviceCredentials } from '@fedfleet/agent';
import { wireProfile, type SimFleet, type SimProfile } from '@fedfleet/firmware-sim';
import type { DeviceJson } from '../../../hub/src/fleet/schemas.js';
import type { RolloutDetailJson } from '../../../hub/src/rollouts/schemas.js';
import { createToken } from '../../../hub/test/helpers/devices.js';
import { createRollout, waitForRollout } from '../../../hub/test/helpers/rollout-devices.js';
import type { TestHub } from '../../../hub/test/helpers/test-hub.js';
import { MODEL } from '../../../firmware-sim/test/sim-serving-helpers.js';
import { tempDir } from './agent-harness.js';

/** Rollouts of these tests wait this long at most (a few simulated devices finish in seconds). */
export const ROLLOUT_TIMEOUT_MS = 60_000;

/**
 * The gate's latency factor in these tests: Linux-class sims report the host's measured latency, which on a shared
 * test machine is noise, so only accuracy decides (MCU latencies are the resource model's estimate: equal for two
 * versions of one architecture, which the tests assert).
 */
export const ACCURACY_ONLY_GATE = { maxLatencyFactor: 1000 } as const;

/** An int8 .tflite rollout of version `version` of the serving hub's model (firmware-sim/test/sim-serving-helpers). */
export function int8Rollout(version: number, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { model: MODEL, version, format: 'tflite', gate: ACCURACY_ONLY_GATE, ...extra };
}

/**
 * Creates a rollout through the API and waits until `until` holds; fails at once when the rollout ended and settled
 * without it (the error shows where every target stood).
 */
export async function rollOut(testHub: TestHub, body: Record<string, unknown>, until: (r: RolloutDetailJson) => boolean, what: string): Promise<RolloutDetailJson> {
  const created = await createRollout(testHub.api, body);
  return waitForRollout(testHub.api, created.id, (r) => {
    if (until(r)) return true;
    if (settled(r)) throw new Error(`the rollout ended ${r.state}`);
    return false;
  }, what, ROLLOUT_TIMEOUT_MS);
}

const SETTLED_TARGETS = new Set<string>(['healthy', 'failed', 'rolled-back', 'skipped']);

/** The rollout ended and nothing of it is still moving on any device. */
export const settled = (r: RolloutDetailJson): boolean => r.state !== 'running' && r.state !== 'paused' && r.targets.every((t) => SETTLED_TARGETS.has(t.state));

export const completed = (r: RolloutDetailJson): boolean => r.state === 'completed';

/** Every enrolled device as `GET /v1/devices` shows it (its last Status), by id. */
export async function devicesById(testHub: TestHub): Promise<Map<string, DeviceJson>> {
  const listed = await testHub.api<DeviceJson[]>('GET', '/v1/devices');
  return new Map(listed.body.map((d) => [d.id, d]));
}

export function idsOf(...fleets: SimFleet[]): string[] {
  return fleets.flatMap((fleet) => fleet.devices.map((d) => d.agent.deviceId!));
}

export interface Enrolled {
  /** SimFleetOptions.credentialsFile: the fleet starts these devices instead of enrolling new ones. */
  credentialsFile: string;
  /** Device ids by fleet index. */
  ids: string[];
}

/**
 * Enrolls `count` devices of `profile` named as SimFleet names them (`${namePrefix}-000`, …) and saves their
 * credentials where a SimFleet with `credentialsFile` picks them up.
 */
export async function enrollAhead(testHub: TestHub, profile: SimProfile, namePrefix: string, count: number): Promise<Enrolled> {
  const { token } = await createToken(testHub, { maxUses: count });
  const saved: Record<string, DeviceCredentials> = {};
  const ids: string[] = [];
  for (let index = 0; index < count; index++) {
    const name = `${namePrefix}-${String(index).padStart(3, '0')}`;
    saved[name] = await enroll({ hubUrl: testHub.httpUrl, token, name, profile: wireProfile(profile), labels: { sim: 'true', profile: profile.kind } });
    ids.push(saved[name]!.deviceId);
  }
  const credentialsFile = join(tempDir('fedfleet-rollout-sim-'), 'credentials.json');
  await writeFile(credentialsFile, JSON.stringify(saved));
  return { credentialsFile, ids };
}
