import * as tf from '@tensorflow/tfjs';
import { describe, expect, it } from 'vitest';
import { initBackend } from '../../src/ml/index.js';

describe('initBackend', () => {
  it('auto picks wasm when @tensorflow/tfjs-node is not installed, and registers the missing kernel', async () => {
    expect(await initBackend()).toBe('wasm');
    expect(tf.getBackend()).toBe('wasm');
    expect(tf.getKernel('Conv2DBackpropFilter', 'wasm')).toBeDefined();
  });

  it('is idempotent and switches between explicit backends', async () => {
    expect(await initBackend('wasm')).toBe('wasm');
    expect(await initBackend('wasm')).toBe('wasm');
    expect(await initBackend('cpu')).toBe('cpu');
    expect(tf.getBackend()).toBe('cpu');
    expect(await initBackend('auto')).toBe('wasm');
  });

  it('refuses tensorflow with AGENT_ERR_BACKEND when tfjs-node is absent', async () => {
    await expect(initBackend('tensorflow')).rejects.toMatchObject({ code: 'AGENT_ERR_BACKEND' });
    expect(tf.getBackend()).toBe('wasm');
  });

  it('rejects an unknown preference', async () => {
    await expect(initBackend('webgpu' as never)).rejects.toMatchObject({ code: 'AGENT_ERR_BACKEND' });
  });
});
