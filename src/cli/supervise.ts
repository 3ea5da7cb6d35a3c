/**
 * verify, replay and inspect run in a child process of the same CLI, watched by this one. An
 * assertion in LMDB on a damaged page (mdb.c: "Assertion 'i > 0' failed") aborts the process
 * that reads it: no handler runs, and the user saw a C assertion and exit 134. The parent
 * outlives it, finds which file is damaged (damaged-file.ts) and says so with exit 65.
 * Otherwise it is invisible: stdin, stdout and stderr are the child's own, and its exit code is
 * passed on as it is. `start` is not run this way (start.ts walks the files first instead).
 *
 *   bourse verify ──spawn──► bourse verify (BOURSE_SUPERVISED_CHILD=1)
 *        ▲                       │ fd 3: the data folder it resolved (flag, BOURSE_DATA, file)
 *        └── exit code / signal ─┘
 */
import { spawn } from 'node:child_process';
import { writeSync } from 'node:fs';
import { constants } from 'node:os';
import { fileURLToPath } from 'node:url';
import { StorageError } from '../journal/journal-errors.js';

const supervisedCommands: readonly string[] = ['verify', 'replay', 'inspect'];
const childEnv = 'BOURSE_SUPERVISED_CHILD';
const dirFd = 3;
const main = fileURLToPath(new URL('../main.js', import.meta.url));

/** Signals a native fault ends a process with: told as damage when the walk finds one. */
const faultSignals: readonly string[] = ['SIGABRT', 'SIGSEGV', 'SIGBUS', 'SIGILL', 'SIGFPE'];

/** Signals passed on to the child: `kill PARENT` stops the work, not only its watcher. */
const forwarded: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];

/** Whether `argv` is run under a supervising parent (this process is not already the child). */
export function supervises(argv: readonly string[]): boolean {
  return supervisedCommands.includes(argv[0] ?? '') && process.env[childEnv] !== '1';
}

let dataDirOfRun: string | null = null;

/** The data folder the command runs on (null before its options were read). */
export function runDataDir(): string | null {
  return dataDirOfRun;
}

/** Notes the command's data folder, and tells the supervising parent, if there is one. */
export function noteDataDir(dir: unknown): void {
  if (typeof dir !== 'string') return;
  dataDirOfRun = dir;
  if (process.env[childEnv] !== '1') return;
  try {
    writeSync(dirFd, dir + '\n');
  } catch {
    // No pipe on fd 3 (the variable set by hand): nobody to tell.
  }
}

/**
 * The name of the LMDB error `error` is (its message starts with it: MDB_CORRUPTED), or null.
 * MDB_MAP_FULL is the disk's (writeFailure) and MDB_READERS_FULL a limit, neither the data's.
 */
export function lmdbErrorName(error: unknown): string | null {
  if (error instanceof StorageError) return null; // told already, its file named
  const message = error instanceof Error ? error.message : String(error);
  const name = /\b(MDB_[A-Z_]+)\b/.exec(message)?.[1] ?? null;
  return name === 'MDB_MAP_FULL' || name === 'MDB_READERS_FULL' ? null : name;
}

/** Runs `argv` in a child and resolves with its exit code, or 65 for damage it aborted on. */
export function supervise(argv: readonly string[]): Promise<number> {
  // Without concurrent recompilation: about one verify in 20-40 never exited. At exit the main
  // thread waits in NodePlatform::DrainTasks for a background TurboFan job, which waits in
  // CollectionBarrier::AwaitCollectionBackground for a GC that only the main thread would run
  // (gdb on a hung verify, Node 20.20.2). Compiling on the main thread costs a one-shot tool
  // little, and 0 of 80 runs hung with it (the flag set from inside the process did not help).
  const flags = [...process.execArgv, '--no-concurrent-recompilation'];
  const child = spawn(process.execPath, [...flags, main, ...argv], {
    stdio: ['inherit', 'inherit', 'inherit', 'pipe'],
    env: { ...process.env, [childEnv]: '1' },
  });
  let told = '';
  (child.stdio[dirFd] as NodeJS.ReadableStream | null)?.setEncoding('utf8');
  child.stdio[dirFd]?.on('data', (text: string) => (told += text));
  const pass = (signal: NodeJS.Signals): void => void child.kill(signal);
  for (const signal of forwarded) process.on(signal, pass);
  return new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('close', (code, signal) => resolve({ code, signal }));
  }).then(async ({ code, signal }) => {
    for (const s of forwarded) process.off(s, pass);
    if (signal === null) return code ?? 70;
    return faulted(told.split('\n')[0], signal);
  });
}

/** The exit code of a child ended by `signal`: 65 with the file when LMDB aborted on it. */
async function faulted(dir: string, signal: NodeJS.Signals): Promise<number> {
  if (faultSignals.includes(signal) && dir !== '') {
    // Loaded only now: LMDB's binding takes a while, and a sound run never needs it here.
    const { damageError, findDamage } = await import('./damaged-file.js');
    const damage = findDamage(dir);
    if (damage !== null) {
      const error = damageError(dir, damage);
      process.stderr.write(`bourse: ${error.message} [${error.code}]\n`);
      return 65;
    }
  }
  return 128 + (constants.signals[signal] ?? 0);
}
