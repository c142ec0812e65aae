// The attendee detail (a modal dialog, from any name button on any tab): the attendee's
// check-in history and completion, a manual check-in for any session, and voiding a
// check-in with a reason. manualCheckin() is also the Today tab's quick check-in.
// Presence mode (SPEC section 10): the stays per session with their minutes, exits in the
// history (each can be voided, as entries can), and an exit recorded by hand for someone
// inside (POST /api/v1/attendees/{id}/checkouts, audited).

import { dateWords, duration, el, hours, text } from "/common.js";
import { api } from "/staff-api.js";
import { EMPTY } from "/staff-data.js";
import { $, clearAlert, displayName, facts, notify, report, sourceWords } from "/staff-dom.js";

let shown = EMPTY; // the snapshot drawn last
let detailId = null; // the attendee shown, null while the dialog is closed
let detail = null; // last GET /api/v1/attendees/{id} body
let voidTarget = null; // the check-in the void form is for
let pollSoon = () => {};

// hooks: pollSoon() (refresh everything now).
export function wire(hooks) {
  pollSoon = hooks.pollSoon;
  const dialog = $("detail");
  // Any element with data-action="detail" opens the dialog for its data-attendee-id.
  document.addEventListener("click", (event) => {
    const target = event.target.closest('[data-action="detail"]');
    if (target) {
      open(target.dataset.attendeeId);
    }
  });
  dialog.addEventListener("click", (event) => {
    const target = event.target.closest('[data-action="void"]');
    if (target) {
      showVoidForm(target.dataset.checkinId);
    }
  });
  $("detail-close").addEventListener("click", () => dialog.close());
  dialog.addEventListener("close", () => {
    detailId = null;
    hideVoidForm();
  });
  $("detail-checkin-form").addEventListener("submit", onCheckin);
  $("exit-form").addEventListener("submit", onExit);
  $("void-form").addEventListener("submit", onVoid);
  $("void-cancel").addEventListener("click", hideVoidForm);
}

// After each poll round: an open detail follows a changed summary (not while staff type
// a reason to void).
export function update(snapshot, changed) {
  shown = snapshot;
  if (changed.summary && detailId !== null && $("void-form").hidden) {
    load();
  }
}

async function open(id) {
  detailId = id;
  detail = null;
  hideVoidForm();
  const dialog = $("detail");
  clearAlert(dialog.querySelector(".alert"));
  const known = shown.findAttendee(id);
  $("detail-name").textContent = known ? displayName(known) : id;
  $("detail-meta").textContent = "Loading…";
  $("detail-completion").replaceChildren();
  $("detail-history-body").replaceChildren();
  $("detail-badge").href = `/api/v1/badges?ids=${encodeURIComponent(id)}`;
  fillSessionPicker(null);
  if (!dialog.open) {
    dialog.showModal();
  }
  await load();
}

async function load() {
  const id = detailId;
  try {
    const { body, changed } = await api("GET", `/api/v1/attendees/${encodeURIComponent(id)}`, { conditional: true });
    if (detailId === id && (changed || detail !== body)) {
      detail = body;
      render();
    }
  } catch (error) {
    if (detailId === id) {
      $("detail-meta").textContent = "";
      report(error);
    }
  }
}

function render() {
  const { attendee = {}, checkins = [], completion = {} } = detail ?? {};
  $("detail-name").textContent = displayName(attendee) || detailId;
  const notInRoster = attendee.not_in_roster ? "not in the roster (checked in with a valid badge)" : "";
  $("detail-meta").textContent = [text(attendee.id), text(attendee.country), text(attendee.email), notInRoster].filter(Boolean).join(" · ");
  $("detail-completion").replaceChildren(
    ...facts([
      ["Sessions attended", `${completion.sessions_attended ?? "?"} of ${completion.sessions_total ?? "?"}`],
      ["Module attendance", completion.attendance_complete ? "complete" : "not complete (yet)"],
      ["CME credits", String(completion.cme_credits ?? "–")],
    ]),
  );
  fillSessionPicker(checkins);
  renderPresence(detail?.presence);
  const rows = [...checkins].sort((a, b) => text(a.at).localeCompare(text(b.at))).map(historyRow);
  $("detail-history-body").replaceChildren(...(rows.length > 0 ? rows : [el("tr", {}, el("td", { colspan: "5", class: "empty" }, "No check-ins yet."))]));
}

