// Real-browser journeys through localoffer's server-rendered pages.
//
//   node tests/browser/journeys.mjs http://127.0.0.1:PORT
//
// (normally started by tests/browser/run.sh, which starts `localoffer serve --demo` first).
// Drives Debian's Chromium with playwright-core. For every page it visits it:
//   - runs axe-core with the WCAG 2.0/2.1/2.2 A and AA rules and fails on any violation,
//   - checks that at 320 CSS px wide nothing scrolls sideways (WCAG 1.4.10 reflow),
//   - checks the layout contract (lang="en", skip link, <main id="main-content">, home link,
//     a csrf_token in every POST form),
//   - saves a full-page screenshot in tests/browser/screenshots/NN-name.png.
// Plain Node, no test framework. Exit code 0 when everything passed, 1 otherwise.

import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, copyFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import http from 'node:http';
import zlib from 'node:zlib';
import { createHmac } from 'node:crypto';
import { chromium } from 'playwright-core';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..', '..');
const SHOTS = path.join(HERE, 'screenshots');
const DOC_SHOTS = path.join(REPO, 'docs', 'screenshots');
const AXE = path.join(HERE, 'node_modules', 'axe-core', 'axe.min.js');
const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const WCAG_TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa'];
const DESKTOP = { width: 1280, height: 900 };
// Where the demo server writes mail (no SMTP server is set): run.sh passes its data directory's.
const OUTBOX = process.env.OUTBOX || '';
const NARROW = { width: 320, height: 800 };

// The demo's published two-step login secrets (README), for officers and brokers.
const OFFICER_TOTP = 'MRSW23ZAN5TGM2LDMVZCAMTGMEQGWZLZ';
// The demo's panel officer, who decides personal-budget requests (the officer above assesses).
const PANEL = { email: 'panel@merton.example', password: 'demo-council-pass', totp: 'MRSW23ZAOBQW4ZLMEAZGMYJANNSXSIJB' };
// The demo's reviewing officer, who decides reviews of decisions it took no part in.
const REVIEWER = { email: 'review@merton.example', password: 'demo-council-pass', totp: 'MRSW23ZAOJSXM2LFO4QDEZTBEBVWK6JB' };

/** RFC 4648 base32 to bytes. */
function base32Bytes(text) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = '';
  for (const ch of text.replace(/=+$/, '').toUpperCase()) bits += alphabet.indexOf(ch).toString(2).padStart(5, '0');
  const bytes = [];
  for (let i = 0; i + 8 <= bits.length; i += 8) bytes.push(parseInt(bits.slice(i, i + 8), 2));
  return Buffer.from(bytes);
}

/** The RFC 6238 code (HMAC-SHA-1, 6 digits, 30-second steps) for a base32 secret, now. */
function totpCode(secret, stepOffset = 0) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 30000) + stepOffset));
  const h = createHmac('sha1', base32Bytes(secret)).update(counter).digest();
  const o = h[h.length - 1] & 15;
  return String((h.readUInt32BE(o) & 0x7fffffff) % 1000000).padStart(6, '0');
}

const FAMILY = { email: 'family4@demo.example', password: 'demo-family-pass', child: 'Jayden' };
const DEMO_SERVICE = 'Saturday Club';
const FULL_SOCIAL_CARE = 120000; // £1,200.00 in pence

// run.sh starts the server with --map-tiles at this host, which is never looked up: every
// context answers its tile requests itself (mapTiles), so the journeys never reach the internet.
const TILE_HOST = 'http://tiles.localoffer.test';

const BASE = (process.argv[2] || '').replace(/\/+$/, '');
if (!/^https?:\/\/[^/]+$/.test(BASE)) {
  console.error('usage: node tests/browser/journeys.mjs http://127.0.0.1:PORT');
  process.exit(2);
}

// ---------------------------------------------------------------- results

const results = []; // { ok, what, detail, journey }
let shotNumber = 0;
let currentJourney = null;

function pass(what) {
  results.push({ ok: true, what });
  console.log(`  ok    ${what}`);
}

function fail(what, detail = '') {
  results.push({ ok: false, what, detail, journey: currentJourney });
  console.log(`  FAIL  ${what}`);
  if (detail) console.log(indent(detail, 8));
}

function indent(text, n) {
  const pad = ' '.repeat(n);
  return String(text)
    .split('\n')
    .map((l) => pad + l)
    .join('\n');
}

/** An expectation inside a journey: records it, and stops the journey when it does not hold. */
class JourneyStop extends Error {}
function expect(cond, what, detail = '') {
  if (cond) {
    pass(what);
  } else {
    fail(what, detail);
    throw new JourneyStop(what);
  }
}

/** "£1,200.00" -> 120000 (pence); null when there is no amount. */
function pence(text) {
  const m = /£\s*([\d,]+)(?:\.(\d{2}))?/.exec(text || '');
  if (!m) return null;
  return Number(m[1].replace(/,/g, '')) * 100 + Number(m[2] || 0);
}

function shortError(e) {
  const msg = String((e && e.message) || e);
  // Playwright's messages carry a call log; the first lines say what went wrong.
  return msg.split('\n').slice(0, 12).join('\n');
}


// ---------------------------------------------------------------- map tiles

/** A 256 px square PNG: pale land with a grid, so that a map on these tiles reads as a map. */
function tilePng() {
  const crcTable = Array.from({ length: 256 }, (_, n) => {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    return c >>> 0;
  });
  const crc = (buf) => {
    let c = 0xffffffff;
    for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
    return (c ^ 0xffffffff) >>> 0;
  };
  const chunk = (type, data) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data]);
    const sum = Buffer.alloc(4);
    sum.writeUInt32BE(crc(body));
    return Buffer.concat([len, body, sum]);
  };
  const size = 256;
  const rows = [];
  for (let y = 0; y < size; y++) {
    const row = Buffer.alloc(1 + size * 3);
    for (let x = 0; x < size; x++) {
      const line = x % 64 === 0 || y % 64 === 0;
      const [r, g, b] = line ? [210, 205, 195] : [242, 239, 233];
      row.set([r, g, b], 1 + x * 3);
    }
    rows.push(row);
  }
  const header = Buffer.alloc(13);
  header.writeUInt32BE(size, 0);
  header.writeUInt32BE(size, 4);
  header.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', zlib.deflateSync(Buffer.concat(rows))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
const TILE = tilePng();

/** Answer the map's tile requests in this context; returns how many were asked for. */
async function mapTiles(context) {
  const asked = { count: 0 };
  await context.route(`${TILE_HOST}/**`, (route) => {
    asked.count += 1;
    return route.fulfill({ status: 200, contentType: 'image/png', body: TILE });
  });
  return asked;
}

// ---------------------------------------------------------------- per-page checks

/**
 * Every page visited goes through here: layout contract, axe, reflow at 320 px, screenshot.
 * Returns the screenshot's path. Failures are recorded but do not stop the journey.
 */
async function checkPage(page, name) {
  shotNumber += 1;
  const label = `${String(shotNumber).padStart(2, '0')}-${name}`;
  const url = page.url().replace(BASE, '');
  console.log(`\n[${label}] ${url}`);
  await page.waitForLoadState('load');

  // Layout contract.
  const layout = await layoutProblems(page);
  if (layout.length) fail(`${label}: page layout contract`, layout.join('\n'));
  else pass(`${label}: page layout contract`);

  // Accessibility: axe-core with the WCAG A/AA tags.
  try {
    const violations = await axeViolations(page);
    if (violations.length) {
      const detail = violations
        .map(
          (v) =>
            `${v.id} (${v.impact}): ${v.help}\n` +
            v.nodes
              .slice(0, 8)
              .map((n) => `  - ${n.target}${n.summary ? '\n' + indent(n.summary, 6) : ''}`)
              .join('\n') +
            (v.nodes.length > 8 ? `\n  ... and ${v.nodes.length - 8} more` : ''),
        )
        .join('\n');
      fail(`${label}: axe WCAG A/AA (${violations.length} violation${violations.length === 1 ? '' : 's'})`, detail);
    } else {
      pass(`${label}: axe WCAG A/AA`);
    }
  } catch (e) {
    fail(`${label}: axe could not run`, shortError(e));
  }

  // Reflow: nothing wider than 320 CSS px at a 320 px viewport.
  try {
    const reflow = await reflowAt320(page);
    if (reflow.width <= NARROW.width) {
      pass(`${label}: no sideways scrolling at 320 px`);
    } else {
      fail(
        `${label}: scrolls sideways at 320 px (scrollWidth ${reflow.width})`,
        'widest elements:\n' + reflow.wide.join('\n'),
      );
    }
  } catch (e) {
    fail(`${label}: reflow check could not run`, shortError(e));
  }

  const file = path.join(SHOTS, `${label}.png`);
  try {
    await page.screenshot({ path: file, fullPage: true });
  } catch (e) {
    fail(`${label}: screenshot`, shortError(e));
  }
  return file;
}

/** What the page breaks of the layout contract every page shares. */
async function layoutProblems(page) {
  return page.evaluate(() => {
    const problems = [];
    if (document.documentElement.getAttribute('lang') !== 'en') problems.push('<html> has no lang="en"');
    if (!document.querySelector('main#main-content')) problems.push('no <main id="main-content">');
    const skip = document.querySelector('a[href="#main-content"]');
    if (!skip) problems.push('no skip link (a[href="#main-content"])');
    const home = [...document.querySelectorAll('header a[href="/"]')].find(
      (a) => a.textContent.trim() === 'localoffer',
    );
    if (!home) problems.push('no link "localoffer" to / in the <header>');
    for (const form of document.querySelectorAll('form')) {
      if ((form.getAttribute('method') || 'get').toLowerCase() !== 'post') continue;
      const token = form.querySelector('input[type="hidden"][name="csrf_token"]');
      if (!token || !token.value) problems.push(`POST form to ${form.getAttribute('action')} has no csrf_token`);
    }
    if (!document.title.trim()) problems.push('the page has no <title>');
    return problems;
  });
}

