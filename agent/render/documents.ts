// A multi-document YAML stream cut into its documents before parsing, so a 50 MB manifest is parsed
// one document at a time: the parser's syntax tree of one document is garbage before the next one
// is read (the whole stream's tree took about 20 times the file's size).

/** One document's text and the line of the file it starts on (1-based). */
export interface DocumentText {
  readonly text: string;
  readonly firstLine: number;
}

/** A line that holds only a comment, a directive or nothing: it belongs to the next document. */
const PREAMBLE_LINE = /^(\s*(#.*)?|%.*)$/;

/**
 * Cuts at every `---` that starts a line (a document marker, which YAML only allows at column 0 and
 * which ends any scalar). Leading comment and directive lines stay with the document they precede.
 */
export function splitDocuments(text: string): DocumentText[] {
  const docs: DocumentText[] = [];
  const marker = /^---(?=[ \t\r\n]|$)/gm;
  let start = 0;
  let startLine = 1;
  let line = 1;
  let scanned = 0;
  const countLines = (to: number) => {
    for (let i = scanned; i < to; i++) if (text.charCodeAt(i) === 10) line++;
    scanned = to;
  };
  for (let match = marker.exec(text); match !== null; match = marker.exec(text)) {
    if (match.index === start) continue;
    const chunk = text.slice(start, match.index);
    countLines(match.index);
    if (!chunk.split("\n").every((l) => PREAMBLE_LINE.test(l))) {
      docs.push({ text: chunk, firstLine: startLine });
      start = match.index;
      startLine = line;
    }
  }
  if (start < text.length) docs.push({ text: text.slice(start), firstLine: startLine });
  return docs;
}

/**
 * A parsed document's value copied into fresh JSON values. The yaml library's strings keep its
 * parse buffers alive (about 16 times the text of each document, measured with test/bench/render-memory.ts);
 * a copy holds only the values. JSON is what Kubernetes takes, so nothing a manifest can hold is lost.
 */
export function detached(value: unknown): unknown {
  return value === undefined ? undefined : JSON.parse(JSON.stringify(value)) as unknown;
}

/**
 * A document written as one JSON object (what generators, `kubectl -o json` and many pipelines write)
 * parsed by `JSON.parse`: the value the YAML parser gives it (JSON is YAML 1.2) at about a hundredth of
 * the cost, and fresh values already (no {@link detached} copy). Undefined for anything else, which
 * takes the YAML path as before: YAML, a comment, a JSON array or scalar, an object with a key twice
 * (the YAML parser refuses it with a line number) or a `-0` (which the YAML path writes as 0).
 * `at` is where the object starts in `text` (after a `---` marker and blank space), for line numbers.
 */
export function jsonDocument(text: string): { readonly value: Record<string, unknown>; readonly at: number } | undefined {
  const at = contentStart(text);
  if (text.charCodeAt(at) !== OPEN_BRACE || NEGATIVE_ZERO.test(text)) return undefined;
  let value: unknown;
  try {
    value = JSON.parse(at === 0 ? text : text.slice(at));
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null || Array.isArray(value) || hasDuplicateKey(text, at)) return undefined;
  return { value: value as Record<string, unknown>, at };
}

const OPEN_BRACE = 123;
/** A `-0` number token (after `:`, `,` or `[`); a false match inside a string only costs the YAML path. */
const NEGATIVE_ZERO = /[:,[]\s*-0(?![\d.eE])/;

/** Past a leading `---` marker and the blank space after it. */
function contentStart(text: string): number {
  let i = text.startsWith("---") ? 3 : 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c !== 32 && c !== 9 && c !== 10 && c !== 13) break;
    i++;
  }
  return i;
}

/** Whether an object of the valid JSON text `text` (from `from` on) holds one key twice. */
export function hasDuplicateKey(text: string, from = 0): boolean {
  // One set of keys per open object, undefined for an open array.
  const open: (Set<string> | undefined)[] = [];
  let keyNext = false;
  for (let i = from; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) {
      let end = i + 1;
      let escaped = false;
      for (let d = text.charCodeAt(end); d !== 34; d = text.charCodeAt(end)) {
        if (d === 92) {
          escaped = true;
          end += 2;
        } else end++;
      }
      const keys = open[open.length - 1];
      if (keyNext && keys !== undefined) {
        const key = escaped ? JSON.parse(text.slice(i, end + 1)) as string : text.slice(i + 1, end);
        if (keys.has(key)) return true;
        keys.add(key);
        keyNext = false;
      }
      i = end;
    } else if (c === OPEN_BRACE) {
      open.push(new Set());
      keyNext = true;
    } else if (c === 91) {
      open.push(undefined);
    } else if (c === 125 || c === 93) {
      open.pop();
    } else if (c === 44) {
      keyNext = open[open.length - 1] !== undefined;
    }
  }
  return false;
}
