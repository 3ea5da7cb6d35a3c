/**
 * `bourse drill partition --cuts K`: network partitions, made by the kernel, under load. Each
 * member runs in a network namespace of its own (netns.ts); the drill's SDK client reaches
 * them over a bridge. Whole cuts only (a link down, blackhole routes): no loss, delay,
 * duplication, corruption or rate limit (no netem; the transport's fault plan has those).
 * K times, once every member is caught up, it cuts one member off for 1-3 s, then heals it:
 *   - the primary, off the network entirely (its link down): the others elect, and the SDK,
 *     whose connection to it goes silent, finds the new primary (takeover timed);
 *   - the primary, off from the other members only (blackhole routes): its clients still reach
 *     it, and it must answer none of their commands (it can commit nothing), step down, and
 *     send them on;
 *   - the primary, deaf to the other members (one way: they hear its heartbeats, it hears no
 *     acks): it must step down on its own, and only then do the others elect;
 *   - a standby, off the network: the load goes on.
 * A healed former primary must come back a standby. Then the whole history is checked as in
 * `drill failover` (drill-check.ts). The last line printed is JSON.
 */
import type { ChildProcess } from 'node:child_process';
import { Rng } from '../stdx/rng.js';
import type { ClusterFile } from './cluster-file.js';
import { checkReplicas } from './drill-check.js';
import { NetNamespaces } from './netns.js';
import { progressBar, UsageError, type Progress } from './output.js';
import * as d from './drill.js';
import { checkDrillData, drillFolder, leaveFolder, writeDrillCluster } from './drill-folder.js';

export interface PartitionOptions {
  cuts: number;
  nodes: number;
  seed: number;
  accounts: number;
  window: number;
  verbose?: boolean;
  /** The drill's folder (new or empty), kept after it; none: a new one in TMPDIR. */
  data?: string;
  /** Every member's client port in its own namespace (replication: +100); none: 9001. */
  basePort?: number;
}

type Cut = 'primary-off' | 'primary-members' | 'primary-deaf' | 'standby-off';

/** Whom each kind of cut takes off, and how (netns.ts), in the order the drill takes them. */
const cuts: Record<
  Cut,
  {
    standby: boolean;
    cut: (n: NetNamespaces, id: number) => void;
    heal: (n: NetNamespaces, id: number) => void;
  }
> = {
  'primary-off': { standby: false, cut: (n, id) => n.cutLink(id), heal: (n, id) => n.healLink(id) },
  'primary-members': {
    standby: false,
    cut: (n, id) => n.cutMembers(id),
    heal: (n, id) => n.healMembers(id),
  },
  'primary-deaf': {
    standby: false,
    cut: (n, id) => n.cutTowards(id),
    heal: (n, id) => n.healTowards(id),
  },
  'standby-off': { standby: true, cut: (n, id) => n.cutLink(id), heal: (n, id) => n.healLink(id) },
};
const kinds = Object.keys(cuts) as Cut[];

export interface PartitionReport extends d.HistoryFigures {
  drill: 'partition';
  nodes: number;
  cuts: number;
  /**
   * Cuts of each kind: the primary off the network, off the other members both ways, deaf to
   * them (it reaches them, they do not reach it), and a standby off the network.
   */
  primary_off: number;
  primary_members: number;
  primary_deaf: number;
  standby_off: number;
  /**
   * Medians by kind: off the network, the SDK waits out its silence (2 s); off the members
   * only, the primary steps down after an election timeout and its clients move at once.
   */
  /** Per kind of cut; null for a kind that did not come up. */
  takeover_ms_p50_off: number | null;
  takeover_ms_p50_members: number | null;
  takeover_ms_p50_deaf: number | null;
  /** Every former primary came back a standby once healed. */
  fenced: boolean;
}

export function checkPartition(o: PartitionOptions): void {
  d.checkDrill(o, 'a cut');
  if (o.cuts < 1) throw new UsageError('--cuts: 1 or more');
  const port = o.basePort;
  if (port !== undefined && (port < 1 || port + replicationPortOffset > 65_535)) {
    throw new UsageError(
      `--base-port: ${port}: each member uses ${port} and ${port + replicationPortOffset} ` +
        '(replication) in its own namespace, which must lie within 1..65535',
    );
  }
  checkDrillData(o.data);
}

/**
 * Whether every rule held: the history's, and every cut-off primary back as a standby. The
 * exit code and the folder kept follow it: a drill that failed only the last rule removed its
 * folder, and with it the members' logs that said why.
 */
export function partitionPassed(r: PartitionReport): boolean {
  return d.historyPassed(r) && r.fenced;
}

