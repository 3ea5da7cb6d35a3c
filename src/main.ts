#!/usr/bin/env node
/** Process entry of `bourse` (the package's bin). */
import { supervise, supervises } from './cli/supervise.js';

const argv = process.argv.slice(2);

/** Commands that run until stopped or done, with processes or a node of their own. */
const runsOn = ['start', 'member', 'cluster', 'bench', 'drill'].includes(argv[0] ?? '');

// A reader that stops early (`bourse inspect ... | head`) closes the pipe: the rest of the
// output has no one to go to, which is no error (it was an unhandled EPIPE and a stack trace).
// A one-shot command ends there with the code it has come to: it ended 0 whatever, and
// `verify | grep -q CORRUPT` (or `| head` under pipefail) read a damaged journal's 65 as 0.
// One that runs on goes on without its stdout (its log is on stderr): a node ended 0 at once
// when it said a line (a start's stop, a failure's), not stopped cleanly, or with its code.
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE' && error.code !== 'ERR_STREAM_DESTROYED') throw error;
  if (runsOn) return;
  process.exit(typeof process.exitCode === 'number' ? process.exitCode : 0);
});
// verify, replay and inspect: this process only watches the child that runs them, and loads
// none of the command line (commander, settings): ~60 ms of CPU of each such call.
const run = async (): Promise<number> => (await import('./cli/program.js')).run(argv);
process.exitCode = supervises(argv) ? await supervise(argv) : await run();
