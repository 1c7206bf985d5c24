// ConfigMap `tether-notifications-cm` (Argo CD Notifications' `argocd-notifications-cm` keys) and
// Secret `tether-notifications-secret` (`$name` references in services) in, a typed configuration out.
// Pure. A key that cannot be read is reported with the fix and left out; every other key still applies.
import YAML from "yaml";
import { compileTemplate, type CompiledTemplate, type TemplateFunc } from "../template/index.ts";
import { CATALOG_TEMPLATES, CATALOG_TRIGGERS } from "./catalog.ts";
import { compileExpr, type CompiledExpr } from "./expr.ts";
import { parseSelector, type Selector } from "./selector.ts";

export const NOTIFICATIONS_CONFIGMAP = "tether-notifications-cm";
export const NOTIFICATIONS_SECRET = "tether-notifications-secret";

/** One condition of a trigger, compiled. */
export interface TriggerCondition {
  readonly when: CompiledExpr;
  readonly oncePer?: CompiledExpr;
  readonly send: readonly string[];
  readonly description?: string;
}

/** A template's fields, each compiled: `message`, and per service type its own block. */
export interface NotificationTemplate {
  readonly name: string;
  /** Dotted field paths (`message`, `email.subject`, `webhook.receiver.body`) and their compiled texts. */
  readonly fields: ReadonlyMap<string, CompiledTemplate>;
  /** Fields kept as written (`slack.deliveryPolicy`, `github.deployment.requiredContexts`). */
  readonly raw: Readonly<Record<string, unknown>>;
}

export interface ServiceConfig {
  /** The name subscriptions use: `<name>` of `service.<type>.<name>`, or the type. */
  readonly name: string;
  readonly type: string;
  /** The options with `$secret` references replaced: never logged, never written anywhere. */
  readonly options: Readonly<Record<string, unknown>>;
}

export interface DefaultSubscription {
  readonly recipients: readonly string[];
  readonly triggers: readonly string[];
  readonly selector: Selector;
}

export interface NotifyConfig {
  readonly services: ReadonlyMap<string, ServiceConfig>;
  readonly templates: ReadonlyMap<string, NotificationTemplate>;
  readonly triggers: ReadonlyMap<string, readonly TriggerCondition[]>;
  readonly defaultTriggers: readonly string[];
  readonly serviceDefaultTriggers: ReadonlyMap<string, readonly string[]>;
  readonly subscriptions: readonly DefaultSubscription[];
  /** `context`: values templates read as `.context.<key>` (argocdUrl is Tether's URL unless set here). */
  readonly context: Readonly<Record<string, string>>;
}

export interface ConfigProblem {
  readonly key: string;
  readonly message: string;
}

/** Service types Tether can send to. */
export const SERVICE_TYPES = ["webhook", "slack", "github", "email", "mattermost"] as const;

/** `call`, as Argo CD's templates use it for the helpers: `{{ call .repo.RepoURLToHTTPS .app.spec.source.repoURL }}`. */
const TEMPLATE_FUNCS: ReadonlyMap<string, TemplateFunc> = new Map([
  ["call", {
    arity: [1, Infinity] as [number, number],
    call: ([f, ...args]: readonly unknown[]) => {
      if (typeof f !== "function") throw new Error(`non-function of type ${f === null || f === undefined ? "<nil>" : typeof f}`);
      return (f as (...a: unknown[]) => unknown)(...args);
    },
  }],
]);

/**
 * Reads the ConfigMap's data and the Secret's (decoded) data. The catalog's triggers and templates come
 * first; a key of the same name replaces one.
 */
