// The walk-in form (Roster & exports tab): adds someone who is not in the roster
// (POST /api/v1/attendees, the roster's field rules) and offers their badge at once
// (GET /api/v1/badges?ids=ID, in a new tab) and their detail (check in, history).
//
// The device decides what is valid: a refused field is marked (aria-invalid) and focused,
// with the device's message in the page's live region. A registration number already in
// the roster (409 attendee_exists) offers that attendee instead.

import { text } from "/common.js";
import { api } from "/staff-api.js";
import { $, displayName, notify, report } from "/staff-dom.js";

// The form's inputs by the request's field names.
const FIELDS = {
  id: "walkin-id",
  family_name: "walkin-family",
  given_name: "walkin-given",
  email: "walkin-email",
  country: "walkin-country",
};

let pollSoon = () => {};

// hooks: pollSoon() (refresh everything now).
export function wire(hooks) {
  pollSoon = hooks.pollSoon;
  $("walkin-form").addEventListener("submit", (event) => {
    event.preventDefault();
    add().catch(report);
  });
}

async function add() {
  const json = {};
  for (const [field, id] of Object.entries(FIELDS)) {
    const input = $(id);
    input.removeAttribute("aria-invalid");
    const value = input.value.trim();
    if (value !== "") {
      json[field] = value;
    }
  }
  const button = $("walkin-submit");
  button.disabled = true;
  try {
    const { body } = await api("POST", "/api/v1/attendees", { json });
    const attendee = body?.attendee ?? {};
    showAdded(attendee, text(body?.badge_url));
    $("walkin-form").reset();
    notify("ok", `${displayName(attendee)} (${text(attendee.id)}) is added. Print the badge now, or open them to check in.`);
    pollSoon();
  } catch (error) {
    $("walkin-result").hidden = true;
    const input = $(FIELDS[error.details?.field] ?? "");
    if (error.code === "invalid_attendee" && input) {
      input.setAttribute("aria-invalid", "true");
      input.focus();
    } else if (error.code === "attendee_exists") {
      const existing = text(error.details?.existing_id);
      if (existing !== "") {
        showExisting(existing);
      }
      $(FIELDS.id).setAttribute("aria-invalid", "true");
      $(FIELDS.id).focus();
    }
    report(error);
  } finally {
    button.disabled = false;
  }
}

function showAdded(attendee, badgeUrl) {
  const id = text(attendee.id);
  $("walkin-added").textContent = `Added: ${displayName(attendee)} (${id}).`;
  showLinks(id, badgeUrl);
}

function showExisting(id) {
  $("walkin-added").textContent = `${id} is already in the roster.`;
  showLinks(id, "");
}

function showLinks(id, badgeUrl) {
  $("walkin-badge").href = badgeUrl || `/api/v1/badges?ids=${encodeURIComponent(id)}`;
  $("walkin-badge").setAttribute("aria-label", `Print the badge of ${id}`);
  $("walkin-open").dataset.attendeeId = id;
  $("walkin-result").hidden = false;
}
