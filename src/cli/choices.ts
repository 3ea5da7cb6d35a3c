/**
 * The fixed choices of the command line's flags and arguments, in a module of their own:
 * program.ts declares every command with them, and loads a command's code (LMDB, uWS, the
 * pipeline) only when that command runs, so that `bourse --help` starts in a tenth of a second.
 */
export const benchScenarios = ['engine', 'pipeline', 'e2e', 'replicated'] as const;
export type BenchScenario = (typeof benchScenarios)[number];

/** What a failover drill sends its victim: a crash, or a clean stop (a rolling restart). */
export const drillSignals = ['SIGKILL', 'SIGTERM'] as const;
export type DrillSignal = (typeof drillSignals)[number];

/** Whose process a failover drill's kills stop. */
export const drillVictims = ['primary', 'standby', 'any'] as const;
export type DrillVictim = (typeof drillVictims)[number];

/** How `bourse cluster` and `bourse member` write their own lines on stderr (log-format.ts). */
export const logFormats = ['text', 'json'] as const;
export type LogFormat = (typeof logFormats)[number];
