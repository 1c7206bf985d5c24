// Argo CD's directory include/exclude globs (gobwas/glob compiled without separators), so a pattern
// selects the same files here as it does in Argo CD: `*` also crosses `/` (`*.yaml` matches
// `sub/a.yaml`), `?` is one character, `[a-z]` / `[!a-z]` are classes, `{a,b}` are alternatives
// (nestable) and `\` escapes.
import { TetherError } from "../errors.ts";

/** Compiles a glob into an anchored regular expression; throws RenderFailed for a malformed one. */
export function compileGlob(glob: string, field: string): RegExp {
  let out = "";
  let depth = 0;
  for (let i = 0; i < glob.length; i++) {
    const c = glob.charAt(i);
    if (c === "\\") {
      if (i + 1 >= glob.length) throw badGlob(glob, field, "ends with a lone '\\'");
      out += escapeRegExp(glob.charAt(++i));
    } else if (c === "*") {
      out += ".*";
    } else if (c === "?") {
      out += ".";
    } else if (c === "[") {
      const end = glob.indexOf("]", i + 2);
      if (end < 0) throw badGlob(glob, field, "has a '[' without its ']'");
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
  if (depth > 0) throw badGlob(glob, field, "has a '{' without its '}'");
  return new RegExp(`^${out}$`, "s");
}

function charClass(body: string): string {
  const negated = body.startsWith("!");
  const chars = (negated ? body.slice(1) : body).replace(/[\\\]^[]/g, "\\$&");
  return `[${negated ? "^" : ""}${chars}]`;
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}

function badGlob(glob: string, field: string, why: string): TetherError {
  return new TetherError("RenderFailed", `spec.source.directory.${field} '${glob}' ${why}: fix the pattern`, { retryable: false });
}
