/**
 * The dashboard against hostile data, in headless Chromium (hub/docs/dashboard.md#security): every string a device
 * (enrolled, but lying) or an operator controls is a markup, script, URL, bidi or length payload — device names,
 * hardware profiles, agent version and serving version over MQTT, a rollout's failure code and reason from the
 * device's own DeployReport, the round refusal it sends, an alert built from those, a model's description, an abort
 * reason. Every page is opened twice: with the page's CSP switched off, so the rendering itself must keep payloads
 * text, and with it on, where the page must run without a single violation. Nothing may run a script, open a
 * dialog, request another origin, add an element from data, or push another device out of sight.
 */
import mqtt, { type MqttClient } from 'mqtt';
import type { Browser, Page } from 'playwright-core';
import { describe, expect, it, onTestFinished } from 'vitest';
import {
  DeployPhase, DeviceState, MAX_DEVICE_STRING_CHARS, ResultCode, decodeEnvelope, deviceTopic, encodeEnvelope, type EnvelopeProps,
} from '@fedfleet/proto';
import type { EnrollResponse } from '../../hub/src/fleet/schemas.js';
import { createToken, waitFor } from '../../hub/test/helpers/devices.js';
import { startTestHub, TEST_ADMIN_TOKEN, type TestHub } from '../../hub/test/helpers/test-hub.js';
import { launchBrowser } from './browser.js';


/** Each sets `window.__pwned` (or asks for a dialog, or loads from elsewhere) if it is ever parsed as markup or run. */
const XSS = {
  img: '<img src=http://evil.invalid/i.png onerror=window.__pwned=1>',
  svg: '"><svg onload=window.__pwned=2>',
  script: '</script><script>window.__pwned=3</script>',
  js: 'javascript:window.__pwned=4//',
  style: '<style>*{display:none!important}</style><link rel=stylesheet href=//evil.invalid/x.css>',
  iframe: "<iframe src=javascript:alert('pwned')></iframe>",
  attr: "' onmouseover='window.__pwned=5' x='",
  // Right-to-left override: text after it in the same line would be shown mirrored.
  rtl: '\u202Eevil-gnp.exe',
  long: `W${'w'.repeat(127)}`,
};

/** Device names (≤ 128 characters, as enrollment allows), profile kinds (≤ 64) and archs (≤ 32). */
const DEVICES = [
  { name: XSS.img, kind: XSS.svg.slice(0, 64), arch: '<b>arch</b>' },
  { name: XSS.script, kind: XSS.iframe.slice(0, 64), arch: XSS.attr.slice(0, 32) },
  { name: XSS.rtl, kind: XSS.rtl, arch: XSS.rtl },
  { name: XSS.long, kind: 'k'.repeat(64), arch: 'a'.repeat(32) },
  { name: `${XSS.svg}${XSS.style}`.slice(0, 128), kind: XSS.js, arch: 'x' },
];
const PLAIN = 'plain-device';

/** Strings the devices send over MQTT (Status, Telemetry). */
/** As long as a device may send (MAX_DEVICE_STRING_CHARS): longer text is refused at the hub. */
const agentVersionOf = (i: number) => `${Object.values(XSS)[i % 9]}${'v'.repeat(MAX_DEVICE_STRING_CHARS)}`.slice(0, MAX_DEVICE_STRING_CHARS);
const servingOf = (i: number) => `${XSS.svg}${XSS.img}-${i}`;
const FAIL_CODE = `AGENT_ERR_${XSS.img}`;
const FAIL_REASON = `${XSS.script} ${XSS.rtl} ${'r'.repeat(400)}`;
const REFUSE_REASON = `${XSS.iframe}${XSS.style}`;
const DESCRIPTION = `${XSS.style}${XSS.img}${XSS.rtl}`;
const ABORT_REASON = `${XSS.svg}${XSS.js}`;

const PROFILE = { ramBytes: 512 * 1024 ** 2, flashBytes: 8 * 1024 ** 3, cpuMhz: 1500, int8Only: false, canTrain: true, cores: 4 };