/** axe-core's WCAG 2.x A/AA violations on the page as it is now. */
async function axeViolations(page) {
  if (!(await page.evaluate(() => typeof window.axe !== 'undefined'))) {
    await page.addScriptTag({ path: AXE });
  }
  return page.evaluate(async (tags) => {
    const r = await window.axe.run(document, { runOnly: { type: 'tag', values: tags } });
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => ({ target: n.target.join(' '), summary: n.failureSummary || '' })),
    }));
  }, WCAG_TAGS);
}

/** The page's scroll width at a 320 x 800 viewport (and what sticks out), then back to 1280 x 900. */
async function reflowAt320(page) {
  await page.setViewportSize(NARROW);
  try {
    await settle(page);
    return await page.evaluate((limit) => {
      const width = document.documentElement.scrollWidth;
      const wide = [];
      if (width > limit) {
        for (const el of document.body.querySelectorAll('*')) {
          const r = el.getBoundingClientRect();
          if (r.right > limit + 0.5 && r.width > 0) {
            const id = el.id ? `#${el.id}` : '';
            const cls = el.classList.length ? '.' + [...el.classList].join('.') : '';
            wide.push(`${el.tagName.toLowerCase()}${id}${cls} (right edge ${Math.round(r.right)}px)`);
          }
        }
      }
      return { width, wide: wide.slice(0, 10) };
    }, NARROW.width);
  } finally {
    await page.setViewportSize(DESKTOP);
    await settle(page);
  }
}

/**
 * The checks must be able to fail: on a deliberately broken page (no lang, an image without alt,
 * a 500 px wide box, a POST form without csrf_token) each of them has to report its problem.
 */
async function canary(browser) {
  console.log('\n=== Canary: the page checks catch a broken page');
  const server = http.createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
    res.end(
      '<!doctype html><html><head><title>Broken</title></head><body>' +
        '<main><h1>Broken on purpose</h1><img src="/x.png">' +
        '<div style="width:500px">too wide</div>' +
        '<form method="post" action="/x"><button>Go</button></form></main></body></html>',
    );
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  const context = await browser.newContext({ viewport: DESKTOP });
  try {
    const page = await context.newPage();
    await page.goto(`http://127.0.0.1:${server.address().port}/`);
    const layout = await layoutProblems(page);
    const problems = [];
    for (const bit of ['lang="en"', 'main-content', 'skip link', '"localoffer"', 'csrf_token']) {
      if (!layout.some((p) => p.includes(bit))) problems.push(`layout check missed: ${bit}`);
    }
    const ids = (await axeViolations(page)).map((v) => v.id);
    for (const id of ['image-alt', 'html-has-lang']) {
      if (!ids.includes(id)) problems.push(`axe missed ${id} (found: ${ids.join(', ') || 'nothing'})`);
    }
    const reflow = await reflowAt320(page);
    if (reflow.width <= NARROW.width) problems.push(`reflow check missed a 500 px box (scrollWidth ${reflow.width})`);
    const back = await page.evaluate(() => window.innerWidth);
    if (back !== DESKTOP.width) problems.push(`viewport not restored to ${DESKTOP.width} (is ${back})`);
    if (problems.length) fail('canary: every page check catches its problem', problems.join('\n'));
    else pass('canary: layout, axe and reflow checks each catch a broken page');
  } finally {
    await context.close();
    server.close();
  }
}

async function settle(page) {
  await page.evaluate(() => new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r))));
}

function keepForDocs(file, name) {
  try {
    mkdirSync(DOC_SHOTS, { recursive: true });
    copyFileSync(file, path.join(DOC_SHOTS, name));
    console.log(`  saved docs/screenshots/${name}`);
  } catch (e) {
    fail(`copy screenshot to docs/screenshots/${name}`, shortError(e));
  }
}

// ---------------------------------------------------------------- helpers for the pages

const main = (page) => page.locator('#main-content');

async function goto(page, pathname) {
  const response = await page.goto(BASE + pathname, { waitUntil: 'load' });
  const status = response ? response.status() : 0;
  expect(status === 200, `GET ${pathname} answers 200`, `status ${status}`);
}

/** Click something that submits a form or follows a link, and wait for the next page. */
async function clickAndWait(page, locator, urlPattern) {
  const before = page.url();
  try {
    await Promise.all([
      urlPattern ? page.waitForURL(urlPattern, { waitUntil: 'load' }) : page.waitForEvent('load'),
      locator.click(),
    ]);
  } catch (e) {
    const wanted = urlPattern ? ` to ${urlPattern}` : '';
    throw new Error(`clicking ${locator} did not lead${wanted} (from ${before}, now at ${page.url()}):\n${shortError(e)}`);
  }
  await page.waitForLoadState('load');
  return before;
}

/** The plain-text part of a .eml file, its transfer encoding undone (quoted-printable or base64). */
function mailText(raw) {
  const parts = raw.split(/\r?\n--[^\r\n]+\r?\n/);
  for (const part of parts) {
    const [head, ...rest] = part.split(/\r?\n\r?\n/);
    if (!/Content-Type: text\/plain/i.test(head)) continue;
    const body = rest.join('\n\n');
    if (/Content-Transfer-Encoding: base64/i.test(head)) return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
    if (/Content-Transfer-Encoding: quoted-printable/i.test(head)) {
      return body.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/gi, (_, h) => String.fromCharCode(parseInt(h, 16)));
    }
    return body;
  }
  return raw;
}

