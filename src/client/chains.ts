/**
 * Linked chains in the SDK. The engine decides a client's commands flagged Linked, up to the
 * first one without the flag, as one unit: all succeed or none does. That holds only if the
 * chain reaches it whole, so the gateway refuses a frame that ends inside a chain (Error
 * ChainOpen), and the SDK keeps every chain in one frame:
 *
 *   transfer({ ..., linked: true }) ─┐ held here, nothing sent
 *   transfer({ ..., linked: true })  │
 *   transfer({ ... })               ─┘ closes it: admitted as one submission of 3 commands,
 *                                      staged in one frame (a full frame is sent first)
 *
 * Before, each call was admitted alone: a window with room for one member and not the next,
 * or a frame that filled, sent a chain in two frames. The engine then held the first part open
 * until the client's next command; another client's command in between made it reject that
 * part and apply the rest alone. A chain still open when the tick it began in ends (its last
 * call had `linked: true`) is refused, and nothing of it is sent. Batches keep their chains
 * whole too: split into parts only between chains, never ending inside one.
 */
import { CommandFlag } from '../protocol/command-layout.js';
import type { CommandBody } from '../protocol/command-writer.js';
import type { EventRecord } from '../protocol/event-reader.js';

/** A call held until its chain closes. */
export interface ChainMember {
  kind: number;
  fields: CommandBody;
  resolve: (events: EventRecord[]) => void;
  reject: (error: Error) => void;
}

/** Whether `f` carries the Linked flag (its chain goes on past it). */
export function isLinked(f: CommandBody): boolean {
  return ((f.flags ?? 0) & CommandFlag.Linked) !== 0;
}

/** Single calls of an open chain, held until the call that closes it. */
export class ChainGather {
  private members: ChainMember[] = [];
  /** Why a call of the chain now being made was refused: the rest of it is refused too. */
  private refused: string | null = null;

  /** `send` takes a closed chain's calls, in call order. */
  constructor(private readonly send: (members: ChainMember[]) => void) {}

  /** Whether the next call belongs to a chain begun before it (held, or being refused). */
  get open(): boolean {
    return this.members.length > 0 || this.refused !== null;
  }

  /**
   * A call refused before it was held (a bad field; `args` as given, named or the protocol's):
   * when it belongs to a chain, the chain is refused whole, the calls held and those still to
   * come up to its end. Sending the others would apply part of what was meant as all or none.
   */
  refuse(error: Error, args: unknown): Promise<never> {
    const a = typeof args === 'object' && args !== null ? (args as Record<string, unknown>) : {};
    const linked = a.linked === true || isLinked(a as CommandBody);
    if (this.members.length > 0) this.abandon(`one of its calls was refused (${error.message})`);
    if (this.open || linked) this.refused = linked ? error.message : null;
    if (linked) queueMicrotask(() => (this.refused = null)); // a chain lives in one tick
    return Promise.reject(error);
  }

  /** Holds a call of the chain; a call without the flag closes it and sends it whole. */
  add(kind: number, fields: CommandBody): Promise<EventRecord[]> {
    const refused = this.refused;
    if (refused !== null) {
      if (!isLinked(fields)) this.refused = null; // its last call
      const why = `an earlier call of it was refused (${refused})`;
      return Promise.reject(new TypeError(`linked chain refused, nothing sent: ${why}`));
    }
    return new Promise((resolve, reject) => {
      const member = { kind, fields, resolve, reject };
      this.members.push(member);
      if (!isLinked(fields)) {
        const chain = this.members;
        this.members = [];
        this.send(chain);
      } else if (this.members.length === 1) {
        queueMicrotask(() => {
          if (this.members[0] !== member) return;
          const why =
            'an await or the end of the tick came with the chain open ' +
            '(its last call had linked: true)';
          this.abandon(why);
        });
      }
    });
  }

  /** Refuses the calls held (none was sent) and ends the chain: the next call starts anew. */
  abandon(why: string): void {
    const chain = this.members;
    this.members = [];
    this.refused = null;
    const error = new TypeError(
      `linked chain of ${chain.length} calls refused, nothing sent: ${why}; a chain closes ` +
        'with a call without linked: true, made with no await since its first call',
    );
    for (const m of chain) m.reject(error);
  }
}

/** The length of the chain that begins at `list[i]` (1 for a command outside any chain). */
export function chainLength(list: readonly CommandBody[], i: number): number {
  let end = i;
  while (end < list.length - 1 && isLinked(list[end])) end++;
  return end - i + 1;
}

/**
 * Why a chain of `n` calls or commands (`what`) cannot go: the SDK sends a chain whole, in
 * flight at once and in one frame, so `max` is inFlightMax (or a frame's commands). The
 * message names the limits: "at most 128" alone left a caller to guess which one.
 */
export function chainTooLong(at: string, n: number, what: string, max: number): RangeError {
  return new RangeError(
    `${at}a linked chain of ${n} ${what}; at most ${max} (inFlightMax: a chain goes in ` +
      'flight whole; the server takes at most chainLengthMax members, 128 by default)',
  );
}

/** Why a batch whose last command (index `last`) is flagged linked cannot go. */
export function batchEndsInChain(last: number): RangeError {
  return new RangeError(
    `[${last}]: the batch ends inside a linked chain (its last command has linked: true; a ` +
      'chain closes with a command without it, in the same batch)',
  );
}

/**
 * A batch of `list` with chains cut into parts of about `part` commands, each part at most
 * `max` and never ending inside a chain; or why it cannot be (a chain longer than `max`), as
 * namedList answers.
 */
export function chainParts(
  list: readonly CommandBody[],
  part: number,
  max: number,
): number[] | RangeError {
  const counts: number[] = [];
  let size = 0;
  for (let i = 0; i < list.length;) {
    const n = chainLength(list, i);
    if (n > max) return chainTooLong(`[${i}]: `, n, 'commands', max);
    if (size > 0 && size + n > max) {
      counts.push(size);
      size = 0;
    }
    size += n;
    i += n;
    if (size >= part) {
      counts.push(size);
      size = 0;
    }
  }
  if (size > 0) counts.push(size);
  return counts;
}
