import { parseArgs, type ParseArgsConfig } from 'node:util';
import { CliContext, CliError, EXIT, stdio, type Output } from './context';

// Each command's module (and through it the Temporal client, zod, …) loads only when that command runs: `--help` loads none.
const workflows = () => import('./workflows');
const schedules = () => import('./schedules');
const loops = () => import('./loops');
const webhooks = () => import('./webhooks');

export const USAGE = `aimo — start and follow aimo's workflows

Usage:
  aimo rollout start <plan.json> [--wait] [--id <suffix>]   validate the plan locally, then start the rollout
  aimo status <workflowId>                                  state, steps and Temporal UI link of a workflow
  aimo approve <workflowId> --by <who> --reason <why> [--reject] [--gate <gate>]
  aimo rollback <useCase> --reason <why> [--to <version>] [--by <who>] [--wait] [--id <suffix>]
  aimo retrain <useCase> [--reason <why>] [--as-of <date>] [--wait] [--id <suffix>]
                                                            retrain on the newest complete data (or a cut-off)
  aimo drift <useCase> [--as-of <date>] [--wait] [--id <suffix>]
                                                            drift check of the window ending on the newest data
  aimo schedules list [--prefix aimo-]
  aimo schedules apply <file.yaml> [--prune [--prune-prefix aimo-<team>-]]
                                                            create/update/pause (and with --prune delete) schedules
  aimo schedules pause <scheduleId> --note <why> | unpause <scheduleId> | delete <scheduleId>
  aimo schedules backfill <scheduleId> --from <date> --to <date>
  aimo webhooks serve                                       the signed webhook server (AIMO_WEBHOOK_SECRETS)

Every command takes --json (machine-readable output) and --help.
Settings come from the environment or .env (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE, AIMO_TASK_QUEUE, ...).
Exit codes: 0 ok, 1 failed/refused, 2 bad input (nothing done), 3 not found, 4 environment or Temporal unreachable.`;

type Options = NonNullable<ParseArgsConfig['options']>;
type RollbackOptions = Parameters<typeof import('./workflows').rollback>[2];
const common: Options = { json: { type: 'boolean', default: false }, help: { type: 'boolean', short: 'h', default: false } };

function parse(args: string[], options: Options, positionals: string[]) {
  let parsed;
  try {
    parsed = parseArgs({ args, options: { ...common, ...options }, allowPositionals: true, strict: true });
  } catch (err) {
    throw new CliError(`${(err as Error).message.split('\n')[0]}\n\n${USAGE}`, EXIT.usage);
  }
  const values = parsed.values as Record<string, string | boolean | undefined>;
  if (values['help']) return { help: true as const, values, positionals: [] as string[] };
  if (parsed.positionals.length !== positionals.length) {
    const missing = positionals.slice(parsed.positionals.length);
    throw new CliError(
      missing.length ? `missing ${missing.map((p) => `<${p}>`).join(' ')}\n\n${USAGE}` : `unexpected argument "${parsed.positionals[positionals.length]}"\n\n${USAGE}`,
      EXIT.usage,
    );
  }
  return { help: false as const, values, positionals: parsed.positionals };
}

const str = (v: string | boolean | undefined) => (typeof v === 'string' ? v : undefined);

