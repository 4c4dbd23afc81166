/** `fedfleet rounds start|ls|show|watch|cancel`: federated campaigns, with a live progress bar. */
import type { HubErrorCode } from '../../errors.js';
import { CampaignRequestSchema } from '../../rounds/campaign-config.js';
import { STRATEGY_NAMES } from '../../rounds/strategies/index.js';
import type { CampaignDetailJson, CampaignJson, RoundJson } from '../../rounds/schemas.js';
import { CLIENT_OPTIONS, parse, parseFiniteNumber, parsePositiveInteger } from '../args.js';
import { usageError } from '../cli-error.js';
import { createHubClient, type HubClient } from '../hub-client.js';
import { printJson, println, type CliIo } from '../io.js';
import { campaignProgress, formatAccuracy } from '../campaign-progress.js';
import { createProgress } from '../progress.js';
import { countOf, formatBytes, formatTable } from '../table.js';

type CampaignKey = keyof typeof CampaignRequestSchema.properties;

/** A default or description of a `POST /v1/rounds` field, as its schema states it ('' when it states none). */
function schemaText(key: CampaignKey, annotation: 'default' | 'description'): string {
  const value = (CampaignRequestSchema.properties[key] as unknown as Record<string, unknown>)[annotation];
  return typeof value === 'number' || typeof value === 'string' ? String(value) : '';
}

/** `[--flag <default>]` from the API's own schema, so help never disagrees with what the hub does. */
function withDefault(flag: string, key: CampaignKey, placeholder: string): string {
  return `[--${flag} ${schemaText(key, 'default') || `<${placeholder}>`}]`;
}

export const ROUNDS_USAGE = `Usage:
  fedfleet rounds start --model <name|id> [--selector <labels>] ${withDefault('rounds', 'rounds', 'N')} ${withDefault('clients', 'clients', 'K')}
                        ${withDefault('epochs', 'epochs', 'N')} ${withDefault('batch', 'batchSize', 'N')} ${withDefault('lr', 'learningRate', 'x')} ${withDefault('strategy', 'strategy', 'name')} [--strategy-opt k=v,…]
                        [--compression fp32|fp16|int8] [--min-clients <N>] ${withDefault('over-select', 'overSelect', 'x')} ${withDefault('deadline-sec', 'deadlineSec', 's')}
                        ${withDefault('seed', 'seed', 'N')} [--no-eval] [--validation-set <data set>] [--detach] [--json]
                        [--quantize fleet|dataset:<name>] [--quantize-percentile <p>]
  fedfleet rounds ls [--json]
  fedfleet rounds show <id> [--json]
  fedfleet rounds watch <id>
  fedfleet rounds cancel <id>

Values shown are the defaults. --min-clients: ${schemaText('minClients', 'description')} (K = --clients).
start prints a live progress bar (round, updates received / expected, accuracy) until the campaign ends,
unless --detach or --json. Strategies: ${STRATEGY_NAMES.join(', ')}.
--quantize: once the campaign completed, quantize its final version to an int8 .tflite, calibrated on the devices
the selector picks or on an uploaded data set (as fedfleet models quantize); --quantize-percentile: its percentile.
`;

/** Rejections with this code are updates that came after their round closed, not invalid ones. */
const LATE_CODE: HubErrorCode = 'HUB_ERR_UPDATE_LATE';

const REJECTED_NOTE = 'REJECTED: updates the hub did not use. In a healthy run most come late from over-selected devices: a round asks\n' +
  '⌈clients × over-select⌉ devices and closes once --clients updates arrived, so the slowest answer after it closed.\n' +
  '`fedfleet rounds show <id>` separates them (LATE) from updates refused as invalid.';

const LATE_NOTE = 'LATE: updates that arrived after their round closed — usually over-selected devices (⌈clients × over-select⌉ are asked so\n' +
  'that --clients answer in time); expected, not errors. REJECTED: updates refused as invalid, by code below.';

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
  quantize: { type: 'string' },
  'quantize-percentile': { type: 'string' },
  seed: { type: 'string' },
  'no-eval': { type: 'boolean', default: false },
  detach: { type: 'boolean', default: false },
  'poll-ms': { type: 'string' },
} as const;

