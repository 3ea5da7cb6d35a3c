/**
 * What `bourse start` refuses before it makes or writes anything: a folder that is not a data
 * folder, and a client port it cannot bind. `bourse start --data ~` set a node up in the home
 * folder, its files among the user's; and a start on a taken port made the data folder (and
 * its journal) before the gateway's bind failed, leaving a folder behind that it never used.
 * `bourse member` refuses such a folder too (`bourse member --data ~` did the same).
 */
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { clusterFileName, clusterSecretFileName, dataLockFileName } from '../constants.js';
import { ListenError } from '../gateway/listen-error.js';
import { dataFile, snapshotFile } from '../journal/journal-db.js';
import { StorageCode, StorageError } from '../journal/journal-errors.js';
import { unfinishedBackupName } from '../journal/unfinished-backup.js';
import { standbyLogFile } from '../pipeline/group-commit.js';
import { bindError } from './ports.js';

/**
 * The names bourse makes in a data folder: a node's (its LMDB files and theirs, the data lock,
 * keys.json and its lock, the standby log, a backup's mark) and a cluster's (refused later, by
 * name). `keys.json` first: `bourse keys create` on a new folder, then `bourse start`.
 */
const bourseNames: readonly string[] = [
  'keys.json',
  'keys.json.lock',
  dataLockFileName,
  standbyLogFile,
  unfinishedBackupName,
  clusterFileName,
  clusterSecretFileName,
  ...[dataFile(''), snapshotFile('')].flatMap((lmdb) => [lmdb, `${lmdb}-lock`]),
];

/**
 * Not the folder's own: a new file system's, mounted on the data folder (an empty folder still:
 * start-folder-undo.ts keeps them).
 */
export const passedOver: readonly string[] = ['lost+found'];

/** How many of a refused folder's names the refusal shows. */
const namesShownMax = 5;

/** The commands that refuse a foreign folder: whose files each puts in its data folder. */
const filesOf = { start: "a node's", member: "a member's" } as const;

/**
 * Refuses a folder that holds anything and none of bourse's names: a node or member opens an
 * empty or new folder, or one bourse made (as it always did, whatever else the operator put in
 * it). A folder that cannot be read is left to the open, which names what is wrong with it.
 * The refusal names `command` and suggests a new folder `folderName` inside `dir`.
 * @throws StorageError NOT_DATA_FOLDER (exit 78), naming the folder and some of what it holds
 */
export function refuseForeignFolder(
  dir: string,
  command: keyof typeof filesOf,
  folderName: string,
): void {
  let names: string[];
  try {
    names = readdirSync(dir).filter((name) => !passedOver.includes(name));
  } catch {
    return; // missing (made), a file or unreadable: said by the open
  }
  if (names.length === 0 || names.some((name) => bourseNames.includes(name))) return;
  const shown = names.sort().slice(0, namesShownMax).join(', ');
  const more = names.length > namesShownMax ? `, and ${names.length - namesShownMax} more` : '';
  throw new StorageError(
    StorageCode.NotDataFolder,
    `data folder ${dir} is not a bourse data folder: it holds ${shown}${more}, and no ` +
      `journal, snapshots or keys.json; bourse ${command} puts ${filesOf[command]} files in a ` +
      `new or empty folder (it makes it), such as --data ${join(dir, folderName)}; nothing ` +
      'was written',
  );
}

/**
 * Refuses a client port that cannot be bound now (bound and let go at once), before the folder
 * is made: the gateway binds it only once the journal is open and replayed. A port taken in
 * between is still refused by the gateway's own bind (its ListenError), and what the start
 * made is removed again (start-folder-undo.ts).
 * Port 0 (any free port) always binds.
 * @throws ListenError (exit 69), as the gateway's bind says it
 */
export async function refuseTakenPort(host: string, port: number): Promise<void> {
  if (port === 0 || (await bindError('tcp', host, port)) === null) return;
  throw new ListenError(`cannot listen on ${host}:${port}`);
}
