// The helpers Argo CD gives triggers and templates: `time` (Now, Parse, the durations and layouts),
// `repo` (RepoURLToHTTPS, FullNameByRepoURL, QueryEscape) and `strings` (ReplaceAll, ToUpper, ToLower).
// In a trigger they are called (`time.Now().Sub(time.Parse(x)).Minutes()`); in a template through
// `call` (`{{ call .repo.RepoURLToHTTPS .app.spec.source.repoURL }}`), as in Argo CD.
import type { HasMethods, Numeric } from "./expr.ts";

type Method = (...args: unknown[]) => unknown;

/** Go's time.Duration: nanoseconds, with Go's methods. */
export class GoDuration implements HasMethods, Numeric {
  constructor(readonly ns: number) {}

  numeric(): number {
    return this.ns;
  }

  withNumeric(n: number): GoDuration {
    return new GoDuration(n);
  }

  method(name: string): Method | undefined {
    const methods: Record<string, Method> = {
      Hours: () => this.ns / 3.6e12,
      Minutes: () => this.ns / 6e10,
      Seconds: () => this.ns / 1e9,
      Milliseconds: () => BigInt(Math.trunc(this.ns / 1e6)),
      Nanoseconds: () => BigInt(Math.trunc(this.ns)),
      String: () => this.toString(),
    };
    return methods[name];
  }

  /** Go's spelling: `1h2m3s`, `1m30s`, `500ms`. */
  toString(): string {
    if (this.ns === 0) return "0s";
    const sign = this.ns < 0 ? "-" : "";
    const abs = Math.abs(this.ns);
    if (abs < 1e9) return `${sign}${abs >= 1e6 ? `${abs / 1e6}ms` : abs >= 1e3 ? `${abs / 1e3}µs` : `${abs}ns`}`;
    const h = Math.floor(abs / 3.6e12);
    const m = Math.floor((abs % 3.6e12) / 6e10);
    const s = (abs % 6e10) / 1e9;
    return `${sign}${h > 0 ? `${h}h` : ""}${h > 0 || m > 0 ? `${m}m` : ""}${s}s`;
  }
}

/** Go's time.Time (UTC, millisecond precision), with the methods triggers use. */
export class GoTime implements HasMethods {
  constructor(readonly ms: number) {}

  method(name: string): Method | undefined {
    const methods: Record<string, Method> = {
      Add: (d) => new GoTime(this.ms + duration(d, "Add").ns / 1e6),
      Sub: (t) => new GoDuration((this.ms - time(t, "Sub").ms) * 1e6),
      Before: (t) => this.ms < time(t, "Before").ms,
      After: (t) => this.ms > time(t, "After").ms,
      Equal: (t) => this.ms === time(t, "Equal").ms,
      Unix: () => BigInt(Math.floor(this.ms / 1000)),
      UnixMilli: () => BigInt(this.ms),
      Format: (layout) => this.format(layout),
      String: () => this.toString(),
    };
    return methods[name];
  }

  /** RFC 3339 is the one layout written out; any other layout is refused with the ones there are. */
  private format(layout: unknown): string {
    if (layout === RFC3339 || layout === RFC3339_NANO) return this.toString();
    throw new Error(`Format: only time.RFC3339 and time.RFC3339Nano are supported here, not ${JSON.stringify(layout)}`);
  }

  toString(): string {
    return new Date(this.ms).toISOString().replace(/\.000Z$/, "Z");
  }
}

const RFC3339 = "2006-01-02T15:04:05Z07:00";
const RFC3339_NANO = "2006-01-02T15:04:05.999999999Z07:00";

function duration(v: unknown, fn: string): GoDuration {
  if (v instanceof GoDuration) return v;
  if (typeof v === "number") return new GoDuration(v);
  throw new Error(`${fn}: a time.Duration is needed, not ${typeof v}`);
}

function time(v: unknown, fn: string): GoTime {
  if (v instanceof GoTime) return v;
  throw new Error(`${fn}: a time.Time is needed, not ${v === null || v === undefined ? "<nil>" : typeof v}`);
}

