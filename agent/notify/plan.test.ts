import { describe, expect, it } from "vitest";
import { parseNotifyConfig } from "./config.ts";
import { planNotifications, type NotifyObject } from "./plan.ts";
import { renderNotification, field } from "./render.ts";
import { readState, writeState } from "./state.ts";
import { annotationDestinations, destinationsFor } from "./subscriptions.ts";
import { notificationVars } from "./plan.ts";

const NOW = Date.parse("2026-12-06T12:00:00Z") / 1000;
const { config, problems } = parseNotifyConfig({
  "service.webhook.ci": "url: http://127.0.0.1:1/hook\nheaders:\n- name: Authorization\n  value: Bearer $ci-token\n",
  "defaultTriggers": "[on-sync-failed]",
  "defaultTriggers.mail": "[on-health-degraded]",
  "subscriptions": "- recipients: [ci]\n  triggers: [on-deployed]\n  selector: team=payments\n",
  "trigger.on-two": "- when: app.status.health.status == 'Degraded'\n  send: [app-health-degraded]\n"
    + "- when: app.status.sync.status == 'OutOfSync'\n  send: [app-sync-status-unknown]\n",
}, { "ci-token": "s3cret" });

type Phase = "Running" | "Succeeded" | "Failed";
function app(o: { phase?: Phase; revision?: string; health?: string; sync?: string; annotations?: Record<string, string>; labels?: Record<string, string> }): NotifyObject {
  return {
    metadata: { name: "guestbook", annotations: o.annotations ?? {}, labels: o.labels ?? {} },
    spec: { source: { repoURL: "https://github.com/org/repo.git" } },
    status: {
      sync: { status: o.sync ?? "Synced", revision: o.revision },
      health: { status: o.health ?? "Healthy", message: "Deployment/web: 0 of 1 replicas available" },
      ...(o.phase ? { operationState: { phase: o.phase, message: "boom", finishedAt: "2026-12-06T11:59:00Z", syncResult: { revision: o.revision } } } : {}),
    },
  } as NotifyObject;
}

const subscribed = (trigger: string, service = "ci", recipient = "") => ({ [`notifications.argoproj.io/subscribe.${trigger}.${service}`]: recipient });

describe("the configuration", () => {
  it("reads every key without a problem, the catalog included", () => {
    expect(problems).toEqual([]);
    expect([...config.triggers.keys()]).toEqual(expect.arrayContaining(["on-created", "on-deleted", "on-deployed", "on-health-degraded",
      "on-sync-failed", "on-sync-running", "on-sync-status-unknown", "on-sync-succeeded", "on-two"]));
  });

  it("replaces $references with the Secret's values", () => {
    expect(config.services.get("ci")).toEqual({ name: "ci", type: "webhook", options: { url: "http://127.0.0.1:1/hook", headers: [{ name: "Authorization", value: "Bearer s3cret" }] } });
  });

  it.each<[Record<string, string>, RegExp]>([
    [{ "service.pagerduty": "token: x" }, /service type "pagerduty" is not one of webhook, slack, github, email, mattermost/],
    [{ "service.webhook.a.b": "url: x" }, /expected service.<type> or service.<type>.<name>/],
    [{ "service.webhook": "url: $missing" }, /refers to \$missing, but Secret tether-notifications-secret has no key missing/],
    [{ "trigger.bad": "- when: app.status ==\n  send: [app-created]" }, /condition \[0\] when: unexpected end of expression/],
    [{ "trigger.nosuch": "- when: 'true'\n  send: [nope]" }, /sends template "nope", which no template.nope key defines/],
    [{ "template.bad": "message: '{{ .app.metadata.name'" }, /unclosed action|unexpected/],
    [{ "subscriptions": "- recipients: [x]\n  selector: 'a b c'" }, /\[0\].selector: cannot read "a b c"/],
    [{ "defaultTriggers": "on-sync-failed" }, /expected a YAML list of trigger names/],
  ])("reports %j with the key and the fix", (data, message) => {
    const parsed = parseNotifyConfig(data, {});
    expect(parsed.problems.map((p) => `${p.key}: ${p.message}`).join("\n")).toMatch(message);
  });

  it("never puts a secret's value in a problem", () => {
    const parsed = parseNotifyConfig({ "service.webhook": "url: $token\nheaders: [$nope]", "trigger.x": "nope: [" }, { token: "hunter2" });
    expect(JSON.stringify(parsed.problems)).not.toContain("hunter2");
  });
});

