// Who hears about which trigger: the subscription annotations on an Application and on its AppProject
// (`notifications.argoproj.io/subscribe.<trigger>.<service>: recipient1;recipient2`, or the YAML list
// `notifications.argoproj.io/subscriptions`), and the ConfigMap's `subscriptions` for apps whose labels
// match. Pure; the rules are Argo CD Notifications'.
import YAML from "yaml";
import type { NotifyConfig } from "./config.ts";
import { asText } from "./helpers.ts";
import { selects } from "./selector.ts";

export const ANNOTATION_PREFIX = "notifications.argoproj.io";
export { NOTIFIED_ANNOTATION } from "../api/types.ts";

export interface Destination {
  readonly service: string;
  /** A channel, an address, a repository; "" for services that need none (webhook, github). */
  readonly recipient: string;
}

/** Trigger name → its destinations, without duplicates. */
export type Destinations = Map<string, Destination[]>;

function add(into: Destinations, trigger: string, dest: Destination): void {
  const list = into.get(trigger) ?? [];
  if (!list.some((d) => d.service === dest.service && d.recipient === dest.recipient)) list.push(dest);
  into.set(trigger, list);
}

function recipientsOf(value: string): string[] {
  if (value === "") return [""];
  return value.split(";").map((r) => r.trim()).filter((r) => r !== "");
}

type Defaults = Pick<NotifyConfig, "defaultTriggers" | "serviceDefaultTriggers">;

/** The triggers a subscription without one means: the service's `defaultTriggers.<service>`, else `defaultTriggers`. */
function triggersFor(trigger: string, service: string, cfg: Defaults): readonly string[] {
  if (trigger !== "") return [trigger];
  return cfg.serviceDefaultTriggers.get(service) ?? cfg.defaultTriggers;
}

/** The destinations one object's annotations subscribe; `problems` gets what could not be read. */
export function annotationDestinations(
  annotations: Readonly<Record<string, string>> | undefined, cfg: Defaults, problems: string[] = [],
): Destinations {
  const out: Destinations = new Map();
  const subscribe = `${ANNOTATION_PREFIX}/subscribe.`;
  for (const [key, value] of Object.entries(annotations ?? {})) {
    if (key.startsWith(subscribe)) {
      const parts = key.slice(subscribe.length).split(".");
      const [trigger, service] = parts.length >= 2 ? [parts[0] ?? "", parts[1] ?? ""] : ["", parts[0] ?? ""];
      for (const t of triggersFor(trigger, service, cfg)) for (const r of recipientsOf(value)) add(out, t, { service, recipient: r });
    } else if (key === `${ANNOTATION_PREFIX}/subscriptions`) {
      readSubscriptionList(value, cfg, out, problems);
    }
  }
  return out;
}

function readSubscriptionList(value: string, cfg: Defaults, out: Destinations, problems: string[]): void {
  let list: unknown;
  try {
    list = YAML.parse(value);
  } catch (err) {
    problems.push(`annotation ${ANNOTATION_PREFIX}/subscriptions is not YAML: ${err instanceof Error ? err.message.split("\n")[0] : String(err)}`);
    return;
  }
  if (!Array.isArray(list)) {
    problems.push(`annotation ${ANNOTATION_PREFIX}/subscriptions must be a list of {trigger: [...], destinations: [{service, recipients}]}`);
    return;
  }
  for (const item of list as unknown[]) {
    const { trigger, destinations } = (item ?? {}) as { trigger?: unknown; destinations?: unknown };
    const triggers = Array.isArray(trigger) ? trigger.map(asText) : [""];
    for (const d of Array.isArray(destinations) ? destinations as Array<Record<string, unknown>> : []) {
      const service = asText(d.service);
      const recipients = Array.isArray(d.recipients) ? d.recipients.map(asText) : [""];
      for (const t0 of triggers) for (const t of triggersFor(t0, service, cfg)) for (const r of recipients) add(out, t, { service, recipient: r });
    }
  }
}

/** The ConfigMap's `subscriptions` that select an object with these labels. */
export function globalDestinations(labels: Readonly<Record<string, string>> | undefined, cfg: NotifyConfig): Destinations {
  const out: Destinations = new Map();
  for (const s of cfg.subscriptions) {
    if (!selects(s.selector, labels)) continue;
    const triggers = s.triggers.length > 0 ? s.triggers : cfg.defaultTriggers;
    for (const t of triggers) {
      for (const r of s.recipients) {
        const i = r.indexOf(":");
        add(out, t, i < 0 ? { service: r, recipient: "" } : { service: r.slice(0, i), recipient: r.slice(i + 1) });
      }
    }
  }
  return out;
}

interface Annotated {
  readonly metadata?: { readonly annotations?: Readonly<Record<string, string>>; readonly labels?: Readonly<Record<string, string>> };
}

/** Everything an Application's notifications go to: the ConfigMap's subscriptions, its own and its project's annotations. */
export function destinationsFor(app: Annotated, project: Annotated | undefined, cfg: NotifyConfig, problems: string[] = []): Destinations {
  const out = globalDestinations(app.metadata?.labels, cfg);
  for (const source of [app, project]) {
    for (const [t, dests] of annotationDestinations(source?.metadata?.annotations, cfg, problems)) for (const d of dests) add(out, t, d);
  }
  return out;
}
