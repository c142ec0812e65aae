// Today tab: a card per session of today with its counts, and for one of them (the open
// one, or the one staff pick) who is missing and who is here. A missing attendee is
// checked in with one click while their session is open. Both lists are the device's
// (GET /api/v1/attendees?session=ID&present=false|true), at most LIST_SIZE names each,
// asked again each poll round with If-None-Match; their filter is the device's search
// (&q=), which matches names the way people type them (no accents, any case, O'Brien as
// obrien), as the Attendance tab's does. With a big roster, the filter finds the rest.
//
// In presence mode (SPEC section 10) the cards count who is inside and who left early, the
// Here list says for each whether they are inside or left (with their minutes so far), and
// a Left early list (GET /api/v1/presence?session=ID) names those who left before the end.
//
// After a one-tap check-in, an Undo button stays for UNDO_MS (longer while it has the
// keyboard focus or the pointer): it voids that check-in (POST
// /api/v1/checkins/{id}/void, with UNDO_REASON, audited like any void) and the person is
// back in Missing. Only the latest one-tap check-in can be undone this way; any other is
// voided from the attendee's detail.

import { dateWords, duration, el, hours, text } from "/common.js";
import { attendeePage, EMPTY } from "/staff-data.js";
import { api } from "/staff-api.js";
import { manualCheckin } from "/staff-detail.js";
import { $, displayName, keepFocus, listOrEmpty, notify, personButton, report, sortedAttendees } from "/staff-dom.js";

const FILTER_DEBOUNCE_MS = 300;
const LIST_SIZE = 200;
export const UNDO_MS = 8000;
export const UNDO_REASON = "undone by staff (one-tap check-in)";
const UNDO_RECHECK_MS = 1000;

let shown = EMPTY; // the snapshot drawn last
let pick = null; // session id chosen by staff; null: follow the open session
let lastOpenId = null;
let focusAfter = null; // data-focus-key to focus once the Missing list is redrawn
let lists = null; // { sid, q, here, missing, presence }: the bodies drawn; null: none yet
let filterTimer = 0;
let filterSeq = 0; // only the newest filter may draw
// The one-tap check-in that can still be undone: { checkinId, attendeeId, who, expired }.
let undoable = null;
let undoTimer = 0;
let pollSoon = () => {};

// hooks: pollSoon() (refresh everything now).
export function wire(hooks) {
  pollSoon = hooks?.pollSoon ?? pollSoon;
  $("today-filter").addEventListener("input", () => {
    clearTimeout(filterTimer);
    filterTimer = setTimeout(() => loadAndRender(shown).catch(report), FILTER_DEBOUNCE_MS);
  });
  $("panel-today").addEventListener("click", onClick);
  $("undo-button").addEventListener("click", () => undo().catch(report));
  // Time runs out only while staff are not on the button (WCAG 2.2.1): then it goes.
  const bar = $("undo-bar");
  for (const leave of ["focusout", "pointerleave"]) {
    bar.addEventListener(leave, () => setTimeout(hideUndoIfExpired));
  }
}

// While the tab is open: after each poll round, and when it is selected.
export function show(snapshot, changed) {
  return loadAndRender(snapshot, changed.summary);
}

// Asks the device for the chosen session's lists (304s while nothing changed), then draws
// what changed.
async function loadAndRender(snapshot, summaryChanged = true) {
  const seq = ++filterSeq;
  const q = $("today-filter").value.trim();
  const sid = chosenSession(snapshot, todaySessions(snapshot.summary));
  let next = null;
  let changed = summaryChanged || lists?.sid !== sid || lists?.q !== q;
  if (sid !== null) {
    const presenceMode = snapshot.summary?.attendance_mode === "presence";
    const [here, missing, presence] = await Promise.all([
      ...["true", "false"].map((present) => attendeePage({ q, session: sid, present, limit: LIST_SIZE })),
      presenceMode ? api("GET", `/api/v1/presence?session=${encodeURIComponent(sid)}`, { conditional: true }) : null,
    ]);
    next = { sid, q, here: here.body, missing: missing.body, presence: presence?.body ?? null };
    changed = changed || here.changed || missing.changed || Boolean(presence?.changed);
  }
  if (seq !== filterSeq) {
    return; // a newer filter owns the lists
  }
  lists = next;
  if (changed || shown !== snapshot) {
    render(snapshot);
  }
}

