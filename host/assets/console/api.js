// The console's link to the server: the REST API under /api/v1 and the live
// WebSocket. Signing in sets an HttpOnly session cookie the browser sends by
// itself; every change also carries the CSRF token from the readable
// `frontdesk_csrf` cookie, which other sites cannot read (P5).

/** The CSRF token the server set at sign-in, or '' when signed out. */
function csrfToken() {
  const pair = document.cookie.split('; ').find((c) => c.startsWith('frontdesk_csrf='));
  return pair ? decodeURIComponent(pair.slice('frontdesk_csrf='.length)) : '';
}

/** An API error: `code` and `message` as the server sent them. */
export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

/** Calls the API; resolves to the parsed JSON (or null for 204). */
export async function api(method, path, body) {
  const headers = {};
  if (method !== 'GET') headers['X-CSRF-Token'] = csrfToken();
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  let res;
  try {
    res = await fetch(`/api/v1${path}`, {
      method,
      headers,
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (err) {
    throw new ApiError(0, 'network', `The server cannot be reached (${err.message}); check your connection.`);
  }
  if (res.status === 204) return null;
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (!res.ok) {
    const e = data && data.error;
    throw new ApiError(res.status, e ? e.code : 'http', e ? e.message : `HTTP ${res.status}`);
  }
  return data;
}

/**
 * Sends a file as the raw request body (e.g. a plugin package); resolves to
 * the parsed JSON answer, or throws an `ApiError` like `api`.
 */
export async function upload(path, file, type) {
  let res;
  try {
    res = await fetch(`/api/v1${path}`, {
      method: 'POST',
      headers: { 'X-CSRF-Token': csrfToken(), 'Content-Type': type || file.type || 'application/octet-stream' },
      body: file,
    });
  } catch (err) {
    throw new ApiError(0, 'network', `The server cannot be reached (${err.message}); check your connection.`);
  }
  const text = await res.text();
  let data = null;
  try { data = text ? JSON.parse(text) : null; } catch { data = null; }
  if (!res.ok) {
    const e = data && data.error;
    throw new ApiError(res.status, e ? e.code : 'http', e ? e.message : `HTTP ${res.status}`);
  }
  return data;
}

/** Downloads an attachment and hands it to the browser. */
export async function download(id, name) {
  const res = await fetch(`/api/v1/attachments/${encodeURIComponent(id)}`);
  if (!res.ok) throw new ApiError(res.status, 'http', `The attachment could not be fetched (HTTP ${res.status}).`);
  const url = URL.createObjectURL(await res.blob());
  const a = document.createElement('a');
  a.href = url;
  a.download = name || 'attachment';
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

/**
 * The live socket: calls `onFrame(frame)` for each server frame, and
 * `onState(connected)` when it opens or drops. It reconnects by itself with
 * a growing delay; after a reconnect it sends a synthetic `resync` frame,
 * since events may have passed while it was away.
 */
export class LiveSocket {
  constructor(onFrame, onState) {
    this.onFrame = onFrame;
    this.onState = onState;
    this.delay = 500;
    this.stopped = false;
    this.ws = null;
    this.opened = false;
  }

  start() {
    if (this.stopped) return;
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    // The handshake carries the session cookie; the server checks that it
    // comes from this origin.
    const ws = new WebSocket(`${scheme}://${location.host}/api/v1/live`);
    this.ws = ws;
    ws.onopen = () => {
      this.delay = 500;
      this.onState(true);
      if (this.opened) this.onFrame({ type: 'resync' });
      this.opened = true;
    };
    ws.onmessage = (event) => {
      let frame;
      try { frame = JSON.parse(event.data); } catch { return; }
      this.onFrame(frame);
    };
    ws.onclose = () => {
      this.onState(false);
      if (this.stopped) return;
      setTimeout(() => this.start(), this.delay);
      this.delay = Math.min(this.delay * 2, 15_000);
    };
  }

  /** Tells the server the user is active (R12). */
  activity() {
    if (this.ws && this.ws.readyState === WebSocket.OPEN) {
      this.ws.send('{"type":"activity"}');
    }
  }

  stop() {
    this.stopped = true;
    if (this.ws) this.ws.close();
  }
}
