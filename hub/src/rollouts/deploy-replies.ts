/**
 * The replies to rollout commands, routed here by the commands capability (owner `rollouts`; only replies from the
 * device a command was sent to, while it is owed). DeployReports move a target along its install path: ACTIVATED
 * goes through the health gate (healthy, or failed and rolled back), SHADOWING records the shadow counts (the
 * command stays owed: the device reports them every heartbeat), FAILED or a device's own ROLLED_BACK fail it with the
 * device's code. A CommandResult ends a command without a report: AGENT_ERR_BUSY is retried later, anything else
 * fails the target; DONE of an activation whose ACTIVATED report was lost is checked against the device's Status.
 * A RollbackModel ends with ROLLED_BACK or DONE (nothing to roll back: the device is not on the version).
 */
import { DeployPhase, ResultCode, type CommandResultProps, type DeployReportProps, type SelfTestProps, type ShadowStatsProps } from '@fedfleet/proto';
import type { Clock } from '../clock.js';
import type { ReplyHandler } from '../commands/device-commands.js';
import type { DeviceRepo } from '../fleet/device-repo.js';
import type { HubLogger } from '../logger.js';
import { healthGate } from './health-gate.js';
import type { RolloutEngine } from './rollout-engine.js';
import { servesVersion } from './rollout-plan.js';
import type { RolloutRecord, RolloutRepo, SelfTestRecord, ShadowRecord, TargetRecord } from './rollout-repo.js';
import { isUnsettled } from './rollout-state.js';
import type { RolloutTransitions } from './rollout-transitions.js';

export interface DeployRepliesDeps {
  repo: RolloutRepo;
  engine: RolloutEngine;
  transitions: RolloutTransitions;
  devices: Pick<DeviceRepo, 'get'>;
  settle: (commandId: string) => void;
  clock: Clock;
  log: HubLogger;
}

const BUSY = 'AGENT_ERR_BUSY';

function selfTestOf(p: SelfTestProps | null | undefined): SelfTestRecord | null {
  if (!p) return null;
  return { examples: Number(p.examples ?? 0), accuracy: Number(p.accuracy ?? 0), p50Ms: Number(p.p50Ms ?? 0), p95Ms: Number(p.p95Ms ?? 0) };
}

function shadowOf(p: ShadowStatsProps | null | undefined): ShadowRecord | null {
  if (!p) return null;
  return {
    inferences: Number(p.inferences ?? 0), agreements: Number(p.agreements ?? 0), labelled: Number(p.labelled ?? 0),
    championCorrect: Number(p.championCorrect ?? 0), challengerCorrect: Number(p.challengerCorrect ?? 0),
  };
}

export interface DeployReplies {
  /** The commands capability's reply handler for owner `rollouts`. */
  onReply: ReplyHandler;
  /**
   * The device serves the version and no ACTIVATED report will tell more (its command ended DONE, or its Status showed
   * the version and the report never came): healthy, with no self-test to compare.
   */
  confirmServing(rollout: RolloutRecord, target: TargetRecord): void;
}