describe("subscriptions", () => {
  it.each<[Record<string, string>, Record<string, Array<{ service: string; recipient: string }>>]>([
    [subscribed("on-sync-succeeded", "slack", "ops; dev"), { "on-sync-succeeded": [{ service: "slack", recipient: "ops" }, { service: "slack", recipient: "dev" }] }],
    [subscribed("on-deployed", "github"), { "on-deployed": [{ service: "github", recipient: "" }] }],
    [{ "notifications.argoproj.io/subscribe.slack": "ops" }, { "on-sync-failed": [{ service: "slack", recipient: "ops" }] }],
    [{ "notifications.argoproj.io/subscribe.mail": "a@example.com" }, { "on-health-degraded": [{ service: "mail", recipient: "a@example.com" }] }],
    [{ "notifications.argoproj.io/subscriptions": "- trigger: [on-created, on-deleted]\n  destinations:\n  - service: ci\n    recipients: [x]\n" },
      { "on-created": [{ service: "ci", recipient: "x" }], "on-deleted": [{ service: "ci", recipient: "x" }] }],
    [{ "example.com/other": "x" }, {}],
  ])("%j subscribes %j", (annotations, want) => {
    expect(Object.fromEntries(annotationDestinations(annotations, config))).toEqual(want);
  });

  it("merges the project's annotations and the ConfigMap's subscriptions that select the app", () => {
    const project = { metadata: { annotations: subscribed("on-sync-failed", "slack", "team") } };
    const got = destinationsFor(app({ labels: { team: "payments" }, annotations: subscribed("on-sync-failed") }), project, config);
    expect(Object.fromEntries(got)).toEqual({
      "on-deployed": [{ service: "ci", recipient: "" }],
      "on-sync-failed": [{ service: "ci", recipient: "" }, { service: "slack", recipient: "team" }],
    });
    expect(Object.fromEntries(destinationsFor(app({ labels: { team: "web" } }), undefined, config))).toEqual({});
  });
});

