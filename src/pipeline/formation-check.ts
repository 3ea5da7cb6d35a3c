/**
 * `--bootstrap` makes an empty folder a new member, which votes at once: right while a cluster
 * is first formed, wrong for a member that was part of it and lost its disk (it may have
 * acknowledged entries it no longer holds: it must catch up before it votes). The same command
 * line serves both (docker/compose.yml's BOURSE_BOOTSTRAP=1, a unit file), so before it acts as
 * new, a bootstrapping member with an empty folder asks the other members' /health, once and
 * briefly: a journal past sequence 0 anywhere means the cluster has a history, and this member
 * comes back recovering instead. Members not up (a whole cluster starting) say nothing.
 */
import { get } from 'node:http';
import { bootstrapPeerCheckMs } from '../constants.js';
import type { JournalDb } from '../journal/journal-db.js';
import { wasMember } from '../journal/member-folder.js';
import type { NodeLog } from './node.js';

export interface Peer {
  id: number;
  host: string;
  port: number;
}

/** What `bootstrapping` reads of a member's options (ClusterNodeOptions). */
export interface BootstrapOptions {
  id: number;
  /** Every member's client address, this one's too. */
  members: readonly Peer[];
  bootstrap: boolean;
  log?: NodeLog;
}

/**
 * Whether an empty folder started with --bootstrap is a new member: not when another member's
 * journal already holds events (formation-check.ts); then it comes back recovering.
 */
export async function bootstrapping(options: BootstrapOptions, db: JournalDb): Promise<boolean> {
  if (options.bootstrap !== true || wasMember(db)) return false;
  const others = options.members.filter((m) => m.id !== options.id);
  const found = await peerWithHistory(others);
  if (found === null) return true;
  options.log?.(
    `member ${options.id}: --bootstrap, but member ${found.id}'s journal is at sequence ` +
      `${found.sequence}: this empty folder is not a new member (a lost disk?)`,
    'warn',
  );
  return false;
}

/** The first other member whose journal holds events, with its durable sequence, or null. */
export async function peerWithHistory(
  peers: readonly Peer[],
): Promise<{ id: number; sequence: number } | null> {
  const answers = await Promise.all(peers.map((p) => durableSequenceOf(p)));
  for (let i = 0; i < peers.length; i++) {
    const sequence = answers[i];
    if (sequence !== null && sequence > 0) return { id: peers[i].id, sequence };
  }
  return null;
}

/**
 * One GET on a connection of its own, closed after (no agent): fetch's pool kept a keep-alive
 * socket to the peer's gateway, which then served a later request from that pool badly once
 * the peer had restarted on the same port.
 */
function durableSequenceOf(peer: Peer): Promise<number | null> {
  return new Promise((resolve) => {
    const url = `http://${peer.host}:${peer.port}/health`;
    const request = get(url, { agent: false, timeout: bootstrapPeerCheckMs }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve(sequenceIn(text)));
      res.on('error', () => resolve(null));
    });
    // Not up, not reachable, or too slow: no evidence either way.
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve(null));
  });
}

function sequenceIn(text: string): number | null {
  try {
    const body = JSON.parse(text) as { durableSequence?: unknown };
    return typeof body.durableSequence === 'number' ? body.durableSequence : null;
  } catch {
    return null; // not a bourse member's answer
  }
}
