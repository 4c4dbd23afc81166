/** `POST /v1/rounds`: settings that cannot work are refused with a stable code and nothing is stored. */
import { describe, expect, it } from 'vitest';
import { startRoundHub } from './round-helpers.js';

interface ErrorBody { error: { code: string; message: string; details?: unknown } }

describe('POST /v1/rounds configuration errors', () => {
  it('refuses unknown models and versions, impossible client counts, bad strategies and selectors; stores nothing', async () => {
    const { api } = await startRoundHub({ listen: false });
    const post = (body: Record<string, unknown>) => api<ErrorBody>('POST', '/v1/rounds', { model: 'tiny', clients: 4, ...body });

    const cases: [string, Record<string, unknown>, number, string, RegExp?][] = [
      ['unknown model', { model: 'no-such-model' }, 404, 'HUB_ERR_MODEL_NOT_FOUND'],
      ['unknown base version', { baseVersion: 7 }, 404, 'HUB_ERR_VERSION_NOT_FOUND'],
      ['unknown base version id', { baseVersion: 'not-a-version' }, 404, 'HUB_ERR_VERSION_NOT_FOUND'],
      ['minClients above clients', { minClients: 5 }, 400, 'HUB_ERR_ROUND_BAD_CONFIG', /minClients 5 exceeds clients 4/],
      ['krum needs more updates than clients', { strategy: 'krum', strategyOptions: { byzantine: 1 } }, 400, 'HUB_ERR_ROUND_BAD_CONFIG', /krum needs at least/],
      ['option out of range', { strategy: 'fedavgm', strategyOptions: { momentum: 1.5, serverLr: -1 } }, 400, 'HUB_ERR_STRATEGY_OPTIONS', /momentum: expected a number in \[0, 1\).*serverLr: expected a finite number > 0/],
      ['option of another strategy', { strategy: 'fedavg', strategyOptions: { proximalMu: 0.1 } }, 400, 'HUB_ERR_STRATEGY_OPTIONS', /proximalMu: not used by fedavg/],
      ['unknown option', { strategy: 'fedprox', strategyOptions: { mu: 0.1 } }, 400, 'HUB_ERR_STRATEGY_OPTIONS', /mu: unknown option/],
      // One coded error naming the valid strategies, not one schema violation per name.
      ['unknown strategy', { strategy: 'fedwhat' }, 400, 'HUB_ERR_STRATEGY_UNKNOWN', /^unknown aggregation strategy: "fedwhat"; valid strategies: fedavg, fedprox, fedavgm, fedadam, fedmedian, fedtrimmedavg, krum$/],
      ['empty strategy', { strategy: '' }, 400, 'HUB_ERR_STRATEGY_UNKNOWN'],
      ['bad selector', { selector: 'a=b=c' }, 400, 'HUB_ERR_BAD_SELECTOR'],
      ['no clients', { clients: 0 }, 400, 'HUB_ERR_VALIDATION'],
      ['over-selection below 1', { overSelect: 0.5 }, 400, 'HUB_ERR_VALIDATION'],
      ['zero deadline', { deadlineSec: 0 }, 400, 'HUB_ERR_VALIDATION'],
      ['unknown field', { roundz: 3 }, 400, 'HUB_ERR_VALIDATION'],
      ['unknown compression', { compression: 'zip' }, 400, 'HUB_ERR_VALIDATION'],
    ];
    for (const [what, body, status, code, message] of cases) {
      const response = await post(body);
      expect([what, response.status, response.body.error?.code]).toEqual([what, status, code]);
      if (message) expect(response.body.error.message).toMatch(message);
    }
    // Every strategy-option violation is listed, not only the first.
    const both = await post({ strategy: 'fedadam', strategyOptions: { beta1: 1, tau: 0 } });
    expect(both.body.error.details).toEqual(['beta1: expected a number in [0, 1), got 1', 'tau: expected a finite number > 0, got 0']);

    expect((await api<unknown[]>('GET', '/v1/rounds')).body).toEqual([]);
    expect((await api<unknown[]>('GET', '/v1/audit?action=campaign.started')).body).toEqual([]);
    const missing = await api<ErrorBody>('GET', '/v1/rounds/no-such-campaign');
    expect([missing.status, missing.body.error.code]).toEqual([404, 'HUB_ERR_CAMPAIGN_NOT_FOUND']);
  });

  it('a built-in architecture name creates that model on first use, only for a valid request, and reuses it', async () => {
    const { api } = await startRoundHub({ listen: false });
    interface Model { id: string; name: string; architecture: string; latestVersion: number }
    const models = async () => (await api<Model[]>('GET', '/v1/models')).body.filter((m) => m.name === 'tiny-cnn');

    // A refused request creates nothing, and an unknown name is still unknown.
    expect((await api<ErrorBody>('POST', '/v1/rounds', { model: 'tiny-cnn', clients: 2, selector: 'a=b=c' })).body.error.code).toBe('HUB_ERR_BAD_SELECTOR');
    expect((await api<ErrorBody>('POST', '/v1/rounds', { model: 'tiny-cnn', clients: 2, baseVersion: 3 })).body.error.code).toBe('HUB_ERR_MODEL_NOT_FOUND');
    expect((await api<ErrorBody>('POST', '/v1/rounds', { model: 'small-cnn', clients: 2 })).body.error.code).toBe('HUB_ERR_MODEL_NOT_FOUND');
    expect(await models()).toEqual([]);

    const first = await api<{ id: string; modelId: string; baseVersionId: string }>('POST', '/v1/rounds', { model: 'tiny-cnn', clients: 2, seed: 7 });
    expect(first.status).toBe(201);
    const [created] = await models();
    expect(created).toMatchObject({ id: first.body.modelId, architecture: 'tiny-cnn', latestVersion: 1 });
    const version = await api<{ id: string; metrics: Record<string, unknown> }>('GET', `/v1/models/${created!.id}/versions/1`);
    expect([version.body.id, version.body.metrics.seed]).toEqual([first.body.baseVersionId, 7]);
    const audit = await api<{ action: string; target: string }[]>('GET', '/v1/audit?action=model.created');
    expect(audit.body.map((a) => a.target)).toEqual([created!.id]);

    await api('POST', `/v1/rounds/${first.body.id}/cancel`);
    const second = await api<{ modelId: string }>('POST', '/v1/rounds', { model: 'tiny-cnn', clients: 2 });
    expect([second.status, second.body.modelId]).toEqual([201, created!.id]);
    expect(await models()).toHaveLength(1);
  });

  it('stores the resolved configuration of an accepted campaign (defaults filled in)', async () => {
    const { api, model } = await startRoundHub({ listen: false });
    const response = await api<{ id: string; state: string; baseVersionId: string; config: Record<string, unknown>; rounds: unknown[] }>(
      'POST', '/v1/rounds', { model: 'tiny', clients: 5, strategy: 'fedprox', compression: 'int8', uplink: 'fp16' },
    );
    expect(response.status).toBe(201);
    expect(response.body.state).toBe('running');
    expect(response.body.baseVersionId).toBe(model.versionId);
    expect(response.body.config).toMatchObject({
      clients: 5, minClients: 4, overSelect: 1.3, deadlineSec: 300, evaluate: true, epochs: 1, batchSize: 10, strategy: 'fedprox',
      proximalMu: 0.01, downlink: 'int8', uplink: 'fp16', maxUpdateNorm: 1000, seed: 1,
    });
    const listed = await api<{ id: string }[]>('GET', '/v1/rounds?state=running');
    expect(listed.body.map((c) => c.id)).toEqual([response.body.id]);
  });
});
