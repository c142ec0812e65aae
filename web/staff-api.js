// The staff API as the dashboard talks to it (SPEC.md §5). Every request goes through
// api(), which
// - sends X-CSRF-Token with every state-changing request, and when the server refuses
//   the token (csrf_failed) fetches it again once and retries;
// - for a conditional GET, sends If-None-Match with the last ETag of that URL and, on
//   304, answers with the body it kept;
// - turns every failure into an ApiError carrying the server's code, message and hint;
// - on a 401 outside the login itself, calls the handler given to onSessionLost().
//
// This module owns the session's CSRF token and the kept bodies; logging out or losing
// the session forgets both (forget()).

import { request, text } from "/common.js";

export const SESSION_URL = "/api/v1/session";
const REQUEST_TIMEOUT_MS = 15_000;
const KEPT_MAX = 200; // kept bodies: one per URL (each search and page is one), oldest dropped

export class ApiError extends Error {
  // details: the envelope's machine-readable context (e.g. the field that failed), or {}.
  constructor(status, code, message, hint, details = {}) {
    super(message);
    this.status = status;
    this.code = code;
    this.hint = hint;
    this.details = details;
  }
}

let csrf = "";
const kept = new Map(); // url -> { etag, raw, body } of the last 200 to a conditional GET
let sessionLost = () => {};

// What to do when the server says the session is gone (expired, logged out elsewhere).
export function onSessionLost(handler) {
  sessionLost = handler;
}

// Takes the CSRF token from the answer to a login or to GET /api/v1/session.
export function useSession(body) {
  csrf = text(body?.csrf_token);
}

export function forget() {
  csrf = "";
  kept.clear();
}

// One request. Resolves with { status, body, changed }; rejects with ApiError.
// options: json (a body to send as JSON), body + type (raw bytes and their type),
// conditional (If-None-Match as above; changed says whether the body differs from the
// one kept), login (a 401 is an answer, not a lost session; no CSRF token yet).
export async function api(method, url, options = {}) {
  const headers = {};
  if (method !== "GET" && !options.login) {
    headers["X-CSRF-Token"] = csrf;
  }
  if (options.type) {
    headers["Content-Type"] = options.type;
  }
  const last = options.conditional ? kept.get(url) : undefined;
  if (last?.etag) {
    headers["If-None-Match"] = last.etag;
  }
  const answer = await request(url, { method, headers, json: options.json, body: options.body, timeoutMs: REQUEST_TIMEOUT_MS });
  if (answer.status === 0) {
    throw new ApiError(0, "network", "The kiosk server did not answer.", "Check that this device is on the venue network, then try again.");
  }
  if (answer.status === 304 && last) {
    return { status: 304, body: last.body, changed: false };
  }
  if (answer.ok) {
    let changed = true;
    if (options.conditional) {
      changed = last?.raw !== answer.raw;
      kept.delete(url);
      kept.set(url, { etag: answer.headers.get("ETag"), raw: answer.raw, body: answer.body });
      for (const oldest of kept.keys()) {
        if (kept.size <= KEPT_MAX) {
          break;
        }
        kept.delete(oldest);
      }
    }
    return { status: answer.status, body: answer.body, changed };
  }
  const code = answer.code || (answer.status === 401 ? "unauthenticated" : `http_${answer.status}`);
  const details = answer.body?.error?.details;
  const error = new ApiError(
    answer.status,
    code,
    answer.message || `The server answered HTTP ${answer.status}.`,
    answer.hint,
    details !== null && typeof details === "object" ? details : {},
  );
  if (code === "csrf_failed" && !options.retried && (await renewCsrf())) {
    return api(method, url, { ...options, retried: true });
  }
  if (answer.status === 401 && !options.login) {
    sessionLost();
  }
  throw error;
}

// The CSRF token belongs to the login session: fetch it again (the server may have
// restarted with the same session); true when there is one.
async function renewCsrf() {
  try {
    useSession((await api("GET", SESSION_URL)).body);
    return csrf !== "";
  } catch {
    return false;
  }
}
