import { describe, expect, it } from 'vitest';
import { agentConfigFromArgs } from '../../src/cli.js';
import { silentLogger } from '../../src/logger.js';
import { DEFAULT_SERVE_PORT, startAgentServing } from '../../src/serving/index.js';
import { fakeModel, fakeSource } from './fake-model.js';

const BASE = ['--data-dir', '/tmp/ff-serving-cli'];

describe('fedfleet agent serving flags', () => {
  it('serves on 8431 by default; --serve-port / FEDFLEET_SERVE_PORT choose, 0 = any, --no-serve turns it off', () => {
    expect(agentConfigFromArgs(BASE, {})).toMatchObject({ serve: true, servePort: DEFAULT_SERVE_PORT });
    expect(DEFAULT_SERVE_PORT).toBe(8431);
    expect(agentConfigFromArgs([...BASE, '--serve-port', '0'], {})).toMatchObject({ serve: true, servePort: 0 });
    expect(agentConfigFromArgs(BASE, { FEDFLEET_SERVE_PORT: '9000' })).toMatchObject({ servePort: 9000 });
    expect(agentConfigFromArgs([...BASE, '--serve-port', '9001'], { FEDFLEET_SERVE_PORT: '9000' })).toMatchObject({ servePort: 9001 });
    expect(agentConfigFromArgs([...BASE, '--no-serve'], {})).toMatchObject({ serve: false });
    for (const port of ['65536', '-1', 'http', '80.5']) {
      expect(() => agentConfigFromArgs([...BASE, `--serve-port=${port}`], {})).toThrow(expect.objectContaining({ code: 'AGENT_ERR_CONFIG', message: expect.stringMatching(/servePort/) }));
    }
  });

  it('starts the endpoint on the configured port, or only the inference path with serving off', async () => {
    const source = fakeSource(fakeModel('v1'));
    const on = await startAgentServing(source, { serve: true, servePort: 0 }, silentLogger);
    try {
      expect(on.server?.port).toBeGreaterThan(0);
      const res = await fetch(`http://127.0.0.1:${on.server!.port}/healthz`);
      expect(await res.json()).toMatchObject({ versionId: 'v1' });
    } finally {
      await on.close();
    }
    const off = await startAgentServing(source, { serve: false, servePort: 0 }, silentLogger);
    expect(off.server).toBeUndefined();
    expect((await off.service.predict(Float32Array.of(0, 1, 0, 0))).classIndex).toBe(1);
    await off.close();
  });
});
