/** Uploading a data set (POST /v1/datasets) from typed arrays, for the tests that calibrate or validate on one. */
import { encodeFloat32Le } from '@fedfleet/proto';

type Api = (method: string, url: string, body?: unknown) => Promise<{ status: number; body: unknown }>;

export interface DatasetUpload {
  name: string;
  inputShape: number[];
  numClasses: number;
  /** Examples, row-major, `inputShape` values each. */
  x: Float32Array;
  /** One label per example. */
  y: ArrayLike<number>;
}

/** Uploads the data set; throws with the hub's answer unless it was created. */
export async function uploadDataset(api: Api, upload: DatasetUpload): Promise<void> {
  const { x, y, ...meta } = upload;
  const response = await api('POST', '/v1/datasets', {
    ...meta, xBase64: Buffer.from(encodeFloat32Le(x)).toString('base64'), yBase64: Buffer.from(Uint8Array.from(y)).toString('base64'),
  });
  if (response.status !== 201) throw new Error(`dataset upload: ${response.status} ${JSON.stringify(response.body)}`);
}