// Presence mode: each scanned session's stays and minutes; the exit form for the session
// the attendee is inside now.
function renderPresence(presence) {
  const section = $("detail-presence");
  section.hidden = !presence;
  if (!presence) {
    return;
  }
  let insideId = null;
  const items = Object.entries(presence).map(([sessionId, p]) => {
    const session = shown.findSession(sessionId);
    if (p.inside) {
      insideId = sessionId;
    }
    const stays = (Array.isArray(p.intervals) ? p.intervals : [])
      .map((i) => `${text(i.entered)}–${i.left ? text(i.left) : p.inside ? "now (inside)" : "no exit"}`)
      .join(", ");
    const verdict = p.attended ? "attended" : p.inside ? "so far" : "not enough";
    return el(
      "li",
      { dataset: { sessionId } },
      el("strong", {}, session ? `${dateWords(session.day)} · ${text(session.label)}` : sessionId),
      ` ${stays} · ${duration(p.minutes_present)} of ${duration(p.minutes_total)} · ${verdict}`,
      p.no_exit ? el("span", { class: "tag late" }, "no exit") : null,
    );
  });
  $("detail-stays").replaceChildren(...items);
  const form = $("exit-form");
  const wasHidden = form.hidden;
  form.hidden = insideId === null;
  form.dataset.sessionId = insideId ?? "";
  if (insideId !== null && wasHidden) {
    const session = shown.findSession(insideId);
    $("exit-what").textContent = `Inside ${session ? text(session.label) : insideId}: record when they left.`;
    $("exit-time").value = shown.time.hm.format(shown.deviceNow());
  }
}

// The device's offset ("+01:00") from the summary's time: the exit's time is local.
function localInstant(day, hm) {
  const now = text(shown.summary?.now);
  const offset = now.length > 19 ? now.slice(19) : "Z";
  return `${day}T${hm}:00${offset}`;
}

async function onExit(event) {
  event.preventDefault();
  const sessionId = $("exit-form").dataset.sessionId;
  const session = shown.findSession(sessionId);
  const hm = $("exit-time").value;
  if (!session || hm === "") {
    return;
  }
  const json = { session_id: sessionId, at: localInstant(session.day, hm) };
  const reason = $("exit-reason").value.trim();
  if (reason !== "") {
    json.reason = reason;
  }
  const button = $("exit-confirm");
  button.disabled = true;
  try {
    const { body } = await api("POST", `/api/v1/attendees/${encodeURIComponent(detailId)}/checkouts`, { json });
    $("exit-reason").value = "";
    notify("ok", `Exit recorded at ${text(body?.checkin?.local_time)}: ${duration(body?.minutes_present)} present.`);
  } catch (error) {
    report(error);
  } finally {
    button.disabled = false;
  }
  afterChange();
}

function historyRow(c) {
  const session = shown.findSession(c.session_id);
  const kind = c.kind === "checkout" ? "exit" : detail?.presence ? "entry" : "";
  const how = [kind, sourceWords(c.source), c.staff ? `by ${text(c.staff)}` : ""].filter(Boolean).join(" ");
  const status = c.voided
    ? el("span", { class: "tag voided" }, `voided: ${text(c.void_reason)}`)
    : el("span", { class: c.late ? "tag late" : "tag ok" }, c.late ? "valid, late" : "valid");
  const notes = c.not_in_roster ? el("span", { class: "tag" }, "not in roster") : null;
  const action = c.voided
    ? null
    : el(
        "button",
        {
          type: "button",
          class: "button small danger",
          "data-testid": "void-button",
          "aria-label": `Void the check-in for ${session ? text(session.label) : text(c.session_id)}`,
          dataset: { action: "void", checkinId: String(c.id) },
        },
        "Void…",
      );
  return el(
    "tr",
    { class: c.voided ? "is-voided" : "", dataset: { checkinId: String(c.id) } },
    el("td", {}, session ? `${dateWords(session.day)} · ${text(session.label)}` : text(c.session_id)),
    el("td", {}, text(c.local_time) || shown.formatInstant(c.at)),
    el("td", {}, how),
    el("td", {}, status, notes ? " " : null, notes),
    el("td", {}, action),
  );
}

