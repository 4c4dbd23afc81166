import { EventEmitter } from 'node:events';
import {
  ResultCode, type CommandKind, type CommandProps, type CommandResultProps, type DeviceTopicKind, type HardwareProfileProps,
  type ShadowStatsProps, type StatusProps, type TelemetryProps,
} from '@fedfleet/proto';
import { ArtifactFetcher } from './artifact-fetcher.js';
import { MemoryArtifactCache, type ArtifactCache } from './artifact-cache.js';
import type { BackoffOptions } from './backoff.js';
import type { CommandContext, CommandTable } from './commands/command-handler.js';
import { configHandler } from './commands/config.js';
import type { CredentialStore, DeviceCredentials } from './credentials.js';
import { enroll } from './enroll.js';
import { AgentError, errorCodeOf } from './errors.js';
import { silentLogger, type Logger } from './logger.js';
import { AgentModels, type ModelStoreFactory } from './model-store/agent-models.js';
import type { InferenceService } from './serving/inference-service.js';
import { inferenceTelemetry } from './serving/inference-stats.js';
import { DeviceSession } from './session.js';
import type { TelemetrySource } from './telemetry.js';
import { AGENT_VERSION } from './version.js';

export interface AgentOptions {
  credentials: CredentialStore;
  /** Used only when the store holds no credentials yet. */
  enrollment?: { hubUrl: string; token: string; name: string; labels?: Record<string, string> };
  profile: HardwareProfileProps;
  /**
   * Local training examples this device holds (its data partition), declared in every status so that the hub can
   * bound the weight of this device's updates by it. Default: none declared (the hub then bounds by the round's
   * median alone).
   */
  trainExamples?: number;
  telemetry: TelemetrySource;
  /** Heartbeat period in seconds; default: what the hub said at enrollment, else 10. */
  heartbeatSec?: number;
  keepaliveSec?: number;
  backoff?: BackoffOptions;
  artifactCache?: ArtifactCache;
  /** Extra or replacement command handlers (training and evaluation are added by the ML layer). */
  commands?: CommandTable;
  agentVersion?: string;
  logger?: Logger;
  /** Fetch used for enrollment (tests). */
  fetch?: typeof fetch;
  /** Chunk download tuning. */
  fetchChunkSize?: number;
  fetchChunkTimeoutMs?: number;
  /** Largest envelope accepted from the hub (and sent); larger ones are dropped and counted. Default 4 MiB. */
  maxPayloadBytes?: number;
  /** The device's inference path (agent/src/serving): its counts go into every telemetry, its shadow counts into deploy reports. */
  inference?: Pick<InferenceService, 'stats' | 'shadowStats' | 'inputs'>;
  /** Opens the model store at start, once the hub key is known: enables `deploy`/`rollback`, fills the store's Status fields. */
  modelStore?: ModelStoreFactory;
}

export interface AgentEvents {
  enrolled: [DeviceCredentials];
  online: [];
  offline: [{ reason: string }];
  reconnecting: [{ attempt: number; delayMs: number }];
  telemetry: [TelemetryProps];
  command: [{ commandId: string; kind: CommandKind | 'unknown' }];
  result: [CommandResultProps];
  /** A message from the hub that was malformed, oversize or misplaced: dropped (see {@link Agent.rejectedMessages}). */
  rejected: [{ code: string; kind: DeviceTopicKind }];
  fatal: [AgentError];
}

/** Commands remembered for idempotence: a QoS 1 redelivery of one of these is answered, not re-run. */
const REMEMBERED_COMMANDS = 256;

/**
 * The on-device agent: enrolls once, keeps an MQTT session with a last will, publishes status and telemetry every
 * heartbeat, and runs the commands the hub sends through a table of handlers (one per command kind).
 */
export class Agent extends EventEmitter<AgentEvents> {
  private session: DeviceSession | undefined;
  private creds: DeviceCredentials | undefined;
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private heartbeatSec: number;
  private readonly log: Logger;
  private readonly commands: CommandTable;
  private readonly fetcher: ArtifactFetcher;
  private readonly running = new Map<string, AbortController>();
  private readonly results = new Map<string, CommandResultProps | undefined>();
  private busyWith: string | undefined;
  private rejectedCount = 0;
  private activeModel: { modelId: string; versionId: string } = { modelId: '', versionId: '' };
  private readonly models: AgentModels;
  private readonly bootAtMs = Date.now();

