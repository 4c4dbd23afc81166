/**
 * Serving on a real agent (issue 10 item 3): what the local endpoint answered reaches the hub in the device's
 * telemetry — inference count, latency percentiles, labelled accuracy.
 */
import { describe, expect, it } from 'vitest';
import { InferenceService, startServingServer } from '@fedfleet/agent';
import type { DeviceJson } from '../../hub/src/fleet/schemas.js';
import { startTestHub } from '../../hub/test/helpers/test-hub.js';
import { fakeModel, fakeSource } from '../../agent/test/serving/fake-model.js';
import { startAgent, waitFor } from './helpers/agent-harness.js';

describe('agent serving telemetry', () => {
  it('puts the endpoint counts into every telemetry the hub shows', async () => {
    const testHub = await startTestHub();
    let now = 0;
    const latenciesMs = [2, 4, 6];
    let reads = 0;
    // Each inference reads the clock twice: the i-th one takes latenciesMs[i].
    const clock = () => (reads++ % 2 === 0 ? now : (now += latenciesMs[(reads - 2) / 2]!));
    const service = new InferenceService(fakeSource(fakeModel('v1')), { clock });
    const server = await startServingServer(service, { port: 0 });
    try {
      const { agent } = await startAgent(testHub, { inference: service });
      const url = `http://127.0.0.1:${server.port}`;
      const ids: string[] = [];
      for (const input of [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]]) {
        const res = await fetch(`${url}/predict`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ input }) });
        ids.push(((await res.json()) as { requestId: string }).requestId);
      }
      for (const [i, label] of [[0, 0], [1, 2]] as const) {
        await fetch(`${url}/feedback`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ requestId: ids[i], label }) });
      }
      const telemetry = await waitFor(async () => {
        const device = (await testHub.api<DeviceJson>('GET', `/v1/devices/${agent.deviceId}`)).body;
        // A heartbeat may fall between the predictions and the feedback, or between the two labels: wait for one that
        // carries all three inferences and both labels.
        return device.telemetry?.inferenceCount === 3 && device.telemetry.localAccuracyExamples === 2 ? device.telemetry : undefined;
      });
      expect(telemetry).toMatchObject({ inferenceCount: 3, inferenceP50Ms: 4, inferenceP95Ms: 6, localAccuracy: 0.5, localAccuracyExamples: 2 });
      expect(agent.shadowStats()).toEqual({ inferences: 0, agreements: 0, labelled: 0, championCorrect: 0, challengerCorrect: 0 });
    } finally {
      await server.close();
    }
  });
});
