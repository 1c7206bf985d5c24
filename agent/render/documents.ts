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
