/** A CommandContext that records what a handler sends, for handler-level tests without a hub or a session. */
import type { CommandResultProps, EnvelopeProps, ProgressProps } from '@fedfleet/proto';
import type { CommandContext } from '../../src/commands/command-handler.js';
import { silentLogger } from '../../src/logger.js';

export interface FakeContext extends CommandContext {
  readonly replies: Array<Omit<CommandResultProps, 'commandId'>>;
  readonly published: Array<{ kind: 'update' | 'reply'; body: Omit<EnvelopeProps, 'deviceId'> }>;
  readonly progressReports: Array<Omit<ProgressProps, 'commandId'>>;
  /** Artifacts asked for, by sha256. */
  readonly fetched: string[];
  readonly controller: AbortController;
}

/** `artifacts` maps sha256 → bytes served by fetchArtifact; `onFetch` runs as a fetch resolves. */
export function fakeContext(artifacts: Record<string, Uint8Array> = {}, onFetch?: (ctx: FakeContext) => void): FakeContext {
  const controller = new AbortController();
  const ctx: FakeContext = {
    replies: [],
    published: [],
    progressReports: [],
    fetched: [],
    controller,
    deviceId: 'dev-1',
    commandId: 'cmd-1',
    log: silentLogger,
    signal: controller.signal,
    reply: async (result) => void ctx.replies.push(result),
    progress: (progress) => void ctx.progressReports.push(progress),
    publish: async (kind, body) => void ctx.published.push({ kind, body }),
    fetchArtifact: async ({ sha256 }) => {
      ctx.fetched.push(sha256);
      const bytes = artifacts[sha256];
      if (!bytes) throw new Error(`no artifact ${sha256}`);
      onFetch?.(ctx);
      return bytes;
    },
  };
  return ctx;
}
