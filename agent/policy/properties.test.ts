// Properties of the three small functions the boundary rests on (issue 22): safe path joins, the
// normalised repository URL, and glob matching. fast-check generates the inputs an attacker would.
import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { TetherError } from "../errors.ts";
import { globMatch, matchesList } from "../render/glob.ts";
import { normalizeRepoPattern, normalizeRepoUrl } from "../source/repo-url.ts";
import { isInside, safeJoin } from "../source/safe-join.ts";

let disk: string;
let root: string;

beforeAll(async () => {
  disk = await realpath(await mkdtemp(join(tmpdir(), "tether-props-")));
  root = join(disk, "checkout");
  await mkdir(join(root, "a", "b"), { recursive: true });
  await writeFile(join(root, "a", "file"), "x");
  await writeFile(join(disk, "secret"), "agent token");
  await symlink("/", join(root, "a", "to-root"));
  await symlink("../../secret", join(root, "a", "up"));
  await symlink("b", join(root, "a", "inside"));
  await symlink("nowhere", join(root, "dangling"));
});

afterAll(async () => {
  await rm(disk, { recursive: true, force: true });
});

const segment = fc.constantFrom("a", "b", "file", "..", ".", "", "to-root", "up", "inside", "dangling", "secret", "x%2e%2e", "...");

describe("safeJoin", () => {
  it("returns a path inside the checkout or refuses with RenderFailed, for any path of segments, links and dots", async () => {
    await fc.assert(fc.asyncProperty(fc.array(segment, { minLength: 1, maxLength: 8 }), fc.boolean(), async (segments, absolute) => {
      const rel = `${absolute ? "/" : ""}${segments.join("/")}`;
      const joined = await safeJoin(root, rel).then((p) => p, (e: unknown) => e);
      if (joined instanceof TetherError) {
        expect(joined.reason).toBe("RenderFailed");
        return;
      }
      expect(typeof joined).toBe("string");
      expect(isInside(root, joined as string)).toBe(true);
    }), { numRuns: 300 });
  });
});

const host = fc.constantFrom("git.example.com", "GIT.Example.com", "h", "H");
const pathSegment = fc.constantFrom("team-a", "Team-A", "team-b", "x", "..", ".", "%2e%2e", "%2E", "repo.git", "");
const httpUrl = fc.record({
  scheme: fc.constantFrom("https", "HTTPS", "http"),
  userinfo: fc.constantFrom("", "u@", "u:p@"),
  host,
  port: fc.constantFrom("", ":443", ":80", ":8443"),
  segments: fc.array(pathSegment, { maxLength: 6 }),
  suffix: fc.constantFrom("", "/", ".git", ".git/"),
}).map((u) => `${u.scheme}://${u.userinfo}${u.host}${u.port}/${u.segments.join("/")}${u.suffix}`);

describe("normalizeRepoUrl", () => {
  it("is idempotent, drops userinfo, and leaves no '.' or '..' segment", () => {
    fc.assert(fc.property(httpUrl, (url) => {
      const normal = normalizeRepoUrl(url);
      expect(normalizeRepoUrl(normal)).toBe(normal);
      expect(normal).not.toMatch(/@/);
      const path = normal.replace(/^[a-z]+:\/\/[^/]*/, "");
      expect(path.split("/")).not.toContain("..");
      expect(path.split("/")).not.toContain(".");
      expect(normal).not.toMatch(/\.git$|\/$/);
    }), { numRuns: 500 });
  });

  it("gives every spelling of a repository the key of its plain spelling", () => {
    fc.assert(fc.property(fc.constantFrom("", "u:p@"), fc.constantFrom("", ":443"), fc.constantFrom("", ".git", "/"), fc.boolean(), (user, port, suffix, upper) => {
      const base = "https://git.example.com/team-a/repo";
      const spelled = `https://${user}${upper ? "GIT.EXAMPLE.COM" : "git.example.com"}${port}/team-b/../team-a/./repo${suffix}`;
      expect(normalizeRepoUrl(spelled)).toBe(normalizeRepoUrl(base));
    }));
  });

  it("a deny pattern written for a repository denies every spelling of it", () => {
    fc.assert(fc.property(httpUrl, (url) => {
      const normal = normalizeRepoUrl(url);
      const patterns = ["https://**", "http://**", `!${url}`].map(normalizeRepoPattern);
      // Patterns are matched on normalised URLs: a URL's own deny pattern always matches it.
      expect(matchesList(patterns, normal, { separator: "/" })).toBe(false);
    }), { numRuns: 300 });
  });
});

/** A glob that matches `text` literally: every special character escaped. */
const escapeGlob = (text: string) => text.replace(/[\\*?[\]{},]/g, "\\$&");

describe("glob matching", () => {
  it("an escaped literal matches itself, with and without the / separator", () => {
    fc.assert(fc.property(fc.string({ maxLength: 30 }), (text) => {
      expect(globMatch(escapeGlob(text), text)).toBe(true);
      expect(globMatch(escapeGlob(text), text, { separator: "/" })).toBe(true);
    }), { numRuns: 500 });
  });

  it("`*` with the / separator never crosses a /, `**` always does", () => {
    fc.assert(fc.property(fc.stringMatching(/^[a-z]{0,5}$/), fc.stringMatching(/^[a-z]{0,5}$/), (left, right) => {
      expect(globMatch("p/*", `p/${left}/${right}`, { separator: "/" })).toBe(false);
      expect(globMatch("p/**", `p/${left}/${right}`, { separator: "/" })).toBe(true);
      expect(globMatch("p/*", `p/${left}/${right}`)).toBe(true);
    }));
  });

  it("a `!` pattern in a list wins over any allowing pattern", () => {
    fc.assert(fc.property(fc.string({ maxLength: 20 }), fc.array(fc.constantFrom("*", "**", "?*", "a*"), { maxLength: 3 }), (value, allows) => {
      expect(matchesList([...allows, `!${escapeGlob(value)}`], value)).toBe(false);
    }), { numRuns: 300 });
  });
});
