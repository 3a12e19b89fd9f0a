/* frontdesk live-chat widget (issue 7). Plain JS, no framework, no build step.
 *
 * Embed: <script src="https://support.example.com/widget.js" data-channel="7" async></script>
 * Optional, for logged-in users: data-user-id="42" data-user-hash="<hex HMAC-SHA256(identity_secret, "42")>".
 *
 * Protocol (see docs/widget.md): GET /chat/{ch}/config, POST /chat/{ch}/visitors,
 * WebSocket /chat/{ch}/ws?token=T. Everything customers or agents wrote is put
 * in the page with textContent only, never as HTML.
 */
(function () {
  "use strict";
  var script = document.currentScript ||
    document.querySelector('script[data-channel][src*="widget.js"]');
  if (!script || window.__frontdeskWidget) return;
  window.__frontdeskWidget = true;

  var channel = script.getAttribute("data-channel");
  var base = script.src.replace(/\/widget\.js(\?.*)?$/, "");
  var userId = script.getAttribute("data-user-id") || null;
  var userHash = script.getAttribute("data-user-hash") || null;
  var storeKey = "frontdesk-widget:" + base + ":" + channel;

  var TEXTS = {
    en: {
      open: "Chat with us", close: "Close chat", placeholder: "Write a message…",
      send: "Send", start: "Start chat", accept: "I accept",
      consentTitle: "Before we start", prechatTitle: "Please tell us who you are",
      name: "Name", email: "Email", phone: "Phone",
      badName: "Please enter your name (at most 200 characters).",
      badEmail: "Please enter a valid email address, e.g. name@example.com.",
      badPhone: "Please enter a phone number with at least 5 digits.",
      needConsent: "Please accept the notice to start the chat.",
      sending: "sending…", failed: "not sent", offline: "Connection lost. Reconnecting…",
      rate: "How would you rate this chat?", transcript: "Email transcript",
      transcriptSend: "Send transcript", transcriptEmail: "Email address for the transcript", transcriptSent: "The transcript is on its way.",
      transcriptFailed: "The transcript could not be sent: ", startFailed: "The chat could not start: ",
      you: "You", agent: "Agent", unavailable: "The chat is not available right now."
    },
    de: {
      open: "Chatten Sie mit uns", close: "Chat schließen", placeholder: "Nachricht schreiben…",
      send: "Senden", start: "Chat starten", accept: "Ich stimme zu",
      consentTitle: "Bevor es losgeht", prechatTitle: "Bitte sagen Sie uns, wer Sie sind",
      name: "Name", email: "E-Mail", phone: "Telefon",
      badName: "Bitte geben Sie Ihren Namen ein (höchstens 200 Zeichen).",
      badEmail: "Bitte geben Sie eine gültige E-Mail-Adresse ein, z. B. name@example.com.",
      badPhone: "Bitte geben Sie eine Telefonnummer mit mindestens 5 Ziffern ein.",
      needConsent: "Bitte stimmen Sie dem Hinweis zu, um den Chat zu starten.",
      sending: "wird gesendet…", failed: "nicht gesendet", offline: "Verbindung unterbrochen. Neuer Versuch…",
      rate: "Wie bewerten Sie diesen Chat?", transcript: "Verlauf per E-Mail",
      transcriptSend: "Verlauf senden", transcriptEmail: "E-Mail-Adresse für den Verlauf", transcriptSent: "Der Verlauf ist unterwegs.",
      transcriptFailed: "Der Verlauf konnte nicht gesendet werden: ", startFailed: "Der Chat konnte nicht starten: ",
      you: "Sie", agent: "Mitarbeiter", unavailable: "Der Chat ist gerade nicht verfügbar."
    }
  };
  var t = TEXTS.en;

  // --- saved state: token, last seen id, unacked messages (kept across reloads)
  function load() {
    try { return JSON.parse(localStorage.getItem(storeKey)) || {}; } catch (e) { return {}; }
  }
  var saved = load();
  if (saved.userId !== userId) saved = {};
  saved.pending = saved.pending || [];
  function persist() {
    try { localStorage.setItem(storeKey, JSON.stringify(saved)); } catch (e) { /* private mode */ }
  }

  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var bytes = new Uint8Array(16);
    crypto.getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return ("0" + b.toString(16)).slice(-2); }).join("");
  }

  // --- DOM helpers: text only
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text != null) node.textContent = text;
    return node;
  }

  var CSS = [
    ":host{all:initial}",
    "*{box-sizing:border-box;font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif}",
    ".launcher{position:fixed;right:20px;bottom:20px;z-index:2147483000;border:0;border-radius:24px;padding:12px 20px;background:#1f4fd1;color:#fff;font-size:15px;cursor:pointer;box-shadow:0 2px 10px rgba(0,0,0,.25)}",
    "button:focus-visible,textarea:focus-visible,input:focus-visible{outline:3px solid #f5a623;outline-offset:2px}",
    ".panel{position:fixed;right:20px;bottom:20px;z-index:2147483001;width:360px;max-width:calc(100vw - 40px);height:540px;max-height:calc(100vh - 40px);display:flex;flex-direction:column;background:#fff;color:#1b1b1b;border-radius:12px;box-shadow:0 6px 30px rgba(0,0,0,.3);overflow:hidden;font-size:15px;line-height:1.4}",
    ".panel[hidden],.launcher[hidden],[hidden]{display:none!important}",
    "header{display:flex;align-items:center;justify-content:space-between;padding:12px 14px;background:#1f4fd1;color:#fff}",
    "header h2{margin:0;font-size:16px;font-weight:600}",
    "header button{background:transparent;border:0;color:#fff;font-size:22px;line-height:1;cursor:pointer;padding:2px 8px;border-radius:6px}",
    ".status{padding:6px 14px;background:#fff4d6;color:#5c4400;font-size:13px}",
    ".log{flex:1;overflow-y:auto;padding:12px;display:flex;flex-direction:column;gap:8px;background:#f5f6f8}",
    ".msg{max-width:85%;padding:8px 11px;border-radius:12px;white-space:pre-wrap;overflow-wrap:anywhere}",
    ".msg.customer{align-self:flex-end;background:#1f4fd1;color:#fff;border-bottom-right-radius:3px}",
    ".msg.agent{align-self:flex-start;background:#fff;border:1px solid #dde1e7;border-bottom-left-radius:3px}",
    ".msg.system{align-self:center;background:#e9ecf1;color:#333;font-size:13px;text-align:center}",
    ".author{display:flex;align-items:center;gap:6px;font-size:12px;font-weight:600;color:#444;margin-bottom:3px}",
    ".author img{width:20px;height:20px;border-radius:50%;object-fit:cover}",
    ".meta{display:block;font-size:11px;opacity:.8;margin-top:2px}",
    ".msg.failed{background:#b3261e}",
    ".start{padding:14px;overflow-y:auto;flex:1}",
    ".start h3{margin:0 0 8px;font-size:15px}",
    ".consent{white-space:pre-wrap;background:#f5f6f8;padding:10px;border-radius:8px;margin:0 0 10px}",
    "label{display:block;margin:8px 0 2px;font-size:13px;font-weight:600}",
    "input,textarea{width:100%;padding:8px;border:1px solid #9aa3af;border-radius:8px;font-size:15px;color:#1b1b1b;background:#fff}",
    ".check{display:flex;gap:8px;align-items:center;font-weight:400}",
    ".check input{width:auto}",
    ".error{color:#b3261e;font-size:13px;margin:6px 0 0}",
    ".primary{margin-top:12px;border:0;border-radius:8px;padding:9px 14px;background:#1f4fd1;color:#fff;font-size:15px;cursor:pointer}",
    ".composer{display:flex;gap:8px;padding:10px;border-top:1px solid #dde1e7}",
    ".composer textarea{resize:none;height:42px}",
    ".composer button{border:0;border-radius:8px;padding:0 14px;background:#1f4fd1;color:#fff;cursor:pointer}",
    ".rating{padding:8px 12px;border-top:1px solid #dde1e7;text-align:center}",
    ".rating button{margin:4px 3px 0;width:38px;height:34px;border:1px solid #1f4fd1;border-radius:8px;background:#fff;color:#1f4fd1;font-size:15px;cursor:pointer}",
    ".tools{padding:6px 10px 10px;font-size:13px}",
    ".tools .link{background:none;border:0;color:#1f4fd1;text-decoration:underline;cursor:pointer;padding:2px;font-size:13px}",
    ".tools form{display:flex;gap:6px;margin-top:6px}",
    ".tools form button{border:0;border-radius:8px;padding:0 10px;background:#1f4fd1;color:#fff;cursor:pointer}",
    ".note{font-size:13px;margin:4px 0 0}"
  ].join("\n");

  // --- the widget's skeleton, in a shadow root so the site's CSS stays out
  var host = el("div");
  host.id = "frontdesk-widget";
  var root = host.attachShadow({ mode: "open" });
  var style = el("style", null, CSS);
  var launcher = el("button", "launcher");
  launcher.type = "button";
  var panel = el("section", "panel");
  panel.hidden = true;
  panel.setAttribute("role", "dialog");
  var header = el("header");
  var title = el("h2");
  var closeBtn = el("button", null, "×");
  closeBtn.type = "button";
  header.append(title, closeBtn);
  var status = el("div", "status");
  status.hidden = true;
  status.setAttribute("role", "status");
  var start = el("div", "start");
  start.hidden = true;
  var log = el("div", "log");
  log.setAttribute("role", "log");
  log.setAttribute("aria-live", "polite");
  var rating = el("div", "rating");
  rating.hidden = true;
  var composer = el("form", "composer");
  var input = el("textarea");
  input.rows = 1;
  var sendBtn = el("button");
  sendBtn.type = "submit";
  composer.append(input, sendBtn);
  var tools = el("div", "tools");
  panel.append(header, status, start, log, rating, composer, tools);
  root.append(style, launcher, panel);

  var config = null;
  var socket = null;
  var attempts = 0;
  var retryTimer = null;
  var seen = {};      // message id -> element
  var pendingEls = {}; // client_id -> element
  var lastId = 0;     // the newest message id this page has shown

  function setOpen(open) {
    panel.hidden = !open;
    launcher.hidden = open;
    saved.open = open;
    persist();
    if (open) {
      ensureChat();
      (start.hidden ? input : start.querySelector("input,button") || input).focus();
    } else {
      launcher.focus();
    }
  }
  launcher.addEventListener("click", function () { setOpen(true); });
  closeBtn.addEventListener("click", function () { setOpen(false); });
  panel.addEventListener("keydown", function (e) { if (e.key === "Escape") setOpen(false); });

  // --- messages
  function bubble(from, text, author) {
    var node = el("div", "msg " + from);
    if (from === "agent" && author && author.name) {
      var who = el("span", "author");
      if (author.avatar_url && /^https?:\/\//i.test(author.avatar_url)) {
        var img = el("img");
        img.alt = "";
        img.src = author.avatar_url;
        who.append(img);
      }
      who.append(el("span", null, author.name));
      node.append(who);
    }
    node.append(el("span", "body", text));
    return node;
  }

  function place(node, id) {
    node.setAttribute("data-id", String(id));
    // Messages are kept in id order; unacked ones stay at the end.
    var after = null;
    var items = log.querySelectorAll(".msg[data-id]");
    for (var i = items.length - 1; i >= 0; i--) {
      if (Number(items[i].getAttribute("data-id")) < id) { after = items[i]; break; }
    }
    if (after) after.after(node);
    else log.prepend(node);
    log.scrollTop = log.scrollHeight;
  }

  function onMessage(frame) {
    if (typeof frame.id !== "number" || seen[frame.id]) return;
    var node = frame.client_id && pendingEls[frame.client_id];
    if (node) {
      settled(frame.client_id, frame.id);
    } else {
      node = bubble(frame.from, String(frame.text || ""), frame.author);
      seen[frame.id] = node;
      place(node, frame.id);
    }
    if (frame.id > lastId) {
      lastId = frame.id;
      saved.lastId = lastId;
      persist();
      rating.hidden = !(frame.rating && frame.from !== "customer");
    }
  }

  function settled(clientId, messageId) {
    var node = pendingEls[clientId];
    delete pendingEls[clientId];
    saved.pending = saved.pending.filter(function (p) { return p.client_id !== clientId; });
    persist();
    if (!node || seen[messageId]) { if (node) node.remove(); return; }
    var meta = node.querySelector(".meta");
    if (meta) meta.remove();
    seen[messageId] = node;
    node.remove();
    place(node, messageId);
  }

  function showPending(p) {
    var node = bubble("customer", p.text, null);
    node.append(el("span", "meta", t.sending));
    pendingEls[p.client_id] = node;
    log.append(node);
    log.scrollTop = log.scrollHeight;
  }

  function send(text) {
    text = text.trim();
    if (!text) return;
    var p = { client_id: newId(), text: text };
    saved.pending.push(p);
    persist();
    showPending(p);
    rating.hidden = true;
    transmit(p);
  }

  function transmit(p) {
    if (socket && socket.readyState === 1 && socket.resumed) {
      socket.send(JSON.stringify({ type: "message", client_id: p.client_id, text: p.text }));
    }
  }

  composer.addEventListener("submit", function (e) {
    e.preventDefault();
    send(input.value);
    input.value = "";
    input.focus();
  });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) {
      e.preventDefault();
      composer.requestSubmit();
    }
  });

  // --- the connection: resume, then resend what was never acked
  var FINAL = { invalid_payload: 1, invalid_frame: 1, unprocessable_payload: 1, invalid_input: 1 };
  function connect() {
    clearTimeout(retryTimer);
    if (!saved.token || (socket && socket.readyState <= 1)) return;
    if (navigator.onLine === false) { status.hidden = false; return; }
    var url = base.replace(/^http/, "ws") + "/chat/" + encodeURIComponent(channel) +
      "/ws?token=" + encodeURIComponent(saved.token);
    var ws = new WebSocket(url);
    socket = ws;
    ws.onopen = function () {
      attempts = 0;
      status.hidden = true;
      ws.send(JSON.stringify({ type: "resume", after: lastId }));
    };
    ws.onmessage = function (event) {
      var frame;
      try { frame = JSON.parse(event.data); } catch (e) { return; }
      if (frame.type === "message") onMessage(frame);
      else if (frame.type === "ack") settled(frame.client_id, frame.message_id);
      else if (frame.type === "resumed") {
        ws.resumed = true;
        saved.pending.forEach(transmit);
      } else if (frame.type === "error") onError(frame);
    };
    ws.onclose = function () {
      if (socket !== ws) return;
      socket = null;
      status.hidden = false;
      var delay = Math.min(15000, 500 * Math.pow(2, attempts++)) * (0.75 + Math.random() / 2);
      retryTimer = setTimeout(connect, delay);
    };
  }

  function onError(frame) {
    var node = frame.client_id && pendingEls[frame.client_id];
    if (node && FINAL[frame.code]) {
      // The server will never take this one: say so instead of resending it forever.
      delete pendingEls[frame.client_id];
      saved.pending = saved.pending.filter(function (p) { return p.client_id !== frame.client_id; });
      persist();
      node.classList.add("failed");
      var meta = node.querySelector(".meta");
      if (meta) meta.textContent = t.failed + ": " + frame.message;
    } else if (node) {
      // Worth another try (the server was busy): resend it a little later.
      // A rate limit says how long to wait (retry_after, seconds).
      var again = saved.pending.filter(function (p) { return p.client_id === frame.client_id; })[0];
      var wait = frame.retry_after > 0 ? frame.retry_after * 1000 : 2000;
      if (again) setTimeout(function () { transmit(again); }, wait + Math.random() * 2000);
    } else {
      log.append(el("div", "msg system", frame.message));
    }
  }

  window.addEventListener("online", connect);
  window.addEventListener("offline", function () {
    status.hidden = false;
    if (socket) { var ws = socket; socket = null; ws.close(); }
  });

  // --- starting: consent and pre-chat fields, then a visitor token
  function field(name, type, autocomplete) {
    var id = "fd-" + name;
    var label = el("label", null, t[name]);
    label.htmlFor = id;
    var box = el("input");
    box.id = id;
    box.name = name;
    box.type = type;
    box.autocomplete = autocomplete;
    box.required = true;
    return [label, box];
  }

  function showStart() {
    start.hidden = false;
    log.hidden = composer.hidden = tools.hidden = true;
    var form = el("form");
    form.noValidate = true;
    if (config.consent) {
      form.append(el("h3", null, t.consentTitle), el("p", "consent", config.consent.text));
    }
    if (config.prechat.length) form.append(el("h3", null, t.prechatTitle));
    var kinds = { name: ["text", "name"], email: ["email", "email"], phone: ["tel", "tel"] };
    config.prechat.forEach(function (f) { form.append.apply(form, field(f, kinds[f][0], kinds[f][1])); });
    var agree = null;
    if (config.consent) {
      var line = el("label", "check");
      agree = el("input");
      agree.type = "checkbox";
      agree.name = "consent";
      line.append(agree, el("span", null, t.accept));
      form.append(line);
    }
    var problem = el("p", "error");
    problem.setAttribute("role", "alert");
    var go = el("button", "primary", t.start);
    go.type = "submit";
    form.append(problem, go);
    start.replaceChildren(form);
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      var body = {};
      var value = function (n) { var b = form.elements[n]; return b ? b.value.trim() : ""; };
      if (form.elements.name && (!value("name") || value("name").length > 200)) return fail(problem, t.badName, "name");
      if (form.elements.email && !/^[^@\s]+@[^@\s]+\.[^@\s]+$/.test(value("email"))) return fail(problem, t.badEmail, "email");
      if (form.elements.phone && !/^[+\d ()\/.-]*$/.test(value("phone")) ||
          form.elements.phone && value("phone").replace(/\D/g, "").length < 5) return fail(problem, t.badPhone, "phone");
      if (agree && !agree.checked) return fail(problem, t.needConsent, "consent");
      config.prechat.forEach(function (f) { body[f] = value(f); });
      if (config.consent) body.consent_version = config.consent.version;
      go.disabled = true;
      createVisitor(body).then(function () {
        start.hidden = true;
        log.hidden = composer.hidden = tools.hidden = false;
        input.focus();
      }, function (err) {
        go.disabled = false;
        fail(problem, t.startFailed + err.message, null);
      });
    });
  }

  function fail(problem, text, name) {
    problem.textContent = text;
    var box = name && start.querySelector("[name=" + name + "]");
    if (box) box.focus();
  }

  function api(method, path, body) {
    var headers = { "content-type": "application/json" };
    if (saved.token) headers.authorization = "Bearer " + saved.token;
    return fetch(base + "/chat/" + encodeURIComponent(channel) + path, {
      method: method, headers: headers, body: body ? JSON.stringify(body) : undefined
    }).then(function (res) {
      return res.json().catch(function () { return {}; }).then(function (data) {
        if (!res.ok) throw new Error((data.error && data.error.message) || ("HTTP " + res.status));
        return data;
      });
    });
  }

  function createVisitor(body) {
    if (userId) { body.user_id = userId; body.user_hash = userHash; }
    return api("POST", "/visitors", body).then(function (data) {
      saved.token = data.token;
      saved.userId = userId;
      persist();
      connect();
    });
  }

  function ensureChat() {
    if (!config || saved.token || !start.hidden) return;
    if (config.consent || config.prechat.length) showStart();
    else createVisitor({}).catch(function (err) {
      log.append(el("div", "msg system", t.startFailed + err.message));
    });
  }

  // --- rating (Q1) and transcript (O3)
  function buildTools() {
    rating.append(el("p", "note", t.rate));
    [1, 2, 3, 4, 5].forEach(function (n) {
      var b = el("button", null, String(n));
      b.type = "button";
      b.setAttribute("aria-label", t.rate + " " + n);
      b.addEventListener("click", function () { send(String(n)); input.focus(); });
      rating.append(b);
    });
    var open = el("button", "link", t.transcript);
    open.type = "button";
    var form = el("form");
    form.hidden = true;
    var email = el("input");
    email.type = "email";
    email.autocomplete = "email";
    email.setAttribute("aria-label", t.transcriptEmail);
    var go = el("button", null, t.transcriptSend);
    go.type = "submit";
    form.append(email, go);
    var note = el("p", "note");
    note.setAttribute("role", "status");
    tools.append(open, form, note);
    open.addEventListener("click", function () { form.hidden = !form.hidden; if (!form.hidden) email.focus(); });
    form.addEventListener("submit", function (e) {
      e.preventDefault();
      note.className = "note";
      api("POST", "/transcript", { email: email.value.trim() }).then(function () {
        note.textContent = t.transcriptSent;
        form.hidden = true;
      }, function (err) {
        note.className = "note error";
        note.textContent = t.transcriptFailed + err.message;
      });
    });
  }

  function init(cfg) {
    config = cfg;
    t = TEXTS[cfg.language] || TEXTS[String(cfg.language).slice(0, 2)] || TEXTS.en;
    title.textContent = cfg.name;
    launcher.textContent = t.open;
    closeBtn.setAttribute("aria-label", t.close);
    panel.setAttribute("aria-label", cfg.name);
    input.placeholder = t.placeholder;
    input.setAttribute("aria-label", t.placeholder);
    sendBtn.textContent = t.send;
    status.textContent = t.offline;
    buildTools();
    saved.pending.forEach(showPending);
    if (saved.token) connect();
    if (saved.open) setOpen(true);
  }

  function mount() {
    document.body.append(host);
    api("GET", "/config").then(init, function () {
      launcher.textContent = TEXTS.en.unavailable;
      launcher.disabled = true;
    });
  }
  if (document.body) mount();
  else document.addEventListener("DOMContentLoaded", mount);
})();
