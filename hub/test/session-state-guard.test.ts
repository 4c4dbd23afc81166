/**
 * The session-state guard on its own: writes caused by an unauthenticated connection are skipped, everything else
 * reaches the store unchanged (mqtt-probe-refused-login.test.ts probes it through the real broker).
 */
import { describe, expect, it, vi } from 'vitest';
import { guardSessionState, SESSION_STATE_WRITES } from '../src/broker/session-state-guard.js';

class Store {
  readonly cleaned: string[] = [];
  async cleanIncoming(client: { id: string }): Promise<void> {
    this.cleaned.push(client.id);
  }
  async incomingGetPacket(client: { id: string }): Promise<string> {
    return client.id;
  }
}

describe('session-state guard', () => {
  it('skips the writes of an unauthenticated client and passes the rest through, bound to the store', async () => {
    const store = new Store();
    const stranger = { id: 'dev-a' };
    const device = { id: 'dev-a' };
    const onSkip = vi.fn();
    guardSessionState(store, (client) => client === stranger, onSkip);

    await expect(store.cleanIncoming(stranger)).resolves.toBeUndefined();
    expect(onSkip).toHaveBeenCalledWith('cleanIncoming', stranger);
    expect(store.cleaned).toEqual([]);
    await store.cleanIncoming(device);
    expect(store.cleaned).toEqual(['dev-a']);
    // Reads are not session changes: a refused connection never reaches them, and they are left as they are.
    await expect(store.incomingGetPacket(stranger)).resolves.toBe('dev-a');
  });

  it('leaves a write the store lacks absent, since aedes feature-detects it', () => {
    const store: Record<string, unknown> = {};
    guardSessionState(store, () => true, () => {});
    for (const name of SESSION_STATE_WRITES) expect(store[name]).toBeUndefined();
  });
});
