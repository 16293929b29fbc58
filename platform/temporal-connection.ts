import { readFileSync } from 'node:fs';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import type { AimoConfig } from '../config';

type TlsOption = boolean | { clientCertPair: { crt: Buffer; key: Buffer } };

function tlsOption(config: AimoConfig): TlsOption {
  const tls = config.temporal.tls;
  if (typeof tls === 'boolean') return tls;
  return { clientCertPair: { crt: readFileSync(tls.certPath), key: readFileSync(tls.keyPath) } };
}

/** Connections for a local dev server, a self-hosted cluster (mTLS) or Temporal Cloud (API key). */
export async function connectClient(
  config: AimoConfig,
  address = config.temporal.address,
): Promise<{ client: Client; connection: Connection }> {
  const connection = await Connection.connect({
    address,
    tls: tlsOption(config),
    ...(config.temporal.apiKey ? { apiKey: config.temporal.apiKey } : {}),
  });
  return { client: new Client({ connection, namespace: config.temporal.namespace }), connection };
}

export async function connectWorker(config: AimoConfig, address = config.temporal.address): Promise<NativeConnection> {
  return NativeConnection.connect({
    address,
    tls: tlsOption(config),
    ...(config.temporal.apiKey ? { apiKey: config.temporal.apiKey } : {}),
  });
}
