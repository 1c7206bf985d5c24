import { describe, expect, it } from "vitest";
import { DEFAULT_MAX_CHART_BYTES, DEFAULT_MAX_INDEX_BYTES } from "../../agent/source/limits.ts";
import { parseSize } from "../../agent/render/limits.ts";
import { agentCommand, pollJitter } from "./index.ts";

describe("tether agent --help", () => {
  it.each([
    ["--max-helm-index-size", "64Mi", DEFAULT_MAX_INDEX_BYTES],
    ["--max-chart-size", "32Mi", DEFAULT_MAX_CHART_BYTES],
    ["--webhook-max-payload", "1Mi", 1024 * 1024],
  ])("documents %s with the default the agent applies (%s)", (flag, shown, bytes) => {
    const help = agentCommand().helpInformation();
    expect(help).toMatch(new RegExp(`${flag} <size>[\\s\\S]*?\\(default: "${shown}"\\)`));
    expect(parseSize(shown, flag)).toBe(bytes);
  });
});

describe("--poll-jitter", () => {
  it.each([
    [undefined, 60_000, undefined],
    ["0", 60_000, 0],
    ["20s", 60_000, 20_000],
  ])("%s with a %i ms interval spreads a round over %s ms (undefined: the agent's default)", (flag, interval, ms) => {
    expect(pollJitter(flag, interval)).toBe(ms);
  });

  it.each(["60s", "2m"])("refuses %s, not less than the interval, naming both flags", (flag) => {
    expect(() => pollJitter(flag, 60_000)).toThrow(/--poll-jitter .*less than --poll-interval \(60s\)/);
  });

  it("refuses what is not a duration", () => {
    expect(() => pollJitter("soon", 60_000)).toThrow(/--poll-jitter soon: expected a duration/);
  });
});
