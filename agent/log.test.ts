import { describe, expect, it } from "vitest";
import { TetherError } from "./errors.ts";
import { createLogger, logFn } from "./log.ts";

function capture(format: "json" | "text", level: "info" | "warn" = "info") {
  const lines: string[] = [];
  return { lines, log: logFn(createLogger({ format, level, write: (l) => lines.push(l) })) };
}

describe("agent logs", () => {
  it("are JSON objects with the app, revision and stage fields", () => {
    const { lines, log } = capture("json");
    log("web: sync succeeded", { app: "web", revision: "1a2b3c4", stage: "Syncing" });
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 30, msg: "web: sync succeeded", app: "web", revision: "1a2b3c4", stage: "Syncing" });
  });

  it("read as one line of text on a terminal", () => {
    const { lines, log } = capture("text");
    log("web: queued (added)", { app: "web" });
    expect(lines[0]).toMatch(/^\d{4}-\d\d-\d\dT[\d:.]+Z INFO {2}web: queued \(added\) app=web\n$/);
  });

  it("carry an error's cause chain", () => {
    const { lines, log } = capture("json");
    const err = new TetherError("SourceFailed", "cannot fetch https://git.example.com/a.git", { cause: new Error("connection refused") });
    log("web: SourceFailed", { app: "web", level: "warn", err });
    expect(JSON.parse(lines[0]!)).toMatchObject({ level: 40, err: ["cannot fetch https://git.example.com/a.git", "connection refused"] });
  });

  it("leave out what is below the level", () => {
    const { lines, log } = capture("json", "warn");
    log("quiet", { level: "info" });
    expect(lines).toEqual([]);
  });
});
