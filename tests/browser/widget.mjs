// The live-chat widget in a real browser (issue 7; S3, S4, O1, I1, G1, C2).
//
// Run by tests/widget_browser.rs against the real binary. A site page on its
// own origin embeds /widget.js with one script tag; a customer starts the
// chat (consent, pre-chat fields), writes, reloads the page, loses the
// network while the agent answers through the REST API, comes back; then
// every message is on both sides exactly once. An agent message with an
// HTML/script payload shows as text and runs nothing. No console errors.
//
// Env: FRONTDESK_URL, CHANNEL_ID, ADMIN_TOKEN, SCREENSHOT (a .png path),
// USER_DATA_DIR (a fresh, empty folder).

import { createRequire } from "node:module";
import http from "node:http";

const require = createRequire(new URL("../peers/package.json", import.meta.url));
const { chromium } = require("playwright-core");

const base = process.env.FRONTDESK_URL;
const channel = process.env.CHANNEL_ID;
const admin = process.env.ADMIN_TOKEN;
const DEADLINE_MS = 20_000;

function check(condition, message) {
  if (!condition) throw new Error(message);
}

async function api(method, path, body) {
  const res = await fetch(base + path, {
    method,
    headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
    body: body ? JSON.stringify(body) : undefined,
  });
  const data = await res.json();
  check(res.ok, `${method} ${path}: ${res.status} ${JSON.stringify(data)}`);
  return data;
}

/// Polls `probe` until it returns a truthy value, or fails after the deadline.
async function until(what, probe) {
  const deadline = Date.now() + DEADLINE_MS;
  for (;;) {
    const value = await probe();
    if (value) return value;
    check(Date.now() < deadline, `timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25)); // a poll interval, not a wait for time
  }
}

// The customer's site: another origin than frontdesk, as in real life.
const site = http.createServer((req, res) => {
  res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
  res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8">
<link rel="icon" href="data:,"><title>Shop</title></head>
<body style="font-family:sans-serif;background:#fafafa"><h1>Example shop</h1><p>Our products.</p>
<script src="${base}/widget.js" data-channel="${channel}" async></script></body></html>`);
});
await new Promise((r) => site.listen(0, "127.0.0.1", r));
const siteUrl = `http://127.0.0.1:${site.address().port}/`;

const context = await chromium.launchPersistentContext(process.env.USER_DATA_DIR, {
  executablePath: "/usr/bin/chromium",
  headless: true,
  args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  viewport: { width: 1100, height: 720 },
});
const errors = [];
const page = context.pages()[0] || (await context.newPage());
page.on("console", (m) => { if (m.type() === "error") errors.push(m.text()); });
page.on("pageerror", (e) => errors.push(String(e)));

const log = () => page.locator(".log .msg");
const bubble = (text) => page.locator(".log .msg .body", { hasText: text });
/// Each text shows exactly once in the widget; unacked ones are done sending.
async function shownOnce(texts) {
  for (const text of texts) {
    await until(`"${text}" once in the widget`, async () => (await page.locator(".log .msg .body").allTextContents()).filter((t) => t === text).length === 1);
  }
}
async function sessionMessages() {
  const sessions = await api("GET", `/api/v1/sessions?channel_id=${channel}`);
  const all = [];
  for (const s of sessions) all.push(...(await api("GET", `/api/v1/sessions/${s.id}/messages`)));
  return { sessions, all };
}
async function agentSeesOnce(text) {
  await until(`"${text}" once on the agent's side`, async () => (await sessionMessages()).all.filter((m) => m.body === text).length === 1);
}
async function agentSays(text) {
  const { sessions } = await sessionMessages();
  check(sessions.length === 1, `one session, got ${sessions.length}`);
  await api("POST", `/api/v1/sessions/${sessions[0].id}/messages`, { text });
}

