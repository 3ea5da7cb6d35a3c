#!/usr/bin/env node
/**
 * The walk of a data folder's LMDB files in a process of its own: `node lmdb-walk-main.js DIR`.
 * Exit 0 when every page was read; an LMDB error is printed on stdout and ends in exit 65; an
 * LMDB assertion aborts the process (SIGABRT). See lmdb-walk.ts.
 */
import { walkData } from './lmdb-walk.js';

try {
  walkData(process.argv[2] ?? '.', (line) => process.stdout.write(line + '\n'));
} catch (error) {
  process.stdout.write(`error ${(error as Error).message}\n`);
  process.exitCode = 65;
}
