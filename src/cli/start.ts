/**
 * `bourse start`: one node on a data folder, until Ctrl-C (SIGINT) or SIGTERM, which stop it
 * cleanly: everything accepted is journaled and fsynced before the process exits; a second one
 * stops it at once (node-signals.ts). Where it stands goes to stdout for people; its log goes
 * to stderr as JSON lines (logger.ts).
 */
import { isIPv6 } from 'node:net';
import { ProgressSlot } from '../journal/journal-progress.js';
import { cliLog } from './logger.js';
import { nodeSignals } from './node-signals.js';
import { version } from './version.js';
import { capacityLine, type Capacities } from '../pipeline/engine-config.js';
import { dataFreeBytesWarn } from '../constants.js';
import { refuseForeignFolder, refuseTakenPort } from './start-refusals.js';
import { folderBefore, undoFailedStart } from './start-folder-undo.js';

export interface StartOptions {
  data: string;
  host: string;
  port: number;
  snapshotEvents?: number;
  snapshotMs?: number;
  cancelOnDisconnectGraceMs?: number;
  capacities?: Capacities;
}

export async function start(options: StartOptions): Promise<void> {
  const log = cliLog({ role: 'primary' });
  const signals = nodeSignals('node', options.data, (line, level) => {
    process.stdout.write(`${line}\n`);
    log(line, level);
  });
  const stopped = signals.stopped;
  log(`starting on ${options.data}`);
  await refuseBeforeStart(options).catch((error: unknown) => signals.off(error));
  // The node's code (LMDB, uWS, the engine: ~0.15 s of CPU) loaded once the refusals passed.
  const { BourseNode } = await import('../pipeline/node.js');
  const before = folderBefore(options.data);
  const node = await BourseNode.start({
    dataDir: options.data,
    snapshotIntervalEvents: options.snapshotEvents,
    snapshotIntervalMs: options.snapshotMs,
    capacities: options.capacities,
    gateway: {
      host: options.host,
      port: options.port,
      cancelGraceMs: options.cancelOnDisconnectGraceMs,
    },
    log,
  }).catch((error: unknown) => {
    // Failed before ready (its port taken since the check): no client was let in.
    const undone = undoFailedStart(options.data, before);
    if (undone !== null) log(undone, 'warn');
    throw error;
  });
  const r = node.recovery;
  const from = r.snapshotSequence === -1 ? 'the journal start' : `snapshot ${r.snapshotSequence}`;
  const at = `${urlHost(options.host)}:${node.gateway?.port ?? options.port}`;
  process.stdout.write(
    [
      `bourse ${version()}`,
      `role:      primary (single node)`,
      `data:      ${node.dataDir}`,
      `journal:   sequence ${r.sequence} (replayed ${r.eventsReplayed} events from ${from}` +
        ` in ${r.recoveryMs.toFixed(0)} ms)`,
      `capacity:  ${capacityLine(node.config)}`,
      `disk:      ${diskLine(node.diskFree())}`,
      `clients:   ws://${at}/ (binary protocol, docs/PROTOCOL.md)`,
      `health:    http://${at}/health`,
      `dashboard: http://${at}/dashboard`,
      `ready; Ctrl-C stops cleanly (a second Ctrl-C: at once, as a crash would)`,
      '',
    ].join('\n'),
  );
  signals.ready();
  log(`started: journal at sequence ${r.sequence}, clients on port ${node.gateway?.port}`);
  const failure = await Promise.race([stopped.then(() => null), node.failed]);
  log('stopping');
  await node.stop();
  const durable = node.progress.get(ProgressSlot.sequenceDurable);
  const through = Math.max(durable, r.sequence);
  if (failure !== null) {
    // Nothing past `at` was answered: clients send those commands again once a node runs.
    process.stdout.write(`stopped: the node failed; journal durable through sequence ${through}\n`);
    throw failure; // its message and exit code (74 for the disk) come from program.ts
  }
  process.stdout.write(`stopped cleanly; journal durable through sequence ${through}\n`);
}

/** `host` as a URL writes it: an IPv6 address in brackets (`ws://[::1]:9001/`). */
function urlHost(host: string): string {
  return isIPv6(host) ? `[${host}]` : host;
}

/**
 * What is refused before anything is made or written (a failed start leaves no folder behind):
 * a folder that is not a data folder, a port that cannot be bound, a damaged file. A walk
 * stopped by Ctrl-C says so (damaged-file.ts), and the signal's own line is not said.
 */
async function refuseBeforeStart(options: StartOptions): Promise<void> {
  refuseForeignFolder(options.data, 'start', 'bourse-data');
  await refuseTakenPort(options.host, options.port);
  await refuseDamagedPages(options.data);
}

/**
 * Walks both files' pages in a child process before the node opens them (damaged-file.ts). An
 * LMDB assertion on a damaged page aborts the process that reads it, past any handler: start
 * died of SIGABRT with a C assertion. The walk dies instead, and the file is named (exit 65).
 * It costs a process start and one read of each B-tree page (no value bytes past the first
 * page of each record's overflow): well under a second for a journal of millions of batches.
 * Not covered: a page first read while the node runs (a damaged overflow page of an old batch
 * that GET /events reads).
 */
async function refuseDamagedPages(dir: string): Promise<void> {
  const { damageError, findDamage } = await import('./damaged-file.js');
  const damage = findDamage(dir);
  if (damage !== null) throw damageError(dir, damage);
}

/** Free space as the start banner shows it, with the warning when it is low (disk-watch.ts). */
function diskLine(free: number): string {
  if (free < 0) return 'free space unknown';
  const gb = free / 2 ** 30;
  const shown = gb >= 10 ? `${gb.toFixed(0)} GB` : `${(free / 2 ** 20).toFixed(0)} MB`;
  const low = free < dataFreeBytesWarn ? ' (low: the node stops when the disk is full)' : '';
  return `${shown} free${low}`;
}
