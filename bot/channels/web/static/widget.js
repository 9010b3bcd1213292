/* mailhelp chat widget: a chat bubble and panel for any page.
 *
 * Embed: <script src="https://HOST/widget.js" data-lang="it" async></script>
 * It talks to the API of the origin it was loaded from, keeps the conversation in
 * localStorage across reloads, and renders every bot and user string as text.
 * Optional global: window.mailhelpWidget.{open, close, reset}.
 */
(() => {
  'use strict';
  if (window.mailhelpWidget) return;

  const script = document.currentScript ||
    Array.from(document.querySelectorAll('script[src]'))
      .find((s) => /\/widget\.js(?:[?#]|$)/.test(s.src));
  const API = new URL(script ? script.src : '/widget.js', location.href).origin;
  const wanted = ((script && script.getAttribute('data-lang')) || navigator.language || '')
    .slice(0, 2).toLowerCase();
  const LANG = ['en', 'ru', 'it'].includes(wanted) ? wanted : null;

  const PHRASES = {
    en: {
      title: 'Mail help', open: 'Open the mail help chat', close: 'Close',
      restart: 'Start over', message: 'Message', send: 'Send', typing: 'typing…',
      placeholder: 'Ask, or paste the error…',
      offline: 'Cannot reach the help service. Check your connection and try again.',
      checking: 'Checking the servers of {target}…', checked: 'Server check of {target}',
      failed: 'The check could not run.', stopped: 'The check was interrupted.',
    },
    ru: {
      title: 'Помощь с почтой', open: 'Открыть чат помощи с почтой', close: 'Закрыть',
      restart: 'Начать сначала', message: 'Сообщение', send: 'Отправить', typing: 'печатает…',
      placeholder: 'Вопрос или текст ошибки…',
      offline: 'Не удаётся связаться со службой помощи. Проверьте подключение и попробуйте ещё раз.',
      checking: 'Проверяю серверы {target}…', checked: 'Проверка серверов {target}',
      failed: 'Проверку выполнить не удалось.', stopped: 'Проверка была прервана.',
    },
    it: {
      title: 'Aiuto posta', open: 'Apri la chat di aiuto per la posta', close: 'Chiudi',
      restart: 'Ricomincia', message: 'Messaggio', send: 'Invia', typing: 'sta scrivendo…',
      placeholder: "Domanda o testo dell'errore…",
      offline: 'Impossibile raggiungere il servizio di aiuto. Controlla la connessione e riprova.',
      checking: 'Controllo i server di {target}…', checked: 'Controllo dei server di {target}',
      failed: 'Non è stato possibile eseguire il controllo.', stopped: 'Il controllo è stato interrotto.',
    },
  };
  const T = PHRASES[LANG || 'en'];
  // The engine's DNS actions and the API endpoint each one calls.
  const DNS_ACTIONS = {
    discover: { path: '/api/v1/discover', field: 'address' },
    'domain-check': { path: '/api/v1/domain-check', field: 'domain' },
  };
  const MARKS = { ok: '✓', warning: '!', error: '✗' };

  const CSS = `
:host { all: initial; }
* { box-sizing: border-box; }
.bubble, .panel { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  color: #1c1f24; position: fixed; z-index: 2147483000; }
.bubble { right: 20px; bottom: 20px; width: 58px; height: 58px; border-radius: 50%;
  border: 0; background: #1a5fb4; color: #fff; cursor: pointer; display: grid;
  place-items: center; box-shadow: 0 4px 14px rgba(0,0,0,.3); padding: 0; }
.bubble:hover { background: #174f95; }
.bubble svg { width: 28px; height: 28px; fill: none; stroke: currentColor; stroke-width: 2;
  stroke-linejoin: round; }
button:focus-visible, textarea:focus-visible, .log:focus-visible, a:focus-visible {
  outline: 3px solid #f5a623; outline-offset: 2px; }
.panel { right: 20px; bottom: 90px; width: 380px; height: min(620px, calc(100vh - 110px));
  background: #fff; border-radius: 14px; box-shadow: 0 8px 30px rgba(0,0,0,.28);
  display: flex; flex-direction: column; overflow: hidden; }
.panel[hidden] { display: none; }
header { display: flex; align-items: center; gap: 6px; padding: 10px 10px 10px 16px;
  background: #1a5fb4; color: #fff; }
h2 { font-size: 16px; margin: 0; flex: 1; font-weight: 600; }
header button { background: transparent; color: #fff; border: 1px solid rgba(255,255,255,.5);
  border-radius: 6px; font: inherit; font-size: 13px; padding: 3px 8px; cursor: pointer; }
header button:hover { background: rgba(255,255,255,.15); }
.log { flex: 1; overflow-y: auto; padding: 12px; background: #f4f6f9; display: flex;
  flex-direction: column; gap: 8px; }
.msg { max-width: 88%; padding: 8px 11px; border-radius: 12px; overflow-wrap: anywhere; }
.bot { align-self: flex-start; background: #fff; border: 1px solid #dde2ea; max-width: 94%; }
.user { align-self: flex-end; background: #1a5fb4; color: #fff; white-space: pre-wrap; }
.note { align-self: center; color: #8a1f11; font-size: 13px; text-align: center; }
.line { white-space: pre-wrap; min-height: .6em; }
.mono { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12px;
  white-space: pre; overflow-x: auto; padding: 2px 0; }
a { color: #1a5fb4; }
.choices { display: flex; flex-wrap: wrap; gap: 6px; margin-top: 8px; }
.choices button { font: inherit; font-size: 14px; border: 1px solid #1a5fb4; color: #1a5fb4;
  background: #fff; border-radius: 16px; padding: 4px 12px; cursor: pointer; text-align: left; }
.choices button:hover:not(:disabled) { background: #e8f0fb; }
.choices button:disabled { border-color: #c3c9d2; color: #8a929e; cursor: default; }
.check { font-size: 13.5px; }
.check ul { list-style: none; margin: 4px 0 0; padding: 0; }
.check li { margin: 3px 0; }
.st-ok { color: #1d7a35; } .st-warning { color: #9a6200; } .st-error { color: #b3261e; }
.verdict { margin-top: 6px; font-weight: 600; }
.typing { display: flex; gap: 4px; align-items: center; padding: 12px 14px; }
.typing i { width: 7px; height: 7px; border-radius: 50%; background: #8a929e;
  animation: blink 1.2s infinite; }
.typing i:nth-child(2) { animation-delay: .2s; } .typing i:nth-child(3) { animation-delay: .4s; }
@keyframes blink { 0%, 80%, 100% { opacity: .25; } 40% { opacity: 1; } }
@media (prefers-reduced-motion: reduce) { .typing i { animation: none; } }
form { display: flex; gap: 8px; padding: 10px; border-top: 1px solid #dde2ea; background: #fff; }
textarea { flex: 1; resize: none; font: inherit; border: 1px solid #b9c0ca; border-radius: 8px;
  padding: 7px 9px; max-height: 120px; color: inherit; background: #fff; }
textarea::placeholder { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
form button { font: inherit; border: 0; border-radius: 8px; padding: 0 14px;
  background: #1a5fb4; color: #fff; cursor: pointer; }
.sr { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0);
  white-space: nowrap; }
@media (max-width: 480px) {
  .panel { inset: 0; width: 100%; height: 100%; border-radius: 0; }
  .msg { max-width: 94%; }
}`;

  const KEY = 'mailhelp-widget:' + API;
  const MAX_ITEMS = 200;
  const state = load();
  let queue = Promise.resolve(); // turns go to the server one at a time, in order
  let waiting = 0;
  let ui = null;

  function load() {
    try {
      const saved = JSON.parse(localStorage.getItem(KEY));
      if (saved && Array.isArray(saved.items)) {
        const items = saved.items.filter((item) => item && (item.t === 'check'
          ? typeof item.target === 'string' && Array.isArray(item.lines)
          : typeof item.text === 'string'));
        items.forEach((item) => {
          if (item.t === 'check' && !item.verdict) item.verdict = { status: 'error', text: T.stopped };
        });
        return { session: typeof saved.session === 'string' ? saved.session : null, items,
          open: saved.open === true };
      }
    } catch (e) { /* storage blocked or corrupt: start fresh */ }
    return { session: null, items: [], open: false };
  }

  function save() {
    state.items = state.items.slice(-MAX_ITEMS);
    try { localStorage.setItem(KEY, JSON.stringify(state)); } catch (e) { /* storage blocked */ }
  }

  // What the browser keeps of a user message: a password the person pasted by mistake is
  // never stored (the bot does not keep it either), mirroring the bot's own rule.
  const SECRET_AFTER = /((?:password|passwd|пароль|parola d'ordine)\s*(?:is|:|=|это|è)\s*)(\S+)/gi;
  const NOT_SECRET = /@|:\/\/|^\/|^0x[0-9a-f]+$|^(?:[\w-]+\.)+[a-z]{2,}$/i;
  function redact(text) {
    const token = text.trim();
    if (/^\S{6,64}$/.test(token) && !NOT_SECRET.test(token) &&
        [/[a-z]/, /[A-Z]/, /\d/, /[^\w]/].filter((r) => r.test(token)).length >= 3) {
      return '••••••';
    }
    return text.replace(SECRET_AFTER, '$1••••••');
  }

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text != null) node.textContent = text;
    return node;
  }

  // A line of bot text with its web addresses as links; everything else stays text.
  function withLinks(line, parent) {
    let last = 0;
    for (const m of line.matchAll(/https?:\/\/[^\s<>"']+[^\s<>"'.,;:!?)\]]/g)) {
      parent.append(line.slice(last, m.index));
      const a = el('a', '', m[0]);
      a.href = m[0];
      a.target = '_blank';
      a.rel = 'noopener noreferrer';
      parent.append(a);
      last = m.index + m[0].length;
    }
    parent.append(line.slice(last));
  }

  function renderItem(item) {
    if (item.t === 'user') return el('div', 'msg user', item.text);
    if (item.t === 'note') return el('div', 'msg note', item.text);
    if (item.t === 'check') return renderCheck(item, el('div', 'msg bot check'));
    const node = el('div', 'msg bot');
    // Indented lines are a table (a provider's servers): kept aligned in one block that
    // scrolls sideways on a narrow screen rather than wrapping.
    let table = null;
    for (const line of item.text.split('\n')) {
      if (/^ {2}\S/.test(line)) {
        if (!table) node.append(table = el('div', 'mono'));
        table.append(line + '\n');
      } else {
        table = null;
        const row = el('div', 'line');
        withLinks(line, row);
        node.append(row);
      }
    }
    if (item.buttons && item.buttons.length) {
      const choices = el('div', 'choices');
      for (const b of item.buttons) {
        const button = el('button', '', b.label);
        button.type = 'button';
        button.disabled = !!item.spent;
        button.addEventListener('click', () => {
          ui.input.focus(); // the pressed button is disabled next: keep focus in the panel
          send({ button: b.value }, b.label);
        });
        choices.append(button);
      }
      node.append(choices);
    }
    return node;
  }

  function renderCheck(item, node) {
    let heading = (item.verdict ? T.checked : T.checking).replace('{target}', item.target);
    if (!item.verdict && item.total) heading += ' ' + item.lines.length + '/' + item.total;
    node.replaceChildren(el('div', 'line', heading));
    const list = el('ul');
    for (const line of item.lines) {
      const li = el('li');
      li.append(el('span', 'st-' + line.status, (MARKS[line.status] || '?') + ' '), line.text);
      list.append(li);
    }
    node.append(list);
    // The verdict: its first line stands out, the findings in words follow.
    if (item.verdict) {
      String(item.verdict.text || '').split('\n').forEach((line, i) => {
        node.append(el('div', i ? 'line' : 'line verdict st-' + item.verdict.status, line));
      });
    }
    return node;
  }

  function scrollDown() { ui.log.scrollTop = ui.log.scrollHeight; }

  function add(item, persist = true) {
    if (persist) { state.items.push(item); save(); }
    const node = renderItem(item);
    ui.log.append(node);
    if (ui.typing) ui.log.append(ui.typing); // the indicator stays last while more is due
    scrollDown();
    return node;
  }

  function spendButtons() {
    state.items.forEach((item) => { if (item.buttons) item.spent = true; });
    ui.log.querySelectorAll('.choices button').forEach((b) => { b.disabled = true; });
  }

  function typing(on) {
    if (ui.typing) { ui.typing.remove(); ui.typing = null; }
    if (!on) return;
    ui.typing = el('div', 'msg bot typing');
    ui.typing.append(el('i'), el('i'), el('i'), el('span', 'sr', T.typing));
    ui.log.append(ui.typing);
    scrollDown();
  }

  // Runs `task` after the turns before it, with the typing indicator on while any waits.
  function enqueue(task) {
    waiting += 1;
    typing(true);
    queue = queue.then(task).catch(() => add({ t: 'note', text: T.offline }, false))
      .finally(() => { waiting -= 1; if (!waiting) typing(false); });
  }

  async function post(path, body, accept = 'application/json') {
    return fetch(API + path, {
      method: 'POST', credentials: 'omit', body: JSON.stringify(body),
      headers: { 'Content-Type': 'application/json', Accept: accept },
    });
  }

  async function openSession() {
    // the page's language is a hint: the bot follows the language the person writes in
    const res = await post('/api/v1/sessions', LANG ? { hint: LANG } : {});
    if (!res.ok) throw new Error('session ' + res.status);
    const data = await res.json();
    state.session = String(data.session);
    save();
    showReplies(data.replies);
  }

  function send(event, shown) {
    spendButtons();
    if (shown != null) {
      // Shown as typed now; stored redacted, so a reload shows what was kept.
      add({ t: 'user', text: redact(shown) }).textContent = shown;
    }
    enqueue(() => deliver(event));
  }

  // A session the server forgot (404) is replaced by a new one and a typed text is sent
  // again, so the person's words are not lost.
  async function deliver(event) {
    if (!state.session) await openSession();
    let res = await post('/api/v1/sessions/' + encodeURIComponent(state.session) + '/messages', event);
    if (res.status === 404) {
      state.session = null;
      await openSession();
      if (!('text' in event)) return;
      res = await post('/api/v1/sessions/' + encodeURIComponent(state.session) + '/messages', event);
    }
    if (!res.ok) throw new Error('message ' + res.status);
    showReplies((await res.json()).replies);
  }

  function greet() {
    enqueue(async () => { if (!state.session) await openSession(); });
  }

  function showReplies(replies) {
    for (const reply of Array.isArray(replies) ? replies : []) {
      const buttons = (reply.buttons || []).map((b) => ({ label: String(b.label), value: String(b.value) }));
      add({ t: 'bot', text: String(reply.text || ''), buttons });
      for (const action of reply.actions || []) {
        if (action.kind === 'check' && action.target) check(String(action.target), action.lang);
        if (DNS_ACTIONS[action.kind] && action.target) {
          dnsAction(DNS_ACTIONS[action.kind], String(action.target), action.lang);
        }
      }
    }
  }

  // Discovery and the domain check: one JSON answer whose "text" the chat shows.
  async function dnsAction(kind, target, lang) {
    let text = T.failed;
    try {
      const body = { [kind.field]: target };
      if (PHRASES[lang]) body.lang = lang;
      const res = await post(kind.path, body);
      const data = await res.json().catch(() => ({}));
      text = String((res.ok ? data.text : data.message) || T.failed);
    } catch (err) {
      text = T.failed;
    }
    add({ t: 'bot', text, buttons: [] });
    scrollDown();
  }

  // The live check, streamed as Server-Sent Events: a line per endpoint, then the verdict.
  async function check(target, lang) {
    const item = { t: 'check', target, total: 0, lines: [], verdict: null };
    const node = add(item);
    const update = (verdict) => {
      if (verdict) item.verdict = verdict;
      save();
      renderCheck(item, node);
      scrollDown();
    };
    try {
      const body = PHRASES[lang] ? { target, lang } : { target };
      const res = await post('/api/v1/check', body, 'text/event-stream');
      if (!res.ok || !res.body) {
        const err = await res.json().catch(() => ({}));
        update({ status: 'error', text: String(err.message || err.detail || T.failed) });
        return;
      }
      const reader = res.body.getReader();
      const decoder = new TextDecoder();
      let buffer = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let end;
        while ((end = buffer.search(/\r?\n\r?\n/)) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end).replace(/^\r?\n\r?\n/, '');
          onEvent(block, item, update);
        }
      }
      if (!item.verdict) update({ status: 'error', text: T.stopped });
    } catch (e) {
      update({ status: 'error', text: T.failed });
    }
  }

  function onEvent(block, item, update) {
    let name = 'message';
    const data = [];
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith('event:')) name = line.slice(6).trim();
      else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
    }
    let payload;
    try { payload = JSON.parse(data.join('\n')); } catch (e) { return; }
    if (name === 'start') {
      item.total = Number(payload.total) || 0;
      update();
    } else if (name === 'endpoint') {
      const e = payload;
      const host = String(e.host).includes(':') ? '[' + e.host + ']' : e.host;
      const facts = [e.tls_version, e.connect_ms != null ? Math.round(e.connect_ms) + ' ms' : null]
        .filter(Boolean).join(', ');
      item.lines.push({
        status: String(e.status),
        text: (e.protocol || '?') + ' ' + host + ':' + e.port + (facts ? ' — ' + facts : ''),
      });
      update();
    } else if (name === 'summary') {
      update({ status: String(payload.status), text: String(payload.text || '') });
    }
  }

  function build() {
    const host = document.createElement('mailhelp-widget');
    const root = host.attachShadow({ mode: 'open' });
    if ('adoptedStyleSheets' in root && typeof CSSStyleSheet === 'function' &&
        'replaceSync' in CSSStyleSheet.prototype) {
      // A constructed sheet also works under a page CSP that forbids inline styles.
      const sheet = new CSSStyleSheet();
      sheet.replaceSync(CSS);
      root.adoptedStyleSheets = [sheet];
    } else {
      root.append(el('style', '', CSS));
    }

    const bubble = el('button', 'bubble');
    bubble.type = 'button';
    bubble.setAttribute('aria-label', T.open);
    bubble.title = T.open;
    bubble.setAttribute('aria-expanded', 'false');
    bubble.setAttribute('aria-controls', 'mh-panel');
    const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
    svg.setAttribute('viewBox', '0 0 24 24');
    svg.setAttribute('aria-hidden', 'true');
    const path = document.createElementNS('http://www.w3.org/2000/svg', 'path');
    path.setAttribute('d', 'M4 5h16v11H9l-5 4z');
    svg.append(path);
    bubble.append(svg);

    const panel = el('div', 'panel');
    panel.id = 'mh-panel';
    panel.hidden = true;
    panel.setAttribute('role', 'dialog');
    panel.setAttribute('aria-labelledby', 'mh-title');
    const header = el('header');
    const title = el('h2', '', T.title);
    title.id = 'mh-title';
    const restart = el('button', 'restart', T.restart);
    restart.type = 'button';
    const close = el('button', 'close', T.close);
    close.type = 'button';
    header.append(title, restart, close);

    const log = el('div', 'log');
    log.setAttribute('role', 'log');
    log.setAttribute('aria-live', 'polite');
    log.tabIndex = 0;

    const form = el('form');
    const label = el('label', 'sr', T.message);
    label.htmlFor = 'mh-input';
    const input = el('textarea');
    input.id = 'mh-input';
    input.rows = 1;
    input.maxLength = 4000;
    input.placeholder = T.placeholder;
    const submit = el('button', '', T.send);
    submit.type = 'submit';
    form.append(label, input, submit);
    panel.append(header, log, form);
    root.append(bubble, panel);
    ui = { host, bubble, panel, log, input, typing: null };

    bubble.addEventListener('click', () => (panel.hidden ? openPanel(true) : closePanel()));
    close.addEventListener('click', closePanel);
    restart.addEventListener('click', restartConversation);
    panel.addEventListener('keydown', (e) => {
      if (e.key === 'Escape') { e.preventDefault(); closePanel(); }
    });
    input.addEventListener('keydown', (e) => {
      if (e.key === 'Enter' && !e.shiftKey && !e.isComposing) {
        e.preventDefault();
        form.requestSubmit();
      }
    });
    input.addEventListener('input', grow);
    form.addEventListener('submit', (e) => {
      e.preventDefault();
      const text = input.value.trim();
      if (!text) return;
      input.value = '';
      grow();
      send({ text }, text);
    });

    state.items.forEach((item) => add(item, false));
    document.body.append(host);
    if (state.open) openPanel(false);
  }

  // The box grows with what is typed (up to its max-height) and shrinks back when sent.
  function grow() {
    ui.input.style.height = '';
    if (ui.input.value) ui.input.style.height = Math.min(ui.input.scrollHeight + 2, 120) + 'px';
  }

  function openPanel(focus) {
    ui.panel.hidden = false;
    ui.bubble.setAttribute('aria-expanded', 'true');
    state.open = true;
    save();
    scrollDown();
    if (focus) ui.input.focus();
    if (!state.session && !state.items.length) greet();
  }

  function closePanel() {
    ui.panel.hidden = true;
    ui.bubble.setAttribute('aria-expanded', 'false');
    state.open = false;
    save();
    ui.bubble.focus();
  }

  function restartConversation() {
    state.items = [];
    save();
    ui.log.replaceChildren();
    if (state.session) send(LANG ? { command: 'start', arg: LANG } : { command: 'start' });
    else greet();
    ui.input.focus();
  }

  window.mailhelpWidget = Object.freeze({
    open: () => ui && openPanel(true),
    close: () => ui && closePanel(),
    reset: () => ui && restartConversation(),
  });
  if (document.body) build();
  else document.addEventListener('DOMContentLoaded', build);
})();
