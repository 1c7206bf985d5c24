// A notification from its templates: every field of every template named, rendered over the variables
// for one destination, merged in order into one value the services read (`message`, `email.subject`,
// `webhook.<service>.body`, `github.status.state`, ...). Pure.
import type { NotifyConfig } from "./config.ts";

/** What the services read; nested as the templates write it. */
export interface Notification {
  readonly message: string;
  readonly [block: string]: unknown;
}

function setPath(into: Record<string, unknown>, path: string, value: unknown): void {
  const parts = path.split(".");
  let node = into;
  for (const p of parts.slice(0, -1)) {
    const next = node[p];
    if (next === null || typeof next !== "object") node[p] = {};
    node = node[p] as Record<string, unknown>;
  }
  node[parts[parts.length - 1] ?? ""] = value;
}

/** Renders `templates` in order; throws (naming the template and field) when one is missing or fails. */
export function renderNotification(config: NotifyConfig, templates: readonly string[], vars: Record<string, unknown>): Notification {
  const out: Record<string, unknown> = { message: "" };
  for (const name of templates) {
    const t = config.templates.get(name);
    if (t === undefined) throw new Error(`template "${name}" is not defined: add template.${name} to tether-notifications-cm`);
    for (const [path, value] of Object.entries(t.raw)) setPath(out, path, value);
    for (const [path, compiled] of t.fields) {
      const text = compiled.execute(vars);
      // Argo CD: an email subject or body that renders empty leaves the one before in place.
      if (text === "" && path.startsWith("email.")) continue;
      setPath(out, path, text);
    }
  }
  return out as unknown as Notification;
}

/** A field of a rendered notification as a string ("" when absent). */
export function field(n: Notification, path: string): string {
  let node: unknown = n;
  for (const p of path.split(".")) node = node !== null && typeof node === "object" ? (node as Record<string, unknown>)[p] : undefined;
  return typeof node === "string" ? node : "";
}

/** A block of a rendered notification (`webhook.ci`, `github.status`), or undefined. */
export function block(n: Notification, path: string): Record<string, unknown> | undefined {
  let node: unknown = n;
  for (const p of path.split(".")) node = node !== null && typeof node === "object" ? (node as Record<string, unknown>)[p] : undefined;
  return node !== null && typeof node === "object" && !Array.isArray(node) ? node as Record<string, unknown> : undefined;
}