function onClick(event) {
  const target = event.target.closest("[data-action]");
  if (target?.dataset.action === "pick-session") {
    pick = target.dataset.sessionId;
    render(shown); // the cards now; the lists once loaded
    loadAndRender(shown).catch(report);
  } else if (target?.dataset.action === "quick-checkin") {
    quickCheckin(target);
  }
}

function todaySessions(s) {
  return Array.isArray(s?.sessions) ? s.sessions.filter((session) => session.day === s.today) : [];
}

// The session Today shows names for: the one staff picked, else the open one, else the
// latest that has started, else the first of the day.
function chosenSession(snapshot, sessions) {
  const openId = snapshot.openId;
  if (openId !== lastOpenId) {
    lastOpenId = openId;
    pick = null; // a new session opened: show it
  }
  if (sessions.some((s) => s.id === pick)) {
    return pick;
  }
  if (sessions.some((s) => s.id === openId)) {
    return openId;
  }
  const now = snapshot.time.hm.format(snapshot.deviceNow());
  const started = sessions.filter((s) => text(s.start) <= now);
  return (started.length > 0 ? started[started.length - 1] : sessions[0])?.id ?? null;
}

function render(snapshot) {
  shown = snapshot;
  const s = snapshot.summary;
  if (!s) {
    return;
  }
  $("today-date").textContent = `${dateWords(s.today)} · ${s.expected ?? 0} attendees expected`;
  // Held check-ins belong to no session until the clock is set: counted here, not below.
  const held = Number(s.clock?.held) || 0;
  const heldNote = $("today-held");
  heldNote.hidden = held === 0;
  heldNote.textContent =
    held === 0 ? "" : `${held} check-in${held === 1 ? " is" : "s are"} held until the device clock is set (Sync tab); not counted below yet.`;
  const sessions = todaySessions(s);
  const chosen = chosenSession(snapshot, sessions);
  const empty = $("today-empty");
  empty.hidden = sessions.length > 0;
  $("today-lists").hidden = sessions.length === 0;
  if (sessions.length === 0) {
    empty.textContent = s.next_session
      ? `No sessions today. Next: ${text(s.next_session.label)}, ${dateWords(s.next_session.day)} at ${text(s.next_session.start)}.`
      : "No sessions today.";
  }
  const cards = $("session-cards");
  keepFocus(cards, () => cards.replaceChildren(...sessions.map((session) => sessionCard(session, chosen, snapshot.openId))));
  renderPeople(snapshot, sessions.find((session) => session.id === chosen));
}

function sessionCard(session, chosen, openId) {
  const present = Number(session.present) || 0;
  const late = Number(session.late) || 0;
  const expected = Number(session.expected) || 0;
  const share = (n) => `${expected > 0 ? Math.min(100, (100 * n) / expected) : 0}%`;
  const onTime = el("span", { class: "bar-ok" });
  const lateBar = el("span", { class: "bar-late" });
  onTime.style.width = share(present - late);
  lateBar.style.width = share(late);
  return el(
    "button",
    {
      type: "button",
      class: "session-card",
      "aria-pressed": String(session.id === chosen),
      dataset: { action: "pick-session", sessionId: session.id, focusKey: `card-${session.id}` },
    },
    el("span", { class: "card-label" }, text(session.label), session.id === openId ? el("span", { class: "tag open" }, "open now") : null),
    el("span", { class: "card-time" }, hours(session)),
    el(
      "span",
      { class: "card-numbers" },
      el("span", { class: "big", dataset: { count: "present" } }, String(present)),
      el("span", { class: "of" }, ` / ${expected} present`),
    ),
    el(
      "span",
      { class: "card-late" },
      Number.isInteger(session.inside)
        ? `${session.inside} inside · ${session.left_early} left early · ${Math.max(0, expected - present)} missing`
        : `${late} late · ${Math.max(0, expected - present)} missing`,
    ),
    el("span", { class: "bar", "aria-hidden": "true" }, onTime, lateBar),
  );
}

