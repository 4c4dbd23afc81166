/**
 * Why a listener could not start, said as the operator can act on it: which listener, which address, and which flag
 * or environment variable sets it — instead of a Node.js stack trace.
 */
import { CONFIG_SOURCES, type HubConfigKey } from './config.js';
import { HubError } from './errors.js';
import { formatHostForUrl } from './net-address.js';

export type ListenerName = 'HTTP' | 'MQTT';

const PORT_KEYS: Readonly<Record<ListenerName, HubConfigKey>> = { HTTP: 'httpPort', MQTT: 'mqttPort' };

const setting = (key: HubConfigKey) => `${CONFIG_SOURCES[key].flag} or ${CONFIG_SOURCES[key].env}`;

/**
 * The coded error for a failed `listen()` of `listener` on `host:port`: `HUB_ERR_PORT_IN_USE`, or
 * `HUB_ERR_LISTEN_FAILED` for the other errors the address itself causes. Anything else is returned unchanged.
 */
export function listenError(error: unknown, listener: ListenerName, host: string, port: number): unknown {
  const code = (error as { code?: unknown } | undefined)?.code;
  const address = `${formatHostForUrl(host)}:${port}`;
  const portSetting = setting(PORT_KEYS[listener]);
  const fail = (message: string) => new HubError('HUB_ERR_LISTEN_FAILED', { message, cause: error });
  switch (code) {
    case 'EADDRINUSE':
      return new HubError('HUB_ERR_PORT_IN_USE', {
        message: `${listener} port ${port} is already in use (${address}: another hub or program listens there); ` +
          `choose another with ${portSetting}, or 0 for any free port`,
        cause: error,
      });
    case 'EACCES':
    case 'EPERM':
      return fail(`not allowed to listen on ${listener} port ${port} (${address}; ports below 1024 need privileges); choose another with ${portSetting}`);
    case 'EADDRNOTAVAIL':
      return fail(`${host} is not an address of this machine (${listener} listener); set ${setting('host')} to one of its addresses, or 0.0.0.0 for all`);
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return fail(`cannot resolve the host name ${host} (${listener} listener); check ${setting('host')}`);
    default:
      return error;
  }
}
