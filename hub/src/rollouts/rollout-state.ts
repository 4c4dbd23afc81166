/**
 * The state tables of a rollout (DESIGN §5, STYLE 15; hub/docs/rollouts.md draws them). A rollout moves
 * running ⇄ paused → completed | aborted | superseded; each wave pending → (shadowing →) deploying → soaking → passed,
 * or aborted with its rollout; each device target along the install path of issue 10 item 4. Every change goes
 * through a check here (the repo writes nothing else): a change the table does not know is
 * HUB_ERR_ILLEGAL_TRANSITION, never a silent write.
 */
import { HubError } from '../errors.js';

export const ROLLOUT_STATES = ['running', 'paused', 'completed', 'aborted', 'superseded'] as const;
export type RolloutState = (typeof ROLLOUT_STATES)[number];

const ROLLOUT_NEXT: Readonly<Record<RolloutState, readonly RolloutState[]>> = {
  running: ['paused', 'completed', 'aborted', 'superseded'],
  paused: ['running', 'aborted', 'superseded'],
  // A completed rollout keeps deploying to devices that join its selector (continuous); an operator may still abort it
  // (every device it changed rolls back).
  completed: ['aborted', 'superseded'],
  aborted: [],
  superseded: [],
};

export const WAVE_STATES = ['pending', 'shadowing', 'deploying', 'soaking', 'passed', 'aborted'] as const;
export type WaveState = (typeof WAVE_STATES)[number];

const WAVE_NEXT: Readonly<Record<WaveState, readonly WaveState[]>> = {
  pending: ['shadowing', 'deploying', 'passed', 'aborted'],
  shadowing: ['deploying', 'aborted'],
  deploying: ['soaking', 'passed', 'aborted'],
  // Soaking → deploying: a device failed during the soak and the wave's thresholds are judged again.
  soaking: ['passed', 'deploying', 'aborted'],
  passed: [],
  aborted: [],
};

/**
 * Where one device stands in a rollout: `pending` until it answers (also while it is offline, or waits to retry a
 * busy device); `downloading` / `verifying` / `activated` / `shadowing` as it reports; `healthy` = it confirmed it
 * serves the version and passed the health gate; `failed` with a code; `rolling-back` = a RollbackModel is on its
 * way (gate failed, shadow ended, rollout aborted), `rolled-back` once the device confirmed it; `skipped` with a
 * reason (its profile cannot run the bundle, a newer rollout superseded it, the rollout ended before it was sent).
 */
export const TARGET_STATES = [
  'pending', 'downloading', 'verifying', 'activated', 'shadowing', 'healthy', 'failed', 'rolling-back', 'rolled-back', 'skipped',
] as const;
export type TargetState = (typeof TARGET_STATES)[number];

const TARGET_NEXT: Readonly<Record<TargetState, readonly TargetState[]>> = {
  pending: ['pending', 'downloading', 'verifying', 'activated', 'shadowing', 'healthy', 'failed', 'rolling-back', 'skipped'],
  downloading: ['pending', 'downloading', 'verifying', 'activated', 'shadowing', 'healthy', 'failed', 'rolling-back', 'skipped'],
  verifying: ['pending', 'verifying', 'activated', 'shadowing', 'healthy', 'failed', 'rolling-back', 'skipped'],
  activated: ['healthy', 'failed', 'rolling-back', 'skipped'],
  // Shadowing → pending: the shadow passed, the device is deployed again in ACTIVATE mode.
  shadowing: ['shadowing', 'pending', 'failed', 'rolling-back', 'skipped'],
  // Healthy → failed: during the soak its Status shows it no longer serves the version.
  healthy: ['failed', 'rolling-back'],
  failed: ['rolling-back'],
  // Rolling-back → rolling-back: a busy device is sent the RollbackModel again.
  'rolling-back': ['rolling-back', 'rolled-back', 'failed'],
  'rolled-back': [],
  skipped: [],
};

/** Target states in which the device still owes the rollout an answer (a wave waits for it while it is online). */
export const UNSETTLED_TARGET_STATES: readonly TargetState[] = ['pending', 'downloading', 'verifying', 'activated', 'shadowing'];

export function isUnsettled(state: TargetState): boolean {
  return UNSETTLED_TARGET_STATES.includes(state);
}

export function isRolloutFinished(state: RolloutState): boolean {
  return state === 'aborted' || state === 'superseded';
}

function illegal(what: string, id: string, from: string, to: string): HubError {
  return new HubError('HUB_ERR_ILLEGAL_TRANSITION', { message: `${what} ${id}: ${from} → ${to} is not a transition`, details: { id, from, to } });
}

export function checkRolloutTransition(id: string, from: RolloutState, to: RolloutState): void {
  if (!ROLLOUT_NEXT[from].includes(to)) throw illegal('rollout', id, from, to);
}

export function checkWaveTransition(id: string, from: WaveState, to: WaveState): void {
  if (!WAVE_NEXT[from].includes(to)) throw illegal('rollout wave', id, from, to);
}

export function checkTargetTransition(id: string, from: TargetState, to: TargetState): void {
  if (!TARGET_NEXT[from].includes(to)) throw illegal('rollout target', id, from, to);
}
