// Completion tab: the completion records (GET /api/v1/completions), a live preview
// until the module is closed, and closing it (POST /api/v1/module/close, final) after a
// confirmation dialog.

import { el, text } from "/common.js";
import { api } from "/staff-api.js";
import { EMPTY } from "/staff-data.js";
import { $, clearAlert, notify, report, sortName } from "/staff-dom.js";

let shown = EMPTY; // the snapshot of the last round
let completions = null; // last GET /api/v1/completions body
let pollSoon = () => {};

// hooks: pollSoon() (refresh everything now).
export function wire(hooks) {
  pollSoon = hooks.pollSoon;
  $("completion-refresh").addEventListener("click", () => load().catch(report));
  $("close-module").addEventListener("click", askClose);
  $("close-confirm").addEventListener("click", closeModule);
  $("close-cancel").addEventListener("click", () => $("close-dialog").close());
}

// While the tab is open: the records follow the summary (every check-in changes it).
export function show(snapshot, changed) {
  shown = snapshot;
  return changed.summary ? load() : undefined;
}

async function load() {
  const { body, changed } = await api("GET", "/api/v1/completions", { conditional: true });
  completions = body;
  if (changed || $("completion-body").childElementCount === 0) {
    render();
  }
}

function render() {
  const c = completions ?? {};
  const records = Array.isArray(c.records) ? [...c.records] : [];
  const complete = records.filter((r) => r.attendance_complete).length;
  const tally = `${complete} of ${records.length} attendees have complete attendance.`;
  const state = $("completion-state");
  state.textContent = c.closed
    ? `The module was closed ${shown.formatInstant(c.closed_at)}. These are the records written for the registry. ${tally}`
    : `Preview: the module is still open, so these figures are live. Records are written when the module is closed. ${tally}`;
  state.dataset.state = c.closed ? "closed" : "open";
  const close = $("close-module");
  close.disabled = c.closed === true;
  close.textContent = c.closed ? "Module closed" : "Close the module…";
  records.sort((a, b) => recordName(a).localeCompare(recordName(b)));
  const rows = records.map((r) =>
    el(
      "tr",
      { dataset: { attendeeId: r.attendee_id } },
      el("td", {}, el("button", { type: "button", class: "name-button", dataset: { action: "detail", attendeeId: r.attendee_id } }, el("span", { class: "name" }, recordName(r)), el("span", { class: "id" }, text(r.attendee_id)))),
      el("td", { class: "num" }, `${r.sessions_attended ?? 0} / ${r.sessions_total ?? 0}`),
      el("td", {}, el("span", { class: r.attendance_complete ? "tag ok" : "tag" }, r.attendance_complete ? "complete" : "not complete")),
      el("td", { class: "num" }, String(r.cme_credits ?? 0)),
      el("td", {}, r.not_in_roster ? "not in roster" : ""),
    ),
  );
  $("completion-body").replaceChildren(...(rows.length > 0 ? rows : [el("tr", {}, el("td", { colspan: "5", class: "empty" }, "No records."))]));
}

function recordName(record) {
  const a = shown.findAttendee(record.attendee_id);
  return a ? sortName(a) : text(record.attendee_id);
}

function askClose() {
  const count = completions?.records?.length ?? shown.summary?.expected ?? 0;
  $("close-dialog-text").textContent = `This writes the completion records for ${count} attendees and queues them for the registry. Closing is final: it cannot be undone.`;
  const dialog = $("close-dialog");
  clearAlert(dialog.querySelector(".alert"));
  dialog.showModal();
  $("close-cancel").focus();
}

async function closeModule() {
  const button = $("close-confirm");
  button.disabled = true;
  try {
    const { body } = await api("POST", "/api/v1/module/close", { json: {} });
    $("close-dialog").close();
    notify("ok", `The module is closed: ${body?.records_written ?? 0} completion records written.`);
    await load();
  } catch (error) {
    report(error);
  } finally {
    button.disabled = false;
  }
  pollSoon();
}
