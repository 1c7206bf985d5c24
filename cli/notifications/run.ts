// What `tether notifications` does with what it read from the cluster: render a template for an app,
// list templates, and send one trigger's notifications now. The sending is the agent's own code
// (agent/notify), so what the CLI prints and sends is what the agent would.
import type { Application, AppProject } from "../../agent/api/types.ts";
import { errorMessage } from "../../agent/errors.ts";
import { destinationsFor, load, notificationVars, renderNotification, runTrigger, type Destination, type Notification } from "../../agent/notify/index.ts";

type Loaded = ReturnType<typeof load>;

export interface Context {
  readonly loaded: Loaded;
  readonly app: Application;
  readonly project?: AppProject | undefined;
  readonly url: string;
  readonly now: number;
}

/** Every template, the triggers that send it, and whether the ConfigMap or the catalog defines it. */
export function templateRows(loaded: Loaded, cmKeys: ReadonlySet<string>): Array<{ name: string; from: string; triggers: string[] }> {
  return [...loaded.config.templates.keys()].sort().map((name) => ({
    name, from: cmKeys.has(`template.${name}`) ? "tether-notifications-cm" : "catalog",
    triggers: [...loaded.config.triggers].filter(([, cs]) => cs.some((c) => c.send.includes(name))).map(([t]) => t).sort(),
  }));
}

/** A template rendered for an app, as a service of `service`'s name would get it. */
export function renderFor(ctx: Context, template: string, service: string): Notification {
  return renderNotification(ctx.loaded.config, [template], notificationVars({ app: ctx.app, project: ctx.project, config: ctx.loaded.config, url: ctx.url, now: ctx.now }, service));
}

export interface TestResult {
  readonly trigger: string;
  readonly destination: Destination;
  readonly templates: readonly string[];
  /** Whether a condition sending these templates holds now (the agent would send them now). */
  readonly holds: boolean;
  readonly sent: boolean;
  readonly error?: string;
}

/** `service:recipient` (the recipient may be empty or hold colons). */
export function parseRecipient(text: string): Destination {
  const i = text.indexOf(":");
  return i < 0 ? { service: text, recipient: "" } : { service: text.slice(0, i), recipient: text.slice(i + 1) };
}

/**
 * Sends the templates of every condition of `trigger` to the app's subscribers of it (or to
 * `recipients`), whether the condition holds or not, without touching the notified state.
 */
export async function testTrigger(ctx: Context, trigger: string, recipients: readonly Destination[]): Promise<{ results: TestResult[]; problems: string[] }> {
  const problems: string[] = [];
  const vars = notificationVars({ app: ctx.app, project: ctx.project, config: ctx.loaded.config, url: ctx.url, now: ctx.now });
  const outcomes = runTrigger(trigger, ctx.loaded.config, vars, problems);
  const destinations = recipients.length > 0 ? recipients : destinationsFor(ctx.app, ctx.project, ctx.loaded.config, problems).get(trigger) ?? [];
  const results: TestResult[] = [];
  for (const outcome of outcomes) {
    for (const destination of destinations) {
      const base = { trigger, destination, templates: outcome.templates, holds: outcome.triggered };
      const send = ctx.loaded.senders.get(destination.service);
      if (send === undefined) {
        results.push({ ...base, sent: false, error: `no service "${destination.service}" in tether-notifications-cm (or its options are wrong)` });
        continue;
      }
      try {
        const n = renderNotification(ctx.loaded.config, outcome.templates, notificationVars(
          { app: ctx.app, project: ctx.project, config: ctx.loaded.config, url: ctx.url, now: ctx.now }, destination.service));
        await send(n, destination, AbortSignal.timeout(30_000));
        results.push({ ...base, sent: true });
      } catch (err) {
        results.push({ ...base, sent: false, error: errorMessage(err) });
      }
    }
  }
  return { results, problems };
}
