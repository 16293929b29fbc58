import { resolveTemporalBinary, TemporalBinaryNotFound } from '../platform/temporal-binaries';

/** `npm start` and `npm test` run this first: it finds or installs the Temporal binaries and says which. */
function main(): void {
  const kinds = process.argv.includes('--cli-only') ? (['cli'] as const) : (['cli', 'testServer'] as const);
  try {
    for (const kind of kinds) resolveTemporalBinary(kind, { report: (line) => console.log(`[aimo] ${line}`) });
  } catch (err) {
    if (err instanceof TemporalBinaryNotFound) {
      console.error(`[aimo] ${err.message}`);
      process.exit(1);
    }
    throw err;
  }
}

main();
