import { describe, expect, it } from "vitest";
import { runLua } from "./vm.ts";

const certificate = {
  apiVersion: "cert-manager.io/v1", kind: "Certificate", metadata: { name: "web", generation: 3 },
  status: { conditions: [{ type: "Ready", status: "False", message: "Issuing" }], replicas: 3, ratio: 0.5 },
};

describe("runLua", () => {
  it("gives the script obj as a table, lists 1-based, and returns the table it builds", () => {
    const out = runLua({
      script: `local hs = {}
        for i, c in ipairs(obj.status.conditions) do
          if c.type == "Ready" and c.status == "False" then hs.status = "Degraded"; hs.message = c.message .. " #" .. i end
        end
        return hs`,
      obj: certificate,
    });
    expect(out).toEqual({ ok: true, value: { status: "Degraded", message: "Issuing #1" } });
  });

  it("prints numbers as Go does (3 and 6/2 as 3, not 3.0; 3e9 whole) and keeps fractions", () => {
    const out = runLua({
      script: "return { message = tostring(obj.status.replicas) .. ' ' .. tostring(obj.status.ratio) .. ' ' .. obj.metadata.generation .. ' ' .. (6 / 2) .. ' ' .. obj.big }",
      obj: { ...certificate, big: 3e9 },
    });
    expect(out).toEqual({ ok: true, value: { message: "3 0.5 3 3 3000000000" } });
  });

  it("offers the libraries Argo CD's scripts use: string, table (getn too), math, os.time, unpack, require('os')", () => {
    const out = runLua({
      script: `local os = require("os")
        local t = {}
        table.insert(t, string.upper("a")); table.insert(t, ("b"):rep(2))
        return { n = table.getn(t), s = table.concat(t, ","), f = string.find("Ready", "ea"), m = math.max(1, 2),
          now = os.time() > 0, u = select("#", unpack({1, 2})) }`,
      obj: {},
    });
    expect(out).toEqual({ ok: true, value: { n: 2, s: "A,bb", f: 2, m: 2, now: true, u: 2 } });
  });

  it.each([
    ["io", "return io.open('/etc/passwd')"],
    ["os.execute", "return os.execute('true')"],
    ["load", "return load('return 1')()"],
    ["dofile", "return dofile('/etc/passwd')"],
    ["debug", "return debug.getinfo(1)"],
  ])("refuses %s", (_name, script) => {
    const out = runLua({ script, obj: {} });
    expect(out.ok).toBe(false);
  });

  it("gives each call a fresh environment: a global set by one script is not seen by the next", () => {
    runLua({ script: "leaked = 1; string.find = nil; return {}", obj: {} });
    expect(runLua({ script: "return { seen = leaked ~= nil, find = string.find ~= nil }", obj: {} })).toEqual({ ok: true, value: { seen: false, find: true } });
  });

  it("stops a script that runs too long, with the reason", () => {
    const started = Date.now();
    const out = runLua({ script: "while true do end", obj: {}, timeoutMs: 100 });
    expect(out).toEqual({ ok: false, error: "script ran longer than 100ms" });
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("stops a script that allocates too much, with the reason", () => {
    const out = runLua({ script: "local t = {} for i = 1, 1e9 do t[i] = {i, i, i} end", obj: {}, memoryBytes: 8 * 1024 * 1024, timeoutMs: 10_000 });
    expect(out).toEqual({ ok: false, error: "script used more than 8 MiB of memory" });
  });

  it("refuses a string.rep that would build a huge string before it is built", () => {
    const out = runLua({ script: "return ('x'):rep(1e12)", obj: {} });
    expect(out.ok).toBe(false);
    if (!out.ok) expect(out.error).toContain("string.rep: result of 1000000000000 bytes is over the limit");
  });

  it("names the script and line of an error, as Argo CD shows it", () => {
    expect(runLua({ script: "local x = nil\nreturn x.y", obj: {}, name: "health.lua" }))
      .toEqual({ ok: false, error: "health.lua:2: attempt to index a nil value (local 'x')" });
    const syntax = runLua({ script: "return {", obj: {}, name: "health.lua" });
    expect(syntax.ok).toBe(false);
    if (!syntax.ok) expect(syntax.error).toMatch(/^health\.lua:1: /);
  });

  it("passes extra globals (an action's actionParams) and converts results back: maps, lists, empty table as list", () => {
    const out = runLua({ script: "obj.spec = { replicas = tonumber(actionParams.replicas), list = {'a', 'b'}, none = {} } return obj", obj: { kind: "Deployment" }, globals: { actionParams: { replicas: "5" } } });
    expect(out).toEqual({ ok: true, value: { kind: "Deployment", spec: { replicas: 5, list: ["a", "b"], none: [] } } });
  });

  it("stays usable after a failing call", () => {
    runLua({ script: "error('boom')", obj: {} });
    expect(runLua({ script: "return {status = 'Healthy'}", obj: {} })).toEqual({ ok: true, value: { status: "Healthy" } });
  });
});