/** Runs one command; returns the exit code. Errors the user can act on are printed without a stack. */
export async function run(argv: string[], io: Output = stdio): Promise<number> {
  const ctx = new CliContext(io);
  const [command, sub, ...rest] = argv;
  try {
    if (!command || command === 'help' || command === '--help' || command === '-h') {
      io.out(USAGE);
      return command ? EXIT.ok : EXIT.usage;
    }
    switch (command) {
      case 'rollout': {
        if (sub !== 'start') throw new CliError(`unknown command "rollout ${sub ?? ''}"; did you mean "rollout start <plan.json>"?\n\n${USAGE}`, EXIT.usage);
        const p = parse(rest, { wait: { type: 'boolean', default: false }, id: { type: 'string' } }, ['plan.json']);
        if (p.help) return (io.out(USAGE), EXIT.ok);
        return await (await workflows()).rolloutStart(ctx, p.positionals[0]!, { wait: p.values['wait'] === true, json: p.values['json'] === true, ...(str(p.values['id']) ? { id: str(p.values['id'])! } : {}) });
      }
      case 'status': {
        const p = parse(sub === undefined ? [] : [sub, ...rest], {}, ['workflowId']);
        if (p.help) return (io.out(USAGE), EXIT.ok);
        return await (await workflows()).status(ctx, p.positionals[0]!, { json: p.values['json'] === true });
      }
      case 'approve': {
        const p = parse(sub === undefined ? [] : [sub, ...rest], { by: { type: 'string' }, reason: { type: 'string' }, reject: { type: 'boolean', default: false }, gate: { type: 'string' } }, ['workflowId']);
        if (p.help) return (io.out(USAGE), EXIT.ok);
        const by = str(p.values['by']);
        const reason = str(p.values['reason']);
        const gate = str(p.values['gate']);
        return await (await workflows()).approve(ctx, p.positionals[0]!, { reject: p.values['reject'] === true, json: p.values['json'] === true, ...(by ? { by } : {}), ...(reason ? { reason } : {}), ...(gate ? { gate } : {}) });
      }
      case 'rollback': {
        const p = parse(sub === undefined ? [] : [sub, ...rest], { to: { type: 'string' }, reason: { type: 'string' }, by: { type: 'string' }, id: { type: 'string' }, wait: { type: 'boolean', default: false } }, ['useCase']);
        if (p.help) return (io.out(USAGE), EXIT.ok);
        const opts: RollbackOptions = { json: p.values['json'] === true, wait: p.values['wait'] === true };
        for (const key of ['to', 'reason', 'by', 'id'] as const) {
          const v = str(p.values[key]);
          if (v !== undefined) opts[key] = v;
        }
        return await (await workflows()).rollback(ctx, p.positionals[0]!, opts);
      }
      case 'retrain':
      case 'drift': {
        const flags: Options = { 'as-of': { type: 'string' }, wait: { type: 'boolean', default: false }, id: { type: 'string' }, ...(command === 'retrain' ? { reason: { type: 'string' } } : {}) };
        const p = parse(sub === undefined ? [] : [sub, ...rest], flags, ['useCase']);
        if (p.help) return (io.out(USAGE), EXIT.ok);
        const [asOf, reason, id] = [str(p.values['as-of']), str(p.values['reason']), str(p.values['id'])];
        return await (await loops()).loopStart(ctx, command, p.positionals[0]!, {
          wait: p.values['wait'] === true,
          json: p.values['json'] === true,
          ...(asOf ? { asOf } : {}),
          ...(reason ? { reason } : {}),
          ...(id ? { id } : {}),
        });
      }
      case 'schedules': {
        switch (sub) {
          case 'list': {
            const p = parse(rest, { prefix: { type: 'string' } }, []);
            if (p.help) return (io.out(USAGE), EXIT.ok);
            const prefix = str(p.values['prefix']);
            return await (await schedules()).schedulesList(ctx, { json: p.values['json'] === true, ...(prefix ? { prefix } : {}) });
          }
          case 'apply': {
            const p = parse(rest, { prune: { type: 'boolean', default: false }, 'prune-prefix': { type: 'string' } }, ['file']);
            if (p.help) return (io.out(USAGE), EXIT.ok);
            const prunePrefix = str(p.values['prune-prefix']);
            return await (await schedules()).schedulesApply(ctx, p.positionals[0]!, { prune: p.values['prune'] === true, json: p.values['json'] === true, ...(prunePrefix ? { prunePrefix } : {}) });
          }
          case 'pause':
          case 'unpause': {
            const p = parse(rest, { note: { type: 'string' } }, ['scheduleId']);
            if (p.help) return (io.out(USAGE), EXIT.ok);
            return await (await schedules()).schedulesPause(ctx, p.positionals[0]!, str(p.values['note']), sub === 'pause', { json: p.values['json'] === true });
          }
          case 'delete': {
            const p = parse(rest, {}, ['scheduleId']);
            if (p.help) return (io.out(USAGE), EXIT.ok);
            return await (await schedules()).schedulesDelete(ctx, p.positionals[0]!, { json: p.values['json'] === true });
          }
          case 'backfill': {
            const p = parse(rest, { from: { type: 'string' }, to: { type: 'string' } }, ['scheduleId']);
            if (p.help) return (io.out(USAGE), EXIT.ok);
            return await (await schedules()).schedulesBackfill(ctx, p.positionals[0]!, str(p.values['from']), str(p.values['to']), { json: p.values['json'] === true });
          }
          default:
            throw new CliError(`unknown command "schedules ${sub ?? ''}"\n\n${USAGE}`, EXIT.usage);
        }
      }
      case 'webhooks': {
        if (sub !== 'serve') throw new CliError(`unknown command "webhooks ${sub ?? ''}"; did you mean "webhooks serve"?`, EXIT.usage);
        const p = parse(rest, {}, []);
        if (p.help) return (io.out(USAGE), EXIT.ok);
        return await (await webhooks()).webhooksServe(ctx);
      }
      default:
        throw new CliError(`unknown command "${command}"\n\n${USAGE}`, EXIT.usage);
    }
  } catch (err) {
    const json = argv.includes('--json');
    if (err instanceof CliError) {
      io.err(`aimo: ${err.message}`);
      for (const problem of err.problems) io.err(`  - ${problem}`);
      // A script reading stdout gets a JSON document on failure too (the usage text stays on stderr).
      if (json) io.out(JSON.stringify({ error: err.message.split('\n\n')[0], exitCode: err.exitCode, problems: err.problems }));
      return err.exitCode;
    }
    io.err(`aimo: unexpected error: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    if (json) io.out(JSON.stringify({ error: `unexpected error: ${err instanceof Error ? err.message : String(err)}`, exitCode: EXIT.failed, problems: [] }));
    return EXIT.failed;
  } finally {
    await ctx.close();
  }
}

if (require.main === module) {
  void run(process.argv.slice(2)).then((code) => process.exit(code));
}
