/**
 * Binary downloads from a running hub (`fedfleet models export`) through {@link createHubClient}'s `download`, checked
 * against the sha256 the hub announced before anyone writes them to disk.
 */
import { sha256Hex } from '../store/blobs.js';
import { CliError } from './cli-error.js';
import { createHubClient, type ClientFlags } from './hub-client.js';
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

/** GETs `path` as bytes, checked against the sha256 the hub announced (`x-sha256`). */
export async function downloadFromHub(flags: ClientFlags, io: CliIo, path: string): Promise<Download> {
  const { bytes, headers } = await createHubClient(flags, io).download(path);
  const sha256 = sha256Hex(bytes);
  const announced = headers.get('x-sha256');
  if (announced !== sha256) {
    throw new CliError('HUB_ERR_DOWNLOAD_CORRUPT', `${path}: received ${bytes.length} bytes with sha256 ${sha256}, the hub announced ${announced ?? 'none'}`);
  }
  return { bytes, sha256, fileName: attachmentFileName(headers.get('content-disposition')) };
}
