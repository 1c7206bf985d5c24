import { describe, expect, it } from "vitest";
import YAML from "yaml";
import type { Manifest } from "../api/types.ts";
import { parseSettings } from "../settings/index.ts";
import { ActionError } from "./builtin.ts";
import { cleanReturned, parseLuaActions, runLuaAction } from "./lua.ts";
import { actionResult, actionsOf } from "./run.ts";

const cm = (data: Record<string, string> = { a: "1" }): Manifest => ({ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "cfg", namespace: "shop" }, data });
const deployment: Manifest = { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "web", namespace: "shop" }, spec: { replicas: 2 } };

const touch = `obj.data.touched = actionParams["value"] or "yes"
return obj`;
const spawn = `local copy = {apiVersion = "v1", kind = "ConfigMap", metadata = {name = obj.metadata.name .. "-copy"}, data = obj.data}
return {{operation = "create", resource = copy}, {operation = "patch", resource = obj}}`;
const discovery = `local actions = {}
actions["touch"] = {["iconClass"] = "fa fa-hand", ["displayName"] = "Touch it", ["params"] = {{["name"] = "value"}}}
actions["spawn"] = {["disabled"] = obj.data.touched == nil}
return actions`;
const actionsYaml = (extra: Record<string, unknown> = {}) => YAML.stringify({
  "discovery.lua": discovery, definitions: [{ name: "touch", "action.lua": touch }, { name: "spawn", "action.lua": spawn }], ...extra,
});
const settings = (data: Record<string, string>) => parseSettings(data).settings;

describe("Lua resource actions from tether-cm, in Argo CD's format", () => {
  it("lists what discovery.lua returns, with Argo's disabled, iconClass, displayName and params", () => {
    const s = settings({ "resource.customizations.actions.ConfigMap": actionsYaml() });
    expect(actionsOf(cm(), s)).toEqual([
      { name: "spawn", disabled: true },
      { name: "touch", disabled: false, iconClass: "fa fa-hand", displayName: "Touch it", params: [{ name: "value" }] },
    ]);
  });

  it.each([
    ["stand alone by default (Argo's mergeBuiltinActions: false)", {}, ["scale"]],
    ["merged with the built-in ones when mergeBuiltinActions is true; a Lua one hides a built-in of its name", { mergeBuiltinActions: true }, ["scale", "restart"]],
  ])("Lua actions of a kind with built-in ones %s", (_what, extra, names) => {
    const yaml = YAML.stringify({ "discovery.lua": 'return {["scale"] = {}}', definitions: [{ name: "scale", "action.lua": "obj.spec.replicas = 9\nreturn obj" }], ...extra });
    const s = settings({ "resource.customizations.actions.apps_Deployment": yaml });
    expect(actionsOf(deployment, s).map((a) => a.name)).toEqual(names);
    expect(actionResult(deployment, { action: "scale" }, s)).toEqual([{ operation: "patch", resource: { ...deployment, spec: { replicas: 9 } } }]);
  });

  it("reads the legacy resource.customizations block's actions too", () => {
    const legacy = YAML.stringify({ ConfigMap: { actions: actionsYaml() } });
    expect(actionsOf(cm(), settings({ "resource.customizations": legacy })).map((a) => a.name)).toEqual(["spawn", "touch"]);
  });

  it("an action returning the object is a patch of it, with actionParams given", () => {
    const s = settings({ "resource.customizations.actions.ConfigMap": actionsYaml() });
    expect(actionResult(cm(), { action: "touch", params: { value: "now" } }, s)).toEqual([{ operation: "patch", resource: cm({ a: "1", touched: "now" }) }]);
  });

  it("an action returning a list creates and patches as each item says", () => {
    const out = runLuaAction(cm(), spawn, {});
    expect(out.map((i) => [i.operation, i.resource.metadata.name])).toEqual([["create", "cfg-copy"], ["patch", "cfg"]]);
  });

  it.each([
    ["an operation Argo CD does not know", 'return {{operation = "delete", resource = obj}}', /unsupported operation: "delete"/],
    ["a script error, as the script raised it", 'error("invalid number: x", 0)', /^invalid number: x$/],
    ["a result that is not a table", "return 3", /must return a table/],
    ["a script that runs forever", "while true do end", /longer than 1000ms/],
  ])("refuses %s", (_what, script, message) => {
    expect(() => runLuaAction(cm(), script, {})).toThrow(message);
  });

  it.each([
    ["YAML that is not a map", "- a", /expected a map with discovery.lua/],
    ["no discovery.lua", "definitions: []", /discovery.lua is missing/],
    ["a definition without action.lua", 'discovery.lua: "return {}"\ndefinitions: [{name: x}]', /definitions\[0\] needs a name and an action.lua/],
  ])("an actions key with %s is an error naming the key", (_what, text, message) => {
    expect(() => parseLuaActions(text, "resource.customizations.actions.ConfigMap")).toThrow(ActionError);
    expect(() => parseLuaActions(text, "resource.customizations.actions.ConfigMap")).toThrow(message);
  });

  it("a discovery.lua that fails names its key", () => {
    const s = settings({ "resource.customizations.actions.ConfigMap": YAML.stringify({ "discovery.lua": "return obj.nope.deeper" }) });
    expect(() => actionsOf(cm(), s)).toThrow(/resource.customizations.actions.ConfigMap: discovery.lua failed/);
  });

  it("an action discovery.lua lists but no definition holds is an error that says what to add", () => {
    const s = settings({ "resource.customizations.actions.ConfigMap": YAML.stringify({ "discovery.lua": 'return {["ghost"] = {}}' }) });
    expect(() => actionResult(cm(), { action: "ghost" }, s)).toThrow(/no definitions entry for it; add \{name: ghost/);
  });

  it("keeps a map the script emptied a map, as Argo CD's cleanup does (Lua cannot tell {} from [])", () => {
    expect(cleanReturned({ metadata: { labels: [], name: "x" }, list: [{ m: [] }], added: [] }, { metadata: { labels: { a: "b" } }, list: [{ m: { k: 1 } }] }))
      .toEqual({ metadata: { labels: {}, name: "x" }, list: [{ m: {} }], added: [] });
  });
});
