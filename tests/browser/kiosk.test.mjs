// Real-browser test of the kiosk page (GET /): Debian's chromium, driven by
// playwright-core, against the real course-kiosk binary on an ephemeral port over a
// temporary data directory (set up the way tests/integration/kiosk.py does it; see
// harness.mjs, shared with the other browser tests).
//
// Environment (set by CTest):
//   COURSE_KIOSK_BIN         the course-kiosk binary
//   COURSE_KIOSK_SOURCE_DIR  the source tree (unused for now; kept for parity with kiosk.py)
//   CK_ARTIFACT_DIR          where screenshots go (default: ./test-artifacts/browser)
//
// Run: node --test kiosk.test.mjs (tests/browser/run does the npm set-up first).
// Every wait has a timeout; the browser, the server and the temporary directory are
// cleaned up in after(), also when a step fails.

import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import {
  IN_MORNING,
  Kiosk,
  STEP_MS,
  TEST_MS,
  VIEWPORTS,
  artifact,
  launchBrowser,
  teardown,
} from "./harness.mjs";

const ROSTER = [
  ["A001", "Kowalska", "Anna", "PL"],
  ["A002", "Müller", "Lukas", "DE"],
  ["A003", "Dubois", "Chloé", "FR"],
];

const SMALL = VIEWPORTS.small; // the device's touchscreen
const PHONE = VIEWPORTS.phone;
const LAPTOP = VIEWPORTS.laptop;

const RESULT_KINDS = { ok: "rgb(0, 92, 37)", again: "rgb(255, 179, 0)", error: "rgb(163, 0, 21)" };

// ---- shared state, torn down in after() -----------------------------------------------

const env = {
  kiosk: null, // harness Kiosk: data directory and server
  origin: null,
  browser: null,
  page: null,
  requests: [], // every URL the page asked for
  pageErrors: [], // uncaught exceptions and console errors
  failedResponses: [], // "STATUS METHOD URL" of every answer >= 400
  pointerEvents: 0, // mouse / pointer / touch events seen by the page
  credentials: {}, // id -> QR text
};

// ---- helpers --------------------------------------------------------------------------

async function shot(name, viewport) {
  const page = env.page;
  if (viewport) await page.setViewportSize(viewport);
  const file = artifact(`${name}.png`);
  await page.screenshot({ path: file, animations: "disabled", timeout: STEP_MS });
  return file;
}

// Everything on the idle screen is inside the viewport (the body does not scroll, so
// anything outside would simply be cut off).
async function assertIdleFits(name) {
  const outside = await env.page.evaluate(() => {
    const bad = [];
    for (const el of document.querySelectorAll("#idle > *, #idle .prompt > *, #clock, #scan")) {
      const r = el.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) continue;
      if (r.left < 0 || r.top < 0 || r.right > window.innerWidth + 0.5 || r.bottom > window.innerHeight + 0.5) {
        bad.push(`${el.id || el.className}: ${Math.round(r.left)},${Math.round(r.top)}–${Math.round(r.right)},${Math.round(r.bottom)}`);
      }
    }
    return bad;
  });
  assert.deepEqual(outside, [], `${name}: elements outside the ${JSON.stringify(env.page.viewportSize())} viewport`);
}

// The scanner: a keyboard that types the code and presses Enter (or Tab).
async function scan(code, end = "Enter") {
  await env.page.keyboard.type(code);
  await env.page.keyboard.press(end);
}

// Waits until the result panel shows `kind` and its 120 ms fade has finished (fully
// opaque for an outcome, fully transparent when idle).
async function waitForKind(kind) {
  await env.page.waitForFunction(
    (want) => {
      const result = document.getElementById("result");
      const opacity = getComputedStyle(result).opacity;
      return result.dataset.kind === want && opacity === (want === "idle" ? "0" : "1");
    },
    kind,
    { timeout: STEP_MS },
  );
}

async function resultState() {
  return env.page.evaluate(() => {
    const result = document.getElementById("result");
    return {
      kind: result.dataset.kind,
      title: result.querySelector(".result-title")?.textContent ?? "",
      text: document.getElementById("result-text").innerText,
      background: getComputedStyle(result).backgroundColor,
      visible: getComputedStyle(result).visibility !== "hidden" && getComputedStyle(result).opacity !== "0",
      scanValue: document.getElementById("scan").value,
    };
  });
}

async function waitForScanFocus(timeout = STEP_MS) {
  await env.page.waitForFunction(() => document.activeElement?.id === "scan", null, { timeout });
}

