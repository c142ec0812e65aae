// Real-browser test of the Staff accounts tab (web/staff-accounts.js), two browsers side by
// side: an admin adds an account (after a mismatched second password is refused on the
// page), the new staff account logs in elsewhere and sees no Staff accounts tab (nor gets
// it from the URL), the admin disables it and its open page is logged out on its next
// request, its right password is then refused like a wrong one; the admin sets a new
// password (typed twice) and enables it again, and the new password works.
//
// Run: node --test staff-accounts.test.mjs (tests/browser/run does the npm set-up first).

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { Kiosk, STEP_MS, TEST_MS, VIEWPORTS, launchBrowser, shot, teardown, waitForValue, watchContext } from "./harness.mjs";

const ADMIN = "chief";
const ADMIN_PASSWORD = "correct horse battery";
const NEW = "desk.2";
const NEW_PASSWORD = "three unrelated words";
const RESET_PASSWORD = "another long phrase";

const env = { kiosk: null, browser: null, admin: null, desk: null, seenAdmin: null, seenDesk: null };

async function newPage(seenKey) {
  const context = await env.browser.newContext({ viewport: VIEWPORTS.laptop, locale: "en-GB", timezoneId: "Europe/Paris" });
  context.setDefaultTimeout(STEP_MS);
  env[seenKey] = watchContext(context);
  return context.newPage();
}

async function logIn(page, username, password) {
  await page.goto(`${env.kiosk.origin}/staff`, { waitUntil: "load", timeout: STEP_MS });
  await page.locator("#login-form").waitFor({ state: "visible" });
  await page.fill("#login-username", username);
  await page.fill("#login-password", password);
  await page.click("#login-submit");
}

function alertState(page) {
  return page.evaluate(() => {
    const box = document.getElementById("alert");
    return { kind: box.dataset.kind, message: box.querySelector(".alert-message").textContent };
  });
}

// The accounts table: [{ username, role, state }].
function accountRows(page) {
  return page.evaluate(() =>
    [...document.querySelectorAll("#accounts-list tr")].map((tr) => ({
      username: tr.dataset.username,
      role: tr.children[1].textContent,
      state: tr.children[2].textContent,
    })),
  );
}

before(async () => {
  env.kiosk = new Kiosk("accounts");
  env.kiosk.addStaff(ADMIN, ADMIN_PASSWORD);
  await env.kiosk.start();
  env.browser = await launchBrowser();
  env.admin = await newPage("seenAdmin");
  env.desk = await newPage("seenDesk");
}, { timeout: 90_000 });

after(async () => {
  await teardown(env.browser, env.kiosk);
}, { timeout: 45_000 });

test("an admin sees the Staff accounts tab and adds an account", { timeout: TEST_MS }, async () => {
  const page = env.admin;
  await logIn(page, ADMIN, ADMIN_PASSWORD);
  await page.locator("#app").waitFor({ state: "visible" });
  await page.locator("#tab-accounts").waitFor({ state: "visible" });
  await page.click("#tab-accounts");
  await page.locator("#panel-accounts").waitFor({ state: "visible" });
  await waitForValue(() => accountRows(page), (rows) => rows.length === 1, { what: "the admin's own row" });
  assert.deepEqual(await accountRows(page), [{ username: ADMIN, role: "Admin", state: "Enabled" }]);
  // One's own row offers no disable or demote.
  assert.equal(await page.locator(`#accounts-list tr[data-username="${ADMIN}"] button[data-action="disable"]`).count(), 0);

  // The form's labels name every field (accessible forms).
  for (const id of ["account-username", "account-password", "account-again", "account-role"]) {
    assert.equal(await page.locator(`label[for="${id}"]`).count(), 1, id);
  }

  await page.fill("#account-username", NEW);
  await page.fill("#account-password", NEW_PASSWORD);
  await page.fill("#account-again", "not the same");
  await page.click("#account-add-submit");
  const mismatch = await waitForValue(() => alertState(page), (a) => a.kind === "error", { what: "the mismatch error" });
  assert.match(mismatch.message, /differ/);
  assert.equal(await page.getAttribute("#account-again", "aria-invalid"), "true");
  assert.equal(await page.evaluate(() => document.activeElement.id), "account-again");
  assert.equal((await accountRows(page)).length, 1, "nothing was sent");

  await page.fill("#account-again", NEW_PASSWORD);
  await page.selectOption("#account-role", "staff");
  await page.click("#account-add-submit");
  await waitForValue(() => accountRows(page), (rows) => rows.some((r) => r.username === NEW), { what: "the new row" });
  const row = (await accountRows(page)).find((r) => r.username === NEW);
  assert.deepEqual(row, { username: NEW, role: "Staff", state: "Enabled" });
  const ok = await alertState(page);
  assert.equal(ok.kind, "ok");
  assert.match(ok.message, /desk\.2 is added/);
  assert.equal(await page.inputValue("#account-username"), "", "the form is cleared");

  // The same name again: the device's refusal, shown with the field marked.
  await page.fill("#account-username", NEW);
  await page.fill("#account-password", NEW_PASSWORD);
  await page.fill("#account-again", NEW_PASSWORD);
  await page.click("#account-add-submit");
  const exists = await waitForValue(() => alertState(page), (a) => a.kind === "error", { what: "staff_exists" });
  assert.match(exists.message, /already a staff account/);
  assert.equal(await page.getAttribute("#account-username", "aria-invalid"), "true");
  await shot(page, "staff-accounts-1280x800");
});