  constructor(private readonly options: AgentOptions) {
    super();
    this.log = options.logger ?? silentLogger;
    this.heartbeatSec = options.heartbeatSec ?? 0;
    this.models = new AgentModels(this.log, (state, shadowChanged) => {
      if (shadowChanged) this.options.inference?.shadowStats.reset();
      this.setActiveModel(state.active?.modelId ?? '', state.active?.versionId ?? '');
    });
    // While a shadow run lasts, each heartbeat's telemetry is followed by its SHADOWING counts (QoS 0: the latest wins).
    this.on('telemetry', () => {
      const deployReport = this.models.shadowReport(this.shadowStats());
      if (deployReport) this.session?.publish('reply', { deployReport }, { qos: 0 }).catch(() => {});
    });
    this.commands = {
      config: configHandler((config) => {
        if (config.heartbeatSec) this.setHeartbeat(config.heartbeatSec);
      }),
      ...(options.modelStore ? this.models.commands() : {}),
      ...options.commands,
    };
    this.fetcher = new ArtifactFetcher({
      request: (req) => this.requireSession().publish('fetch', { chunkRequest: req }),
      cache: options.artifactCache ?? new MemoryArtifactCache(),
      ...(options.fetchChunkSize ? { chunkSize: options.fetchChunkSize } : {}),
      ...(options.fetchChunkTimeoutMs ? { chunkTimeoutMs: options.fetchChunkTimeoutMs } : {}),
    });
  }

  get deviceId(): string | undefined {
    return this.creds?.deviceId;
  }

  get credentials(): DeviceCredentials | undefined {
    return this.creds;
  }

  get online(): boolean {
    return this.session?.connected ?? false;
  }

  get busy(): boolean {
    return this.busyWith !== undefined;
  }

  /** Messages from the hub dropped because they were malformed, oversize or misplaced. */
  get rejectedMessages(): number {
    return this.rejectedCount;
  }

  /** Bytes of artifacts received over MQTT. */
  get bytesFetched(): number {
    return this.fetcher.bytesReceived;
  }

  /**
   * Enrolls if needed, then connects. Resolves once the session is started (not necessarily connected). May be
   * called again after {@link stop} or {@link crash} to come back with a fresh session.
   */
  async start(): Promise<void> {
    if (this.session) {
      const previous = this.session;
      this.session = undefined;
      previous.removeAllListeners();
      await previous.stop('restart');
    }
    this.creds = await this.options.credentials.load();
    if (!this.creds) {
      const enrollment = this.options.enrollment;
      if (!enrollment) throw new AgentError('AGENT_ERR_NOT_ENROLLED');
      this.creds = await enroll({ ...enrollment, profile: this.options.profile, ...(this.options.fetch ? { fetch: this.options.fetch } : {}) });
      await this.options.credentials.save(this.creds);
      this.log.info({ deviceId: this.creds.deviceId, mqttUrl: this.creds.mqttUrl }, 'enrolled');
      this.emit('enrolled', this.creds);
    }
    if (!this.heartbeatSec) this.heartbeatSec = this.creds.heartbeatSec || 10;
    if (this.options.modelStore) await this.models.open(this.options.modelStore, this.creds);
    const session = new DeviceSession({
      credentials: this.creds,
      status: () => this.status(),
      ...(this.options.keepaliveSec ? { keepaliveSec: this.options.keepaliveSec } : {}),
      ...(this.options.backoff ? { backoff: this.options.backoff } : {}),
      ...(this.options.maxPayloadBytes ? { maxPayloadBytes: this.options.maxPayloadBytes } : {}),
      logger: this.log,
    });
    this.session = session;
    session.on('connected', () => {
      this.log.info({ deviceId: this.creds?.deviceId }, 'online');
      this.emit('online');
      this.startHeartbeat();
    });
    session.on('disconnected', ({ reason }) => {
      this.stopHeartbeat();
      this.emit('offline', { reason });
    });
    session.on('reconnecting', (info) => this.emit('reconnecting', info));
    session.on('rejected', (info) => {
      this.rejectedCount += 1;
      this.emit('rejected', info);
    });
    session.on('fatal', (error) => {
      this.stopHeartbeat();
      this.emit('fatal', error);
    });
    session.on('message', ({ kind, envelope }) => {
      if (kind === 'cmd' && envelope.command) {
        // A reply that cannot be sent (the session ended meanwhile) must not become an unhandled rejection.
        this.onCommand(envelope.command).catch((error: Error) => this.log.warn({ err: error.message }, 'command reply not sent'));
      }
      else if (kind === 'chunk' && envelope.chunk) this.fetcher.onChunk(envelope.chunk);
    });
    session.start();
  }

