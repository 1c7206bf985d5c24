// The senders by service type. Each reads its options once (a bad option is an error naming the key)
// and returns a function that sends one rendered notification to one destination.
import type { ServiceConfig } from "../config.ts";
import { emailSender } from "./email.ts";
import { githubSender } from "./github.ts";
import { mattermostSender } from "./mattermost.ts";
import type { Sender } from "./options.ts";
import { slackSender } from "./slack.ts";
import { webhookSender } from "./webhook.ts";

export type { Sender } from "./options.ts";
export { PermanentError } from "./http.ts";

const FACTORIES: Readonly<Record<string, (name: string, options: Readonly<Record<string, unknown>>) => Sender>> = {
  webhook: webhookSender, slack: slackSender, github: githubSender, email: emailSender, mattermost: mattermostSender,
};

/** The sender for a configured service; throws when its options cannot work. */
export function senderFor(service: ServiceConfig): Sender {
  const factory = FACTORIES[service.type];
  if (factory === undefined) throw new Error(`service type "${service.type}" is not supported`);
  return factory(service.name, service.options);
}
