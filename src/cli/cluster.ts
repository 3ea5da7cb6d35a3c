/**
 * `bourse member` runs one cluster member; `bourse cluster` runs a whole local cluster, one
 * process per member, on loopback ports.
 *
 * Its cluster file is read and checked in cluster-file.ts.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve as absolute } from 'node:path';
import {
  clusterFileName,
  clusterMembersMax,
  engineConfigDefault,
  engineConfigProblem,
  memberExitWaitMs,
  memberRetryDownMs,
  memberStopMs,
} from '../constants.js';
import { ClusterNode, type ClusterMember } from '../pipeline/cluster-node.js';
import {
  checkBasePort,
  localCluster,
  memberDataDir,
  readClusterFile,
  type ClusterFile,
} from './cluster-file.js';
import type { NodeLog } from '../pipeline/node.js';
import { makeSecret, readSecret, secretBeside, secretExposure } from './cluster-secret.js';
import { MemberProcess, say, wholeClusterSignal } from './cluster-supervise.js';
import { watchSupervisor } from './supervisor-watch.js';
import { capacitiesFromFile, capacitiesToFile } from './capacities.js';
import { shrunkCapacity, type Capacities } from '../pipeline/engine-config.js';
import { cliLog } from './logger.js';
import { ExitError, exitCodeMeaning, UsageError, writeFileWhole } from './output.js';
import { nodeSignals } from './node-signals.js';
import { onStopSignal } from './signals.js';
import { refuseTakenPorts } from './ports.js';
import { refuseForeignHosts } from './member-hosts.js';
import { refuseForeignFolder } from './start-refusals.js';
import { createFolder } from '../journal/make-dirs.js';
import { DataLock } from '../journal/data-lock.js';
import { dataFile, refuseFile } from '../journal/journal-db.js';
import { StorageCode, StorageError } from '../journal/journal-errors.js';

/**
 * Checks `bourse cluster`'s size and ports before its file is written (a bad file would be
 * read again by every later run). An even size is allowed, with a warning: it tolerates no
 * more failures than one member fewer, and needs one more for a majority.
 */
export function checkLocalCluster(nodes: number, basePort: number): void {
  if (nodes < 1 || nodes > clusterMembersMax) {
    throw new UsageError(`--nodes: ${nodes}: 1 to ${clusterMembersMax} members`);
  }
  checkBasePort(nodes, basePort);
  if (nodes % 2 === 0) {
    const tolerated = Math.floor((nodes - 1) / 2);
    say(
      `warning: ${nodes} members tolerate ${tolerated} failure(s), as ${nodes - 1} do; an ` +
        'odd number (3, 5, 7) is the usual choice',
      {},
      'warn',
    );
  }
}

export interface MemberOptions {
  cluster: string;
  id: number;
  data: string;
  bootstrap?: boolean;
  /** `--folder-moved`: the folder is the member's own, moved; see ClusterNodeOptions. */
  folderMoved?: boolean;
  listen?: string;
  /** The replication secret's file (default: beside the cluster file, cluster-secret.ts). */
  secret?: string;
  /** Make the secret's file when it is missing (members sharing one volume). */
  makeSecret?: boolean;
  cancelOnDisconnectGraceMs?: number;
  capacities?: Capacities;
  /** `--stop-ms`: its supervisor gone while it starts, it exits after this (memberStopMs). */
  stopMs?: number;
}

/**
 * Runs one member until SIGINT or SIGTERM (a second one stops it at once: node-signals.ts), or
 * its supervisor's wholeClusterSignal. Its log (role changes, take-overs, stalls) goes to
 * stderr as JSON lines with its id, role and term (logger.ts).
 */
export async function member(options: MemberOptions): Promise<void> {
  const file = readClusterFile(options.cluster);
  const self = file.members.find((m) => m.id === options.id);
  if (self === undefined) {
    throw new UsageError(`--id ${options.id} is not in ${options.cluster}`);
  }
  // Before anything is written (the folder, the secret with --make-secret) or bound: `--data ~`
  // set a member up among the user's files; a taken port left a folder it never used.
  refuseForeignFolder(options.data, 'member', `member-${options.id}`);
  await refuseMemberPorts(self, options.listen);
  let node: ClusterNode | null = null;
  const log = cliLog({ member: options.id }, () => node?.logFields() ?? {});
  const secret = memberSecret(options, log);
  const signals = nodeSignals('member', options.data, (line, level) => log(line, level));
  // From now on: a start that never ends included.
  const supervisor = watchSupervisor(log, options.stopMs);
  // Its whole cluster stops (wholeClusterSignal): no standby is left to hand over to.
  const whole = new Promise<'whole'>((resolve) =>
    process.once(wholeClusterSignal, () => resolve('whole')),
  );
  log(`member ${options.id}: starting on ${options.data}`);
  node = await ClusterNode.start({
    id: options.id,
    members: file.members,
    dataDir: options.data,
    bootstrap: options.bootstrap === true,
    folderMoved: options.folderMoved === true,
    listen: options.listen,
    secret,
    capacities: { ...file.capacities, ...options.capacities },
    cancelGraceMs: options.cancelOnDisconnectGraceMs,
    datagramPayloadBytes: file.datagramPayloadBytes,
    log,
  });
  signals.ready();
  supervisor.ready();
  let wholeCluster = false;
  const stopped = Promise.race([signals.stopped, whole, supervisor.gone]).then((why) => {
    wholeCluster = why === 'whole';
    return null;
  });
  const failure = await Promise.race([stopped, node.failed]);
  await node.stop({ handOver: !wholeCluster });
  setTimeout(() => process.exit(), memberExitWaitMs).unref(); // see memberExitWaitMs
  // A failed member exits with its error's code (74 for the disk), so that it is seen and
  // started again (bourse cluster) rather than lingering silent.
  if (failure !== null) throw failure;
  log('stopped cleanly');
}