test("the new staff account logs in and has no Staff accounts tab", { timeout: TEST_MS }, async () => {
  const page = env.desk;
  await logIn(page, NEW, NEW_PASSWORD);
  await page.locator("#app").waitFor({ state: "visible" });
  assert.equal(await page.textContent("#user-name"), NEW);
  assert.equal(await page.locator("#tab-accounts").isVisible(), false);
  assert.equal(await page.locator("#panel-accounts").isVisible(), false);
  // Nor from the address: #accounts falls back to Today.
  await page.evaluate(() => {
    location.hash = "#accounts";
  });
  await waitForValue(() => page.getAttribute("#tab-today", "aria-selected"), (v) => v === "true", { what: "Today selected" });
  assert.equal(await page.locator("#panel-accounts").isVisible(), false);
  await page.locator("#panel-today").waitFor({ state: "visible" });
});

test("disabled by the admin, its open page is logged out on its next request", { timeout: TEST_MS }, async () => {
  const admin = env.admin;
  await admin.click(`#accounts-list tr[data-username="${NEW}"] button[data-action="disable"]`);
  await waitForValue(() => accountRows(admin), (rows) => rows.find((r) => r.username === NEW)?.state === "Disabled", { what: "the row disabled" });

  const desk = env.desk;
  await desk.click("#tab-audit"); // its next request
  await desk.locator("#login-view").waitFor({ state: "visible", timeout: STEP_MS });
  assert.match(await desk.textContent("#login-note"), /session has ended/i);
  assert.equal(await desk.locator("#app").isVisible(), false);

  // Its right password now answers as a wrong one does.
  await desk.fill("#login-username", NEW);
  await desk.fill("#login-password", NEW_PASSWORD);
  await desk.click("#login-submit");
  const refused = await waitForValue(() => alertState(desk), (a) => a.kind === "error", { what: "the refused login" });
  assert.match(refused.message, /wrong username or password/i);
  assert.equal(await desk.locator("#app").isVisible(), false);
});

test("the admin sets a new password, typed twice, and enables the account again", { timeout: TEST_MS }, async () => {
  const admin = env.admin;
  await admin.click(`#accounts-list tr[data-username="${NEW}"] button[data-action="reset"]`);
  await admin.locator("#account-reset").waitFor({ state: "visible" });
  assert.equal(await admin.textContent("#account-reset-name"), NEW);
  assert.equal(await admin.evaluate(() => document.activeElement.id), "account-reset-password");
  await admin.fill("#account-reset-password", RESET_PASSWORD);
  await admin.fill("#account-reset-again", RESET_PASSWORD);
  await admin.click("#account-reset-submit");
  await admin.locator("#account-reset").waitFor({ state: "hidden" });
  assert.match((await alertState(admin)).message, /new password/);

  await admin.click(`#accounts-list tr[data-username="${NEW}"] button[data-action="enable"]`);
  await waitForValue(() => accountRows(admin), (rows) => rows.find((r) => r.username === NEW)?.state === "Enabled", { what: "the row enabled" });

  const desk = env.desk;
  await desk.fill("#login-username", NEW);
  await desk.fill("#login-password", RESET_PASSWORD);
  await desk.click("#login-submit");
  await desk.locator("#app").waitFor({ state: "visible" });
  assert.equal(await desk.locator("#tab-accounts").isVisible(), false);

  for (const seen of [env.seenAdmin, env.seenDesk]) {
    assert.deepEqual(seen.pageErrors, []);
  }
});