  /** Graceful stop: cancels running work, publishes OFFLINE, disconnects. */
  async stop(reason = 'shutdown'): Promise<void> {
    this.stopHeartbeat();
    for (const controller of this.running.values()) controller.abort(new AgentError('AGENT_ERR_CANCELLED', reason));
    this.fetcher.close();
    await this.session?.stop(reason);
  }

  /**
   * Fault injection: behaves like the process dying — the connection drops without DISCONNECT (the broker publishes
   * the last will), running commands are abandoned and nothing reconnects until {@link start} is called again.
   */
  crash(): void {
    this.stopHeartbeat();
    for (const [commandId, controller] of this.running) {
      controller.abort(new AgentError('AGENT_ERR_CANCELLED', 'crashed'));
      // Forget it unless it already has a result, so that the hub's redelivery after the restart is run again.
      if (this.results.get(commandId) === undefined) this.results.delete(commandId);
    }
    this.running.clear();
    this.busyWith = undefined;
    this.session?.crash();
  }

  /** Records the model the device now serves; the next status carries it. */
  setActiveModel(modelId: string, versionId: string): void {
    this.activeModel = { modelId, versionId };
    this.refreshStatus();
  }

  /** Counts of the current shadow run (all zero without an inference path): what a SHADOWING DeployReport carries. */
  shadowStats(): ShadowStatsProps {
    return this.options.inference?.shadowStats.snapshot() ?? {};
  }

  setHeartbeat(heartbeatSec: number): void {
    this.heartbeatSec = heartbeatSec;
    if (this.heartbeatTimer) this.startHeartbeat();
    this.refreshStatus();
  }

  private status(): StatusProps {
    return {
      agentVersion: this.options.agentVersion ?? AGENT_VERSION,
      activeModelId: this.activeModel.modelId,
      activeVersionId: this.activeModel.versionId,
      profile: this.options.profile,
      trainExamples: this.options.trainExamples ?? 0,
      busy: this.busy,
      heartbeatSec: this.heartbeatSec,
      bootAtMs: this.bootAtMs,
      ...this.models.statusFields(),
    };
  }

  /**
   * Re-publishes the status in the background. A publish that fails (the session is stopping or crashed) is logged:
   * as an unhandled rejection it would end the process (tfjs-backend-wasm rethrows those as uncaught exceptions).
   */
  private refreshStatus(): void {
    this.session?.publishStatus().catch((error: Error) => this.log.debug({ err: error.message }, 'status not published'));
  }

  private requireSession(): DeviceSession {
    if (!this.session) throw new AgentError('AGENT_ERR_HUB_UNREACHABLE', 'agent not started');
    return this.session;
  }

  private startHeartbeat(): void {
    this.stopHeartbeat();
    void this.sendTelemetry();
    this.heartbeatTimer = setInterval(() => void this.sendTelemetry(), this.heartbeatSec * 1000);
    this.heartbeatTimer.unref?.();
  }

  private stopHeartbeat(): void {
    clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = undefined;
  }

  private async sendTelemetry(): Promise<void> {
    const session = this.session;
    if (!session?.connected) return;
    try {
      const telemetry: TelemetryProps = {
        ...(await this.options.telemetry.sample()),
        ...(this.options.inference ? inferenceTelemetry(this.options.inference.stats.snapshot()) : {}),
        ...this.options.inference?.inputs.telemetry(),
        heartbeatSec: this.heartbeatSec,
        activeVersionId: this.activeModel.versionId,
      };
      await session.publish('telemetry', { telemetry }, { qos: 0 });
      this.emit('telemetry', telemetry);
    } catch (error) {
      this.log.warn({ err: (error as Error).message }, 'telemetry not sent');
    }
  }

