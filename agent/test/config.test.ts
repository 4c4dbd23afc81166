import { describe, expect, it } from 'vitest';
import { agentConfigFromArgs } from '../src/cli.js';

describe('agent configuration', () => {
  it('takes flags over environment and freezes the result', () => {
    const config = agentConfigFromArgs(['--hub', 'http://hub:8080', '--token', 't', '--data-dir', '/tmp/a', '--heartbeat-sec', '5', '--labels', 'site=lab,tier=edge'],
      { FEDFLEET_HUB: 'http://other:1', FEDFLEET_HEARTBEAT_SEC: '30' });
    expect(config).toMatchObject({ hubUrl: 'http://hub:8080', token: 't', dataDir: '/tmp/a', heartbeatSec: 5, labels: { site: 'lab', tier: 'edge' } });
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('reports every violation at once with AGENT_ERR_CONFIG', () => {
    try {
      agentConfigFromArgs(['--hub', 'ftp://x', '--heartbeat-sec', '0', '--log-level', 'loud'], {});
      expect.unreachable();
    } catch (error) {
      const { code, message } = error as { code: string; message: string };
      expect(code).toBe('AGENT_ERR_CONFIG');
      expect(message).toMatch(/hubUrl/);
      expect(message).toMatch(/heartbeatSec/);
      expect(message).toMatch(/logLevel/);
    }
  });

  it('refuses malformed labels', () => {
    expect(() => agentConfigFromArgs(['--labels', 'novalue'], {})).toThrow(expect.objectContaining({ code: 'AGENT_ERR_CONFIG' }));
  });
});
