/**
 * DeployReports (fleet.proto `DeployReport`, on `reply`): the phases of a deploy or rollback as the hub's rollouts
 * see them, each stamped with what the device serves after that step. Sent at each phase; the latest wins.
 */
import { DeployPhase, type DeployReportProps, type fedfleet } from '@fedfleet/proto';

/** A fleet.proto DeployPhase value. */
export type DeployPhaseValue = fedfleet.v1.DeployPhase;
import type { AgentErrorCode } from '../errors.js';
import type { ModelStoreState } from '../model-store/types.js';

/**
 * Codes of an install that got as far as loading the new version (load, fit, self-test): the device went back to
 * what it served by itself, so the phase is ROLLED_BACK; anything earlier is FAILED.
 */
const SELF_ROLLBACK_CODES: ReadonlySet<string> = new Set<AgentErrorCode>([
  'AGENT_ERR_MODEL_LOAD', 'AGENT_ERR_MODEL_TOO_LARGE', 'AGENT_ERR_CANNOT_RUN_FLOAT', 'AGENT_ERR_SELF_TEST_FAILED',
]);

export function failurePhase(code: string): DeployPhaseValue {
  return SELF_ROLLBACK_CODES.has(code) ? DeployPhase.DEPLOY_PHASE_ROLLED_BACK : DeployPhase.DEPLOY_PHASE_FAILED;
}

/** The store's side of every report: what serves now and what it would roll back to. */
export function storeFields(state: ModelStoreState): Pick<DeployReportProps, 'activeVersionId' | 'previousVersionId'> {
  return { activeVersionId: state.active?.versionId ?? '', previousVersionId: state.previous?.versionId ?? '' };
}
