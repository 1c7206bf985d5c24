// The registry's challenge (`WWW-Authenticate`) read as Docker reads it: `Bearer realm=…,service=…,scope=…`
// sends the client to a token server (with Basic credentials when it has them), `Basic realm=…` asks for
// the credentials on the request itself.

/** One challenge from a `WWW-Authenticate` header. */
export interface Challenge {
  /** Lower-case scheme: `bearer` or `basic`. */
  readonly scheme: string;
  readonly params: Readonly<Record<string, string>>;
}

/** Parses a `WWW-Authenticate` header value (one or more challenges, quoted or bare parameter values). */
export function parseChallenges(header: string): Challenge[] {
  const challenges: { scheme: string; params: Record<string, string> }[] = [];
  let i = 0;
  const skip = (chars: RegExp): void => {
    while (i < header.length && chars.test(header.charAt(i))) i++;
  };
  while (i < header.length) {
    skip(/[\s,]/);
    const start = i;
    skip(/[\w.+/-]/);
    const word = header.slice(start, i);
    if (word === "") break;
    skip(/[ \t]/);
    if (header.charAt(i) !== "=") {
      challenges.push({ scheme: word.toLowerCase(), params: {} });
      continue;
    }
    i++;
    skip(/[ \t]/);
    let value = "";
    if (header.charAt(i) === '"') {
      i++;
      while (i < header.length && header.charAt(i) !== '"') {
        if (header.charAt(i) === "\\") i++;
        value += header.charAt(i++);
      }
      i++;
    } else {
      const from = i;
      skip(/[^\s,]/);
      value = header.slice(from, i);
    }
    const current = challenges.at(-1);
    if (current !== undefined) current.params[word.toLowerCase()] = value;
  }
  return challenges;
}

/** The token server's URL for a Bearer challenge: realm + service + scope (the challenge's, or `pull` on the repository). */
export function tokenURL(challenge: Challenge, repository: string): string {
  const realm = challenge.params.realm;
  if (realm === undefined || realm === "") throw new Error("the registry's Bearer challenge names no realm");
  const url = new URL(realm);
  if (challenge.params.service !== undefined) url.searchParams.set("service", challenge.params.service);
  url.searchParams.set("scope", challenge.params.scope ?? `repository:${repository}:pull`);
  return url.toString();
}

/** The token from a token server's JSON answer (`token` or OAuth's `access_token`) and how long it lives. */
export function parseTokenResponse(body: unknown): { token: string; expiresInMs: number } {
  const record = (typeof body === "object" && body !== null ? body : {}) as Record<string, unknown>;
  const token = typeof record.token === "string" && record.token !== "" ? record.token
    : typeof record.access_token === "string" ? record.access_token : "";
  if (token === "") throw new Error("the token server answered without a token");
  // The distribution spec: a token without expires_in lives 60 seconds.
  const seconds = typeof record.expires_in === "number" && record.expires_in > 0 ? record.expires_in : 60;
  return { token, expiresInMs: seconds * 1000 };
}

/** `Basic base64(user:password)`. */
export function basicAuth(username: string, password: string): string {
  return `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
}
