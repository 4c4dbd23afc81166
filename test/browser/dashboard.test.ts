/**
 * The web dashboard in headless Chromium (issue 11 item 6, acceptance) against a real hub with a simulated fleet:
 * the overview's counts, a device's telemetry chart with data, a device going offline changing the open page
 * without a reload, a round's accuracy chart, model lineage, a rollout's waves, and an input-drift alert arriving
 * live (through the real path: a device's MQTT Telemetry with input histograms → quality → alert rule). Screenshots of each page go to test/artifacts/.
 * Chromium is the Debian package (`.ci/run` installs it); without it this test fails, it does not skip.
 */
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { describe, expect, it, onTestFinished } from 'vitest';
import { SimFleet, simProfile } from '@fedfleet/firmware-sim';
import type { CampaignDetailJson } from '../../hub/src/rounds/schemas.js';
import { connectDevice, createToken, enrollDevice, publishStatus, publishTelemetry } from '../../hub/test/helpers/devices.js';
import { TEST_ADMIN_TOKEN } from '../../hub/test/helpers/test-hub.js';
import { FAST_TRAINING, startFlHub } from '../fl/fl-harness.js';
import { launchBrowser } from './browser.js';

const ARTIFACTS = join(dirname(fileURLToPath(import.meta.url)), '..', 'artifacts');
const DEVICES = 3;
/** How long the page may take to show a change the hub announced (debounced re-fetch, well under this). */
const LIVE_MS = 5_000;

async function shot(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true });
}

/** The text of the overview tile named `name`. */
const tile = (page: Page, name: string) => page.locator(`[data-count="${name}"] dd`);

/** A histogram of `examples` inputs all in bin `bin` of 10 on [0, 1). */
function histogram(bin: number, examples: number) {
  return { lo: 0, hi: 1, counts: Array.from({ length: 10 }, (_, i) => (i === bin ? examples : 0)), examples };
}

