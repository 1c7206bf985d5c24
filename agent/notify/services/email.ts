// `service.email[.<name>]`: SMTP through nodemailer: `host`, `port`, `from`, `username`/`password`,
// STARTTLS whenever the server offers it (`insecure_skip_verify` accepts any certificate), `html`. The
// recipient is one address or several separated by commas; the template's `email.subject` and
// `email.body` (the message when absent).
import nodemailer from "nodemailer";
import type { Destination } from "../subscriptions.ts";
import { field, type Notification } from "../render.ts";
import { options, type Sender } from "./options.ts";

export function emailSender(service: string, raw: Readonly<Record<string, unknown>>): Sender {
  const key = `service.email${service === "email" ? "" : `.${service}`}`;
  const o = options(key, raw);
  const host = o.string("host", { required: true });
  const port = o.number("port", 587);
  const from = o.string("from", { required: true });
  const username = o.string("username");
  const html = o.bool("html");
  const transport = nodemailer.createTransport({
    host, port, secure: port === 465,
    ...(username === "" ? {} : { auth: { user: username, pass: o.string("password") } }),
    tls: { rejectUnauthorized: !o.bool("insecure_skip_verify") },
    connectionTimeout: 15_000, greetingTimeout: 15_000, socketTimeout: 30_000,
  });
  return async (n: Notification, dest: Destination, signal: AbortSignal) => {
    const to = dest.recipient.split(",").map((r) => r.trim()).filter((r) => r !== "");
    if (to.length === 0) throw new Error(`${key}: the subscription names no address; write the recipient as a@example.com[,b@example.com]`);
    signal.throwIfAborted();
    const body = field(n, "email.body") || n.message;
    try {
      await transport.sendMail({ from, to, subject: field(n, "email.subject"), ...(html ? { html: body } : { text: body }) });
    } catch (err) {
      // nodemailer's messages may quote the server's answer, never the password.
      throw new Error(`SMTP ${host}:${port}: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
}
