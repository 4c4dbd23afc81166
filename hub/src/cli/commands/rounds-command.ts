/** `fedfleet rounds start|ls|show|watch|cancel`: federated campaigns, with a live progress bar. */
import type { CampaignDetailJson, CampaignJson } from '../../rounds/schemas.js';
import { CLIENT_OPTIONS, parse, parsePositiveInteger } from '../args.js';
import { usageError } from '../cli-error.js';
import { createHubClient, type HubClient } from '../hub-client.js';
import { printJson, println, type CliIo } from '../io.js';
import { createProgress } from '../progress.js';
import { formatBytes, formatTable } from '../table.js';

export const ROUNDS_USAGE = `Usage:
  fedfleet rounds start --model <name|id> [--selector site=lab] [--rounds 20] [--clients 10] [--epochs 5]
                        [--batch 10] [--lr 0.05] [--strategy fedavg] [--strategy-opt k=v,…] [--compression none|fp16|int8]
                        [--min-clients N] [--over-select 1.3] [--deadline-sec 300] [--seed 1] [--no-eval]
                        [--validation-set <data set>] [--detach] [--json]
  fedfleet rounds ls [--json]
  fedfleet rounds show <id> [--json]
  fedfleet rounds watch <id>
  fedfleet rounds cancel <id>

start prints a live progress bar (round, updates received / expected, accuracy) until the campaign ends,
unless --detach or --json. Strategies: fedavg, fedprox, fedavgm, fedadam, fedmedian, fedtrimmedavg, krum.
`;

const OPTIONS = {
  ...CLIENT_OPTIONS,
  model: { type: 'string' },
  'base-version': { type: 'string' },
  selector: { type: 'string' },
  rounds: { type: 'string' },
  clients: { type: 'string' },
  'min-clients': { type: 'string' },
  'over-select': { type: 'string' },
  epochs: { type: 'string' },
  batch: { type: 'string' },
  lr: { type: 'string' },
  strategy: { type: 'string' },
  'strategy-opt': { type: 'string' },
  compression: { type: 'string' },
  'deadline-sec': { type: 'string' },
  'max-examples': { type: 'string' },
  'validation-set': { type: 'string' },
  seed: { type: 'string' },
  'no-eval': { type: 'boolean', default: false },
  detach: { type: 'boolean', default: false },
  'poll-ms': { type: 'string' },
} as const;

function number(text: string, what: string): number {
  const value = Number(text);
  if (!Number.isFinite(value)) throw usageError(`${what} must be a number, got ${JSON.stringify(text)}`);
  return value;
}

const fmtAcc = (a: number | null | undefined) => (a === null || a === undefined ? '-' : `${(100 * a).toFixed(2)}%`);

export async function runRoundsCommand(argv: string[], io: CliIo): Promise<number> {
  const { values, positionals } = parse(argv, OPTIONS);
  const [action, ...rest] = positionals;
  if (values.help || !action) {
    io.stdout.write(ROUNDS_USAGE);
    return values.help ? 0 : 2;
  }
  const client = createHubClient(values, io);
  const pollMs = values['poll-ms'] ? parsePositiveInteger(values['poll-ms'], '--poll-ms') : 1000;
  const id = () => {
    if (!rest[0]) throw usageError(`usage: fedfleet rounds ${action} <id>`);
    return encodeURIComponent(rest[0]);
  };
  switch (action) {
    case 'start': {
      if (!values.model) throw usageError('--model is required');
      const body: Record<string, unknown> = { model: values.model };
      if (values['base-version']) body.baseVersion = values['base-version'];
      if (values.selector) body.selector = values.selector;
      if (values.rounds) body.rounds = parsePositiveInteger(values.rounds, '--rounds');
      if (values.clients) body.clients = parsePositiveInteger(values.clients, '--clients');
      if (values['min-clients']) body.minClients = parsePositiveInteger(values['min-clients'], '--min-clients');
      if (values['over-select']) body.overSelect = number(values['over-select'], '--over-select');
      if (values.epochs) body.epochs = parsePositiveInteger(values.epochs, '--epochs');
      if (values.batch) body.batchSize = parsePositiveInteger(values.batch, '--batch');
      if (values.lr) body.learningRate = number(values.lr, '--lr');
      if (values.strategy) body.strategy = values.strategy;
      if (values['strategy-opt']) {
        body.strategyOptions = Object.fromEntries(values['strategy-opt'].split(',').map((pair) => {
          const [k, v] = pair.split('=');
          if (!k || v === undefined) throw usageError(`--strategy-opt wants k=v pairs, got ${JSON.stringify(pair)}`);
          return [k.trim(), number(v, k)];
        }));
      }
      if (values.compression) body.compression = values.compression;
      if (values['deadline-sec']) body.deadlineSec = number(values['deadline-sec'], '--deadline-sec');
      if (values['max-examples']) body.maxExamples = parsePositiveInteger(values['max-examples'], '--max-examples');
      if (values.seed) body.seed = Number(values.seed);
      if (values['no-eval']) body.evaluate = false;
      if (values['validation-set']) body.validationSet = values['validation-set'];
      const campaign = await client.request<CampaignDetailJson>('POST', '/v1/rounds', body);
      if (values.json) return printJson(io, campaign), 0;
      println(io.stdout, `campaign ${campaign.id}: ${campaign.roundsTotal} rounds of ${campaign.modelName}`);
      if (values.detach) return 0;
      return watch(client, io, encodeURIComponent(campaign.id), pollMs);
    }
    case 'ls':
    case 'list': {
      const campaigns = await client.request<CampaignJson[]>('GET', '/v1/rounds');
      if (values.json) return printJson(io, campaigns), 0;
      if (campaigns.length === 0) return println(io.stdout, 'no campaigns'), 0;
      println(io.stdout, formatTable(
        ['ID', 'MODEL', 'STATE', 'ROUNDS', 'ACCURACY', 'BYTES DOWN', 'BYTES UP', 'REJECTED', 'CREATED'],
        campaigns.map((c) => [c.id, c.modelName, c.state, `${c.roundsDone}/${c.roundsTotal}`, fmtAcc(c.accuracy.at(-1)),
          formatBytes(c.bytesDown), formatBytes(c.bytesUp), c.rejectedUpdates, c.createdAt]),
      ));
      return 0;
    }
    case 'show': {
      const campaign = await client.request<CampaignDetailJson>('GET', `/v1/rounds/${id()}`);
      if (values.json) return printJson(io, campaign), 0;
      printCampaign(io, campaign);
      return 0;
    }
    case 'watch':
      return watch(client, io, id(), pollMs);
    case 'cancel': {
      const campaign = await client.request<CampaignDetailJson>('POST', `/v1/rounds/${id()}/cancel`);
      if (values.json) return printJson(io, campaign), 0;
      println(io.stdout, `campaign ${campaign.id} ${campaign.state}`);
      return 0;
    }
    default:
      throw usageError(`unknown rounds command ${JSON.stringify(action)}\n${ROUNDS_USAGE}`);
  }
}

