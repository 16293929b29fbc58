import { runStack } from './stack';

/**
 * The one entry point: `npm start` locally (starts a dev server when none is
 * running), the container in docker-compose (AIMO_DEV_SERVER=never).
 */
runStack({ mode: process.argv.includes('--demo') ? 'demo' : 'serve', fresh: process.argv.includes('--fresh') }).then(
  // Everything aimo started is stopped by now; nothing left behind may keep the process alive.
  () => process.exit(process.exitCode ?? 0),
  (err: unknown) => {
    console.error(err instanceof Error ? (err.stack ?? err.message) : err);
    process.exit(1);
  },
);
