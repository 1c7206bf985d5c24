// `tether secret ...`: age keys, `.sops.yaml` rules, and SOPS-encrypted Secret manifests to commit.
import path from "node:path";
import { Command, Option } from "commander";
import { DEFAULT_NAMESPACE } from "../../agent/api/types.ts";
import { UsageError } from "../errors.ts";
import { loadKubeConfig, type KubeFlags } from "../kube.ts";
import { parseFormat, serialize } from "../output.ts";
import { useRepoTools } from "../tools.ts";
import { createSecret, encryptFile } from "./encrypt.ts";
import { KEY_SECRET, KEY_SUFFIX, keygen, type KeygenOptions, type KeygenReport } from "./keygen.ts";
import { DEFAULT_PATH_REGEX, findSopsConfig, SOPS_CONFIG } from "./sopsconfig.ts";

const collect = (value: string, previous: readonly string[]): string[] => [...previous, value];
const note = (line: string) => console.error(line);

interface KeygenFlags extends KubeFlags {
  readonly out?: string;
  readonly secretName: string;
  readonly name?: string;
  /** A path, or false for `--no-sops-config`. */
  readonly sopsConfig?: string | false;
  readonly pathRegex: string;
  readonly append: boolean;
  readonly output?: string;
}

interface CreateFlags {
  readonly namespace?: string;
  readonly fromLiteral: string[];
  readonly fromFile: string[];
  readonly type: string;
  readonly out?: string;
  readonly output?: string;
  readonly force: boolean;
}

export function secretCommand(): Command {
  const secret = new Command("secret")
    .description("SOPS secrets: age keys for the agent, .sops.yaml rules, encrypted Secret manifests to commit")
    .hook("preAction", useRepoTools)
    .addHelpText("after", `
The agent decrypts every file carrying a sops: block, and KSOPS generators, with the age identities
in Secret ${KEY_SECRET} (entries NAME${KEY_SUFFIX}) in its namespace. A Secret committed in plain text is refused.

Examples:
  tether secret keygen --kubeconfig ./kubeconfig
  tether secret create db-password -n shop --from-literal password=s3cr3t -o apps/shop/db-password.enc.yaml
  tether secret encrypt apps/shop/tls.yaml`);
  secret.addCommand(keygenCommand()).addCommand(createCommand()).addCommand(encryptCommand());
  return secret;
}

function keygenCommand(): Command {
  return new Command("keygen")
    .description("Make an age identity: print its recipient, add it to .sops.yaml, store the identity for the agent")
    .option("--out <file>", "also write the identity to FILE (mode 0600, never over an existing file); `-` prints it on stdout")
    .option("--kubeconfig <path>", "store the identity in the cluster this kubeconfig points at")
    .option("--context <name>", "kubeconfig context")
    .option("-n, --namespace <ns>", "the agent's namespace, where the key Secret lives", DEFAULT_NAMESPACE)
    .option("--secret-name <name>", "the key Secret (an Application can name another with spec.source.decryption.secretRef)", KEY_SECRET)
    .option("--name <entry>", `entry of the key Secret, NAME${KEY_SUFFIX} (default: from the recipient, age1xxxxxxxxxxxx${KEY_SUFFIX})`)
    .option("--sops-config <file>", `the ${SOPS_CONFIG} to add the recipient to (default: the nearest one above the working directory, else ./${SOPS_CONFIG})`)
    .option("--no-sops-config", `leave ${SOPS_CONFIG} alone`)
    .option("--path-regex <regex>", "path_regex of the creation rule to add or update", DEFAULT_PATH_REGEX)
    .option("--append", "keep the rule's other recipients (another cluster, a colleague) instead of replacing them", false)
    .addOption(new Option("-o, --output <format>", "json or yaml: what was done, as data (never the private key)"))
    .addHelpText("after", `
Where the private key goes: only where you say. --kubeconfig stores it in Secret ${KEY_SECRET} for the
agent (merged with the identities already there); --out FILE writes it for you to keep (to edit or
re-encrypt files with sops, or to restore a cluster); --out - prints it. With none of them keygen
refuses, since no one could ever decrypt what is encrypted for the new recipient.

The rule it writes encrypts only data and stringData (encrypted_regex: ^(data|stringData)$), so a
Secret's kind, name and namespace stay readable in review. Without --append, the rule's recipients
are replaced: re-encrypt existing files for the new key with \`sops updatekeys FILE\`.

Examples:
  tether secret keygen --kubeconfig ./kubeconfig --out ~/.config/tether/prod.agekey
  RECIPIENT=$(tether secret keygen --kubeconfig ./kubeconfig --no-sops-config)
  tether secret keygen --out - --no-sops-config | pass insert -m tether/age
  tether secret keygen --kubeconfig ./staging.kubeconfig --append -o json`)
    .action(async (flags: KeygenFlags) => {
      const format = flags.output === undefined ? undefined : parseFormat(flags.output, ["json", "yaml"]) as "json" | "yaml";
      const printed = flags.out === "-";
      if (printed && format !== undefined) throw new UsageError("--out - prints the identity on stdout; it cannot be combined with -o");
      const { report, identity } = await keygen(await keygenOptions(flags));
      if (format !== undefined) {
        process.stdout.write(serialize(report, format));
        return;
      }
      if (printed) process.stdout.write(identity);
      else process.stdout.write(`${report.recipient}\n`);
      for (const line of keygenNotes(report, printed)) note(line);
    });
}

