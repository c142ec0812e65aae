// What every part of the dashboard draws from: the summary (GET /api/v1/summary: the
// module, its sessions with today's counts, clock and sync) and the full attendee list
// (GET /api/v1/attendees, with each one's check-ins). load() fetches both once per poll
// round, conditionally (a 304 almost always), and hands out a Snapshot; the modules that
// draw keep the last Snapshot they drew from and nothing else of this.
//
// This module owns the last bodies, the module's time formats (its time zone is in the
// summary) and the offset of the device's clock from this browser's.

import { text, timeFormats } from "/common.js";
import { api } from "/staff-api.js";

let summary = null;
let attendees = null;
let time = timeFormats(undefined); // the browser's zone until the summary names one
let clockOffset = 0; // device clock minus this browser's clock, ms

// One round. Resolves with { snapshot, changed: { summary, attendees } } (whether each
// body differs from the last round's); rejects with the API's error.
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
  const a = await api("GET", "/api/v1/attendees", { conditional: true });
  attendees = a.body;
  return { snapshot: new Snapshot(summary, attendees, time, clockOffset), changed: { summary: s.changed, attendees: a.changed } };
}

// After a logout: nothing of the last session is kept.
export function reset() {
  summary = null;
  attendees = null;
}

// The bodies of one round and what the page needs to read them. Never changed after it
// is made; summary and attendees may be null (not loaded).
export class Snapshot {
  constructor(summaryBody, attendeesBody, timeFormatsOfModule, offsetMs) {
    this.summary = summaryBody;
    this.attendees = attendeesBody;
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
    const list = this.attendees?.sessions ?? this.summary?.sessions;
    return Array.isArray(list) ? list : [];
  }

  findSession(id) {
    return this.sessions().find((s) => s.id === id) ?? this.summary?.sessions?.find?.((s) => s.id === id) ?? null;
  }

  findAttendee(id) {
    return this.attendees?.attendees?.find?.((a) => a.id === id) ?? null;
  }

  // An RFC 3339 instant in the module's zone; style: "full" (no year) or "year".
  formatInstant(value, style = "full") {
    const date = new Date(text(value));
    return Number.isNaN(date.getTime()) ? text(value) || "–" : this.time[style].format(date);
  }
}

export const EMPTY = new Snapshot(null, null, time, 0);
