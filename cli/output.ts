import { stringify } from "yaml";
import { parseDuration as parseGoDuration } from "../agent/duration.ts";
import { UsageError } from "./errors.ts";

export type Format = "table" | "wide" | "json" | "yaml" | "name";

export function parseFormat(value: string | undefined, allowed: readonly Format[] = ["table", "wide", "json", "yaml", "name"]): Format {
  const format = (value ?? "table") as Format;
  if (!allowed.includes(format)) throw new UsageError(`-o ${value}: expected one of ${allowed.join(", ")}`);
  return format;
}

/** JSON or YAML of any value, as scripts read it. */
export function serialize(value: unknown, format: "json" | "yaml"): string {
  return format === "json" ? `${JSON.stringify(value, null, 2)}\n` : stringify(value);
}

/** A plain aligned table, as kubectl prints one. */
export function table(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]! + 3))).join("").trimEnd();
  return [line(header), ...rows.map(line)].join("\n") + "\n";
}

export function age(iso: string | Date | undefined): string {
  if (!iso) return "";
  const s = Math.max(0, Math.floor((Date.now() - new Date(iso).getTime()) / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172_800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}

/** Durations as the flags take them: the agent's (`90s`, `2m`, `1m30s`, `1h`), or plain seconds. */
export function parseDuration(value: string, flag: string): number {
  const text = value.trim();
  if (/^\d+(?:\.\d+)?$/.test(text)) return Number(text) * 1000;
  try {
    return parseGoDuration(text);
  } catch {
    throw new UsageError(`${flag} ${value}: expected a duration such as 30s, 2m or 1h`);
  }
}
