// Real receivers on 127.0.0.1 for the notification services: an HTTP server that records every request
// (webhook, Slack, Mattermost and GitHub-shaped APIs answer through `respond`) and an SMTP server
// (npm smtp-server, STARTTLS offered with its built-in certificate) that records every message.
import http from "node:http";
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

export interface HttpReceiver {
  readonly url: string;
  readonly port: number;
  readonly requests: RecordedRequest[];
  close(): Promise<void>;
}

export type Responder = (req: RecordedRequest) => { status: number; body?: unknown } | undefined;

/** An HTTP receiver; `respond` answers a request (default 200 with `{"ok":true}`); `port` reuses a port. */
export async function httpReceiver(respond: Responder = () => undefined, port = 0): Promise<HttpReceiver> {
  const requests: RecordedRequest[] = [];
  const server = http.createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (d: string) => { body += d; });
    req.on("end", () => {
      const recorded = { method: req.method ?? "", path: req.url ?? "", headers: req.headers, body };
      requests.push(recorded);
      const answer = respond(recorded) ?? { status: 200, body: { ok: true } };
      res.writeHead(answer.status, { "content-type": "application/json" });
      res.end(typeof answer.body === "string" ? answer.body : JSON.stringify(answer.body ?? {}));
    });
  });
  await new Promise<void>((resolve, reject) => server.once("error", reject).listen(port, "127.0.0.1", () => resolve()));
  const actual = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${actual}`, port: actual, requests,
    close: () => new Promise((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}

/** A port that nothing listens on (yet): a receiver that is down. */
export async function freePort(): Promise<number> {
  const r = await httpReceiver();
  await r.close();
  return r.port;
}

export interface ReceivedMail {
  readonly from: string;
  readonly to: readonly string[];
  readonly subject: string;
  readonly raw: string;
  /** Whether the session had switched to TLS (STARTTLS) when the message came. */
  readonly secure: boolean;
}

export interface SmtpReceiver {
  readonly port: number;
  readonly mails: ReceivedMail[];
  close(): Promise<void>;
}

export async function smtpReceiver(): Promise<SmtpReceiver> {
  const mails: ReceivedMail[] = [];
  const server = new SMTPServer({
    authOptional: true, disabledCommands: [], logger: false,
    onAuth: (auth, _session, callback) => callback(null, { user: auth.username }),
    onData: (stream, session, callback) => {
      let raw = "";
      stream.setEncoding("utf8");
      stream.on("data", (d: string) => { raw += d; });
      stream.on("end", () => {
        const subject = /^Subject: (.*)$/m.exec(raw)?.[1]?.trim() ?? "";
        mails.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : "",
          to: session.envelope.rcptTo.map((r) => r.address), subject, raw, secure: session.secure,
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => { server.once("error", reject); server.listen(0, "127.0.0.1", () => resolve()); });
  const port = (server.server.address() as AddressInfo).port;
  return { port, mails, close: () => new Promise((resolve) => server.close(() => resolve())) };
}
