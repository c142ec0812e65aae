// Audit tab: the latest 100 entries of the audit log (GET /api/v1/audit), newest first,
// in plain words, with names for the ids the dashboard knows.

import { dateWords, el, text } from "/common.js";
import { api } from "/staff-api.js";
import { EMPTY } from "/staff-data.js";
import { $, report, sortName } from "/staff-dom.js";

const AUDIT_URL = "/api/v1/audit?limit=100";

// Plain words for the actions.
const ACTIONS = {
  login: "logged in",
  logout: "logged out",
  login_failed: "could not log in",
  manual_checkin: "checked in an attendee manually",
  void: "voided a check-in",
  roster_import: "imported the roster",
  walk_in: "added a walk-in attendee",
  close_module: "closed the module",
  set_clock: "set the device clock",
  staff_add: "added a staff account",
  staff_password_reset: "reset a staff password",
  staff_disable: "disabled a staff account",
  staff_enable: "enabled a staff account",
  staff_role: "changed a staff account's role",
  staff_access: "changed a staff account's role and state",
};

let shown = EMPTY; // the snapshot of the last round

export function wire() {
  $("audit-refresh").addEventListener("click", () => load().catch(report));
}

// While the tab is open: after each poll round (a 304 while nothing happened).
export function show(snapshot) {
  shown = snapshot;
  return load();
}

async function load() {
  const { body, changed } = await api("GET", AUDIT_URL, { conditional: true });
  const list = $("audit-list");
  if (changed || list.childElementCount === 0) {
    const entries = Array.isArray(body?.entries) ? body.entries : [];
    list.replaceChildren(...(entries.length > 0 ? entries.map(auditItem) : [el("li", { class: "empty" }, "No entries yet.")]));
  }
}

function auditItem(entry) {
  const details = entry.details && typeof entry.details === "object" ? Object.entries(entry.details) : [];
  return el(
    "li",
    { class: "audit-entry", dataset: { seq: String(entry.seq ?? ""), action: text(entry.action) } },
    el("time", { class: "audit-time", datetime: text(entry.at) }, shown.formatInstant(entry.at)),
    el(
      "p",
      { class: "audit-what" },
      el("strong", {}, text(entry.actor) || "the device"),
      ` ${ACTIONS[entry.action] ?? text(entry.action).replaceAll("_", " ")}`,
    ),
    details.length > 0 ? el("p", { class: "audit-details" }, details.map(([k, v]) => detailWords(k, v)).join(" · ")) : null,
  );
}

// One detail of an audit entry in plain words, with names for ids the page knows.
function detailWords(key, value) {
  const label = key.replace(/_id$/, "").replaceAll("_", " ");
  if (key === "attendee_id") {
    const a = shown.findAttendee(value);
    return `attendee: ${a ? `${sortName(a)} (${value})` : value}`;
  }
  if (key === "checkin_id") {
    return `check-in #${value}`;
  }
  if (key === "session_id") {
    const s = shown.findSession(value);
    return `session: ${s ? `${text(s.label)}, ${dateWords(s.day)}` : value}`;
  }
  if (value === null || value === undefined) {
    return `${label}: none`;
  }
  if (typeof value === "string" && /^\d{4}-\d\d-\d\dT/.test(value)) {
    return `${label}: ${shown.formatInstant(value, "year")}`;
  }
  const words = typeof value === "object" ? JSON.stringify(value) : String(value);
  return `${label}: ${words.length > 160 ? `${words.slice(0, 157)}…` : words}`;
}