function printCampaign(io: CliIo, c: CampaignDetailJson): void {
  println(io.stdout, `campaign ${c.id}  model ${c.modelName}  ${c.state}  ${c.roundsDone}/${c.roundsTotal} rounds${c.error ? `  error: ${c.error}` : ''}`);
  println(io.stdout, `strategy ${String(c.config.strategy)}  clients ${String(c.config.clients)}  epochs ${String(c.config.epochs)}  batch ${String(c.config.batchSize)}  lr ${String(c.config.learningRate)}  down ${String(c.config.downlink)}  up ${String(c.config.uplink)}`);
  println(io.stdout, formatTable(
    ['ROUND', 'STATE', 'SELECTED', 'UPDATES', 'ACCURACY', 'VALIDATION', 'LOSS', 'TRAIN LOSS', 'BYTES DOWN', 'BYTES UP', 'REJECTED', 'VERSION'],
    c.rounds.map((r) => [r.number, r.state, r.selected, `${r.updates}/${r.targetClients}`, fmtAcc(r.accuracy), fmtAcc(r.hubAccuracy),
      r.loss?.toFixed(4) ?? '-', r.trainLoss?.toFixed(4) ?? '-', formatBytes(r.bytesDown), formatBytes(r.bytesUp), r.rejectedUpdates,
      r.resultVersionId ?? '-']),
  ));
}

/** Polls the campaign until it ends; a bar on a terminal, one line per committed round otherwise. */
async function watch(client: HubClient, io: CliIo, id: string, pollMs: number): Promise<number> {
  let campaign = await client.request<CampaignDetailJson>('GET', `/v1/rounds/${id}`);
  const progress = createProgress({ total: campaign.roundsTotal, label: 'rounds', stream: io.stderr, format: (v) => String(Math.floor(v)) });
  let reported = 0;
  for (;;) {
    for (const round of campaign.rounds.filter((r) => r.state === 'committed' && r.number > reported)) {
      reported = round.number;
      if (!io.stderr.isTTY) {
        println(io.stdout, `round ${round.number}/${campaign.roundsTotal}: accuracy ${fmtAcc(round.accuracy)}  loss ${round.loss?.toFixed(4) ?? '-'}  ` +
          `${round.hubAccuracy !== null ? `validation ${fmtAcc(round.hubAccuracy)}  ` : ''}updates ${round.updates}/${round.targetClients}  ` +
          `↓${formatBytes(round.bytesDown)} ↑${formatBytes(round.bytesUp)}`);
      }
    }
    const current = campaign.currentRound;
    if (current && io.stderr.isTTY) {
      const fraction = current.state === 'committed' ? 0 : Math.min(0.99, current.updates / Math.max(1, current.targetClients));
      progress.update(campaign.roundsDone + fraction,
        `round ${Math.min(campaign.roundsDone + 1, campaign.roundsTotal)}/${campaign.roundsTotal} ${current.state} updates ${current.updates}/${current.targetClients} acc ${fmtAcc(campaign.accuracy.at(-1))}`);
    }
    if (campaign.state !== 'running') break;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
    campaign = await client.request<CampaignDetailJson>('GET', `/v1/rounds/${id}`);
  }
  if (io.stderr.isTTY) progress.finish(campaign.state); // otherwise the line below says it
  println(io.stdout, `campaign ${campaign.id} ${campaign.state}: ${campaign.roundsDone}/${campaign.roundsTotal} rounds, final accuracy ${fmtAcc(campaign.accuracy.at(-1))}${campaign.error ? `, ${campaign.error}` : ''}`);
  return campaign.state === 'completed' ? 0 : 1;
}
