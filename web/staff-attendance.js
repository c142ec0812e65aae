// Attendance tab: the grid of attendees × every session of the module, searchable by
// name or id (GET /api/v1/attendees?q=). Without a search it shows the full list every
// tab draws from.

import { dateWords, el, hours, text } from "/common.js";
import { api } from "/staff-api.js";
import { EMPTY } from "/staff-data.js";
import { $, hidden, keepFocus, personButton, report, sortedAttendees, sourceWords } from "/staff-dom.js";

const SEARCH_DEBOUNCE_MS = 300;

let shown = EMPTY; // the snapshot of the last round
let query = ""; // the search the grid shows
let grid = null; // the attendees body the grid shows
let searchTimer = 0;
let searchSeq = 0; // only the newest search may draw

export function wire() {
  $("search").addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => {
      query = $("search").value.trim();
      load(shown).catch(report);
    }, SEARCH_DEBOUNCE_MS);
  });
}

// While the tab is open: after each poll round, and when it is selected.
export function show(snapshot) {
  shown = snapshot;
  return load(snapshot);
}

async function load(snapshot) {
  const seq = ++searchSeq;
  const q = query;
  let body = snapshot.attendees;
  let changed = false;
  if (q !== "") {
    ({ body, changed } = await api("GET", `/api/v1/attendees?q=${encodeURIComponent(q)}`, { conditional: true }));
  }
  if (seq !== searchSeq) {
    return; // a newer search owns the grid
  }
  if (changed || grid !== body) {
    grid = body;
    render(q, snapshot.openId);
  }
}

function render(q, openId) {
  const sessions = Array.isArray(grid?.sessions) ? grid.sessions : [];
  const people = sortedAttendees(grid);
  const head = $("grid-head");
  const rows = $("grid-body");
  head.replaceChildren(...gridHead(sessions, openId));
  keepFocus(rows, () => rows.replaceChildren(...people.map((a) => gridRow(a, sessions, openId))));
  if (people.length === 0) {
    const cell = el("td", { colspan: String(sessions.length + 2), class: "empty" }, q ? `Nobody matches “${q}”.` : "The roster is empty.");
    rows.replaceChildren(el("tr", {}, cell));
  }
  const total = Number.isInteger(grid?.total) ? grid.total : people.length;
  $("grid-count").textContent = q ? `${people.length} of ${total} match “${q}”` : `${total} attendees`;
}

// Two header rows: the days, then their sessions.
function gridHead(sessions, openId) {
  const days = [];
  for (const session of sessions) {
    const last = days[days.length - 1];
    if (last && last.day === session.day) {
      last.count += 1;
    } else {
      days.push({ day: session.day, count: 1 });
    }
  }
  const top = el(
    "tr",
    {},
    el("th", { scope: "col", rowspan: "2", class: "col-name" }, "Attendee"),
    ...days.map((d) => el("th", { scope: "colgroup", colspan: String(d.count), class: "col-day" }, dateWords(d.day))),
    el("th", { scope: "col", rowspan: "2", class: "col-total" }, "Total"),
  );
  const second = el(
    "tr",
    {},
    ...sessions.map((s) =>
      el(
        "th",
        { scope: "col", class: s.id === openId ? "col-session is-open" : "col-session", title: `${text(s.label)} ${hours(s)}` },
        el("span", { class: "session-label" }, text(s.label)),
        el("span", { class: "session-hours" }, hours(s)),
      ),
    ),
  );
  return [top, second];
}

function gridRow(attendee, sessions, openId) {
  const cells = sessions.map((s) => gridCell(attendee.checkins?.[s.id], s, s.id === openId));
  const attended = Number(attendee.sessions_attended ?? Object.keys(attendee.checkins ?? {}).length);
  return el(
    "tr",
    { dataset: { attendeeId: attendee.id } },
    el("th", { scope: "row", class: "col-name" }, personButton(attendee)),
    ...cells,
    el("td", { class: "col-total" }, `${attended}/${sessions.length}`),
  );
}

// Present (✓), late (the time) or absent (–); never colour alone.
function gridCell(checkin, session, isOpen) {
  const open = isOpen ? " is-open" : "";
  if (!checkin) {
    return el("td", { class: `cell cell-absent${open}`, title: `${text(session.label)}: no check-in` }, el("span", { "aria-hidden": "true" }, "–"), hidden("no check-in"));
  }
  const how = sourceWords(checkin.source);
  const title = `${text(session.label)}: ${checkin.late ? "late, " : ""}${text(checkin.local_time)} (${how})`;
  if (checkin.late) {
    return el("td", { class: `cell cell-late${open}`, title }, el("span", { class: "cell-word" }, "late"), el("span", { class: "cell-time" }, text(checkin.local_time)));
  }
  return el("td", { class: `cell cell-ok${open}`, title }, el("span", { "aria-hidden": "true" }, "✓"), hidden(`present ${text(checkin.local_time)}`));
}
