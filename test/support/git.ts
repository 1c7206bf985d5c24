import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { simpleGit, type SimpleGit } from "simple-git";

/** A bare repository (what the agent reads, by file:// URL) and a working clone the test commits in. */
export interface TestRepo {
  readonly url: string;
  readonly work: string;
  readonly git: SimpleGit;
  /** Writes files (path -> content; null deletes), commits and pushes; returns the new commit SHA. */
  commit(files: Record<string, string | null>, message?: string): Promise<string>;
  cleanup(): Promise<void>;
}

export async function createRepo(): Promise<TestRepo> {
  const root = await mkdtemp(path.join(os.tmpdir(), "tether-repo-"));
  const bare = path.join(root, "origin.git");
  const work = path.join(root, "work");
  await simpleGit().init(["--bare", "--initial-branch=main", bare]);
  await simpleGit().clone(bare, work);
  const git = simpleGit(work);
  await git.addConfig("user.name", "Tether Test").addConfig("user.email", "test@tether.dev").addConfig("commit.gpgsign", "false");
  await git.checkout(["-B", "main"]);
  return {
    url: `file://${bare}`,
    work,
    git,
    async commit(files, message = "update") {
      for (const [file, content] of Object.entries(files)) {
        const full = path.join(work, file);
        if (content === null) {
          await rm(full, { force: true, recursive: true });
        } else {
          await mkdir(path.dirname(full), { recursive: true });
          await writeFile(full, content);
        }
      }
      await git.add(["-A"]);
      await git.commit(message, ["--allow-empty"]);
      await git.push("origin", "main");
      return (await git.revparse(["HEAD"])).trim();
    },
    cleanup: () => rm(root, { recursive: true, force: true }),
  };
}