/** A device that lies: whatever it sends is a payload, and it fails every deploy and refuses every round. */
async function hostileDevice(hub: TestHub, enrollToken: string, index: number, spec: { name: string; kind: string; arch: string }, labels: Record<string, string>) {
  const enrolled = await hub.api<EnrollResponse>('POST', '/v1/enroll', {
    token: enrollToken, name: spec.name, labels, profile: { ...PROFILE, kind: spec.kind, arch: spec.arch },
  }, null);
  expect(enrolled.status, JSON.stringify(enrolled.body)).toBe(201);
  const { deviceId, username, password, clientId } = enrolled.body;
  const client: MqttClient = await mqtt.connectAsync(hub.mqttUrl, {
    clientId, username, password, reconnectPeriod: 0, connectTimeout: 5000, clean: true,
  });
  onTestFinished(() => client.endAsync(true));
  const publish = (kind: 'status' | 'telemetry' | 'reply', body: Omit<EnvelopeProps, 'deviceId'>, retain = false) =>
    client.publishAsync(deviceTopic(deviceId, kind), Buffer.from(encodeEnvelope({ ...body, deviceId })), { qos: 1, retain });
  await client.subscribeAsync(deviceTopic(deviceId, 'cmd'), { qos: 1 });
  client.on('message', (topic, payload) => {
    const { command } = decodeEnvelope(payload, { topicKind: 'cmd' });
    const commandId = command?.commandId;
    if (!commandId) return;
    if (command.deploy) {
      void publish('reply', {
        deployReport: {
          commandId, rolloutId: command.deploy.rolloutId, modelId: command.deploy.model?.modelId, versionId: command.deploy.model?.versionId,
          phase: DeployPhase.DEPLOY_PHASE_FAILED, errorCode: FAIL_CODE, reason: FAIL_REASON,
        },
      });
    } else if (command.train) {
      void publish('reply', { commandResult: { commandId, code: ResultCode.RESULT_CODE_REFUSED, errorCode: FAIL_CODE, reason: REFUSE_REASON, roundId: command.train.roundId } });
    }
  });
  await publish('status', {
    status: {
      state: DeviceState.DEVICE_STATE_ONLINE, agentVersion: agentVersionOf(index), activeModelId: servingOf(index), activeVersionId: servingOf(index),
      profile: { ...PROFILE, kind: spec.kind, arch: spec.arch }, heartbeatSec: 3600,
    },
  }, true);
  await publish('telemetry', { telemetry: { cpuPercent: 12, memTotalBytes: 1e9, memFreeBytes: 5e8, activeVersionId: servingOf(index), heartbeatSec: 3600 } });
  return { deviceId, name: spec.name, client };
}

/** Everything a page did that it must not: open dialogs, load from elsewhere, fail. */
interface Breaches {
  dialogs: string[];
  foreignRequests: string[];
  pageErrors: string[];
}

async function openDashboard(browser: Browser, origin: string, options: { bypassCSP: boolean; width: number; height: number }) {
  const context = await browser.newContext({ bypassCSP: options.bypassCSP, viewport: { width: options.width, height: options.height } });
  onTestFinished(() => context.close());
  await context.addInitScript(`localStorage.setItem('fedfleet.adminToken', ${JSON.stringify(TEST_ADMIN_TOKEN)});
    window.__violations = [];
    document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));`);
  const page = await context.newPage();
  const breaches: Breaches = { dialogs: [], foreignRequests: [], pageErrors: [] };
  page.on('dialog', (dialog) => {
    breaches.dialogs.push(dialog.message());
    void dialog.dismiss();
  });
  page.on('request', (request) => {
    if (new URL(request.url()).origin !== origin) breaches.foreignRequests.push(request.url());
  });
  page.on('pageerror', (error) => breaches.pageErrors.push(error.message));
  return { page, breaches };
}

/** Elements no page builds itself, so one in `main` came from data; and any inline handler or script URL. */
const INJECTED = 'main :is(img, svg, script, iframe, object, embed, style, link, base, meta, frame), main [onerror], main [onload], main [onmouseover], main [href^="javascript:" i], main [src]';

