// View helpers the dashboard's modules share: attendees' names, small building blocks
// (facts, lists, name buttons), focus kept across redraws, and the messages.
//
// Server data reaches the page through textContent (el() from common.js) only.
// Messages go to a polite live region: the open dialog's, else the page's (a modal
// dialog makes the page behind it inert).

import { el, text } from "/common.js";
import { ApiError } from "/staff-api.js";

const NOTICE_MS = 6000;

export const $ = (id) => document.getElementById(id);

// ---- names --------------------------------------------------------------------------

// "Dubois, Chloé": how lists are sorted and names shown.
export function sortName(a) {
  const family = text(a?.family_name);
  const given = text(a?.given_name);
  return family && given ? `${family}, ${given}` : family || given || text(a?.id);
}

// "Chloé Dubois": how the detail and the messages name someone.
export function displayName(a) {
  return [text(a?.given_name), text(a?.family_name)].filter(Boolean).join(" ");
}

// The attendees of a GET /api/v1/attendees body, by name, then id.
export function sortedAttendees(body) {
  const list = Array.isArray(body?.attendees) ? [...body.attendees] : [];
  return list.sort((a, b) => sortName(a).localeCompare(sortName(b)) || text(a.id).localeCompare(text(b.id)));
}

// How a check-in was made, in plain words.
const SOURCES = { manual: "manual", badge: "badge", qr: "badge", phone: "phone", scanner: "badge" };

export function sourceWords(source) {
  return SOURCES[source] ?? text(source);
}

// ---- building blocks ----------------------------------------------------------------

// Words for screen readers only.
export function hidden(words) {
  return el("span", { class: "visually-hidden" }, words);
}

// [[term, value], ...] as the children of a <dl>.
export function facts(pairs) {
  return pairs.flatMap(([term, value]) => [el("dt", {}, term), el("dd", {}, value)]);
}

export function listOrEmpty(items, emptyWords) {
  return items.length > 0 ? items : [el("li", { class: "empty" }, emptyWords)];
}

// The attendee's name and id; a click opens the detail (staff-detail.js).
export function personButton(attendee, focusKey = `name-${attendee.id}`) {
  return el(
    "button",
    { type: "button", class: "name-button", dataset: { action: "detail", attendeeId: attendee.id, focusKey } },
    el("span", { class: "name" }, sortName(attendee)),
    el("span", { class: "id" }, text(attendee.id)),
  );
}

// Re-renders a container and puts the focus back on the element with the same
// data-focus-key, so that a poll does not pull the focus from under a keyboard user.
export function keepFocus(container, render) {
  const active = document.activeElement;
  const key = container.contains(active) ? active?.dataset?.focusKey : undefined;
  render();
  if (key) {
    container.querySelector(`[data-focus-key="${CSS.escape(key)}"]`)?.focus({ preventScroll: true });
  }
}

// ---- messages -----------------------------------------------------------------------

let noticeTimer = 0;

// Shows a message in the open dialog's alert region, or the page's. kind: ok | info | error.
// Confirmations fade after a while; errors stay until dismissed or replaced.
export function notify(kind, message, hint = "") {
  const box = document.querySelector("dialog[open] .alert") ?? $("alert");
  for (const other of document.querySelectorAll(".alert")) {
    if (other !== box) {
      clearAlert(other);
    }
  }
  box.dataset.kind = kind;
  box.querySelector(".alert-message").textContent = message;
  box.querySelector(".alert-hint").textContent = hint;
  clearTimeout(noticeTimer);
  if (kind !== "error") {
    noticeTimer = setTimeout(() => clearAlert(box), NOTICE_MS);
  }
}

export function clearAlert(box) {
  box.dataset.kind = "idle";
  box.querySelector(".alert-message").textContent = "";
  box.querySelector(".alert-hint").textContent = "";
}

// Shows what went wrong: the server's message and hint, or, for a bug of this page, a
// generic message (and the error in the console). A lost session says nothing here:
// the login form says it.
export function report(error) {
  if (error instanceof ApiError) {
    if (error.code !== "unauthenticated") {
      notify("error", error.message, error.hint);
    }
    return;
  }
  console.error(error);
  notify("error", "Something went wrong on this page.", "Reload the page; if it happens again, tell the technical contact.");
}
