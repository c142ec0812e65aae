// The dashboard's header, on every tab: the module, the open (or next) session, the
// device clock and sync badges, and the banner that offers to set an untrusted device
// clock from this browser's (PUT /api/v1/clock).

import { dateWords, hours, text } from "/common.js";
import { api } from "/staff-api.js";
import { EMPTY } from "/staff-data.js";
import { $, notify, report } from "/staff-dom.js";

const TICK_MS = 1000;

// Where the device's time comes from, in plain words (also on the Sync tab).
const CLOCK_SOURCES = {
  ntp: "network time (NTP)",
  staff: "set by staff from a browser",
  registry: "the registry's time",
  forced: "forced (command line or test)",
  none: "not set",
};

let shown = EMPTY; // the snapshot drawn last
let pollSoon = () => {};

// hooks: pollSoon() (refresh everything now), selectTab(name, focus).
export function wire(hooks) {
  pollSoon = hooks.pollSoon;
  $("clock-set").addEventListener("click", setClock);
  $("sync-state").addEventListener("click", () => hooks.selectTab("sync", true));
  setInterval(tickClock, TICK_MS);
}

// After each poll round; redraws when the summary changed.
export function update(snapshot, changed) {
  shown = snapshot;
  if (changed.summary) {
    render(snapshot);
  }
  tickClock();
}

export function clockSourceWords(source) {
  return CLOCK_SOURCES[source] ?? text(source);
}

function render(snapshot) {
  const s = snapshot.summary;
  const module = s?.module ?? {};
  $("module-title").textContent = text(module.title) || "Staff dashboard";
  $("module-venue").textContent = [text(module.venue), text(module.id)].filter(Boolean).join(" · ");
  document.title = `Staff · ${text(module.title) || "course-kiosk"}`;
  const open = $("open-session");
  open.textContent = openSessionText(s);
  open.dataset.state = s?.open_session ? "open" : "closed";
  $("closed-state").hidden = s?.module_closed !== true;
  renderSyncBadge(s?.sync);
}

function openSessionText(s) {
  if (s?.open_session) {
    return `Open: ${text(s.open_session.label)} ${hours(s.open_session)}`;
  }
  if (s?.next_session) {
    const next = s.next_session;
    const when = next.day === s.today ? "" : `${dateWords(next.day)} `;
    return `No session open · next: ${text(next.label)}, ${when}${text(next.start)}`;
  }
  return "No session open";
}

// The badge for a sync status (the summary's, or GET /api/v1/sync's from the Sync tab).
export function renderSyncBadge(sync) {
  const pending = Number(sync?.pending) || 0;
  let kind = "ok";
  let words = "Sync: up to date";
  if (!sync || sync.configured === false) {
    kind = "muted";
    words = "Sync: not configured";
  } else if (sync.last_error) {
    kind = "bad";
    words = `Sync: failing · ${pending} waiting`;
  } else if (pending > 0) {
    kind = "warn";
    words = `Sync: ${pending} waiting`;
  }
  const badge = $("sync-state");
  badge.dataset.state = kind;
  badge.textContent = words;
  badge.title = sync?.last_error ? text(sync.last_error.message) : "";
}

// Every second: the device's clock (as last reported, advanced locally) next to this
// browser's, in the module's time zone.
function tickClock() {
  const clock = shown.summary?.clock;
  if (!clock) {
    return;
  }
  const device = shown.deviceNow();
  const trusted = clock.trusted === true;
  const badge = $("clock-state");
  badge.dataset.state = trusted ? "ok" : "bad";
  badge.textContent = `${shown.time.hm.format(device)} · ${trusted ? "clock OK" : "clock NOT trusted"}`;
  badge.title = `Device clock source: ${clockSourceWords(clock.source)}`;
  $("clock-banner").hidden = trusted;
  if (!trusted) {
    $("clock-device-time").textContent = `${shown.time.year.format(device)} (${clockSourceWords(clock.source)})`;
    $("clock-browser-time").textContent = shown.time.year.format(new Date());
  }
}

async function setClock() {
  const button = $("clock-set");
  button.disabled = true;
  try {
    const { body } = await api("PUT", "/api/v1/clock", { json: { time: rfc3339Local(new Date()) } });
    const filed = Number(body?.held_filed ?? 0);
    const heldNote = filed > 0 ? ` ${filed} held check-in${filed === 1 ? " was" : "s were"} filed.` : "";
    notify("ok", `The device clock is set to ${shown.formatInstant(body?.time, "year")}.${heldNote}`);
    pollSoon();
  } catch (error) {
    report(error);
  } finally {
    button.disabled = false;
  }
}

// This browser's clock as RFC 3339 with its own UTC offset, e.g. 2026-11-23T09:12:03+01:00.
function rfc3339Local(date) {
  const pad = (n) => String(Math.trunc(Math.abs(n))).padStart(2, "0");
  const offset = -date.getTimezoneOffset();
  const sign = offset >= 0 ? "+" : "-";
  return (
    `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}` +
    `T${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}` +
    `${sign}${pad(offset / 60)}:${pad(offset % 60)}`
  );
}
