/**
 * What a first-day user reads from the CLI: help that states the real defaults, usage errors that name the flag,
 * counts in words that agree, and tables that explain themselves. Client commands run against a canned hub (an
 * HTTP server answering fixed JSON), so each output is exact and the tests need no fleet.
 */
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { describe, expect, it, onTestFinished } from 'vitest';
import { ROUNDS_USAGE } from '../src/cli/commands/rounds-command.js';
import type { DeviceJson } from '../src/fleet/schemas.js';
import { CampaignRequestSchema } from '../src/rounds/campaign-config.js';
import type { CampaignDetailJson, RoundJson } from '../src/rounds/schemas.js';
import { runCli } from './helpers/cli.js';
import { tempDataDir } from './helpers/test-hub.js';

const CLI_DOC = fileURLToPath(new URL('../docs/cli.md', import.meta.url));

/** Serves `routes` ("GET /v1/…" → JSON body) and records every request; returns its URL. */
async function cannedHub(routes: Record<string, unknown>): Promise<{ url: string; requests: string[] }> {
  const requests: string[] = [];
  const server = createServer((request, response) => {
    const key = `${request.method} ${request.url}`;
    requests.push(key);
    const body = routes[key];
    response.writeHead(body === undefined ? 404 : 200, { 'content-type': 'application/json' });
    response.end(JSON.stringify(body ?? { error: { code: 'HUB_ERR_NOT_FOUND', message: `no route ${key}` } }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  onTestFinished(() => new Promise<void>((resolve) => server.close(() => resolve())));
  return { url: `http://127.0.0.1:${(server.address() as { port: number }).port}`, requests };
}

const fedfleet = (args: string[], env: Record<string, string> = {}) => runCli(args, { env: { FEDFLEET_ADMIN_TOKEN: 'test-token', ...env } });

function round(number: number, rejections: RoundJson['rejections'] = []): RoundJson {
  return {
    id: `r${number}`, number, state: 'committed', baseVersionId: 'v0', resultVersionId: `v${number}`, targetClients: 10, minClients: 8,
    selected: 13, updates: 10, accuracy: 0.9, loss: 0.3, trainLoss: 0.25, hubAccuracy: null, hubLoss: null, bytesDown: 2048, bytesUp: 2048,
    rejectedUpdates: rejections.reduce((sum, r) => sum + r.count, 0), rejections, error: null, errorCode: null, deadlineAt: null,
    durationMs: 1000, createdAt: '2024-01-01T00:00:00.000Z', updatedAt: '2024-01-01T00:00:01.000Z', participants: [],
  };
}

function campaign(rounds: RoundJson[], roundsTotal = rounds.length): CampaignDetailJson {
  const { participants: _participants, ...currentRound } = rounds.at(-1) ?? round(1);
  return {
    id: 'c1', modelId: 'm1', modelName: 'mnist-2nn', state: 'completed', roundsTotal, roundsDone: rounds.length, baseVersionId: 'v0',
    currentVersionId: `v${rounds.length}`, config: { strategy: 'fedavg', clients: 10, epochs: 1, batchSize: 10, learningRate: 0.05 },
    error: null, errorCode: null, accuracy: rounds.map((r) => r.accuracy), loss: rounds.map((r) => r.loss), hubAccuracy: rounds.map(() => null),
    bytesDown: 0, bytesUp: 0, rejectedUpdates: rounds.reduce((sum, r) => sum + r.rejectedUpdates, 0),
    createdAt: '2024-01-01T00:00:00.000Z', updatedAt: '2024-01-01T00:00:00.000Z', currentRound, rounds,
  };
}

/** `[--flag value]` pairs of a usage text, e.g. { rounds: '1', epochs: '1' }. */
const shownDefaults = (text: string) => Object.fromEntries([...text.matchAll(/\[--([a-z-]+) ([^\s\]<|…]+)\]/g)].map((m) => [m[1]!, m[2]!]));

describe('CLI help and docs state the real defaults', () => {
  it('rounds start --help shows the defaults of POST /v1/rounds, and the CLI table of hub/docs/cli.md the same', async () => {
    const help = await fedfleet(['rounds', 'start', '--help']);
    expect(help.stdout).toBe(ROUNDS_USAGE);
    const flagToKey: Record<string, keyof typeof CampaignRequestSchema.properties> = {
      rounds: 'rounds', clients: 'clients', epochs: 'epochs', batch: 'batchSize', lr: 'learningRate', strategy: 'strategy',
      'over-select': 'overSelect', 'deadline-sec': 'deadlineSec', seed: 'seed',
    };
    const shown = shownDefaults(ROUNDS_USAGE);
    expect(Object.keys(shown).sort()).toEqual(Object.keys(flagToKey).sort());
    for (const [flag, key] of Object.entries(flagToKey)) {
      expect({ flag, value: shown[flag] }).toEqual({ flag, value: String((CampaignRequestSchema.properties[key] as { default?: unknown }).default) });
    }
    expect(shown).toMatchObject({ rounds: '1', epochs: '1' });

    const docRow = readFileSync(CLI_DOC, 'utf8').split('\n').find((line) => line.startsWith('| `fedfleet rounds start '));
    expect(shownDefaults(docRow ?? '')).toEqual(shown);
  });
});

describe('CLI usage errors name the flag', () => {
  it('tokens create --ttl below 60s or above 366d is refused as --ttl, before any request', async () => {
    const hub = await cannedHub({});
    for (const ttl of ['30s', '0.5m', '367d']) {
      const run = await fedfleet(['tokens', 'create', '--ttl', ttl, '--hub', hub.url]);
      expect({ code: run.code, stderr: run.stderr }).toEqual({
        code: 2, stderr: `error HUB_ERR_CLI_USAGE: --ttl must be at least 60s and at most 366d, got ${JSON.stringify(ttl)}\n`,
      });
    }
    expect(hub.requests).toEqual([]);
    expect((await fedfleet(['tokens', '--help'])).stdout).toContain('from 60s to 366d');
  });

  it('a hub URL without an http(s) scheme is a usage error naming where it came from, not an unreachable hub', async () => {
    const bare = await fedfleet(['devices', 'ls', '--hub', '127.0.0.1:8080']);
    expect({ code: bare.code, stderr: bare.stderr }).toEqual({
      code: 2,
      stderr: 'error HUB_ERR_CLI_USAGE: --hub must be the hub\'s http:// or https:// URL, e.g. http://127.0.0.1:8080; ' +
        'got "127.0.0.1:8080" (did you mean http://127.0.0.1:8080?)\n',
    });
    const fromEnv = await fedfleet(['fleet', 'health'], { FEDFLEET_HUB: 'localhost:8080' });
    expect([fromEnv.code, fromEnv.stderr]).toEqual([2, expect.stringMatching(/^error HUB_ERR_CLI_USAGE: FEDFLEET_HUB must be .*did you mean http:\/\/localhost:8080\?\)/)]);
    for (const url of ['ftp://hub', 'http://', 'hub.local']) {
      expect((await fedfleet(['tokens', 'ls', '--hub', url])).stderr).toMatch(/^error HUB_ERR_CLI_USAGE: --hub must be/);
    }
  });
});

describe('CLI output reads right', () => {
  it('says "1 round" and "1 problem", not "1 rounds" or "1 problem(s)"', async () => {
    const one = campaign([round(1)]);
    const hub = await cannedHub({ 'POST /v1/rounds': one, 'GET /v1/rounds/c1': one });
    const started = await fedfleet(['rounds', 'start', '--model', 'mnist-2nn', '--detach', '--hub', hub.url]);
    expect(started.stdout).toBe('campaign c1: 1 round of mnist-2nn\n');
    const watched = await fedfleet(['rounds', 'watch', 'c1', '--hub', hub.url]);
    expect(watched.stdout.trim().split('\n').at(-1)).toBe('campaign c1 completed: 1/1 round, final accuracy 90.00%');
    expect((await fedfleet(['rounds', 'show', 'c1', '--hub', hub.url])).stdout).toMatch(/^campaign c1 {2}model mnist-2nn {2}completed {2}1\/1 round\n/);
    const config = await runCli(['hub', '--heartbeat-sec', '0', '--data-dir', tempDataDir()]);
    expect(config.stderr).toMatch(/^error HUB_ERR_CONFIG_INVALID: invalid configuration, 1 problem:\n {2}heartbeatSec \(flag --heartbeat-sec\)/);
  });

  it('explains REJECTED where it is shown, and rounds show separates late updates from refused ones', async () => {
    const late = (count: number) => ({ deviceId: 'd1', code: 'HUB_ERR_UPDATE_LATE', count });
    const detail = campaign([round(1, [late(3)]), round(2, [late(2), { deviceId: 'd2', code: 'HUB_ERR_UPDATE_NORM', count: 1 }])]);
    const { rounds: _rounds, ...summary } = detail;
    const hub = await cannedHub({ 'GET /v1/rounds': [summary], 'GET /v1/rounds/c1': detail });

    const ls = await fedfleet(['rounds', 'ls', '--hub', hub.url]);
    expect(ls.stdout).toMatch(/^ID +MODEL +STATE +ROUNDS +ACCURACY +BYTES DOWN +BYTES UP +REJECTED +CREATED\nc1 +mnist-2nn +completed +2\/2 +90\.00% +0 B +0 B +6 /);
    expect(ls.stdout).toContain('REJECTED: updates the hub did not use. In a healthy run most come late from over-selected devices');

    const show = await fedfleet(['rounds', 'show', 'c1', '--hub', hub.url]);
    const [header, first, second] = show.stdout.split('\n').slice(2);
    const columns = (line: string) => line.trim().split(/\s{2,}/);
    const at = (line: string, name: string) => columns(line)[columns(header!).indexOf(name)];
    expect([at(first!, 'LATE'), at(first!, 'REJECTED'), at(second!, 'LATE'), at(second!, 'REJECTED')]).toEqual(['3', '0', '2', '1']);
    expect(show.stdout).toContain('LATE: updates that arrived after their round closed');
    expect(show.stdout).toContain('refused: HUB_ERR_UPDATE_NORM ×1');
  });

  it('devices show leaves out what a device could not measure (no "@ 0 MHz")', async () => {
    const device: DeviceJson = {
      id: 'd1', name: 'pi', labels: {}, status: 'online', lastSeen: null, telemetry: null, agentVersion: null, activeModelId: null,
      activeVersionId: null, activeSha256: null, previousVersionId: null, shadowVersionId: null,
      registryVersions: { active: null, previous: null, shadow: null }, createdAt: '2024-01-01T00:00:00.000Z', health: { status: 'healthy', reasons: [] },
      profile: { kind: 'linux-arm64', arch: 'arm64', cores: 2, cpuMhz: 0, ramBytes: 4 * 1024 ** 3, flashBytes: 0, int8Only: false, canTrain: true },
    };
    const hub = await cannedHub({ 'GET /v1/devices/d1': device, 'GET /v1/devices/d2': { ...device, profile: { ...device.profile, cores: 1, cpuMhz: 1500 } } });
    expect((await fedfleet(['devices', 'show', 'd1', '--hub', hub.url])).stdout).toMatch(/^profile +linux-arm64, arm64, 2 cores, RAM 4\.0 GiB, can train$/m);
    expect((await fedfleet(['devices', 'show', 'd2', '--hub', hub.url])).stdout).toMatch(/^profile +linux-arm64, arm64, 1 core @ 1500 MHz, RAM 4\.0 GiB, can train$/m);
  });
});