function renderPeople(snapshot, session) {
  const sid = session?.id;
  const loaded = lists !== null && lists.sid === sid;
  const here = loaded ? sortedAttendees(lists.here) : [];
  const missing = loaded ? sortedAttendees(lists.missing) : [];
  const count = (body, list) => (Number.isInteger(body?.matched) ? body.matched : list.length);
  const canCheckIn = sid !== undefined && sid === snapshot.openId;
  const label = session ? ` for ${text(session.label)}` : "";
  $("missing-title").textContent = `Missing${label}${loaded ? ` (${count(lists.missing, missing)})` : ""}`;
  $("present-title").textContent = `Here${label}${loaded ? ` (${count(lists.here, here)})` : ""}`;
  const missingList = $("missing-list");
  keepFocus(missingList, () =>
    missingList.replaceChildren(...listOrEmpty(missing.map((a) => missingItem(a, canCheckIn)), loaded || !session ? "Nobody." : "Loading…")),
  );
  focusAfterCheckin(missingList);
  const presentList = $("present-list");
  keepFocus(presentList, () =>
    presentList.replaceChildren(
      ...listOrEmpty(
        here.map((a) => presentItem(a, a.checkins[sid], a.presence?.[sid])),
        loaded || !session ? "Nobody yet." : "Loading…",
      ),
    ),
  );
  moreNote($("missing-more"), loaded ? lists.missing : null, missing.length);
  moreNote($("present-more"), loaded ? lists.here : null, here.length);
  const presence = loaded ? lists.presence : null;
  $("left-section").hidden = presence === null;
  if (presence !== null) {
    const left = Array.isArray(presence.left_early) ? presence.left_early : [];
    $("left-title").textContent = `Left early${label} (${left.length})`;
    $("left-list").replaceChildren(...listOrEmpty(left.map(leftItem), "Nobody."));
  }
}

// Presence mode: someone who left before the end, when, and their minutes.
function leftItem(person) {
  const attendee = { id: person.attendee_id, family_name: person.family_name, given_name: person.given_name };
  const tags = [
    el("span", { class: "time" }, `left ${text(person.left_at)}`),
    el("span", { class: "tag" }, duration(person.minutes_present)),
  ];
  if (person.attended !== true) {
    tags.push(el("span", { class: "tag late" }, "not enough"));
  }
  return el("li", { class: "person", dataset: { attendeeId: attendee.id } }, personButton(attendee, `left-${attendee.id}`), el("span", { class: "person-tags" }, ...tags));
}

// Under a list the device cut short: how many more there are, and how to find them.
function moreNote(note, body, shownCount) {
  const more = Number.isInteger(body?.matched) ? body.matched - shownCount : 0;
  note.hidden = more <= 0;
  note.textContent = more > 0 ? `and ${more} more: type a name or number in the filter to find someone.` : "";
}

function missingItem(attendee, canCheckIn) {
  const button = canCheckIn
    ? el(
        "button",
        {
          type: "button",
          class: "button small primary",
          "data-testid": "manual-checkin",
          "aria-label": `Check in ${displayName(attendee)}`,
          dataset: { action: "quick-checkin", attendeeId: attendee.id, focusKey: `in-${attendee.id}` },
        },
        "Check in",
      )
    : null;
  return el("li", { class: "person", dataset: { attendeeId: attendee.id } }, personButton(attendee), button);
}

