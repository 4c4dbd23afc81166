import { afterEach, describe, expect, it, vi } from 'vitest';
import { runAgentCommand } from '../src/cli.js';

afterEach(() => {
  vi.restoreAllMocks();
});

describe('fedfleet agent CLI', () => {
  it('prints its usage on stdout and exits 0 for --help', async () => {
    const stdout = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    expect(await runAgentCommand(['--help'])).toBe(0);
    expect(await runAgentCommand(['--hub', 'http://h:8080', '-h'])).toBe(0);
    expect(String(stdout.mock.calls[0]![0])).toMatch(/^usage: fedfleet agent/);
    expect(stderr).not.toHaveBeenCalled();
  });

  it('exits 2 with AGENT_ERR_CONFIG on a bad flag value', async () => {
    const stderr = vi.spyOn(process.stderr, 'write').mockImplementation(() => true);
    expect(await runAgentCommand(['--heartbeat-sec', 'soon', '--data-dir', '/nonexistent/ff'])).toBe(2);
    expect(String(stderr.mock.calls[0]![0])).toMatch(/^error AGENT_ERR_CONFIG: .*heartbeatSec/);
  });
});