/** The campaign's `quantize` from --quantize and --quantize-percentile; the hub checks the data set and the range. */
function quantizeBody(calibrate: string | undefined, percentile: string | undefined): Record<string, unknown> | undefined {
  if (calibrate === undefined) {
    if (percentile !== undefined) throw usageError('--quantize-percentile goes with --quantize fleet|dataset:<name>');
    return undefined;
  }
  if (!/^(fleet|dataset:.+)$/.test(calibrate)) throw usageError(`--quantize must be fleet or dataset:<name>, got ${JSON.stringify(calibrate)}`);
  return { calibrate, ...(percentile === undefined ? {} : { percentile: parseFiniteNumber(percentile, '--quantize-percentile') }) };
}

/** What became of the campaign's quantize ('' when it asked for none). */
function quantizationLine(c: CampaignJson): string {
  if (!c.config.quantize) return '';
  const q = c.quantization;
  if (!q) return c.state === 'running' ? 'quantization: after the last round' : 'quantization: none, the campaign did not complete';
  if (q.state === 'started') return `quantization: job ${q.jobId}; follow it: fedfleet models show ${c.modelName} --version ${c.currentVersionId}`;
  if (q.state === 'refused') return `quantization refused: ${q.errorCode}: ${q.error ?? ''}`;
  return 'quantization: starting';
}


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
      if (values['over-select']) body.overSelect = parseFiniteNumber(values['over-select'], '--over-select');
      if (values.epochs) body.epochs = parsePositiveInteger(values.epochs, '--epochs');
      if (values.batch) body.batchSize = parsePositiveInteger(values.batch, '--batch');
      if (values.lr) body.learningRate = parseFiniteNumber(values.lr, '--lr');
      if (values.strategy) body.strategy = values.strategy;
      if (values['strategy-opt']) {
        body.strategyOptions = Object.fromEntries(values['strategy-opt'].split(',').map((pair) => {
          const [k, v] = pair.split('=');
          if (!k || v === undefined) throw usageError(`--strategy-opt wants k=v pairs, got ${JSON.stringify(pair)}`);
          return [k.trim(), parseFiniteNumber(v, k)];
        }));
      }
      if (values.compression) body.compression = values.compression;
      if (values['deadline-sec']) body.deadlineSec = parseFiniteNumber(values['deadline-sec'], '--deadline-sec');
      if (values['max-examples']) body.maxExamples = parsePositiveInteger(values['max-examples'], '--max-examples');
      if (values.seed) body.seed = Number(values.seed);
      if (values['no-eval']) body.evaluate = false;
      if (values['validation-set']) body.validationSet = values['validation-set'];
      const quantize = quantizeBody(values.quantize, values['quantize-percentile']);
      if (quantize) body.quantize = quantize;
      const campaign = await client.request<CampaignDetailJson>('POST', '/v1/rounds', body);
      if (values.json) return printJson(io, campaign), 0;
      println(io.stdout, `campaign ${campaign.id}: ${countOf(campaign.roundsTotal, 'round')} of ${campaign.modelName}`);
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
        campaigns.map((c) => [c.id, c.modelName, c.state, `${c.roundsDone}/${c.roundsTotal}`, formatAccuracy(c.accuracy.at(-1)),
          formatBytes(c.bytesDown), formatBytes(c.bytesUp), c.rejectedUpdates, c.createdAt]),
      ));
      if (campaigns.some((c) => c.rejectedUpdates > 0)) println(io.stdout, `\n${REJECTED_NOTE}`);
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