async function keygenOptions(flags: KeygenFlags): Promise<KeygenOptions> {
  const printed = flags.out === "-";
  const entry = flags.name === undefined || flags.name.endsWith(KEY_SUFFIX) ? flags.name : `${flags.name}${KEY_SUFFIX}`;
  const store = flags.kubeconfig === undefined ? undefined : {
    kc: loadKubeConfig(flags), namespace: flags.namespace ?? DEFAULT_NAMESPACE, secretName: flags.secretName,
    ...(entry === undefined ? {} : { entry }),
  };
  const sopsConfig = flags.sopsConfig === false ? undefined : flags.sopsConfig ?? await findSopsConfig(process.cwd()) ?? path.resolve(SOPS_CONFIG);
  return {
    pathRegex: flags.pathRegex, append: flags.append, printed,
    ...(flags.out === undefined || printed ? {} : { out: flags.out }),
    ...(store === undefined ? {} : { store }),
    ...(sopsConfig === undefined ? {} : { sopsConfig }),
  };
}

/** What keygen did, for a person (stderr, so stdout holds only the recipient or the identity). */
function keygenNotes(r: KeygenReport, printed: boolean): string[] {
  const lines: string[] = [];
  if (printed) lines.push(`recipient: ${r.recipient}`);
  if (r.identityFile !== undefined) lines.push(`identity written to ${r.identityFile} (mode 0600); whoever holds it can decrypt what is encrypted for ${r.recipient}`);
  if (r.secret !== undefined) {
    const { namespace, name, key, change } = r.secret;
    lines.push(`identity stored in Secret ${namespace}/${name}, entry ${key} (${change})`);
    if (r.identityFile === undefined && !printed) {
      lines.push(`the identity is kept only in the cluster; to keep a copy (needed to edit encrypted files or restore a cluster):`,
        `  kubectl get secret -n ${namespace} ${name} -o jsonpath='{.data.${key.replaceAll(".", "\\.")}}' | base64 -d > ${key}`);
    }
  }
  if (r.sopsConfig !== undefined) {
    const what = { created: "created with a creation rule", added: "creation rule added", updated: "creation rule updated", unchanged: "already has this recipient" }[r.sopsConfig.change];
    lines.push(`${r.sopsConfig.file}: ${what}; encrypt a Secret with: tether secret create NAME --from-literal KEY=VALUE --out PATH.enc.yaml`);
  }
  return lines;
}

