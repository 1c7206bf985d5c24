import { describe, expect, it } from "vitest";
import type { Condition } from "../api/types.ts";
import { PREFIX, parseAnnotations } from "./annotations.ts";
import { RECHECK_MS, imageConditions, pendingChanges, type WrittenTag } from "./decide.ts";
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
