/**
 * The one redaction of connection strings (core's errors, the CLI's messages, drivers):
 * the userinfo password (and a NATS token), and password-like query values become `***`, and any text that
 * may echo them (a driver's error message) can be scrubbed of them.
 */
const USERINFO_PASSWORD = /^([a-z][a-z0-9+.-]*:\/\/[^/?#@]*?:)[^/?#@]*@/i;
// NATS takes a lone userinfo as a token (`nats://TOKEN@host`): it is the secret itself.
const USERINFO_TOKEN = /^((?:nats|tls):\/\/)([^/?#@:]+)@/i;
const SECRET_PARAM = /([?&](?:password|passwd|pass|pwd|token|access_token|secret|api_key|apikey)=)([^&#]*)/gi;

/** The connection string with its password and password-like query values replaced by `***`. */
export function redactConnectionString(cs: string): string {
  return cs.replace(USERINFO_PASSWORD, '$1***@').replace(USERINFO_TOKEN, '$1***@').replace(SECRET_PARAM, (m, key: string, value: string) => (value === '' ? m : key + '***'));
}

function decoded(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}

/** The secrets of a connection string (raw and percent-decoded), longest first. */
export function connectionSecrets(cs: string): string[] {
  const found = new Set<string>();
  const m = /^[a-z][a-z0-9+.-]*:\/\/([^/?#@]*)@/i.exec(cs);
  if (m !== null) {
    const colon = m[1].indexOf(':');
    if (colon >= 0 && colon < m[1].length - 1) {
      const raw = m[1].slice(colon + 1);
      found.add(raw).add(decoded(raw));
    }
  }
  const t = USERINFO_TOKEN.exec(cs);
  if (t !== null) found.add(t[2]).add(decoded(t[2]));
  for (const q of cs.matchAll(SECRET_PARAM)) if (q[2] !== '') found.add(q[2]).add(decoded(q[2]));
  return [...found].filter((s) => s.length > 0).sort((a, b) => b.length - a.length);
}

/** `text` with every secret of connection string `cs` replaced by `***` (for messages that may echo them). */
export function scrubSecrets(text: string, cs: string): string {
  let out = text;
  for (const secret of connectionSecrets(cs)) out = out.split(secret).join('***');
  return out;
}
