// The API client: JSON calls, uploads with progress (XMLHttpRequest reports upload progress,
// fetch does not), and job following over Server-Sent Events with a polling fallback.
// Every failure becomes an ApiError carrying the API's stable error code.

const BASE = '/api/v1';
const TERMINAL = new Set(['succeeded', 'failed', 'cancelled']);

export class ApiError extends Error {
  /** `code` is the API's stable code (`unsupported_format` …) or `network`. */
  constructor(code, detail, status = 0) {
    super(detail || code);
    this.code = code;
    this.detail = detail || '';
    this.status = status;
  }
}

export function isTerminal(job) {
  return TERMINAL.has(job?.status);
}

async function request(method, path, { json, headers = {} } = {}) {
  let response;
  try {
    response = await fetch(BASE + path, {
      method,
      headers: json === undefined ? headers : { 'Content-Type': 'application/json', ...headers },
      body: json === undefined ? undefined : JSON.stringify(json),
      credentials: 'same-origin',
    });
  } catch (error) {
    throw new ApiError('network', error.message);
  }
  if (response.status === 204) return null;
  const text = await response.text();
  let body = null;
  try {
    body = text ? JSON.parse(text) : null;
  } catch {
    body = null;
  }
  if (!response.ok) throw problemError(response.status, body, text);
  return body;
}

function problemError(status, body, text) {
  if (body && typeof body.code === 'string') return new ApiError(body.code, body.detail, status);
  const code = status === 413 ? 'file_too_large' : status >= 500 ? 'unavailable' : 'bad_request';
  return new ApiError(code, (text || '').slice(0, 200), status);
}

export const api = {
  tools: () => request('GET', '/tools'),
  me: () => request('GET', '/me'),
  usage: () => request('GET', '/me/usage'),
  register: (email, password) => request('POST', '/auth/register', { json: { email, password } }),
  signIn: (email, password) => request('POST', '/auth/login', { json: { email, password } }),
  signOut: () => request('POST', '/auth/logout'),
  providers: () => request('GET', '/auth/providers'),
  forgotPassword: (email) => request('POST', '/auth/password/forgot', { json: { email } }),
  resetPassword: (token, password) => request('POST', '/auth/password/reset', { json: { token, password } }),
  changePassword: (current, next) =>
    request('POST', '/auth/password/change', { json: { current_password: current, new_password: next } }),
  verifyEmail: (token) => request('POST', '/auth/verify', { json: { token } }),
  deleteAccount: () => request('DELETE', '/me'),
  apiKeys: () => request('GET', '/api-keys'),
  createApiKey: (name, scopes) => request('POST', '/api-keys', { json: { name, scopes } }),
  revokeApiKey: (id) => request('DELETE', `/api-keys/${encodeURIComponent(id)}`),
  adminUsers: (search) => request('GET', `/admin/users?search=${encodeURIComponent(search || '')}`),
  adminUpdateUser: (id, changes) => request('PATCH', `/admin/users/${encodeURIComponent(id)}`, { json: changes }),
  adminDeleteUser: (id) => request('DELETE', `/admin/users/${encodeURIComponent(id)}`),
  adminTools: () => request('GET', '/admin/tools'),
  adminSwitchTool: (name, enabled) => request('PUT', `/admin/tools/${encodeURIComponent(name)}`, { json: { enabled } }),
  adminAudit: () => request('GET', '/admin/audit?limit=100'),
  adminUsage: () => request('GET', '/admin/usage'),
  file: (id) => request('GET', `/files/${encodeURIComponent(id)}`),
  job: (id) => request('GET', `/jobs/${encodeURIComponent(id)}`),
  cancelJob: (id) => request('POST', `/jobs/${encodeURIComponent(id)}/cancel`),
  /** A retry with the same key returns the same job instead of starting a second one. */
  createJob: (inputs, steps, idempotencyKey) =>
    request('POST', '/jobs', { json: { inputs, steps }, headers: { 'Idempotency-Key': idempotencyKey } }),
  /** Deleting what is already gone counts as done. */
  async deleteFile(id) {
    try {
      await request('DELETE', `/files/${encodeURIComponent(id)}`);
      return true;
    } catch (error) {
      if (error.code === 'not_found') return false;
      throw error;
    }
  },
};

/**
 * Uploads one file; `onProgress(loaded, total)` follows the bytes sent.
 * Returns `{promise, abort}`; the promise resolves to the API's file view.
 */
export function uploadFile(file, onProgress) {
  const xhr = new XMLHttpRequest();
  const promise = new Promise((resolve, reject) => {
    xhr.open('POST', `${BASE}/files`);
    xhr.responseType = 'text';
    xhr.upload.addEventListener('progress', (event) => {
      if (event.lengthComputable) onProgress(event.loaded, event.total);
    });
    xhr.addEventListener('load', () => {
      let body = null;
      try {
        body = JSON.parse(xhr.responseText);
      } catch {
        body = null;
      }
      if (xhr.status === 201 && body?.files?.length) resolve(body.files[0]);
      else reject(problemError(xhr.status, body, xhr.responseText));
    });
    // A server that refuses a large body early closes the connection: that reads as an error here.
    xhr.addEventListener('error', () => reject(new ApiError('network', 'the upload was interrupted')));
    xhr.addEventListener('abort', () => reject(new ApiError('cancelled', 'upload cancelled')));
    const form = new FormData();
    form.append('file', file, file.name);
    xhr.send(form);
  });
  return { promise, abort: () => xhr.abort() };
}

/**
 * Follows a job until it ends: `onUpdate(jobView)` at each change. Uses the event stream, and
 * polls instead when the stream fails (a proxy that buffers, a dropped connection).
 * Returns `{close, done}`; `done` resolves with the final job view.
 */
export function followJob(id, onUpdate, { stream = true } = {}) {
  let closed = false;
  let source = null;
  let timer = null;
  let finish;
  const done = new Promise((resolve) => {
    finish = resolve;
  });

  const deliver = (job) => {
    if (closed) return;
    onUpdate(job);
    if (isTerminal(job)) {
      close();
      finish(job);
    }
  };

  const poll = async (delay) => {
    if (closed) return;
    try {
      deliver(await api.job(id));
    } catch (error) {
      if (error.code === 'not_found') {
        close();
        finish(null);
        return;
      }
    }
    if (!closed) timer = setTimeout(() => poll(Math.min(delay * 1.5, 2000)), delay);
  };

  const close = () => {
    closed = true;
    if (source) source.close();
    if (timer) clearTimeout(timer);
  };

  if (stream && typeof EventSource === 'function') {
    source = new EventSource(`${BASE}/jobs/${encodeURIComponent(id)}/events`);
    source.addEventListener('job', (event) => {
      try {
        deliver(JSON.parse(event.data));
      } catch {
        /* a malformed event is skipped; the next one carries the whole state again */
      }
    });
    source.addEventListener('error', () => {
      if (closed) return;
      source.close();
      source = null;
      poll(500);
    });
  } else {
    poll(250);
  }
  return { close, done };
}

/** Creates a job and waits for its end by polling (used for previews, many at a time). */
export async function runJob(inputs, steps) {
  const job = await api.createJob(inputs, steps, randomKeyForPreview());
  if (isTerminal(job)) return job;
  return followJob(job.id, () => {}, { stream: false }).done;
}

function randomKeyForPreview() {
  return `preview-${crypto.getRandomValues(new Uint32Array(4)).join('-')}`;
}
