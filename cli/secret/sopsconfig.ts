// `.sops.yaml`: found the way sops finds it, its creation rules matched the way sops matches them,
// and edited in place (comments and layout kept) when `tether secret keygen` adds a recipient.
import { stat } from "node:fs/promises";
import path from "node:path";
import { Document, isMap, isScalar, isSeq, parseDocument, type YAMLMap, type YAMLSeq } from "yaml";
import { isRecord } from "../../agent/render/tool.ts";
import { UsageError } from "../errors.ts";

export const SOPS_CONFIG = ".sops.yaml";

/**
 * The rule `tether secret keygen` writes: every manifest. Creation rules only matter when a file is
 * encrypted, so a broad rule costs nothing, and `tether secret encrypt FILE` works whatever the
 * file is called (it is the fix the plaintext guard suggests). `tether repo init` writes the same.
 */
export const DEFAULT_PATH_REGEX = String.raw`\.(ya?ml|json)$`;

/** Only the values of a Secret are encrypted: kind, name and namespace stay readable in review. */
export const DEFAULT_ENCRYPTED_REGEX = "^(data|stringData)$";

/** The settings that choose which keys sops encrypts; at most one may be set. */
const CRYPT_SETTINGS = [
  "encrypted_regex", "unencrypted_regex", "encrypted_suffix", "unencrypted_suffix",
  "encrypted_comment_regex", "unencrypted_comment_regex",
] as const;

/**
 * The `.sops.yaml` in `dir` or the nearest parent, as sops looks it up from its working directory
 * (sops' `config.LookupConfigFile`); undefined when there is none.
 */
export async function findSopsConfig(dir: string): Promise<string | undefined> {
  for (let current = path.resolve(dir); ; current = path.dirname(current)) {
    const candidate = path.join(current, SOPS_CONFIG);
    if (await isFile(candidate)) return candidate;
    if (path.dirname(current) === current) return undefined;
  }
}

async function isFile(file: string): Promise<boolean> {
  try {
    return (await stat(file)).isFile();
  } catch {
    return false;
  }
}

/** The creation rule sops applies to a file, as far as `tether secret` needs to know it. */
export interface MatchedRule {
  /** Position in `creation_rules`, for messages. */
  readonly index: number;
  /** The rule's `path_regex`; empty for a catch-all rule. */
  readonly pathRegex: string;
  /** Whether the rule says which keys to encrypt; when it does not, Tether passes its default. */
  readonly choosesKeys: boolean;
  /** age recipients of the rule (flat `age:` or inside `key_groups`). */
  readonly ageRecipients: readonly string[];
}

/**
 * The first creation rule of `configText` whose `path_regex` matches `file`, as sops picks it:
 * the path is taken relative to the directory of `configPath` (both absolute). Undefined when no
 * rule matches.
 */
export function matchCreationRule(configText: string, configPath: string, file: string): MatchedRule | undefined {
  const configDir = path.dirname(path.resolve(configPath));
  const absolute = path.resolve(file);
  const relative = absolute.startsWith(configDir + path.sep) ? absolute.slice(configDir.length + 1) : absolute;
  const rules = creationRules(configText, configPath);
  for (const [index, rule] of rules.entries()) {
    const pathRegex = typeof rule.path_regex === "string" ? rule.path_regex : "";
    if (pathRegex !== "" && !goRegExp(pathRegex, configPath).test(relative)) continue;
    return {
      index, pathRegex,
      choosesKeys: CRYPT_SETTINGS.some((s) => typeof rule[s] === "string" && rule[s] !== ""),
      ageRecipients: [...keyList(rule.age), ...(Array.isArray(rule.key_groups) ? rule.key_groups.flatMap((g) => (isRecord(g) ? keyList(g.age) : [])) : [])],
    };
  }
  return undefined;
}

function creationRules(configText: string, configPath: string): Record<string, unknown>[] {
  const doc = parseDocument(configText);
  if (doc.errors.length > 0) throw new UsageError(`${configPath}: ${doc.errors[0]?.message ?? "not valid YAML"}`);
  const value: unknown = doc.toJS();
  const rules = isRecord(value) ? value.creation_rules : undefined;
  if (rules === undefined || rules === null) return [];
  if (!Array.isArray(rules)) throw new UsageError(`${configPath}: creation_rules must be a list of rules`);
  return rules.filter(isRecord);
}

/**
 * A Go (RE2) regular expression as a JavaScript one. The common syntax is the same; a leading flag
 * group such as `(?i)` becomes a JavaScript flag.
 */