/** Wait for a mail to `to` in the outbox whose text has a link under `linkPath`; its path. */
async function mailedLink(to, linkPath) {
  expect(OUTBOX !== '', 'the journeys know where the demo server writes mail (OUTBOX)');
  const pattern = new RegExp(`${linkPath}/[0-9a-f]{64}`);
  for (let i = 0; i < 100; i++) {
    const files = existsSync(OUTBOX) ? readdirSync(OUTBOX).filter((f) => f.endsWith('.eml')) : [];
    for (const f of files) {
      const raw = readFileSync(path.join(OUTBOX, f), 'utf8');
      if (!new RegExp(`^To: .*${to.replace(/[.]/g, '\\.')}`, 'mi').test(raw)) continue;
      const found = mailText(raw).match(pattern);
      if (found) return found[0];
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  expect(false, `a mail to ${to} with a ${linkPath} link arrives in the outbox`);
  return '';
}

async function loggedIn(page) {
  return (await page.getByRole('button', { name: 'Log out', exact: true }).count()) > 0;
}

async function logOut(page, name) {
  const button = page.locator('header').getByRole('button', { name: 'Log out', exact: true });
  expect((await button.count()) === 1, 'the header has a "Log out" button');
  await clickAndWait(page, button);
  expect(!(await loggedIn(page)), 'after "Log out" there is no "Log out" button', `now at ${page.url()}`);
  await checkPage(page, name);
}

const usedTotpSteps = new Map();

async function logIn(page, email, password, expectedPath, totpSecret) {
  await goto(page, '/login');
  await checkPage(page, 'login');
  const m = main(page);
  await m.getByLabel('Email address', { exact: true }).fill(email);
  await m.getByLabel('Password', { exact: true }).fill(password);
  const code = m.getByLabel('Code from your authenticator app', { exact: true });
  expect((await code.getAttribute('autocomplete')) === 'one-time-code', 'the code field says autocomplete="one-time-code"');
  if (totpSecret) {
    // A code works once: a second login in the same 30 s step waits for the next code.
    while (usedTotpSteps.get(totpSecret) === Math.floor(Date.now() / 30000)) await page.waitForTimeout(1000);
    usedTotpSteps.set(totpSecret, Math.floor(Date.now() / 30000));
    await code.fill(totpCode(totpSecret));
  }
  await clickAndWait(page, m.getByRole('button', { name: 'Log in', exact: true }));
  const now = new URL(page.url()).pathname;
  expect(now === expectedPath, `logging in as ${email} lands on ${expectedPath}`, `landed on ${page.url()}`);
  expect(await loggedIn(page), 'once logged in, the header has "Log out"');
}

/** Tick a checkbox by its name and value; clicking its label if the input itself is covered. */
async function tick(scope, name, value) {
  const box = scope.locator(`input[type="checkbox"][name="${name}"][value="${value}"]`);
  const n = await box.count();
  expect(n === 1, `there is one checkbox ${name}=${value}`, `found ${n}`);
  try {
    await box.check({ timeout: 3000 });
  } catch {
    const id = await box.getAttribute('id');
    await scope.locator(`label[for="${id}"]`).click();
  }
  expect(await box.isChecked(), `checkbox ${name}=${value} is ticked`);
}

async function resultNames(page) {
  return main(page)
    .locator('ol.results > li a[href^="/services/"]')
    .evaluateAll((as) => as.map((a) => a.textContent.trim()));
}

// ---------------------------------------------------------------- journeys

async function failedLogin(page) {
  await goto(page, '/login');
  await checkPage(page, 'login-form');
  const m = main(page);
  await m.getByLabel('Email address', { exact: true }).fill(FAMILY.email);
  await m.getByLabel('Password', { exact: true }).fill('not-the-password');
  await clickAndWait(page, m.getByRole('button', { name: 'Log in', exact: true }));
  expect(new URL(page.url()).pathname === '/login', 'a wrong password stays on /login', `now at ${page.url()}`);
  const alert = m.getByRole('alert');
  expect((await alert.count()) === 1, 'a wrong password shows an error summary (role=alert)');
  expect(
    (await alert.getByRole('heading', { name: 'There is a problem' }).count()) === 1,
    'the error summary has the heading "There is a problem"',
    await alert.innerText(),
  );
  expect(!(await loggedIn(page)), 'a wrong password does not log in');
  await checkPage(page, 'login-failed');
}

async function familyJourney(page) {
  await goto(page, '/');
  await checkPage(page, 'home');

  await goto(page, '/search');
  await checkPage(page, 'search-form');
  const m = main(page);
  await m.getByLabel('Postcode', { exact: true }).fill('SW19');
  await m.getByLabel('Distance in miles', { exact: true }).fill('5');
  await m.getByLabel("Child's age", { exact: true }).fill('13');
  const outcomes = m.getByRole('group', { name: 'Outcomes', exact: true });
  expect((await outcomes.count()) === 1, 'the search form has a fieldset "Outcomes"');
  await tick(outcomes, 'outcome', 'pfa-friends-community');
  expect(
    (await outcomes.getByLabel('Friends, relationships and community inclusion', { exact: true }).count()) === 1,
    'outcome pfa-friends-community is labelled "Friends, relationships and community inclusion"',
  );
  await clickAndWait(page, m.getByRole('button', { name: 'Search', exact: true }), /\/search\?/);
  const query = new URL(page.url()).searchParams;
  expect(
    query.get('postcode') === 'SW19' && query.getAll('outcome').includes('pfa-friends-community'),
    'the search form is sent by GET with postcode and outcome',
    page.url(),
  );
  const searchShot = await checkPage(page, 'search-results');
  keepForDocs(searchShot, 'search.png');

  const count = m.getByRole('heading', { level: 2, name: /^\d+ services? found(, showing \d+–\d+)?$/ });
  expect((await count.count()) === 1, 'the results have a count heading like "12 services found"');
  const names = await resultNames(page);
  console.log(`  results: ${names.join(' | ')}`);
  expect(names.includes(DEMO_SERVICE), `the results include "${DEMO_SERVICE}"`, `results were: ${JSON.stringify(names)}`);
  const item = m.locator('ol.results > li').filter({
    has: page.getByRole('link', { name: DEMO_SERVICE, exact: true }),
  });
  const itemText = (await item.first().innerText()).replace(/\s+/g, ' ');
  expect(/\d+(\.\d+)?\s*miles?/i.test(itemText), `the "${DEMO_SERVICE}" result shows its distance`, itemText);
  expect(/From £[\d,]+\.\d\d/.test(itemText), `the "${DEMO_SERVICE}" result shows "From £X"`, itemText);

  await clickAndWait(
    page,
    item.first().getByRole('link', { name: DEMO_SERVICE, exact: true }),
    /\/services\/[^/?#]+$/,
  );
  const serviceUrl = new URL(page.url()).pathname;
  await checkService(page, DEMO_SERVICE, 'service');

  if (!(await loggedIn(page))) {
    await logIn(page, FAMILY.email, FAMILY.password, '/my-plan');
    await checkPage(page, 'my-plan-before');
    await goto(page, serviceUrl);
    await checkPage(page, 'service-logged-in');
  }

  // Book.
  const form = m.locator(`form[method="post"][action$="${serviceUrl}/book"]`);
  expect((await form.count()) === 1, `a logged-in family sees a booking form posting to ${serviceUrl}/book`);
  const payFrom = form.getByLabel('Pay from', { exact: true });
  const options = await payFrom.locator('option').evaluateAll((os) => os.map((o) => ({ value: o.value, text: o.textContent.trim() })));
  console.log(`  pay from: ${options.map((o) => `${o.value}=${o.text}`).join(' | ')}`);
  const social = options.find((o) => /social care/i.test(o.text));
  expect(!!social, '"Pay from" has a social care allocation', JSON.stringify(options));
  expect(/^\d+:\d+$/.test(social.value), '"Pay from" option values look like HOLDER:ALLOCATION', social.value);
  expect(
    social.text.includes(FAMILY.child) && pence(social.text) === FULL_SOCIAL_CARE,
    `the social care option names ${FAMILY.child} and shows £1,200.00 left`,
    social.text,
  );
  await payFrom.selectOption(social.value);
  const priceOption = form.getByLabel('Price option', { exact: true });
  expect((await priceOption.locator('option').count()) > 0, '"Price option" offers at least one option');
  const chosenPrice = await priceOption.evaluate((s) => s.options[s.selectedIndex].textContent.trim());
  console.log(`  price option: ${chosenPrice}`);
  // The service runs dated sessions: the family ticks the first two dates with places left.
  const dates = m.getByRole('table', { name: /^Coming sessions/ });
  expect((await dates.count()) === 1, 'the service page lists its "Coming sessions" with places left');
  expect(/places? left/.test(await dates.innerText()), 'the sessions say how many places are left');
  const ticks = form.getByRole('group', { name: 'Dates with places left', exact: true }).getByRole('checkbox');
  expect((await ticks.count()) >= 2, 'the booking form offers at least two dates to tick');
  const firstTwo = [await ticks.nth(0).getAttribute('value'), await ticks.nth(1).getAttribute('value')];
  await ticks.nth(0).check();
  await ticks.nth(1).check();
  await form.getByLabel('What the provider should know (optional)', { exact: true }).fill('Jayden likes to know the plan for the day.');
  await clickAndWait(page, form.getByRole('button', { name: 'Book', exact: true }));

  const h1 = await m.locator('h1').first().innerText().catch(() => '');
  expect(h1.trim() === 'Booking requested', 'booking shows a page headed "Booking requested"', `h1 was "${h1}" at ${page.url()}\n${(await m.innerText()).slice(0, 600)}`);
  const confirmation = await m.innerText();
  const left = /Remaining on this allocation\s*:?\s*(£[\d,]+\.\d\d)/.exec(confirmation);
  expect(!!left, 'the confirmation says "Remaining on this allocation £X"', confirmation.slice(0, 600));
  const remainingAfterBooking = pence(left[1]);
  console.log(`  remaining on this allocation: ${left[1]}`);
  expect(remainingAfterBooking < FULL_SOCIAL_CARE, 'the remaining amount is less than £1,200.00', left[1]);
  const booked = m.getByRole('table', { name: 'Sessions booked', exact: true });
  expect((await booked.locator('tbody tr').count()) === 2, 'the confirmation lists the two sessions booked', await m.innerText());
  expect(/Reference\s*[0-9A-Z]{4}-[0-9A-Z]{4}/.test(confirmation), 'the confirmation gives a readable reference', confirmation.slice(0, 400));
  console.log(`  sessions booked: ${firstTwo.join(', ')}`);
  await checkPage(page, 'booking-requested');

  await clickAndWait(page, m.getByRole('link', { name: 'Go to my plan', exact: true }), /\/my-plan$/);
  const planShot = await checkPage(page, 'my-plan-booked');
  keepForDocs(planShot, 'my-plan.png');
  expect(
    (await m.getByRole('heading', { level: 2, name: FAMILY.child, exact: true }).count()) === 1,
    `my plan has a heading "${FAMILY.child}"`,
  );
  const before = await socialCareRemaining(page);
  expect(
    before === remainingAfterBooking,
    `my plan's social care Remaining equals the confirmation's ${left[1]}`,
    `my plan shows ${before / 100}`,
  );
  for (const link of ['Matches for my plan', 'Statement']) {
    expect((await m.getByRole('link', { name: link, exact: true }).count()) === 1, `my plan links to "${link}"`);
  }
  // The booked sessions in a calendar app: the address is shown once and answers a calendar.
  await clickAndWait(page, m.getByRole('link', { name: 'Sessions in your calendar app', exact: true }), /\/my-calendar$/);
  await checkPage(page, 'calendar');
  await clickAndWait(page, m.getByRole('button', { name: 'Get a calendar address', exact: true }));
  await checkPage(page, 'calendar-address');
  const address = await m.getByLabel('Calendar address', { exact: true }).inputValue();
  expect(/\/calendar\/[0-9a-f]+\.ics$/.test(address), 'the calendar page shows an address ending .ics', address.replace(/[0-9a-f]{16,}/, '…'));
  const ics = await page.request.get(address);
  const feed = await ics.text();
  expect(ics.status() === 200 && feed.includes('BEGIN:VCALENDAR') && feed.includes(DEMO_SERVICE), `the address answers a calendar with ${DEMO_SERVICE} in it`);
  await goto(page, '/my-plan');
  const bookings = m.getByRole('table', { name: 'Bookings', exact: true });
  expect((await bookings.count()) === 1, 'my plan has a table captioned "Bookings"');
  const row = bookings.locator('tr').filter({ hasText: DEMO_SERVICE });
  expect((await row.count()) >= 1, `the Bookings table lists ${DEMO_SERVICE}`);
  console.log(`  booking row: ${(await row.first().innerText()).replace(/\s+/g, ' ')}`);

  // Cancel.
  const cancel = m.getByRole('button', { name: `Cancel booking for ${DEMO_SERVICE}`, exact: true });
  expect((await cancel.count()) >= 1, `there is a button named "Cancel booking for ${DEMO_SERVICE}"`);
  expect(
    (await cancel.first().innerText()).trim() === 'Cancel booking',
    'the cancel button reads "Cancel booking"',
  );
  const coming = m.getByRole('table', { name: /^Coming sessions/ });
  expect((await coming.locator('tbody tr').count()) >= 2, 'my plan lists the coming sessions booked');
  await clickAndWait(page, cancel.first(), /\/cancel/);
  // Before anything is cancelled, the page says what is refunded and what is charged.
  await checkPage(page, 'cancel-confirm');
  const preview = await m.innerText();
  expect(/Refunded to your budget/.test(preview) || /These are charged/.test(preview), 'the confirmation says what is refunded or charged', preview.slice(0, 600));
  // A session inside the provider's notice (next Saturday, on a Thursday or Friday) is charged.
  const chargedItems = await m.locator('h2', { hasText: 'These are charged' }).locator('xpath=following-sibling::ul[1]/li').allInnerTexts();
  const charged = chargedItems.map((t) => pence(t.split(': ').pop()) || 0).reduce((a, b) => a + b, 0);
  await clickAndWait(page, m.getByRole('button', { name: 'Yes, cancel', exact: true }));
  const cancelledHeading = (await m.locator('h1').first().innerText()).trim();
  expect(/^Booking \S+ cancelled$/.test(cancelledHeading), 'after cancelling, a page headed "Booking … cancelled" says what happened', cancelledHeading);
  expect(/went back to your budget: Social care \(/.test(await m.innerText()), 'it says which allocation the money went back to');
  await checkPage(page, 'cancelled');
  await clickAndWait(page, m.getByRole('link', { name: 'Go to my plan', exact: true }), /\/my-plan$/);
  await checkPage(page, 'my-plan-cancelled');
  const after = await socialCareRemaining(page);
  expect(
    after === FULL_SOCIAL_CARE - charged,
    'after cancelling, social care Remaining is back to £1,200.00 less what the confirmation said is charged',
    `it shows ${after / 100}, charged ${charged / 100}`,
  );
  const rowText = (await bookings.locator('tr').filter({ hasText: DEMO_SERVICE }).first().innerText()).toLowerCase();
  expect(/cancel/.test(rowText), 'the booking is now shown as cancelled', rowText);

  await clickAndWait(page, m.getByRole('link', { name: 'Statement', exact: true }));
  await checkPage(page, 'statement');

  // A full session: the family joins its waiting list and sees where it stands.
  await goto(page, '/search?q=Tuesday+Teatime');
  await clickAndWait(page, m.getByRole('link', { name: 'Tuesday Teatime Club', exact: true }), /\/services\/\d+$/);
  const join = m.getByRole('link', { name: /^Join the waiting list for / }).first();
  expect((await join.count()) === 1, 'a full session offers "Join the waiting list"');
  await clickAndWait(page, join, /\/sessions\/\d+\/waitlist$/);
  await checkPage(page, 'waitlist-join');
  await clickAndWait(page, m.getByRole('button', { name: 'Join the waiting list', exact: true }), /\/my-plan$/);
  const lists = m.getByRole('table', { name: 'Waiting lists', exact: true });
  expect((await lists.count()) === 1 && /Waiting for a place/.test(await lists.innerText()), 'my plan shows the waiting list place');
  await checkPage(page, 'my-plan-waiting');

  await logOut(page, 'logged-out-family');
}

/** Pence in the Remaining cell of the social care row of the Budget table. */
async function socialCareRemaining(page) {
  const budget = main(page).getByRole('table', { name: 'Budget', exact: true });
  expect((await budget.count()) >= 1, 'my plan has a table captioned "Budget"');
  const headers = (await budget.first().locator('thead th').allInnerTexts()).map((t) => t.trim());
  for (const col of ['Stream', 'Amount', 'Committed', 'Remaining']) {
    expect(headers.includes(col), `the Budget table has a column "${col}"`, headers.join(' | '));
  }
  const row = budget.first().locator('tbody tr').filter({ hasText: /social care/i });
  expect((await row.count()) === 1, 'the Budget table has one social care row');
  const cell = row.locator('.remaining');
  expect((await cell.count()) === 1, 'the social care row has a cell with class "remaining"');
  const text = await cell.innerText();
  const p = pence(text);
  expect(p !== null, 'the Remaining cell holds an amount', text);
  console.log(`  social care remaining: ${text.trim()}`);
  return p;
}

/** A service page: its name as the h1 and a "Prices" table; optionally a price it must list. */
async function checkService(page, name, shotName, price) {
  await checkPage(page, shotName);
  const m = main(page);
  const h1 = (await m.locator('h1').first().innerText().catch(() => '')).trim();
  expect(h1 === name, `the service page's h1 is "${name}"`, `h1 was "${h1}"`);
  const prices = m.getByRole('table', { name: 'Prices', exact: true });
  expect((await prices.count()) === 1, 'the service page has a table captioned "Prices"');
  if (price) {
    const text = await prices.innerText();
    expect(text.includes(price), `the Prices table shows ${price}`, text);
  }
}

async function providerJourney(page) {
  const stamp = Date.now();
  const org = `Browser Test Paddlers ${stamp}`;
  const email = `browser-${stamp}@provider.example`;
  const service = `Browser Test Kayak Club ${stamp}`;

  await goto(page, '/provider/register');
  await checkPage(page, 'provider-register');
  let m = main(page);
  // An empty submit lists every problem at once, each linked to its field.
  await clickAndWait(page, m.getByRole('button', { name: 'Register', exact: true }));
  await checkPage(page, 'provider-register-errors');
  const regProblems = await m.locator('.error-summary a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
  expect(
    ['#organisation_name', '#kind', '#email', '#password'].every((h) => regProblems.includes(h)),
    'an empty registration lists organisation name, kind, email and password together',
    regProblems.join(', '),
  );
  await m.getByLabel('Organisation name', { exact: true }).fill(org);
  await m.getByLabel('About your organisation (optional)', { exact: true }).fill('Paddling for young people with SEND.');
  await m.getByLabel('Phone (optional)', { exact: true }).fill('020 8000 0000');
  await m.getByLabel('Email for families (optional)', { exact: true }).fill(`hello-${stamp}@provider.example`);
  await m.getByLabel('Website (optional)', { exact: true }).fill('https://paddlers.example/');
  const vcs = m.getByLabel('Charity or voluntary group', { exact: true });
  expect((await vcs.getAttribute('value')) === 'vcs', '"Charity or voluntary group" is the radio kind=vcs');
  expect(
    (await m.getByLabel('Private company', { exact: true }).getAttribute('value')) === 'private',
    '"Private company" is the radio kind=private',
  );
  await vcs.check();
  await m.getByLabel('Your email address', { exact: true }).fill(email);
  await m.getByLabel('Password', { exact: true }).fill('browser-test-pass');
  await clickAndWait(page, m.getByRole('button', { name: 'Register', exact: true }));
  // The same neutral page whether or not the email was taken, and no automatic login.
  await checkPage(page, 'provider-registration-received');
  expect(
    (await main(page).getByRole('heading', { level: 1, name: 'Registration received', exact: true }).count()) === 1,
    'registering shows "Registration received"',
    `at ${page.url()}\n${(await main(page).innerText().catch(() => '')).slice(0, 600)}`,
  );
  expect(!(await loggedIn(page)), 'registering does not log in by itself');
  await logIn(page, email, 'browser-test-pass', '/provider/services');
  await checkPage(page, 'provider-services-unconfirmed');
  expect(
    /Confirm your email address/.test(await main(page).innerText()),
    'before confirming its email, the services page asks the provider to',
  );
  // The link mailed at registration: a page with a button (a mail scanner opening it confirms nothing).
  await goto(page, await mailedLink(email, '/confirm-email'));
  await checkPage(page, 'confirm-email');
  await clickAndWait(page, main(page).getByRole('button', { name: 'Confirm my email address', exact: true }));
  await checkPage(page, 'email-confirmed');
  expect(
    (await main(page).getByRole('heading', { level: 1, name: 'Your email address is confirmed', exact: true }).count()) === 1,
    'opening the mailed link confirms the email',
  );
  // Two-step login is optional for providers: this one turns it on from the account page.
  await goto(page, '/account');
  await clickAndWait(page, main(page).getByRole('button', { name: 'Set up an authenticator app', exact: true }));
  await checkPage(page, 'account-two-step-setup');
  const secret = (await main(page).locator('#totp-secret').innerText()).trim();
  expect((await main(page).locator('#recovery-codes li').count()) === 10, 'the set-up shows 10 recovery codes');
  await main(page).getByLabel('Code from your authenticator app', { exact: true }).fill(totpCode(secret));
  await clickAndWait(page, main(page).getByRole('button', { name: 'Turn on two-step login', exact: true }));
  await checkPage(page, 'account-two-step-on');
  expect(/Two-step login is on/.test(await main(page).innerText()), 'the account page says two-step login is on');
  await goto(page, '/provider/services');
  await checkPage(page, 'provider-services-empty');
  m = main(page);
  expect(
    (await m.getByRole('heading', { level: 1, name: 'Your services', exact: true }).count()) === 1,
    '/provider/services is headed "Your services"',
  );

  await clickAndWait(page, m.getByRole('link', { name: 'Add a service', exact: true }), /\/provider\/services\/new$/);
  await checkPage(page, 'provider-service-new');
  // An empty submit lists every problem at once.
  await clickAndWait(page, m.getByRole('button', { name: 'Save service', exact: true }));
  await checkPage(page, 'provider-service-errors');
  const problems = await m.locator('.error-summary a').evaluateAll((as) => as.map((a) => a.getAttribute('href')));
  expect(
    ['#name', '#min_age', '#max_age', '#funding_stream', '#postcode', '#price_label_0'].every((h) => problems.includes(h)),
    'an empty service form lists name, ages, who can pay, postcode and a price together',
    problems.join(', '),
  );
  await m.getByLabel('Service name', { exact: true }).fill(service);
  await m
    .getByLabel('Description', { exact: true })
    .fill('Sit-on-top kayaking on the lake for young people with SEND. Instructors are trained in supporting autistic young people; all kit provided.');
  await m.getByLabel('Service name', { exact: true }).fill(service);
  const outcomeGroups = m.getByRole('group', { name: 'Outcomes it helps with', exact: true });
  const friends = outcomeGroups.getByRole('group', { name: 'Friends, relationships and community inclusion', exact: true });
  expect((await friends.count()) === 1, 'specific outcomes are grouped under "Friends, relationships and community inclusion"');
  await tick(friends, 'outcome', 'pfa-friends-community');
  await tick(friends, 'outcome', 'pfa-friends-community-friendships');
  await tick(m.getByRole('group', { name: 'Kinds of service', exact: true }), 'service_type', 'st-outdoor');
  await tick(m.getByRole('group', { name: 'Needs it suits', exact: true }), 'need', 'need-autism');
  const saturday = m.getByRole('group', { name: 'Saturday', exact: true });
  await saturday.getByLabel('Starts', { exact: true }).fill('10:00');
  await saturday.getByLabel('Ends', { exact: true }).fill('12:00');
  await m.getByLabel('Address (optional)', { exact: true }).fill('Boathouse, Lake Road');
  await m.getByLabel('Youngest age', { exact: true }).fill('8');
  await m.getByLabel('Oldest age', { exact: true }).fill('18');
  const payers = m.getByRole('group', { name: 'Who can pay', exact: true });
  expect((await payers.count()) === 1, 'the service form has a fieldset "Who can pay"');
  for (const [value, label] of [['education', 'Education'], ['health', 'Health'], ['social_care', 'Social care']]) {
    expect(
      (await payers.getByLabel(label, { exact: true }).getAttribute('value')) === value,
      `"Who can pay" has "${label}" (funding_stream=${value})`,
    );
  }
  await tick(payers, 'funding_stream', 'social_care');
  await m.getByLabel('Postcode', { exact: true }).fill('SW19 2HR');
  await m.getByLabel('Places per session (optional)', { exact: true }).fill('10');
  const first = m.getByRole('group', { name: 'Price option 1', exact: true });
  await first.getByLabel('What it is called', { exact: true }).fill('Session');
  const units = await first.getByLabel('Charged per', { exact: true }).locator('option').evaluateAll((os) => os.map((o) => o.value));
  expect(
    ['session', 'hour', 'day', 'night', 'week', 'journey', 'item'].every((u) => units.includes(u)),
    '"Charged per" offers session/hour/day/night/week/journey/item',
    units.join(', '),
  );
  await first.getByLabel('Charged per', { exact: true }).selectOption('session');
  await first.getByLabel('Price in pounds', { exact: true }).fill('25.00');
  const second = m.getByRole('group', { name: 'Price option 2', exact: true });
  await second.getByLabel('What it is called', { exact: true }).fill('Ten sessions');
  await second.getByLabel('Charged per', { exact: true }).selectOption('item');
  await second.getByLabel('Price in pounds', { exact: true }).fill('230.00');
  // Without script, "Add another price option" shows one more row and keeps what was typed.
  await clickAndWait(page, m.getByRole('button', { name: 'Add another price option', exact: true }));
  await checkPage(page, 'provider-service-third-option');
  expect((await m.getByRole('group', { name: 'Price option 3', exact: true }).count()) === 1, '"Add another price option" adds a third row');
  expect(
    (await m.getByRole('group', { name: 'Price option 2', exact: true }).getByLabel('What it is called', { exact: true }).inputValue()) === 'Ten sessions',
    'the rows keep what was typed',
  );
  const publish = m.getByLabel('Publish now', { exact: true });
  expect((await publish.getAttribute('value')) === 'yes', '"Publish now" is the checkbox publish=yes');
  await publish.check();
  await clickAndWait(page, m.getByRole('button', { name: 'Save service', exact: true }));
  expect(
    new URL(page.url()).pathname === '/provider/services',
    'saving the service lands on /provider/services',
    `landed on ${page.url()}\n${(await main(page).innerText().catch(() => '')).slice(0, 800)}`,
  );
  await checkPage(page, 'provider-services-listed');
  const listed = await m.locator('table').filter({ hasText: service }).count();
  expect(listed >= 1, `the services table lists "${service}"`);

  // Public search finds it once the index has caught up (allow about 3 s).
  let names = [];
  const deadline = Date.now() + 3500;
  for (;;) {
    await goto(page, '/search?q=Kayak');
    names = await resultNames(page);
    if (names.includes(service) || Date.now() > deadline) break;
    await page.waitForTimeout(500);
  }
  await checkPage(page, 'search-kayak');
  expect(names.includes(service), `/search?q=Kayak finds "${service}" within 3 s`, `results were: ${JSON.stringify(names)}`);
  await clickAndWait(page, m.getByRole('link', { name: service, exact: true }), /\/services\/[^/?#]+$/);
  await checkService(page, service, 'service-kayak', '£25.00');
  const servicePage = await m.innerText();
  expect(servicePage.includes('£230.00') && servicePage.includes('Saturday 10:00–12:00'), 'the service page shows the second price and the weekly time', servicePage.slice(0, 800));
  expect(
    (await m.locator('a[href="tel:02080000000"]').count()) === 1 &&
      (await m.locator(`a[href="mailto:hello-${stamp}@provider.example"]`).count()) === 1 &&
      (await m.locator('a[href="https://paddlers.example/"]').count()) === 1,
    "the service page links to the provider's phone, email and website",
  );

  // Dated sessions: a weekly series on Saturdays for the next eight weeks.
  await goto(page, '/provider/services');
  await clickAndWait(page, m.getByRole('link', { name: `Sessions of ${service}`, exact: true }), /\/sessions$/);
  await checkPage(page, 'provider-sessions-empty');
  const day = (d) => new Date(Date.now() + d * 86400000).toISOString().slice(0, 10);
  const series = m.locator('form').filter({ has: page.getByRole('button', { name: 'Add the series', exact: true }) });
  await tick(series.getByRole('group', { name: 'Every', exact: true }), 'weekly_days', 'saturday');
  await series.getByLabel('From', { exact: true }).fill(day(1));
  await series.getByLabel('Until', { exact: true }).fill(day(56));
  await series.getByLabel('Starts', { exact: true }).fill('10:00');
  await series.getByLabel('Ends', { exact: true }).fill('12:00');
  await clickAndWait(page, series.getByRole('button', { name: 'Add the series', exact: true }), /\/sessions$/);
  const table = m.getByRole('table', { name: 'Sessions', exact: true });
  const rows = await table.locator('tbody tr').count();
  expect(rows >= 7 && /0 of 10/.test(await table.innerText()), `the series added ${rows} Saturdays, each 0 of 10 booked`);
  await checkPage(page, 'provider-sessions');
  await clickAndWait(page, m.getByRole('link', { name: /^Register for / }).first(), /\/provider\/sessions\/\d+$/);
  await checkPage(page, 'provider-register-empty');

  await logOut(page, 'logged-out-provider');
}

/** The remaining pages of each role, checked for accessibility and reflow. */
async function otherPages(page) {
  await goto(page, '/shortlist');
  await checkPage(page, 'shortlist-empty');
  await goto(page, '/services/1');
  await clickAndWait(page, main(page).getByRole('button', { name: 'Add to shortlist', exact: true }));
  await goto(page, '/shortlist');
  await checkPage(page, 'shortlist');
  expect((await main(page).getByRole('link', { name: DEMO_SERVICE, exact: true }).count()) === 1, 'the shortlist lists the service');

  await logIn(page, FAMILY.email, FAMILY.password, '/my-plan');
  expect(/Needs[\s\S]*Autism/.test(await main(page).innerText()), `the family sees ${FAMILY.child}'s needs on the plan`);
  await goto(page, '/my-plan/matches');
  await checkPage(page, 'matches');
  expect(!/Deaf youth club|Braille/.test(await main(page).innerText()), `${FAMILY.child} is not offered services only for needs he does not have`);
  await logOut(page, 'logged-out-family-2');

  await logIn(page, 'manager@wandlevalleyshortbreaks.example', 'demo-provider-pass', '/provider/services');
  await goto(page, '/provider/bookings');
  await checkPage(page, 'provider-bookings');
  await goto(page, '/provider/services/1/edit');
  await checkPage(page, 'provider-service-edit');
  await goto(page, '/provider/services/1/sessions');
  await checkPage(page, 'provider-sessions-demo');
  // The timetable starts a month back (the demo's delivered sessions); Leo is booked on some of
  // those and on the first coming ones.
  const registers = await main(page).getByRole('link', { name: /^Register for / }).evaluateAll((links) => links.map((a) => a.getAttribute('href')));
  let leo = false;
  for (const href of registers.slice(0, 10)) {
    await goto(page, href);
    if (/Leo/.test(await main(page).getByRole('table', { name: 'Register', exact: true }).innerText())) {
      leo = true;
      break;
    }
  }
  expect(leo, "a register of the demo Saturday Club lists Leo, with his family's notes");
  await checkPage(page, 'provider-register');
  // Invoicing: VAT, terms and bank details, shown masked once saved.
  await goto(page, '/provider/invoicing');
  await checkPage(page, 'provider-invoicing');
  const bank = main(page).locator('form[action="/provider/invoicing/bank-details"]');
  await bank.getByLabel('Name on the account').fill('Wandle Valley Short Breaks');
  await bank.getByLabel('Sort code').fill('12-34-56');
  await bank.getByLabel('Account number').fill('31926819');
  await clickAndWait(page, bank.getByRole('button', { name: 'Save bank details', exact: true }), /\/provider\/invoicing$/);
  const shown = await main(page).innerText();
  expect(/\*\*\*\*6819/.test(shown) && !/31926819/.test(shown), 'saved bank details are shown masked only');
  await checkPage(page, 'provider-invoicing-bank');
  await logOut(page, 'logged-out-provider-2');

  await logIn(page, 'officer@merton.example', 'demo-council-pass', '/council/budget-holders', OFFICER_TOTP);
  await checkPage(page, 'council-budget-holders');
  await goto(page, '/council/budget-holders/new');
  await checkPage(page, 'council-budget-holder-new');
  const hearing = () => main(page).getByRole('group', { name: 'Sensory and/or physical needs', exact: true }).getByRole('checkbox', { name: 'Hearing impairment', exact: true });
  await hearing().check();
  // Submitting the empty form shows the error summary and inline errors.
  await clickAndWait(page, main(page).getByRole('button', { name: 'Add budget holder', exact: true }));
  expect((await page.getByRole('alert').count()) === 1, 'the empty budget-holder form shows an error summary');
  expect(await hearing().isChecked(), 'a need ticked on the budget-holder form stays ticked when the form comes back with errors');
  await checkPage(page, 'council-budget-holder-errors');
  // A budget holder's own page: raise an allocation with a reason; the statement shows why.
  await goto(page, '/council/budget-holders');
  await clickAndWait(page, main(page).getByRole('table').getByRole('link').first(), /\/council\/budget-holders\/\d+$/);
  await checkPage(page, 'council-budget-holder');
  const change = main(page).locator('form[action*="/allocations/"]').first();
  await change.getByLabel('New amount in pounds').fill('2,000.00');
  await change.getByLabel('Reason for the change').fill('Annual review');
  await clickAndWait(page, change.getByRole('button', { name: 'Change the allocation' }), /\/council\/budget-holders\/\d+/);
  expect(/Allocation (increased|reduced) from £[\d.]+ to £2000\.00: Annual review/.test(await main(page).innerText()),
    'an allocation changed with a reason appears in the statement');
  await checkPage(page, 'council-budget-holder-changed');
  await goto(page, '/council/brokers');
  await checkPage(page, 'council-brokers');
  await clickAndWait(page, main(page).getByRole('button', { name: 'Set up the broker', exact: true }));
  expect((await page.getByRole('alert').count()) === 1, 'the empty broker form shows an error summary');
  await checkPage(page, 'council-brokers-errors');
  await goto(page, '/council/settings');
  await checkPage(page, 'council-settings');
  await goto(page, '/council/providers');
  await checkPage(page, 'council-providers');
  await goto(page, '/council/payment-runs');
  await checkPage(page, 'council-payment-runs');
  await clickAndWait(page, main(page).getByRole('button', { name: 'Make a payment run', exact: true }));
  if (new URL(page.url()).pathname === '/council/payment-runs') {
    expect((await page.getByRole('alert').count()) === 1, 'a payment run with nothing to pay shows an error summary');
    await checkPage(page, 'council-payment-runs-nothing');
  } else {
    await checkPage(page, 'council-payment-run');
    const paid = main(page).locator('form[action$="/paid"]');
    await paid.getByLabel('Date paid').fill(new Date().toISOString().slice(0, 10));
    await clickAndWait(page, paid.getByRole('button', { name: 'Mark paid', exact: true }), /\/council\/payment-runs\/\d+$/);
    expect((await main(page).locator('form[action$="/paid"]').count()) === 0, 'a paid run has no mark-paid form');
    await checkPage(page, 'council-payment-run-paid');
  }
  await goto(page, '/council/reports');
  expect((await main(page).getByRole('heading', { level: 2 }).count()) === 5, 'the reports page shows all five reports');
  const reportsShot = await checkPage(page, 'council-reports');
  keepForDocs(reportsShot, 'council-reports.png');
  await logOut(page, 'logged-out-council');
}

/**
 * Invoices from the demo's delivered sessions: the provider credits part of a disputed invoice,
 * the family approves it after all, the council records paying an approved one.
 */
async function invoiceJourney(page) {
  await logIn(page, 'manager@wandlevalleyshortbreaks.example', 'demo-provider-pass', '/provider/services');
  await goto(page, '/invoices');
  await checkPage(page, 'provider-invoices');
  expect(/INV-000001/.test(await main(page).innerText()), 'the provider lists its issued invoices');
  await goto(page, '/invoices?status=disputed');
  await clickAndWait(page, main(page).getByRole('table', { name: 'Invoices' }).getByRole('link').first(), /\/invoices\/\d+$/);
  const disputed = page.url();
  expect(/off sick/.test(await main(page).innerText()), "the provider reads why the family disputed the invoice");
  await checkPage(page, 'provider-invoice-disputed');
  const credit = main(page).locator('form[action$="/credit"]');
  await credit.getByLabel('Amount in pounds').fill('68.00');
  await credit.getByLabel('Reason').fill('Leo was off sick on 14 November');
  await clickAndWait(page, credit.getByRole('button', { name: 'Raise the credit note' }), /\/invoices\/\d+$/);
  const notes = main(page).getByRole('table', { name: 'Credit notes' });
  expect(/CN-000001/.test(await notes.innerText()), 'the credit note is listed with its number');
  await checkPage(page, 'provider-invoice-credited');
  await logOut(page, 'logged-out-provider-invoices');

  await logIn(page, 'family2@demo.example', 'demo-family-pass', '/my-plan');
  await page.goto(disputed, { waitUntil: 'load' });
  await checkPage(page, 'family-invoice');
  await clickAndWait(page, main(page).getByRole('button', { name: 'Approve invoice', exact: true }), /\/invoices\/\d+$/);
  expect(/Approved, to be paid/.test(await main(page).innerText()), 'the family approves the invoice after the credit note');
  const paid = main(page).locator('form[action$="/paid"]');
  await clickAndWait(page, paid.getByRole('button', { name: 'Record payment' }));
  expect((await page.getByRole('alert').count()) === 1, 'recording a payment without its date shows an error summary');
  await checkPage(page, 'family-invoice-errors');
  await logOut(page, 'logged-out-family-invoices');

  await logIn(page, 'officer@merton.example', 'demo-council-pass', '/council/budget-holders', OFFICER_TOTP);
  await goto(page, '/invoices?status=approved');
  await checkPage(page, 'council-invoices');
  await clickAndWait(page, main(page).getByRole('table', { name: 'Invoices' }).getByRole('link').first(), /\/invoices\/\d+$/);
  const form = main(page).locator('form[action$="/paid"]');
  await form.getByLabel('Paid on').fill(new Date().toISOString().slice(0, 10));
  await form.getByLabel('Payment reference').fill('BACS 2211');
  await clickAndWait(page, form.getByRole('button', { name: 'Record payment' }), /\/invoices\/\d+$/);
  expect(/BACS 2211/.test(await main(page).innerText()), 'the council records paying an approved invoice');
  await checkPage(page, 'council-invoice-paid');
  const pdf = await page.request.get(page.url() + '/invoice.pdf');
  expect(pdf.status() === 200 && pdf.headers()['content-type'] === 'application/pdf', 'the invoice downloads as a PDF');
  await goto(page, '/council/payment-runs');
  await clickAndWait(page, main(page).getByRole('table', { name: 'Payment runs' }).getByRole('link').last(), /\/council\/payment-runs\/\d+$/);
  expect(/Wandle Valley/.test(await main(page).innerText()), "the demo's payment run pays Wandle Valley's approved invoice");
  await checkPage(page, 'council-payment-run-demo');
  await logOut(page, 'logged-out-council-invoices');
}

/**
 * Press Tab until `locator` has the focus (as a keyboard user would), checking that each stop on
 * the way shows where the focus is.
 */
async function tabTo(page, locator, what) {
  for (let presses = 0; presses < 80; presses++) {
    const focus = await page.evaluate(() => {
      const el = document.activeElement;
      if (!el || el === document.body) return null;
      const s = getComputedStyle(el);
      const outlined = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0;
      return { visible: outlined || s.boxShadow !== 'none', tag: el.tagName, text: (el.innerText || el.value || el.name || '').slice(0, 40) };
    });
    if (focus && !focus.visible) {
      fail(`the keyboard focus is visible on ${focus.tag} "${focus.text}"`);
    }
    if (await locator.evaluate((el) => el === document.activeElement).catch(() => false)) {
      pass(`${what} is reached with the Tab key (${presses} presses)`);
      return;
    }
    await page.keyboard.press('Tab');
  }
  expect(false, `${what} is reached with the Tab key`, 'not within 80 presses');
}

/** Press a key that submits a form or follows a link, and wait for the next page. */
async function pressAndWait(page, key, urlPattern) {
  await Promise.all([page.waitForURL(urlPattern, { waitUntil: 'load' }), page.keyboard.press(key)]);
}

async function keyboardJourney(page) {
  const m = main(page);
  await goto(page, '/login');
  await tabTo(page, m.getByLabel('Email address', { exact: true }), 'the email field');
  await page.keyboard.type('family5@demo.example');
  await tabTo(page, m.getByLabel('Password', { exact: true }), 'the password field');
  await page.keyboard.type('demo-family-pass');
  await pressAndWait(page, 'Enter', /\/my-plan$/);
  pass('Enter in the password field logs in');

  await goto(page, '/services/1');
  const form = m.locator('form[method="post"][action$="/services/1/book"]');
  const ticks = form.getByRole('group', { name: 'Dates with places left', exact: true }).getByRole('checkbox');
  const last = ticks.last();
  await tabTo(page, last, 'the last date with places left');
  await page.keyboard.press('Space');
  expect(await last.isChecked(), 'Space ticks the date');
  await tabTo(page, form.getByRole('button', { name: 'Book', exact: true }), 'the Book button');
  await pressAndWait(page, 'Enter', /\/bookings\/\d+$|\/services\/1\/book$/);
  const h1 = (await m.locator('h1').first().innerText()).trim();
  expect(h1 === 'Booking requested', 'Enter on Book books the date', `h1 was "${h1}"\n${(await m.innerText()).slice(0, 400)}`);
  await tabTo(page, m.getByRole('link', { name: 'Go to my plan', exact: true }), 'the link to my plan');
  await pressAndWait(page, 'Enter', /\/my-plan$/);
  pass('Enter on the link opens my plan');
  await checkPage(page, 'keyboard-my-plan');
}


/** The first of these elements that no other covers at its centre (markers can overlap), or -1. */
async function uncovered(locator) {
  return locator.evaluateAll((els) =>
    els.findIndex((el) => {
      const r = el.getBoundingClientRect();
      const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
      return hit !== null && (el === hit || el.contains(hit));
    }),
  );
}

/**
 * The search page as a family uses it, with the real Content-Security-Policy (no bypass): search,
 * filter, page 2, a marker on the tiled map opens its service; then, in a second context with
 * JavaScript off, the server's drawing with its linked markers is the map.
 */
async function searchJourney(browser) {
  const strict = await browser.newContext({ viewport: DESKTOP, locale: 'en-GB' });
  // The page's CSP refuses the inline script addScriptTag would add; an init script is not the page's.
  await strict.addInitScript({ path: AXE });
  const asked = await mapTiles(strict);
  const page = await strict.newPage();
  page.setDefaultTimeout(10_000);
  const problems = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console: ${msg.text()}`);
  });
  page.on('pageerror', (e) => problems.push(`script error: ${e.message}`));
  page.on('response', (r) => {
    if (r.status() >= 500) problems.push(`${r.status()} ${r.url()}`);
  });
  try {
    await goto(page, '/search');
    const m = main(page);
    await m.getByLabel('Postcode', { exact: true }).fill('SW19');
    await m.getByLabel('Distance in miles', { exact: true }).fill('5');
    await clickAndWait(page, m.getByRole('button', { name: 'Search', exact: true }), /\/search\?/);
    await page.locator('.map-canvas .map-pin').first().waitFor();
    await checkPage(page, 'search-map');
    const heading = (await m.locator('h2#results').innerText()).trim();
    expect(/^\d+ services found, showing 1–20$/.test(heading), 'more than a page of results says "N services found, showing 1–20"', heading);
    const pins = await page.locator('.map-canvas .map-pin').count();
    expect(pins === 20, 'Leaflet shows a numbered marker for each of the 20 results', `${pins} markers`);
    expect(asked.count > 0, 'the map asked the configured tile server (answered locally) for tiles');
    expect(!(await page.locator('.map-box > svg.map').isVisible()), 'with Leaflet running, the drawing is hidden');

    await m.getByLabel('Paid from', { exact: true }).selectOption({ label: 'Social care' });
    await m.getByLabel('Order', { exact: true }).selectOption({ label: 'Nearest first (needs a postcode)' });
    await clickAndWait(page, m.getByRole('button', { name: 'Search', exact: true }), /stream=social_care/);
    await checkPage(page, 'search-filtered');
    const total = Number(/^(\d+)/.exec(await m.locator('h2#results').innerText())[1]);
    expect(total > 20, `"Social care" nearest first still needs a second page (${total} found)`);
    const pager = m.getByRole('navigation', { name: 'Pages of results' });
    expect(/Page 1 of \d+/.test(await pager.innerText()), 'the pager says "Page 1 of N"');
    await clickAndWait(page, pager.getByRole('link', { name: 'Next page' }), /page=2/);
    await checkPage(page, 'search-page-2');
    const query = new URL(page.url()).searchParams;
    expect(
      query.get('postcode') === 'SW19' && query.get('stream') === 'social_care' && query.get('sort') === 'distance' && query.get('page') === '2',
      'page 2 keeps the postcode, the funding stream and the order',
      page.url(),
    );
    expect((await m.locator('ol.results').getAttribute('start')) === '21', 'page 2 numbers its list from 21');
    await page.locator('.map-canvas .map-pin').first().waitFor();
    const pins2 = page.locator('.map-canvas .map-pin');
    await page.locator('.map-canvas').scrollIntoViewIfNeeded();
    const at = await uncovered(pins2);
    expect(at >= 0, 'some marker on page 2 can be clicked');
    const number = Number((await pins2.nth(at).innerText()).trim());
    const wanted = (await resultNames(page))[number - 21];
    await pins2.nth(at).scrollIntoViewIfNeeded();
    await clickAndWait(page, pins2.nth(at), /\/services\/\d+$/);
    const h1 = (await main(page).locator('h1').innerText()).trim();
    expect(h1 === wanted, `marker ${number} opens result ${number}, "${wanted}"`, `opened "${h1}"`);
    await checkPage(page, 'service-from-map');
    expect(problems.length === 0, 'the map runs under the real Content-Security-Policy without errors', problems.join('\n'));

    // A tile server that answers nothing: the page keeps the server's drawing.
    await strict.unrouteAll();
    await strict.route(`${TILE_HOST}/**`, (route) => route.abort());
    await goto(page, '/search?postcode=SW19&radius_miles=5');
    await page.locator('.map-box:not(.map-live) > svg.map').waitFor();
    await checkPage(page, 'search-map-no-tiles');
    expect((await page.locator('.map-canvas').count()) === 0, 'without tiles the Leaflet map steps aside for the drawing');
  } finally {
    await strict.close();
  }

  const noScript = await browser.newContext({ viewport: DESKTOP, locale: 'en-GB', javaScriptEnabled: false });
  await mapTiles(noScript);
  const plain = await noScript.newPage();
  plain.setDefaultTimeout(10_000);
  try {
    // (axe needs JavaScript: the same drawing was checked above, when the tiles failed.)
    await goto(plain, '/search?postcode=SW19&radius_miles=5');
    const svg = plain.locator('.map-box > svg.map');
    expect(await svg.isVisible(), 'without JavaScript the server-drawn map shows');
    expect((await plain.locator('.map-canvas').count()) === 0, 'without JavaScript there is no Leaflet map');
    const markers = svg.locator('a.map-marker');
    expect((await markers.count()) === 20, 'the drawing has a marker for each result on the page');
    expect((await svg.locator('text', { hasText: /^You$/ }).count()) === 1, 'the drawing marks "You"');
    expect((await svg.locator('text', { hasText: /miles?$/ }).count()) === 1, 'the drawing has a scale bar in miles');
    await svg.scrollIntoViewIfNeeded();
    const at = await uncovered(markers);
    expect(at >= 0, 'some marker in the drawing can be clicked');
    const href = await markers.nth(at).getAttribute('href');
    const number = Number(await markers.nth(at).getAttribute('data-n'));
    const wanted = (await resultNames(plain))[number - 1];
    await clickAndWait(plain, markers.nth(at), /\/services\/\d+$/);
    expect(new URL(plain.url()).pathname === href, 'a marker in the drawing opens its service');
    const h1 = (await main(plain).locator('h1').innerText()).trim();
    expect(h1 === wanted, `marker ${number} is result ${number}, "${wanted}"`, `opened "${h1}"`);
  } finally {
    await noScript.close();
  }
}

/**
 * Personal budgets: an admin builds a RAS, a family asks, the assessor assesses with the
 * family's answers, the panel (another officer) agrees, the family reads its letter and asks
 * for a review.
 */
async function personalBudgetJourney(page) {
  await logIn(page, 'officer@merton.example', 'demo-council-pass', '/council/budget-holders', OFFICER_TOTP);
  await goto(page, '/council/ras');
  await checkPage(page, 'council-ras');
  const add = main(page).locator('form[action="/council/ras"]');
  await clickAndWait(page, add.getByRole('button', { name: 'Add the RAS', exact: true }));
  expect((await page.getByRole('alert').count()) === 1, 'the empty RAS form shows an error summary');
  await checkPage(page, 'council-ras-errors');
  const form = main(page).locator('form[action="/council/ras"]');
  await form.getByLabel('Name', { exact: true }).fill('Learning support RAS');
  await form.getByLabel('Funding stream', { exact: true }).selectOption('education');
  await form.getByLabel('Questions', { exact: true }).fill(
    '## Enjoying and achieving\nlearning: How much extra help does your child need to learn?\n- None = 0\n- Some = 3\n- A lot = 6\n' +
      '## Family and carers\ncarers: How often do you need a break from caring?\n- Rarely = 0\n- Often = 2\n',
  );
  await form.getByLabel('Bands', { exact: true }).fill('0-2 = 0.00\n3-5 = 600.00\n6-8 = 1,250.00');
  await clickAndWait(page, form.getByRole('button', { name: 'Add the RAS', exact: true }), /\/council\/ras\/\d+$/);
  expect(/Learning support RAS, version 1/.test(await main(page).innerText()), 'the new RAS has its own page at version 1');
  await checkPage(page, 'council-ras-version');
  for (const [pathname, name] of [
    ['/council/users', 'council-users'],
    ['/council/due', 'council-due'],
    ['/council/reports/personal-budgets', 'council-pb-report'],
    ['/council/requests', 'council-pb-requests'],
  ]) {
    await goto(page, pathname);
    await checkPage(page, name);
  }
  await logOut(page, 'logged-out-council-pb');

  await logIn(page, FAMILY.email, FAMILY.password, '/my-plan');
  await goto(page, '/my-plan/requests');
  await checkPage(page, 'family-pb-requests');
  const ask = main(page).locator('form[action="/my-plan/requests"]');
  await clickAndWait(page, ask.getByRole('button', { name: 'Send the request', exact: true }));
  expect((await page.getByRole('alert').count()) === 1, 'a request for no funding stream shows an error summary');
  await checkPage(page, 'family-pb-request-errors');
  const again = main(page).locator('form[action="/my-plan/requests"]');
  await tick(again, 'streams', 'education');
  await again.getByRole('radio', { name: 'Organised by the council' }).check();
  await clickAndWait(page, again.getByRole('button', { name: 'Send the request', exact: true }), /\/my-plan\/requests\/\d+$/);
  const requestPath = new URL(page.url()).pathname;
  const requestId = requestPath.split('/').pop();
  expect(/Decision due by/.test(await main(page).innerText()), 'the family sees when its decision is due');
  await checkPage(page, 'family-pb-request');
  await goto(page, `${requestPath}/assess`);
  await checkPage(page, 'family-self-assessment');
  const own = main(page).locator('form').filter({ hasText: 'Learning support RAS' });
  await own.getByRole('group', { name: 'How much extra help does your child need to learn?' }).getByRole('radio', { name: 'A lot (6 points)' }).check();
  await own.getByRole('group', { name: 'How often do you need a break from caring?' }).getByRole('radio', { name: 'Often (2 points)' }).check();
  await clickAndWait(page, own.getByRole('button', { name: 'Save my answers', exact: true }), /\/my-plan\/requests\/\d+$/);
  expect(/the family's own self-assessment/.test(await main(page).innerText()), "the family's self-assessment is on the request");
  await logOut(page, 'logged-out-family-pb');

  await logIn(page, 'officer@merton.example', 'demo-council-pass', '/council/budget-holders', OFFICER_TOTP);
  await goto(page, `/council/requests/${requestId}`);
  await checkPage(page, 'council-pb-request');
  const assess = main(page).locator('form[action$="/assess"]').filter({ hasText: 'Learning support RAS' });
  await assess.getByRole('group', { name: 'How much extra help does your child need to learn?' }).getByRole('radio', { name: 'A lot (6 points)' }).check();
  await assess.getByRole('group', { name: 'How often do you need a break from caring?' }).getByRole('radio', { name: 'Often (2 points)' }).check();
  await clickAndWait(page, assess.getByRole('button', { name: 'Save the education assessment', exact: true }), /\/council\/requests\/\d+$/);
  expect(/Raw score 8, band 3/.test(await main(page).innerText()), 'the assessment shows its raw score and band');
  await checkPage(page, 'council-pb-request-assessed');
  await logOut(page, 'logged-out-assessor');

  await logIn(page, PANEL.email, PANEL.password, '/council/budget-holders', PANEL.totp);
  await goto(page, `/council/requests/${requestId}`);
  const decide = main(page).locator('form[action$="/decision"]');
  await decide.getByRole('radio', { name: 'Agreed', exact: true }).check();
  await clickAndWait(page, decide.getByRole('button', { name: 'Record the decision', exact: true }), /\/council\/requests\/\d+$/);
  expect(/Decision: agreed/.test(await main(page).innerText()), 'the panel agrees the request');
  await checkPage(page, 'council-pb-request-decided');
  await logOut(page, 'logged-out-panel');

  await logIn(page, FAMILY.email, FAMILY.password, '/my-plan');
  await goto(page, `${requestPath}/letter`);
  const letter = await main(page).innerText();
  expect(/Your personal budget: agreed/.test(letter) && /£1,250\.00/.test(letter), 'the letter gives the decision and the amount');
  const letterShot = await checkPage(page, 'family-pb-letter');
  keepForDocs(letterShot, 'decision-letter.png');
  await goto(page, requestPath);
  const review = main(page).locator('form[action$="/review"]');
  await review.getByLabel('Why should the decision be looked at again?').fill('The amount does not cover the transport');
  await clickAndWait(page, review.getByRole('button', { name: 'Ask for a review', exact: true }), /\/my-plan\/requests\/\d+$/);
  expect(/Decision being reviewed/.test(await main(page).innerText()), 'after asking, the request is being reviewed');
  await checkPage(page, 'family-pb-review-asked');
  await logOut(page, 'logged-out-family-pb-2');

  // The review is decided by an officer who took no part in the first decision.
  await logIn(page, REVIEWER.email, REVIEWER.password, '/council/budget-holders', REVIEWER.totp);
  await goto(page, `/council/requests/${requestId}`);
  expect(/Decide the review/.test(await main(page).innerText()), 'the reviewer is offered the review to decide');
  const reviewDecision = main(page).locator('form[action$="/decision"]');
  await reviewDecision.getByRole('radio', { name: 'Agreed with a different amount', exact: true }).check();
  await reviewDecision.getByLabel('Amount for education').fill('1,400.00');
  await reviewDecision.getByLabel('Reasons').fill('Transport to the sessions is needed as well');
  await clickAndWait(page, reviewDecision.getByRole('button', { name: 'Record the decision', exact: true }), /\/council\/requests\/\d+$/);
  const decided = await main(page).innerText();
  expect(/Decision on the review: agreed with a different amount/.test(decided) && /£1,400\.00/.test(decided), 'the review decision and its amount are on the request');
  await checkPage(page, 'council-pb-review-decided');
  await logOut(page, 'logged-out-reviewer');
}

// ---------------------------------------------------------------- main

async function notificationsJourney(page) {
  const family = 'family9@demo.example';
  // A forgotten password, reset through the link mailed to the family.
  await goto(page, '/login');
  await clickAndWait(page, main(page).getByRole('link', { name: 'Forgotten your password?', exact: true }), /\/password-reset$/);
  await checkPage(page, 'password-reset');
  await clickAndWait(page, main(page).getByRole('button', { name: 'Send me a link', exact: true }));
  await checkPage(page, 'password-reset-errors');
  expect((await main(page).locator('.error-summary a[href="#email"]').count()) === 1, 'an empty email is named in the error summary');
  await main(page).getByLabel('Email address', { exact: true }).fill(family);
  await clickAndWait(page, main(page).getByRole('button', { name: 'Send me a link', exact: true }));
  await checkPage(page, 'password-reset-sent');
  expect(/has an account, we have emailed it a link/.test(await main(page).innerText()), 'the answer does not say whether the email has an account');
  const link = await mailedLink(family, '/password-reset');
  await goto(page, link);
  await checkPage(page, 'password-reset-choose');
  await main(page).getByLabel('New password', { exact: true }).fill('short');
  await clickAndWait(page, main(page).getByRole('button', { name: 'Set my password', exact: true }));
  await checkPage(page, 'password-reset-too-short');
  expect((await main(page).locator('.error-summary a[href="#password"]').count()) === 1, 'a short password is named in the error summary');
  await main(page).getByLabel('New password', { exact: true }).fill('a new family password');
  await clickAndWait(page, main(page).getByRole('button', { name: 'Set my password', exact: true }));
  await checkPage(page, 'password-set');
  const used = await page.goto(new URL(link, page.url()).href);
  expect(used.status() === 410, 'a used reset link answers 410 Gone', `got ${used.status()}`);
  expect(/This link no longer works/.test(await main(page).innerText()), 'a used reset link says it no longer works');
  await checkPage(page, 'password-reset-used');
  await logIn(page, family, 'a new family password', '/my-plan');

  // Notices, with the unread count in the menu, and the choice of emails.
  await goto(page, '/notifications');
  await checkPage(page, 'notifications');
  expect((await main(page).getByRole('heading', { level: 1, name: 'Notifications', exact: true }).count()) === 1, '/notifications is headed "Notifications"');
  await goto(page, '/account/notifications');
  await checkPage(page, 'notification-preferences');
  const reminders = main(page).getByLabel('A reminder 48 hours before each booked session', { exact: true });
  expect(await reminders.isChecked(), 'reminders are emailed unless turned off');
  const confirmed = main(page).getByLabel('A booking is confirmed', { exact: true });
  expect(await confirmed.isDisabled(), 'mail about money cannot be turned off');
  await reminders.uncheck();
  await clickAndWait(page, main(page).getByRole('button', { name: 'Save my choices', exact: true }));
  await checkPage(page, 'notification-preferences-saved');
  expect(/Your choices are saved/.test(await main(page).innerText()), 'saving says so');
  expect(!(await main(page).getByLabel('A reminder 48 hours before each booked session', { exact: true }).isChecked()), 'reminders stay off once saved');
}

async function messagesJourney(page) {
  // The demo family wrote to its provider about a booking, and the provider answered.
  await logIn(page, 'family2@demo.example', 'demo-family-pass', '/my-plan');
  await goto(page, '/messages');
  await checkPage(page, 'messages');
  const m = main(page);
  expect((await m.getByRole('heading', { level: 1, name: 'Messages', exact: true }).count()) === 1, '/messages is headed "Messages"');
  const first = m.locator('table a[href^="/messages/"]').first();
  expect((await first.count()) === 1, 'the family\'s conversation is listed');
  await clickAndWait(page, first, /\/messages\/\d+$/);
  await checkPage(page, 'messages-thread');
  expect(/We will keep the music low/.test(await main(page).innerText()), "the provider's answer is in the conversation");
  await clickAndWait(page, main(page).getByRole('button', { name: 'Send message', exact: true }));
  await checkPage(page, 'messages-empty-reply');
  expect((await main(page).locator('.error-summary a[href="#body"]').count()) === 1, 'an empty reply is named in the error summary');
  await main(page).getByLabel('Your message', { exact: true }).fill('Thank you, that is reassuring.');
  await clickAndWait(page, main(page).getByRole('button', { name: 'Send message', exact: true }));
  expect(/Thank you, that is reassuring\./.test(await main(page).innerText()), 'the reply is shown in the conversation');
  await logOut(page, 'messages-logged-out');
  // The provider sees it unread, in its menu and its list, and the notice of it.
  await logIn(page, 'manager@wandlevalleyshortbreaks.example', 'demo-provider-pass', '/provider/services');
  const menu = await page.locator('header a[href="/messages"]').innerText();
  expect(/1/.test(menu), 'the menu counts the unread message', menu);
  await goto(page, '/notifications');
  expect(/A new message for you/.test(await main(page).innerText()), 'the new message is among the provider\'s notifications');
  await checkPage(page, 'notifications-provider');
}

async function run() {
  rmSync(SHOTS, { recursive: true, force: true });
  mkdirSync(SHOTS, { recursive: true });
  if (!existsSync(AXE)) {
    console.error(`axe-core is not installed (${AXE}); run npm ci in tests/browser`);
    process.exit(2);
  }
  if (!existsSync(CHROMIUM)) {
    console.error(`no Chromium at ${CHROMIUM}: apt-get install -y chromium (or set CHROMIUM_PATH)`);
    process.exit(2);
  }

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });

  const journeys = [
    ['Failed login shows an error summary', failedLogin],
    ['Family: search, book with the personal budget, cancel', familyJourney],
    ['Provider: register, add a service, find it in search', providerJourney],
    ['Other pages of every role: shortlist, matches, bookings, council', otherPages],
    ['Keyboard only: a family logs in and books a date', keyboardJourney],
    ['Invoices: a credit note, the family approves, the council records payment', invoiceJourney],
    ['Personal budgets: a RAS, a request, an assessment, the panel, the letter, a review decided by another officer', personalBudgetJourney],
    ['Notifications: a forgotten password reset by email, notices, the choice of emails', notificationsJourney],
    ['Messages: a family replies to its provider, the provider is told', messagesJourney],
  ];
  const journeyResults = [];
  try {
    await canary(browser);
    for (const [name, journey] of journeys) {
      console.log(`\n=== ${name}`);
      // Each journey starts logged out, with its own cookies.
      const context = await browser.newContext({ viewport: DESKTOP, bypassCSP: true, locale: 'en-GB' });
      await mapTiles(context);
      const page = await context.newPage();
      page.setDefaultTimeout(10_000);
      page.setDefaultNavigationTimeout(15_000);
      const serverErrors = [];
      page.on('response', (r) => {
        if (r.status() >= 500) serverErrors.push(`${r.status()} ${r.request().method()} ${r.url()}`);
      });
      page.on('pageerror', (e) => serverErrors.push(`script error: ${e.message}`));
      let ok = true;
      currentJourney = name;
      try {
        await journey(page);
      } catch (e) {
        ok = false;
        if (!(e instanceof JourneyStop)) fail(`${name}: stopped at ${page.url()}`, shortError(e));
        try {
          await page.screenshot({ path: path.join(SHOTS, `zz-failed-${journeyResults.length + 1}.png`), fullPage: true });
        } catch {
          /* the page may be gone */
        }
      }
      if (serverErrors.length) {
        ok = false;
        fail(`${name}: server or script errors`, serverErrors.join('\n'));
      }
      journeyResults.push({ name, ok });
      await context.close();
    }
    // This journey makes its own contexts: one under the real CSP, one with JavaScript off.
    currentJourney = 'Search: filters, paging, the map on tiles and without JavaScript';
    console.log(`\n=== ${currentJourney}`);
    let searchOk = true;
    try {
      await searchJourney(browser);
    } catch (e) {
      searchOk = false;
      if (!(e instanceof JourneyStop)) fail(`${currentJourney}: stopped`, shortError(e));
    }
    journeyResults.push({ name: currentJourney, ok: searchOk });
  } finally {
    await browser.close();
  }

  const failed = results.filter((r) => !r.ok);
  const passed = results.length - failed.length;
  console.log('\n================ summary');
  for (const j of journeyResults) {
    const clean = j.ok && !failed.some((f) => f.journey === j.name);
    console.log(`${clean ? 'PASS' : 'FAIL'}  ${j.name}`);
  }
  if (failed.length) {
    console.log('\nFailures:');
    for (const f of failed) {
      console.log(`- ${f.what}`);
      if (f.detail) console.log(indent(f.detail, 4));
    }
  }
  console.log(`\nScreenshots: ${path.relative(REPO, SHOTS)}/ (${readdirSync(SHOTS).length} files)`);
  console.log(failed.length ? 'FAIL' : 'PASS');
  console.log(`browser: ${passed} passed, ${failed.length} failed`);
  return failed.length ? 1 : 0;
}

process.exitCode = await run().catch((e) => {
  console.error(shortError(e));
  console.log('FAIL');
  return 1;
});
