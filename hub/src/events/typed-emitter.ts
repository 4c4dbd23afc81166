/**
 * A minimal typed event emitter: `on(name, listener)` returns its own unsubscribe function, `onAny` sees every
 * event (for the server-sent events stream). A throwing listener is reported to `onListenerError` and never stops
 * the other listeners or the emitter's caller.
 */
export type EventMap = object;

type Listener<T> = (payload: T) => void;
type AnyListener<M extends EventMap> = <K extends keyof M & string>(name: K, payload: M[K]) => void;

export class TypedEmitter<M extends EventMap> {
  readonly #listeners = new Map<keyof M, Set<Listener<never>>>();
  readonly #anyListeners = new Set<AnyListener<M>>();
  readonly #onListenerError: (error: unknown, name: string) => void;

  constructor(onListenerError: (error: unknown, name: string) => void = () => {}) {
    this.#onListenerError = onListenerError;
  }

  on<K extends keyof M & string>(name: K, listener: Listener<M[K]>): () => void {
    let set = this.#listeners.get(name);
    if (!set) this.#listeners.set(name, (set = new Set()));
    set.add(listener as Listener<never>);
    return () => void set.delete(listener as Listener<never>);
  }

  once<K extends keyof M & string>(name: K, listener: Listener<M[K]>): () => void {
    const off = this.on(name, (payload) => {
      off();
      listener(payload);
    });
    return off;
  }

  onAny(listener: AnyListener<M>): () => void {
    this.#anyListeners.add(listener);
    return () => void this.#anyListeners.delete(listener);
  }

  emit<K extends keyof M & string>(name: K, payload: M[K]): void {
    for (const listener of this.#listeners.get(name) ?? []) {
      try {
        (listener as Listener<M[K]>)(payload);
      } catch (error) {
        this.#onListenerError(error, name);
      }
    }
    for (const listener of this.#anyListeners) {
      try {
        listener(name, payload);
      } catch (error) {
        this.#onListenerError(error, name);
      }
    }
  }

  listenerCount(name?: keyof M & string): number {
    if (name === undefined) return this.#anyListeners.size;
    return this.#listeners.get(name)?.size ?? 0;
  }
}
