/**
 * A batch larger than the window goes out in parts (admission.ts), and a connection can end
 * between them, or the server refuse one part's frame: then some of its commands were
 * answered, some sent and never answered, and the rest never sent. The batch's promise tells
 * the whole batch's fate in one error, never the fate of the part that failed first: a batch
 * cut off after 384 applied commands used to say "not sent, not applied", and a client that
 * believed it would pay twice.
 *
 *   parts:   [answered][answered][sent, no answer][staged, unsent][not staged ...]
 *   error:    answered ─────────  mayHaveApplied   notApplied ───────────────────
 */
import { ClientError } from './session.js';

/** A batch that ended partly done: how many of its commands each fate took. */
export class BatchCutOff<T> extends ClientError {
  override readonly name: string = 'BatchCutOff';
  constructor(
    code: number,
    message: string,
    /** Commands answered (their outcomes: `results`, one per part that was answered). */
    readonly answered: number,
    /** Commands sent and never answered: they may have been applied (see the journal). */
    readonly unanswered: number,
    /** Commands not applied: never sent, or in a frame the server refused. */
    readonly notApplied: number,
    /** The answered parts' results, in the batch's order. */
    readonly results: T[],
    /** The batch's first client seq: command i's is this + i (see ClientError.clientSeq). */
    clientSeq = 0,
  ) {
    super(code, message, unanswered > 0, clientSeq);
  }
}

/**
 * The parts' values once all sent parts settled, or the one error that says what became of
 * the batch (`cut`: why the rest was never sent, when the connection ended first). A batch of
 * which nothing may have been applied rejects with the plain error, as a single call does.
 */
export function settledParts<T>(
  outcomes: readonly PromiseSettledResult<T>[],
  counts: readonly number[],
  cut: Error | null,
): T[] | Error {
  const results: T[] = [];
  let answered = 0;
  let unanswered = 0;
  let first: Error | null = null;
  for (let i = 0; i < outcomes.length; i++) {
    const o = outcomes[i];
    if (o.status === 'fulfilled') {
      results.push(o.value);
      answered += counts[i];
      continue;
    }
    first ??= o.reason as Error;
    if (o.reason instanceof ClientError && o.reason.mayHaveApplied) unanswered += counts[i];
  }
  const why = first ?? cut;
  if (why === null) return results;
  if (answered === 0 && unanswered === 0) return why;
  let total = 0;
  for (const n of counts) total += n;
  const notApplied = total - answered - unanswered;
  const message =
    `batch cut off (${why.message}): of its ${total} commands ${answered} were answered ` +
    `(error.results), ${unanswered} were sent and not answered: they may have been applied ` +
    `(see the journal), ${notApplied} were not applied`;
  const code = why instanceof ClientError ? why.code : 0;
  const seq = firstSeqOf(outcomes[0]);
  return new BatchCutOff(code, message, answered, unanswered, notApplied, results, seq);
}

/**
 * The batch's first client seq, from its first part (sent first, if anything was: the parts'
 * seqs follow one another, as nothing goes between them); 0 if it does not say.
 */
function firstSeqOf(first: PromiseSettledResult<unknown> | undefined): number {
  if (first === undefined) return 0;
  if (first.status === 'rejected') {
    return first.reason instanceof ClientError ? first.reason.clientSeq : 0;
  }
  const seq = (first.value as { firstClientSeq?: unknown }).firstClientSeq;
  return typeof seq === 'number' ? seq : 0;
}
