// Real-browser test of an untrusted device clock (SPEC section 8): the kiosk holds a
// check-in instead of filing it under the session its wrong clock names; staff see the
// banner, set the device clock from their laptop, and the held check-in lands under the
// session of its true time. Also a held check-in that needs staff: filed by hand from the
// Sync tab.
//
// The device believes it is Tuesday 09:00 (d2-am open); the staff laptop knows it is
// Monday 09:00 (d1-am).

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { Kiosk, STEP_MS, TEST_MS, VIEWPORTS, launchBrowser, shot, teardown, waitForValue, watchContext } from "./harness.mjs";

const WRONG = "2026-11-24T09:00:00+01:00";
const TRUE = "2026-11-23T09:00:00+01:00";
const STAFF = "clerk";
const PASSWORD = "a long enough password";
const env = {};

before(async () => {
  env.kiosk = new Kiosk("clock");
  env.kiosk.importRoster([["A001", "Kowalska", "Anna", "PL"], ["A002", "Müller", "Lukas", "DE"]]);
  env.kiosk.addStaff(STAFF, PASSWORD);
  env.kiosk.credential("A001");
  env.kiosk.credential("A002");
  await env.kiosk.start({ fakeTime: WRONG, trusted: false });
  env.browser = await launchBrowser();
  env.context = await env.browser.newContext({ viewport: VIEWPORTS.laptop, locale: "en-GB", timezoneId: "Europe/Paris" });
  env.context.setDefaultTimeout(STEP_MS);
  env.seen = watchContext(env.context);
}, { timeout: 90_000 });

after(async () => {
  await teardown(env.browser, env.kiosk);
}, { timeout: 45_000 });

test("the kiosk holds a scan while the clock is not trusted", { timeout: TEST_MS }, async () => {
  const page = await env.context.newPage();
  await page.clock.install({ time: new Date(WRONG) }); // the kiosk's browser shares the device clock
  await page.goto(`${env.kiosk.origin}/`, { waitUntil: "load" });
  await page.locator("#scan").waitFor({ state: "visible" });
  await page.keyboard.type(env.kiosk.credentials.A001);
  await page.keyboard.press("Enter");
  const result = await waitForValue(
    () => page.evaluate(() => document.getElementById("result")?.textContent ?? ""),
    (t) => /Your check-in is recorded/.test(t),
    { what: "the held answer" },
  );
  assert.match(result, /Welcome, Anna!/);
  assert.match(result, /as soon as the kiosk's clock is confirmed/);
  await shot(page, "kiosk-held-1280x800");
  await page.close();
});

test("staff set the clock from the banner and the held check-in is filed under d1-am", { timeout: TEST_MS }, async () => {
  const page = await env.context.newPage();
  env.staffPage = page;
  await page.clock.install({ time: new Date(TRUE) }); // the laptop's clock is right
  await page.goto(`${env.kiosk.origin}/staff`, { waitUntil: "load" });
  await page.fill("#login-username", STAFF);
  await page.fill("#login-password", PASSWORD);
  await page.click("#login-submit");
  await page.locator("#clock-banner").waitFor({ state: "visible" });
  assert.match(await page.textContent("#clock-banner"), /Check-ins are held/);
  await shot(page, "staff-clock-banner-1280x800");
  await page.click("#clock-set");
  const message = await waitForValue(() => page.textContent("#alert .alert-message"), (t) => /set to/.test(t), {
    what: "the clock confirmation",
  });
  assert.match(message, /1 held check-in was filed/);
  await page.locator("#clock-banner").waitFor({ state: "hidden" });
  const present = await waitForValue(
    () => page.evaluate(() => document.querySelector('.session-card[data-session-id="d1-am"] [data-count="present"]')?.textContent ?? null),
    (t) => t === "1",
    { what: "one present in Monday morning" },
  );
  assert.equal(present, "1");
  const health = await (await fetch(`${env.kiosk.origin}/healthz`)).json();
  assert.equal(health.held_checkins, 0);
  assert.equal(health.clock_source, "staff");
  await page.close();
});

test("a held check-in the device cannot place is filed by hand from the Sync tab", { timeout: TEST_MS }, async () => {
  // Restart with a wrong clock again; the laptop then sets it to 12:45, between sessions.
  await env.kiosk.stop();
  await env.kiosk.start({ fakeTime: WRONG, trusted: false });
  const { status } = await env.kiosk.postCheckin(env.kiosk.credentials.A002);
  assert.equal(status, 202);
  // Another staff laptop (its own context: no session cookie yet).
  const context = await env.browser.newContext({ viewport: VIEWPORTS.laptop, locale: "en-GB", timezoneId: "Europe/Paris" });
  context.setDefaultTimeout(STEP_MS);
  env.secondSeen = watchContext(context);
  const page = await context.newPage();
  await page.clock.install({ time: new Date("2026-11-23T12:45:00+01:00") });
  await page.goto(`${env.kiosk.origin}/staff#sync`, { waitUntil: "load" });
  await page.fill("#login-username", STAFF);
  await page.fill("#login-password", PASSWORD);
  await page.click("#login-submit");
  await page.locator("#clock-banner").waitFor({ state: "visible" });
  await page.click("#clock-set");
  await page.locator("#clock-banner").waitFor({ state: "hidden" });
  await page.click("#tab-sync");
  await page.locator("#held").waitFor({ state: "visible" });
  const item = page.locator("#held-list li").first();
  assert.match(await item.textContent(), /Lukas Müller \(badge\).*no session was open/);
  await shot(page, "staff-held-1280x800");
  await item.locator("select").selectOption("d1-am");
  await item.locator("button").click();
  await waitForValue(() => page.textContent("#alert .alert-message"), (t) => /filed under Monday morning/.test(t), {
    what: "the filing confirmation",
  });
  await page.locator("#held").waitFor({ state: "hidden" });
  await context.close();
});

test("the kiosk and both dashboards showed no errors", { timeout: TEST_MS }, async () => {
  assert.deepEqual(env.seen.pageErrors, [], "kiosk and first staff laptop");
  assert.deepEqual(env.secondSeen?.pageErrors, [], "second staff laptop");
});
