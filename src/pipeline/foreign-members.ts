/**
 * What a member logs of the members whose messages it drops: one whose cluster file lists
 * other members, or one that speaks for another cluster (a folder copied from one, or left
 * from an earlier forming of this one). Once per `foreignLogMs` per member, so that a member
 * sending many times a second does not flood the log.
 */
import { foreignLogMs } from '../constants.js';
import { clusterIdText, membersText } from '../replication/hashes.js';
import type { Consensus } from '../replication/consensus.js';
import type { NodeLog } from './node.js';

export class ForeignMembers {
  /** When each member was last logged (Date.now()). */
  private readonly loggedAt = new Map<number, number>();

  constructor(
    private readonly consensus: Consensus,
    private readonly log: NodeLog,
  ) {}

  /** Member `from` said it is of cluster `clusterId` with `members`: say why it is dropped. */
  report(from: number, clusterId: number, members: number): void {
    const now = Date.now();
    if (now - (this.loggedAt.get(from) ?? -foreignLogMs) < foreignLogMs) return;
    this.loggedAt.set(from, now);
    const id = this.consensus.id;
    if (members !== this.consensus.membersMask) {
      const mine = membersText(this.consensus.membersMask);
      return this.log(
        `member ${id}: member ${from}'s cluster file lists members ${membersText(members)}, ` +
          `this member's ${mine}: its messages are dropped (majorities of two sets could ` +
          'elect two primaries). Give every member the same cluster file',
        'error',
      );
    }
    const ours = clusterIdText(this.consensus.clusterId);
    this.log(
      `member ${id}: member ${from} holds another cluster's journal (cluster id ` +
        `${clusterIdText(clusterId)}, this member's ${ours}): its messages are dropped. The ` +
        'members of the majority are right: empty the folder of the other, which then ' +
        'catches up from them',
      'error',
    );
  }
}
