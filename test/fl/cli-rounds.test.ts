/**
 * `fedfleet rounds …` and `fedfleet models …` against a real hub with real training agents: the issue's
 * `rounds start --model mnist-2nn --selector site=lab …` command on a fresh hub, the per-round lines and the
 * terminal progress bar, `rounds ls|show|watch|cancel`, and the model registry commands (create, import, show,
 * versions) with the lineage the campaign produced.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { runCli, type CliRun } from '../../hub/test/helpers/cli.js';
import type { CampaignDetailJson, CampaignJson } from '../../hub/src/rounds/schemas.js';
import { TEST_ADMIN_TOKEN } from '../../hub/test/helpers/test-hub.js';
import { saveTfjsModel, tinyTfjsModel } from '../../hub/test/rounds/round-helpers.js';
import { FAST_TRAINING, startAgents, startFlHub, waitForCampaign, type FlHub } from './fl-harness.js';

/** Runs `fedfleet <args>` in process against `hub`; `tty` makes stderr a terminal (progress bar). */
function fedfleet(hub: FlHub, args: string[], options: { tty?: boolean; cwd?: string } = {}): Promise<CliRun> {
  return runCli(args, { ...options, env: { FEDFLEET_HUB: hub.httpUrl, FEDFLEET_ADMIN_TOKEN: TEST_ADMIN_TOKEN } });
}

const TRAINING = ['--epochs', String(FAST_TRAINING.epochs), '--batch', String(FAST_TRAINING.batchSize), '--lr', String(FAST_TRAINING.learningRate),
  '--max-examples', String(FAST_TRAINING.maxExamples), '--deadline-sec', '30', '--poll-ms', '100'];

interface Version { id: string; version: number; parentVersionId: string | null; roundId: string | null; campaignId: string | null }

