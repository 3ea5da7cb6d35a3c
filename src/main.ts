#!/usr/bin/env node
/** Process entry of `bourse` (the package's bin). */
import { run } from './cli/program.js';

process.exitCode = await run(process.argv.slice(2));
