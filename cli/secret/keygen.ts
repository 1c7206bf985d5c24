// `tether secret keygen`: an age identity from the real `age-keygen`, kept only where the user says
// (a Secret in the cluster, a file of mode 0600, stdout), and its recipient in `.sops.yaml`.
import { existsSync } from "node:fs";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import { CoreV1Api, type KubeConfig, type V1Secret } from "@kubernetes/client-node";
import { argv, runTool } from "../../agent/exec.ts";
import { isNotFound } from "../../agent/apply/cluster.ts";
import { ConflictError, NotFoundError, UsageError } from "../errors.ts";
import { installHint, notInstalled } from "../tools.ts";
import { withAgeRecipient, type RuleChange } from "./sopsconfig.ts";

/** The Secret the agent reads its age identities from (Flux's convention: entries `*.agekey`). */
export const KEY_SECRET = "tether-sops";
export const KEY_SUFFIX = ".agekey";

export interface AgeIdentity {
  /** `age1...`: what files are encrypted for; safe to share and commit. */
  readonly recipient: string;
  /** The identity file as age-keygen writes it (comments and `AGE-SECRET-KEY-1...`): private. */
  readonly identity: string;
}

/** A fresh identity from the real age-keygen, in memory only (its stdout, never a file). */
export async function generateIdentity(ageKeygenPath = "age-keygen"): Promise<AgeIdentity> {
  const result = await runTool(ageKeygenPath, argv({ options: [] }), { reject: false, stripFinalNewline: false, timeout: 30_000 });
  if (notInstalled(result)) throw new Error(installHint("age-keygen", "https://github.com/FiloSottile/age/releases"));
  const recipient = /^# public key: (age1[0-9a-z]+)$/m.exec(result.stdout)?.[1];
  if (result.failed || recipient === undefined || !result.stdout.includes("AGE-SECRET-KEY-1")) {
    throw new Error(`age-keygen did not make an identity (exit ${result.exitCode ?? "?"}): ${result.stderr.split("\n")[0] ?? ""}`);
  }
  return { recipient, identity: result.stdout };
}

/** The recipient an identity file names in its `# public key:` comment, as age-keygen writes it. */
export function recipientOf(identity: string): string | undefined {
  return /^# public key: (age1[0-9a-z]+)$/m.exec(identity)?.[1];
}

/** The default entry for a recipient: its first characters tell which `.sops.yaml` key it is. */
export function entryFor(recipient: string): string {
  return `${recipient.slice(0, 16)}${KEY_SUFFIX}`;
}

export interface KeyStore {
  readonly kc: KubeConfig;
  /** The agent namespace. */
  readonly namespace: string;
  readonly secretName: string;
}

export type StoreChange = "created" | "added" | "replaced" | "unchanged";

/**
 * Puts an identity into the key Secret as entry `entry`, keeping its other entries; creates the
 * Secret when it is missing. An entry that already holds another identity is refused unless
 * `replace`: files may still be encrypted for it.
 */
export async function storeIdentity(store: KeyStore, entry: string, identity: string, replace = false): Promise<StoreChange> {
  if (!entry.endsWith(KEY_SUFFIX) || !/^[-._a-zA-Z0-9]+$/.test(entry)) {
    throw new UsageError(`key entry ${entry}: expected NAME${KEY_SUFFIX} with letters, digits, '-', '_' or '.'`);
  }
  const core = store.kc.makeApiClient(CoreV1Api);
  const { namespace, secretName: name } = store;
  const value = Buffer.from(identity, "utf8").toString("base64");
  for (let attempt = 0; ; attempt++) {
    const live = await readSecret(core, namespace, name);
    if (live === undefined) {
      await createSecret(core, { metadata: { name, namespace }, type: "Opaque", data: { [entry]: value } });
      return "created";
    }
    const current = live.data?.[entry];
    if (current === value) return "unchanged";
    if (current !== undefined && !replace) {
      throw new ConflictError(`Secret ${namespace}/${name} already has entry ${entry} with another identity; ` +
        "choose another --name (files may still be encrypted for the one stored there)");
    }
    try {
      await core.replaceNamespacedSecret({ name, namespace, body: { ...live, data: { ...live.data, [entry]: value } } });
      return current === undefined ? "added" : "replaced";
    } catch (err) {
      // Someone else changed the Secret between read and write: read it again and merge again.
      if ((err as { code?: unknown }).code !== 409 || attempt >= 3) throw err;
    }
  }
}

