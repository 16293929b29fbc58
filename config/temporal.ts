import type { DevServerOptions } from '../platform/dev-server';
import type { TemporalConnectionOptions } from '../platform/temporal-connection';
import type { Env } from './env';

/** Temporal as the environment names it, and the port of its UI (links point there). */
export type TemporalSettings = TemporalConnectionOptions & { readonly uiPort: number };

/**
 * A certificate pair means mTLS; otherwise TLS is on when asked for, or
 * implied by an API key (Temporal Cloud accepts keys over TLS only).
 */
export function temporalSettingsFromEnv(env: Env): TemporalSettings {
  const tls =
    env.TEMPORAL_TLS_CERT_PATH && env.TEMPORAL_TLS_KEY_PATH
      ? { certPath: env.TEMPORAL_TLS_CERT_PATH, keyPath: env.TEMPORAL_TLS_KEY_PATH }
      : env.TEMPORAL_TLS || Boolean(env.TEMPORAL_API_KEY);
  return {
    address: env.TEMPORAL_ADDRESS,
    namespace: env.TEMPORAL_NAMESPACE,
    ...(env.TEMPORAL_API_KEY ? { apiKey: env.TEMPORAL_API_KEY } : {}),
    tls,
    uiPort: env.AIMO_UI_PORT,
  };
}

/** The local dev server `npm start` may run, keeping its history in the data folder. */
export function devServerOptionsFromEnv(env: Env, dataDir: string): DevServerOptions {
  return {
    address: env.TEMPORAL_ADDRESS,
    namespace: env.TEMPORAL_NAMESPACE,
    mode: env.AIMO_DEV_SERVER,
    uiPort: env.AIMO_UI_PORT,
    dataDir,
  };
}
