/**
 * Binary downloads from a running hub (`fedfleet models export`): the same hub URL and admin token as
 * {@link createHubClient}, but the body comes back as bytes with the headers that describe it, and is checked against
 * the sha256 the hub announced before anyone writes it to disk.
 */
import { sha256Hex } from '../store/blobs.js';
import { CliError } from './cli-error.js';
import { resolveAdminToken, resolveHubUrl, type ClientFlags } from './hub-client.js';
import type { CliIo } from './io.js';

export interface Download {
  bytes: Buffer;
  sha256: string;
  /** The file name of `content-disposition: attachment; filename="…"`, if the hub sent one. */
  fileName?: string;
}

/** The `filename="…"` of a content-disposition header, reduced to a base name (a hub never names a directory). */
export function attachmentFileName(header: string | null): string | undefined {
  const name = header && /filename="([^"]+)"/.exec(header)?.[1];
  const base = name?.split(/[\\/]/).pop();
  return base && base !== '.' && base !== '..' ? base : undefined;
}

/** GETs `path` as bytes. Error bodies become CliErrors with the hub's code, as {@link createHubClient} reports them. */
export async function downloadFromHub(flags: ClientFlags, io: CliIo, path: string): Promise<Download> {
  const hubUrl = resolveHubUrl(flags, io);
  const token = resolveAdminToken(flags, io);
  let response: Response;
  try {
    response = await fetch(`${hubUrl}${path}`, { headers: { authorization: `Bearer ${token}` } });
  } catch (error) {
    const cause = (error as { cause?: { code?: string } }).cause;
    throw new CliError('HUB_ERR_HUB_UNREACHABLE', `cannot reach the hub at ${hubUrl}: ${cause?.code ?? (error as Error).message}`);
  }
  const bytes = Buffer.from(await response.arrayBuffer());
  if (!response.ok) {
    let error: { code?: string; message?: string } | undefined;
    try {
      error = (JSON.parse(bytes.toString('utf8')) as { error?: typeof error }).error;
    } catch {
      error = undefined;
    }
    throw new CliError(error?.code ?? 'HUB_ERR_INTERNAL', error?.message ?? `HTTP ${response.status}`);
  }
  const sha256 = sha256Hex(bytes);
  const announced = response.headers.get('x-sha256');
  if (announced !== sha256) {
    throw new CliError('HUB_ERR_DOWNLOAD_CORRUPT', `${path}: received ${bytes.length} bytes with sha256 ${sha256}, the hub announced ${announced ?? 'none'}`);
  }
  return { bytes, sha256, fileName: attachmentFileName(response.headers.get('content-disposition')) };
}
