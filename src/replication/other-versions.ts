/**
 * Members that speak another transport or replication version: members of different versions
 * cannot replicate to each other, and without a word in the log a mixed cluster (a member left
 * out of an upgrade) would only show as elections that fail. Told once per member and change
 * of what it speaks, and only once `otherVersionDatagramsMin` datagrams (or whole messages) in
 * a row from that member said that same version: before checksums one damaged datagram was
 * enough to log "member 1 speaks replication version 22", and such a line sends an operator to
 * upgrade (or wipe) a healthy member. A member heard on this member's version again is
 * forgotten, so a later change back is told again (a rolling upgrade that was rolled back).
 * Bounded: one entry per member and layer.
 */
import { otherVersionDatagramsMin } from '../constants.js';

export type VersionLayer = 'transport' | 'replication';

/** A member heard on another version, as /health and /metrics show it. */
export interface OtherVersion {
  member: number;
  layer: VersionLayer;
  version: number;
}

/** The version a member's last datagrams (or messages) of one layer said, and how many. */
interface Candidate {
  version: number;
  count: number;
}

export class OtherVersions {
  /** By `member * 2 + layer bit`: the version being counted, until told. */
  private readonly counting = new Map<number, Candidate>();
  /** Members told of, by the same key: what they speak, until heard on ours again. */
  private readonly told = new Map<number, OtherVersion>();

  /** `tell(member, what)`: `what` names the version, ours and how many datagrams said so. */
  constructor(private readonly tell: (id: number, what: string) => void) {}

  note(from: number, layer: VersionLayer, theirs: number, ours: number): void {
    const key = keyOf(from, layer);
    const candidate = this.counting.get(key);
    if (candidate === undefined || candidate.version !== theirs) {
      this.counting.set(key, { version: theirs, count: 1 });
    } else candidate.count++;
    const seen = this.counting.get(key)!.count;
    if (seen !== otherVersionDatagramsMin) return;
    if (this.told.get(key)?.version === theirs) return; // still what was told
    this.told.set(key, { member: from, layer, version: theirs });
    const unit = layer === 'transport' ? 'datagrams' : 'messages';
    this.tell(
      from,
      `${layer} version ${theirs} (this member speaks ${ours}; ${seen} ${unit} said so)`,
    );
  }

  /**
   * A datagram (or message) of this member's own version came from `from`: what it said
   * before is over. Called for every one, so it returns at once while nobody is counted.
   */
  ours(from: number, layer: VersionLayer): void {
    if (this.counting.size === 0) return;
    const key = keyOf(from, layer);
    this.counting.delete(key);
    this.told.delete(key);
  }

  /** Members told of and not heard on this member's version since, by member. */
  heard(): OtherVersion[] {
    return [...this.told.values()].sort((a, b) => a.member - b.member);
  }
}

function keyOf(member: number, layer: VersionLayer): number {
  return member * 2 + (layer === 'transport' ? 0 : 1);
}
