// Notifications stage: tether-notifications-cm (Argo CD Notifications' keys) in; webhook, Slack,
// GitHub, email and Mattermost notifications out, each at most once per oncePer value. See README.md.
export { NOTIFICATIONS_CONFIGMAP, NOTIFICATIONS_SECRET, parseNotifyConfig, type NotifyConfig } from "./config.ts";
export { compileExpr, evalExpr, ExprError } from "./expr.ts";
export { Notifier, load, type NotifierOptions } from "./notifier.ts";
export { notificationVars, planNotifications, runTrigger, type Delivery } from "./plan.ts";
export { renderNotification, type Notification } from "./render.ts";
export { senderFor, type Sender } from "./services/index.ts";
export { destinationsFor, NOTIFIED_ANNOTATION, type Destination } from "./subscriptions.ts";
