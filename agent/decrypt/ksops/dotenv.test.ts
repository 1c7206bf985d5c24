import { describe, expect, it } from "vitest";
import { DotenvError, parseDotenv } from "./dotenv.ts";

describe("parseDotenv reads env files as godotenv (and so KSOPS) does", () => {
  it.each<[string, string, Record<string, string>]>([
    ["plain pairs", "USER=admin\nPASSWORD=1f2d1e2e67df\n", { USER: "admin", PASSWORD: "1f2d1e2e67df" }],
    ["no newline at the end", "A=1", { A: "1" }],
    ["CRLF line ends", "A=1\r\nB=2\r\n", { A: "1", B: "2" }],
    ["comments and blank lines", "# a comment\n\nA=1\n   # indented comment\nB=2\n", { A: "1", B: "2" }],
    ["a trailing comment after whitespace", "A=value # comment\nB=val#ue\n", { A: "value", B: "val#ue" }],
    ["the export prefix", "export A=1\nexportB=2\n", { A: "1", exportB: "2" }],
    ["YAML-style pairs", "A: 1\nB:two\n", { A: "1", B: "two" }],
    ["spaces around the value", "A =   spaced out   \n", { A: "spaced out" }],
    ["an empty value", "A=\nB=2\n", { A: "", B: "2" }],
    ["single quotes kept literally", "A='x $B \\n y'\n", { A: "x $B \\n y" }],
    ["double quotes with escapes", 'A="line1\\nline2"\nB="say \\"hi\\" now"\n', { A: "line1\nline2", B: 'say "hi" now' }],
    ["godotenv's quirk: an escaped quote just before the closing one keeps its backslash", 'B="say \\"hi\\""\n', { B: 'say "hi\\' }],
    ["a later key overriding an earlier one", "A=1\nA=2\n", { A: "2" }],
    ["expansion from earlier keys", "HOST=db\nURL=postgres://$HOST:5432/${HOST}\n", { HOST: "db", URL: "postgres://db:5432/db" }],
    ["an escaped dollar", "A=\\$HOME\n", { A: "$HOME" }],
    ["lowercase names never expanded", "A=$lower\n", { A: "$lower" }],
    ["dotted keys", "app.name=shop\n", { "app.name": "shop" }],
  ])("%s", (_name, text, want) => {
    expect(parseDotenv(text)).toEqual(want);
  });

  it("expands unknown variables to nothing and never reads the process environment", () => {
    process.env.TETHER_DOTENV_TEST = "from-env";
    expect(parseDotenv("A=x${TETHER_DOTENV_TEST}y\nB=$SOPS_AGE_KEY\n")).toEqual({ A: "xy", B: "" });
  });

  it.each([
    ["a bad character in a name", "BAD KEY!=1\nPASSWORD=hunter2\n", "line 1: unexpected character in variable name"],
    ["an unterminated quote", 'OK=1\nPASSWORD="hunter2\n', "line 2: unterminated quoted value"],
  ])("rejects %s without quoting the file", (_name, text, message) => {
    const parse = (): unknown => parseDotenv(text);
    expect(parse).toThrow(DotenvError);
    expect(parse).toThrow(message);
    try {
      parse();
    } catch (err) {
      expect((err as Error).message).not.toContain("hunter2");
    }
  });
});
