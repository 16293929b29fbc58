import type { DevServerOptions } from '../platform/dev-server';
import { parsePayloadKeys } from '../platform/payload-codec';
import type { TemporalConnectionOptions } from '../platform/temporal-connection';
import type { Env } from './env';

/** The codec server that decrypts payloads for the Temporal UI and CLI (started with the stack when payload keys are set). */
export interface CodecServerSettings {
  readonly host: string;
  readonly port: number;
  /** What the UI and CLI are pointed at */
  readonly endpoint: string;
  readonly allowedOrigins: readonly string[];
  /** Secret, never logged */
  readonly token?: string;
}

/** Temporal as the environment names it, and the port of its UI (links point there). */
export type TemporalSettings = TemporalConnectionOptions & {
  readonly uiPort: number;
  /** Present exactly when payload encryption is on */
  readonly codecServer?: CodecServerSettings;
};

/**
 * A certificate pair means mTLS; otherwise TLS is on when asked for, or
 * implied by an API key (Temporal Cloud accepts keys over TLS only).
 * Payload keys turn encryption on for every client and worker built from
 * these settings.
 */
export function temporalSettingsFromEnv(env: Env): TemporalSettings {
  const tls =
    env.TEMPORAL_TLS_CERT_PATH && env.TEMPORAL_TLS_KEY_PATH
      ? { certPath: env.TEMPORAL_TLS_CERT_PATH, keyPath: env.TEMPORAL_TLS_KEY_PATH }
      : env.TEMPORAL_TLS || Boolean(env.TEMPORAL_API_KEY);
  const payloadKeys = env.AIMO_PAYLOAD_KEYS ? parsePayloadKeys(env.AIMO_PAYLOAD_KEYS).keys : [];
  return {
    address: env.TEMPORAL_ADDRESS,
    namespace: env.TEMPORAL_NAMESPACE,
    ...(env.TEMPORAL_API_KEY ? { apiKey: env.TEMPORAL_API_KEY } : {}),
    tls,
    uiPort: env.AIMO_UI_PORT,
    ...(payloadKeys.length ? { payloadKeys, codecServer: codecServerSettings(env) } : {}),
  };
}

function codecServerSettings(env: Env): CodecServerSettings {
  const browserHost = env.AIMO_CODEC_HOST === '0.0.0.0' || env.AIMO_CODEC_HOST === '::' ? '127.0.0.1' : env.AIMO_CODEC_HOST;
  const origins = env.AIMO_CODEC_CORS_ORIGINS?.split(',').map((o) => o.trim()).filter(Boolean) ?? [
    `http://localhost:${env.AIMO_UI_PORT}`,
    `http://127.0.0.1:${env.AIMO_UI_PORT}`,
  ];
  return {
    host: env.AIMO_CODEC_HOST,
    port: env.AIMO_CODEC_PORT,
    endpoint: `http://${browserHost.includes(':') ? `[${browserHost}]` : browserHost}:${env.AIMO_CODEC_PORT}`,
    allowedOrigins: origins,
    ...(env.AIMO_CODEC_TOKEN ? { token: env.AIMO_CODEC_TOKEN } : {}),
  };
}

/** The local dev server `npm start` may run, keeping its history in the data folder; with encryption on its UI reads through the codec server. */
export function devServerOptionsFromEnv(env: Env, dataDir: string): DevServerOptions {
  const codec = temporalSettingsFromEnv(env).codecServer;
  return {
    address: env.TEMPORAL_ADDRESS,
    namespace: env.TEMPORAL_NAMESPACE,
    mode: env.AIMO_DEV_SERVER,
    uiPort: env.AIMO_UI_PORT,
    dataDir,
    ...(codec ? { uiCodecEndpoint: codec.endpoint } : {}),
  };
}