async function readSecret(core: CoreV1Api, namespace: string, name: string): Promise<V1Secret | undefined> {
  try {
    return await core.readNamespacedSecret({ name, namespace });
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

async function createSecret(core: CoreV1Api, body: V1Secret): Promise<void> {
  const namespace = body.metadata?.namespace ?? "";
  try {
    await core.createNamespacedSecret({ namespace, body });
  } catch (err) {
    if (isNotFound(err)) throw new NotFoundError(`namespace ${namespace} does not exist; run \`tether install\` first, or pass the agent's namespace with -n`);
    throw err;
  }
}

export interface KeygenOptions {
  /** A file for the identity (written with mode 0600, never over an existing file). */
  readonly out?: string;
  /** Where the identity is stored in the cluster, and under which entry (default: from the recipient). */
  readonly store?: KeyStore & { readonly entry?: string };
  /** The `.sops.yaml` to add the recipient to; undefined leaves every `.sops.yaml` alone. */
  readonly sopsConfig?: string;
  readonly pathRegex: string;
  readonly append: boolean;
  /** The caller prints the identity (`--out -`): then it need not be kept anywhere else. */
  readonly printed: boolean;
  readonly ageKeygenPath?: string;
}

/** What keygen did, without the private key: what `-o json` prints. */
export interface KeygenReport {
  readonly recipient: string;
  readonly identityFile?: string;
  readonly secret?: { readonly namespace: string; readonly name: string; readonly key: string; readonly change: StoreChange };
  readonly sopsConfig?: { readonly file: string; readonly change: RuleChange };
}

/**
 * Makes an identity and puts it where `o` says, in the order that never leaves `.sops.yaml` naming
 * a recipient whose identity was kept nowhere: every check first, then the cluster, the file,
 * and `.sops.yaml` last.
 */
export async function keygen(o: KeygenOptions): Promise<{ report: KeygenReport; identity: string }> {
  if (o.out === undefined && o.store === undefined && !o.printed) {
    throw new UsageError("the private key would be kept nowhere: pass --kubeconfig K to store it in Secret tether-sops, " +
      "--out FILE to write it to a file (mode 0600), or --out - to print it");
  }
  if (o.out !== undefined && existsSync(o.out)) {
    throw new ConflictError(`${o.out} already exists; refusing to overwrite an identity (files may be encrypted for it): choose another --out`);
  }
  const configText = o.sopsConfig === undefined ? undefined : await readOptional(o.sopsConfig);
  // Any problem with .sops.yaml shows now, before a key exists.
  if (o.sopsConfig !== undefined) withAgeRecipient(configText, { recipient: "age1check", pathRegex: o.pathRegex, append: o.append }, o.sopsConfig);

  const { recipient, identity } = await generateIdentity(o.ageKeygenPath);
  let report: KeygenReport = { recipient };
  if (o.store !== undefined) {
    const key = o.store.entry ?? entryFor(recipient);
    const change = await storeIdentity(o.store, key, identity);
    report = { ...report, secret: { namespace: o.store.namespace, name: o.store.secretName, key, change } };
  }
  if (o.out !== undefined) {
    await mkdir(path.dirname(path.resolve(o.out)), { recursive: true, mode: 0o700 });
    await writeFile(o.out, identity, { mode: 0o600, flag: "wx" });
    report = { ...report, identityFile: o.out };
  }
  if (o.sopsConfig !== undefined) {
    const edited = withAgeRecipient(configText, { recipient, pathRegex: o.pathRegex, append: o.append }, o.sopsConfig);
    if (edited.change !== "unchanged") await writeFile(o.sopsConfig, edited.text);
    report = { ...report, sopsConfig: { file: o.sopsConfig, change: edited.change } };
  }
  return { report, identity };
}

async function readOptional(file: string): Promise<string | undefined> {
  try {
    return await readFile(file, "utf8");
  } catch (err) {
    if ((err as { code?: unknown }).code === "ENOENT") return undefined;
    throw new UsageError(`${file} cannot be read: ${(err as Error).message}`);
  }
}
