// Real-browser test of an untrusted device clock (SPEC section 8): the kiosk holds a
// check-in instead of filing it under the session its wrong clock names; staff see the
// banner, set the device clock from their laptop, and the held check-in lands under the
// session of its true time. Also a held check-in that needs staff: filed by hand from the
// Sync tab.
//
// The device believes it is Tuesday 09:00 (d2-am open); the staff laptop knows it is
// Monday 09:00 (d1-am).
//
// Then the kiosk and the display show the device's time, corrected by staff, in a browser
// whose own clock is years off (issue 14, item 3); and, as the device listens on 127.0.0.1
// only without a public_url, the display warns staff instead of showing a QR code no phone
// could open (item 1).

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { Kiosk, STEP_MS, TEST_MS, VIEWPORTS, launchBrowser, shot, teardown, waitForValue, watchContext } from "./harness.mjs";

const WRONG = "2026-11-24T09:00:00+01:00";
const TRUE = "2026-11-23T09:00:00+01:00";
const FAR = "2031-03-09T17:47:00Z"; // a Sunday, 18:47 in Paris: a browser clock far off
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

test("kiosk and display show the device's corrected time, not the browser's", { timeout: TEST_MS }, async () => {
  // The previous test set the device clock to Monday 12:45 (between d1-am and d1-pm).
  const health = await (await fetch(`${env.kiosk.origin}/healthz`)).json();
  assert.equal(health.clock_source, "staff");
  assert.match(health.time, /^2026-11-23T12:4\d:\d\d\+01:00$/);

  const kiosk = await env.context.newPage();
  await kiosk.clock.install({ time: new Date(FAR) });
  await kiosk.goto(`${env.kiosk.origin}/`, { waitUntil: "load" });
  assert.equal(await kiosk.evaluate(() => new Date().getFullYear()), 2031, "the browser's clock is off");
  const kioskClock = await waitForValue(() => kiosk.textContent("#clock"), (t) => t !== "", { what: "the kiosk clock" });
  assert.match(kioskClock, /^12:4\d$/, "the device's 12:4x, not the browser's 18:47");
  // "Today" is the device's too: the next check-in is today's, so no date is named.
  const line = await waitForValue(() => kiosk.textContent("#session-line"), (t) => /Next check-in/.test(t), {
    what: "the kiosk's next check-in",
  });
  assert.equal(line, "Next check-in opens at 13:00 (Monday afternoon)");
  await shot(kiosk, "kiosk-device-time-1280x800");
  await kiosk.close();

  const display = await env.context.newPage();
  await display.clock.install({ time: new Date(FAR) });
  await display.goto(`${env.kiosk.origin}/display`, { waitUntil: "load" });
  const displayClock = await waitForValue(() => display.textContent("#clock"), (t) => t !== "", { what: "the display clock" });
  assert.match(displayClock, /^12:4\d$/, "the device's 12:4x, not the browser's 18:47");
  // Listening on 127.0.0.1 without public_url: a warning for staff, and no QR code.
  await display.locator('#display[data-state="unreachable"]').waitFor({ state: "attached" });
  const warning = await display.textContent("#notice-text");
  assert.match(warning, /^Phones cannot reach this device: it listens on 127\.0\.0\.1:\d+ only\./);
  assert.match(warning, /public_url/);
  assert.equal(await display.isVisible("#notice-title"), true);
  assert.equal(await display.locator("#qr svg").count(), 0, "no QR code");
  assert.equal(await display.textContent("#token-url"), "");
  await shot(display, "display-unreachable-1280x800");
  await display.close();
});

test("the kiosk and both dashboards showed no errors", { timeout: TEST_MS }, async () => {
  assert.deepEqual(env.seen.pageErrors, [], "kiosk and first staff laptop");
  assert.deepEqual(env.secondSeen?.pageErrors, [], "second staff laptop");
});