function postCheckin(credential) {
  return env.kiosk.postCheckin(credential);
}

// ---- set-up and tear-down -------------------------------------------------------------

before(async () => {
  env.kiosk = new Kiosk("kiosk");
  env.kiosk.importRoster(ROSTER);
  for (const [id] of ROSTER) env.credentials[id] = env.kiosk.credential(id);
  env.origin = await env.kiosk.start({ fakeTime: IN_MORNING, trusted: true });

  env.browser = await launchBrowser();
  // The device's screen is a touchscreen: (pointer: coarse), which also shows the page's
  // "Type a code" button.
  const context = await env.browser.newContext({ viewport: SMALL, locale: "en-GB", hasTouch: true });
  context.setDefaultTimeout(STEP_MS);
  context.on("request", (request) => env.requests.push(request.url()));
  env.page = await context.newPage();
  env.page.on("pageerror", (err) => env.pageErrors.push(`pageerror: ${err.message}`));
  env.page.on("console", (msg) => {
    // A failed load is logged by the browser itself; answers are checked via "response".
    if (msg.type() === "error" && !msg.text().startsWith("Failed to load resource")) {
      env.pageErrors.push(`console.error: ${msg.text()}`);
    }
  });
  context.on("response", (response) => {
    if (response.status() >= 400) {
      env.failedResponses.push(`${response.status()} ${response.request().method()} ${response.url()}`);
    }
  });
  // The kiosk's browser runs on the device itself, so it shares the device's clock:
  // start the page clock at the server's fake time (it then runs normally).
  await env.page.clock.install({ time: new Date(IN_MORNING) });
  // Count pointer input, so that the scanner flow can be shown to need none.
  await env.page.addInitScript(() => {
    window.__pointerEvents = 0;
    for (const type of ["pointerdown", "mousedown", "touchstart", "click"]) {
      window.addEventListener(type, (e) => { if (e.isTrusted) window.__pointerEvents++; }, true);
    }
  });
}, { timeout: 90_000 });

after(async () => {
  await teardown(env.browser, env.kiosk);
}, { timeout: 45_000 });

// ---- the tests (in order; each builds on the one before) ------------------------------

test("the idle page loads with the open session and the scan input focused without a click", { timeout: TEST_MS }, async () => {
  const response = await env.page.goto(`${env.origin}/`, { waitUntil: "load", timeout: STEP_MS });
  assert.equal(response.status(), 200);
  await env.page.waitForSelector('#session-line[data-state="open"]', { timeout: STEP_MS });
  await waitForScanFocus();

  const idle = await env.page.evaluate(() => ({
    title: document.getElementById("module-title").textContent,
    venue: document.getElementById("module-venue").textContent,
    session: document.getElementById("session-line").textContent,
    clock: document.getElementById("clock").textContent,
    kind: document.getElementById("result").dataset.kind,
  }));
  assert.match(idle.title, /^Module 3\b/);
  assert.equal(idle.venue, "Lille · Autumn 2026");
  assert.match(idle.session, /Check-in open: Monday morning 08:30–12:30/);
  assert.match(idle.clock, /^08:4\d$/);
  assert.equal(idle.kind, "idle");
  await assertIdleFits("idle-800x480");
  await shot("idle-800x480");
});