// The picker lists every session; it keeps what staff chose across refreshes and
// otherwise starts on the open session. checkins: null before the detail is loaded.
function fillSessionPicker(checkins) {
  const picker = $("detail-session");
  const previous = picker.value;
  const attended = new Set((checkins ?? []).filter((c) => !c.voided).map((c) => c.session_id));
  const openId = shown.openId;
  const sessions = shown.sessions();
  const options = sessions.map((s) => {
    const notes = [s.id === openId ? "open now" : "", attended.has(s.id) ? "checked in" : ""].filter(Boolean);
    const words = `${dateWords(s.day)} · ${text(s.label)} ${hours(s)}${notes.length ? ` (${notes.join(", ")})` : ""}`;
    return el("option", { value: s.id }, words);
  });
  const words = options.map((o) => o.textContent).join("\n");
  if (picker.dataset.words === words && checkins !== null) {
    return; // unchanged: leave an open drop-down alone
  }
  picker.dataset.words = words;
  picker.replaceChildren(el("option", { value: "" }, "Choose a session…"), ...options);
  const keep = checkins !== null && previous !== "" ? previous : openId ?? "";
  picker.value = sessions.some((s) => s.id === keep) ? keep : "";
}

async function onCheckin(event) {
  event.preventDefault();
  const sessionId = $("detail-session").value;
  if (sessionId === "") {
    notify("error", "Choose the session to check in for.");
    $("detail-session").focus();
    return;
  }
  const button = $("detail-checkin");
  button.disabled = true;
  try {
    if (await manualCheckin(shown, detailId, sessionId, $("detail-reason").value.trim())) {
      $("detail-reason").value = "";
    }
  } finally {
    button.disabled = false;
  }
}

// POST /api/v1/attendees/{id}/checkins; reports the outcome and refreshes what shows it.
// `snapshot` names the attendee and session; `reason` (optional) says why staff chose a
// session that is over, and is audited. Resolves with the device's answer when the
// attendee is now checked in (status checked_in, already_checked_in or held), else null.
// A session that has not started is refused by the device (session_not_started).
export async function manualCheckin(snapshot, attendeeId, sessionId, reason = "") {
  const json = sessionId ? { session_id: sessionId } : {};
  if (reason !== "") {
    json.reason = reason;
  }
  let done = null;
  try {
    const { body } = await api("POST", `/api/v1/attendees/${encodeURIComponent(attendeeId)}/checkins`, { json });
    const who = displayName(snapshot.findAttendee(attendeeId)) || text(body?.attendee?.display_name) || attendeeId;
    const label = text(body?.session?.label) || text(snapshot.findSession(sessionId)?.label);
    const at = text(body?.checkin?.local_time);
    if (body?.status === "held") {
      notify("info", `${who}'s check-in is held until the device clock is set.`);
    } else if (body?.status === "already_checked_in") {
      notify("info", `${who} was already checked in for ${label} at ${at}.`);
    } else {
      notify("ok", `${who} is checked in for ${label} at ${at}${body?.checkin?.late ? " (late)" : ""}.`);
    }
    done = body ?? {};
  } catch (error) {
    report(error);
  }
  afterChange();
  return done;
}

function showVoidForm(checkinId) {
  const checkin = (detail?.checkins ?? []).find((c) => String(c.id) === checkinId);
  if (!checkin) {
    return;
  }
  voidTarget = checkin;
  const session = shown.findSession(checkin.session_id);
  $("void-what").textContent = `Void the check-in for ${session ? text(session.label) : text(checkin.session_id)} at ${text(checkin.local_time)}? It stays in the log, marked void, with your reason.`;
  $("void-reason").value = "";
  $("void-form").hidden = false;
  $("void-reason").focus();
}

function hideVoidForm() {
  voidTarget = null;
  $("void-form").hidden = true;
}

async function onVoid(event) {
  event.preventDefault();
  const reason = $("void-reason").value.trim();
  if (reason === "") {
    notify("error", "A reason is required to void a check-in.", "Say why, e.g. “scanned for a colleague by mistake”.");
    $("void-reason").focus();
    return;
  }
  const target = voidTarget;
  if (!target) {
    return;
  }
  const button = $("void-confirm");
  button.disabled = true;
  try {
    await api("POST", `/api/v1/checkins/${encodeURIComponent(target.id)}/void`, { json: { reason } });
    hideVoidForm();
    notify("ok", "The check-in is void.");
  } catch (error) {
    report(error);
  } finally {
    button.disabled = false;
  }
  afterChange();
}

// After staff changed something: the detail and every count show it at once.
function afterChange() {
  if (detailId !== null) {
    load();
  }
  pollSoon();
}