describe('web dashboard (headless Chromium, real hub, simulated fleet)', () => {
  it('shows counts, charts with data, live offline, round accuracy, rollout waves and a drift alert; screenshots each page', async () => {
    const browser = await launchBrowser();
    mkdirSync(ARTIFACTS, { recursive: true });
    const hub = await startFlHub();
    const { token } = await createToken(hub, { maxUses: DEVICES });
    const fleet = new SimFleet({
      hubUrl: hub.httpUrl, enrollmentToken: token, devices: DEVICES, profile: simProfile('rpi4'), data: 'mnist:iid', heartbeatSec: 1, labels: { site: 'lab' },
    });
    onTestFinished(() => fleet.stop());
    await fleet.start();

    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
    page.on('console', (message) => void (message.type() === 'error' && pageErrors.push(message.text())));

    // The admin token, entered once.
    await page.goto(`${hub.httpUrl}/`);
    await page.getByLabel(/Admin token \(/).fill(TEST_ADMIN_TOKEN);
    await page.getByRole('button', { name: 'Open the dashboard' }).click();

    // 1. Overview: the fleet's counts, as the API has them.
    await expect.poll(() => tile(page, 'Devices').textContent()).toBe(String(DEVICES));
    expect(await tile(page, 'Online').textContent()).toBe(String(DEVICES));
    expect(await tile(page, 'Offline').textContent()).toBe('0');
    expect(await tile(page, 'Healthy').textContent()).toBe(String(DEVICES));
    expect(await tile(page, 'Open alerts').textContent()).toBe('0');
    await expect.poll(() => page.locator('#live-state').textContent()).toBe('live');
    await shot(page, 'overview');

    // 2. Device list; one device goes offline and its row says so, without a reload of the page.
    const ids = fleet.devices.map((d) => d.agent.deviceId!);
    await page.goto(`${hub.httpUrl}/#/devices?selector=site%3Dlab`);
    const row = (id: string) => page.locator(`tr[data-device="${id}"]`);
    await expect.poll(() => row(ids[0]!).getAttribute('data-status')).toBe('online');
    await page.evaluate('window.notReloaded = true');
    await fleet.devices[0]!.agent.stop('leaving');
    await expect.poll(() => row(ids[0]!).getAttribute('data-status'), { timeout: LIVE_MS }).toBe('offline');
    expect(await row(ids[0]!).locator('td[data-label="Status"]').textContent()).toBe('offline');
    expect(await page.evaluate('window.notReloaded')).toBe(true);
    await shot(page, 'devices');
    await page.goto(`${hub.httpUrl}/#/`);
    await expect.poll(() => tile(page, 'Offline').textContent()).toBe('1');
    expect([await tile(page, 'Online').textContent(), await tile(page, 'Devices').textContent()]).toEqual([String(DEVICES - 1), String(DEVICES)]);

    // 3. A device's telemetry chart renders with data (uPlot on a canvas, a point per heartbeat).
    await page.goto(`${hub.httpUrl}/#/devices/${ids[1]}`);
    const cpu = page.locator('figure[data-chart="cpuPercent"]');
    await expect.poll(async () => Number(await cpu.getAttribute('data-points')), { timeout: LIVE_MS }).toBeGreaterThanOrEqual(2);
    await expect.poll(() => cpu.getAttribute('data-rendered')).toBe('true');
    expect(await cpu.locator('canvas').count()).toBe(1);
    expect(await cpu.evaluate((figure) => (figure as unknown as { uplot: { data: number[][] } }).uplot.data[1]!.filter((v) => v !== null).length)).toBeGreaterThanOrEqual(2);
    await shot(page, 'device');
    // Usable at phone width: nothing wider than the screen.
    await page.setViewportSize({ width: 390, height: 844 });
    await expect.poll(() => page.evaluate<number>('document.documentElement.scrollWidth')).toBeLessThanOrEqual(390);
    await shot(page, 'device-phone');
    await page.setViewportSize({ width: 1280, height: 900 });

    // 4. A short campaign: the accuracy-per-round chart fills in live as rounds commit.
    const started = await hub.api<CampaignDetailJson>('POST', '/v1/rounds', {
      model: 'digits', selector: 'site=lab', rounds: 2, clients: 2, deadlineSec: 30, seed: 4, ...FAST_TRAINING,
    });
    expect(started.status).toBe(201);
    await page.goto(`${hub.httpUrl}/#/rounds/${started.body.id}`);
    const accuracy = page.locator('figure[data-chart="round-accuracy"]');
    await expect.poll(() => accuracy.getAttribute('data-points'), { timeout: 40_000 }).toBe('2');
    await expect.poll(() => accuracy.getAttribute('data-rendered')).toBe('true');
    await expect.poll(() => page.locator('tr[data-round]').count()).toBe(2);
    await shot(page, 'rounds');
    await page.goto(`${hub.httpUrl}/#/models/${hub.modelId}`);
    await expect.poll(() => page.locator('.lineage [data-version]').count()).toBe(3);
    expect(await page.locator('.lineage [data-version="3"]').textContent()).toMatch(/round 2 of campaign .*, from v2/);
    await shot(page, 'models');

    // 5. A rollout of the campaign's version to the two online devices, one per wave: both waves fill in live.
    for (const id of ids.slice(1)) expect((await hub.api('PATCH', `/v1/devices/${id}`, { labels: { set: { ring: 'canary' } } })).status).toBe(200);
    await page.goto(`${hub.httpUrl}/#/rollouts`);
    await page.getByText('No rollout yet.').waitFor();
    const rollout = await hub.api<{ id: string }>('POST', '/v1/rollouts', {
      model: 'digits', version: 3, selector: 'ring=canary', waves: [{ devices: 1 }, { devices: 2 }], gate: { maxLatencyFactor: 1000 },
    });
    expect(rollout.status).toBe(201);
    const card = page.locator(`[data-rollout="${rollout.body.id}"]`);
    await card.locator('h3 .badge-completed').waitFor({ timeout: 30_000 });
    expect(await card.getByRole('progressbar').evaluateAll((bars) => bars.map((bar) => bar.getAttribute('aria-label')))).toEqual([
      'wave 1: 1 of 1 devices settled', 'wave 2: 1 of 1 devices settled',
    ]);
    await shot(page, 'rollouts');
    // Its page: every device target, healthy, with its self-test; a completed rollout offers no action.
    await card.getByRole('link').click();
    const targets = page.locator('tr[data-device]');
    await expect.poll(() => targets.count()).toBe(2);
    expect(await targets.locator('td[data-label="State"]').allTextContents()).toEqual(['healthy', 'healthy']);
    expect(await targets.locator('td[data-label="Self-test"]').first().textContent()).toMatch(/^\d+\.\d %.*p95 \d/);
    expect(await page.locator('[data-action]').count()).toBe(0);
    await shot(page, 'rollout');
    // A rollout to the offline device waits for it: pause, resume and abort from its page, each shown live.
    expect((await hub.api('PATCH', `/v1/devices/${ids[0]}`, { labels: { set: { ring: 'offline' } } })).status).toBe(200);
    const waiting = await hub.api<{ id: string }>('POST', '/v1/rollouts', { model: 'digits', version: 3, selector: 'ring=offline', waves: [{ percent: 100 }] });
    expect(waiting.status).toBe(201);
    await page.goto(`${hub.httpUrl}/#/rollouts/${waiting.body.id}`);
    const stateBadge = page.locator(`[data-rollout="${waiting.body.id}"] section p .badge`).first();
    await expect.poll(() => stateBadge.textContent()).toBe('running');
    await page.locator('[data-action="pause"]').click();
    await expect.poll(() => stateBadge.textContent(), { timeout: LIVE_MS }).toBe('paused');
    await page.locator('[data-action="resume"]').click();
    await expect.poll(() => stateBadge.textContent(), { timeout: LIVE_MS }).toBe('running');
    page.once('dialog', (dialog) => void dialog.accept());
    await page.locator('[data-action="abort"]').click();
    await expect.poll(() => stateBadge.textContent(), { timeout: LIVE_MS }).toBe('aborted');
    expect(await page.locator('[data-action]').count()).toBe(0);
    expect((await hub.api<{ state: string }>('GET', `/v1/rollouts/${waiting.body.id}`)).body.state).toBe('aborted');
    // The serving device's accuracy and latency charts now have data too.
    await page.goto(`${hub.httpUrl}/#/devices/${ids[1]}`);
    for (const chart of ['localAccuracy', 'latency']) {
      await expect.poll(async () => Number(await page.locator(`figure[data-chart="${chart}"]`).getAttribute('data-points')), { timeout: LIVE_MS }).toBeGreaterThan(0);
    }
    await shot(page, 'device-serving');

    // 6. A drift alert appears on the open alerts page: a device whose recent inputs left its training range.
    await page.goto(`${hub.httpUrl}/#/alerts`);
    await page.getByText('No open alerts.').waitFor();
    const drifting = await enrollDevice(hub, { name: 'drifting' });
    const client = await connectDevice(hub, drifting);
    await publishStatus(client, drifting.deviceId);
    await publishTelemetry(client, drifting.deviceId, { cpuPercent: 10, inputStats: histogram(9, 500), inputBaseline: histogram(0, 500) });
    const alertRow = page.locator('tr[data-rule="input-drift"]');
    await alertRow.waitFor({ timeout: LIVE_MS });
    expect(await alertRow.locator('td[data-label="Subject"]').textContent()).toBe(`device:${drifting.deviceId}`);
    await alertRow.getByRole('button', { name: /Acknowledge input-drift alert/ }).click();
    await expect.poll(() => alertRow.locator('td[data-label="Acknowledge"]').textContent(), { timeout: LIVE_MS }).toBe('acknowledged by admin');
    await shot(page, 'alerts');
    expect(pageErrors).toEqual([]);

    // 7. A token the hub refuses (rotated, mistyped) is forgotten and asked for again.
    await page.evaluate(`localStorage.setItem('fedfleet.adminToken', 'not-the-token')`);
    await page.reload();
    await page.getByText('the hub refused the admin token; enter it again').waitFor({ timeout: LIVE_MS });
    expect(await page.evaluate(`localStorage.getItem('fedfleet.adminToken')`)).toBeNull();
  }, 90_000);
});
