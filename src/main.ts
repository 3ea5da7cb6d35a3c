#!/usr/bin/env node
/** Process entry of `bourse` (the package's bin). */
import { run } from './cli/program.js';
import { supervise, supervises } from './cli/supervise.js';

// A reader that stops early (`bourse inspect ... | head`) closes the pipe: the rest of the
// output has no one to go to, which is no error (it was an unhandled EPIPE and a stack trace).
process.stdout.on('error', (error: NodeJS.ErrnoException) => {
  if (error.code !== 'EPIPE') throw error;
  process.exit(0);
});

const argv = process.argv.slice(2);
process.exitCode = supervises(argv) ? await supervise(argv) : await run(argv);
