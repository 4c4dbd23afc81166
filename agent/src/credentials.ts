import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { AgentError } from './errors.js';

/** What enrollment yields and every later start reuses. */
export interface DeviceCredentials {
  deviceId: string;
  name: string;
  hubUrl: string;
  mqttUrl: string;
  username: string;
  password: string;
  clientId: string;
  hubPublicKey: string;
  heartbeatSec: number;
  labels: Record<string, string>;
  enrolledAt: string;
}

/** Where credentials live: a file on a real device, memory in firmware-sim. */
export interface CredentialStore {
  load(): Promise<DeviceCredentials | undefined>;
  save(credentials: DeviceCredentials): Promise<void>;
}

const REQUIRED: (keyof DeviceCredentials)[] = ['deviceId', 'mqttUrl', 'username', 'password', 'clientId'];

/** `<dataDir>/credentials.json`, mode 0600, written atomically (temp file + rename). */
export class FileCredentialStore implements CredentialStore {
  readonly path: string;

  constructor(private readonly dataDir: string) {
    this.path = join(dataDir, 'credentials.json');
  }

  async load(): Promise<DeviceCredentials | undefined> {
    let text: string;
    try {
      text = await readFile(this.path, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new AgentError('AGENT_ERR_CREDENTIALS_FILE', (error as Error).message, { cause: error });
    }
    let parsed: Partial<DeviceCredentials>;
    try {
      parsed = JSON.parse(text) as Partial<DeviceCredentials>;
    } catch (error) {
      throw new AgentError('AGENT_ERR_CREDENTIALS_FILE', `${this.path} is not JSON`, { cause: error });
    }
    const missing = REQUIRED.filter((key) => typeof parsed[key] !== 'string' || parsed[key] === '');
    if (missing.length > 0) throw new AgentError('AGENT_ERR_CREDENTIALS_FILE', `${this.path} lacks ${missing.join(', ')}`);
    return parsed as DeviceCredentials;
  }

  async save(credentials: DeviceCredentials): Promise<void> {
    await mkdir(this.dataDir, { recursive: true, mode: 0o700 });
    const temp = `${this.path}.${process.pid}.tmp`;
    await writeFile(temp, JSON.stringify(credentials, null, 2), { mode: 0o600 });
    await chmod(temp, 0o600);
    await rename(temp, this.path);
  }
}

export class MemoryCredentialStore implements CredentialStore {
  private value: DeviceCredentials | undefined;
  async load(): Promise<DeviceCredentials | undefined> {
    return this.value;
  }
  async save(credentials: DeviceCredentials): Promise<void> {
    this.value = credentials;
  }
}
