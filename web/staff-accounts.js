// Staff accounts tab (admins only): the accounts (GET /api/v1/staff), a new account
// (POST /api/v1/staff), a password typed twice by the admin (PUT /api/v1/staff/NAME/password),
// disable and enable, staff and admin (PUT /api/v1/staff/NAME).
//
// The device decides: a non-admin gets 403 forbidden whatever this page shows, and the
// refusals (staff_exists, weak_password, own_account, last_admin) come with its message in
// the page's live region, the field concerned marked (aria-invalid) and focused.

import { el, text } from "/common.js";
import { api } from "/staff-api.js";
import { $, keepFocus, notify, report } from "/staff-dom.js";

const STAFF_URL = "/api/v1/staff";

let me = ""; // the logged-in admin's user name: their own row offers no disable or demote
let resetting = ""; // the account whose new password the reset form asks for

// hooks: unused (the tab refreshes itself after each change).
export function wire() {
  $("accounts-refresh").addEventListener("click", () => load().catch(report));
  $("account-add-form").addEventListener("submit", (event) => {
    event.preventDefault();
    add().catch(report);
  });
  $("account-reset-form").addEventListener("submit", (event) => {
    event.preventDefault();
    resetPassword().catch(report);
  });
  $("account-reset-cancel").addEventListener("click", closeReset);
  $("accounts-list").addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action]");
    if (button) {
      act(button).catch(report);
    }
  });
}

// Who is logged in (from the session), before the tab is first shown.
export function useUser(username) {
  me = username;
  closeReset();
}

// While the tab is open: after each poll round.
export function show() {
  return load();
}

async function load() {
  const { body } = await api("GET", STAFF_URL);
  const accounts = Array.isArray(body?.accounts) ? body.accounts : [];
  const list = $("accounts-list");
  keepFocus(list, () => list.replaceChildren(...accounts.map(row)));
}

function row(account) {
  const name = text(account.username);
  const admin = account.role === "admin";
  const disabled = account.disabled === true;
  const own = name === me;
  const actions = [
    el("button", { type: "button", class: "button small", dataset: { action: "reset", username: name, focusKey: `reset-${name}` }, "aria-label": `Reset the password of ${name}` }, "Reset password"),
  ];
  if (!own) {
    actions.push(
      el("button", { type: "button", class: "button small", dataset: { action: disabled ? "enable" : "disable", username: name, focusKey: `state-${name}` }, "aria-label": `${disabled ? "Enable" : "Disable"} ${name}` }, disabled ? "Enable" : "Disable"),
      el("button", { type: "button", class: "button small", dataset: { action: admin ? "make-staff" : "make-admin", username: name, focusKey: `role-${name}` }, "aria-label": admin ? `Make ${name} staff` : `Make ${name} an admin` }, admin ? "Make staff" : "Make admin"),
    );
  }
  return el(
    "tr",
    { dataset: { username: name, disabled: String(disabled) } },
    el("th", { scope: "row" }, name, own ? " (you)" : ""),
    el("td", {}, admin ? "Admin" : "Staff"),
    el("td", {}, disabled ? "Disabled" : "Enabled"),
    el("td", {}, text(account.last_login) || "not known"),
    el("td", {}, el("div", { class: "actions" }, actions)),
  );
}

async function act(button) {
  const name = button.dataset.username;
  const action = button.dataset.action;
  if (action === "reset") {
    openReset(name);
    return;
  }
  const changes = {
    disable: [{ disabled: true }, `${name} is disabled and logged out everywhere.`],
    enable: [{ disabled: false }, `${name} can log in again.`],
    "make-admin": [{ role: "admin" }, `${name} is an admin now.`],
    "make-staff": [{ role: "staff" }, `${name} is staff now (no longer an admin).`],
  };
  const [json, words] = changes[action];
  button.disabled = true;
  try {
    await api("PUT", `${STAFF_URL}/${encodeURIComponent(name)}`, { json });
    notify("ok", words);
  } finally {
    button.disabled = false;
    await load();
  }
}

// The two password inputs agree and are long enough; else marks them and says so.
function passwordsAgree(first, second) {
  for (const input of [first, second]) {
    input.removeAttribute("aria-invalid");
  }
  if (first.value.length < 8) {
    first.setAttribute("aria-invalid", "true");
    first.focus();
    notify("error", "The password is too short.", "Use at least 8 characters; a few unrelated words are easy to type.");
    return false;
  }
  if (first.value !== second.value) {
    second.setAttribute("aria-invalid", "true");
    second.focus();
    notify("error", "The two passwords differ.", "Type the same password in both fields.");
    return false;
  }
  return true;
}

async function add() {
  const username = $("account-username");
  const password = $("account-password");
  const again = $("account-again");
  username.removeAttribute("aria-invalid");
  if (!passwordsAgree(password, again)) {
    return;
  }
  const button = $("account-add-submit");
  button.disabled = true;
  try {
    const json = { username: username.value.trim(), password: password.value, role: $("account-role").value };
    const { body } = await api("POST", STAFF_URL, { json });
    $("account-add-form").reset();
    const account = body?.account ?? {};
    notify("ok", `${text(account.username)} is added (${account.role === "admin" ? "admin" : "staff"}). They can log in now.`);
    await load();
  } catch (error) {
    const field = { staff_exists: username, invalid_staff: username, weak_password: password }[error.code];
    if (field) {
      field.setAttribute("aria-invalid", "true");
      field.focus();
    }
    throw error;
  } finally {
    button.disabled = false;
  }
}

function openReset(name) {
  resetting = name;
  $("account-reset-form").reset();
  $("account-reset-name").textContent = name;
  $("account-reset").hidden = false;
  $("account-reset-password").focus();
}

function closeReset() {
  resetting = "";
  $("account-reset-form").reset();
  $("account-reset").hidden = true;
}

async function resetPassword() {
  const password = $("account-reset-password");
  if (!passwordsAgree(password, $("account-reset-again")) || resetting === "") {
    return;
  }
  const name = resetting;
  const button = $("account-reset-submit");
  button.disabled = true;
  try {
    await api("PUT", `${STAFF_URL}/${encodeURIComponent(name)}/password`, { json: { password: password.value } });
    closeReset();
    notify("ok", `${name} has a new password; their open pages are logged out.`);
    await load();
  } catch (error) {
    if (error.code === "weak_password") {
      password.setAttribute("aria-invalid", "true");
      password.focus();
    }
    throw error;
  } finally {
    button.disabled = false;
  }
}
