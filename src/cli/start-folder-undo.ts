/**
 * What a failed `bourse start` made, removed again. Its client port is checked before the
 * folder is made (start-refusals.ts), but the gateway binds it only once the journal is open
 * and replayed: a port taken in between (another process's bind, a client's outgoing
 * connection) failed the start with exit 69 and left a folder and journal it never used. A
 * start that failed before ready let no client in and acknowledged nothing, so what it made
 * holds nothing of anyone's: a folder that was missing is removed (with its parents that it
 * made too), and an empty one is emptied of what it made. A folder that held anything before
 * (a journal, keys.json) is left as the failed start leaves it: its start may have written to
 * files that were there, and removing them could lose what was acknowledged before.
 *
 *   before the start          after a failed start
 *   missing (a/b/data)  ───►  the first missing one removed (a/)
 *   empty (lost+found)  ───►  what was not there removed (lost+found kept)
 *   anything else       ───►  left as it is
 */
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { passedOver } from './start-refusals.js';

/** A folder as a start found it: what to remove if the start fails. */
export interface FolderBefore {
  /** The first missing folder on the way to the data folder (rm -r), or null. */
  made: string | null;
  /** The names an empty data folder held (kept), or null when it was not empty or missing. */
  names: string[] | null;
}

/** How `dir` stands before a start: missing (and from where), empty, or anything else. */
export function folderBefore(dir: string): FolderBefore {
  let at = resolve(dir);
  if (!existsSync(at)) {
    while (!existsSync(dirname(at)) && dirname(at) !== at) at = dirname(at);
    return { made: at, names: null };
  }
  try {
    const names = readdirSync(at);
    const empty = names.every((name) => passedOver.includes(name));
    return { made: null, names: empty ? names : null };
  } catch {
    return { made: null, names: null }; // a file, unreadable: the start refused it
  }
}

/**
 * Removes what a failed start made on `dir` (`before` as folderBefore found it); returns the
 * line to say, or null when it made nothing it can remove. Never throws: the start's own
 * error is what the operator needs, and a removal that fails is said instead.
 */
export function undoFailedStart(dir: string, before: FolderBefore): string | null {
  try {
    if (before.made !== null) {
      rmSync(before.made, { recursive: true, force: true, maxRetries: 3 });
      return `removed ${before.made}, which this start made (no client was let in)`;
    }
    if (before.names === null) return null;
    const kept = before.names;
    const made = readdirSync(dir).filter((name) => !kept.includes(name));
    for (const name of made) rmSync(resolve(dir, name), { recursive: true, force: true });
    if (made.length === 0) return null;
    return `removed from ${dir} what this start made (no client was let in): ${made.join(', ')}`;
  } catch (error) {
    return `could not remove what this start made in ${dir}: ${(error as Error).message}`;
  }
}
