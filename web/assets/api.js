// Shared fetch wrapper for the Cohort JSON API. Every call resolves to { status, data }
// for any HTTP answer (data is parsed JSON, or null), and rejects with NetworkError only
// when no answer arrived, so pages can tell "the server said no" from "we could not reach it".

export class NetworkError extends Error {
  constructor(cause) {
    super('Could not reach the server');
    this.name = 'NetworkError';
    this.cause = cause;
  }
}

export async function request(method, path, { body, token, signal } = {}) {
  const headers = { accept: 'application/json' };
  if (token) headers.authorization = `Bearer ${token}`;
  let payload;
  if (body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, { method, headers, body: payload, signal, credentials: 'same-origin', cache: 'no-store' });
  } catch (err) {
    throw new NetworkError(err);
  }
  let data = null;
  if ((res.headers.get('content-type') || '').includes('application/json')) {
    try { data = await res.json(); } catch { data = null; }
  }
  return { status: res.status, data };
}

// The error object of the contract's error shape, or an empty one.
export function errorOf(data) {
  const err = data && typeof data === 'object' ? data.error : null;
  return err && typeof err === 'object' ? err : {};
}

// Positive integer id taken from a path like /w/12 or /live/12, or null.
export function idFromPath(prefix, pathname = location.pathname) {
  const m = new RegExp(`^/${prefix}/([1-9][0-9]{0,15})/?$`).exec(pathname);
  return m ? m[1] : null;
}