function createCommand(): Command {
  return new Command("create")
    .description("Write a SOPS-encrypted Secret manifest, following .sops.yaml; the plaintext never touches the disk")
    .argument("<name>", "the Secret's name")
    .option("-n, --namespace <ns>", "the Secret's namespace (default: none, so the Application's destination namespace applies)")
    .option("--from-literal <key=value>", "an entry from a literal value (repeatable)", collect, [])
    .option("--from-file <[key=]path>", "an entry from a file's content; the key defaults to the file name (repeatable)", collect, [])
    .option("--type <type>", "the Secret's type", "Opaque")
    .option("--out <file>", "the encrypted manifest to write (.yaml, .yml or .json); its .sops.yaml rule is the one sops would use")
    .addOption(new Option("-o, --output <format>", "json or yaml: what was done, as data (never the values)"))
    .option("--force", "replace the file if it exists", false)
    .addHelpText("after", `
The manifest is built in memory and encrypted by sops on stdin, so only ciphertext is written. The
rules come from the nearest ${SOPS_CONFIG} above the output file; a rule that does not say which keys to
encrypt gets encrypted_regex: ^(data|stringData)$, so metadata stays readable.

Examples:
  tether secret create api-token -n shop --from-literal TOKEN=abc123 --out apps/shop/api-token.enc.yaml
  tether secret create tls -n shop --type kubernetes.io/tls --from-file tls.crt=./cert.pem --from-file tls.key=./key.pem --out apps/shop/tls.enc.yaml
  tether secret create api-token --from-literal TOKEN=rotated --out apps/shop/api-token.enc.yaml --force`)
    .action(async (name: string, flags: CreateFlags) => {
      const { out, format } = createOutput(flags);
      const done = await createSecret({
        name, type: flags.type, literals: flags.fromLiteral, files: flags.fromFile, output: out, force: flags.force,
        ...(flags.namespace !== undefined ? { namespace: flags.namespace } : {}),
      });
      const where = flags.namespace === undefined ? name : `${flags.namespace}/${name}`;
      if (format !== undefined) {
        process.stdout.write(serialize({ file: out, secret: where, keys: done.keys, recipients: done.recipients }, format));
        return;
      }
      process.stdout.write(`${out}: Secret ${where} (${done.keys.join(", ")}) encrypted for ${done.recipients.join(", ") || "the keys of its rule"}\n`);
      note("commit it, and list it in kustomization.yaml under a KSOPS generator's files: or under resources: (see README, Secrets)");
    });
}

/** `-o` is a format in every command; the file is `--out` (and an old `-o FILE` says so). */
function createOutput(flags: CreateFlags): { out: string; format: "json" | "yaml" | undefined } {
  if (flags.output !== undefined && /[./]/.test(flags.output)) {
    throw new UsageError(`-o ${flags.output}: -o is the output format (json or yaml); pass the file to write with --out ${flags.output}`);
  }
  if (flags.out === undefined) throw new UsageError("--out FILE is required: the encrypted manifest to write, such as apps/shop/api-token.enc.yaml");
  const format = flags.output === undefined ? undefined : parseFormat(flags.output, ["json", "yaml"]) as "json" | "yaml";
  return { out: flags.out, format };
}

function encryptCommand(): Command {
  return new Command("encrypt")
    .description("Encrypt manifests in place with sops, following .sops.yaml (refuses a file that is already encrypted)")
    .argument("<files...>", "manifests (.yaml, .yml, .json) or other files a KSOPS generator reads")
    .addHelpText("after", `
The file is read, encrypted by sops on stdin and replaced by the ciphertext. A manifest whose
${SOPS_CONFIG} rule does not say which keys to encrypt gets encrypted_regex: ^(data|stringData)$.
Exit codes: 0 encrypted, 2 no ${SOPS_CONFIG} rule for the file, 5 already encrypted.

Examples:
  tether secret encrypt apps/shop/secret.yaml
  tether secret encrypt apps/shop/*.enc.yaml`)
    .action(async (files: string[]) => {
      for (const file of files) {
        const done = await encryptFile(file);
        process.stdout.write(`${file}: encrypted for ${done.recipients.join(", ") || "the keys of its rule"}\n`);
      }
    });
}
