/**
 * Whether a stored campaign can be resumed. The API refuses non-finite numbers now (http/finite-numbers.ts), but a
 * database may hold campaigns stored before, or edited by hand: a `clients` of `null` (JSON's Infinity) once made
 * every start fail with `NOT NULL constraint failed`. The coordinator checks each running campaign with this before
 * resuming it, fails the ones it cannot use with HUB_ERR_CAMPAIGN_UNUSABLE, and resumes the rest.
 */
import { ENCODINGS, isEncoding } from '@fedfleet/proto';
import type { CampaignConfig } from './campaign-config.js';
import { storedQuantizeProblems } from './campaign-quantize.js';
import type { CampaignRecord } from './round-repo.js';

type NumberKey = { [K in keyof CampaignConfig]-?: NonNullable<CampaignConfig[K]> extends number ? K : never }[keyof CampaignConfig];
type StringKey = { [K in keyof CampaignConfig]-?: NonNullable<CampaignConfig[K]> extends string ? K : never }[keyof CampaignConfig];

/** Numbers every stored config has. */
const REQUIRED_NUMBERS = [
  'clients', 'minClients', 'overSelect', 'deadlineSec', 'selectionTimeoutSec', 'evalTimeoutSec', 'epochs', 'batchSize',
  'learningRate', 'proximalMu', 'maxExamples', 'maxUpdateNorm', 'seed',
] as const satisfies readonly NumberKey[];
/** Numbers added later: absent in older rows (then defaulted where read), finite when present. */
const OPTIONAL_NUMBERS = ['rejoinGraceSec', 'weightCapFactor'] as const satisfies readonly NumberKey[];
const REQUIRED_STRINGS = ['selector', 'strategy'] as const satisfies readonly StringKey[];
/** Encodings, read in today's vocabulary (round-repo upgrades the deprecated `none`). */
const REQUIRED_ENCODINGS = ['downlink', 'uplink'] as const satisfies readonly StringKey[];

const isFiniteNumber = (value: unknown): value is number => typeof value === 'number' && Number.isFinite(value);
const isObject = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null && !Array.isArray(value);

/** What makes `campaign` unusable; empty when it can be resumed. */
export function storedCampaignProblems(campaign: CampaignRecord): string[] {
  const problems = campaign.unusable ? [campaign.unusable] : [];
  const config: unknown = campaign.config;
  if (!isObject(config)) return [...problems, 'config is not an object'];
  for (const key of REQUIRED_NUMBERS) if (!isFiniteNumber(config[key])) problems.push(`config.${key} is not a finite number`);
  for (const key of OPTIONAL_NUMBERS) {
    if (config[key] !== undefined && !isFiniteNumber(config[key])) problems.push(`config.${key} is not a finite number`);
  }
  for (const key of REQUIRED_STRINGS) if (typeof config[key] !== 'string') problems.push(`config.${key} is not a string`);
  for (const key of REQUIRED_ENCODINGS) {
    if (!isEncoding(config[key])) problems.push(`config.${key} is not one of ${ENCODINGS.join(', ')}`);
  }
  for (const key of ['strategyOptions', 'constraints'] as const) {
    const value = config[key];
    if (!isObject(value)) problems.push(`config.${key} is not an object`);
    else if (Object.values(value).some((v) => typeof v === 'number' && !Number.isFinite(v))) problems.push(`config.${key} holds a non-finite number`);
  }
  problems.push(...storedQuantizeProblems(config.quantize));
  if (!Number.isInteger(campaign.roundsTotal) || campaign.roundsTotal < 1) problems.push(`rounds_total ${campaign.roundsTotal} is not a positive integer`);
  return problems;
}
