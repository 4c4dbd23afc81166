/**
 * Browser-facing headers (hub/docs/dashboard.md#security): every answer is `nosniff`; every answer that is not an HTML
 * page carries a CSP that allows nothing, so JSON echoing a device's name or a 404 echoing a path cannot become a page
 * that runs; the dashboard's pages keep their own same-origin policy and refuse to be framed.
 */
import { describe, expect, it } from 'vitest';
import { DASHBOARD_CSP } from '../src/dashboard/dashboard-plugin.js';
import { NON_DOCUMENT_CSP } from '../src/http/security-headers.js';
import { enrollDevice } from './helpers/devices.js';
import { startTestHub, TEST_ADMIN_TOKEN } from './helpers/test-hub.js';

const PAYLOAD = '<img src=x onerror=alert(1)>';
const admin = { authorization: `Bearer ${TEST_ADMIN_TOKEN}` };

describe('security headers', () => {
  it('marks every non-page answer nosniff with a CSP that allows nothing: JSON, errors, 404s, text, refused tokens', async () => {
    const testHub = await startTestHub({ listen: false });
    await enrollDevice(testHub, { name: PAYLOAD });
    const { hub } = testHub;
    const answers = {
      devices: await hub.inject({ method: 'GET', url: '/v1/devices', headers: admin }),
      notFound: await hub.inject({ method: 'GET', url: `/${encodeURIComponent(PAYLOAD)}` }),
      unauthorized: await hub.inject({ method: 'GET', url: '/v1/devices' }),
      invalid: await hub.inject({ method: 'GET', url: `/v1/devices/${encodeURIComponent(PAYLOAD)}`, headers: admin }),
      metrics: await hub.inject({ method: 'GET', url: '/metrics' }),
      noDashboardFile: await hub.inject({ method: 'GET', url: '/dashboard/nope.html' }),
    };
    // The payload is in the answer (as JSON text): that is why it must never be read as HTML.
    expect(answers.devices.body).toContain(PAYLOAD);
    for (const [name, answer] of Object.entries(answers)) {
      expect([name, answer.headers['x-content-type-options'], answer.headers['content-security-policy']]).toEqual([name, 'nosniff', NON_DOCUMENT_CSP]);
      expect([name, String(answer.headers['content-type'])]).not.toEqual([name, expect.stringMatching(/html/)]);
    }
  });

  it('keeps the dashboard its own same-origin CSP, and no site may frame it', async () => {
    const { hub } = await startTestHub({ listen: false });
    for (const url of ['/', '/dashboard/app.js']) {
      const answer = await hub.inject({ method: 'GET', url });
      expect([url, answer.headers['content-security-policy'], answer.headers['x-content-type-options'], answer.headers['x-frame-options']])
        .toEqual([url, DASHBOARD_CSP, 'nosniff', 'DENY']);
    }
    expect(DASHBOARD_CSP).toMatch(/frame-ancestors 'none'/);
    expect(DASHBOARD_CSP).toMatch(/object-src 'none'/);
    expect(DASHBOARD_CSP).not.toMatch(/unsafe-inline|unsafe-eval|\*|https?:/);
  });
});
