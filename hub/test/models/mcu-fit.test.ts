import { describe, expect, it } from 'vitest';
import { mcuFitView, type McuFitView } from '../../src/models/mcu-fit-view.js';
import { runCli } from '../helpers/cli.js';
import { startTestHub, TEST_ADMIN_TOKEN } from '../helpers/test-hub.js';

type Row = McuFitView['rows'][number];
const row = (fit: McuFitView, encoding: string, profile: string): Row | undefined =>
  fit.rows.find((r) => r.encoding === encoding && r.profile === profile);

describe('microcontroller fit of a model version', () => {
  it('GET /v1/models/:id/versions/:version carries flash, arena, fit and latency per encoding and MCU profile; `models show` prints them', async () => {
    const testHub = await startTestHub();
    for (const [name, architecture] of [['mlp', 'mnist-2nn'], ['cnn', 'tiny-cnn']]) {
      expect((await testHub.api('POST', '/v1/models', { name, architecture })).status).toBe(201);
    }
    // The hand-computed figures of proto/test/mcu/resource-model.test.ts, now from the topology tfjs really writes.
    const mlp = (await testHub.api<{ mcuFit: McuFitView }>('GET', '/v1/models/mlp/versions/1')).body.mcuFit;
    expect(mlp.unsupported).toBeNull();
    expect(mlp.rows).toHaveLength(6); // 3 encodings × 2 profiles
    expect(row(mlp, 'int8', 'mcu-m4')).toMatchObject({ flashBytes: 213_412, arenaBytes: 8_368, macs: 198_800, fits: true, shortfalls: [] });
    expect(row(mlp, 'fp16', 'mcu-m4')).toMatchObject({ fits: false, shortfalls: ['needs 786.0 KiB (804880 bytes) arena (RAM), profile has 256 KiB (262144 bytes)'] });
    const cnn = (await testHub.api<{ mcuFit: McuFitView }>('GET', '/v1/models/cnn/versions/latest')).body.mcuFit;
    expect(row(cnn, 'int8', 'mcu-m7')).toMatchObject({ flashBytes: 21_420, arenaBytes: 11_392, macs: 201_184, fits: true });

    const shown = await runCli(['models', 'show', 'mlp'], { env: { FEDFLEET_HUB: testHub.httpUrl, FEDFLEET_ADMIN_TOKEN: TEST_ADMIN_TOKEN } });
    expect(shown.stderr).toBe('');
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain('microcontroller fit of version 1');
    expect(shown.stdout).toMatch(/int8\s+mcu-m4\s+208 KiB \/ 1\.0 MiB\s+8\.2 KiB \/ 256 KiB\s+yes\s+3\.02 ms/);
    expect(shown.stdout).toMatch(/fp16\s+mcu-m4\s+395 KiB \/ 1\.0 MiB\s+786 KiB \/ 256 KiB\s+no\s+7\.10 ms/);
    expect(shown.stdout).toContain('  fp16 on mcu-m4: needs 786.0 KiB (804880 bytes) arena (RAM), profile has 256 KiB (262144 bytes)');
    const json = await runCli(['models', 'show', 'mlp', '--json'], { env: { FEDFLEET_HUB: testHub.httpUrl, FEDFLEET_ADMIN_TOKEN: TEST_ADMIN_TOKEN } });
    expect(JSON.parse(json.stdout).mcuFit.rows).toHaveLength(6);
  });

  it('a topology with a layer the resource model does not know gives no rows and the coded reason', () => {
    const lstm = JSON.stringify({ class_name: 'Sequential', config: { layers: [{ class_name: 'LSTM', config: { name: 'rnn', units: 4, batch_input_shape: [null, 3, 2] } }] } });
    const view = mcuFitView(lstm);
    expect(view.rows).toEqual([]);
    expect(view.unsupported?.code).toBe('PROTO_ERR_UNSUPPORTED_LAYER');
  });
});
