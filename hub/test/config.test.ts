import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_MAX_ENVELOPE_BYTES } from '@fedfleet/proto';
import { createConfig, DEFAULT_CONFIG, loadConfig, type ConfigViolation } from '../src/config.js';
import type { HubError } from '../src/errors.js';
import { tempDataDir } from './helpers/test-hub.js';

function violations(fn: () => unknown): ConfigViolation[] {
  try {
    fn();
  } catch (error) {
    expect((error as HubError).code).toBe('HUB_ERR_CONFIG_INVALID');
    return (error as HubError).details as ConfigViolation[];
  }
  throw new Error('expected the configuration to be rejected');
}

describe('configuration', () => {
  it('has documented defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({ ...DEFAULT_CONFIG, dataDir: resolve('./data') });
    expect(config.maxPayloadBytes).toBe(DEFAULT_MAX_ENVELOPE_BYTES);
    expect(config.adminToken).toBeUndefined();
  });

  it('takes flags over environment over file over defaults', () => {
    const file = join(tempDataDir(), 'hub.json');
    writeFileSync(file, JSON.stringify({ httpPort: 1001, mqttPort: 1002, heartbeatSec: 20, logLevel: 'debug' }));
    const config = loadConfig({
      configFile: file,
      env: { FEDFLEET_MQTT_PORT: '2002', FEDFLEET_HEARTBEAT_SEC: '30', FEDFLEET_ADMIN_TOKEN: 'a-long-enough-admin-token', OTHER: 'x' },
      flags: { heartbeatSec: '40' },
    });
    expect(config).toMatchObject({ httpPort: 1001, mqttPort: 2002, heartbeatSec: 40, logLevel: 'debug', adminToken: 'a-long-enough-admin-token' });
  });

  it('takes the MQTT packet rate and login budget from flags or environment, within bounds', () => {
    const config = loadConfig({ env: { FEDFLEET_MQTT_PACKETS_PER_SEC: '200' }, flags: { mqttLoginFailuresPerMin: '5' } });
    expect(config).toMatchObject({ mqttPacketsPerSec: 200, mqttLoginFailuresPerMin: 5 });
    const found = violations(() => loadConfig({ flags: { mqttPacketsPerSec: '5', mqttLoginFailuresPerMin: '0' } }));
    expect(found.map((v) => v.key).sort()).toEqual(['mqttLoginFailuresPerMin', 'mqttPacketsPerSec']);
  });

  it('reads the file named by FEDFLEET_CONFIG', () => {
    const file = join(tempDataDir(), 'hub.json');
    writeFileSync(file, JSON.stringify({ missedHeartbeats: 5 }));
    expect(loadConfig({ env: { FEDFLEET_CONFIG: file } }).missedHeartbeats).toBe(5);
  });

  it('reports every violation at once, naming its source, without echoing secrets', () => {
    const file = join(tempDataDir(), 'hub.json');
    writeFileSync(file, JSON.stringify({ heartbeatSec: 0, colour: 'blue' }));
    const found = violations(() =>
      loadConfig({
        configFile: file,
        env: { FEDFLEET_HTTP_PORT: 'eighty', FEDFLEET_ADMIN_TOKEN: 'short' },
        flags: { mqttPort: '70000', logLevel: 'loud' },
      }),
    );
    const byKey = Object.fromEntries(found.map((v) => [v.key, v]));
    expect(Object.keys(byKey).sort()).toEqual(['adminToken', 'colour', 'heartbeatSec', 'httpPort', 'logLevel', 'mqttPort']);
    expect(byKey.httpPort!.source).toBe('env FEDFLEET_HTTP_PORT');
    expect(byKey.mqttPort!.source).toBe('flag --mqtt-port');
    expect(byKey.heartbeatSec!.source).toBe(`file ${file}`);
    expect(byKey.colour!.message).toMatch(/unknown configuration key/);
    expect(byKey.logLevel!.message).toMatch(/one of fatal, error/);
    expect(JSON.stringify(found)).not.toContain('short');
  });

  it('reports an unreadable or non-JSON config file', () => {
    expect(violations(() => loadConfig({ configFile: '/nonexistent/hub.json' }))[0]!.message).toMatch(/cannot read/);
    const file = join(tempDataDir(), 'bad.json');
    writeFileSync(file, '{ nope');
    expect(violations(() => loadConfig({ configFile: file }))[0]!.message).toMatch(/not JSON/);
  });

  it('is frozen', () => {
    const config = createConfig({ httpPort: 0 });
    expect(Object.isFrozen(config)).toBe(true);
    expect(() => {
      (config as { httpPort: number }).httpPort = 1;
    }).toThrow(TypeError);
  });
});
