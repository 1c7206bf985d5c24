import { describe, expect, it } from "vitest";
import { DEFAULT_MAX_CHART_BYTES, DEFAULT_MAX_INDEX_BYTES } from "../../agent/source/limits.ts";
import { parseSize } from "../../agent/render/limits.ts";
import { agentCommand } from "./index.ts";

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
