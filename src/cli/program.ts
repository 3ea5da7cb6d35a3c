/**
 * The `bourse` command line. Each command's action lives in its own file; this one declares
 * flags, help and examples, and maps failures to exit codes:
 *   0 ok · 64 bad usage · 65 data corrupt, of another schema or member · 66 data missing ·
 *   68 host name unknown · 69 address or port unavailable · 71 a program it runs (flock)
 *   missing or failed · 73 data unwritable · 74 disk full · 75 data folder locked ·
 *   78 not a bourse data folder · 70 internal error
 */
import { isIP } from 'node:net';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { exitCodeOf, StorageError } from '../journal/journal-errors.js';
import { KeyFileError } from '../gateway/api-keys.js';
import {
  cancelOnDisconnectGraceMs,
  sdkReconnectWaitMs,
  gatewayPortDefault,
  memberRetryDownMs,
  memberStopMs,
  memberStopMsMax,
  snapshotIntervalEvents,
  snapshotIntervalMs,
} from '../constants.js';
import { applySettings, configurable, withOrigin } from './config.js';
import type { CreateKeyOptions } from './keys.js';
import {
  asOption,
  bindFailure,
  ExitError,
  parseCount,
  parsePort,
  parsePositive,
  parseTimeUs,
  table,
  UsageError,
} from './output.js';
import type { MemberOptions } from './cluster.js';
import { capacitiesOf, capacityOptions } from './capacities.js';
import { benchScenarios, drillSignals, drillVictims, logFormats } from './choices.js';
import type { LogFormat } from './choices.js';
import { chooseLogFormat, chosenLogFormat, writeOwnLine } from './log-format.js';
import type { DrillOptions, HistoryFigures } from './drill.js';
import type { PartitionOptions } from './drill-partition.js';
import type { BenchOptions } from './bench.js';
import type { StartOptions } from './start.js';
import type { Anchor } from './verify.js';
import { version } from './version.js';
import { clientIdMax, isClientId } from '../protocol/client-ids.js';
import { lmdbErrorName, noteDataDir, runDataDir } from './supervise.js';
import { tellLastWords } from './last-words.js';
// Each command's code (LMDB, uWS, the pipeline: ~0.3 s to load) is imported when it runs.

const ipAddress = (name: string) => (text: string) => {
  if (isIP(text) === 0) throw new InvalidArgumentError(`${name}: '${text}' is not an IP address`);
  return text;
};

const count = asOption(parseCount);
const port = asOption(parsePort);
const positive = asOption(parsePositive);
/**
 * A number flag whose range is checked where it is used (--nodes: a cluster 1 to 7, a drill 3
 * to 7): digits, or "'x' is not <what>". 'x' was "not a whole number ≥ 0" (or ≥ 1), and 0 then
 * "1 to 7 members": two bounds for one flag.
 */
const digits = (what: string) =>
  asOption((name, text) => {
    if (/^\d{1,15}$/.test(text)) return Number(text);
    throw new UsageError(`${name}: '${text}' is not ${what}`);
  });
const members = digits('a number of members');

/**
 * --client: its one range, said for 'abc' as for 0. 'abc' was "not a whole number ≥ 0", and 0
 * then "a client id from 1 to 4294967292" (keys.ts): two bounds for one flag.
 */
const clientId = asOption((name, text) => {
  const id = /^\d{1,10}$/.test(text) ? Number(text) : 0;
  if (isClientId(id)) return id;
  throw new UsageError(`${name}: a client id from 1 to ${clientIdMax}, not '${text}'`);
});

/** A whole number from 1 to `max`, `max` said when above it. */
const positiveAtMost = (max: number) =>
  asOption((name, text) => {
    const value = parsePositive(name, text);
    if (value > max) throw new UsageError(`${name}: '${text}' is above ${max}`);
    return value;
  });

/**
 * --cancel-on-disconnect-grace-ms (start, member): how long a node that starts taking commands
 * waits for the clients marked for cancel on disconnect (gateway/cancel-on-disconnect.ts). At
 * most sdkReconnectWaitMs: the SDK gives up reconnecting after that long from its drop, which
 * came before the takeover; a longer grace brings no client back, and keeps a gone one's orders.
 */