/**
 * Refuses (exit 69) a member whose client (TCP) or peer (UDP) port cannot be bound now, before
 * its folder, its secret (--make-secret) or anything in them is made, as `bourse start` checks
 * its client port: the member made its folder, stored its id in it, then failed at the bind
 * (and undid what it could), leaving a folder behind that it never used. A port taken in
 * between is still refused by the member's own binds. A host name is looked up first, and
 * refused when it does not resolve or is not this machine's (member-hosts.ts).
 */
async function refuseMemberPorts(self: ClusterMember, listen?: string): Promise<void> {
  const outcome = `member ${self.id} not started, nothing written`;
  const how = 'fix its host in the cluster file, or give --listen an address of this machine';
  const [at] = await refuseForeignHosts([{ ...self, host: listen ?? self.host }], outcome, how);
  await refuseTakenPorts([at], outcome);
}

/** The member's replication secret, made first if asked; its file's exposure warned of. */
function memberSecret(options: MemberOptions, log: NodeLog): Buffer {
  const path = options.secret ?? secretBeside(options.cluster);
  if (options.makeSecret === true && makeSecret(path)) {
    log(`member ${options.id}: made the replication secret ${path}`);
  }
  const secret = readSecret(path);
  const exposure = secretExposure(path);
  if (exposure !== null) log(`member ${options.id}: ${exposure}`, 'warn');
  return secret;
}

/**
 * Writes capacities asked for into the cluster file (each member checks them: grow only);
 * returns the file as it was, to restore if no member can use them (its memory).
 */
function keepCapacities(path: string, asked: Capacities): string {
  const before = readFileSync(path, 'utf8');
  const text = JSON.parse(before) as Record<string, unknown>;
  const kept = capacitiesFromFile(text.capacities, path);
  const shrunk = shrunkCapacity(kept, asked);
  if (shrunk !== null) {
    throw new UsageError(
      `--${shrunk.flag} ${shrunk.asked}: ${path} keeps ${shrunk.kept} for every member ` +
        '(grow only, never shrink)',
    );
  }
  // Checked before they are kept: kept, a capacity no member can use stopped every start after.
  const problem = engineConfigProblem({ ...engineConfigDefault, ...kept, ...asked });
  if (problem !== null) throw new UsageError(`capacities refused: ${problem}`);
  text.capacities = capacitiesToFile({ ...kept, ...asked });
  writeFileWhole(path, JSON.stringify(text, null, 2) + '\n');
  return before;
}

export interface ClusterOptions {
  nodes: number;
  data: string;
  basePort: number;
  /** Written into cluster.json: every member runs with the same. */
  capacities?: Capacities;
  /** A member still running this long after it was asked to stop is killed (memberStopMs). */
  memberStopMs?: number;
  /** The first wait before a member whose start failed is tried again (memberRetryDownMs). */
  memberRetryMs?: number;
}

/**
 * The cluster's folder, checked and locked: a file, or a single node's folder (members were
 * made in it, beside its journal, which then no longer started), is refused, and so is a folder
 * another `bourse cluster` runs (its members failed to start, and were tried again for ever).
 */
function clusterFolder(data: string, fresh: boolean): DataLock {
  refuseFile(data);
  if (fresh && existsSync(dataFile(data))) {
    throw new StorageError(
      StorageCode.SingleNode,
      `${data} holds a single node's journal: a cluster's folder holds cluster.json and its ` +
        "members' folders (start the cluster in a new folder)",
    );
  }
  createFolder(data);
  return DataLock.acquire(data);
}

/**
 * Waits for SIGINT or SIGTERM (resolves with it), or for every member left down (with the last
 * one's exit code), then stops every member. Signals are listened for until all have stopped:
 * a second Ctrl-C meanwhile (the first listener gone) killed the supervisor, and a member
 * that had not stopped yet ran on.
 */
