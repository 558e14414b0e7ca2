// What this browser remembers in localStorage: its recent jobs (to list them and resume their
// progress after a reload) and the ids of its files on the server (for "delete now").
// Entries past their server-side expiry are dropped when read.

const JOBS_KEY = 'scanpro.jobs';
const FILES_KEY = 'scanpro.files';
const MAX_JOBS = 30;
const MAX_FILES = 500;

function read(key) {
  try {
    const value = JSON.parse(localStorage.getItem(key) || '[]');
    return Array.isArray(value) ? value : [];
  } catch {
    return [];
  }
}

function write(key, value) {
  try {
    localStorage.setItem(key, JSON.stringify(value));
  } catch {
    /* storage full or disabled: the app works on, without memory across reloads */
  }
}

function alive(entry) {
  return !entry.expires_at || Date.parse(entry.expires_at) > Date.now();
}

/** Recent jobs, newest first: `{id, tool, page, files, created_at, expires_at, status}`. */
export function recentJobs() {
  return read(JOBS_KEY).filter(alive);
}

export function rememberJob(entry) {
  const others = recentJobs().filter((job) => job.id !== entry.id);
  write(JOBS_KEY, [entry, ...others].slice(0, MAX_JOBS));
}

/** Remembers a job just started from `page` and points this page's URL at it, so a reload
 * resumes it. */
export function rememberStartedJob(job, { tool, page, files }) {
  rememberJob({
    id: job.id,
    tool,
    page,
    files,
    created_at: job.created_at,
    expires_at: job.expires_at,
    status: job.status,
  });
  const url = new URL(window.location.href);
  url.search = `?job=${encodeURIComponent(job.id)}`;
  window.history.replaceState(null, '', url);
}

export function updateJob(id, patch) {
  write(
    JOBS_KEY,
    recentJobs().map((job) => (job.id === id ? { ...job, ...patch } : job)),
  );
}

export function forgetJobs() {
  write(JOBS_KEY, []);
}

/** Files of this browser on the server: `{id, expires_at}`. */
export function knownFiles() {
  return read(FILES_KEY).filter(alive);
}

export function rememberFiles(files) {
  const byId = new Map(knownFiles().map((file) => [file.id, file]));
  for (const file of files) byId.set(file.id, { id: file.id, expires_at: file.expires_at });
  write(FILES_KEY, [...byId.values()].slice(-MAX_FILES));
}

export function forgetFiles(ids) {
  const gone = new Set(ids);
  write(
    FILES_KEY,
    knownFiles().filter((file) => !gone.has(file.id)),
  );
}
