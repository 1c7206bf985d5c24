import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Argument, Command, Option } from "commander";
import { describe, expect, it } from "vitest";
import { bashScript, completionTree, zshScript } from "./script.ts";

/** A small command tree shaped like tether's. */
function program(): Command {
  const root = new Command("tether").version("0.1.0");
  const app = root.command("app").description("Inspect and drive Applications");
  app.command("create <name>").description("Scaffold an Application. Then push it")
    .requiredOption("--app <spec>", "what to deploy")
    .option("-p, --project <name>", "the AppProject")
    .addOption(new Option("--type <type>", "how the agent renders it").choices(["dir", "kustomize", "helm"]))
    .option("--dry-run", "change nothing");
  app.command("list").alias("ls").description("List Applications");
  app.command("get <name>").description("Show one Application");
  root.command("completion").description("Print a completion script").addArgument(new Argument("<shell>").choices(["bash", "zsh"]));
  return root;
}

describe("completion tree", () => {
  it("lists every command path with its subcommands, aliases, options and choices", () => {
    const nodes = completionTree(program());
    expect(nodes.map((n) => n.path)).toEqual(["", "app", "app create", "app list", "app get", "completion"]);
    expect(nodes[1]!.subcommands.map((s) => s.name)).toEqual(["create", "list", "ls", "get"]);
    expect(nodes[4]!.argLister).toBe("app list -o name");
    expect(nodes[2]!.argLister).toBeUndefined();
    const create = nodes[2]!;
    expect(create.subcommands).toEqual([]);
    expect(create.options.find((o) => o.names.includes("--type"))).toEqual({ names: ["--type"], description: "how the agent renders it", takesValue: true, choices: ["dir", "kustomize", "helm"] });
    expect(create.options.find((o) => o.names.includes("--dry-run"))?.takesValue).toBe(false);
    expect(nodes[1]!.subcommands[0]!.description).toBe("Scaffold an Application");
    expect(nodes[5]!.argChoices).toEqual(["bash", "zsh"]);
  });
});

/** A `tether` on PATH that lists two apps when asked as the completion asks, so names come from "the cluster". */
const fakeTether = mkdtempSync(path.join(os.tmpdir(), "tether-completion-"));
writeFileSync(path.join(fakeTether, "tether"), '#!/bin/sh\n[ "$*" = "app list -o name" ] && printf "web\\napi\\n"\n');
chmodSync(path.join(fakeTether, "tether"), 0o755);
writeFileSync(path.join(fakeTether, "npx"), '#!/bin/sh\nshift\nexec tether "$@"\n');
chmodSync(path.join(fakeTether, "npx"), 0o755);

/** What bash completes for the words typed so far (the last one is being completed). */
function bash(script: string, words: readonly string[]): string[] {
  const quoted = words.map((w) => `'${w}'`).join(" ");
  const out = execFileSync("bash", ["-c", `${script}\nCOMP_WORDS=(${quoted}); COMP_CWORD=${words.length - 1}; _tether; printf '%s\\n' "\${COMPREPLY[@]}"`],
    { encoding: "utf8", env: { ...process.env, PATH: `${fakeTether}${path.delimiter}${process.env.PATH ?? ""}` } });
  return out.split("\n").filter((l) => l !== "");
}

describe("bash completion", () => {
  const script = bashScript(program());

  it.each([
    [["tether", ""], ["app", "completion"]],
    [["tether", "app", "c"], ["create"]],
    [["tether", "app", "create", "x", "--t"], ["--type"]],
    [["tether", "app", "create", "x", "--type", ""], ["dir", "kustomize", "helm"]],
    [["tether", "app", "create", "x", "-p", "apps", "--dr"], ["--dry-run"]],
    [["tether", "app", "create", "x", "--app", ""], []],
    [["tether", "completion", ""], ["bash", "zsh"]],
    [["tether", "app", "get", ""], ["web", "api"]],
    [["tether", "app", "get", "w"], ["web"]],
    [["npx", ""], ["tether"]],
    [["npx", "tether", "app", "c"], ["create"]],
    [["npx", "tether", "app", "get", "a"], ["api"]],
    [["npx", "prettier", ""], []],
  ])("completes %j to %j", (words, expected) => {
    expect(bash(script, words)).toEqual(expected);
  });

  it("registers itself for tether and npx, with file completion as the fallback", () => {
    expect(script.trimEnd().split("\n").slice(-2)).toEqual(["complete -o default -F _tether tether", "complete -o default -F _tether npx"]);
  });
});

/** What the zsh completion offers, with the completion system's builtins replaced by printers. */
function zsh(script: string, words: readonly string[]): string {
  const quoted = words.map((w) => `'${w}'`).join(" ");
  return execFileSync("zsh", ["-f", "-c", `compdef() { :; }
_describe() { print -l -- "\${(@P)4}"; }
compadd() { print -l -- "\${reply[@]}"; }
_files() { print -- "<files>"; }
${script}
words=(${quoted}); CURRENT=${words.length}; _tether`], { encoding: "utf8" }).trim();
}

describe.skipIf(!existsSync("/usr/bin/zsh") && !existsSync("/bin/zsh"))("zsh completion", () => {
  const script = zshScript(program());

  it.each([
    [["tether", ""], "app:Inspect and drive Applications\ncompletion:Print a completion script"],
    [["tether", "app", ""], "create:Scaffold an Application\nlist:List Applications\nls:List Applications\nget:Show one Application"],
    [["tether", "app", "create", "x", "--type", ""], "dir\nkustomize\nhelm"],
    [["tether", "app", "create", "x", "--app", ""], "<files>"],
    [["tether", "completion", ""], "bash\nzsh"],
  ])("completes %j", (words, expected) => {
    expect(zsh(script, words)).toBe(expected);
  });

  it("offers options with their descriptions", () => {
    expect(zsh(script, ["tether", "app", "create", "x", "-"]).split("\n")).toContain("--type:how the agent renders it");
  });
});
