// Sync tab: the state of the outbox and of the roster from the registry, "sync now"
// (POST /api/v1/sync), the device clock, and the check-ins held while the clock was not
// trusted that the device cannot place itself: staff file them under a session here.

import { dateWords, el, text } from "/common.js";
import { api } from "/staff-api.js";
import { EMPTY } from "/staff-data.js";
import { $, facts, keepFocus, notify, report } from "/staff-dom.js";
import { clockSourceWords, renderSyncBadge } from "/staff-header.js";

const SYNC_RECHECK_MS = 2000;

let shown = EMPTY; // the snapshot of the last round
let heldKey; // count and trust of the held list shown; undefined: fetch it again
let pollSoon = () => {};

// hooks: pollSoon() (refresh everything now).
export function wire(hooks) {
  pollSoon = hooks.pollSoon;
  $("sync-now").addEventListener("click", syncNow);
}

// While the tab is open: after each poll round, and when it is selected.
export function show(snapshot) {
  shown = snapshot;
  const sync = snapshot.summary?.sync;
  if (sync) {
    renderSync(sync);
  }
  const clock = snapshot.summary?.clock;
  if (clock) {
    renderClock(clock);
    return loadHeld(clock);
  }
  return undefined;
}

function renderSync(sync) {
  const error = sync.last_error;
  const at = (value, none) => (value ? shown.formatInstant(value) : none);
  $("sync-details").replaceChildren(
    ...facts([
      ["Registry", sync.configured ? "configured" : "not configured: this device keeps everything until a registry is set up"],
      ["Waiting to send", `${sync.pending ?? 0} records`],
      ["Oldest waiting since", at(sync.oldest_pending_at, "–")],
      ["Sent and confirmed", `up to #${sync.acked_through ?? 0} of #${sync.last_seq ?? 0}`],
      ["Last success", at(sync.last_success, "never")],
      ["Last error", error ? `${text(error.message)} (${text(error.code)}, ${shown.formatInstant(error.at)})` : "none"],
      ["Next attempt", at(sync.next_attempt, "–")],
      ["Clock vs. registry", sync.clock_offset_s == null ? "not measured yet" : offsetText(sync.clock_offset_s)],
      ["Roster from the registry", rosterText(sync.roster)],
    ]),
  );
  $("sync-now").disabled = sync.configured === false;
}

function offsetText(seconds) {
  const s = Math.round(Number(seconds));
  if (Math.abs(s) <= 2) {
    return "in step";
  }
  return `the registry is ${Math.abs(s)} s ${s > 0 ? "ahead of" : "behind"} this device`;
}

function rosterText(roster) {
  if (!roster) {
    return "–";
  }
  const parts = [roster.last_pull ? `last update ${shown.formatInstant(roster.last_pull)}` : "never received"];
  if (roster.last_error) {
    parts.push(`last problem: ${text(roster.last_error.message)} (${shown.formatInstant(roster.last_error.at)})`);
  }
  return parts.join("; ");
}

function renderClock(clock) {
  $("clock-details").replaceChildren(
    ...facts([
      ["Trusted", clock.trusted ? "yes" : "no: check-ins are held (or refused, if so configured) until it is set"],
      ["Held check-ins", String(clock.held ?? 0)],
      ["Source", clockSourceWords(clock.source)],
      ["Device time", shown.formatInstant(clock.time, "year")],
      ["Time zone", text(shown.summary?.module?.timezone)],
    ]),
  );
}

// The held list is fetched when the summary's count of held check-ins, or the clock's
// trust (the device then tries to file them), changes.
async function loadHeld(clock) {
  const count = clock.held ?? 0;
  const key = `${count}:${clock.trusted === true}`;
  if (key === heldKey) {
    return;
  }
  heldKey = key;
  $("held").hidden = count === 0;
  if (count === 0) {
    $("held-list").replaceChildren();
    return;
  }
  try {
    const { body } = await api("GET", "/api/v1/held");
    renderHeld(Array.isArray(body?.held) ? body.held : []);
  } catch (error) {
    heldKey = undefined; // try again on the next poll
    report(error);
  }
}

function renderHeld(list) {
  const items = $("held-list");
  keepFocus(items, () => {
    items.replaceChildren(
      ...list.map((h) => {
        const select = el(
          "select",
          { "aria-label": `Session for ${text(h.display_name)}`, dataset: { focusKey: `held-session-${h.id}` } },
          ...shown.sessions().map((s) => el("option", { value: s.id }, `${text(s.label)} (${dateWords(s.day)})`)),
        );
        const file = el("button", { class: "button small", type: "button", dataset: { focusKey: `held-file-${h.id}` } }, "File");
        file.addEventListener("click", () => fileHeld(h, select.value));
        const why = text(h.problem) || "waiting for the clock to be set";
        return el(
          "li",
          { class: "held-item" },
          el("span", {}, `${text(h.display_name)} (${text(h.source)}), device clock said ${shown.formatInstant(h.device_time, "year")}: ${why}`),
          select,
          file,
        );
      }),
    );
  });
}

async function fileHeld(held, sessionId) {
  try {
    await api("POST", `/api/v1/held/${encodeURIComponent(held.id)}/file`, { json: { session_id: sessionId } });
    notify("ok", `${text(held.display_name)}'s check-in is filed under ${text(shown.findSession(sessionId)?.label) || sessionId}.`);
    heldKey = undefined;
    pollSoon();
  } catch (error) {
    report(error);
  }
}

async function syncNow() {
  const button = $("sync-now");
  button.disabled = true;
  try {
    await api("POST", "/api/v1/sync", { json: {} });
    notify("ok", "Sync started. The status below updates in a few seconds.");
    setTimeout(loadStatus, SYNC_RECHECK_MS);
  } catch (error) {
    report(error);
  } finally {
    button.disabled = false;
  }
}

// GET /api/v1/sync: the same status as the summary's, sooner than the next poll.
async function loadStatus() {
  try {
    const { body } = await api("GET", "/api/v1/sync");
    renderSync(body);
    renderSyncBadge(body);
  } catch (error) {
    report(error);
  }
}
