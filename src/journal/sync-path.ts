/**
 * fsync of a file or a folder, by its path. A file's bytes are on the disk only once the file
 * is fsynced, and a name made or removed in a folder only once the folder is: until then a
 * power cut can undo either, in any order (the kernel writes its dirty pages back as it
 * likes). Linux fsyncs through a read-only descriptor, which a folder needs.
 */
import { closeSync, fsyncSync, openSync } from 'node:fs';
import { StorageCode, StorageError } from './journal-errors.js';

/** @throws StorageError DATA_IO (exit 74) naming the path and why (EIO: the disk refused it). */
export function syncPath(path: string): void {
  let fd = -1;
  try {
    fd = openSync(path, 'r');
    fsyncSync(fd);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new StorageError(StorageCode.DataIo, `cannot fsync ${path} (${code})`);
  } finally {
    if (fd !== -1) closeSync(fd);
  }
}
