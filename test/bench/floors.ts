// `npx tsx test/bench/floors.ts`: what this machine allows a pushed commit at best, without the agent:
// the steps a webhook's commit → applied cannot skip, each timed alone (p50 of ROUNDS, load beside it).
//   1. the user's side: `git add -A`, `git commit`, `git push` of one changed file in a repository of
//      100 × 20 files (the bench's commit phase), as four commands and as the bench's TestRepo.commit does it;
//   2. the agent's side: one `git fetch` of that commit into a mirror, as the agent runs it;
//   3. what one process costs Node here: the time `child_process.spawn` blocks the event loop;
//   4. one server-side apply of one ConfigMap is in `npm run bench` (the SSA client), not here.
// It asserts nothing. FLOORS_ROUNDS (default 10) sets the rounds.
import { execFileSync, spawn } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createRepo } from "../support/git.ts";

const ROUNDS = Number(process.env.FLOORS_ROUNDS ?? 10);
const load = () => os.loadavg().map((l) => l.toFixed(1)).join(" ");
const p50 = (values: readonly number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;
const report = (what: string, values: readonly number[]) =>
  console.log(`${what.padEnd(72)} p50 ${p50(values).toFixed(1)} ms (min ${Math.min(...values).toFixed(1)}, max ${Math.max(...values).toFixed(1)})   load ${load()}`);
const timed = (run: () => void) => {
  const t0 = performance.now();
  run();
  return performance.now() - t0;
};
const git = (cwd: string, ...args: string[]) => execFileSync("git", ["-c", "user.name=b", "-c", "user.email=b@b", ...args], { cwd, stdio: "ignore" });

const root = mkdtempSync(path.join(os.tmpdir(), "tether-floors-"));
try {
  console.log(`tether floors ${new Date().toISOString()} on ${os.cpus().length} × ${os.cpus()[0]?.model ?? "?"}, git ${execFileSync("git", ["--version"], { encoding: "utf8" }).trim()}`);
  const origin = path.join(root, "origin.git");
  const work = path.join(root, "work");
  const mirror = path.join(root, "mirror.git");
  git(root, "init", "-q", "--bare", "--initial-branch=main", origin);
  git(root, "clone", "-q", origin, work);
  for (let a = 0; a < 100; a++) {
    mkdirSync(path.join(work, "many", `app-${a}`), { recursive: true });
    for (let c = 0; c < 20; c++) writeFileSync(path.join(work, "many", `app-${a}`, `cm-${c}.yaml`), `{"a":${a},"c":${c}}\n`);
  }
  git(work, "add", "-A");
  git(work, "commit", "-q", "-m", "init");
  git(work, "push", "-q", "origin", "HEAD:main");
  git(root, "clone", "-q", "--mirror", origin, mirror);

  const steps = { add: [] as number[], commit: [] as number[], push: [] as number[], all: [] as number[], fetch: [] as number[] };
  for (let i = 0; i < ROUNDS; i++) {
    writeFileSync(path.join(work, "many", "app-0", "cm-0.yaml"), `{"round":${i}}\n`);
    steps.add.push(timed(() => git(work, "add", "-A")));
    steps.commit.push(timed(() => git(work, "commit", "-q", "-m", `round ${i}`)));
    steps.push.push(timed(() => git(work, "push", "-q", "origin", "HEAD:main")));
    steps.all.push(steps.add.at(-1)! + steps.commit.at(-1)! + steps.push.at(-1)!);
    steps.fetch.push(timed(() => git(mirror, "fetch", "--no-auto-maintenance", "--prune", "--no-tags", "-q", "origin")));
  }
  report("user: git add -A (2000 files)", steps.add);
  report("user: git commit", steps.commit);
  report("user: git push (file://)", steps.push);
  report("user: add + commit + push", steps.all);

  // The bench's own commit (simple-git: add, commit, push, rev-parse), in a repository of the same shape.
  const repo = await createRepo();
  try {
    const files: Record<string, string> = {};
    for (let a = 0; a < 100; a++) for (let c = 0; c < 20; c++) files[`many/app-${a}/cm-${c}.yaml`] = `{"a":${a},"c":${c}}\n`;
    await repo.commit(files, "init");
    const bench: number[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const t0 = performance.now();
      await repo.commit({ "many/app-0/cm-0.yaml": `{"round":${i}}\n` });
      bench.push(performance.now() - t0);
    }
    report("user: the bench's commit and push (TestRepo.commit)", bench);
  } finally {
    await repo.cleanup();
  }

  report("agent: git fetch of that one commit into a mirror", steps.fetch);
  const blocked: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    await new Promise<void>((resolve) => {
      const t0 = performance.now();
      const child = spawn("git", ["--version"], { stdio: "ignore" });
      blocked.push(performance.now() - t0);
      child.on("exit", () => resolve());
    });
  }
  report("agent: child_process.spawn blocking the event loop, per process", blocked);
  console.log(`floor of commit → applied before any render or apply: p50 ${(p50(steps.all) + p50(steps.fetch)).toFixed(0)} ms `
    + "(the user's add, commit and push, then the agent's fetch)");
} finally {
  rmSync(root, { recursive: true, force: true });
}