/** A round's unused updates: late arrivals apart from updates refused as invalid. */
function rejectionsOf(round: Pick<RoundJson, 'rejections'>): { late: number; invalid: number } {
  let late = 0;
  let invalid = 0;
  for (const r of round.rejections) {
    if (r.code === LATE_CODE) late += r.count;
    else invalid += r.count;
  }
  return { late, invalid };
}

function printCampaign(io: CliIo, c: CampaignDetailJson): void {
  println(io.stdout, `campaign ${c.id}  model ${c.modelName}  ${c.state}  ${c.roundsDone}/${countOf(c.roundsTotal, 'round')}${c.error ? `  error: ${c.error}` : ''}`);
  const quantization = quantizationLine(c);
  if (quantization) println(io.stdout, quantization);
  println(io.stdout, `strategy ${String(c.config.strategy)}  clients ${String(c.config.clients)}  epochs ${String(c.config.epochs)}  batch ${String(c.config.batchSize)}  lr ${String(c.config.learningRate)}  down ${String(c.config.downlink)}  up ${String(c.config.uplink)}`);
  println(io.stdout, formatTable(
    ['ROUND', 'STATE', 'SELECTED', 'UPDATES', 'ACCURACY', 'VALIDATION', 'LOSS', 'TRAIN LOSS', 'BYTES DOWN', 'BYTES UP', 'LATE', 'REJECTED', 'VERSION'],
    c.rounds.map((r) => [r.number, r.state, r.selected, `${r.updates}/${r.targetClients}`, formatAccuracy(r.accuracy), formatAccuracy(r.hubAccuracy),
      r.loss?.toFixed(4) ?? '-', r.trainLoss?.toFixed(4) ?? '-', formatBytes(r.bytesDown), formatBytes(r.bytesUp), rejectionsOf(r).late,
      rejectionsOf(r).invalid, r.resultVersionId ?? '-']),
  ));
  if (!c.rounds.some((r) => r.rejectedUpdates > 0)) return;
  println(io.stdout, `\n${LATE_NOTE}`);
  const byCode = new Map<string, number>();
  for (const r of c.rounds) for (const { code, count } of r.rejections) if (code !== LATE_CODE) byCode.set(code, (byCode.get(code) ?? 0) + count);
  if (byCode.size > 0) println(io.stdout, `refused: ${[...byCode].map(([code, count]) => `${code} ×${count}`).join(', ')}`);
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
        println(io.stdout, `round ${round.number}/${campaign.roundsTotal}: accuracy ${formatAccuracy(round.accuracy)}  loss ${round.loss?.toFixed(4) ?? '-'}  ` +
          `${round.hubAccuracy !== null ? `validation ${formatAccuracy(round.hubAccuracy)}  ` : ''}updates ${round.updates}/${round.targetClients}  ` +
          `↓${formatBytes(round.bytesDown)} ↑${formatBytes(round.bytesUp)}`);
      }
    }
    if (campaign.currentRound && io.stderr.isTTY) {
      const { done, label } = campaignProgress(campaign);
      progress.update(done, label);
    }
    if (campaign.state !== 'running') break;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
    campaign = await client.request<CampaignDetailJson>('GET', `/v1/rounds/${id}`);
  }
  if (io.stderr.isTTY) progress.finish(campaign.state); // otherwise the line below says it
  println(io.stdout, `campaign ${campaign.id} ${campaign.state}: ${campaign.roundsDone}/${countOf(campaign.roundsTotal, 'round')}, final accuracy ${formatAccuracy(campaign.accuracy.at(-1))}${campaign.error ? `, ${campaign.error}` : ''}`);
  // The job starts just after the campaign completed: a few polls see it started (or refused).
  for (let poll = 0; poll < 10 && campaign.quantization?.state === 'pending'; poll++) {
    await new Promise((resolve) => setTimeout(resolve, pollMs));
    campaign = await client.request<CampaignDetailJson>('GET', `/v1/rounds/${id}`);
  }
  const quantization = quantizationLine(campaign);
  if (quantization) println(io.stdout, quantization);
  return campaign.state === 'completed' ? 0 : 1;
}
