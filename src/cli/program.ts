/**
 * The `bourse` command line. Each command's action lives in its own file; this one declares
 * flags, help and examples, and maps failures to exit codes:
 *   0 ok · 64 bad usage · 65 data corrupt or of another schema · 66 data missing ·
 *   73 data unwritable · 74 disk full · 75 data folder locked · 70 internal error
 */
import { Command, CommanderError, InvalidArgumentError } from 'commander';
import { exitCodeOf, StorageError } from '../journal/journal-errors.js';
import { gatewayPortDefault } from '../constants.js';
import { inspect } from './inspect.js';
import {
  createKeyCommand,
  listKeysCommand,
  revokeKeyCommand,
  type CreateKeyOptions,
} from './keys.js';
import { parseCount, parseTimeUs, UsageError } from './output.js';
import { replay } from './replay.js';
import { start } from './start.js';
import { verify } from './verify.js';
import { version } from './version.js';

const count = (name: string) => (text: string) => {
  try {
    return parseCount(name, text);
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
};

export function program(): Command {
  const p = new Command('bourse')
    .version(version())
    .description('bourse exchange and payments core')
    .exitOverride();
  addStart(p);
  addReplay(p);
  addVerify(p);
  addInspect(p);
  addKeys(p);
  return p;
}

function addKeys(p: Command): void {
  const keys = p
    .command('keys')
    .description('API keys: each binds a client id to admin rights or to accounts');
  keys
    .command('create')
    .description('make a key and show it once')
    .option('--data <dir>', 'data folder', './data')
    .requiredOption('--client <id>', 'client id the key logs in as', count('--client'))
    .option('--admin', 'may create accounts, deposit, withdraw and manage instruments')
    .option('--accounts <ids>', 'comma-separated accounts the key may act on')
    .addHelpText('after', '\nExample:\n  bourse keys create --client 7 --accounts 1,2')
    .action((o: CreateKeyOptions) => createKeyCommand(o));
  keys
    .command('list')
    .description('show the keys (never their secrets)')
    .option('--data <dir>', 'data folder', './data')
    .action((o: { data: string }) => listKeysCommand(o.data));
  keys
    .command('revoke')
    .description('remove a key')
    .option('--data <dir>', 'data folder', './data')
    .requiredOption('--id <id>', 'the key id (from keys list)')
    .action((o: { data: string; id: string }) => revokeKeyCommand(o.data, o.id));
}

function addStart(p: Command): void {
  p.command('start')
    .description('run a single node on a data folder (Ctrl-C stops it cleanly)')
    .option('--data <dir>', 'data folder', './data')
    .option('--host <address>', 'address to serve clients on', '127.0.0.1')
    .option(
      '--port <n>',
      'port to serve clients on (0: any free port)',
      count('--port'),
      gatewayPortDefault,
    )
    .option(
      '--snapshot-events <n>',
      'journaled events between snapshots',
      count('--snapshot-events'),
    )
    .option('--snapshot-ms <ms>', 'longest time between snapshots', count('--snapshot-ms'))
    .addHelpText('after', '\nExample:\n  bourse start --data ./data')
    .action(
      (o: {
        data: string;
        host: string;
        port: number;
        snapshotEvents?: number;
        snapshotMs?: number;
      }) => start(o),
    );
}

interface ReplayFlags {
  data: string;
  toSeq?: number;
  toTime?: string;
  balances?: boolean;
  orders?: boolean;
  book?: number;
  account?: number;
}

function addReplay(p: Command): void {
  p.command('replay')
    .description('rebuild the state at a sequence or time from the journal and print it')
    .option('--data <dir>', 'data folder', './data')
    .option(
      '--to-seq <n>',
      'stop after the last event at or before this sequence',
      count('--to-seq'),
    )
    .option('--to-time <t>', 'stop at this time (ISO-8601 or microseconds since the epoch)')
    .option('--balances', 'print non-zero balances')
    .option('--orders', 'print open orders')
    .option('--book <instrument>', "print this instrument's book", count('--book'))
    .option('--account <id>', 'only this account', count('--account'))
    .addHelpText(
      'after',
      '\nExamples:\n  bourse replay --data ./data --to-seq 1000 --balances\n' +
        '  bourse replay --data ./data --to-time 2026-11-24T12:00:00Z --book 1',
    )
    .action((o: ReplayFlags) => {
      if (o.toSeq !== undefined && o.toTime !== undefined) {
        throw new UsageError('give --to-seq or --to-time, not both');
      }
      const toTimeUs = o.toTime === undefined ? undefined : parseTimeUs(o.toTime);
      replay({ ...o, toTimeUs, print: true });
    });
}

function addVerify(p: Command): void {
  p.command('verify')
    .description('check the journal hash chain (in parallel) and every snapshot against a replay')
    .option('--data <dir>', 'data folder', './data')
    .addHelpText('after', '\nExample:\n  bourse verify --data ./data')
    .action(async (o: { data: string }) => {
      const report = await verify(o.data);
      const summary =
        `${report.batches} batches, ${report.events} events through sequence ` +
        `${report.lastSequence}, ${report.snapshotsChecked} snapshots`;
      if (report.ok) {
        process.stdout.write(`verify: ok: ${summary}\n`);
        return;
      }
      for (const problem of report.problems)
        process.stdout.write(
          `verify: CORRUPT at sequence ${problem.sequence}: ${problem.message}\n`,
        );
      process.exitCode = 65;
    });
}

function addInspect(p: Command): void {
  p.command('inspect')
    .description('print journaled events in readable form')
    .option('--data <dir>', 'data folder', './data')
    .option('--from-seq <n>', 'first sequence', count('--from-seq'), 1)
    .option('--count <k>', 'events to print', count('--count'), 20)
    .addHelpText('after', '\nExample:\n  bourse inspect --data ./data --from-seq 100 --count 10')
    .action((o: { data: string; fromSeq: number; count: number }) => void inspect(o));
}

/** Runs the CLI; resolves with the exit code. */
export async function run(argv: readonly string[]): Promise<number> {
  try {
    await program().parseAsync([...argv], { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (error) {
    if (error instanceof CommanderError) {
      // commander has printed the help, version or usage message already.
      return error.exitCode === 0 ? 0 : 64;
    }
    if (error instanceof StorageError) {
      process.stderr.write(`bourse: ${error.message} [${error.code}]\n`);
      return exitCodeOf(error.code);
    }
    if (error instanceof UsageError) {
      process.stderr.write(`bourse: ${error.message}\n`);
      return 64;
    }
    process.stderr.write(`bourse: internal error: ${(error as Error).stack ?? String(error)}\n`);
    return 70;
  }
}
