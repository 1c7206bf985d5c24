// The `.env` reader KSOPS uses for `secretFrom.envs` (github.com/joho/godotenv `Unmarshal`), ported
// so a Secret built from an env file has the same keys and values as with KSOPS.
//
// Two deliberate differences: `$VAR` is expanded from the file's own earlier keys only, never from
// the process environment (the agent's environment holds the age keys), and error messages name
// the line, never its text (it is plaintext).

/** Thrown for a malformed env file; `message` holds no content of the file. */
export class DotenvError extends Error {}

/** Parses decrypted `.env` text into its key/value pairs, later keys overriding earlier ones. */
export function parseDotenv(text: string): Record<string, string> {
  const src = text.replaceAll("\r\n", "\n");
  const out: Record<string, string> = {};
  let rest: string | undefined = src;
  for (;;) {
    rest = statementStart(rest);
    if (rest === undefined) break;
    const { key, after } = keyName(rest, lineOf(src, rest));
    const { value, left } = value_(after, out, lineOf(src, rest));
    out[key] = value;
    rest = left;
  }
  return out;
}

function lineOf(src: string, rest: string): number {
  return src.slice(0, src.length - rest.length).split("\n").length;
}

/** Skips whitespace and comment lines; undefined at the end of the file. */
function statementStart(src: string | undefined): string | undefined {
  if (src === undefined) return undefined;
  const pos = [...src].findIndex((c) => !UNICODE_SPACE.test(c));
  if (pos === -1) return undefined;
  const from = [...src].slice(pos).join("");
  if (!from.startsWith("#")) return from;
  const newline = from.indexOf("\n");
  return newline === -1 ? undefined : statementStart(from.slice(newline));
}

function keyName(input: string, line: number): { key: string; after: string } {
  let src = trimLeftSpace(input);
  if (src.startsWith("export")) {
    const trimmed = src.slice("export".length);
    if (trimmed.length > 0 && isSpace(trimmed[0]!)) src = trimLeftSpace(trimmed);
  }
  let key = "";
  let offset = 0;
  for (let i = 0; i < src.length; i++) {
    const c = src[i]!;
    if (isSpace(c)) continue;
    if (c === "=" || c === ":") {
      key = src.slice(0, i);
      offset = i + 1;
      break;
    }
    if (c === "_" || c === "." || /[\p{L}\p{N}]/u.test(c)) continue;
    throw new DotenvError(`line ${line}: unexpected character in variable name`);
  }
  if (src.length === 0) throw new DotenvError(`line ${line}: zero length string`);
  return { key: key.replace(/\s+$/u, ""), after: trimLeftSpace(src.slice(offset)) };
}

function value_(src: string, vars: Record<string, string>, line: number): { value: string; left: string | undefined } {
  const quote = src[0];
  if (quote !== '"' && quote !== "'") return unquoted(src, vars);
  for (let i = 1; i < src.length; i++) {
    if (src[i] !== quote || src[i - 1] === "\\") continue;
    let value = trimChar(src.slice(0, i), quote);
    // Double quotes unescape \n and \r and expand variables; single quotes keep the text as is.
    if (quote === '"') value = expandVariables(expandEscapes(value), vars);
    return { value, left: src.slice(i + 1) };
  }
  throw new DotenvError(`line ${line}: unterminated quoted value`);
}

function unquoted(src: string, vars: Record<string, string>): { value: string; left: string | undefined } {
  let endOfLine = src.search(/[\n\r]/);
  if (endOfLine === -1) {
    endOfLine = src.length;
    if (endOfLine === 0) return { value: "", left: undefined };
  }
  const line = [...src.slice(0, endOfLine)];
  let endOfVar = line.length;
  if (endOfVar === 0) return { value: "", left: src.slice(endOfLine) };
  // A `#` after whitespace starts a trailing comment.
  for (let i = endOfVar - 1; i > 0; i--) {
    if (line[i] === "#" && isSpace(line[i - 1]!)) {
      endOfVar = i;
      break;
    }
  }
  const trimmed = trimSpace(line.slice(0, endOfVar).join(""));
  return { value: expandVariables(trimmed, vars), left: src.slice(endOfLine) };
}

function expandEscapes(value: string): string {
  const out = value.replace(/\\./g, (match) => (match === "\\n" ? "\n" : match === "\\r" ? "\r" : match));
  return out.replace(/\\([^$])/g, "$1");
}

// godotenv's expression, including its quirk: `$(` is never treated as an escape.
const EXPAND = /(\\)?(\$)(\()?\{?([A-Z0-9_]+)?\}?/g;

function expandVariables(value: string, vars: Record<string, string>): string {
  return value.replace(EXPAND, (match: string, ...groups: (string | undefined)[]) => {
    const [escaped, , , name] = groups;
    if (escaped === "\\") return match.slice(1);
    if (name !== undefined && name !== "") return vars[name] ?? "";
    return match;
  });
}

// Go's unicode.IsSpace, for where godotenv uses it.
const UNICODE_SPACE = /[\t\n\v\f\r \u0085\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]/u;

/** godotenv's isSpace: whitespace that does not end a line. */
function isSpace(c: string): boolean {
  return c === "\t" || c === "\v" || c === "\f" || c === "\r" || c === " " || c === "\u0085" || c === "\u00A0";
}

function trimLeftSpace(s: string): string {
  let i = 0;
  while (i < s.length && isSpace(s[i]!)) i++;
  return s.slice(i);
}

function trimSpace(s: string): string {
  let end = s.length;
  while (end > 0 && isSpace(s[end - 1]!)) end--;
  return trimLeftSpace(s.slice(0, end));
}

function trimChar(s: string, c: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && s[start] === c) start++;
  while (end > start && s[end - 1] === c) end--;
  return s.slice(start, end);
}
