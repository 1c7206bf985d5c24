import { mkdtemp, readFile, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { configPath, contextOf, EMPTY_CONFIG, readConfig, withLogin, withoutLogin, writeConfig } from "./config.ts";
import { checkServerUrl } from "./api.ts";
import { labelsMatch } from "../app/list.ts";

const prod = { name: "prod", server: { server: "https://tether.example.com" }, token: "t1", subject: "alice" };
const ci = { name: "ci", server: { server: "https://tether.example.com" }, token: "t2" };

describe("the CLI's login config", () => {
  it("saves a login as current, replaces one of the same name, and keeps a shared server until its last context goes", () => {
    const both = withLogin(withLogin(EMPTY_CONFIG, prod), ci);
    expect(both["current-context"]).toBe("ci");
    expect(contextOf(both, "prod")?.user["auth-token"]).toBe("t1");
    const again = withLogin(both, { ...prod, token: "t3" });
    expect(again.users.filter((u) => u.name === "prod").map((u) => u["auth-token"])).toEqual(["t3"]);
    const one = withoutLogin(again, "prod");
    expect(one["current-context"]).toBeUndefined();
    expect(one.servers).toHaveLength(1);
    expect(contextOf(one)).toBeUndefined();
    expect(withoutLogin(one, "ci")).toEqual({ contexts: [], servers: [], users: [] });
  });

  it("writes the file 0600 in a 0700 directory and reads it back", async () => {
    const file = path.join(await mkdtemp(path.join(os.tmpdir(), "tether-cfg-")), "tether", "config");
    await writeConfig(file, withLogin(EMPTY_CONFIG, prod));
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(path.dirname(file))).mode & 0o777).toBe(0o700);
    expect(contextOf(await readConfig(file))?.context.server).toBe("https://tether.example.com");
    expect(await readFile(file, "utf8")).toContain("current-context: prod");
    expect(await readConfig(`${file}.missing`)).toEqual(EMPTY_CONFIG);
  });

  it("is found at $TETHER_CONFIG, then $XDG_CONFIG_HOME/tether/config", () => {
    expect(configPath({ TETHER_CONFIG: "/x/c" })).toBe("/x/c");
    expect(configPath({ XDG_CONFIG_HOME: "/cfg" })).toBe("/cfg/tether/config");
  });

  it.each([
    ["https://tether.example.com", "https://tether.example.com"],
    ["tether.example.com:8443", "https://tether.example.com:8443"],
    ["http://127.0.0.1:8080", "http://127.0.0.1:8080"],
  ])("takes the server %s as %s", (text, origin) => expect(checkServerUrl(text).origin).toBe(origin));

  it("refuses plain http to anything but a loopback address", () => {
    expect(() => checkServerUrl("http://tether.example.com")).toThrow(/only for a loopback address/);
  });
});

describe("label selectors on lists the agent's API returns", () => {
  it.each([
    ["team=a", { team: "a" }, true],
    ["team==a,tier!=web", { team: "a", tier: "api" }, true],
    ["team=a,tier!=web", { team: "a", tier: "web" }, false],
    ["env", { env: "x" }, true],
    ["!legacy", { legacy: "1" }, false],
    ["!legacy", {}, true],
  ])("%s on %j is %s", (selector, labels, want) => expect(labelsMatch(selector, labels)).toBe(want));

  it("refuses set-based terms with the forms it takes", () => {
    expect(() => labelsMatch("env in (a,b)", {})).toThrow(/key=value, key!=value, key or !key/);
  });
});
