// The triggers Argo CD ships in its catalog, under the same names, with Tether's own templates: one
// annotation (`notifications.argoproj.io/subscribe.on-sync-failed.slack: my-channel`) is enough. A key
// of the same name in tether-notifications-cm replaces an entry here.
//
// Differences from Argo CD's catalog: on-deployed does not compare `health.lastTransitionTime` (Tether
// does not record it); the sync templates carry a `github` block (a commit status on the synced commit,
// context `tether/<app>`), so `subscribe.on-deployed.github: ""` is enough for CI to see a deployment.

const ONCE_PER_REVISION = "app.status.operationState?.syncResult?.revision";

export const CATALOG_TRIGGERS: Readonly<Record<string, string>> = {
  "on-created": yamlTrigger("true", "Application is created.", "app-created", "app.metadata.name"),
  "on-deleted": yamlTrigger("app.metadata.deletionTimestamp != nil", "Application is deleted.", "app-deleted", "app.metadata.name"),
  "on-deployed": yamlTrigger(
    "app.status.operationState != nil and app.status.operationState.phase in ['Succeeded'] and app.status.health.status == 'Healthy'",
    "Application is synced and healthy. Triggered once per commit.", "app-deployed", ONCE_PER_REVISION),
  "on-health-degraded": yamlTrigger("app.status.health.status == 'Degraded'", "Application has degraded", "app-health-degraded", ONCE_PER_REVISION),
  "on-sync-failed": yamlTrigger("app.status.operationState != nil and app.status.operationState.phase in ['Error', 'Failed']",
    "Application syncing has failed", "app-sync-failed", ONCE_PER_REVISION),
  "on-sync-running": yamlTrigger("app.status.operationState != nil and app.status.operationState.phase in ['Running']",
    "Application is being synced", "app-sync-running", ONCE_PER_REVISION),
  "on-sync-status-unknown": yamlTrigger("app.status.sync.status == 'Unknown'", "Application status is 'Unknown'",
    "app-sync-status-unknown", ONCE_PER_REVISION),
  "on-sync-succeeded": yamlTrigger("app.status.operationState != nil and app.status.operationState.phase in ['Succeeded']",
    "Application syncing has succeeded", "app-sync-succeeded", ONCE_PER_REVISION),
};

function yamlTrigger(when: string, description: string, send: string, oncePer: string): string {
  return `- when: ${JSON.stringify(when)}\n  description: ${JSON.stringify(description)}\n  send: [${send}]\n  oncePer: ${oncePer}\n`;
}

const LINK = "{{.context.argocdUrl}}/applications/{{.app.metadata.name}}";
const REVISION = "{{.app.status.operationState.syncResult.revision}}";

/** A template: a message for every service, an email subject, a Slack colour, a GitHub commit status if `state` is given. */
function yamlTemplate(subject: string, message: string, opts: { color: string; githubState?: string }): string {
  const lines = [
    `message: |`,
    ...message.split("\n").map((l) => `  ${l}`),
    `email:`,
    `  subject: ${JSON.stringify(subject)}`,
    `slack:`,
    `  attachments: |`,
    `    [{"title": "{{.app.metadata.name}}", "title_link": "${LINK}", "color": "${opts.color}",`,
    `      "fields": [{"title": "Sync Status", "value": "{{.app.status.sync.status}}", "short": true},`,
    `                 {"title": "Health Status", "value": "{{.app.status.health.status}}", "short": true}]}]`,
  ];
  if (opts.githubState) {
    lines.push(`github:`, `  status:`, `    state: ${opts.githubState}`, `    label: "tether/{{.app.metadata.name}}"`, `    targetURL: "${LINK}"`);
  }
  return `${lines.join("\n")}\n`;
}

export const CATALOG_TEMPLATES: Readonly<Record<string, string>> = {
  "app-created": yamlTemplate("Application {{.app.metadata.name}} has been created.",
    "Application {{.app.metadata.name}} has been created.", { color: "#18be52" }),
  "app-deleted": yamlTemplate("Application {{.app.metadata.name}} has been deleted.",
    "Application {{.app.metadata.name}} has been deleted.", { color: "#E96D76" }),
  "app-deployed": yamlTemplate("New version of an application {{.app.metadata.name}} is up and running.",
    "Application {{.app.metadata.name}} is now running revision " + REVISION + " of its manifests.\nApplication details: " + LINK + ".",
    { color: "#18be52", githubState: "success" }),
  "app-health-degraded": yamlTemplate("Application {{.app.metadata.name}} has degraded.",
    "Application {{.app.metadata.name}} has degraded: {{.app.status.health.message}}\nApplication details: " + LINK + ".",
    { color: "#f4c030" }),
  "app-sync-failed": yamlTemplate("Failed to sync application {{.app.metadata.name}}.",
    "The sync operation of application {{.app.metadata.name}} has failed at {{.app.status.operationState.finishedAt}} "
      + "with the following error: {{.app.status.operationState.message}}\nSync operation details are available at: " + LINK + "?operation=true .",
    { color: "#E96D76", githubState: "failure" }),
  "app-sync-running": yamlTemplate("Start syncing application {{.app.metadata.name}}.",
    "The sync operation of application {{.app.metadata.name}} has started at {{.app.status.operationState.startedAt}}.\n"
      + "Sync operation details are available at: " + LINK + "?operation=true .",
    { color: "#0DADEA", githubState: "pending" }),
  "app-sync-status-unknown": yamlTemplate("Application {{.app.metadata.name}} sync status is 'Unknown'",
    "Application {{.app.metadata.name}} sync is 'Unknown'.\nApplication details: " + LINK + ".", { color: "#E96D76" }),
  "app-sync-succeeded": yamlTemplate("Application {{.app.metadata.name}} has been successfully synced.",
    "Application {{.app.metadata.name}} has been successfully synced at {{.app.status.operationState.finishedAt}}.\n"
      + "Sync operation details are available at: " + LINK + "?operation=true .",
    { color: "#18be52", githubState: "success" }),
};