try {
  await page.goto(siteUrl);
  // O1: the channel's name; the consent notice and pre-chat form come first (G1, C2).
  await page.getByRole("button", { name: "Chat with us" }).click();
  await page.locator("header h2", { hasText: "Example Shop Support" }).waitFor();
  await page.locator(".consent", { hasText: "We keep this chat for 30 days." }).waitFor();
  await page.getByRole("button", { name: "Start chat" }).click();
  await page.getByRole("alert").filter({ hasText: "Please enter your name" }).waitFor();
  await page.getByLabel("Name", { exact: true }).fill("Ada Lovelace");
  await page.getByLabel("Email", { exact: true }).fill("not-an-email");
  await page.getByRole("button", { name: "Start chat" }).click();
  await page.getByRole("alert").filter({ hasText: "valid email" }).waitFor();
  await page.getByLabel("Email", { exact: true }).fill("ada@example.com");
  await page.getByRole("button", { name: "Start chat" }).click();
  await page.getByRole("alert").filter({ hasText: "accept the notice" }).waitFor();
  await page.getByLabel("I accept").check();
  await page.getByRole("button", { name: "Start chat" }).click();

  // The customer writes; Enter sends.
  const box = page.getByRole("textbox", { name: "Write a message…" });
  await box.fill("Hello from the widget");
  await box.press("Enter");
  await page.locator(".log .msg[data-id] .body", { hasText: "Hello from the widget" }).waitFor();
  await agentSeesOnce("Hello from the widget");

  // I1: the agent's reply, with the agent's name.
  await agentSays("Hi Ada, how can I help?");
  const reply = page.locator(".log .msg.agent", { hasText: "Hi Ada, how can I help?" });
  await reply.locator(".author", { hasText: "admin" }).waitFor();

  // A reload mid-chat: the history comes back once, the chat goes on.
  await page.reload();
  await page.locator(".panel").waitFor();
  await shownOnce(["Hello from the widget", "Hi Ada, how can I help?"]);

  // The network drops: the customer writes, the agent answers meanwhile.
  await context.setOffline(true);
  await page.locator(".status", { hasText: "Connection lost" }).waitFor();
  await box.fill("Written while offline");
  await box.press("Enter");
  await page.locator(".msg .meta", { hasText: "sending" }).waitFor();
  await agentSays("Answer while you were away");
  await context.setOffline(false);
  await shownOnce(["Written while offline", "Answer while you were away"]);
  await page.locator(".log .msg[data-id] .body", { hasText: "Written while offline" }).waitFor();
  await agentSeesOnce("Written while offline");

  // A reload right after: nothing doubles.
  await page.reload();
  await page.locator(".panel").waitFor();

  // An HTML/script payload from the agent is text; nothing runs.
  const payload = `<img src=x onerror="window.__xss=1"> <script>window.__xss=2</script> <b>bold?</b>`;
  await agentSays(payload);
  await until("the payload as text", async () => (await page.locator(".log .msg .body").allTextContents()).includes(payload));
  check(await page.evaluate(() => window.__xss === undefined), "the payload ran");
  check(await page.locator(".log img[src=x], .log script, .log b").count() === 0, "the payload became HTML");

  // Every message exactly once on both sides.
  const texts = ["Hello from the widget", "Hi Ada, how can I help?", "Written while offline",
    "Answer while you were away", payload];
  await shownOnce(texts);
  for (const text of texts) await agentSeesOnce(text);
  const ids = await log().evaluateAll((nodes) => nodes.map((n) => n.getAttribute("data-id")).filter(Boolean));
  check(new Set(ids).size === ids.length, `a message id shows twice: ${ids}`);
  check((await page.locator(".msg .meta").count()) === 0, "a message is still unacked");

  // C2: the details went onto the contact.
  const { sessions } = await sessionMessages();
  const contact = await api("GET", `/api/v1/contacts/${sessions[0].contact_id}`);
  check(contact.email === "ada@example.com" && contact.name === "Ada Lovelace", JSON.stringify(contact));

  // Keyboard: the close button is reachable and Escape closes the panel.
  await box.press("Escape");
  await page.getByRole("button", { name: "Chat with us" }).waitFor();
  await page.getByRole("button", { name: "Chat with us" }).press("Enter");
  await shownOnce(texts);
  await page.locator(".panel").screenshot({ path: process.env.SCREENSHOT });

  check(errors.length === 0, `console errors: ${JSON.stringify(errors)}`);
  console.log(JSON.stringify({ ok: true, messages: texts.length }));
} finally {
  await context.close();
  site.close();
}