function presentItem(attendee, checkin, presence) {
  const tags = [el("span", { class: "time" }, text(checkin?.local_time))];
  if (presence) {
    tags.push(el("span", { class: `tag${presence.inside ? " open" : ""}` }, presence.inside ? "inside" : "left"));
    tags.push(el("span", { class: "tag" }, duration(presence.minutes_present)));
  }
  if (checkin?.late) {
    tags.push(el("span", { class: "tag late" }, "late"));
  }
  if (checkin?.source === "manual") {
    tags.push(el("span", { class: "tag" }, "manual"));
  }
  return el("li", { class: "person", dataset: { attendeeId: attendee.id } }, personButton(attendee), el("span", { class: "person-tags" }, ...tags));
}

// Check-in from the Missing list: always for the open session the list was drawn for.
// The person leaves the list, so the focus moves on to the next one's button.
async function quickCheckin(button) {
  const item = button.closest("li");
  const next = item?.nextElementSibling ?? item?.previousElementSibling;
  const nextButton = next?.querySelector('[data-action="quick-checkin"]');
  focusAfter = nextButton ? nextButton.dataset.focusKey : null;
  button.disabled = true;
  const attendeeId = button.dataset.attendeeId;
  const who = displayName(shown.findAttendee(attendeeId)) || item?.querySelector(".name")?.textContent || attendeeId;
  try {
    const answer = await manualCheckin(shown, attendeeId, shown.openId);
    if (!answer) {
      focusAfter = null;
    } else if (answer.status === "checked_in" && answer.checkin?.id) {
      showUndo({ checkinId: String(answer.checkin.id), attendeeId, who });
    }
  } finally {
    button.disabled = false;
  }
}

// ---- undo of a one-tap check-in -----------------------------------------------------

function showUndo(target) {
  undoable = { ...target, expired: false };
  $("undo-text").textContent = `${target.who} is checked in.`;
  $("undo-button").setAttribute("aria-label", `Undo the check-in of ${target.who}`);
  $("undo-bar").hidden = false;
  clearTimeout(undoTimer);
  undoTimer = setTimeout(() => {
    if (undoable) {
      undoable.expired = true;
    }
    hideUndoIfExpired();
  }, UNDO_MS);
}

// Gone once its time is up, unless the keyboard focus is on it or a mouse pointer over it
// (a touch screen's sticky :hover does not count); then it asks again each second.
function hideUndoIfExpired() {
  const bar = $("undo-bar");
  const pointer = matchMedia("(hover: hover)").matches && bar.matches(":hover");
  if (!undoable?.expired) {
    return;
  }
  if (bar.contains(document.activeElement) || pointer) {
    clearTimeout(undoTimer);
    undoTimer = setTimeout(hideUndoIfExpired, UNDO_RECHECK_MS);
  } else {
    hideUndo();
  }
}

function hideUndo() {
  clearTimeout(undoTimer);
  undoable = null;
  $("undo-bar").hidden = true;
  $("undo-text").textContent = "";
}

// Voids the latest one-tap check-in; the person is back in Missing, with the focus on
// their Check in button.
async function undo() {
  const target = undoable;
  if (!target) {
    return;
  }
  const button = $("undo-button");
  button.disabled = true;
  try {
    await api("POST", `/api/v1/checkins/${encodeURIComponent(target.checkinId)}/void`, { json: { reason: UNDO_REASON } });
    hideUndo();
    focusAfter = `in-${target.attendeeId}`;
    notify("ok", `Undone: ${target.who} is not checked in.`);
  } catch (error) {
    if (error.code === "already_voided") {
      hideUndo();
    }
    report(error);
  } finally {
    button.disabled = false;
  }
  pollSoon();
  await loadAndRender(shown);
}

// Only when the focus was lost with the removed button, never away from where staff went.
function focusAfterCheckin(list) {
  const target = focusAfter ? list.querySelector(`[data-focus-key="${CSS.escape(focusAfter)}"]`) : null;
  const lost = document.activeElement === null || document.activeElement === document.body;
  if (target && lost) {
    focusAfter = null;
    target.focus({ preventScroll: true });
  }
}
