// A line diff (Myers, "An O(ND) Difference Algorithm", 1986) and its unified-format hunks. Written
// here rather than taken from a package because manifests need only this much of one.

export interface LineEdit {
  /** " " kept, "-" only in the old text, "+" only in the new one. */
  readonly op: " " | "-" | "+";
  readonly text: string;
}

/**
 * Past this many changed lines the shortest edit script costs O(D²) memory for a diff nobody
 * reads line by line, so the changed middle is shown as one removed and one added block instead.
 */
const MAX_EDIT_DISTANCE = 2000;

/** The edits that turn `a` into `b`, fewest changed lines first. */
export function diffLines(a: readonly string[], b: readonly string[]): LineEdit[] {
  let start = 0;
  while (start < a.length && start < b.length && a[start] === b[start]) start++;
  let endA = a.length;
  let endB = b.length;
  while (endA > start && endB > start && a[endA - 1] === b[endB - 1]) {
    endA--;
    endB--;
  }
  const oldMiddle = a.slice(start, endA);
  const newMiddle = b.slice(start, endB);
  const middle = shortestEdits(oldMiddle, newMiddle) ?? [...edits("-", oldMiddle), ...edits("+", newMiddle)];
  return [...edits(" ", a.slice(0, start)), ...middle, ...edits(" ", a.slice(endA))];
}

function edits(op: LineEdit["op"], lines: readonly string[]): LineEdit[] {
  return lines.map((text) => ({ op, text }));
}

/** Myers' greedy forward search, keeping each round's frontier to walk the path back. */
function shortestEdits(a: readonly string[], b: readonly string[]): LineEdit[] | undefined {
  const limit = Math.min(a.length + b.length, MAX_EDIT_DISTANCE);
  const offset = limit + 1;
  const frontier = new Int32Array(2 * limit + 3);
  const trace: Int32Array[] = [];
  for (let d = 0; d <= limit; d++) {
    // Round d reads diagonals -d-1..d+1; keeping just those makes the trace O(D²), not O(D·N).
    trace.push(frontier.slice(offset - d - 1, offset + d + 2));
    for (let k = -d; k <= d; k += 2) {
      const down = k === -d || (k !== d && (frontier[offset + k - 1] ?? 0) < (frontier[offset + k + 1] ?? 0));
      let x = down ? (frontier[offset + k + 1] ?? 0) : (frontier[offset + k - 1] ?? 0) + 1;
      let y = x - k;
      while (x < a.length && y < b.length && a[x] === b[y]) {
        x++;
        y++;
      }
      frontier[offset + k] = x;
      if (x >= a.length && y >= b.length) return backtrack(trace, a, b);
    }
  }
  return undefined;
}

function backtrack(trace: readonly Int32Array[], a: readonly string[], b: readonly string[]): LineEdit[] {
  const out: LineEdit[] = [];
  let x = a.length;
  let y = b.length;
  for (let d = trace.length - 1; d >= 0; d--) {
    const round = trace[d] ?? new Int32Array(2 * d + 3);
    const at = (k: number): number => round[k + d + 1] ?? 0;
    const k = x - y;
    const prevK = k === -d || (k !== d && at(k - 1) < at(k + 1)) ? k + 1 : k - 1;
    const prevX = at(prevK);
    const prevY = prevX - prevK;
    while (x > prevX && y > prevY) {
      out.push({ op: " ", text: a[x - 1] ?? "" });
      x--;
      y--;
    }
    if (d > 0) out.push(x === prevX ? { op: "+", text: b[y - 1] ?? "" } : { op: "-", text: a[x - 1] ?? "" });
    x = prevX;
    y = prevY;
  }
  return out.reverse();
}

/** Unified-format hunks (`@@ -l,n +l,n @@`) of `script`, with `context` unchanged lines around each change. */
export function hunks(script: readonly LineEdit[], context: number): string[] {
  const out: string[] = [];
  let next = 0;
  while (next < script.length) {
    const first = script.findIndex((e, i) => i >= next && e.op !== " ");
    if (first < 0) break;
    const end = changeEnd(script, first, context);
    const start = Math.max(next, first - context);
    const stop = Math.min(script.length, end + context);
    out.push(header(script, start, stop), ...script.slice(start, stop).map((e) => e.op + e.text));
    next = stop;
  }
  return out;
}

/** One past the last change that sits within 2×context unchanged lines of the previous one. */
function changeEnd(script: readonly LineEdit[], first: number, context: number): number {
  let end = first + 1;
  for (let i = first + 1; i < script.length; i++) {
    if (script[i]?.op === " ") {
      if (i - end >= 2 * context) break;
    } else {
      end = i + 1;
    }
  }
  return end;
}

function header(script: readonly LineEdit[], start: number, stop: number): string {
  const before = script.slice(0, start);
  const slice = script.slice(start, stop);
  const range = (skip: LineEdit["op"]): string => {
    const offset = before.filter((e) => e.op !== skip).length;
    const count = slice.filter((e) => e.op !== skip).length;
    // An empty range names the line before it (0 for an empty file), as diff(1) does.
    return `${count === 0 ? offset : offset + 1},${count}`;
  };
  return `@@ -${range("+")} +${range("-")} @@`;
}
