/**
 * Swagger UI at /docs shares the dashboard's origin (and the admin token in its localStorage): it runs, in headless
 * Chromium, under a policy that allows only its own script files, without a violation and without fetching anything
 * from another origin (the swagger.io validator badge).
 */
import { describe, expect, it } from 'vitest';
import { DOCS_CSP } from '../../hub/src/http/openapi-plugin.js';
import { startTestHub } from '../../hub/test/helpers/test-hub.js';
import { launchBrowser } from './browser.js';

describe('Swagger UI at /docs (headless Chromium)', () => {
  it('renders the API under its CSP, with no violation and no foreign request', async () => {
    const hub = await startTestHub();
    const origin = new URL(hub.httpUrl).origin;
    const browser = await launchBrowser();
    const page = await browser.newPage();
    await page.addInitScript(`window.__violations = [];
      document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));`);
    const foreign: string[] = [];
    page.on('request', (request) => void (new URL(request.url()).origin !== origin && foreign.push(request.url())));
    const errors: string[] = [];
    page.on('pageerror', (error) => errors.push(error.message));

    const response = await page.goto(`${hub.httpUrl}/docs`);
    expect(response!.status()).toBe(200);
    await page.locator('.opblock').first().waitFor();
    expect(await page.locator('.opblock').count()).toBeGreaterThan(20);
    expect((await page.request.get(`${hub.httpUrl}/docs/static/index.html`)).headers()['content-security-policy']).toBe(DOCS_CSP);
    expect({ violations: await page.evaluate('window.__violations'), foreign, errors }).toEqual({ violations: [], foreign: [], errors: [] });
  });
});