  private async onCommand(command: CommandProps): Promise<void> {
    const commandId = command.commandId ?? '';
    const kind = (command as { kind?: CommandKind }).kind;
    this.emit('command', { commandId, kind: kind ?? 'unknown' });
    if (!commandId) {
      // Without an id a command can be neither de-duplicated nor answered meaningfully.
      await this.sendResult({ commandId, code: ResultCode.RESULT_CODE_REFUSED, errorCode: 'AGENT_ERR_BAD_COMMAND', reason: 'command without commandId' }).catch(() => {});
      return;
    }
    if (this.results.has(commandId)) {
      // [MQTT-4.3.2] QoS 1 may redeliver: answer again with the result we have, never run twice.
      const previous = this.results.get(commandId);
      if (previous) await this.sendResult(previous).catch(() => {});
      return;
    }
    this.remember(commandId, undefined);
    if (kind === 'cancel') {
      this.cancel(command.cancel?.targetCommandId ?? '', command.cancel?.reason ?? 'cancelled by hub');
      await this.sendResult({ commandId, code: ResultCode.RESULT_CODE_DONE });
      return;
    }
    const handler = kind ? this.commands[kind] : undefined;
    if (!handler) {
      await this.sendResult({ commandId, code: ResultCode.RESULT_CODE_REFUSED, errorCode: 'AGENT_ERR_BAD_COMMAND', reason: `no handler for ${kind ?? 'an empty command'}` });
      return;
    }
    if (handler.exclusive && this.busyWith) {
      await this.sendResult({ commandId, code: ResultCode.RESULT_CODE_REFUSED, errorCode: 'AGENT_ERR_BUSY', reason: `busy with ${this.busyWith}` });
      return;
    }
    const controller = new AbortController();
    this.running.set(commandId, controller);
    if (handler.exclusive) {
      this.busyWith = commandId;
      this.refreshStatus();
    }
    const ctx = this.context(commandId, controller.signal);
    try {
      await handler.run(ctx, command);
    } catch (error) {
      const cancelled = controller.signal.aborted || errorCodeOf(error) === 'AGENT_ERR_CANCELLED';
      this.log.warn({ commandId, code: errorCodeOf(error), err: (error as Error).message }, 'command failed');
      // Not awaited: the work has stopped, so the slot is free now, not one round trip later — the hub may already
      // be sending the next task (QoS 1 keeps this result ahead of the answer to it).
      void ctx
        .reply({
          code: cancelled ? ResultCode.RESULT_CODE_CANCELLED : ResultCode.RESULT_CODE_FAILED,
          errorCode: cancelled ? 'AGENT_ERR_CANCELLED' : errorCodeOf(error),
          reason: (error as Error).message,
        })
        .catch(() => {});
    } finally {
      this.running.delete(commandId);
      if (this.busyWith === commandId) {
        this.busyWith = undefined;
        this.refreshStatus();
      }
    }
  }

  private cancel(targetCommandId: string, reason: string): void {
    for (const [commandId, controller] of this.running) {
      if (!targetCommandId || commandId === targetCommandId) controller.abort(new AgentError('AGENT_ERR_CANCELLED', reason));
    }
  }

  private context(commandId: string, signal: AbortSignal): CommandContext {
    const session = this.requireSession();
    return {
      deviceId: session.deviceId,
      commandId,
      log: this.log,
      signal,
      reply: (result) => this.sendResult({ ...result, commandId }),
      progress: (progress) => {
        void session.publish('reply', { progress: { ...progress, commandId } }, { qos: 0 }).catch(() => {});
      },
      publish: (kind, body) => session.publish(kind, body),
      fetchArtifact: (ref, until) => this.fetcher.fetch(ref, until ? AbortSignal.any([signal, until]) : signal),
    };
  }

  private async sendResult(result: CommandResultProps): Promise<void> {
    const commandId = result.commandId ?? '';
    const code = result.code ?? ResultCode.RESULT_CODE_UNSPECIFIED;
    // Only final outcomes are replayed on redelivery; ACCEPTED is a waypoint.
    if (commandId && code !== ResultCode.RESULT_CODE_ACCEPTED) this.remember(commandId, result);
    this.emit('result', result);
    await this.requireSession().publish('reply', { commandResult: result });
  }

  private remember(commandId: string, result: CommandResultProps | undefined): void {
    this.results.delete(commandId);
    this.results.set(commandId, result);
    while (this.results.size > REMEMBERED_COMMANDS) this.results.delete(this.results.keys().next().value!);
  }
}
