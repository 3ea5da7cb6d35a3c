/**
 * What a member logs of the members whose messages it drops: one whose cluster file lists
 * other members, or one that speaks for another cluster (a folder copied from one, or left
 * from an earlier forming of this one). Once per `foreignLogMs` per member, so that a member
 * sending many times a second does not flood the log, and only once `foreignMessagesMin`
 * messages in a row from it said the same cluster id and members: the advice ends in emptying
 * a folder. Before datagrams carried a checksum, one damaged datagram made a member log that
 * a healthy one "holds another cluster's journal (cluster id 9a4491cc, this member's
 * 9a0491cc)" (one bit apart) and that its folder should be emptied; the advice now also says
 * how to confirm which folder is the other cluster's before wiping anything.
 */
import { foreignLogMs, foreignMessagesMin } from '../constants.js';
import { clusterIdText, membersText } from '../replication/hashes.js';
import type { Consensus } from '../replication/consensus.js';
import type { NodeLog } from './node.js';

/** What a member's last dropped messages said, and how many in a row said it. */
interface Run {
  clusterId: number;
  members: number;
  count: number;
}

export class ForeignMembers {
  /**
   * When each member was last logged (performance.now(): with Date.now(), a step of the wall
   * clock back silenced the line for as long as the step).
   */
  private readonly loggedAt = new Map<number, number>();
  /** By member (at most clusterMembersMax). */
  private readonly runs = new Map<number, Run>();

  constructor(
    private readonly consensus: Pick<Consensus, 'id' | 'membersMask' | 'clusterId'>,
    private readonly log: NodeLog,
  ) {}

  /** Member `from` said it is of cluster `clusterId` with `members`: say why it is dropped. */
  report(from: number, clusterId: number, members: number): void {
    let run = this.runs.get(from);
    if (run === undefined || run.clusterId !== clusterId || run.members !== members) {
      run = { clusterId, members, count: 0 };
      this.runs.set(from, run);
    }
    const count = ++run.count;
    if (count < foreignMessagesMin) return;
    const now = performance.now();
    if (now - (this.loggedAt.get(from) ?? -foreignLogMs) < foreignLogMs) return;
    this.loggedAt.set(from, now);
    const id = this.consensus.id;
    if (members !== this.consensus.membersMask) {
      const mine = membersText(this.consensus.membersMask);
      return this.log(
        `member ${id}: member ${from}'s cluster file lists members ${membersText(members)}, ` +
          `this member's ${mine}: its messages are dropped (${count} in a row said so; ` +
          'majorities of two sets could elect two primaries). Give every member the same ' +
          'cluster file',
        'error',
      );
    }
    const ours = clusterIdText(this.consensus.clusterId);
    this.log(
      `member ${id}: member ${from} holds another cluster's journal (cluster id ` +
        `${clusterIdText(clusterId)}, this member's ${ours}; ${count} messages in a row): its ` +
        'messages are dropped. Confirm before emptying any folder: GET /health on every ' +
        "member shows its `cluster`; the majority's members share one id. Only the folder " +
        'of a member whose id differs from the majority is to be emptied (it then catches ' +
        'up from them), and only once it is stopped',
      'error',
    );
  }
}
