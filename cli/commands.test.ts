import { describe, expect, it } from "vitest";
import { COMMANDS, commandsToLoad } from "./commands.ts";

describe("the lazy command table", () => {
  it.each(COMMANDS.map((c) => [c.name, c] as const))("lists %s with the description and aliases the command itself has", async (_name, entry) => {
    const cmd = await entry.load();
    expect(cmd.name()).toBe(entry.name);
    expect(cmd.description()).toBe(entry.summary);
    expect(cmd.aliases()).toEqual(entry.aliases ?? []);
  });

  it.each([
    [["--help"], []],
    [[], []],
    [["app", "list", "--help"], ["app"]],
    [["--kubeconfig=k", "app", "list"], ["app"]],
    [["help", "secret"], ["secret"]],
    [["nosuchcommand"], []],
    [["completion", "bash"], COMMANDS.map((c) => c.name)],
  ])("for `tether %j` loads %j", (args, names) => {
    expect(commandsToLoad(args).map((c) => c.name)).toEqual(names);
  });
});