export async function drillPartition(o: PartitionOptions): Promise<PartitionReport> {
  checkPartition(o);
  const rng = new Rng(o.seed);
  const ids = Array.from({ length: o.nodes }, (_, i) => i + 1);
  const place = drillFolder('bourse-partition-', o.data);
  const dir = place.dir;
  let net: NetNamespaces | null = null;
  // A line per cut; on a terminal, a bar below them counts the cuts (stopped however it ends).
  const bar = o.verbose === true ? progressBar('drill: cuts', o.cuts) : null;
  const release = (): void => {
    bar?.stop();
    net?.destroy();
  };
  let members: d.Members | null = null;
  let failed = true;
  // Ctrl-C skips `finally`: the namespaces, the bridge and the members would outlive the drill.
  const running = (): Iterable<ChildProcess> => members?.children.values() ?? [];
  // Listened for before the namespaces are made: a Ctrl-C meanwhile left one behind.
  const stopListening = d.onInterrupt(place, running, release);
  try {
    const made = NetNamespaces.create(ids, (process.pid * 7 + Date.now()) % 1_000_000);
    net = made;
    const file = netCluster(ids, made, o.basePort ?? partitionPortDefault);
    writeDrillCluster(dir, file);
    members = new d.Members(dir, file, (id) => made.execPrefix(id));
    members.onUnbidden = d.failOnMemberExit(dir, running, release);
    const client = await d.connectWithRetry(file.members.map((m) => `ws://${m.host}:${m.port}/`));
    await d.setUp(client, o.accounts);
    const load = d.newLoad();
    const pumping = d.pump(client, load, o, rng);
    const setting = { file, net: made, rng, say: d.sayer(bar), bar };
    const seen = await cutRounds(o, setting, client, load);
    load.running = false;
    await pumping;
    if (load.error !== null) throw load.error;
    await client.close();
    await d.converge(file);
    await d.stopAll(members.children);
    const dataDirs = ids.map((id) => members!.dataOf(id));
    const check = checkReplicas(dataDirs, load.acked, 2 * d.depositEach * o.accounts);
    const r = partitionReport(o, seen, d.historyFigures(load, seen.takeovers, check));
    failed = !partitionPassed(r); // a failed drill keeps the logs and folders, to see why
    return r;
  } finally {
    stopListening();
    for (const c of members?.children.values() ?? []) c.kill('SIGKILL');
    release();
    // Without its namespaces (not root, no iproute2), nothing ran: nothing to keep.
    leaveFolder(place, failed && net !== null);
  }
}

/** What the cuts saw, by kind. */
interface Seen {
  counts: Record<Cut, number>;
  takeovers: number[];
  byKind: Record<Cut, number[]>;
  fenced: boolean;
}

function partitionReport(
  o: PartitionOptions,
  seen: Seen,
  history: d.HistoryFigures,
): PartitionReport {
  return {
    drill: 'partition',
    nodes: o.nodes,
    cuts: o.cuts,
    primary_off: seen.counts['primary-off'],
    primary_members: seen.counts['primary-members'],
    primary_deaf: seen.counts['primary-deaf'],
    standby_off: seen.counts['standby-off'],
    ...history,
    takeover_ms_p50_off: d.percentile(seen.byKind['primary-off'], 50),
    takeover_ms_p50_members: d.percentile(seen.byKind['primary-members'], 50),
    takeover_ms_p50_deaf: d.percentile(seen.byKind['primary-deaf'], 50),
    fenced: seen.fenced,
  };
}

/** Each member's client port in its own namespace, unless --base-port; replication 100 above. */
const partitionPortDefault = 9001;
const replicationPortOffset = 100;

/** Every member on the same ports, each on its own namespace's address. */
function netCluster(ids: number[], net: NetNamespaces, port: number): ClusterFile {
  const replicationPort = port + replicationPortOffset;
  return { members: ids.map((id) => ({ id, host: net.hostOf(id), port, replicationPort })) };
}

interface Setting {
  file: ClusterFile;
  net: NetNamespaces;
  rng: Rng;
  say: (line: string) => void;
  bar: Progress | null;
}

/** The cuts, one kind after another in turn; their takeovers, and whether each was fenced. */
async function cutRounds(
  o: PartitionOptions,
  s: Setting,
  client: Parameters<typeof d.timeTakeover>[0],
  load: d.Load,
): Promise<Seen> {
  const counts = Object.fromEntries(kinds.map((k) => [k, 0])) as Record<Cut, number>;
  const byKind = Object.fromEntries(kinds.map((k) => [k, [] as number[]])) as Record<Cut, number[]>;
  const takeovers: number[] = [];
  let fenced = true;
  for (let k = 0; k < o.cuts; k++) {
    await d.allCaughtUp(s.file);
    await d.sleep(300 + s.rng.int(900));
    const kind = kinds[k % kinds.length];
    const how = cuts[kind];
    counts[kind]++;
    const primary = await d.findPrimary(s.file);
    const others = s.file.members.map((m) => m.id).filter((id) => id !== primary);
    const victim = how.standby ? others[s.rng.int(others.length)] : primary;
    const holdMs = 1_000 + s.rng.int(2_000);
    const cutAt = performance.now();
    how.cut(s.net, victim);
    if (!how.standby) {
      await d.sleep(50); // results the primary sent before the cut have been read by now
      const { ms } = await d.timeTakeover(client, load, cutAt);
      takeovers.push(ms);
      byKind[kind].push(ms);
      s.say(`cut ${k + 1} (${kind}): member ${victim}; the next result ${ms.toFixed(0)} ms later`);
    } else s.say(`cut ${k + 1} (${kind}): member ${victim}`);
    await d.sleep(Math.max(0, holdMs - (performance.now() - cutAt)));
    how.heal(s.net, victim);
    if (!how.standby && !(await cameBackStandby(s.file, victim))) {
      s.say(`cut ${k + 1}: member ${victim} did not come back a standby`);
      fenced = false;
    }
    s.bar?.update(k + 1);
  }
  s.bar?.stop();
  return { counts, takeovers, byKind, fenced };
}

/**
 * Whether a healed former primary answers as a standby within 10 s. Bounded in time too: each
 * ask of a member that does not answer waits out its 500 ms timeout, and 500 asks took 260 s.
 */
async function cameBackStandby(file: ClusterFile, id: number): Promise<boolean> {
  const m = file.members.find((x) => x.id === id)!;
  const deadline = performance.now() + 10_000;
  for (let attempt = 0; attempt < 500 && performance.now() < deadline; attempt++) {
    const h = await d.health(m);
    if (h?.role === 'standby') return true;
    await d.sleep(20);
  }
  return false;
}