const cancelGraceOption = [
  '--cancel-on-disconnect-grace-ms <ms>',
  'after a restart or failover, how long clients with cancel on disconnect have to log in ' +
    `again before their orders are canceled (when not given: ${cancelOnDisconnectGraceMs}; ` +
    `at most ${sdkReconnectWaitMs})`,
  positiveAtMost(sdkReconnectWaitMs)('--cancel-on-disconnect-grace-ms'),
] as const;

export function program(): Command {
  const p = new Command('bourse')
    .version(version())
    .description('bourse exchange and payments core')
    .exitOverride();
  addStart(p);
  addReplay(p);
  addVerify(p);
  addBackup(p);
  addInspect(p);
  addKeys(p);
  addCluster(p);
  addDrill(p);
  addBench(p);
  refuseAsBourse(p, 'bourse');
  const leaves = leafCommands(p);
  for (const leaf of leaves) configurable(leaf);
  // Sections of a settings file: each command's, and a group's (drill:, keys:) for its own.
  const groups = p.commands.filter((c) => c.commands.length > 0).map((c) => c.name());
  const names = [...leaves.map((c) => c.name()), ...groups];
  p.hook('preAction', (_program, action) => {
    refuseEmptyValues(action); // the flags: --config '' was read as a file ("cannot read  ")
    applySettings(action, names);
    refuseEmptyValues(action); // and what the settings gave
    noteDataDir(action.opts().data); // where a damaged file is looked for (supervise.ts)
  });
  return p;
}

/**
 * An empty folder, file or address (`--data ""`, or `--data "$DIR"` with DIR unset, or
 * BOURSE_DATA set empty) is refused. A folder read as "data folder  does not exist" (one with
 * no name), and from start, which makes a missing folder, that was no reason at all. `--host
 * ""` served clients on every interface and on a port of the kernel's choosing, not --port
 * (uWS takes an empty host so), where the default serves this machine alone. @throws UsageError
 */
function refuseEmptyValues(cmd: Command): void {
  for (const option of cmd.options) {
    const kind = /<(dir|file|address)>/.exec(option.flags)?.[1];
    if (kind === undefined || cmd.getOptionValue(option.attributeName()) !== '') continue;
    const what = kind === 'dir' ? 'folder' : kind === 'file' ? 'file' : 'address';
    throw new UsageError(`${option.long}: '' names no ${what} (is a variable unset?)`);
  }
}

/**
 * commander's own refusals (an unknown option or command, a missing argument, a value not among
 * the choices) read `error: …`, while every other refusal reads `bourse: …`. Each command's now
 * reads `bourse <command>: …`, with commander's "(Did you mean …?)" kept; the exit code stays
 * 64 (run). A value one of our parsers refused was said twice ("option '--count <k>' argument
 * '0' is invalid. --count: '0' is not …"): its reason names the flag, and is said alone.
 */
function refuseAsBourse(cmd: Command, path: string): void {
  const invalid = /^option '(--[a-z0-9-]+)[^']*' argument '.*' is invalid\. (?=\1[: ])/s;
  cmd.configureOutput({
    outputError: (text, write) =>
      write(`${path}: ${text.replace(/^error: /, '').replace(invalid, '')}`),
  });
  for (const sub of cmd.commands) refuseAsBourse(sub, `${path} ${sub.name()}`);
}

/** Commands that run something (not groups such as `keys` or `drill`). */
function leafCommands(cmd: Command): Command[] {
  if (cmd.commands.length === 0) return [cmd];
  return cmd.commands.flatMap((c) => leafCommands(c));
}

