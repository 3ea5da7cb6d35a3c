/**
 * Members that speak another transport or replication version: members of different versions
 * cannot replicate to each other, and without a word in the log a mixed cluster (a member left
 * out of an upgrade) would only show as elections that fail. Told once per member, layer and
 * version, and only once `otherVersionDatagramsMin` datagrams (or whole messages) from that
 * member said that same version: before checksums one damaged datagram was enough to log
 * "member 1 speaks replication version 22", and such a line sends an operator to upgrade (or
 * wipe) a healthy member. The keys are bounded: members × 2 layers × 256 versions.
 */
import { otherVersionDatagramsMin } from '../constants.js';

export type VersionLayer = 'transport' | 'replication';

export class OtherVersions {
  /** Datagrams seen, by `${member}:${layer}:${version}`. */
  private readonly seen = new Map<string, number>();

  /** `tell(member, what)`: `what` names the version, ours and how many datagrams said so. */
  constructor(private readonly tell: (id: number, what: string) => void) {}

  note(from: number, layer: VersionLayer, theirs: number, ours: number): void {
    const key = `${from}:${layer}:${theirs}`;
    const seen = (this.seen.get(key) ?? 0) + 1;
    this.seen.set(key, seen);
    if (seen !== otherVersionDatagramsMin) return;
    const unit = layer === 'transport' ? 'datagrams' : 'messages';
    this.tell(
      from,
      `${layer} version ${theirs} (this member speaks ${ours}; ${seen} ${unit} said so)`,
    );
  }
}