export function parseNotifyConfig(
  data: Readonly<Record<string, string>> | undefined,
  secret: Readonly<Record<string, string>> | undefined,
): { config: NotifyConfig; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const all: Record<string, string> = {};
  for (const [k, v] of Object.entries(CATALOG_TRIGGERS)) all[`trigger.${k}`] = v;
  for (const [k, v] of Object.entries(CATALOG_TEMPLATES)) all[`template.${k}`] = v;
  Object.assign(all, data ?? {});
  const services = new Map<string, ServiceConfig>();
  const templates = new Map<string, NotificationTemplate>();
  const triggers = new Map<string, TriggerCondition[]>();
  const serviceDefaultTriggers = new Map<string, string[]>();
  const report = (key: string) => (message: string) => { problems.push({ key, message }); };
  for (const [key, value] of Object.entries(all)) {
    const fail = report(key);
    try {
      if (key.startsWith("template.")) templates.set(key.slice(9), parseTemplateKey(key.slice(9), value));
      else if (key.startsWith("trigger.")) triggers.set(key.slice(8), parseTrigger(value));
      else if (key.startsWith("service.")) {
        const s = parseService(key, value, secret ?? {}, fail);
        services.set(s.name, s);
      } else if (key.startsWith("defaultTriggers.")) serviceDefaultTriggers.set(key.slice(16), stringList(value, key));
    } catch (err) {
      fail(err instanceof Error ? err.message : String(err));
    }
  }
  const defaultTriggers = readOr(all.defaultTriggers, [], (v) => stringList(v, "defaultTriggers"), report("defaultTriggers"));
  const subscriptions = readOr(all.subscriptions, [], parseSubscriptions, report("subscriptions"));
  const context = readOr(all.context, {}, parseContext, report("context"));
  for (const [name, conditions] of triggers) {
    for (const c of conditions) {
      for (const t of c.send) if (!templates.has(t)) problems.push({ key: `trigger.${name}`, message: `sends template "${t}", which no template.${t} key defines` });
    }
  }
  return { config: { services, templates, triggers, defaultTriggers, serviceDefaultTriggers, subscriptions, context }, problems };
}

function readOr<T>(text: string | undefined, fallback: T, parse: (text: string) => T, fail: (m: string) => void): T {
  if (text === undefined) return fallback;
  try {
    return parse(text);
  } catch (err) {
    fail(err instanceof Error ? err.message : String(err));
    return fallback;
  }
}

function yaml(text: string, what: string): unknown {
  try {
    return YAML.parse(text) as unknown;
  } catch (err) {
    throw new Error(`${what} is not YAML: ${err instanceof Error ? err.message.split("\n")[0] : String(err)}`);
  }
}

function stringList(text: string, key: string): string[] {
  const v = yaml(text, key);
  if (!Array.isArray(v) || !v.every((x) => typeof x === "string")) throw new Error(`expected a YAML list of trigger names, e.g. [on-sync-succeeded]`);
  return v;
}

function parseContext(text: string): Record<string, string> {
  const v = yaml(text, "context");
  if (v === null || typeof v !== "object" || Array.isArray(v)) throw new Error("expected a YAML map of names to strings, e.g. {environmentName: prod}");
  return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, String(x)]));
}

function parseTrigger(text: string): TriggerCondition[] {
  const v = yaml(text, "the trigger");
  if (!Array.isArray(v)) throw new Error("expected a YAML list of conditions, e.g. - when: app.status.health.status == 'Degraded'\\n  send: [my-template]");
  return v.map((c: unknown, i) => {
    if (c === null || typeof c !== "object") throw new Error(`condition [${i}] is not a map`);
    const { when, oncePer, send, description } = c as Record<string, unknown>;
    const sends = send ?? [];
    if (!Array.isArray(sends) || !sends.every((s) => typeof s === "string")) throw new Error(`condition [${i}]: send must be a list of template names`);
    const compile = (field: string, x: unknown) => {
      try {
        return compileExpr(String(x));
      } catch (err) {
        throw new Error(`condition [${i}] ${field}: ${err instanceof Error ? err.message : String(err)}`);
      }
    };
    // Argo CD: an empty `when` is `false`.
    return {
      when: compile("when", when === undefined || when === null || when === "" ? "false" : when),
      ...(oncePer === undefined || oncePer === null || oncePer === "" ? {} : { oncePer: compile("oncePer", oncePer) }),
      send: sends,
      ...(typeof description === "string" ? { description } : {}),
    };
  });
}

/** Fields of a template block that are not templates (kept as written). */
const RAW_FIELDS = new Set([
  "slack.deliveryPolicy", "slack.groupingKey", "slack.notifyBroadcast", "github.deployment.requiredContexts",
  "github.deployment.autoMerge", "github.deployment.transientEnvironment",
]);