function addBench(p: Command): void {
  p.command('bench')
    .description('run a benchmark; write its JSON report and HDR plot to the results folder')
    .argument('<scenario>', `one of: ${benchScenarios.join(', ')}`)
    .option('--small', 'the quick size CI runs')
    .option(
      '--rate <n>',
      'open-loop rate, commands/s (pipeline, e2e, replicated)',
      positive('--rate'),
    )
    .option('--out <dir>', 'folder for <scenario>-<size>.json and .svg', 'bench/results')
    .addHelpText(
      'after',
      '\nExamples:\n  bourse bench engine\n  bourse bench replicated --small\n' +
        '  bourse bench e2e --rate 50000 --out /tmp/results',
    )
    .action(async (scenario: string, o: BenchOptions) => {
      const { bench } = await import('./bench.js');
      const r = await bench(scenario, o);
      process.stderr.write(`report: ${r.json}${r.svg === null ? '' : `, plot: ${r.svg}`}\n`);
    });
}

function addCluster(p: Command): void {
  const cluster = p
    .command('cluster')
    .description('run a local cluster: one process per member, on loopback ports')
    .option(
      '--nodes <n>',
      'members (an odd number: 3 tolerates one failure)',
      members('--nodes'),
      3,
    )
    .option('--data <dir>', 'folder for cluster.json and each member-<id> folder', './cluster')
    .option(
      '--base-port <n>',
      'client port of member 1 (replication: +100)',
      port('--base-port'),
      9001,
    )
    .addOption(
      logFormatOption(
        'its own lines on stderr, and the line a member fails with: text, or JSON lines ' +
          "like the members' logs",
      ),
    )
    .option(
      '--member-stop-ms <ms>',
      'a member still running this long after it is asked to stop is killed (SIGKILL); one ' +
        `still starting when this process is gone exits after it (at most ${memberStopMsMax})`,
      positiveAtMost(memberStopMsMax)('--member-stop-ms'),
      memberStopMs,
    )
    .option(
      '--member-retry-ms <ms>',
      'first wait before a member whose start failed (a port, a disk) is tried again; doubled ' +
        'each time, up to 5 min',
      positive('--member-retry-ms'),
      memberRetryDownMs,
    )
    .addHelpText('after', '\nExample:\n  bourse cluster --nodes 3 --data ./cluster');
  capacityOptions(cluster).action(async (o: ClusterFlags) => {
    chooseLogFormat(o.logFormat);
    const { cluster: run } = await import('./cluster.js');
    await run({ ...o, capacities: capacitiesOf(o) });
  });
  addMember(p);
}

function addMember(p: Command): void {
  const member = p
    .command('member')
    .description('run one member of a cluster (bourse cluster starts these)')
    .requiredOption('--cluster <file>', 'the cluster file (members, their hosts and ports)')
    .requiredOption('--id <n>', "this member's id", digits('a member id')('--id'))
    .option('--data <dir>', 'data folder', './data')
    .option('--bootstrap', 'the cluster is being formed: an empty folder is a new member')
    .option(
      '--folder-moved',
      "the folder is this member's own, copied here (a new disk); the one it came from must " +
        'never start again',
    )
    .option(
      '--listen <address>',
      'IP address to bind its ports to (default: its host; 0.0.0.0: all)',
      ipAddress('--listen'),
    )
    .option(
      '--secret <file>',
      "the cluster's replication secret, the same on every member (default: replication.key " +
        'beside the cluster file)',
    )
    .option('--make-secret', 'make the secret file when missing (members sharing one volume)')
    .option(
      '--stop-ms <ms>',
      'its supervisor (bourse cluster, a drill, a bench) gone while it starts, it exits at ' +
        `once if not started within this (the supervisor's; at most ${memberStopMsMax})`,
      positiveAtMost(memberStopMsMax)('--stop-ms'),
    )
    .option(...cancelGraceOption)
    .addOption(logFormatOption('the line it fails with on stderr: text, or JSON like its log'))
    .addHelpText(
      'after',
      '\nExample:\n' +
        '  bourse member --cluster ./cluster/cluster.json --id 2 --data ./cluster/member-2\n' +
        'Every member needs the same replication secret: 64 hex digits in a file of mode 0600\n' +
        '(bourse cluster makes one; by hand: openssl rand -hex 32). A member without it does\n' +
        'not start; one with another is refused by the others.\n' +
        'Without --bootstrap, a member whose folder is empty has lost its disk: it catches up\n' +
        'before it votes again. With it, an empty folder is new only while no other member\n' +
        'answers with a journal that holds events. A folder another member wrote, a single\n' +
        "node's, a backup of a member's folder (its own included), or a copy of it (cp -a) is\n" +
        'refused; a folder moved to a new disk is taken with --folder-moved. A folder with\n' +
        "files in it and none of bourse's (--data ~) is refused, nothing written (exit 78);\n" +
        'so is a client or peer port that cannot be bound (exit 69), and a host name that\n' +
        "does not resolve (exit 68) or is not this machine's (exit 69).",
    );
  capacityOptions(member).action(async (o: MemberOptions & { logFormat?: LogFormat }) => {
    chooseLogFormat(o.logFormat, { member: o.id });
    const { member: run } = await import('./cluster.js');
    await run({ ...o, capacities: capacitiesOf(o) });
  });
}