/** time.Parse as Argo CD registers it: RFC 3339 only, an error for anything else (nil included). */
export function parseTime(v: unknown): GoTime {
  if (typeof v !== "string") throw new Error(`time.Parse: a string is needed, not ${v === null || v === undefined ? "<nil>" : typeof v}`);
  const ok = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/.test(v);
  const ms = ok ? Date.parse(v) : NaN;
  if (Number.isNaN(ms)) throw new Error(`parsing time ${JSON.stringify(v)} as ${JSON.stringify(RFC3339)}: not RFC 3339`);
  return new GoTime(ms);
}

/** The `time` namespace; `now` is injectable so trigger tests do not depend on the clock. */
export function timeHelpers(now: () => number = Date.now): Record<string, unknown> {
  return {
    Now: () => new GoTime(now()),
    Parse: parseTime,
    Nanosecond: new GoDuration(1), Microsecond: new GoDuration(1e3), Millisecond: new GoDuration(1e6),
    Second: new GoDuration(1e9), Minute: new GoDuration(6e10), Hour: new GoDuration(3.6e12),
    RFC3339, RFC3339Nano: RFC3339_NANO, Layout: "01/02 03:04:05PM '06 -0700", Kitchen: "3:04PM",
  };
}

interface GitUrl { readonly scheme: string; readonly host: string; readonly path: string }

/** A repository URL as git-urls reads it: `scheme://[user@]host/path` or scp-like `user@host:path`. */
function parseGitUrl(raw: unknown): GitUrl {
  if (typeof raw !== "string" || raw === "") throw new Error(`a repository URL is needed, not ${JSON.stringify(raw ?? null)}`);
  const scp = /^(?:[^@/]+@)?([^:/]+):(?!\/\/)(.*)$/.exec(raw);
  if (scp && !/^[a-z][a-z0-9+.-]*:\/\//i.test(raw)) return { scheme: "ssh", host: scp[1] ?? "", path: `/${(scp[2] ?? "").replace(/^\//, "")}` };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    throw new Error(`${JSON.stringify(raw)} is not a repository URL`);
  }
  return { scheme: url.protocol.replace(/:$/, ""), host: url.host, path: decodeURIComponent(url.pathname) };
}

/** `git@github.com:org/repo.git` → `https://github.com/org/repo.git` (credentials dropped). */
export function repoURLToHTTPS(raw: unknown): string {
  const u = parseGitUrl(raw);
  return `https://${u.host}${u.path}`;
}

/** `https://github.com/org/repo.git` → `org/repo`. */
export function fullNameByRepoURL(raw: unknown): string {
  const path = parseGitUrl(raw).path.replace(/\.git$/, "");
  const parts = path.split("/").filter((p) => p !== "");
  return parts.length >= 2 ? parts.slice(0, 2).join("/") : path;
}

/** Go's url.QueryEscape: spaces as `+`, everything but `A-Za-z0-9-_.~` escaped. */
export function queryEscape(v: unknown): string {
  return encodeURIComponent(asText(v)).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`).replace(/%20/g, "+");
}

export function repoHelpers(): Record<string, unknown> {
  return { RepoURLToHTTPS: repoURLToHTTPS, FullNameByRepoURL: fullNameByRepoURL, QueryEscape: queryEscape };
}

/** A value as text: strings as they are, nil as "", anything else as JSON. */
export function asText(v: unknown): string {
  if (typeof v === "string") return v;
  if (v === null || v === undefined) return "";
  return typeof v === "number" || typeof v === "boolean" || typeof v === "bigint" ? String(v) : JSON.stringify(v) ?? "";
}

export function stringHelpers(): Record<string, unknown> {
  const s = asText;
  return {
    ReplaceAll: (x: unknown, old: unknown, repl: unknown) => s(x).split(s(old)).join(s(repl)),
    ToUpper: (x: unknown) => s(x).toUpperCase(),
    ToLower: (x: unknown) => s(x).toLowerCase(),
  };
}

/** Everything a trigger's `when` and `oncePer` see besides the object itself. */
export function helperEnv(now?: () => number): Record<string, unknown> {
  return { time: timeHelpers(now), repo: repoHelpers(), strings: stringHelpers() };
}
