/** Creating a model from a built-in architecture: by `POST /v1/models`, or on first use by a campaign. */
import type { AuditLog } from '../audit/audit-log.js';
import { isHubError } from '../errors.js';
import { ARCHITECTURES, createInitialModel, getArchitecture } from './architectures.js';
import type { ModelRecord, ModelRegistry } from './model-registry.js';

type CreatedModel = Awaited<ReturnType<ModelRegistry['create']>>;

export interface BuiltinModelInput {
  name: string;
  architecture: string;
  seed: number;
  description?: string | undefined;
}

/** Registers a model of a built-in architecture; version 1 holds its seeded initial weights. Audited. */
export async function createBuiltinModel(models: ModelRegistry, audit: AuditLog, input: BuiltinModelInput): Promise<CreatedModel> {
  const arch = getArchitecture(input.architecture);
  const created = await models.create({
    name: input.name, architecture: arch.id, description: input.description ?? arch.description, inputShape: arch.inputShape,
    numClasses: arch.numClasses, content: createInitialModel(arch.id, input.seed), source: 'init', metrics: { seed: input.seed },
  });
  audit.record({ actor: 'admin', action: 'model.created', target: created.model.id, details: { name: input.name, architecture: arch.id, seed: input.seed } });
  return created;
}

/**
 * The model a campaign names: an existing model by id or name, or — when the name is a built-in architecture
 * (`mnist-2nn`, `tiny-cnn`) and no model has it — a model of that architecture created under that name with `seed`,
 * so `fedfleet rounds start --model mnist-2nn` works on a fresh hub. Anything else is left to the caller
 * (HUB_ERR_MODEL_NOT_FOUND).
 */
export async function modelForCampaign(models: ModelRegistry, audit: AuditLog, nameOrId: string, seed: number): Promise<ModelRecord | undefined> {
  const existing = models.findModel(nameOrId);
  if (existing || !Object.hasOwn(ARCHITECTURES, nameOrId)) return existing;
  try {
    return (await createBuiltinModel(models, audit, { name: nameOrId, architecture: nameOrId, seed })).model;
  } catch (error) {
    // Two campaigns naming the architecture at once: the other request created it.
    if (isHubError(error) && error.code === 'HUB_ERR_MODEL_EXISTS') return models.findModel(nameOrId);
    throw error;
  }
}