describe('fedfleet rounds and models commands', () => {
  it('rounds start on a fresh hub (model from the architecture), per-round lines, ls, show, models show/versions', async () => {
    const hub = await startFlHub();
    await startAgents(hub, [0, 1, 2].map((i) => ({ name: `lab-${i}`, labels: { site: 'lab' }, data: { index: i, of: 4 } })));
    await startAgents(hub, [{ name: 'elsewhere', labels: { site: 'home' }, data: { index: 3, of: 4 } }]);

    const started = await fedfleet(hub, ['rounds', 'start', '--model', 'mnist-2nn', '--selector', 'site=lab', '--rounds', '2', '--clients', '3',
      '--strategy', 'fedavg', ...TRAINING]);
    expect(started.stderr).toBe('');
    expect(started.code).toBe(0);
    const lines = started.stdout.trim().split('\n');
    const [, campaignId] = /^campaign (\S+): 2 rounds of mnist-2nn$/.exec(lines[0]!) ?? [];
    expect(campaignId).toBeDefined();
    expect(lines[1]).toMatch(/^round 1\/2: accuracy \d+\.\d\d%  loss \d+\.\d{4}  updates 3\/3  ↓[\d.]+ [KMG]?i?B ↑[\d.]+ [KMG]?i?B$/);
    expect(lines[2]).toMatch(/^round 2\/2: accuracy \d+\.\d\d%/);
    expect(lines.at(-1)).toMatch(new RegExp(`^campaign ${campaignId} completed: 2/2 rounds, final accuracy \\d+\\.\\d\\d%$`));

    // The campaign trained only the selected label group.
    const detail = await fedfleet(hub, ['rounds', 'show', campaignId!, '--json']);
    const campaign = JSON.parse(detail.stdout) as CampaignDetailJson;
    expect(campaign).toMatchObject({ id: campaignId, modelName: 'mnist-2nn', state: 'completed', roundsDone: 2 });
    expect(campaign.rounds.map((r) => r.state)).toEqual(['committed', 'committed']);
    const devices = (await hub.api<{ id: string; name: string }[]>('GET', '/v1/devices')).body;
    const names = new Map(devices.map((d) => [d.id, d.name]));
    for (const round of campaign.rounds) {
      expect(round.participants.map((p) => names.get(p.deviceId)).sort()).toEqual(['lab-0', 'lab-1', 'lab-2']);
    }

    const table = await fedfleet(hub, ['rounds', 'show', campaignId!]);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(/campaign \S+ {2}model mnist-2nn {2}completed {2}2\/2 rounds/);
    expect(table.stdout).toMatch(/^ROUND +STATE +SELECTED +UPDATES +ACCURACY/m);
    expect(table.stdout.match(/committed/g)).toHaveLength(2);

    const listed = JSON.parse((await fedfleet(hub, ['rounds', 'ls', '--json'])).stdout) as CampaignJson[];
    expect(listed.map((c) => [c.id, c.state, c.accuracy.length])).toEqual([[campaignId, 'completed', 2]]);
    expect((await fedfleet(hub, ['rounds', 'ls'])).stdout).toMatch(new RegExp(`^${campaignId} +mnist-2nn +completed +2/2 `, 'm'));

    // `watch` on a finished campaign reports it and exits 0.
    const watched = await fedfleet(hub, ['rounds', 'watch', campaignId!]);
    expect([watched.code, watched.stdout.trim().split('\n').at(-1)]).toEqual([0, expect.stringContaining(`campaign ${campaignId} completed`)]);

    // The model the campaign created from the architecture, with two round versions in a line.
    const shown = JSON.parse((await fedfleet(hub, ['models', 'show', 'mnist-2nn', '--json'])).stdout) as { architecture: string; latestVersion: number };
    expect(shown).toMatchObject({ architecture: 'mnist-2nn', latestVersion: 3 });
    const versions = JSON.parse((await fedfleet(hub, ['models', 'versions', 'mnist-2nn', '--json'])).stdout) as Version[];
    expect(versions.map((v) => [v.version, v.parentVersionId, v.campaignId])).toEqual([
      [1, null, null], [2, versions[0]!.id, campaignId], [3, versions[1]!.id, campaignId],
    ]);
    expect(versions.slice(1).map((v) => v.roundId)).toEqual(campaign.rounds.map((r) => r.id));
    expect((await fedfleet(hub, ['models', 'ls'])).stdout).toMatch(/^mnist-2nn +\S+ +mnist-2nn +199210 +3 /m);
  }, 90_000);

  it('a progress bar on a terminal; start --detach, cancel, and watch exiting 1 on a cancelled campaign', async () => {
    const hub = await startFlHub();
    await startAgents(hub, [0, 1].map((i) => ({ name: `pi-${i}`, data: { index: i, of: 2 } })));

    const barRun = await fedfleet(hub, ['rounds', 'start', '--model', 'digits', '--rounds', '1', '--clients', '2', ...TRAINING], { tty: true });
    expect(barRun.code).toBe(0);
    expect(barRun.stderr).toMatch(/round 1\/1 \w+ updates \d\/2/); // the bar's label, redrawn in place
    expect(barRun.stderr).toContain('\r');
    expect(barRun.stdout).not.toMatch(/^round 1\/1:/m); // no per-round lines when the bar shows progress

    // A campaign whose selector matches no device waits in selection; started detached, then cancelled.
    const detached = await fedfleet(hub, ['rounds', 'start', '--model', 'digits', '--rounds', '3', '--clients', '2', '--selector', 'site=nowhere',
      '--detach', '--json', ...TRAINING]);
    expect(detached.code).toBe(0);
    const { id } = JSON.parse(detached.stdout) as { id: string };
    await waitForCampaign(hub.api, id, (c) => c.rounds.length > 0, 10_000, 'first round');
    const cancelled = await fedfleet(hub, ['rounds', 'cancel', id]);
    expect([cancelled.code, cancelled.stdout.trim()]).toEqual([0, `campaign ${id} cancelled`]);
    const watched = await fedfleet(hub, ['rounds', 'watch', id]);
    expect(watched.code).toBe(1);
    expect(watched.stdout).toMatch(new RegExp(`campaign ${id} cancelled: 0/3 rounds`));
    const again = await fedfleet(hub, ['rounds', 'cancel', id]);
    expect([again.code, again.stderr]).toEqual([1, expect.stringMatching(/^error HUB_ERR_CAMPAIGN_FINISHED: /)]);
  }, 90_000);

  it('models create and import (model.json + the weight files it lists), with errors as codes', async () => {
    const hub = await startFlHub();
    const created = await fedfleet(hub, ['models', 'create', '--name', 'small', '--arch', 'tiny-cnn', '--seed', '3', '--json']);
    expect(created.code).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({ model: { name: 'small', architecture: 'tiny-cnn' }, version: { version: 1 } });
    const duplicate = await fedfleet(hub, ['models', 'create', '--name', 'small', '--arch', 'tiny-cnn']);
    expect([duplicate.code, duplicate.stderr]).toEqual([1, expect.stringMatching(/^error HUB_ERR_MODEL_EXISTS: /)]);

    await tf.setBackend('cpu');
    const model = tinyTfjsModel();
    const { modelJson, weights } = await saveTfjsModel(model);
    model.dispose();
    const dir = mkdtempSync(join(tmpdir(), 'fedfleet-import-'));
    writeFileSync(join(dir, 'model.json'), JSON.stringify(modelJson));
    writeFileSync(join(dir, 'group1-shard1of1.bin'), weights);
    const imported = await fedfleet(hub, ['models', 'import', 'model.json', '--name', 'tiny'], { cwd: dir });
    expect([imported.code, imported.stdout.trim()]).toEqual([0, expect.stringMatching(/^imported tiny \(\S+\): 15 parameters$/)]);
    const names = JSON.parse((await fedfleet(hub, ['models', 'ls', '--json'])).stdout) as { name: string }[];
    expect(names.map((m) => m.name).sort()).toEqual(['digits', 'small', 'tiny']);
  }, 60_000);
});
