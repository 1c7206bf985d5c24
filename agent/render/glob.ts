// The one glob engine, with Argo CD's semantics (gobwas/glob, as Argo CD compiles it): `?` is one
// character, `[a-z]` / `[!a-z]` are classes, `{a,b}` are alternatives (nestable), `\` escapes. Without a
// separator `*` crosses `/` (directory include/exclude, project destinations and kinds); with the `/`
// separator (a project's sourceRepos) `*` and `?` stay inside one path segment and `**` crosses them.
import { TetherError } from "../errors.ts";

/** How a pattern is compiled. */
export interface GlobOptions {
  /** A character `*` and `?` never match (Argo CD passes `/` for sourceRepos); `**` still does. */
  readonly separator?: "/";
}

/** A malformed pattern: why, for the caller to put in its own error. */
export class GlobSyntaxError extends Error {}

/** Compiles a glob into an anchored regular expression; throws GlobSyntaxError for a malformed one. */
export function globToRegExp(glob: string, options: GlobOptions = {}): RegExp {
  const any = options.separator === undefined ? "[^]" : `[^${escapeRegExp(options.separator)}]`;
  let out = "";
  let depth = 0;
  for (let i = 0; i < glob.length; i++) {
    const c = glob.charAt(i);
    if (c === "\\") {
      if (i + 1 >= glob.length) throw new GlobSyntaxError("ends with a lone '\\'");
      out += escapeRegExp(glob.charAt(++i));
    } else if (c === "*") {
      const double = glob.charAt(i + 1) === "*";
      if (double) i++;
      out += double ? "[^]*" : `${any}*`;
    } else if (c === "?") {
      out += any;
    } else if (c === "[") {
      const end = glob.indexOf("]", i + 2);
      if (end < 0) throw new GlobSyntaxError("has a '[' without its ']'");
      out += charClass(glob.slice(i + 1, end));
      i = end;
    } else if (c === "{") {
      depth++;
      out += "(?:";
    } else if (c === "}" && depth > 0) {
      depth--;
      out += ")";
    } else if (c === "," && depth > 0) {
      out += "|";
    } else {
      out += escapeRegExp(c);
    }
  }
  if (depth > 0) throw new GlobSyntaxError("has a '{' without its '}'");
  return new RegExp(`^${out}$`);
}

/** A directory include/exclude glob; throws RenderFailed naming the field for a malformed one. */
export function compileGlob(glob: string, field: string): RegExp {
  try {
    return globToRegExp(glob);
  } catch (err) {
    if (!(err instanceof GlobSyntaxError)) throw err;
    throw new TetherError("RenderFailed", `spec.source.directory.${field} '${glob}' ${err.message}: fix the pattern`, { retryable: false });
  }
}

const compiled = new Map<string, RegExp | undefined>();

/**
 * Whether `value` matches `pattern` (Argo CD's `glob.Match`): `*` alone matches everything, and a
 * malformed pattern matches nothing.
 */
export function globMatch(pattern: string, value: string, options: GlobOptions = {}): boolean {
  if (pattern === "*") return true;
  const key = `${options.separator ?? ""}\u0000${pattern}`;
  if (!compiled.has(key)) {
    if (compiled.size > 10_000) compiled.clear();
    let re: RegExp | undefined;
    try {
      re = globToRegExp(pattern, options);
    } catch {
      re = undefined;
    }
    compiled.set(key, re);
  }
  return compiled.get(key)?.test(value) ?? false;
}

/**
 * Argo CD's lists with deny patterns (sourceRepos, destinations): permitted when one pattern without
 * `!` matches and no `!pattern` does.
 */
export function matchesList(patterns: readonly string[], value: string, options: GlobOptions = {}): boolean {
  let allowed = false;
  for (const pattern of patterns) {
    if (pattern.startsWith("!")) {
      if (globMatch(pattern.slice(1), value, options)) return false;
    } else if (globMatch(pattern, value, options)) {
      allowed = true;
    }
  }
  return allowed;
}

function charClass(body: string): string {
  const negated = body.startsWith("!");
  const chars = (negated ? body.slice(1) : body).replace(/[\\\]^[]/g, "\\$&");
  return `[${negated ? "^" : ""}${chars}]`;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}