test("scanner flow: green welcome, amber already checked in, red for garbage — keyboard only", { timeout: TEST_MS }, async () => {
  const page = env.page;
  const chloe = env.credentials.A003;

  // 1. First scan: green, first name only (accented), and the session.
  await scan(chloe);
  await waitForKind("ok");
  let r = await resultState();
  assert.equal(r.title, "Welcome, Chloé!");
  assert.match(r.text, /Monday morning/);
  assert.doesNotMatch(r.text, /Dubois|D\./, "only the first name is shown");
  assert.equal(r.background, RESULT_KINDS.ok);
  assert.equal(r.visible, true);
  assert.equal(r.scanValue, "", "the input is cleared for the next scan");
  await waitForScanFocus(1000);
  await shot("green-800x480");

  // 2. The same badge again. The page ignores a repeat of the same code for ~2 s (a
  //    scanner held over a badge); the green panel stays up longer than that, so waiting
  //    for it to reset is enough.
  await waitForKind("idle");
  await waitForScanFocus(1000);
  await scan(chloe);
  await waitForKind("again");
  r = await resultState();
  assert.match(r.title, /^Chloé, you are already checked in$/);
  assert.match(r.text, /\bat 08:4\d\b/);
  assert.match(r.text, /Monday morning/);
  assert.equal(r.background, RESULT_KINDS.again);
  await shot("amber-800x480");

  // 3. Garbage, scanned while the amber panel is still up: it replaces it at once.
  await scan("HELLO-THIS-IS-NOT-A-BADGE");
  await waitForKind("error");
  r = await resultState();
  assert.equal(r.title, "Couldn't read that code");
  assert.ok(r.text.length > r.title.length, "the red panel says what to do");
  assert.doesNotMatch(r.text, /invalid_credential|[{}]|\b4\d\d\b|undefined|null/, "plain words only");
  assert.equal(r.background, RESULT_KINDS.error);
  await shot("red-800x480");

  // 4. After the reset delay the idle screen is back, empty, and the input still focused.
  await waitForKind("idle");
  r = await resultState();
  assert.equal(r.text, "");
  assert.equal(await page.isVisible("#scan-form"), true);
  await waitForScanFocus(1000);

  // 5. A scanner that ends its code with Tab instead of Enter.
  await scan(env.credentials.A002, "Tab");
  await waitForKind("ok");
  r = await resultState();
  assert.equal(r.title, "Welcome, Lukas!");
  await waitForScanFocus(1000);
  await waitForKind("idle");

  // All of it with no mouse, pointer or touch input at all.
  assert.equal(await page.evaluate(() => window.__pointerEvents), 0);
});

test("focus comes back to the input: clicking elsewhere, Tab away, the keyboard toggle", { timeout: TEST_MS }, async () => {
  const page = env.page;
  await waitForKind("idle");

  // Clicking on non-focusable parts of the page.
  for (const selector of ["#module-title", "#session-line", ".prompt-title"]) {
    await page.click(selector, { timeout: STEP_MS });
    await waitForScanFocus(2000);
  }
  // Clicking the page's corner.
  await page.mouse.click(5, SMALL.height - 5);
  await waitForScanFocus(2000);

  // Tab moves focus away (to the toggle button); the page takes it back.
  await page.keyboard.press("Tab");
  await waitForScanFocus(2000);

  // The on-screen keyboard toggle: the input keeps focus and asks for a keyboard, then not.
  await page.click("#type-toggle", { timeout: STEP_MS });
  await waitForScanFocus(2000);
  assert.equal(await page.getAttribute("#type-toggle", "aria-pressed"), "true");
  assert.equal(await page.evaluate(() => document.getElementById("scan").inputMode), "text");
  await page.click("#type-toggle", { timeout: STEP_MS });
  await waitForScanFocus(2000);
  assert.equal(await page.getAttribute("#type-toggle", "aria-pressed"), "false");
  assert.equal(await page.evaluate(() => document.getElementById("scan").inputMode), "none");

  // A scan after all that still lands in the input (a tap on a result dismisses it).
  await scan(env.credentials.A001);
  await waitForKind("ok");
  assert.equal((await resultState()).title, "Welcome, Anna!");
  await page.tap("#result", { timeout: STEP_MS });
  await waitForKind("idle");
  await waitForScanFocus(2000);
});

test("idle screen at phone and laptop sizes", { timeout: TEST_MS }, async () => {
  await waitForKind("idle");
  for (const [name, viewport] of [
    ["idle-390x844", PHONE],
    ["idle-1280x800", LAPTOP],
  ]) {
    await env.page.setViewportSize(viewport);
    await assertIdleFits(name);
    await shot(name);
  }
  await env.page.setViewportSize(SMALL);
});

test("the page talks to the device only, and without errors", { timeout: TEST_MS }, async () => {
  assert.ok(env.requests.length > 0);
  const foreign = env.requests.filter((url) => !url.startsWith(`${env.origin}/`));
  assert.deepEqual(foreign, [], "requests to hosts other than the device");
  assert.ok(env.requests.some((url) => url === `${env.origin}/api/v1/checkins`));
  assert.ok(env.requests.some((url) => url === `${env.origin}/api/v1/module`));
  assert.deepEqual(env.pageErrors, []);
  // The only error answer is the garbage scan's.
  assert.deepEqual(env.failedResponses, [`422 POST ${env.origin}/api/v1/checkins`]);
});

test("the browser's check-in was recorded by the server", { timeout: TEST_MS }, async () => {
  const { status, body } = await postCheckin(env.credentials.A003);
  assert.equal(status, 200);
  assert.equal(body.status, "already_checked_in");
  assert.match(body.checkin.local_time, /^08:4\d$/);
});