async function runUntilStopped(
  members: MemberProcess[],
  stopMs: number,
): Promise<NodeJS.Signals | number> {
  const allDown = new Promise<number>((resolve) => {
    let down = 0;
    for (const m of members) m.onLeftDown = (code) => ++down === members.length && resolve(code);
  });
  const seconds = stopMs / 1000;
  const wait = `stopping every member (one still running after ${seconds} s is killed)`;
  let stopOff = (): void => {};
  const signalled = new Promise<NodeJS.Signals>((resolve) => {
    stopOff = onStopSignal(resolve, () => say(`stopping already: ${wait}`));
  });
  const ended = await Promise.race([signalled, allDown]);
  if (typeof ended !== 'number') say(`${ended}: ${wait}`);
  await Promise.all(members.map((m) => m.stop(wholeClusterSignal, stopMs)));
  stopOff();
  return ended;
}

/**
 * Refuses a cluster any of whose hosts is not this machine's (exit 68 or 69: member-hosts.ts)
 * or any of whose ports cannot be bound (exit 69), before any member starts and
 * before a new folder's cluster.json is written: the members whose ports were free ran on, a
 * cluster without its majority or with one member fewer, while the others failed and were
 * tried again every 10 s to 5 min; and the file kept the taken ports for every later run.
 */
async function refuseClusterPorts(file: ClusterFile, fresh: boolean): Promise<void> {
  const how = fresh ? 'another --base-port, or free them' : 'free them';
  const hosts = 'every member runs here: give each host an address of this machine';
  const members = await refuseForeignHosts(file.members, 'no member started', hosts);
  await refuseTakenPorts(members, 'no member started', how);
}

/** Puts back the cluster file `before` capacities were kept in it (if they were), and throws. */
function restoreOnError(path: string, before: string | null): (error: unknown) => never {
  return (error) => {
    if (before !== null) writeFileWhole(path, before);
    throw error;
  };
}

/** `bourse cluster`: writes the cluster file (first run) and runs every member. */
export async function cluster(options: ClusterOptions): Promise<void> {
  const path = join(options.data, clusterFileName);
  const fresh = !existsSync(path);
  if (fresh) checkLocalCluster(options.nodes, options.basePort);
  const lock = clusterFolder(options.data, fresh);
  try {
    await runCluster(options, path, fresh);
  } finally {
    lock.release();
  }
}

async function runCluster(options: ClusterOptions, path: string, fresh: boolean): Promise<void> {
  if (fresh) {
    const file = localCluster(options.nodes, options.basePort);
    await refuseClusterPorts(file, true); // before the file keeps them
    writeFileWhole(path, JSON.stringify(file, null, 2) + '\n');
  }
  const asked = options.capacities ?? {};
  const before = Object.keys(asked).length > 0 ? keepCapacities(path, asked) : null;
  const file = readClusterFile(path);
  if (!fresh) await refuseClusterPorts(file, false).catch(restoreOnError(path, before));
  // Made on the first run (of this version, too), kept after: every member reads it there.
  const secretPath = secretBeside(path);
  const secretNew = makeSecret(secretPath);
  const ports = file.members.map((m) => m.port);
  if (!fresh && (options.nodes !== file.members.length || options.basePort !== ports[0])) {
    say(
      `${path} exists: its ${file.members.length} members run on ports ${ports.join(', ')} ` +
        '(--nodes and --base-port shape a new cluster folder only)',
      {},
      'warn',
    );
  }
  // A cluster file written by hand, no member started yet: the cluster is being formed. (Without
  // bootstrap, each empty folder would count as a lost disk, and no member would ever vote.)
  const dirs = file.members.map((m) => memberDataDir(options.data, m.id));
  const bootstrap = fresh || dirs.every((dir) => !existsSync(dir));
  const retryMs = options.memberRetryMs ?? memberRetryDownMs;
  const stopMs = options.memberStopMs ?? memberStopMs;
  const members = file.members.map(
    (m, i) => new MemberProcess(path, m.id, dirs[i], bootstrap, { retryMs, stopMs }),
  );
  process.stdout.write(
    [
      `bourse cluster: ${file.members.length} members (${path})`,
      ...file.members.map(
        (m, i) =>
          `  member ${m.id}: ws://${m.host}:${m.port}/  replication udp ${m.replicationPort}` +
          `  (pid ${members[i].pid()})`,
      ),
      `replication secret: ${secretPath} (${secretNew ? 'made now' : 'kept'}; mode 0600)`,
      'clients: connect to any member with the others in `members` (the SDK finds the primary)',
      'a member that exits is started again; Ctrl-C stops every member cleanly',
      '',
    ].join('\n'),
  );
  const ended = await runUntilStopped(members, stopMs);
  const kept = `${absolute(options.data)} keeps cluster.json and every member's folder`;
  if (typeof ended !== 'number') say(`stopped; ${kept} (the same command starts it again)`);
  // Every member left down: nothing runs (the process ended with 13, a pending await).
  if (typeof ended === 'number') {
    let why = `every member is left down (exit ${ended}: ${exitCodeMeaning(ended)}; see above)`;
    if (ended === 64 && before !== null) {
      writeFileWhole(path, before); // kept, they stopped every later start too
      why += `; the capacities asked for are not kept in ${path}`;
    }
    throw new ExitError(why, ended);
  }
}
