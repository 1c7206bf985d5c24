/** Exit codes scripts can rely on. */
export const EXIT = { ok: 0, failed: 1, usage: 2, notFound: 3, timeout: 4, conflict: 5 } as const;

/** A mistake in how the command was called: exit 2 with the message, no stack. */
export class UsageError extends Error {
  readonly exitCode: number = EXIT.usage;
}

/** A named object that does not exist: exit 3. */
export class NotFoundError extends Error {
  readonly exitCode: number = EXIT.notFound;
}

/** A wait that ran out of time: exit 4. */
export class TimeoutError extends Error {
  readonly exitCode: number = EXIT.timeout;
}

/**
 * The repository is not in a state the command can change safely (a name already taken, local
 * changes in the way, a push rejected again after one rebase): exit 5, nothing was changed.
 */
export class ConflictError extends Error {
  readonly exitCode: number = EXIT.conflict;
}

/**
 * Makes commander's own errors (unknown option, missing argument, bad choice) throw instead of
 * exiting 1, in every subcommand and not only the root, so they exit 2 like every other usage error.
 */
export function enforceExitCodes<C extends { exitOverride(): unknown; readonly commands: readonly C[] }>(cmd: C): C {
  cmd.exitOverride();
  for (const sub of cmd.commands) enforceExitCodes(sub);
  return cmd;
}

/** The exit code for anything a command threw: commander's usage errors 2, typed errors their own, else 1. */
export function exitCodeOf(err: unknown): number {
  const e = err as { code?: unknown; exitCode?: unknown } | undefined;
  if (typeof e?.code === "string" && e.code.startsWith("commander.")) return e.exitCode === 0 ? EXIT.ok : EXIT.usage;
  return typeof e?.exitCode === "number" ? e.exitCode : EXIT.failed;
}