const GITHUB_DEFAULTS = {
  "github.repoURLPath": "{{.app.spec.source.repoURL}}",
  "github.revisionPath": "{{.app.status.operationState.syncResult.revision}}",
};

function parseTemplateKey(name: string, text: string): NotificationTemplate {
  const v = yaml(text, "the template");
  if (v === null || typeof v !== "object" || Array.isArray(v)) throw new Error("expected a YAML map, e.g. message: Application {{.app.metadata.name}} is synced");
  const fields = new Map<string, CompiledTemplate>();
  const raw: Record<string, unknown> = {};
  const walk = (prefix: string, node: Record<string, unknown>) => {
    for (const [k, x] of Object.entries(node)) {
      const path = prefix === "" ? k : `${prefix}.${k}`;
      if (RAW_FIELDS.has(path)) raw[path] = x;
      else if (x !== null && typeof x === "object" && !Array.isArray(x)) walk(path, x as Record<string, unknown>);
      else if (typeof x === "string") fields.set(path, compileTemplate(x, { name: `${name}.${path}`, funcs: TEMPLATE_FUNCS }));
      else raw[path] = x;
    }
  };
  walk("", v as Record<string, unknown>);
  // Argo CD: the repository and commit a github block is about, unless the template says otherwise.
  if ([...fields.keys(), ...Object.keys(raw)].some((f) => f.startsWith("github."))) {
    for (const [path, text] of Object.entries(GITHUB_DEFAULTS)) {
      if (!fields.has(path)) fields.set(path, compileTemplate(text, { name: `${name}.${path}`, funcs: TEMPLATE_FUNCS }));
    }
  }
  return { name, fields, raw };
}

const SECRET_REF = /[$][\w-]+/g;

/** `service.<type>[.<name>]`: the options, with every `$key` in a string replaced by the Secret's value. */
function parseService(key: string, text: string, secret: Readonly<Record<string, string>>, warn: (m: string) => void): ServiceConfig {
  const parts = key.split(".");
  if (parts.length !== 2 && parts.length !== 3) throw new Error("expected service.<type> or service.<type>.<name>, e.g. service.webhook.ci");
  const type = parts[1] ?? "";
  const name = parts[2] ?? type;
  if (!(SERVICE_TYPES as readonly string[]).includes(type)) throw new Error(`service type "${type}" is not one of ${SERVICE_TYPES.join(", ")}`);
  const v = yaml(text, "the service");
  if (v === null || typeof v !== "object" || Array.isArray(v)) throw new Error("expected a YAML map of options, e.g. url: https://example.com/hook");
  const replace = (x: unknown): unknown => {
    if (typeof x === "string") {
      return x.replace(SECRET_REF, (ref) => {
        const value = secret[ref.slice(1)];
        if (value !== undefined) return value;
        warn(`refers to ${ref}, but Secret ${NOTIFICATIONS_SECRET} has no key ${ref.slice(1)}; add it or fix the name`);
        return ref;
      });
    }
    if (Array.isArray(x)) return x.map(replace);
    if (x !== null && typeof x === "object") return Object.fromEntries(Object.entries(x).map(([k, y]) => [k, replace(y)]));
    return x;
  };
  return { name, type, options: replace(v) as Record<string, unknown> };
}

function parseSubscriptions(text: string): DefaultSubscription[] {
  const v = yaml(text, "subscriptions");
  if (!Array.isArray(v)) throw new Error("expected a YAML list, e.g. - recipients: [slack:alerts]\\n  triggers: [on-sync-failed]");
  return v.map((s: unknown, i) => {
    const { recipients, triggers, selector } = (s ?? {}) as Record<string, unknown>;
    const list = (x: unknown, field: string): string[] => {
      if (x === undefined || x === null) return [];
      if (Array.isArray(x) && x.every((y) => typeof y === "string")) return x;
      throw new Error(`[${i}].${field} must be a list of strings`);
    };
    let parsed: Selector;
    try {
      parsed = parseSelector(typeof selector === "string" ? selector : "");
    } catch (err) {
      throw new Error(`[${i}].selector: ${err instanceof Error ? err.message : String(err)}`);
    }
    return { recipients: list(recipients, "recipients"), triggers: list(triggers, "triggers"), selector: parsed };
  });
}
