/**
 * Commands to Mosquitto's dynamic-security plugin over its control topic (mosquitto.org/documentation/dynamic-security):
 * JSON `{ commands: [...] }` published to `$CONTROL/dynamic-security/v1`, answers `{ responses: [...] }` on
 * `.../response`. Every hub subscribed there sees every answer, so each command carries a `correlationData` unique to
 * this hub and is matched by it. A command the plugin refuses rejects with HUB_ERR_BROKER_PROVISIONING and the
 * plugin's own text, which callers may test with {@link isDynsecError} (the plugin has no error codes).
 */
import { randomBytes } from 'node:crypto';
import type { MqttClient } from 'mqtt';
import type { Clock, TimerHandle } from '../../clock.js';
import { HubError } from '../../errors.js';

export const DYNSEC_TOPIC = '$CONTROL/dynamic-security/v1';
export const DYNSEC_RESPONSE_TOPIC = `${DYNSEC_TOPIC}/response`;

/** One dynamic-security command: `command` plus its fields, e.g. `{ command: 'deleteClient', username }`. */
export interface DynsecCommand {
  command: string;
  [field: string]: unknown;
}

interface DynsecResponse {
  command?: string;
  correlationData?: string;
  error?: string;
  data?: unknown;
}

export interface DynsecClient {
  /** Sends one command; resolves to its `data` (list commands), rejects with HUB_ERR_BROKER_PROVISIONING. */
  send(command: DynsecCommand): Promise<unknown>;
  /** Feeds a message of the response topic (the owner routes it here); returns whether it was one. */
  handleMessage(topic: string, payload: Uint8Array): boolean;
  /** Rejects every pending command (the connection went). */
  failAll(reason: string): void;
}

/** Whether an error is the plugin refusing a command with a text matching `pattern` (e.g. /not found/i). */
export function isDynsecError(error: unknown, pattern: RegExp): boolean {
  return error instanceof HubError && error.code === 'HUB_ERR_BROKER_PROVISIONING' && pattern.test(error.message);
}

export interface DynsecClientOptions {
  client: Pick<MqttClient, 'publishAsync'>;
  /** Drives the answer timeout. */
  clock: Clock;
  /** How long to wait for an answer, in milliseconds. Default 10 s. */
  timeoutMs?: number;
}

export function createDynsecClient(options: DynsecClientOptions): DynsecClient {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const prefix = randomBytes(6).toString('hex');
  let next = 1;
  const { clock } = options;
  const pending = new Map<string, { resolve(data: unknown): void; reject(error: Error): void; timer: TimerHandle }>();

  function settle(correlationData: string, outcome: { data?: unknown; error?: Error }): void {
    const waiter = pending.get(correlationData);
    if (!waiter) return;
    pending.delete(correlationData);
    clock.clearTimer(waiter.timer);
    if (outcome.error) waiter.reject(outcome.error);
    else waiter.resolve(outcome.data);
  }

  const refused = (command: string, text: string) =>
    new HubError('HUB_ERR_BROKER_PROVISIONING', { message: `dynamic-security ${command}: ${text}`, details: { command } });

  return {
    async send(command) {
      const correlationData = `${prefix}-${next++}`;
      const answered = new Promise<unknown>((resolve, reject) => {
        const timer = clock.setTimeout(() => settle(correlationData, { error: refused(command.command, `no answer within ${timeoutMs} ms`) }), timeoutMs);
        pending.set(correlationData, { resolve, reject, timer });
      });
      answered.catch(() => {}); // it may settle while the publish is awaited; the caller gets it below
      try {
        await options.client.publishAsync(DYNSEC_TOPIC, JSON.stringify({ commands: [{ ...command, correlationData }] }), { qos: 1 });
      } catch (error) {
        settle(correlationData, { error: refused(command.command, (error as Error).message) });
      }
      return answered;
    },
    handleMessage(topic, payload) {
      if (topic !== DYNSEC_RESPONSE_TOPIC) return false;
      let responses: DynsecResponse[] = [];
      try {
        responses = (JSON.parse(Buffer.from(payload).toString('utf8')) as { responses?: DynsecResponse[] }).responses ?? [];
      } catch {
        return true; // not ours to judge; an answer we wait for then times out
      }
      for (const response of responses) {
        if (typeof response.correlationData !== 'string') continue;
        settle(response.correlationData, response.error ? { error: refused(response.command ?? '?', response.error) } : { data: response.data });
      }
      return true;
    },
    failAll(reason) {
      for (const correlationData of [...pending.keys()]) settle(correlationData, { error: refused('(pending)', reason) });
    },
  };
}
