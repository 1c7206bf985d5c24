import { describe, expect, it } from "vitest";
import type { Condition } from "../api/types.ts";
import { PREFIX, parseAnnotations } from "./annotations.ts";
import { RECHECK_MS, imageConditions, inScope, mergeScopes, pendingChanges, type PassScope, type WrittenTag } from "./decide.ts";
import type { ImageChange } from "./edit.ts";

const image = parseAnnotations({ [`${PREFIX}image-list`]: "web=127.0.0.1:5000/team/web:~1.2" }, ".").images[0]!;
const change: ImageChange = { image, tag: "1.2.3" };
const NOW = 1_000_000_000;

describe("pendingChanges", () => {
  it.each<[string, WrittenTag | undefined, boolean]>([
    ["a tag never written is written", undefined, true],
    ["the tag written a moment ago costs nothing", { tag: "1.2.3", at: NOW - 5_000 }, false],
    ["another tag written before is replaced", { tag: "1.2.2", at: NOW - 5_000 }, true],
    ["the same tag is checked again after a while (someone may have changed Git)", { tag: "1.2.3", at: NOW - RECHECK_MS }, true],
  ])("%s", (_title, written, pending) => {
    expect(pendingChanges([change], () => written, NOW)).toEqual(pending ? [change] : []);
  });
});

describe("imageConditions", () => {
  const synced: Condition = { type: "SyncError", message: "other", lastTransitionTime: "t0" };
  const error = (message: string, at = "t1"): Condition => ({ type: "ImageUpdateError", message, lastTransitionTime: at });
  const warning = (message: string, at = "t1"): Condition => ({ type: "ImageUpdateWarning", message, lastTransitionTime: at });

  it.each<[string, Condition[], { problems: string[]; warnings: string[] }, Condition[]]>([
    ["nothing wrong, nothing before: no condition", [synced], { problems: [], warnings: [] }, [synced]],
    ["problems become one error, joined", [synced], { problems: ["a", "b"], warnings: [] }, [synced, error("a; b", "now")]],
    ["the same problem keeps its time", [error("a")], { problems: ["a"], warnings: [] }, [error("a")]],
    ["a changed problem takes a new time", [error("a")], { problems: ["b"], warnings: [] }, [error("b", "now")]],
    ["a solved problem clears its condition, others stay", [synced, error("a")], { problems: [], warnings: [] }, [synced]],
    ["a warning beside an error", [], { problems: ["a"], warnings: ["not GitOps"] }, [error("a", "now"), warning("not GitOps", "now")]],
  ])("%s", (_title, before, outcome, expected) => {
    expect(imageConditions(before, outcome, "now")).toEqual(expected);
  });
});

describe("which apps a pass looks at", () => {
  const follows = (...repositories: string[]) => repositories.map((repository) => ({ image: { repository } }));

  it.each<[string, ReturnType<typeof follows>, PassScope, boolean]>([
    ["the poll looks at every annotated app", follows("team/web"), "all", true],
    ["the poll looks at an app whose annotations cannot be read, to say so", [], "all", true],
    ["a notification for a repository the app follows", follows("team/db", "team/web"), new Set(["team/web"]), true],
    ["a notification for another repository", follows("team/web"), new Set(["team/api"]), false],
    ["a notification does not look at an app whose annotations cannot be read", [], new Set(["team/web"]), false],
  ])("%s", (_title, images, scope, expected) => {
    expect(inScope(images, scope)).toBe(expected);
  });

  it.each<[string, PassScope | undefined, PassScope, PassScope]>([
    ["nothing queued: the new one", undefined, new Set(["a"]), new Set(["a"])],
    ["two notifications: both repositories", new Set(["a"]), new Set(["b"]), new Set(["a", "b"])],
    ["a poll covers a notification", new Set(["a"]), "all", "all"],
    ["a notification adds nothing to a poll", "all", new Set(["a"]), "all"],
  ])("%s", (_title, queued, next, expected) => {
    expect(mergeScopes(queued, next)).toEqual(expected);
  });
});