/** Opens `url` and waits for its page (not the one before: the old view is cleared first), then checks it. */
async function visit(page: Page, url: string, ready: (page: Page) => Promise<unknown>): Promise<void> {
  await page.evaluate(`document.getElementById('main')?.replaceChildren()`);
  await page.goto(url);
  await ready(page);
  expect(await page.evaluate('window.__pwned'), `script ran on ${url}`).toBeUndefined();
  expect(await page.locator(INJECTED).count(), `element from data on ${url}`).toBe(0);
  // Always empty with the CSP off; with it on, the page itself needs nothing the policy refuses.
  expect(await page.evaluate('window.__violations'), `CSP violations on ${url}`).toEqual([]);
}

describe('dashboard against hostile device and operator data (headless Chromium, real hub, real MQTT)', () => {
  it('shows every payload as text, runs nothing, loads nothing from elsewhere and keeps every device in view', async () => {
    const browser = await launchBrowser();
    const hub = await startTestHub();
    const origin = new URL(hub.httpUrl).origin;

    const model = await hub.api<{ model: { id: string; name: string }; version: { id: string } }>('POST', '/v1/models', {
      name: 'hostile-model', architecture: 'mnist-2nn', seed: 1, description: DESCRIPTION,
    });
    expect(model.status, JSON.stringify(model.body)).toBe(201);
    const { token } = await createToken(hub, { maxUses: DEVICES.length + 1 });
    const devices = [];
    for (const [i, spec] of DEVICES.entries()) devices.push(await hostileDevice(hub, token, i, spec, { ring: 'hostile' }));
    const plain = await hostileDevice(hub, token, 0, { name: PLAIN, kind: 'rpi4', arch: 'arm64' }, { ring: 'plain' });
    await waitFor(async () => (await hub.api<unknown[]>('GET', '/v1/devices?status=online&limit=100')).body.length === DEVICES.length + 1, 5000, 'devices online');

    // A rollout the hostile devices fail with their own code and reason (→ rollout-failed alerts, degraded health).
    const failing = await hub.api<{ id: string }>('POST', '/v1/rollouts', { model: 'hostile-model', version: 1, selector: 'ring=hostile', waves: [{ percent: 100, errorThreshold: 1 }] });
    expect(failing.status, JSON.stringify(failing.body)).toBe(201);
    await waitFor(async () => {
      const r = await hub.api<{ targets: { state: string }[] }>('GET', `/v1/rollouts/${failing.body.id}`);
      return r.body.targets.length === DEVICES.length && r.body.targets.every((t) => t.state === 'failed');
    }, 10_000, 'every hostile target failed');
    // One the operator aborts with a hostile reason.
    const aborted = await hub.api<{ id: string }>('POST', '/v1/rollouts', { model: 'hostile-model', version: 1, selector: 'ring=plain' });
    expect(aborted.status).toBe(201);
    expect((await hub.api('POST', `/v1/rollouts/${aborted.body.id}/abort`, { reason: ABORT_REASON })).status).toBe(200);
    // A campaign the hostile devices refuse.
    const campaign = await hub.api<{ id: string }>('POST', '/v1/rounds', { model: 'hostile-model', selector: 'ring=hostile', rounds: 1, clients: 2, deadlineSec: 5 });
    expect(campaign.status, JSON.stringify(campaign.body)).toBe(201);
    await waitFor(async () => (await hub.api<{ alerts: unknown[] }>('GET', '/v1/alerts?state=open')).body.alerts.length >= DEVICES.length, 5000, 'alerts');

    const pages: [string, (page: Page) => Promise<unknown>][] = [
      ['#/', (p) => p.locator('[data-count="Devices"] dd').filter({ hasText: String(DEVICES.length + 1) }).waitFor()],
      ['#/devices', (p) => p.locator('tr[data-device]').nth(DEVICES.length).waitFor()],
      ...[...devices, plain].map(({ deviceId }): [string, (page: Page) => Promise<unknown>] => [`#/devices/${deviceId}`, (p) => p.locator('.facts').waitFor()]),
      ['#/rounds', (p) => p.locator('table.data').waitFor()],
      [`#/rounds/${campaign.body.id}`, (p) => p.locator('figure[data-chart="round-accuracy"]').waitFor()],
      ['#/models', (p) => p.locator('table.data').waitFor()],
      [`#/models/${model.body.model.id}`, (p) => p.locator('.lineage').waitFor()],
      ['#/rollouts', (p) => p.locator('[data-rollout]').nth(1).waitFor()],
      [`#/rollouts/${failing.body.id}`, (p) => p.locator('tr[data-device]').nth(DEVICES.length - 1).waitFor()],
      [`#/rollouts/${aborted.body.id}`, (p) => p.locator('.facts').waitFor()],
      ['#/alerts?state=open', (p) => p.locator('tr[data-alert]').nth(DEVICES.length - 1).waitFor()],
      ['#/alerts?state=', (p) => p.locator('tr[data-alert]').first().waitFor()],
      // Hostile links: ids and routes themselves are payloads.
      [`#/devices/${encodeURIComponent(XSS.img)}`, (p) => p.locator('main [role="alert"]').waitFor()],
      [`#/rollouts/${encodeURIComponent(XSS.svg)}`, (p) => p.locator('main [role="alert"]').waitFor()],
      [`#/${encodeURIComponent(XSS.script)}`, (p) => p.locator('main [role="alert"]').waitFor()],
      // A malformed escape: no page, not an unhandled error with the previous view left standing.
      ['#/devices/%E0%A4%A', (p) => p.getByText('No page #/devices/%E0%A4%A').waitFor()],
    ];

    for (const bypassCSP of [true, false]) {
      const { page, breaches } = await openDashboard(browser, origin, { bypassCSP, width: 1280, height: 900 });
      for (const [hash, ready] of pages) await visit(page, `${hub.httpUrl}/${hash}`, ready);
      expect({ bypassCSP, ...breaches }).toEqual({ bypassCSP, dialogs: [], foreignRequests: [], pageErrors: [] });
    }

    // Shown as text, exactly, where shown.
    const { page } = await openDashboard(browser, origin, { bypassCSP: true, width: 1280, height: 900 });
    await visit(page, `${hub.httpUrl}/#/devices`, (p) => p.locator('tr[data-device]').nth(DEVICES.length).waitFor());
    for (const { deviceId, name } of [...devices, plain]) {
      expect(await page.locator(`tr[data-device="${deviceId}"] td[data-label="Name"]`).textContent()).toBe(name);
    }
    const [first] = devices;
    await visit(page, `${hub.httpUrl}/#/devices/${first!.deviceId}`, (p) => p.locator('.facts').waitFor());
    expect(await page.locator('main h2').first().textContent()).toContain(XSS.img);
    expect(await page.locator('.facts div').filter({ hasText: /^Agent/ }).locator('dd').textContent()).toBe(agentVersionOf(0));
    expect(await page.locator('.facts div').filter({ hasText: /^Serving/ }).locator('dd').textContent()).toBe(servingOf(0));
    expect(await page.locator('.reasons li').first().textContent()).toContain(FAIL_REASON);
    await visit(page, `${hub.httpUrl}/#/rollouts/${failing.body.id}`, (p) => p.locator('tr[data-device]').nth(DEVICES.length - 1).waitFor());
    expect(await page.locator(`tr[data-device="${first!.deviceId}"] td[data-label="Reason"]`).textContent()).toBe(`${FAIL_CODE} ${FAIL_REASON}`);
    await visit(page, `${hub.httpUrl}/#/rollouts/${aborted.body.id}`, (p) => p.locator('.facts').waitFor());
    expect(await page.locator('main section p .error').textContent()).toContain(ABORT_REASON);
    await visit(page, `${hub.httpUrl}/#/models/${model.body.model.id}`, (p) => p.locator('.lineage').waitFor());
    expect(await page.locator('main > div > p').first().textContent()).toBe(DESCRIPTION);
    await visit(page, `${hub.httpUrl}/#/alerts?state=open`, (p) => p.locator('tr[data-alert]').nth(DEVICES.length - 1).waitFor());
    expect(await page.locator(`tr[data-alert] td[data-label="Message"]`).allTextContents()).toEqual(
      expect.arrayContaining([expect.stringContaining(`${FAIL_CODE} (${FAIL_REASON})`)]),
    );

    // Layout: at desktop and phone width nothing is wider than the screen, and every device is in view.
    const overflowing: string[] = [];
    const outOfView: string[] = [];
    const squeezed: string[] = [];
    for (const [width, height] of [[1280, 900], [390, 844]] as const) {
      const { page: sized } = await openDashboard(browser, origin, { bypassCSP: false, width, height });
      for (const [hash, ready] of pages) {
        await visit(sized, `${hub.httpUrl}/${hash}`, ready);
        const scrollWidth = await sized.evaluate<number>('document.documentElement.scrollWidth');
        if (scrollWidth > width) overflowing.push(`${hash} at ${width} px: ${scrollWidth} px wide`);
      }
      await visit(sized, `${hub.httpUrl}/#/devices`, pages[1]![1]);
      for (const { deviceId, name } of [...devices, plain]) {
        const box = await sized.locator(`tr[data-device="${deviceId}"] td[data-label="Name"] a`).boundingBox();
        if (!box || box.x < 0 || box.x + box.width > width || box.height === 0) outOfView.push(`${name.slice(0, 20)} at ${width} px`);
        // Nor is any other column squeezed until its short words break: labels and CPU stay on one line.
        for (const column of ['Labels', 'CPU %']) {
          const lines = await sized.locator(`tr[data-device="${deviceId}"] td[data-label="${column}"]`).evaluate((td) => {
            const range = td.ownerDocument.createRange();
            range.selectNodeContents(td);
            return new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size;
          });
          if (width > 640 && lines !== 1) squeezed.push(`${column} of ${name.slice(0, 20)}: ${lines} lines`);
        }
      }
    }
    expect({ overflowing, outOfView, squeezed }).toEqual({ overflowing: [], outOfView: [], squeezed: [] });

    // A bidi override in a name stays inside the name: the status badge after it is still to its right.
    const rtl = devices[2]!;
    await visit(page, `${hub.httpUrl}/#/devices/${rtl.deviceId}`, (p) => p.locator('.facts').waitFor());
    const [nameRight, badgeLeft] = await page.locator('main h2').first().evaluate((h2) => {
      const range = h2.ownerDocument.createRange();
      range.selectNodeContents(h2.firstChild!);
      return [range.getBoundingClientRect().right, h2.querySelector('.badge')!.getBoundingClientRect().left];
    });
    expect(badgeLeft).toBeGreaterThanOrEqual(nameRight);
  }, 120_000);

  it('builds elements only one way: links and sources same-origin, handlers functions, bidi text isolated', async () => {
    const browser = await launchBrowser();
    const hub = await startTestHub();
    const { page, breaches } = await openDashboard(browser, new URL(hub.httpUrl).origin, { bypassCSP: false, width: 1280, height: 900 });
    await page.goto(`${hub.httpUrl}/#/`);
    // A string, not a function: the test runner would rewrite a function's import() for Node.
    const built = await page.evaluate(`(async () => {
      const { h } = await import('/dashboard/dom.js');
      const attempts = [
        ['a', { href: 'javascript:window.__pwned=1' }], ['a', { href: ' javascript:x' }], ['a', { href: '//evil.invalid/' }],
        ['a', { href: '/\\\\evil.invalid/' }], ['a', { href: '/\\t/evil.invalid/' }], ['a', { href: 'https://evil.invalid/' }],
        ['img', { src: 'http://evil.invalid/x.png' }], ['form', { action: 'https://evil.invalid/' }], ['div', { onclick: 'window.__pwned=1' }],
      ];
      const kept = [h('a', { href: '#/devices/x' }), h('a', { href: '/dashboard/app.js' })].map((e) => e.getAttribute('href'));
      const isolated = h('h2', {}, '\\u202Eevil', ' ', 'next').firstElementChild?.tagName;
      const refusedCount = attempts.filter(([tag, attributes]) => {
        try {
          h(tag, attributes);
          return false;
        } catch {
          return true;
        }
      }).length;
      return { kept, isolated, refused: refusedCount, of: attempts.length };
    })()`);
    expect(built).toEqual({ kept: ['#/devices/x', '/dashboard/app.js'], isolated: 'BDI', refused: 9, of: 9 });
    expect(breaches.foreignRequests).toEqual([]);
  });
});