interface ClusterFlags {
  nodes: number;
  data: string;
  basePort: number;
  logFormat?: LogFormat;
  memberStopMs: number;
  memberRetryMs: number;
}

/** --log-format, `what` it sets (log-format.ts). */
function logFormatOption(what: string): Option {
  return new Option(
    '--log-format <format>',
    `${what} (default: JSON unless stderr is a terminal)`,
  ).choices(logFormats);
}

function addDrill(p: Command): void {
  const group = p
    .command('drill')
    .description('failover and partition drills, real processes')
    .addHelpText(
      'after',
      '\nExamples:\n  bourse drill failover --kills 10\n  bourse drill partition --cuts 9   (root)',
    );
  addFailoverDrill(group);
  addPartitionDrill(group);
}

/**
 * A drill command with the options every drill has: members, the load's shape, and where it
 * runs (drill-folder.ts).
 */
function drillCommand(group: Command, name: string, ports: string): Command {
  return group
    .command(name)
    .option('--nodes <n>', 'members', members('--nodes'), 3)
    .option(
      '--accounts <n>',
      'accounts the transfers and orders use',
      digits('a number of accounts')('--accounts'),
      100,
    )
    .option('--window <n>', 'transfers in flight', digits('a number of transfers')('--window'), 64)
    .option(
      '--data <dir>',
      "the drill's folder, new or empty: cluster.json, each member's folder and log; kept " +
        'after the drill (default: a new folder in TMPDIR, removed when the drill passes)',
    )
    .option('--base-port <n>', ports, port('--base-port'));
}

