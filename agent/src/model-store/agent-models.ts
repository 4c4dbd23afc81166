/**
 * The agent's side of its model store: opens it once the credentials (and with them the hub's key) are known, runs
 * the `deploy` and `rollback` commands on it, and turns its record into what the agent publishes — the Status
 * fields the hub reconciles rollouts from, and the SHADOWING report of a running shadow run.
 */
import { DeployPhase, type DeployReportProps, type ShadowStatsProps, type StatusProps } from '@fedfleet/proto';
import type { CommandTable } from '../commands/command-handler.js';
import { deployHandler } from '../commands/deploy.js';
import { storeFields } from '../commands/deploy-report.js';
import { rollbackHandler } from '../commands/rollback.js';
import type { DeviceCredentials } from '../credentials.js';
import type { AgentError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { ModelStore } from './model-store.js';
import type { ModelStoreState } from './types.js';

/** Opens the device's store; given the credentials because the hub's public key comes with enrollment. */
export type ModelStoreFactory = (credentials: DeviceCredentials) => Promise<ModelStore>;

export class AgentModels {
  private store: ModelStore | undefined;
  private shadowVersionId = '';

  /**
   * `changed` runs on open and after every change; `shadowChanged` when the challenger is another (or gone), so the
   * agent starts the shadow counts afresh: they compare one pair of versions.
   */
  constructor(private readonly log: Logger, private readonly changed: (state: ModelStoreState, shadowChanged: boolean) => void) {}

  /**
   * Opens the store (once; later calls keep the open one). A store that cannot open is logged, not fatal: the
   * device still trains and reports, and refuses deploys with AGENT_ERR_MODEL_STORE until a restart opens it.
   */
  async open(factory: ModelStoreFactory, credentials: DeviceCredentials): Promise<void> {
    if (this.store) return;
    let store: ModelStore;
    try {
      store = await factory(credentials);
    } catch (error) {
      this.log.error({ code: (error as AgentError).code, err: (error as Error).message }, 'model store did not open');
      return;
    }
    this.store = store;
    store.on('changed', (state) => this.onChanged(state));
    this.onChanged(store.state);
  }

  commands(): CommandTable {
    const options = { store: () => this.store };
    return { deploy: deployHandler(options), rollback: rollbackHandler(options) };
  }

  statusFields(): Pick<StatusProps, 'activeSha256' | 'previousVersionId' | 'shadowVersionId'> {
    const state = this.store?.state ?? {};
    return {
      activeSha256: state.active?.sha256 ?? '',
      previousVersionId: state.previous?.versionId ?? '',
      shadowVersionId: state.shadow?.versionId ?? '',
    };
  }

  /** While a shadow run lasts, the SHADOWING report with its counts so far, under the deploy command that started it. */
  shadowReport(stats: ShadowStatsProps): DeployReportProps | undefined {
    const state = this.store?.state;
    const shadow = state?.shadow;
    if (!shadow) return undefined;
    return {
      rolloutId: shadow.rolloutId ?? '', commandId: shadow.commandId ?? '', modelId: shadow.modelId, versionId: shadow.versionId,
      phase: DeployPhase.DEPLOY_PHASE_SHADOWING, shadow: stats, ...storeFields(state),
    };
  }

  private onChanged(state: ModelStoreState): void {
    const shadowVersionId = state.shadow?.versionId ?? '';
    const shadowChanged = shadowVersionId !== this.shadowVersionId;
    this.shadowVersionId = shadowVersionId;
    this.changed(state, shadowChanged);
  }
}
