// How every external program (git, helm, kustomize, sops, tar, tether-jsonnet) is started: the words
// Tether writes first, then `--`, then whatever came from a user's file or spec. After `--` a release
// name `--set=x`, a chart path `-gfhttp://…` or a URL `--upload-pack=…` is an argument, never an
// option (cobra, Go's flag, git's parse-options and GNU getopt all stop there). An argument vector is
// an `Argv`, which only {@link argv} and {@link gitRevArgv} make, and only these functions run a
// program: agent/exec.test.ts fails when another module starts one.
import { execa, type Options, type ResultPromise } from "execa";
import type { SimpleGit } from "simple-git";

/** One command line of an external program. */
export interface CommandLine {
  /** Subcommand words and options with their values, written by Tether (a user's value as `--opt=value`). */
  readonly options: readonly string[];
  /** Arguments that may come from users: placed after the end of the options. */
  readonly positionals?: readonly string[];
}

declare const argvBrand: unique symbol;
/** An argument vector with its options ended: made by {@link argv} or {@link gitRevArgv} only. */
export type Argv = readonly string[] & { readonly [argvBrand]: true };

/** The argument vector: `options`, `--`, `positionals`. */
export function argv(line: CommandLine): Argv {
  return [...line.options, "--", ...(line.positionals ?? [])] as readonly string[] as Argv;
}

/**
 * For git commands where `--` separates revisions from paths (`rev-parse`): git's own
 * `--end-of-options` (git 2.24+) ends the options without that meaning. (git 2.39's `rev-parse` echoes
 * it unless `--verify` is given, and `reset` and `checkout` refuse it.) With no positionals nothing
 * follows the options, and none is written (`rev-parse --show-toplevel` would print it back).
 */
export function gitRevArgv(line: CommandLine): Argv {
  const rest = line.positionals?.length ? ["--end-of-options", ...line.positionals] : [];
  return [...line.options, ...rest] as readonly string[] as Argv;
}

/** Starts `file` with `args` (execa, with its options and result). */
export function runTool<O extends Options>(file: string, args: Argv, options: O): ResultPromise<{} & O> {
  return execa(file, args, options);
}

/** A git command through a simple-git client (its environment and config), with `args` as given. */
export function gitRaw(git: SimpleGit, args: Argv): Promise<string> {
  return git.raw([...args]);
}
