// Attendance tab: the grid of attendees × every session of the module, searchable by
// name or id (GET /api/v1/attendees?q=). The device sends the list a page at a time
// (PAGE_SIZE attendees, in registration-number order): the grid shows the first page and
// "Show more" adds the next. Each poll round asks again for the pages shown, each with
// If-None-Match (a 304 while nothing changed), never for the rest of the roster.

import { dateWords, duration, el, hours, text } from "/common.js";
import { attendeePage, EMPTY } from "/staff-data.js";
import { $, hidden, keepFocus, personButton, report, sortedAttendees, sourceWords } from "/staff-dom.js";

const SEARCH_DEBOUNCE_MS = 300;
const PAGE_SIZE = 500; // a whole module's roster, usually: one page

let shown = EMPTY; // the snapshot of the last round
let query = ""; // the search the grid shows
let pages = []; // the bodies of the pages the grid shows, in order
let wanted = 1; // how many pages staff asked to see
let searchSeq = 0; // only the newest load may draw
let searchTimer = 0;

export function wire() {
  $("search").addEventListener("input", () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(() => {
      query = $("search").value.trim();
      wanted = 1;
      load(shown).catch(report);
    }, SEARCH_DEBOUNCE_MS);
  });
  $("grid-more").addEventListener("click", () => {
    wanted = pages.length + 1;
    load(shown).catch(report);
  });
}

// While the tab is open: after each poll round, and when it is selected.
export function show(snapshot) {
  shown = snapshot;
  return load(snapshot);
}

// The pages shown, from the first: each asked again (conditionally), up to `wanted`.
async function load(snapshot) {
  const seq = ++searchSeq;
  const q = query;
  const loaded = [];
  let changed = false;
  let cursor = "";
  while (loaded.length < wanted) {
    const { body, changed: differs } = await attendeePage({ q, cursor, limit: PAGE_SIZE });
    if (seq !== searchSeq) {
      return; // a newer search owns the grid
    }
    changed = changed || differs || pages[loaded.length] !== body;
    loaded.push(body);
    cursor = text(body?.next);
    if (cursor === "") {
      break;
    }
  }
  if (changed || loaded.length !== pages.length) {
    pages = loaded;
    render(q, snapshot.openId);
  }
}

function render(q, openId) {
  const first = pages[0];
  const last = pages[pages.length - 1];
  const sessions = Array.isArray(first?.sessions) ? first.sessions : [];
  const rows = pages.flatMap((p) => (Array.isArray(p?.attendees) ? p.attendees : []));
  const more = text(last?.next) !== "";
  // By name when the whole list is here; while pages are missing, in the device's order,
  // so that "Show more" adds rows below the ones shown.
  const people = more ? rows : sortedAttendees({ attendees: rows });
  const head = $("grid-head");
  const body = $("grid-body");
  head.replaceChildren(...gridHead(sessions, openId));
  keepFocus(body, () => body.replaceChildren(...people.map((a) => gridRow(a, sessions, openId))));
  if (people.length === 0) {
    const cell = el("td", { colspan: String(sessions.length + 2), class: "empty" }, q ? `Nobody matches “${q}”.` : "The roster is empty.");
    body.replaceChildren(el("tr", {}, cell));
  }
  const total = Number.isInteger(first?.total) ? first.total : people.length;
  const matched = Number.isInteger(first?.matched) ? first.matched : people.length;
  const showing = more ? ` · showing ${people.length}, by registration number` : "";
  $("grid-count").textContent = (q ? `${matched} of ${total} match “${q}”` : `${total} attendees`) + showing;
  const button = $("grid-more");
  button.hidden = !more;
  button.textContent = `Show ${Math.min(PAGE_SIZE, Math.max(0, matched - people.length))} more`;
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
  const cells = sessions.map((s) =>
    attendee.presence ? presenceCell(attendee.presence[s.id], s, s.id === openId) : gridCell(attendee.checkins?.[s.id], s, s.id === openId),
  );
  const attended = Number(attendee.sessions_attended ?? Object.keys(attendee.checkins ?? {}).length);
  return el(
    "tr",
    { dataset: { attendeeId: attendee.id } },
    el("th", { scope: "row", class: "col-name" }, personButton(attendee)),
    ...cells,
    el("td", { class: "col-total" }, `${attended}/${sessions.length}`),
  );
}

// Presence mode: the minutes in the session; ✓ once they attend it, "in" while inside.
function presenceCell(p, session, isOpen) {
  const open = isOpen ? " is-open" : "";
  if (!p) {
    return el("td", { class: `cell cell-absent${open}`, title: `${text(session.label)}: not scanned` }, el("span", { "aria-hidden": "true" }, "–"), hidden("not scanned"));
  }
  const minutes = duration(p.minutes_present);
  const state = p.attended ? "attended" : p.inside ? "inside" : "not enough";
  const title = `${text(session.label)}: ${minutes}, ${state}${p.no_exit ? ", no exit" : ""}`;
  const cls = p.attended ? "cell-ok" : "cell-late";
  return el(
    "td",
    { class: `cell ${cls}${open}`, title },
    el("span", { class: "cell-word" }, p.attended ? "✓" : p.inside ? "in" : "part"),
    el("span", { class: "cell-time" }, minutes),
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
