// Real-browser test of the entrance display (GET /display) and phone self check-in
// (GET /p?t=TOKEN): Debian's chromium, driven by playwright-core, against the real
// course-kiosk binary over a temporary data directory (harness.mjs).
//
// The display runs on the device itself (loopback, no staff login). The device listens on
// every address without a public_url, so the QR code must point at one of the machine's
// network addresses, never at 127.0.0.1 (issue 14, item 1). It is screenshotted and
// decoded with zbarimg; a second browser context emulating a phone opens the decoded URL,
// identifies itself once (registration number + family name), and is then remembered by
// its cookie. The display's "Just checked in" list shows the arrival. (A device that
// listens on loopback only shows staff a warning instead: clock.test.mjs.)
//
// Run: node --test display.test.mjs (tests/browser/run does the npm set-up first).
// Every wait is bounded; the browser, the server and the temporary directory are cleaned
// up in after(), also when a step fails.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import os from "node:os";
import {
  IN_MORNING,
  Kiosk,
  STEP_MS,
  TEST_MS,
  VIEWPORTS,
  launchBrowser,
  shot,
  sleep,
  teardown,
  waitForValue,
  watchContext,
  zbarDecode,
} from "./harness.mjs";

const ROSTER = [
  ["A001", "Kowalska", "Anna", "PL"],
  ["A002", "Müller", "Lukas", "DE"],
  ["A003", "Dubois", "Chloé", "FR"],
];
const PHONE_USER_AGENT =
  "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36";
// Backgrounds of the phone page's outcomes (phone.css: --ok-bg, --again-bg, --error-bg):
// green, amber, red, as on the kiosk.
const RESULT_KINDS = { ok: "rgb(0, 92, 37)", again: "rgb(255, 179, 0)", error: "rgb(163, 0, 21)" };

const env = {
  kiosk: null,
  browser: null,
  display: null, // the display's page
  displaySeen: null,
  phoneContext: null,
  phone: null, // the phone's page
  phoneSeen: null,
  tokenUrl: null, // decoded from the display's QR code
  phoneOrigin: null, // its origin: where phones reach the device
};

// The machine's addresses a phone could use (what the device may choose from).
function networkAddresses() {
  return Object.values(os.networkInterfaces())
    .flat()
    .filter((a) => !a.internal && !(a.family === "IPv4" && a.address.startsWith("169.254.")))
    .map((a) => a.address);
}
// Without one (a machine on loopback alone) the display can only warn, and nothing here
// applies but the last test.
const NO_NETWORK = networkAddresses().length === 0 && "this machine has no network address but loopback";
const SKIP = { timeout: TEST_MS, skip: NO_NETWORK };

// ---- helpers --------------------------------------------------------------------------

function phoneResult() {
  return env.phone.evaluate(() => {
    const result = document.getElementById("result");
    const form = document.getElementById("identify-form");
    return {
      kind: result.dataset.kind,
      title: result.querySelector(".result-title")?.textContent ?? "",
      text: document.getElementById("result-text").innerText,
      background: getComputedStyle(result).backgroundColor,
      formShown: !form.hidden && getComputedStyle(form).display !== "none",
      remembered: !document.getElementById("remembered-note").hidden,
    };
  });
}

// Waits for the phone page to settle on an outcome (not "busy").
function waitForPhoneKind(kind) {
  return waitForValue(phoneResult, (r) => r.kind === kind, { what: `the phone's result to be "${kind}"` });
}

function recentNames() {
  return env.display.evaluate(() =>
    [...document.querySelectorAll("#recent-list li:not([hidden]) .recent-name")].map((el) => el.textContent),
  );
}

// Everything on the display is inside the viewport (it is read from metres away and
// nobody scrolls it).
function displayOutside() {
  return env.display.evaluate(() => {
    const bad = [];
    for (const el of document.querySelectorAll("#display .top > *, #open-view .qr, #open-view .token-caption, #open-view .open-info > *, .recent-title")) {
      const r = el.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) continue;
      if (r.left < -0.5 || r.top < -0.5 || r.right > window.innerWidth + 0.5 || r.bottom > window.innerHeight + 0.5) {
        bad.push(`${el.id || el.className}: ${Math.round(r.left)},${Math.round(r.top)}–${Math.round(r.right)},${Math.round(r.bottom)}`);
      }
    }
    return bad;
  });
}

// ---- set-up and tear-down -------------------------------------------------------------