function addFailoverDrill(group: Command): void {
  const ports =
    'client port of member 1, then 2, ... (replication: +100), as bourse cluster; refused ' +
    'when taken (default: free ports)';
  drillCommand(group, 'failover', ports)
    .description('kill (or stop) the primary K times under load; check nothing acked is lost')
    .option(
      '--kills <k>',
      'times to kill (--signal) the primary (--victim)',
      positive('--kills'),
      5,
    )
    .option('--seed <n>', 'seed of the load and of the kill times', count('--seed'), 1)
    .addOption(
      new Option(
        '--signal <name>',
        'SIGKILL: a crash; SIGTERM: a clean stop (a rolling restart): the primary hands over',
      )
        .choices(drillSignals)
        .default('SIGKILL'),
    )
    .addOption(
      new Option('--victim <who>', 'whose process each kill stops (any: drawn by the seed)')
        .choices(drillVictims)
        .default('primary'),
    )
    .option(
      '--lose-disk-every <n>',
      'every n-th killed member also loses its disk: restarts on an empty folder (0: never)',
      count('--lose-disk-every'),
      0,
    )
    .option(
      '--lose-disks <n>',
      'members killed together at each of those kills, each back empty (seeded; the primary ' +
        'too unless --victim standby); 1 to f = (nodes - 1) / 2',
      positive('--lose-disks'),
      1,
    )
    .addHelpText(
      'after',
      '\nExamples:\n  bourse drill failover --kills 10\n' +
        '  bourse drill failover --kills 6 --lose-disk-every 3\n' +
        '  bourse drill failover --kills 10 --signal SIGTERM\n' +
        '  bourse drill failover --kills 8 --victim standby --lose-disk-every 2\n' +
        '  bourse drill failover --nodes 5 --victim any --lose-disk-every 2 --lose-disks 2\n' +
        '  bourse drill failover --kills 3 --data ./drill --base-port 9201\n' +
        'With --data its folder is kept (bourse verify --data ./drill/member-1); without, a new\n' +
        'folder in TMPDIR is removed when the drill passes, and kept when it fails.',
    )
    .action(async (o: Omit<DrillOptions, 'verbose'>) => {
      const { drill, historyPassed, verdict } = await import('./drill.js');
      const r = await drill({ ...o, verbose: true });
      const rows = [
        { measure: `kills (${r.signal}, victim: ${r.victim})`, value: r.kills },
        { measure: 'of them, of a standby', value: r.standby_kills },
        { measure: 'of those, the primary the same after', value: r.primary_kept },
        {
          measure: 'longest wait for a result around a standby kill (ms)',
          value: r.standby_stall_ms_max ?? '-', // none: only primaries were killed
        },
        { measure: `disks lost (restarted empty), ${r.lose_disks} a kill`, value: r.disks_lost },
        { measure: 'of them, handed over (a clean stop)', value: r.handed_over },
        ...historyRows(r, []),
      ];
      process.stdout.write(table(rows as never[]) + '\n' + JSON.stringify(r) + '\n');
      process.stderr.write(verdict(r));
      if (!historyPassed(r)) process.exitCode = 1;
    });
}

function addPartitionDrill(group: Command): void {
  const ports = "every member's client port in its own namespace (replication: +100)";
  drillCommand(group, 'partition', `${ports} (default: 9001)`)
    .description('cut members off the network under load (namespaces; root); check the history')
    .option(
      '--cuts <k>',
      'partitions, in turn: primary off, off the members, deaf to them; standby off',
      positive('--cuts'),
      6,
    )
    .option('--seed <n>', 'seed of the load and of the cut times', count('--seed'), 1)
    .addHelpText(
      'after',
      '\nEach member runs in a network namespace of its own, on a bridge; a cut lasts 1-3 s.\n' +
        'Cuts are a link set down or blackhole routes: no loss, delay or corruption.\n' +
        'Needs root and iproute2. Its namespaces are removed afterwards, and its folder when it\n' +
        'passes without --data (a failed drill keeps its folder and says where).\n' +
        '\nExample:\n  sudo bourse drill partition --cuts 9',
    )
    .action(async (o: Omit<PartitionOptions, 'verbose'>) => {
      const [{ drillPartition, partitionPassed }, { verdict }] = await Promise.all([
        import('./drill-partition.js'),
        import('./drill.js'),
      ]);
      const r = await drillPartition({ ...o, verbose: true });
      const cuts = `${r.primary_off} / ${r.primary_members} / ${r.primary_deaf} / ${r.standby_off}`;
      const p50s = [r.takeover_ms_p50_off, r.takeover_ms_p50_members, r.takeover_ms_p50_deaf];
      const byKind = p50s.map((ms) => ms ?? '-').join(' / ');
      const rows = [
        { measure: 'cuts: primary off / off the members / deaf / standby off', value: cuts },
        ...historyRows(r, [
          { measure: 'takeover p50: primary off / off the members / deaf (ms)', value: byKind },
          { measure: 'former primaries back as standbys', value: String(r.fenced) },
        ]),
      ];
      process.stdout.write(table(rows as never[]) + '\n' + JSON.stringify(r) + '\n');
      const fenced = 'a former primary did not come back a standby';
      process.stderr.write(verdict(r, [[r.fenced, fenced]]));
      if (!partitionPassed(r)) process.exitCode = 1;
    });
}

