import { createHmac } from 'node:crypto';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it, onTestFinished } from 'vitest';
import { waitFor } from '../helpers/devices.js';
import { startHealthHub } from './health-helpers.js';

const SECRET = 'webhook-secret-0123456789';

/** A local receiver answering each POST with the next status of `statuses` (then 200). */
async function receiver(statuses: number[] = []) {
  const received: Array<{ headers: IncomingHttpHeaders; body: string }> = [];
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      received.push({ headers: req.headers, body });
      res.statusCode = statuses.shift() ?? 200;
      res.end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/hook`, received };
}

describe('alert webhook', () => {
  it('posts { event, alert } for each alert event, signed with HMAC-SHA256 of the body', async () => {
    const sink = await receiver();
    const hub = await startHealthHub({ listen: false, config: { alertWebhookUrl: sink.url, alertWebhookSecret: SECRET } });
    hub.emit('rollout.state', { rolloutId: 'r1', state: 'aborted', currentWave: 1, errorCode: null, reason: null });
    const [alert] = await hub.alerts();
    await hub.api('POST', `/v1/alerts/${alert!.id}/ack`);
    await waitFor(() => sink.received.length === 3, 5000, 'three deliveries');

    const bodies = sink.received.map((r) => JSON.parse(r.body) as { event: string; alert: { id: string; state: string } });
    expect(bodies.map((b) => [b.event, b.alert.id, b.alert.state])).toEqual([
      ['alert.opened', alert!.id, 'open'], ['alert.acknowledged', alert!.id, 'open'], ['alert.resolved', alert!.id, 'resolved'],
    ]);
    for (const { headers, body } of sink.received) {
      expect(headers['content-type']).toBe('application/json');
      expect(headers['x-fedfleet-signature']).toBe(`sha256=${createHmac('sha256', SECRET).update(body).digest('hex')}`);
    }
  });

  it('tries a refused delivery again after a backoff on the hub clock, at most 3 times, and counts the outcomes', async () => {
    const sink = await receiver([500, 503, 500, 500]);
    const hub = await startHealthHub({ listen: false, config: { alertWebhookUrl: sink.url } });
    const deliveries = (outcome: string) => hub.hub.metrics.registry.counter('fedfleet_alert_webhook_deliveries_total', '').get({ outcome });
    hub.emit('rollout.state', { rolloutId: 'r1', state: 'aborted', currentWave: 1, errorCode: null, reason: null });
    await waitFor(() => sink.received.length === 1 && deliveries('retried') === 1, 5000, 'first attempt');
    hub.advance(1);
    await waitFor(() => sink.received.length === 2 && deliveries('retried') === 2, 5000, 'second attempt');
    hub.advance(2);
    await waitFor(() => deliveries('failed') === 1, 5000, 'third attempt');
    expect(sink.received).toHaveLength(3);
    expect(sink.received[0]!.headers['x-fedfleet-signature']).toBeUndefined();

    // The next alert is delivered: the receiver answers 500 once more, then 200.
    hub.emit('rollout.state', { rolloutId: 'r2', state: 'aborted', currentWave: 1, errorCode: null, reason: null });
    await waitFor(() => deliveries('retried') === 3, 5000, 'a retry');
    hub.advance(1);
    await waitFor(() => deliveries('delivered') === 1, 5000, 'a delivery');
    expect(JSON.parse(sink.received.at(-1)!.body)).toMatchObject({ event: 'alert.opened', alert: { subject: 'rollout:r2' } });
  });
});
