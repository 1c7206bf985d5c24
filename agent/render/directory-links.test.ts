import { mkdir, mkdtemp, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { TetherError } from "../errors.ts";
import { renderDirectory } from "./directory.ts";

const configMap = (name: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n`;

let work: string;
let root: string;

beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), "tether-links-"));
  root = join(work, "repo");
  await mkdir(join(root, "apps/web"), { recursive: true });
  await writeFile(join(root, "apps/web/cm.yaml"), configMap("web"));
  await mkdir(join(work, "outside"));
  await writeFile(join(work, "outside/secret.yaml"), configMap("stolen"));
});

afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

async function renderError(input: Parameters<typeof renderDirectory>[0]): Promise<TetherError> {
  const err = await renderDirectory(input).then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(TetherError);
  return err as TetherError;
}

describe("directory symlinks", () => {
  it.each([true, false])("refuses a directory symlink that leaves the repository, naming it (recurse %s)", async (recurse) => {
    await symlink(join(work, "outside"), join(root, "apps/web/linked"));
    const err = await renderError({ root, path: "apps/web", directory: { recurse } });
    expect(err.reason).toBe("RenderFailed");
    expect(err.message).toContain("'apps/web/linked'");
    expect(err.message).toContain("points outside the repository");
    expect(err.message).not.toContain(work);
  });

  it("does not follow a directory symlink inside the repository, and renders the rest", async () => {
    await symlink("../web", join(root, "apps/web/again"));
    const objects = await renderDirectory({ root, path: "apps", directory: { recurse: true } });
    expect(objects.map((o) => o.manifest.metadata.name)).toEqual(["web"]);
  });
});

describe("YAML alias bombs", () => {
  it("are refused with the file named", async () => {
    const levels = ["a: &a [x, x, x, x, x, x, x, x, x]"];
    for (let i = 1; i < 9; i++) {
      const prev = String.fromCharCode(96 + i);
      const next = String.fromCharCode(97 + i);
      levels.push(`${next}: &${next} [${Array(9).fill(`*${prev}`).join(", ")}]`);
    }
    await writeFile(join(root, "apps/web/bomb.yaml"), `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: bomb\ndata:\n  ${levels.join("\n  ")}\n`);
    const err = await renderError({ root, path: "apps/web" });
    expect(err.message).toMatch(/^apps\/web\/bomb\.yaml: too many YAML aliases/);
    expect(err.object).toBe("apps/web/bomb.yaml");
  });
});
