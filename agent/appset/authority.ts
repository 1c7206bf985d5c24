// Whose rules a set's Applications answer to. A set rendered by an app-of-apps (it carries the
// tracking annotation the agent puts on every object it applies) may generate Applications only in
// projects its parent's project could write a child Application in (its own, or `childProjects`):
// the same rule as a child Application in Git, so a tenant's repository cannot reach another project
// through a set. A set applied directly by a cluster user is trusted as an Application applied
// directly is. Either way each generated Application must pass its own project's source and
// destination rules before it is written. Pure.
import { TRACKING_ANNOTATION, type AppProject, type Application, type ApplicationSet, type Manifest } from "../api/types.ts";
import { errorMessage } from "../errors.ts";
import { checkApplication, childProjectViolation } from "../policy/project.ts";

/** The parent Application (`namespace/name`) whose render applied this set, from its tracking annotation. */
export function parentOf(set: ApplicationSet): { namespace: string; name: string } | undefined {
  const id = set.metadata?.annotations?.[TRACKING_ANNOTATION];
  const owner = id?.slice(0, id.indexOf(":"));
  const slash = owner?.indexOf("/") ?? -1;
  if (owner === undefined || slash < 0) return undefined;
  return { namespace: owner.slice(0, slash), name: owner.slice(slash + 1) };
}

export interface Authority {
  /** The parent's project when the set came from an app-of-apps; absent for a set applied directly. */
  readonly parentProject?: AppProject;
  /** The AppProjects by name, to check each generated app against its own. */
  readonly projects: ReadonlyMap<string, AppProject>;
  /** How the set is named in messages: `ApplicationSet guestbook`. */
  readonly setName: string;
}

/** Why each generated app may not be written (by name); the others are valid. */
export function refusals(apps: readonly Application[], authority: Authority): Map<string, string> {
  const refused = new Map<string, string>();
  for (const app of apps) {
    const name = app.metadata?.name ?? "";
    const project = app.spec.project ?? "default";
    if (authority.parentProject) {
      const violation = childProjectViolation(authority.parentProject, app as unknown as Manifest);
      if (violation !== undefined) {
        refused.set(name, `${authority.setName} (rendered by an app of project ${authority.parentProject.metadata?.name ?? ""}): ${violation}`);
        continue;
      }
    }
    const own = authority.projects.get(project);
    if (!own) {
      refused.set(name, `Application ${name} references project ${project} which does not exist; create the AppProject or fix the template's spec.project`);
      continue;
    }
    try {
      checkApplication(own, app);
    } catch (err) {
      refused.set(name, errorMessage(err));
    }
  }
  return refused;
}
