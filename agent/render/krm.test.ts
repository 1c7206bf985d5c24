import { mkdtemp, readFile, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pathWithTools } from "../../test/harness/paths.ts";
import { ageKey, type AgeKey } from "../decrypt/testdata/keys.ts";
import { TetherError } from "../errors.ts";
import { krmFunctionIn } from "./krm.ts";
import { renderKustomize } from "./kustomize.ts";
import { copyFixture, emptyCheckout } from "./testdata/checkout.ts";

const execFunction = `apiVersion: example.com/v1
kind: LabelAdder
metadata:
  name: add-labels
  annotations:
    config.kubernetes.io/function: |
      exec:
        path: ./plugins/add-labels.sh
`;
const containerFunction = `apiVersion: v1
kind: ConfigMap
metadata:
  name: gen
  annotations:
    config.kubernetes.io/function: |
      container:
        image: example.com/generator:1.0
`;

describe("krmFunctionIn", () => {
  it.each([
    ["an exec function", execFunction, /^an exec function \(example.com\/v1 LabelAdder, program \.\/plugins\/add-labels\.sh\)$/],
    ["a container function", containerFunction, /^a container function .*image example\.com\/generator:1\.0/],
  ])("names %s", (_name, text, expected) => {
    expect(krmFunctionIn(text)).toMatch(expected);
  });

  it.each([
    ["a KSOPS generator with its exec annotation", "apiVersion: viaduct.ai/v1\nkind: ksops\nmetadata:\n  name: s\n  annotations:\n    config.kubernetes.io/function: |\n      exec:\n        path: ksops\n"],
    ["a built-in transformer", "apiVersion: builtin\nkind: LabelTransformer\nmetadata:\n  name: l\nlabels:\n  a: b\n"],
  ])("finds nothing in %s", (_name, text) => {
    expect(krmFunctionIn(text)).toBeUndefined();
  });
});

describe("kustomize with KRM functions", () => {
  let key: AgeKey;
  let parent: string;
  beforeAll(async () => {
    process.env.PATH = pathWithTools();
    parent = await mkdtemp(join(tmpdir(), "tether-krm-"));
    key = await ageKey();
  });
  afterAll(async () => {
    await rm(parent, { recursive: true, force: true });
  });

  async function ksopsApp(extra: { field: string; file: string; text: string }): Promise<string> {
    const { root } = await emptyCheckout(parent);
    await copyFixture("ksops/files", root, { to: "apps/shop", recipient: key.recipient });
    const kustomization = join(root, "apps/shop/kustomization.yaml");
    await writeFile(kustomization, `${await readFile(kustomization, "utf8")}${extra.field}:\n- ./${extra.file}\n`);
    await writeFile(join(root, "apps/shop", extra.file), extra.text);
    return root;
  }

  it.each([
    ["an exec transformer beside a KSOPS generator (issue 13, failure 6)", "transformers", "labels.yaml", execFunction],
    ["a container validator", "validators", "check.yaml", containerFunction],
  ])("refuses %s, naming the file, instead of dropping it", async (_name, field, file, text) => {
    const root = await ksopsApp({ field, file, text });
    const err = await renderKustomize({ root, path: "apps/shop", ageKeys: [key.identity] }).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(TetherError);
    expect((err as TetherError).reason).toBe("RenderFailed");
    expect((err as TetherError).message).toMatch(new RegExp(`^apps/shop/${file}: an? (exec|container) function .* is refused`));
    expect((err as TetherError).object).toBe(`apps/shop/${file}`);
  });

  it("refuses an inline function config in the kustomization", async () => {
    const { root } = await emptyCheckout(parent);
    await copyFixture("ksops/files", root, { to: "apps/shop", recipient: key.recipient });
    const kustomization = join(root, "apps/shop/kustomization.yaml");
    const inline = execFunction.split("\n").map((l) => `  ${l}`).join("\n");
    await writeFile(kustomization, `${await readFile(kustomization, "utf8")}transformers:\n- |\n${inline}\n`);
    await expect(renderKustomize({ root, path: "apps/shop", ageKeys: [key.identity] })).rejects.toThrow(/^apps\/shop\/kustomization\.yaml: an exec function/);
  });

  it("still renders the KSOPS generator alone", async () => {
    const { root } = await emptyCheckout(parent);
    await copyFixture("ksops/files", root, { to: "apps/shop", recipient: key.recipient });
    const objects = await renderKustomize({ root, path: "apps/shop", ageKeys: [key.identity] });
    expect(objects.some((o) => o.decrypted)).toBe(true);
    expect(await readdir(join(root, "apps/shop"))).toContain("secret-generator.yaml");
  });
});