before(async () => {
  env.kiosk = new Kiosk("display");
  env.kiosk.importRoster(ROSTER);
  await env.kiosk.start({ fakeTime: IN_MORNING, trusted: true, listen: "0.0.0.0:0" });

  env.browser = await launchBrowser();
  const displayContext = await env.browser.newContext({ viewport: VIEWPORTS.display, locale: "en-GB" });
  displayContext.setDefaultTimeout(STEP_MS);
  env.displaySeen = watchContext(displayContext);
  env.display = await displayContext.newPage();
  // The display's browser runs on the device: it shares the device's (fake) clock.
  await env.display.clock.install({ time: new Date(IN_MORNING) });

  env.phoneContext = await env.browser.newContext({
    viewport: VIEWPORTS.phone,
    deviceScaleFactor: 3,
    isMobile: true,
    hasTouch: true,
    userAgent: PHONE_USER_AGENT,
    locale: "en-GB",
  });
  env.phoneContext.setDefaultTimeout(STEP_MS);
  env.phoneSeen = watchContext(env.phoneContext);
  env.phone = await env.phoneContext.newPage();
}, { timeout: 90_000 });

after(async () => {
  await teardown(env.browser, env.kiosk);
}, { timeout: 45_000 });

// ---- the tests (in order; each builds on the one before) ------------------------------

test("the display shows the open session and a QR code of its token URL", SKIP, async () => {
  const page = env.display;
  const response = await page.goto(`${env.kiosk.origin}/display`, { waitUntil: "load", timeout: STEP_MS });
  assert.equal(response.status(), 200);
  await page.locator('#display[data-state="open"]').waitFor({ state: "attached", timeout: STEP_MS });
  await page.locator("#qr svg").waitFor({ state: "visible" });

  const info = await page.evaluate(() => ({
    title: document.getElementById("module-title").textContent,
    venue: document.getElementById("module-venue").textContent,
    label: document.getElementById("session-label").textContent,
    hours: document.getElementById("session-hours").textContent,
    seconds: document.getElementById("rotation-seconds").textContent,
    empty: !document.getElementById("recent-empty").hidden,
  }));
  assert.match(info.title, /\S/);
  assert.equal(info.venue, "Lille");
  assert.equal(info.label, "Monday morning");
  assert.equal(info.hours, "08:30–12:30");
  assert.ok(Number(info.seconds) >= 0 && Number(info.seconds) <= 30, `countdown ${info.seconds}`);
  assert.equal(info.empty, true, "nobody checked in yet");
  // The clock follows the module's zone (it runs on the device's fake time here).
  await waitForValue(() => page.textContent("#clock"), (t) => /^08:4\d$/.test(t), { what: "the display clock" });

  // The QR code decodes to the URL written under it. The token rotates every 30 s: if it
  // changed while the picture was taken, take it again.
  let decoded = null;
  let written = null;
  for (let attempt = 0; attempt < 3; attempt++) {
    const urlBefore = await page.textContent("#token-url");
    const file = await shot(page.locator("#qr"), "display-qr");
    written = await page.textContent("#token-url");
    decoded = zbarDecode(file);
    if (urlBefore === written) break;
    await sleep(500);
  }
  assert.equal(decoded.length, 1, `one QR code in #qr, decoded ${JSON.stringify(decoded)}`);
  const url = new URL(decoded[0]);
  // Not the address the display reached the device at (127.0.0.1), but one of the
  // machine's network addresses, on the device's port.
  assert.notEqual(url.hostname, "127.0.0.1", "no phone can open a loopback address");
  assert.ok(networkAddresses().includes(url.hostname), `${url.hostname} is one of ${networkAddresses()}`);
  assert.equal(url.port, new URL(env.kiosk.origin).port);
  assert.equal(url.pathname, "/p");
  assert.match(url.searchParams.get("t") ?? "", /^\S{8,}$/);
  assert.equal(decoded[0], written, "the QR code and the URL under it agree");
  env.tokenUrl = decoded[0];
  env.phoneOrigin = url.origin;

  assert.deepEqual(await displayOutside(), [], "display elements outside the 1280×720 viewport");
  await shot(page, "display-1280x720");
});

test("the display at the device's 800×480 screen", SKIP, async () => {
  await env.display.setViewportSize(VIEWPORTS.small);
  await env.display.locator("#qr svg").waitFor({ state: "visible" });
  const outside = await displayOutside();
  await shot(env.display, "display-800x480");
  await env.display.setViewportSize(VIEWPORTS.display);
  assert.deepEqual(outside, [], "display elements outside the 800×480 viewport");
});

