/** Builds the API's JSON views of campaigns and rounds from the repository records. */
import type { DeviceRepo } from '../fleet/device-repo.js';
import type { ModelRegistry } from '../models/model-registry.js';
import type { CampaignQuantization } from './campaign-quantization-repo.js';
import type { CampaignRecord, RoundRecord, RoundRepo } from './round-repo.js';
import type { CampaignDetailJson, CampaignJson, RoundJson } from './schemas.js';

const iso = (ms: number) => new Date(ms).toISOString();

export function roundView(round: RoundRecord, repo: RoundRepo, devices: DeviceRepo): RoundJson {
  const participants = repo.participants(round.id);
  const rejections = repo.rejectionsOfRound(round.id);
  return {
    id: round.id, number: round.number, state: round.state, baseVersionId: round.baseVersionId,
    resultVersionId: round.resultVersionId, targetClients: round.targetClients, minClients: round.minClients,
    selected: participants.length, updates: participants.filter((p) => p.state === 'updated').length,
    accuracy: round.metrics.accuracy ?? null, loss: round.metrics.loss ?? null, trainLoss: round.metrics.trainLoss ?? null,
    hubAccuracy: round.metrics.hubAccuracy ?? null, hubLoss: round.metrics.hubLoss ?? null,
    bytesDown: round.bytesDown, bytesUp: round.bytesUp, rejectedUpdates: rejections.reduce((s, r) => s + r.count, 0), rejections,
    error: round.error, errorCode: round.errorCode, deadlineAt: round.deadlineAtMs ? iso(round.deadlineAtMs) : null, durationMs: round.metrics.durationMs ?? null,
    createdAt: iso(round.createdAtMs), updatedAt: iso(round.updatedAtMs),
    participants: participants.map((p) => ({
      deviceId: p.deviceId, deviceName: devices.get(p.deviceId)?.name ?? null, state: p.state, reason: p.reason,
      exampleCount: p.exampleCount, declaredExamples: p.declaredExamples, weight: p.weight, updateBytes: p.updateBytes,
      trainMetrics: p.trainMetrics, evalAccuracy: p.evalAccuracy, evalLoss: p.evalLoss, evalExamples: p.evalExamples,
    })),
  };
}

function summary(campaign: CampaignRecord, rounds: RoundJson[], registry: ModelRegistry): CampaignJson {
  const committed = rounds.filter((r) => r.state === 'committed');
  const current = rounds.findLast((r) => r.state !== 'committed') ?? rounds[rounds.length - 1];
  let currentRound: CampaignJson['currentRound'] = null;
  if (current) {
    const { participants: _participants, ...rest } = current;
    currentRound = rest;
  }
  return {
    id: campaign.id, modelId: campaign.modelId, modelName: registry.findModel(campaign.modelId)?.name ?? campaign.modelId,
    state: campaign.state, roundsTotal: campaign.roundsTotal, roundsDone: campaign.roundsDone,
    baseVersionId: campaign.baseVersionId, currentVersionId: campaign.currentVersionId,
    config: campaign.config as unknown as Record<string, unknown>, error: campaign.error, errorCode: campaign.errorCode,
    accuracy: committed.map((r) => r.accuracy), loss: committed.map((r) => r.loss), hubAccuracy: committed.map((r) => r.hubAccuracy),
    bytesDown: rounds.reduce((s, r) => s + r.bytesDown, 0), bytesUp: rounds.reduce((s, r) => s + r.bytesUp, 0),
    rejectedUpdates: rounds.reduce((s, r) => s + r.rejectedUpdates, 0),
    createdAt: iso(campaign.createdAtMs), updatedAt: iso(campaign.updatedAtMs), currentRound,
    ...(campaign.quantization ? { quantization: quantizationView(campaign.quantization) } : {}),
  };
}

function quantizationView({ updatedAtMs, ...rest }: CampaignQuantization): NonNullable<CampaignJson['quantization']> {
  return { ...rest, updatedAt: iso(updatedAtMs) };
}

export function campaignView(campaign: CampaignRecord, repo: RoundRepo, devices: DeviceRepo, registry: ModelRegistry): CampaignDetailJson {
  const rounds = repo.roundsOf(campaign.id).map((r) => roundView(r, repo, devices));
  return { ...summary(campaign, rounds, registry), rounds };
}

export function campaignSummaryView(campaign: CampaignRecord, repo: RoundRepo, devices: DeviceRepo, registry: ModelRegistry): CampaignJson {
  const { rounds: _rounds, ...rest } = campaignView(campaign, repo, devices, registry);
  return rest;
}
