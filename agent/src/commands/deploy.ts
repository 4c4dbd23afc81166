import { DeployMode, DeployPhase, ResultCode, type DeployReportProps } from '@fedfleet/proto';
import { AgentError, errorCodeOf } from '../errors.js';
import type { ModelStore } from '../model-store/model-store.js';
import type { CommandHandler } from './command-handler.js';
import { deadlineSignal, type Deadline } from './deadline.js';
import { failurePhase, storeFields, type DeployPhaseValue } from './deploy-report.js';

export interface ModelStoreCommandOptions {
  /** The device's model store, once open (the agent opens it when it has the hub key). */
  store: () => ModelStore | undefined;
  /** Clock for the deadline (ms since the epoch). Default Date.now. */
  now?: () => number;
}

/** The store, or AGENT_ERR_MODEL_STORE when this device has none (yet). */
export function requireStore(options: ModelStoreCommandOptions): ModelStore {
  const store = options.store();
  if (!store) throw new AgentError('AGENT_ERR_MODEL_STORE', 'this device has no model store');
  return store;
}

/**
 * `deploy` (fleet.proto DeployModel, issue 10): install a signed bundle through the model store — verify, download
 * over fetch/chunk (resumable), check, load, self-test, then activate or run in shadow — with a DeployReport at each
 * phase and the usual CommandResult: REFUSED when the bundle is refused before any work (signature, profile, busy,
 * deadline), else ACCEPTED, then DONE or FAILED with the code. Deploying what already serves answers ACTIVATED at
 * once. The deadline aborts an install that has not committed by then (AGENT_ERR_DEADLINE).
 */
export function deployHandler(options: ModelStoreCommandOptions): CommandHandler {
  const now = options.now ?? Date.now;
  return {
    // The store refuses a second install itself (AGENT_ERR_BUSY); a deploy does not stop training or evaluation.
    exclusive: false,
    async run(ctx, command) {
      const deploy = command.deploy;
      const model = deploy?.model;
      const rolloutId = deploy?.rolloutId ?? '';
      const about: DeployReportProps = { rolloutId, commandId: ctx.commandId, modelId: model?.modelId ?? '', versionId: model?.versionId ?? '' };
      let accepted = false;
      const report = (phase: DeployPhaseValue, extra: DeployReportProps = {}): Promise<void> => {
        const state = options.store()?.state ?? {};
        return ctx.publish('reply', { deployReport: { ...about, phase, ...storeFields(state), ...extra } });
      };
      const accept = async (): Promise<void> => {
        if (accepted) return;
        accepted = true;
        await ctx.reply({ code: ResultCode.RESULT_CODE_ACCEPTED });
      };
      const deadlineAtMs = Number(deploy?.deadlineAtMs ?? 0);
      let deadline: Deadline | undefined;
      try {
        if (!deploy || !model?.sha256 || !deploy.manifest?.length || !deploy.signature?.length) {
          throw new AgentError('AGENT_ERR_BAD_COMMAND', 'deploy without model, manifest or signature');
        }
        const store = requireStore(options);
        if (deadlineAtMs && now() >= deadlineAtMs) throw new AgentError('AGENT_ERR_DEADLINE', `deadline ${new Date(deadlineAtMs).toISOString()} passed before the deploy started`);
        deadline = deadlineSignal(deadlineAtMs, now, 'not activated by the deadline');
        const mode = deploy.mode === DeployMode.DEPLOY_MODE_SHADOW ? 'shadow' : 'activate';
        const result = await store.install({
          manifest: deploy.manifest, signature: deploy.signature, mode, rolloutId, commandId: ctx.commandId,
          payload: () => ctx.fetchArtifact({ sha256: model.sha256 ?? '', sizeBytes: Number(model.sizeBytes ?? 0) }, deadline?.signal),
          ...(deploy.selfTestExamples ? { selfTestExamples: deploy.selfTestExamples } : {}),
          signal: AbortSignal.any([ctx.signal, deadline.signal]),
          onPhase: (phase) => {
            // The bundle passed signature and profile checks: the work starts now.
            void accept()
              .then(() => report(phase === 'downloading' ? DeployPhase.DEPLOY_PHASE_DOWNLOADING : DeployPhase.DEPLOY_PHASE_VERIFYING))
              .catch(() => {});
          },
        });
        await accept();
        const outcome = mode === 'shadow' ? DeployPhase.DEPLOY_PHASE_SHADOWING : DeployPhase.DEPLOY_PHASE_ACTIVATED;
        await report(outcome, { selfTest: result.selfTest, ...(result.baseline ? { baseline: result.baseline } : {}), ...(mode === 'shadow' ? { shadow: {} } : {}) });
        await ctx.reply({ code: ResultCode.RESULT_CODE_DONE });
      } catch (error) {
        const code = errorCodeOf(error);
        ctx.log.warn({ commandId: ctx.commandId, rolloutId, versionId: about.versionId, code, err: (error as Error).message }, 'deploy failed');
        await report(failurePhase(code), { errorCode: code, reason: (error as Error).message }).catch(() => {});
        if (accepted) throw error;
        await ctx.reply({ code: ResultCode.RESULT_CODE_REFUSED, errorCode: code, reason: (error as Error).message });
      } finally {
        deadline?.clear();
      }
    },
  };
}