export function createDeployReplies(deps: DeployRepliesDeps): DeployReplies {
  const { repo, engine, transitions, clock } = deps;

  /** The device serves the version (ACTIVATED, or confirmed by its Status): the health gate decides. */
  function activated(rollout: RolloutRecord, target: TargetRecord, report: DeployReportProps | undefined): void {
    const selfTest = selfTestOf(report?.selfTest);
    const baseline = selfTestOf(report?.baseline);
    const verdict = healthGate(selfTest, baseline, rollout.config.gate);
    transitions.commit(() => {
      engine.settleCommand(target);
      const patch = {
        // Changed by this rollout when it answered our command (a report), or when we had sent it one.
        selfTest, baseline, previousVersionId: report?.previousVersionId || target.previousVersionId,
        changed: Boolean(report) || target.changed || target.attempts > 0, commandId: null,
        deadlineAtMs: null, retryAtMs: null,
      };
      // Already `activated` when its Status showed the version first (the gate waited for this report).
      const moved = target.state === 'activated'
        ? repo.patchTarget(rollout.id, target.deviceId, patch, clock.now())
        : transitions.moveTarget(target, 'activated', patch);
      if (verdict.ok) transitions.moveTarget(moved, 'healthy', { verdict: 'healthy', errorCode: null, reason: verdict.note });
      else engine.sendRollback(rollout, moved, verdict.reason, { verdict: 'failed', errorCode: 'HUB_ERR_ROLLOUT_GATE_FAILED' });
    });
  }

  function failed(target: TargetRecord, errorCode: string, reason: string): void {
    transitions.commit(() => {
      engine.settleCommand(target);
      transitions.moveTarget(target, 'failed', { verdict: 'failed', errorCode, reason, commandId: null, deadlineAtMs: null, retryAtMs: null });
    });
  }

  function onDeployReport(rollout: RolloutRecord, target: TargetRecord, report: DeployReportProps): void {
    if (report.versionId && report.versionId !== rollout.versionId) return;
    const { state } = target;
    switch (report.phase) {
      case DeployPhase.DEPLOY_PHASE_DOWNLOADING:
        if (state === 'pending' || state === 'downloading') transitions.moveTarget(target, 'downloading', { reason: null });
        return;
      case DeployPhase.DEPLOY_PHASE_VERIFYING:
        if (state === 'pending' || state === 'downloading' || state === 'verifying') transitions.moveTarget(target, 'verifying', { reason: null });
        return;
      case DeployPhase.DEPLOY_PHASE_ACTIVATED:
        if (isUnsettled(state) && state !== 'shadowing') activated(rollout, target, report);
        return;
      case DeployPhase.DEPLOY_PHASE_SHADOWING: {
        const shadow = shadowOf(report.shadow);
        if (state === 'shadowing') repo.patchTarget(rollout.id, target.deviceId, { shadow }, clock.now());
        else if (isUnsettled(state)) {
          // Judged at the latest deviceTimeoutSec from now, with the counts it has by then.
          const deadlineAtMs = clock.now() + rollout.config.deviceTimeoutSec * 1000;
          transitions.moveTarget(target, 'shadowing', { shadow, changed: true, reason: null, deadlineAtMs, retryAtMs: null });
        }
        return;
      }
      case DeployPhase.DEPLOY_PHASE_FAILED:
      case DeployPhase.DEPLOY_PHASE_ROLLED_BACK: {
        if (!isUnsettled(state)) return;
        if (report.errorCode === BUSY) return engine.retryLater(rollout, target, 'device busy: asked again later');
        const byItself = report.phase === DeployPhase.DEPLOY_PHASE_ROLLED_BACK ? 'rolled back by itself: ' : '';
        return failed(target, report.errorCode || 'AGENT_ERR_UNKNOWN', `${byItself}${report.reason || 'failed on the device'}`);
      }
      default:
    }
  }

  function onDeployResult(rollout: RolloutRecord, target: TargetRecord, result: CommandResultProps): void {
    if (!isUnsettled(target.state)) return;
    switch (result.code) {
      case ResultCode.RESULT_CODE_REFUSED:
      case ResultCode.RESULT_CODE_FAILED:
      case ResultCode.RESULT_CODE_CANCELLED:
        if (result.errorCode === BUSY) return engine.retryLater(rollout, target, 'device busy: asked again later');
        return failed(target, result.errorCode || 'AGENT_ERR_UNKNOWN', result.reason || 'the device ended the command');
      case ResultCode.RESULT_CODE_DONE: {
        // A shadow deploy is done once the challenger runs; its SHADOWING reports keep coming on the same command.
        if (target.mode === 'shadow') return;
        const device = deps.devices.get(target.deviceId);
        const sha256 = rollout.bundle.payload.sha256 ?? '';
        if (device && servesVersion(device, rollout.versionId, sha256)) return activated(rollout, target, undefined);
        return failed(target, 'HUB_ERR_ROLLOUT_NO_REPORT', 'the device ended the command without reporting the activation and does not serve the version');
      }
      default:
    }
  }

  function rolledBack(target: TargetRecord): void {
    transitions.commit(() => {
      engine.settleCommand(target);
      transitions.moveTarget(target, 'rolled-back', { commandId: null, deadlineAtMs: null, retryAtMs: null });
    });
  }

  function onRollbackReply(rollout: RolloutRecord, target: TargetRecord, reply: Parameters<ReplyHandler>[0]): void {
    if (target.state !== 'rolling-back') return;
    let code: string | null | undefined;
    let reason: string | null | undefined;
    if (reply.kind === 'deploy') {
      if (reply.report.phase === DeployPhase.DEPLOY_PHASE_ROLLED_BACK) return rolledBack(target);
      if (reply.report.phase !== DeployPhase.DEPLOY_PHASE_FAILED) return;
      ({ errorCode: code, reason } = reply.report);
    } else if (reply.kind === 'result') {
      const { result } = reply;
      if (result.code === ResultCode.RESULT_CODE_DONE) return rolledBack(target);
      if (result.code === ResultCode.RESULT_CODE_ACCEPTED) return;
      ({ errorCode: code, reason } = result);
    } else {
      return;
    }
    if (code === BUSY) return engine.retryLater(rollout, target, target.reason ?? 'rollback');
    deps.log.warn({ rolloutId: rollout.id, deviceId: target.deviceId, code, reason }, 'rollback failed on the device');
    failed(target, code || 'AGENT_ERR_UNKNOWN', `rollback failed: ${reason || 'failed on the device'}`);
  }

  const onReply: ReplyHandler = (reply, sent) => {
    const { commandId } = sent.command;
    const target = repo.byCommand(commandId);
    if (!target || target.deviceId !== sent.deviceId) return deps.settle(commandId);
    const rollout = repo.rollout(target.rolloutId)!;
    if (target.commandKind === 'rollback') onRollbackReply(rollout, target, reply);
    else if (reply.kind === 'deploy') onDeployReport(rollout, target, reply.report);
    else if (reply.kind === 'result') onDeployResult(rollout, target, reply.result);
    engine.advance(rollout.id);
  };
  return { onReply, confirmServing: (rollout, target) => activated(rollout, target, undefined) };
}
