#!/usr/bin/env node
/** Process entry of `bourse` (the package's bin). */
import { run } from './cli/program.js';
import { supervise, supervises } from './cli/supervise.js';

const argv = process.argv.slice(2);
process.exitCode = supervises(argv) ? await supervise(argv) : await run(argv);