/** The rows every drill prints of its history, with `extra` before the replicas' checks. */
function historyRows(r: HistoryFigures, extra: { measure: string; value: unknown }[]) {
  return [
    { measure: 'acknowledged commands', value: r.acked },
    { measure: 'lost', value: r.lost },
    { measure: 'applied twice', value: r.duplicated },
    {
      measure: 'takeover p50 / p99 / max (ms)',
      value:
        r.takeover_ms_max !== null // none: only standbys were killed
          ? `${r.takeover_ms_p50} / ${r.takeover_ms_p99} / ${r.takeover_ms_max}`
          : '-',
    },
    ...extra,
    { measure: 'replicas identical (chain, state)', value: String(r.replicas_identical) },
    { measure: 'assets conserved', value: String(r.conserved) },
  ];
}

function addKeys(p: Command): void {
  const keys = p
    .command('keys')
    .description('API keys: each binds a client id to admin rights or to accounts')
    .addHelpText(
      'after',
      '\nExamples:\n  bourse keys create --client 7 --accounts 1,2\n  bourse keys list',
    );
  keys
    .command('create')
    .description('make a key and show it once')
    .option('--data <dir>', 'data folder', './data')
    .requiredOption('--client <id>', 'client id the key logs in as', clientId('--client'))
    .option(
      '--admin',
      'may send every command (create accounts, deposit, withdraw, manage instruments) for ' +
        'any account, and read the journal',
    )
    .option('--accounts <ids>', 'comma-separated accounts the key may act on')
    .option(
      '--share-client',
      'allow a client id another key holds with other grants (they act as one client)',
    )
    .addHelpText('after', '\nExample:\n  bourse keys create --client 7 --accounts 1,2')
    .action(async (o: CreateKeyOptions) => (await import('./keys.js')).createKeyCommand(o));
  keys
    .command('list')
    .description('show the keys (never their secrets)')
    .option('--data <dir>', 'data folder', './data')
    .addHelpText('after', '\nExample:\n  bourse keys list --data ./data')
    .action(async (o: { data: string }) => (await import('./keys.js')).listKeysCommand(o.data));
  keys
    .command('upgrade')
    .description('rewrite a version 1 keys.json (whose hashes log in) as version 2')
    .option('--data <dir>', 'data folder', './data')
    .action(async (o: { data: string }) => (await import('./keys.js')).upgradeKeysCommand(o.data));
  keys
    .command('revoke')
    .description('remove a key')
    .option('--data <dir>', 'data folder', './data')
    .requiredOption('--id <id>', 'the key id (from keys list)')
    .addHelpText('after', '\nExample:\n  bourse keys revoke --data ./data --id 3c5e92ee')
    .action(async (o: { data: string; id: string }) =>
      (await import('./keys.js')).revokeKeyCommand(o.data, o.id),
    );
}

function addStart(p: Command): void {
  const start = p
    .command('start')
    .description('run a single node on a data folder (Ctrl-C stops it cleanly)')
    .option('--data <dir>', 'data folder', './data')
    .option('--host <address>', 'address to serve clients on', '127.0.0.1')
    .option(
      '--port <n>',
      'port to serve clients on (0: any free port)',
      port('--port'),
      gatewayPortDefault,
    )
    .option(
      '--snapshot-events <n>',
      `journaled events between snapshots (when not given: ${snapshotIntervalEvents})`,
      positive('--snapshot-events'),
    )
    .option(
      '--snapshot-ms <ms>',
      `longest time between snapshots, with new events (when not given: ${snapshotIntervalMs})`,
      positive('--snapshot-ms'),
    )
    .option(...cancelGraceOption)
    .addHelpText(
      'after',
      '\nExamples:\n  bourse start --data ./data\n' +
        '  bourse start --accounts-max 1000000 --orders-max 1000000',
    );
  capacityOptions(start).action(async (o: StartOptions) => {
    const { start: run } = await import('./start.js');
    await run({ ...o, capacities: capacitiesOf(o) });
  });
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
    .option(
      '--account <id>',
      'only this account (alone: its balances and orders)',
      count('--account'),
    )
    .addHelpText(
      'after',
      '\nExamples:\n  bourse replay --data ./data --to-seq 1000 --balances\n' +
        '  bourse replay --data ./data --to-time 2026-11-24T12:00:00Z --book 1',
    )
    .action(async (o: ReplayFlags) => {
      if (o.toSeq !== undefined && o.toTime !== undefined) {
        throw new UsageError('give --to-seq or --to-time, not both');
      }
      const toTimeUs = o.toTime === undefined ? undefined : parseTimeUs(o.toTime);
      // --account alone printed nothing of the account: it means its balances and orders.
      const both = o.account !== undefined && o.balances !== true && o.orders !== true;
      const shown = both ? { balances: true, orders: true } : {};
      const { replay } = await import('./replay.js');
      replay({ ...o, ...shown, toTimeUs, print: true });
    });
}

