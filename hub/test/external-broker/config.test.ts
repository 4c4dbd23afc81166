/** External-broker configuration: validated at start with the rest (flags > env > file > defaults), secrets unechoed. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HUB_USAGE } from '../../src/cli/commands/hub-command.js';
import { loadConfig, type ConfigViolation } from '../../src/config.js';
import { HubError } from '../../src/errors.js';

function violations(run: () => unknown): ConfigViolation[] {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(HubError);
    expect((error as HubError).code).toBe('HUB_ERR_CONFIG_INVALID');
    return (error as HubError).details as ConfigViolation[];
  }
  throw new Error('the configuration was accepted');
}

describe('external broker configuration', () => {
  it('defaults to the embedded broker and takes a URL with the hub\'s account, flags over environment', () => {
    expect(loadConfig().broker).toBe('embedded');
    const config = loadConfig({
      flags: { broker: 'mqtts://mqtt.example.net:8883' },
      env: { FEDFLEET_BROKER: 'mqtt://other:1883', FEDFLEET_BROKER_USERNAME: 'hub', FEDFLEET_BROKER_PASSWORD: 'secret' },
    });
    expect(config).toMatchObject({ broker: 'mqtts://mqtt.example.net:8883', brokerUsername: 'hub', brokerPassword: 'secret' });
  });

  it('requires the hub\'s account with an external broker, and reports it with every other problem', () => {
    const found = violations(() => loadConfig({ env: { FEDFLEET_BROKER: 'mqtt://broker:1883', FEDFLEET_HTTP_PORT: '-1' } }));
    expect(found.map((v) => v.key).sort()).toEqual(['brokerPassword', 'brokerUsername', 'httpPort']);
    expect(found.find((v) => v.key === 'brokerUsername')!.message).toMatch(/required when broker is mqtt:\/\/broker:1883/);
  });

  it('refuses URLs that are not MQTT, or that carry credentials', () => {
    for (const broker of ['http://broker:1883', 'mqtt://user:pw@broker:1883', 'broker:1883', 'mqtt://broker:1883/path', 'aedes']) {
      const found = violations(() => loadConfig({ flags: { broker, brokerUsername: 'hub' }, env: { FEDFLEET_BROKER_PASSWORD: 'secret' } }));
      expect(found.map((v) => v.key), broker).toEqual(['broker']);
    }
  });

  it('never echoes the broker password, and does not take it as a flag (it would show in ps)', () => {
    const file = join(mkdtempSync(join(tmpdir(), 'fedfleet-config-')), 'hub.json');
    writeFileSync(file, JSON.stringify({ broker: 'mqtt://broker:1883', brokerUsername: 'hub', brokerPassword: 987654321 }));
    const found = violations(() => loadConfig({ configFile: file }));
    expect(found.map((v) => v.key)).toEqual(['brokerPassword']);
    expect(JSON.stringify(found)).not.toContain('987654321');
    expect(HUB_USAGE).toContain('--broker ');
    expect(HUB_USAGE).not.toContain('--broker-password');
  });
});