describe("planning", () => {
  const plan = (a: NotifyObject, state: Record<string, number> = {}) => planNotifications({ app: a, config, state, url: "https://tether.example.com", now: NOW });

  it.each<[string, Parameters<typeof app>[0], string[]]>([
    ["a succeeded sync", { phase: "Succeeded", revision: "r1", annotations: subscribed("on-sync-succeeded") }, ["on-sync-succeeded"]],
    ["a running sync to on-sync-succeeded", { phase: "Running", revision: "r1", annotations: subscribed("on-sync-succeeded") }, []],
    ["a failed sync", { phase: "Failed", revision: "r1", annotations: subscribed("on-sync-failed") }, ["on-sync-failed"]],
    ["a degraded app", { health: "Degraded", annotations: subscribed("on-health-degraded") }, ["on-health-degraded"]],
    ["a degraded app to on-deployed", { phase: "Succeeded", health: "Degraded", annotations: subscribed("on-deployed") }, []],
    ["a deployed app", { phase: "Succeeded", revision: "r1", annotations: subscribed("on-deployed") }, ["on-deployed"]],
    ["an app without operation to on-sync-succeeded", { annotations: subscribed("on-sync-succeeded") }, []],
    ["an unsubscribed app", { phase: "Succeeded", revision: "r1" }, []],
    ["a new app", { annotations: subscribed("on-created") }, ["on-created"]],
  ])("%s sends %j", (_, o, triggers) => {
    expect(plan(app(o)).deliveries.map((d) => d.trigger)).toEqual(triggers);
  });

  it("sends once per revision: not again for the same one, again for the next", () => {
    const a = app({ phase: "Succeeded", revision: "r1", annotations: subscribed("on-sync-succeeded") });
    const first = plan(a);
    expect(first.deliveries).toHaveLength(1);
    expect(Object.keys(first.state)[0]).toMatch(/^r1:on-sync-succeeded:\[0\]\.[\w-]+:ci:$/);
    // The state survives a restart in the annotation.
    const restored = readState(writeState(first.state));
    const again = plan(a, restored);
    expect([again.deliveries.length, again.changed]).toEqual([0, false]);
    // In between, the next sync runs: nothing to send, and r1's key stays.
    const running = plan(app({ phase: "Running", revision: "r2", annotations: subscribed("on-sync-succeeded") }), restored);
    expect([running.deliveries.length, running.changed]).toEqual([0, false]);
    expect(plan(app({ phase: "Succeeded", revision: "r2", annotations: subscribed("on-sync-succeeded") }), restored).deliveries).toHaveLength(1);
  });

  it("forgets a condition without oncePer when it stops holding, so the next time it holds is sent", () => {
    const degraded = app({ health: "Degraded", annotations: subscribed("on-two") });
    const first = plan(degraded);
    expect(first.deliveries.map((d) => d.templates)).toEqual([["app-health-degraded"]]);
    const healthy = plan(app({ health: "Healthy", annotations: subscribed("on-two") }), first.state);
    expect([healthy.changed, Object.keys(healthy.state)]).toEqual([true, []]);
    expect(plan(degraded, healthy.state).deliveries).toHaveLength(1);
  });

  it("evaluates each condition of a trigger on its own", () => {
    const both = plan(app({ health: "Degraded", sync: "OutOfSync", annotations: subscribed("on-two") }));
    expect(both.deliveries.map((d) => d.templates[0])).toEqual(["app-health-degraded", "app-sync-status-unknown"]);
  });

  it("reports a subscription to a trigger nobody defined, and sends nothing for it", () => {
    const p = plan(app({ annotations: subscribed("on-typo") }));
    expect(p.deliveries).toEqual([]);
    expect(p.problems).toEqual([expect.stringContaining(`trigger "on-typo" is not configured`)]);
  });

  it("keeps the newest 100 keys", () => {
    const state = Object.fromEntries(Array.from({ length: 150 }, (_, i) => [`k${i}`, i]));
    const kept = readState(writeState(state));
    expect(Object.keys(kept)).toHaveLength(100);
    expect(kept.k149).toBe(149);
    expect(kept.k49).toBeUndefined();
  });
});

describe("rendering", () => {
  const vars = (a: NotifyObject, service = "ci") => notificationVars({ app: a, config, url: "https://tether.example.com", now: NOW }, service);

  it("renders the catalog's templates with Tether's URL", () => {
    const n = renderNotification(config, ["app-sync-failed"], vars(app({ phase: "Failed", revision: "r1" })));
    expect(n.message).toContain("The sync operation of application guestbook has failed at 2026-12-06T11:59:00Z with the following error: boom");
    expect(n.message).toContain("https://tether.example.com/applications/guestbook?operation=true");
    expect(field(n, "email.subject")).toBe("Failed to sync application guestbook.");
    expect(field(n, "github.status.state")).toBe("failure");
    expect(field(n, "github.revisionPath")).toBe("r1");
    expect(field(n, "github.repoURLPath")).toBe("https://github.com/org/repo.git");
  });

  it.each([
    ["{{ call .repo.RepoURLToHTTPS \"git@github.com:org/repo.git\" }}", "https://github.com/org/repo.git"],
    ["{{ call .repo.FullNameByRepoURL .app.spec.source.repoURL }}", "org/repo"],
    ["{{ if eq .serviceType \"ci\" }}ci{{ end }} {{ .context.notificationType }}", "ci ci"],
    ["{{ (call .time.Parse .app.status.operationState.finishedAt).Unix }}", "1796558340"],
    ["{{ call .time.Parse \"yesterday\" }}", /error calling call: parsing time "yesterday"/],
    ["{{ .app.metadata.name | upper }}", "GUESTBOOK"],
  ])("%s", (text, want) => {
    const cfg = parseNotifyConfig({ "template.t": `message: '${text.replace(/'/g, "''")}'` }, {});
    expect(cfg.problems).toEqual([]);
    const render = () => renderNotification(cfg.config, ["t"], vars(app({ phase: "Failed", revision: "r1" })));
    if (typeof want === "string") expect(render().message).toBe(want);
    else expect(render).toThrow(want);
  });
});
