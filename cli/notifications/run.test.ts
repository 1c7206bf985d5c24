import { describe, expect, it } from "vitest";
import { load } from "../../agent/notify/index.ts";
import { parseRecipient, templateRows } from "./run.ts";

describe("tether notifications", () => {
  it.each([
    ["slack:ops", { service: "slack", recipient: "ops" }],
    ["github", { service: "github", recipient: "" }],
    ["mail:a@example.com,b@example.com", { service: "mail", recipient: "a@example.com,b@example.com" }],
    ["hook:with:colons", { service: "hook", recipient: "with:colons" }],
  ])("reads --recipient %s", (text, want) => {
    expect(parseRecipient(text)).toEqual(want);
  });

  it("lists a ConfigMap's template beside the catalog's, with the triggers that send each", () => {
    const data = { "template.mine": "message: hi", "trigger.on-mine": "- when: 'true'\n  send: [mine, app-created]" };
    const rows = templateRows(load(data, {}, () => undefined), new Set(Object.keys(data)));
    expect(rows.find((r) => r.name === "mine")).toEqual({ name: "mine", from: "tether-notifications-cm", triggers: ["on-mine"] });
    expect(rows.find((r) => r.name === "app-created")).toEqual({ name: "app-created", from: "catalog", triggers: ["on-created", "on-mine"] });
  });
});
