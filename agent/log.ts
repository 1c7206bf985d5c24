// The agent's logs, through pino: JSON lines in a cluster (one object per line, with app, revision and
// stage fields for a log pipeline), readable text on a terminal. `--log-format` and `--log-level` choose.
import { pino, type Logger } from "pino";

export type LogFormat = "json" | "text";
export type LogLevel = "debug" | "info" | "warn" | "error";

/** A log call as the agent's stages make it: a message, and fields such as `{ app, revision, stage }`. */
export type LogFn = (line: string, fields?: Readonly<Record<string, unknown>>) => void;

export interface LoggerOptions {
  readonly format?: LogFormat;
  readonly level?: LogLevel;
  /** Where lines go (stdout by default). */
  readonly write?: (line: string) => void;
}

/** The default format: text for a person at a terminal, JSON for everything else (a container's log). */
export function defaultLogFormat(): LogFormat {
  return process.stdout.isTTY ? "text" : "json";
}

export function createLogger(opts: LoggerOptions = {}): Logger {
  const write = opts.write ?? ((line: string) => process.stdout.write(line));
  const format = opts.format ?? defaultLogFormat();
  const stream = { write: format === "json" ? write : (json: string) => write(textLine(json)) };
  return pino({ level: opts.level ?? "info", base: undefined, timestamp: pino.stdTimeFunctions.isoTime }, stream);
}

/** A LogFn over a pino logger; an `err` field is logged with its cause chain. */
export function logFn(logger: Logger): LogFn {
  return (line, fields) => {
    const level = fields?.level === "warn" || fields?.level === "error" || fields?.level === "debug" ? fields.level : "info";
    logger[level]({ ...fields, level: undefined, ...(fields?.err !== undefined ? { err: causes(fields.err) } : {}) }, line);
  };
}

/** `2026-12-01T10:00:00.000Z INFO  web: synced … app=web revision=1a2b3c4` */
function textLine(json: string): string {
  const record = JSON.parse(json) as Record<string, unknown>;
  const { time, level, msg, ...fields } = record;
  const name = typeof level === "number" ? (pino.levels.labels[level] ?? String(level)) : String(level);
  const extra = Object.entries(fields).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`);
  return `${String(time)} ${name.toUpperCase().padEnd(5)} ${String(msg)}${extra.length > 0 ? ` ${extra.join(" ")}` : ""}\n`;
}

/** An error's message and the messages of its causes, outermost first (TetherError keeps the foreign error as cause). */
function causes(err: unknown): string[] {
  const out: string[] = [];
  for (let e: unknown = err; e !== undefined && out.length < 5; e = (e as { cause?: unknown }).cause) {
    if (!(e instanceof Error)) {
      out.push(typeof e === "string" ? e : JSON.stringify(e));
      break;
    }
    out.push(e.message);
  }
  return out;
}
