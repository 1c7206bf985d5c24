import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { UsageError } from "../errors.ts";
import { DEFAULT_ENCRYPTED_REGEX, DEFAULT_PATH_REGEX, findSopsConfig, matchCreationRule, withAgeRecipient } from "./sopsconfig.ts";

const OLD = "age1ql3z7hjy54pw3hyww5ayyfg7zqgvc7w3j2elw8zmrj2kg5sfn9aqmcac8p";
const NEW = "age1lggyhqrw2nlhcxprm67z43rta597azn8gknawjehu9d9dl0jq3yqqvfafg";
const edit = (recipient: string, append = false) => ({ recipient, pathRegex: DEFAULT_PATH_REGEX, append });

// What `tether repo init` writes before a key exists: comments, and the recipient still to fill in.
const INIT_LAYOUT = `# SOPS rules for this repository: what \`sops --encrypt\` encrypts, and for whom.
# A plain Secret in Git is refused.
creation_rules:
  - path_regex: \\.(ya?ml|json)$
    encrypted_regex: ^(data|stringData)$
    # age: age1...   <- the public key of the identity in Secret tether-sops; then uncomment
`;

describe("withAgeRecipient", () => {
  it("creates a .sops.yaml whose rule encrypts only data and stringData for the recipient", () => {
    const { text, change } = withAgeRecipient(undefined, edit(NEW), ".sops.yaml");
    expect(change).toBe("created");
    expect(text).toMatch(/^# SOPS creation rules/);
    expect(parse(text)).toEqual({ creation_rules: [{ path_regex: DEFAULT_PATH_REGEX, encrypted_regex: DEFAULT_ENCRYPTED_REGEX, age: NEW }] });
  });

  it("fills in the rule `tether repo init` wrote and keeps its comments", () => {
    const { text, change } = withAgeRecipient(INIT_LAYOUT, edit(NEW), ".sops.yaml");
    expect(change).toBe("updated");
    expect(text).toContain("# SOPS rules for this repository");
    expect(text).toContain("# A plain Secret in Git is refused.");
    expect(parse(text).creation_rules).toEqual([{ path_regex: DEFAULT_PATH_REGEX, encrypted_regex: DEFAULT_ENCRYPTED_REGEX, age: NEW }]);
  });

  it("replaces the rule's recipients, or keeps them with append", () => {
    const before = withAgeRecipient(undefined, edit(OLD), ".sops.yaml").text;
    expect(parse(withAgeRecipient(before, edit(NEW), ".sops.yaml").text).creation_rules[0].age).toBe(NEW);
    expect(parse(withAgeRecipient(before, edit(NEW, true), ".sops.yaml").text).creation_rules[0].age).toBe(`${OLD},${NEW}`);
  });

  it("drops the comment that described the recipient it replaces", () => {
    const text = `creation_rules:\n  - path_regex: ${DEFAULT_PATH_REGEX}\n    encrypted_regex: ${DEFAULT_ENCRYPTED_REGEX}\n    age: ${OLD} # DEMO ONLY key\n`;
    const after = withAgeRecipient(text, edit(NEW), ".sops.yaml").text;
    expect(after).toContain(`age: ${NEW}\n`);
    expect(after).not.toContain("DEMO ONLY");
  });

  it("keeps a recipient list a list", () => {
    const text = `creation_rules:\n  - path_regex: ${DEFAULT_PATH_REGEX}\n    encrypted_regex: ${DEFAULT_ENCRYPTED_REGEX}\n    age:\n      - ${OLD}\n`;
    expect(parse(withAgeRecipient(text, edit(NEW, true), ".sops.yaml").text).creation_rules[0].age).toEqual([OLD, NEW]);
  });

  it("reports a recipient that is already there as unchanged", () => {
    const before = withAgeRecipient(undefined, edit(OLD), ".sops.yaml").text;
    expect(withAgeRecipient(before, edit(OLD), ".sops.yaml")).toEqual({ text: before, change: "unchanged" });
  });

  it("adds its rule after the others but before a catch-all rule, which must stay last", () => {
    const text = "creation_rules:\n  - path_regex: ^prod/\n    age: age1prod\n  - age: age1fallback # everything else\n";
    const { text: after, change } = withAgeRecipient(text, edit(NEW), ".sops.yaml");
    expect(change).toBe("added");
    expect((parse(after) as { creation_rules: { age: string }[] }).creation_rules.map((r) => r.age)).toEqual(["age1prod", NEW, "age1fallback"]);
    expect(after).toContain("# everything else");
  });

  it("leaves the encryption setting of a rule that has one", () => {
    const text = `creation_rules:\n  - path_regex: ${DEFAULT_PATH_REGEX}\n    unencrypted_regex: ^(apiVersion|kind|metadata)$\n    age: ${OLD}\n`;
    expect(parse(withAgeRecipient(text, edit(NEW), ".sops.yaml").text).creation_rules[0]).toEqual({
      path_regex: DEFAULT_PATH_REGEX, unencrypted_regex: "^(apiVersion|kind|metadata)$", age: NEW,
    });
  });

  it.each([
    ["a rule with key_groups", `creation_rules:\n  - path_regex: ${DEFAULT_PATH_REGEX}\n    key_groups: [{age: [${OLD}]}]\n`, /uses key_groups; add age recipient/],
    ["YAML that does not parse", "creation_rules: [\n", /\.sops\.yaml: /],
    ["creation_rules that is not a list", "creation_rules: {path_regex: x}\n", /creation_rules must be a list/],
  ])("refuses %s with a usage error", (_, text, message) => {
    expect(() => withAgeRecipient(text, edit(NEW), ".sops.yaml")).toThrow(UsageError);
    expect(() => withAgeRecipient(text, edit(NEW), ".sops.yaml")).toThrow(message);
  });
});

describe("matchCreationRule", () => {
  const config = `creation_rules:
  - path_regex: ^prod/.*\\.yaml$
    age: age1prod
  - path_regex: (?i)\\.JSON$
    encrypted_regex: ^data$
    age: age1json
  - key_groups: [{age: [age1group]}]
`;

  it("matches the path relative to the .sops.yaml, first rule first, as sops does", () => {
    expect(matchCreationRule(config, "/repo/.sops.yaml", "/repo/prod/db.yaml")).toMatchObject({ index: 0, ageRecipients: ["age1prod"], choosesKeys: false });
    expect(matchCreationRule(config, "/repo/.sops.yaml", "/repo/staging/prod/db.json")).toMatchObject({ index: 1, choosesKeys: true });
    expect(matchCreationRule(config, "/repo/.sops.yaml", "/repo/staging/db.yaml")).toMatchObject({ index: 2, pathRegex: "", ageRecipients: ["age1group"] });
  });

  it("finds no rule when none matches", () => {
    expect(matchCreationRule("creation_rules:\n  - path_regex: ^prod/\n    age: age1prod\n", "/repo/.sops.yaml", "/repo/dev/x.yaml")).toBeUndefined();
    expect(matchCreationRule("stores: {}\n", "/repo/.sops.yaml", "/repo/x.yaml")).toBeUndefined();
  });
});

describe("findSopsConfig", () => {
  let root: string;
  beforeAll(async () => {
    root = await mkdtemp(join(tmpdir(), "tether-sopsconfig-test-"));
    await mkdir(join(root, "apps", "shop"), { recursive: true });
    await writeFile(join(root, ".sops.yaml"), "creation_rules: []\n");
  });
  afterAll(() => rm(root, { recursive: true, force: true }));

  it("finds the nearest .sops.yaml above a directory, even one that does not exist yet", async () => {
    expect(await findSopsConfig(join(root, "apps", "shop"))).toBe(join(root, ".sops.yaml"));
    expect(await findSopsConfig(join(root, "apps", "new", "deeper"))).toBe(join(root, ".sops.yaml"));
    await writeFile(join(root, "apps", ".sops.yaml"), "creation_rules: []\n");
    expect(await findSopsConfig(join(root, "apps", "shop"))).toBe(join(root, "apps", ".sops.yaml"));
  });
});
