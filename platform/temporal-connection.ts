import { readFileSync } from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import type { DataConverter } from '@temporalio/common';
import type { NativeConnection } from '@temporalio/worker';
import { AesGcmPayloadCodec, type PayloadKey } from './payload-codec';

/** Where a Temporal frontend is and how to authenticate to it. */
export interface TemporalConnectionOptions {
  /** host:port of the frontend */
  readonly address: string;
  readonly namespace: string;
  /** Temporal Cloud API key; secret, never logged */
  readonly apiKey?: string;
  /** TLS on or off, or mTLS with a client certificate and key read from these files */
  readonly tls: boolean | { readonly certPath: string; readonly keyPath: string };
  /** Payload encryption keys, the one that encrypts first; absent: payloads are stored as plain JSON. Secret, never logged */
  readonly payloadKeys?: readonly PayloadKey[];
}

type TlsOption = boolean | { clientCertPair: { crt: Buffer; key: Buffer } };

function tlsOption(options: TemporalConnectionOptions): TlsOption {
  const tls = options.tls;
  if (typeof tls === 'boolean') return tls;
  return { clientCertPair: { crt: readFileSync(tls.certPath), key: readFileSync(tls.keyPath) } };
}

/**
 * How payloads are written and read: with keys, every payload is encrypted
 * (AES-GCM) and failure messages travel as encoded attributes, so they are
 * encrypted too. Every client and worker of a namespace must use the same
 * keys; the decode side passes plain payloads through, so histories written
 * before encryption was on stay readable.
 */
export function payloadDataConverter(options: Pick<TemporalConnectionOptions, 'payloadKeys'>): DataConverter | undefined {
  if (!options.payloadKeys?.length) return undefined;
  return {
    payloadCodecs: [new AesGcmPayloadCodec(options.payloadKeys)],
    failureConverterPath: require.resolve('./encoded-failure-converter'),
  };
}

/** Connections for a local dev server, a self-hosted cluster (mTLS) or Temporal Cloud (API key). */
export async function connectClient(
  options: TemporalConnectionOptions,
  address = options.address,
): Promise<{ client: Client; connection: Connection }> {
  const connection = await Connection.connect({
    address,
    tls: tlsOption(options),
    ...(options.apiKey ? { apiKey: options.apiKey } : {}),
  });
  const dataConverter = payloadDataConverter(options);
  return { client: new Client({ connection, namespace: options.namespace, ...(dataConverter ? { dataConverter } : {}) }), connection };
}

/** The worker's connection; its payloads are encrypted by the data converter given to the worker (payloadDataConverter). */
export async function connectWorker(options: TemporalConnectionOptions, address = options.address): Promise<NativeConnection> {
  // Loaded here, not at the top: the CLI imports this module and needs only the client, which loads in a fraction of the time.
  const { NativeConnection } = await import('@temporalio/worker');
  return NativeConnection.connect({
    address,
    tls: tlsOption(options),
    ...(options.apiKey ? { apiKey: options.apiKey } : {}),
  });
}
