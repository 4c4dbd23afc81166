import type { IncomingMessage } from 'node:http';
import { isIP } from 'node:net';
import { AgentError } from '../errors.js';

/**
 * The path a request names and the check that it was meant for this loopback endpoint (agent/docs/agent.md#serving).
 *
 * The endpoint has no authentication: listening on 127.0.0.1 keeps other hosts out, but not a web page the device's
 * own browser opens. By DNS rebinding such a page reaches 127.0.0.1 under its own name (`Host: evil.example`) and
 * could label predictions (`POST /feedback`), poisoning the accuracy the device reports. Browsers always send the
 * name they resolved as Host, so a loopback endpoint answers only requests whose Host is a loopback name.
 */

/** True for `localhost`, `*.localhost` (RFC 6761 §6.3), 127.0.0.0/8 and ::1: names that only ever mean this host. */
export function isLoopbackName(hostname: string): boolean {
  const name = hostname.toLowerCase().replace(/^\[(.*)\]$/, '$1').replace(/\.$/, '');
  if (name === 'localhost' || name.endsWith('.localhost')) return true;
  if (isIP(name) === 4) return name.startsWith('127.');
  return isIP(name) === 6 && (name === '::1' || name === '0:0:0:0:0:0:0:1');
}

/** The host name of a Host header value or URL authority, without port: `[::1]:8431` → `[::1]`, `a:80` → `a`. */
function hostnameOf(authority: string): string {
  if (authority.startsWith('[')) return authority.slice(0, authority.indexOf(']') + 1);
  const colon = authority.lastIndexOf(':');
  return colon === -1 ? authority : authority.slice(0, colon);
}

/**
 * The path of `req`'s request target, exactly as sent (no decoding, no dot-segment removal: routes match it byte for
 * byte, so `//x/predict` or `/%2e%2e/predict` name no route). The absolute form (`POST http://host/predict`,
 * [RFC 9112 §3.2.2]) gives its path, its authority standing in for Host; `*` and the authority form are no path.
 * @param loopbackOnly refuse a Host (or absolute-form authority) that is not a loopback name.
 * @throws AgentError AGENT_ERR_BAD_HOST when `loopbackOnly` and the request names another host.
 */
export function requestPath(req: IncomingMessage, loopbackOnly: boolean): string {
  const target = req.url ?? '';
  let path = target;
  let authority = req.headers.host;
  const absolute = /^https?:\/\/([^/?#]*)(.*)$/i.exec(target);
  if (absolute) {
    authority = absolute[1]!.slice(absolute[1]!.lastIndexOf('@') + 1);
    path = absolute[2]!.startsWith('/') ? absolute[2]! : `/${absolute[2]!}`;
  }
  // HTTP/1.1 without Host is refused by node:http ([RFC 9112 §3.2]); HTTP/1.0 may omit it, and browsers never do.
  if (loopbackOnly && authority !== undefined && !isLoopbackName(hostnameOf(authority))) {
    throw new AgentError('AGENT_ERR_BAD_HOST', `"${authority.slice(0, 100)}" is not a loopback name (localhost, 127.0.0.1, [::1])`);
  }
  const query = path.search(/[?#]/);
  return query === -1 ? path : path.slice(0, query);
}
