import { describe, expect, it } from "vitest";
import { compileExpr, evalExpr, ExprError } from "./expr.ts";
import { fullNameByRepoURL, GoDuration, helperEnv, queryEscape, repoURLToHTTPS } from "./helpers.ts";

const NOW = Date.parse("2026-12-06T12:00:00Z");
const app = {
  metadata: { name: "guestbook", deletionTimestamp: null, labels: { team: "a" } },
  status: {
    sync: { status: "Synced", revision: "abc123" },
    health: { status: "Healthy", lastTransitionTime: "2026-12-06T11:58:00Z" },
    operationState: {
      phase: "Succeeded", startedAt: "2026-12-06T11:57:00Z", finishedAt: "2026-12-06T11:58:30Z",
      syncResult: { revision: "abc123" },
    },
  },
};
const fresh = { metadata: { name: "new" }, status: { sync: { status: "Unknown" }, health: { status: "Missing" } } };
const env = (a: unknown) => ({ app: a, ...helperEnv(() => NOW) });

describe("the expr subset Argo CD's triggers use", () => {
  it.each<[string, unknown, unknown]>([
    ["true", app, true],
    ["app.metadata.deletionTimestamp != nil", app, false],
    ["app.status.operationState != nil and app.status.operationState.phase in ['Succeeded']", app, true],
    ["app.status.operationState != nil and app.status.operationState.phase in ['Succeeded']", fresh, false],
    ["app.status.operationState != nil and app.status.operationState.phase in ['Error', 'Failed']", app, false],
    ["app.status.health.status == 'Degraded'", app, false],
    ["app.status.sync.status == \"Unknown\"", fresh, true],
    ["app.status.operationState?.syncResult?.revision", app, "abc123"],
    ["app.status.operationState?.syncResult?.revision", fresh, null],
    ["app.status.operationState?.syncResult.revision", fresh, null],
    ["app.metadata.labels['team'] == 'a' && app.metadata.name startsWith 'guest'", app, true],
    ["not (app.metadata.name contains 'book') || app.metadata.name endsWith 'x'", app, false],
    ["!true or false", app, false],
    ["app.metadata.name matches '^g.*k$'", app, true],
    ["'x' not in ['a', 'b']", app, true],
    ["'team' in app.metadata.labels", app, true],
    ["1 + 2 * 3 == 7 and 2 ** 3 == 8 and 7 % 4 == 3 and -1 < 0", app, true],
    ["app.status.missing ?? 'fallback'", app, "fallback"],
    ["app.status.health.status == 'Healthy' ? 'good' : 'bad'", app, "good"],
    ["time.Now().Sub(time.Parse(app.status.operationState.finishedAt)).Minutes() >= 1", app, true],
    ["time.Now().Sub(time.Parse(app.status.operationState.finishedAt)).Minutes() >= 2", app, false],
    ["time.Parse(app.status.health.lastTransitionTime).Add(1 * time.Minute).Before(time.Parse(app.status.operationState.finishedAt))", app, false],
    ["!time.Parse(app.status.health.lastTransitionTime).Add(1 * time.Minute).Before(time.Parse(app.status.operationState.finishedAt)) "
      + "or time.Parse(app.status.health.lastTransitionTime).Before(time.Parse(app.status.operationState.startedAt))", app, true],
    ["time.Parse(app.status.operationState.finishedAt).Unix() == 1796558310 and time.Parse(app.status.operationState.startedAt).After(time.Parse(app.status.operationState.finishedAt))", app, false],
    ["repo.RepoURLToHTTPS('git@github.com:org/repo.git')", app, "https://github.com/org/repo.git"],
    ["strings.ToUpper(app.metadata.name)", app, "GUESTBOOK"],
  ])("%s", (text, object, want) => {
    expect(evalExpr(text, env(object))).toEqual(want);
  });

  it.each<[string, RegExp]>([
    ["app.status.operationState.phase == 'Succeeded'", /cannot fetch phase from <nil>/],
    ["app.status.health.status == ", /unexpected end of expression/],
    ["app.metadata.name and true", /invalid operation: and "new"/],
    ["time.Parse(app.status.operationState?.finishedAt)", /time.Parse: a string is needed, not <nil>/],
    ["time.Parse('yesterday')", /parsing time "yesterday"/],
    ["app.metadata.name(1)", /"new" is not a function/],
    ["app.metadata.name @ 1", /unexpected character "@"/],
    ["'unterminated", /not closed/],
  ])("%s is an error: %s", (text, message) => {
    expect(() => evalExpr(text, env(fresh))).toThrow(message);
    try {
      evalExpr(text, env(fresh));
    } catch (err) {
      expect(err).toBeInstanceOf(ExprError);
      expect((err as ExprError).expression).toBe(text);
    }
  });

  it("stops an expression that nests too deep", () => {
    expect(() => compileExpr("(".repeat(200) + "1" + ")".repeat(200))).toThrow(/nests deeper than 64/);
  });

  it("compiles once and runs against many objects", () => {
    const compiled = compileExpr("app.status.sync.status == 'Synced'");
    expect([app, fresh].map((a) => compiled.run({ app: a }))).toEqual([true, false]);
  });
});

describe("helpers", () => {
  it.each([
    ["git@github.com:argoproj/argo-cd.git", "https://github.com/argoproj/argo-cd.git", "argoproj/argo-cd"],
    ["https://user:token@gitlab.example.com:8443/group/app.git", "https://gitlab.example.com:8443/group/app.git", "group/app"],
    ["ssh://git@github.com/org/repo", "https://github.com/org/repo", "org/repo"],
  ])("%s is %s and %s", (url, https, name) => {
    expect(repoURLToHTTPS(url)).toBe(https);
    expect(fullNameByRepoURL(url)).toBe(name);
  });

  it("escapes a query as Go does", () => {
    expect(queryEscape("a b&c=d/é!")).toBe("a+b%26c%3Dd%2F%C3%A9%21");
  });

  it("prints durations in Go's spelling", () => {
    expect([90e9, 3.6e12 + 2e9, 5e8, 0].map((ns) => new GoDuration(ns).toString())).toEqual(["1m30s", "1h0m2s", "500ms", "0s"]);
  });
});
