// What every part of the dashboard draws from: the summary (GET /api/v1/summary: the
// module, its sessions with today's counts, clock and sync). load() fetches it once per
// poll round, conditionally (a 304 almost always), and hands out a Snapshot; the modules
// that draw keep the last Snapshot they drew from and nothing else of this.
//
// The attendees come a page at a time (attendeePage(): GET /api/v1/attendees with a limit,
// a cursor and the filters), as each tab needs them: with 10,000 attendees the whole list
// is megabytes, on the device and here, so no poll round loads it whole. The names of the
// attendees of the pages loaded are kept (up to KNOWN_MAX), for the tabs that show only
// an id (audit, completion, the detail's title).
//
// This module owns the last summary, the names seen, the module's time formats (its time
// zone is in the summary) and the offset of the device's clock from this browser's.

import { text, timeFormats } from "/common.js";
import { api } from "/staff-api.js";

const KNOWN_MAX = 5000;

let summary = null;
const known = new Map(); // attendee id -> the attendee, from the pages loaded (newest last)
let time = timeFormats(undefined); // the browser's zone until the summary names one
let clockOffset = 0; // device clock minus this browser's clock, ms

// One round. Resolves with { snapshot, changed: { summary } } (whether the body differs
// from the last round's); rejects with the API's error.
export async function load() {
  const s = await api("GET", "/api/v1/summary", { conditional: true });
  const zone = text(s.body?.module?.timezone);
  if (zone !== "" && zone !== summary?.module?.timezone) {
    time = timeFormats(zone);
  }
  summary = s.body;
  // A 304 brings back the old body and its old time: measure only on a fresh one.
  const deviceNow = Date.parse(text(summary?.clock?.time) || text(summary?.now));
  if (s.changed && Number.isFinite(deviceNow)) {
    clockOffset = deviceNow - Date.now();
  }
  return { snapshot: new Snapshot(summary, time, clockOffset), changed: { summary: s.changed } };
}

// One page of the attendee list, conditionally. params: q (the search), session and
// present (true: with a valid check-in there, false: without), cursor (the `next` of the
// page before), limit (1-1000; the device's default is 200). Resolves with
// { body, changed }: body {sessions, attendees, total, matched, limit, next}.
export async function attendeePage(params = {}) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value !== undefined && value !== null && value !== "") {
      query.set(key, String(value));
    }
  }
  const search = query.toString();
  const answer = await api("GET", `/api/v1/attendees${search ? `?${search}` : ""}`, { conditional: true });
  for (const a of Array.isArray(answer.body?.attendees) ? answer.body.attendees : []) {
    known.delete(a.id);
    known.set(a.id, a);
  }
  for (const id of known.keys()) {
    if (known.size <= KNOWN_MAX) {
      break;
    }
    known.delete(id); // the oldest first
  }
  return answer;
}

// After a logout: nothing of the last session is kept.
export function reset() {
  summary = null;
  known.clear();
}

// The summary of one round and what the page needs to read it. Never changed after it
// is made (but for the names seen, which only grow); summary may be null (not loaded).
export class Snapshot {
  constructor(summaryBody, timeFormatsOfModule, offsetMs) {
    this.summary = summaryBody;
    this.time = timeFormatsOfModule; // common.js timeFormats() in the module's zone
    this.clockOffset = offsetMs;
    Object.freeze(this);
  }

  get openId() {
    return this.summary?.open_session?.id ?? null;
  }

  // The device's clock now, as last reported and advanced by this browser's.
  deviceNow() {
    return new Date(Date.now() + this.clockOffset);
  }

  // Every session of the module, in order.
  sessions() {
    const list = this.summary?.sessions;
    return Array.isArray(list) ? list : [];
  }

  findSession(id) {
    return this.sessions().find((s) => s.id === id) ?? null;
  }

  // The attendee as the last page that listed them showed them; null if none has.
  findAttendee(id) {
    return known.get(id) ?? null;
  }

  // An RFC 3339 instant in the module's zone; style: "full" (no year) or "year".
  formatInstant(value, style = "full") {
    const date = new Date(text(value));
    return Number.isNaN(date.getTime()) ? text(value) || "–" : this.time[style].format(date);
  }
}

export const EMPTY = new Snapshot(null, time, 0);