function goRegExp(source: string, configPath: string): RegExp {
  const flags = /^\(\?([ims]+)\)/.exec(source);
  try {
    return flags ? new RegExp(source.slice(flags[0].length), flags[1]) : new RegExp(source);
  } catch (err) {
    throw new UsageError(`${configPath}: path_regex ${source} cannot be evaluated (${(err as Error).message}); use a plainer regular expression`);
  }
}

/** sops takes a key list as a comma-separated string or a YAML list (`parseKeyField`). */
function keyList(value: unknown): string[] {
  if (typeof value === "string") return value.split(",").map((k) => k.trim()).filter((k) => k !== "");
  if (Array.isArray(value)) return value.filter((k): k is string => typeof k === "string").map((k) => k.trim());
  return [];
}

export interface RecipientEdit {
  readonly recipient: string;
  /** The `path_regex` of the rule to add or update. */
  readonly pathRegex: string;
  /** Keep the rule's other recipients (another cluster, a second team) instead of replacing them. */
  readonly append: boolean;
}

export type RuleChange = "created" | "added" | "updated" | "unchanged";

/**
 * Sets the age recipient of the creation rule whose `path_regex` is `edit.pathRegex` in the text of
 * a `.sops.yaml` (undefined: the file does not exist yet), keeping comments and layout. A missing
 * rule is added before any catch-all rule (a rule without `path_regex` must stay last to let the
 * others match); a rule that does not say which keys to encrypt gets `encrypted_regex:
 * ^(data|stringData)$`.
 */
export function withAgeRecipient(text: string | undefined, edit: RecipientEdit, configPath: string): { text: string; change: RuleChange } {
  const doc = text === undefined ? newSopsConfig() : parseDocument(text);
  const rules = rulesOf(doc, configPath);
  const existing = rules.items.find((r): r is YAMLMap => isMap(r) && r.get("path_regex") === edit.pathRegex);
  if (existing === undefined) {
    const rule = doc.createNode({ path_regex: edit.pathRegex, encrypted_regex: DEFAULT_ENCRYPTED_REGEX, age: edit.recipient });
    const catchAll = rules.items.findIndex((r) => isMap(r) && !r.get("path_regex"));
    if (catchAll === -1) rules.items.push(rule);
    else rules.items.splice(catchAll, 0, rule);
    return { text: doc.toString(), change: text === undefined ? "created" : "added" };
  }

  if (existing.has("key_groups")) {
    throw new UsageError(`${configPath}: the rule for ${edit.pathRegex} uses key_groups; add age recipient ${edit.recipient} to one of its groups by hand`);
  }
  const current = keyList((existing.toJSON() as Record<string, unknown>).age);
  const next = edit.append ? [...new Set([...current, edit.recipient])] : [edit.recipient];
  const choosesKeys = CRYPT_SETTINGS.some((s) => existing.has(s));
  if (next.join(",") === current.join(",") && choosesKeys) return { text: doc.toString(), change: "unchanged" };
  // A new node: a comment on the old recipients ("DEMO ONLY") must not stay on the new ones.
  existing.set("age", doc.createNode(isSeq(existing.get("age", true)) ? next : next.join(",")));
  if (!choosesKeys) existing.set("encrypted_regex", DEFAULT_ENCRYPTED_REGEX);
  return { text: doc.toString(), change: "updated" };
}

/** The `creation_rules` list of a `.sops.yaml` document, added when it has none. */
function rulesOf(doc: Document, configPath: string): YAMLSeq {
  if (doc.errors.length > 0) throw new UsageError(`${configPath}: ${doc.errors[0]?.message ?? "not valid YAML"}`);
  if (doc.contents === null) doc.contents = doc.createNode({});
  if (!isMap(doc.contents)) throw new UsageError(`${configPath}: expected a mapping with creation_rules`);
  const rules = doc.get("creation_rules", true);
  if (rules === undefined || rules === null || (isScalar(rules) && rules.value === null)) {
    const created = doc.createNode([]);
    doc.set("creation_rules", created);
    return created;
  }
  if (!isSeq(rules)) throw new UsageError(`${configPath}: creation_rules must be a list of rules`);
  return rules;
}

function newSopsConfig(): Document {
  const doc = new Document({ creation_rules: [] });
  doc.commentBefore = [
    " SOPS creation rules: which files `sops encrypt` and `tether secret create/encrypt` encrypt, for whom.",
    " The agent decrypts with the age identities in Secret tether-sops (entries *.agekey) in its namespace.",
  ].join("\n");
  return doc;
}
