import { ConfigError, loadConfig, type AimoConfig } from '../config';
import { startCodecServer, type CodecServer } from '../platform/codec-server';
import { createLogger, type Logger } from '../platform/logger';
import { AesGcmPayloadCodec } from '../platform/payload-codec';

/**
 * The codec server of the configured payload keys, or undefined when
 * payloads are not encrypted. `npm start` runs it next to the worker; people
 * who read a cluster's histories run it on their own machine
 * (`npm run codec-server`) and point the UI's codec setting or
 * `temporal workflow show --codec-endpoint` at it.
 */
export async function startPayloadCodecServer(config: AimoConfig, logger: Logger): Promise<CodecServer | undefined> {
  const settings = config.temporal.codecServer;
  const keys = config.temporal.payloadKeys;
  if (!settings || !keys?.length) return undefined;
  return startCodecServer({
    codec: new AesGcmPayloadCodec(keys),
    logger,
    host: settings.host,
    port: settings.port,
    allowedOrigins: settings.allowedOrigins,
    ...(settings.token ? { token: settings.token } : {}),
  });
}

async function main(): Promise<void> {
  let config: AimoConfig;
  try {
    config = loadConfig();
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    console.error(err.message);
    process.exit(2);
  }
  const logger = createLogger({ level: config.env.LOG_LEVEL, format: config.env.LOG_FORMAT });
  const server = await startPayloadCodecServer(config, logger);
  if (!server) {
    console.error('AIMO_PAYLOAD_KEYS is not set: there is nothing to decode. Set it to the keys the workers use (see docs/security.md).');
    process.exit(2);
  }
  process.stdout.write(
    `Codec server on ${server.url}\n  Temporal UI: set the codec endpoint to ${server.url} (Settings → Codec Server), or start the dev server with --ui-codec-endpoint ${server.url}\n  CLI:         temporal workflow show -w <id> --codec-endpoint ${server.url}${config.temporal.codecServer?.token ? ' --codec-auth "Bearer $AIMO_CODEC_TOKEN"' : ''}\n`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await server.close();
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    process.exit(1);
  });
}