test("a new phone identifies once with registration number and family name", SKIP, async () => {
  const phone = env.phone;
  assert.ok(env.tokenUrl, "the display's token URL (previous test)");
  const response = await phone.goto(env.tokenUrl, { waitUntil: "load", timeout: STEP_MS });
  assert.equal(response.status(), 200);
  await phone.locator("#identify-form").waitFor({ state: "visible" });
  let r = await phoneResult();
  assert.equal(r.kind, "info");
  assert.equal(r.title, "First time on this phone");
  assert.equal(await phone.evaluate(() => matchMedia("(pointer: coarse)").matches), true, "a touch phone");
  await shot(phone, "phone-identify-390x844");

  await phone.tap("#tab-registration");
  await phone.locator("#attendee-id").waitFor({ state: "visible" });
  assert.equal(await phone.getAttribute("#tab-registration", "aria-selected"), "true");
  await phone.fill("#attendee-id", "A003");
  await phone.fill("#family-name", "Dubois");
  await shot(phone, "phone-identify-filled-390x844");
  await phone.tap("#identify-submit");

  r = await waitForPhoneKind("ok");
  assert.equal(r.title, "Welcome, Chloé!");
  assert.match(r.text, /You are checked in for Monday morning/);
  assert.match(r.text, /Checked in at 08:4\d/);
  assert.doesNotMatch(r.text, /Dubois/, "first name only");
  assert.equal(r.formShown, false, "the form is gone");
  assert.equal(r.remembered, true, "the phone is remembered from now on");
  assert.equal(r.background, RESULT_KINDS.ok, "green");
  await shot(phone, "phone-ok-390x844");

  const cookies = await env.phoneContext.cookies();
  const cookie = cookies.find((c) => c.name === "ck_phone");
  assert.ok(cookie, `a ck_phone cookie: ${JSON.stringify(cookies.map((c) => c.name))}`);
  assert.equal(cookie.httpOnly, true);
  assert.equal(cookie.sameSite, "Strict");
});

test("the display lists the arrival within a few seconds", SKIP, async () => {
  const names = await waitForValue(recentNames, (list) => list.includes("Chloé D."), {
    timeout: 8000,
    what: "Chloé D. in the display's recent list",
  });
  assert.equal(names[0], "Chloé D.", "newest first");
  const item = await env.display.evaluate(() => {
    const li = document.querySelector("#recent-list li");
    return { time: li.querySelector(".recent-time").textContent, isNew: li.classList.contains("is-new") };
  });
  assert.match(item.time, /^08:4\d$/);
  assert.equal(item.isNew, true, "a new arrival is highlighted");
  assert.equal(await env.display.locator("#recent-empty").isVisible(), false);
  await shot(env.display, "display-recent-1280x720");
});

test("the same phone again: already checked in, without the form", SKIP, async () => {
  const phone = env.phone;
  await phone.reload({ waitUntil: "load", timeout: STEP_MS });
  const r = await waitForPhoneKind("again");
  assert.match(r.title, /^Already checked in at 08:4\d$/);
  assert.match(r.text, /Chloé, you are checked in for Monday morning/);
  assert.equal(r.formShown, false, "the cookie remembered the phone");
  assert.equal(r.remembered, false);
  assert.equal(r.background, RESULT_KINDS.again, "amber");
  await shot(phone, "phone-again-390x844");

  // Still one check-in: the display shows Chloé once. A poll that starts now sees the
  // second visit, and the display asks again only once it has shown that answer.
  const displayPoll = (request) => new URL(request.url()).pathname === "/api/v1/display";
  await env.display.waitForRequest(displayPoll, { timeout: STEP_MS });
  await env.display.waitForRequest(displayPoll, { timeout: STEP_MS });
  const names = await recentNames();
  assert.deepEqual(names.filter((n) => n === "Chloé D."), ["Chloé D."]);
});

test("a garbage token says the link is not valid", SKIP, async () => {
  const phone = env.phone;
  const response = await phone.goto(`${env.phoneOrigin}/p?t=nonsense`, { waitUntil: "load", timeout: STEP_MS });
  assert.equal(response.status(), 200);
  const r = await waitForPhoneKind("error");
  assert.match(r.title, /not valid|invalid/i);
  assert.match(r.text, /Scan the code on the screen/);
  assert.equal(r.formShown, false);
  assert.equal(r.background, RESULT_KINDS.error, "red");
  await shot(phone, "phone-invalid-390x844");
});

test("display and phone talked to the device only, and without errors", SKIP, async () => {
  const origin = env.phoneOrigin; // the phone's; the display's is env.kiosk.origin
  for (const [who, seen, device] of [["display", env.displaySeen, env.kiosk.origin], ["phone", env.phoneSeen, origin]]) {
    const foreign = seen.requests.filter((url) => !url.startsWith(`${device}/`));
    assert.deepEqual(foreign, [], `${who}: requests to hosts other than the device`);
    assert.deepEqual(seen.pageErrors, [], `${who}: page errors`);
  }
  assert.deepEqual(env.displaySeen.failedResponses, [], "display: failed answers");
  // The phone's expected refusals: not identified yet (401), then the garbage token (403).
  assert.deepEqual(env.phoneSeen.failedResponses, [
    `401 POST ${origin}/api/v1/phone/checkins`,
    `403 POST ${origin}/api/v1/phone/checkins`,
  ]);
});

test("without a network address the display warns staff instead of showing a QR code", { timeout: TEST_MS, skip: !NO_NETWORK }, async () => {
  await env.display.goto(`${env.kiosk.origin}/display`, { waitUntil: "load", timeout: STEP_MS });
  await env.display.locator('#display[data-state="unreachable"]').waitFor({ state: "attached" });
  assert.match(await env.display.textContent("#notice-text"), /no network address.*public_url/);
  assert.equal(await env.display.locator("#qr svg").count(), 0);
});