function addVerify(p: Command): void {
  p.command('verify')
    .description('check the journal hash chain (in parallel) and every snapshot against a replay')
    .option('--data <dir>', 'data folder', './data')
    .option(
      '--head <seq:hash>',
      'a head printed by an earlier verify: the journal must still hold that batch',
      parseHead,
    )
    .option(
      '--repair-time-index',
      'first rebuild the time index from the journal (a member folder written before the ' +
        'time-index cut fix can hold stale entries); the node must be stopped',
    )
    .addHelpText(
      'after',
      '\nExamples:\n  bourse verify --data ./data\n' +
        '  bourse verify --data ./data --head 1200:<the 64 hex digits it printed>\n' +
        '  bourse verify --data ./cluster/member-2 --repair-time-index',
    )
    .action(async (o: { data: string; head?: Anchor; repairTimeIndex?: boolean }) => {
      if (o.repairTimeIndex === true) {
        const { repairLine, repairTimeIndex } = await import('./repair-time-index.js');
        process.stdout.write(repairLine(repairTimeIndex(o.data)));
      }
      const { snapshotsLine, verify } = await import('./verify.js');
      const { standbyLogLine } = await import('./open-data.js');
      const report = await verify(o.data, o.head);
      const summary =
        `${report.batches} batches, ${report.events} events through sequence ` +
        `${report.lastSequence}, ${snapshotsLine(report)}`;
      const head = headLine('verify', report.lastSequence, report.lastHash);
      // After the verdict, ok or not: what it checked lacks what the member's log holds.
      const unapplied = standbyLogLine('verify', o.data, report.standbyLog, 'CORRUPT');
      if (report.ok) {
        process.stdout.write(`verify: ok: ${summary}\n${head}${unapplied}`);
        return;
      }
      // The journal sound and the standby log damaged: what was checked is said, then the log.
      if (report.problems.length === 0) process.stdout.write(`verify: journal ok: ${summary}\n`);
      for (const problem of report.problems)
        process.stdout.write(
          `verify: CORRUPT at sequence ${problem.sequence}: ${problem.message}\n`,
        );
      process.stdout.write(unapplied);
      process.exitCode = 65;
    });
}

/**
 * The head line verify and backup print, to be kept and given back as --head. An empty journal
 * has no batch to anchor: it printed `head 0:`, which --head then refused as no SEQ:HASH.
 */
function headLine(tool: string, sequence: number, hash: string): string {
  if (sequence === 0) return `${tool}: head none: the journal is empty (no batch to anchor)\n`;
  return `${tool}: head ${sequence}:${hash}\n`;
}

/** --head SEQ:HASH, as verify prints it. */
function parseHead(text: string): Anchor {
  const found = /^(\d{1,16}):([0-9a-f]{64})$/i.exec(text);
  const sequence = Number(found?.[1]);
  if (found === null || !Number.isSafeInteger(sequence) || sequence < 1) {
    throw new InvalidArgumentError(
      `--head: '${text}' is not SEQ:HASH (a sequence, a colon, 64 hex digits)`,
    );
  }
  return { sequence, hash: found[2].toLowerCase() };
}

