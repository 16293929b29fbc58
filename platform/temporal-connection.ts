import { readFileSync } from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';

/** Where a Temporal frontend is and how to authenticate to it. */
export interface TemporalConnectionOptions {
  /** host:port of the frontend */
  readonly address: string;
  readonly namespace: string;
  /** Temporal Cloud API key; secret, never logged */
  readonly apiKey?: string;
  /** TLS on or off, or mTLS with a client certificate and key read from these files */
  readonly tls: boolean | { readonly certPath: string; readonly keyPath: string };
}

type TlsOption = boolean | { clientCertPair: { crt: Buffer; key: Buffer } };

function tlsOption(options: TemporalConnectionOptions): TlsOption {
  const tls = options.tls;
  if (typeof tls === 'boolean') return tls;
  return { clientCertPair: { crt: readFileSync(tls.certPath), key: readFileSync(tls.keyPath) } };
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
  return { client: new Client({ connection, namespace: options.namespace }), connection };
}

export async function connectWorker(options: TemporalConnectionOptions, address = options.address): Promise<NativeConnection> {
  return NativeConnection.connect({
    address,
    tls: tlsOption(options),
    ...(options.apiKey ? { apiKey: options.apiKey } : {}),
  });
}
