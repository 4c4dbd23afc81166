// Entry of the evaluation worker thread. A worker does not get the TypeScript loader of the thread that started it
// (tsx's register() in hub/bin/fedfleet.mjs, vitest's transform in tests), so it registers tsx itself, then loads
// the worker's TypeScript source.
import { register } from 'tsx/esm/api';

register();
await import('./evaluation-worker.ts');
