/**
 * The dashboard's static files (hub/docs/dashboard.md): the shell at `/`, its files and the chart library under
 * `/dashboard/`, public, with content types, cache validators and a same-origin-only Content-Security-Policy.
 * The pages themselves are tested in Chromium (test/browser/dashboard.test.ts).
 */
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { loadDashboardAssets } from '../src/dashboard/dashboard-assets.js';
import { startTestHub } from './helpers/test-hub.js';

describe('dashboard files', () => {
  it('serves the shell, its modules and uPlot without a token, with types, ETags and a self-only CSP', async () => {
    const { hub } = await startTestHub({ listen: false });
    const shell = await hub.inject({ method: 'GET', url: '/' });
    expect(shell.statusCode).toBe(200);
    expect(shell.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(shell.headers['content-security-policy']).toMatch(/default-src 'self'.*script-src 'self'/);
    expect(shell.headers['content-security-policy']).not.toMatch(/unsafe-inline|https?:/);
    // No inline script: every script the shell names is a file the hub serves.
    expect(shell.body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    const sources = [...shell.body.matchAll(/(?:src|href)="(\/dashboard\/[^"]+)"/g)].map((m) => m[1]!);
    expect(sources).toEqual(expect.arrayContaining(['/dashboard/app.js', '/dashboard/vendor/uPlot.iife.min.js', '/dashboard/vendor/uPlot.min.css']));
    for (const url of sources) expect((await hub.inject({ method: 'GET', url })).statusCode, url).toBe(200);

    const app = await hub.inject({ method: 'GET', url: '/dashboard/app.js' });
    expect(app.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(app.headers['cache-control']).toBe('no-cache');
    const again = await hub.inject({ method: 'GET', url: '/dashboard/app.js', headers: { 'if-none-match': String(app.headers.etag) } });
    expect([again.statusCode, again.body]).toEqual([304, '']);
    const chartLib = await hub.inject({ method: 'GET', url: '/dashboard/vendor/uPlot.iife.min.js' });
    expect(chartLib.body).toMatch(/uPlot/);
    expect(chartLib.headers['cache-control']).toMatch(/max-age=\d+/);
    expect((await hub.inject({ method: 'GET', url: '/dashboard/vendor/uPlot.min.css' })).headers['content-type']).toBe('text/css; charset=utf-8');
    // Static files, not API: the OpenAPI document leaves them out.
    const paths = Object.keys((await hub.inject({ method: 'GET', url: '/docs/json' })).json().paths);
    expect(paths.filter((path) => path === '/' || path.startsWith('/dashboard'))).toEqual([]);
  });

  it('serves only modules that parse as plain JavaScript (no build step turns TypeScript into them)', () => {
    const modules = [...loadDashboardAssets()].filter(([name]) => name.endsWith('.js') && !name.startsWith('vendor/'));
    expect(modules.map(([name]) => name)).toEqual(expect.arrayContaining(['app.js', 'api.js', 'pages/overview.js']));
    for (const [name, asset] of modules) {
      const { diagnostics = [] } = ts.transpileModule(asset.body.toString('utf8'), { fileName: name, reportDiagnostics: true, compilerOptions: { allowJs: true } });
      expect([name, diagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, ' '))]).toEqual([name, []]);
    }
  });

  it('answers only files of its table: unknown names and paths out of it are 404 HUB_ERR_NOT_FOUND', async () => {
    const { hub } = await startTestHub({ listen: false });
    for (const url of ['/dashboard/nope.js', '/dashboard/../package.json', '/dashboard/%2e%2e/dashboard-plugin.ts', '/dashboard/dashboard-plugin.ts', '/dashboard/']) {
      const response = await hub.inject({ method: 'GET', url });
      expect([url, response.statusCode, response.json().error.code]).toEqual([url, 404, 'HUB_ERR_NOT_FOUND']);
    }
  });
});