function addBackup(p: Command): void {
  p.command('backup')
    .description("copy a data folder consistently, its node running or not (LMDB's own copy)")
    .option('--data <dir>', 'data folder', './data')
    .requiredOption('--to <dir>', 'where the copy goes: a new or empty folder')
    .addHelpText(
      'after',
      '\nExamples:\n  bourse backup --data ./data --to /backups/bourse-2026-12-04\n' +
        '  bourse verify --data /backups/bourse-2026-12-04',
    )
    .action(async (o: { data: string; to: string }) => {
      const { backup } = await import('./backup.js');
      const copied = await backup(o.data, o.to);
      // What was copied: "with snapshots" was said of a snapshots.mdb that held none.
      const count = copied.snapshots ?? 0;
      const snapshots = count === 0 ? 'no snapshots' : `${count} snapshot${count > 1 ? 's' : ''}`;
      process.stdout.write(
        `backup: ${o.to} holds the journal through sequence ${copied.sequence} with ` +
          `${snapshots}${copied.keys ? ' and keys.json' : ''}\n` +
          headLine('backup', copied.sequence, copied.hash),
      );
      // What the member's standby log holds past the copy, or its damage (the copy is made).
      const { standbyLogLine } = await import('./open-data.js');
      process.stdout.write(standbyLogLine('backup', o.data, copied.standbyLog));
      if (copied.member === null) return;
      // Said, not only stored: an operator keeping it to restore a member learns now.
      const whose = copied.member === 'unknown' ? 'a member' : `member ${copied.member}`;
      process.stdout.write(
        `backup: ${o.to} is a backup of ${whose}'s folder: no member or node starts on it ` +
          '(it would vote for what it no longer holds, docs/ROLES.md); the tools read it\n',
      );
    });
}

function addInspect(p: Command): void {
  p.command('inspect')
    .description('print journaled events in readable form')
    .option('--data <dir>', 'data folder', './data')
    .option('--from-seq <n>', 'first sequence', count('--from-seq'), 1)
    .option('--count <k>', 'events to print', positive('--count'), 20)
    .addHelpText('after', '\nExample:\n  bourse inspect --data ./data --from-seq 100 --count 10')
    .action(async (o: { data: string; fromSeq: number; count: number }) => {
      const { inspect } = await import('./inspect.js');
      await inspect(o); // prints the events, batch by batch
    });
}

/** Runs the CLI; resolves with the exit code. */
export async function run(argv: readonly string[]): Promise<number> {
  try {
    await program().parseAsync([...argv], { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (caught) {
    if (caught instanceof CommanderError) {
      // commander has printed the help, version or usage message already.
      return caught.exitCode === 0 ? 0 : 64;
    }
    return failed(caught);
  }
}

/** Says why the command failed (on stderr, and to a supervisor: last-words.ts); its exit code. */
async function failed(caught: unknown): Promise<number> {
  const say = (line: string, code: number): number => {
    // A command that chose a format (cluster, member) ends in it: its stderr is a log's.
    if (chosenLogFormat() === null) process.stderr.write(`bourse: ${line}\n`);
    else writeOwnLine('bourse', line, 'fatal', { exitCode: code });
    tellLastWords(`bourse: ${line}`);
    return code;
  };
  // LMDB's own errors name no file: a walk of the folder's files finds the damaged one.
  const error =
    lmdbErrorName(caught) === null
      ? caught
      : (await import('./damaged-file.js')).lmdbFailure(caught, runDataDir());
  if (error instanceof StorageError) {
    // A capacity from a config file is named by its origin, as a usage error's is.
    return say(`${withOrigin(error.message)} [${error.code}]`, exitCodeOf(error.code));
  }
  if (error instanceof KeyFileError) return say(error.message, error.unreadable ? 73 : 65);
  if (error instanceof UsageError) return say(withOrigin(error.message), 64);
  if (error instanceof ExitError) return say(error.message, error.exitCode);
  const unavailable = bindFailure(error);
  if (unavailable !== null) return say(unavailable, 69);
  return say(`internal error: ${(error as Error).stack ?? String(error)}`, 70);
}
