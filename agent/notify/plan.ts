// The pure decision: given an object, its project, the configuration and what was already sent, which
// notifications go out now and what the state becomes. Argo CD Notifications' rules: each condition of
// each subscribed trigger is evaluated; one that holds is sent once per destination (and per oncePer
// value); one that stops holding is forgotten unless it has a oncePer value.
import { createHash } from "node:crypto";
import { formatValue } from "../template/index.ts";
import type { NotifyConfig } from "./config.ts";
import { helperEnv } from "./helpers.ts";
import { stateKey, type ConditionOutcome, type NotifiedState } from "./state.ts";
import { destinationsFor, type Destination } from "./subscriptions.ts";

export interface NotifyObject {
  readonly metadata?: {
    readonly name?: string;
    readonly annotations?: Readonly<Record<string, string>>;
    readonly labels?: Readonly<Record<string, string>>;
  };
}

/** One notification to send. */
export interface Delivery {
  readonly trigger: string;
  readonly destination: Destination;
  readonly templates: readonly string[];
  /** Its key in the notified state: removed again if every attempt fails. */
  readonly stateKey: string;
}

export interface Plan {
  readonly deliveries: readonly Delivery[];
  readonly state: Readonly<Record<string, number>>;
  /** Whether `state` differs from the input's (the annotation must be written). */
  readonly changed: boolean;
  /** Conditions that could not be evaluated, unknown triggers: logged, never thrown. */
  readonly problems: readonly string[];
}

export interface PlanInput {
  readonly app: NotifyObject;
  readonly project?: NotifyObject | undefined;
  readonly config: NotifyConfig;
  readonly state: NotifiedState;
  /** What `.context.argocdUrl` is: Tether's URL (tether-cm `url`). */
  readonly url: string;
  /** Unix seconds, the value written for a key; and the clock `time.Now()` reads. */
  readonly now: number;
}

/** What triggers and templates see: `app`, `appProject`, `context`, `serviceType`, and the helpers. */
export function notificationVars(input: Pick<PlanInput, "app" | "project" | "config" | "url" | "now">, service = ""): Record<string, unknown> {
  return {
    app: input.app,
    appProject: input.project ?? {},
    context: { argocdUrl: input.url, ...input.config.context, notificationType: service },
    serviceType: service,
    notificationType: service,
    ...helperEnv(() => input.now * 1000),
  };
}

/** Argo CD's condition key: its index and a hash of its `when`. */
export function conditionKey(index: number, when: string): string {
  return `[${index}].${createHash("sha1").update(when).digest("base64url")}`;
}

/** Go's `%v` of an expr value, the way the oncePer part of a key is written. */
function goValue(v: unknown): string {
  return v === null || v === undefined ? "<nil>" : formatValue(v);
}

/** Runs one trigger's conditions; a condition that fails to evaluate does not hold, and is reported. */
export function runTrigger(trigger: string, config: NotifyConfig, vars: Record<string, unknown>, problems: string[]):
  Array<ConditionOutcome & { readonly templates: readonly string[] }> {
  const conditions = config.triggers.get(trigger);
  if (conditions === undefined) {
    problems.push(`trigger "${trigger}" is not configured: add trigger.${trigger} to tether-notifications-cm or fix the subscription`);
    return [];
  }
  return conditions.map((c, i) => {
    const key = conditionKey(i, c.when.text);
    let triggered = false;
    try {
      triggered = c.when.run(vars) === true;
    } catch (err) {
      problems.push(`trigger ${trigger} condition [${i}]: ${err instanceof Error ? err.message : String(err)}`);
    }
    let oncePer = "";
    if (triggered && c.oncePer) {
      try {
        oncePer = goValue(c.oncePer.run(vars));
      } catch (err) {
        problems.push(`trigger ${trigger} condition [${i}] oncePer: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
    return { key, oncePer, triggered, templates: c.send };
  });
}

export function planNotifications(input: PlanInput): Plan {
  const problems: string[] = [];
  const state: Record<string, number> = { ...input.state };
  const deliveries: Delivery[] = [];
  let changed = false;
  const vars = notificationVars(input);
  for (const [trigger, destinations] of destinationsFor(input.app, input.project, input.config, problems)) {
    for (const outcome of runTrigger(trigger, input.config, vars, problems)) {
      for (const destination of destinations) {
        const key = stateKey(trigger, outcome, destination);
        if (!outcome.triggered) {
          if (outcome.oncePer === "" && key in state) {
            delete state[key];
            changed = true;
          }
          continue;
        }
        if (key in state) continue;
        state[key] = input.now;
        changed = true;
        deliveries.push({ trigger, destination, templates: outcome.templates, stateKey: key });
      }
    }
  }
  return { deliveries, state, changed, problems };
}
