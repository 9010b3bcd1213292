/* The agents' FAQ page: answers as the agent types, in a chosen language, ready to paste.
 *
 * /api/v1/faq ranks the topics; /api/v1/topics/{id} gives each one's title, steps, the
 * whole answer as text and, when the query names a provider, its settings. Every string
 * is rendered as text. When the deployment sets an access token, a 401 shows a token
 * field; the token is kept for this browser tab only (sessionStorage).
 */
(() => {
  'use strict';

  const PAGE_TEXT = {
    en: {
      title: 'mailhelp — answers for agents', brand: 'Mail help — answers for agents',
      demo: 'Chat demo', search: 'Search', language: 'Answer language',
      intro: "Type the customer's words, the error their program shows, or their address: " +
        'the best answers appear as you type, ready to paste into the ticket.',
      token: 'Access token', useToken: 'Use token',
      needToken: 'This page needs an access token.', searching: 'Searching…',
      nothing: 'No confident answer. Try the exact error text, or name the provider or program.',
      ambiguous: 'Two topics fit almost equally well: check which one matches the customer.',
      found: 'Answers: {n}', failed: 'The search failed. Try again.', score: 'score',
      copy: 'Copy answer', copySettings: 'Copy settings', copied: 'Copied',
      copyFailed: 'Copy failed: select the text and copy it',
      protocol: 'Protocol', server: 'Server', port: 'Port', security: 'Security',
    },
    ru: {
      title: 'mailhelp — ответы для операторов', brand: 'Помощь с почтой — ответы для операторов',
      demo: 'Демо чата', search: 'Поиск', language: 'Язык ответа',
      intro: 'Введите слова клиента, текст ошибки из его программы или его адрес: лучшие ' +
        'ответы появляются по мере ввода, готовые для вставки в заявку.',
      token: 'Ключ доступа', useToken: 'Использовать ключ',
      needToken: 'Для этой страницы нужен ключ доступа.', searching: 'Ищу…',
      nothing: 'Уверенного ответа нет. Попробуйте точный текст ошибки или назовите провайдера или программу.',
      ambiguous: 'Две темы подходят почти одинаково: проверьте, какая относится к клиенту.',
      found: 'Ответов: {n}', failed: 'Поиск не удался. Попробуйте ещё раз.', score: 'оценка',
      copy: 'Копировать ответ', copySettings: 'Копировать настройки', copied: 'Скопировано',
      copyFailed: 'Не удалось скопировать: выделите текст и скопируйте его',
      protocol: 'Протокол', server: 'Сервер', port: 'Порт', security: 'Защита',
    },
    it: {
      title: 'mailhelp — risposte per gli operatori', brand: 'Aiuto posta — risposte per gli operatori',
      demo: 'Demo della chat', search: 'Cerca', language: 'Lingua della risposta',
      intro: "Scrivi le parole del cliente, l'errore mostrato dal suo programma o il suo " +
        'indirizzo: le risposte migliori compaiono mentre scrivi, pronte da incollare nel ticket.',
      token: 'Token di accesso', useToken: 'Usa il token',
      needToken: 'Questa pagina richiede un token di accesso.', searching: 'Ricerca…',
      nothing: "Nessuna risposta sicura. Prova il testo esatto dell'errore, o indica il provider o il programma.",
      ambiguous: 'Due argomenti sono quasi ugualmente adatti: verifica quale riguarda il cliente.',
      found: 'Risposte: {n}', failed: 'La ricerca non è riuscita. Riprova.', score: 'punteggio',
      copy: 'Copia la risposta', copySettings: 'Copia le impostazioni', copied: 'Copiato',
      copyFailed: 'Copia non riuscita: seleziona il testo e copialo',
      protocol: 'Protocollo', server: 'Server', port: 'Porta', security: 'Sicurezza',
    },
  };
  const SECURITY = { ssl: 'SSL/TLS', starttls: 'STARTTLS', none: '—' };
  const DEBOUNCE_MS = 250;
  const RESULTS = 5;
  const TOKEN_KEY = 'mailhelp-agent-token';
  const LANG_KEY = 'mailhelp-agent-lang';

  const known = (code) => (code in PAGE_TEXT ? code : 'en');
  const pageLang = known((navigator.language || '').slice(0, 2).toLowerCase());
  const T = PAGE_TEXT[pageLang];
  const $ = (id) => document.getElementById(id);
  const query = $('q');
  const langSelect = $('lang');
  const results = $('results');
  const status = $('status');
  const tokenForm = $('token-form');
  const tokenInput = $('token');

  function stored(storage, key) {
    try { return storage.getItem(key); } catch (e) { return null; }
  }

  function store(storage, key, value) {
    try {
      if (value) storage.setItem(key, value); else storage.removeItem(key);
    } catch (e) { /* storage blocked: the choice lasts until the page closes */ }
  }

  function el(tag, cls, text) {
    const node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text != null) node.textContent = text;
    return node;
  }

  class Unauthorized extends Error {}

  async function getJSON(path, signal) {
    const headers = { Accept: 'application/json' };
    const token = stored(sessionStorage, TOKEN_KEY);
    if (token) headers.Authorization = 'Bearer ' + token;
    const res = await fetch(path, { headers, signal, credentials: 'same-origin' });
    if (res.status === 401 || res.status === 403) throw new Unauthorized();
    if (!res.ok) throw new Error('HTTP ' + res.status);
    return res.json();
  }

  let timer = 0;
  let controller = null;

  // A newer search aborts the one in flight, so a slow answer never replaces a newer one.
  async function search() {
    clearTimeout(timer);
    if (controller) controller.abort();
    controller = new AbortController();
    const { signal } = controller;
    const text = query.value.trim();
    if (!text) {
      results.replaceChildren();
      status.textContent = '';
      return;
    }
    const lang = langSelect.value;
    status.textContent = T.searching;
    try {
      const found = await getJSON('/api/v1/faq?' + new URLSearchParams({ q: text, lang, n: RESULTS }), signal);
      const topics = await Promise.all(found.matches.map((match) => {
        const params = new URLSearchParams({ lang });
        if (match.provider) params.set('provider', match.provider);
        return getJSON('/api/v1/topics/' + encodeURIComponent(match.id) + '?' + params, signal);
      }));
      // The provider comes from the query, so every topic carries the same settings:
      // they are shown once, after the best answer, and pasted with each answer.
      const settings = (topics.find((topic) => topic.settings) || {}).settings;
      const items = topics.map((topic, i) => renderResult(found.matches[i], topic, settings));
      if (settings) items.splice(1, 0, renderSettings(settings));
      results.replaceChildren(...items);
      results.lang = lang;
      status.textContent = !topics.length ? T.nothing
        : found.ambiguous ? T.ambiguous : T.found.replace('{n}', topics.length);
    } catch (e) {
      if (signal.aborted) return;
      results.replaceChildren();
      if (e instanceof Unauthorized) {
        store(sessionStorage, TOKEN_KEY, null);
        tokenForm.hidden = false;
        status.textContent = T.needToken;
        tokenInput.focus();
      } else {
        status.textContent = T.failed;
      }
    }
  }

  // `answer` is the title, a blank line, the numbered steps, then at times a closing
  // paragraph (how long the provider keeps deleted mail): that paragraph is shown too.
  function renderResult(match, topic, settings) {
    const item = el('li', 'result');
    item.append(el('h2', '', topic.title));
    const score = typeof match.score === 'number' ? T.score + ' ' + match.score.toFixed(2) : null;
    item.append(el('p', 'meta', [topic.id, score, match.provider].filter(Boolean).join(' · ')));
    const steps = el('ol', 'steps');
    for (const step of topic.steps) steps.append(el('li', '', step));
    item.append(steps);
    for (const line of topic.answer.split('\n').slice(2 + topic.steps.length)) {
      if (line.trim()) item.append(el('p', '', line));
    }
    const text = settings ? topic.answer + '\n\n' + settingsText(settings) : topic.answer;
    item.append(copyButton(T.copy, text));
    return item;
  }

  function renderSettings(settings) {
    const item = el('li', 'result settings');
    item.append(el('h2', '', settings.name || settings.provider));
    const table = el('table');
    const head = el('tr');
    for (const name of [T.protocol, T.server, T.port, T.security]) head.append(el('th', '', name));
    table.append(el('thead'), el('tbody'));
    table.tHead.append(head);
    for (const s of settings.servers || []) {
      const row = el('tr');
      row.append(el('td', '', String(s.protocol).toUpperCase()), el('td', 'host', s.host),
        el('td', '', String(s.port)), el('td', '', SECURITY[s.security] || s.security));
      table.tBodies[0].append(row);
    }
    item.append(table);
    if (settings.notes && settings.notes.length) {
      const notes = el('ul');
      for (const note of settings.notes) notes.append(el('li', '', note));
      item.append(notes);
    }
    item.append(copyButton(T.copySettings, settingsText(settings)));
    return item;
  }

  // The settings as `mailhelp settings` prints them: name, one server a line, the notes.
  function settingsText(settings) {
    const servers = settings.servers || [];
    const width = Math.max(0, ...servers.map((s) => s.host.length));
    return [
      settings.name || settings.provider,
      ...servers.map((s) => '  ' + String(s.protocol).toUpperCase().padEnd(5) + ' ' +
        s.host.padEnd(width) + '  ' + String(s.port).padStart(5) + '  ' +
        (SECURITY[s.security] || s.security)),
      ...(settings.notes || []).map((note) => '- ' + note),
    ].join('\n');
  }

  function copyButton(label, text) {
    const button = el('button', 'copy', label);
    button.type = 'button';
    button.addEventListener('click', async () => {
      const ok = await copyText(text);
      button.focus();
      button.textContent = ok ? T.copied : T.copyFailed;
      setTimeout(() => { button.textContent = label; }, 2000);
    });
    return button;
  }

  async function copyText(text) {
    try {
      await navigator.clipboard.writeText(text);
      return true;
    } catch (e) {
      // No Clipboard API here (or no permission): copy through a selected text area.
      const area = el('textarea', 'offscreen');
      area.value = text;
      area.readOnly = true;
      document.body.append(area);
      area.select();
      let ok = false;
      try { ok = document.execCommand('copy'); } catch (err) { ok = false; }
      area.remove();
      return ok;
    }
  }

  document.documentElement.lang = pageLang;
  document.title = T.title;
  document.querySelectorAll('[data-i18n]').forEach((node) => {
    node.textContent = T[node.getAttribute('data-i18n')];
  });
  langSelect.value = known(stored(localStorage, LANG_KEY) || pageLang);

  query.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(search, DEBOUNCE_MS);
  });
  langSelect.addEventListener('change', () => {
    store(localStorage, LANG_KEY, langSelect.value);
    search();
  });
  $('search').addEventListener('submit', (e) => {
    e.preventDefault();
    search();
  });
  tokenForm.addEventListener('submit', (e) => {
    e.preventDefault();
    store(sessionStorage, TOKEN_KEY, tokenInput.value.trim());
    tokenInput.value = '';
    tokenForm.hidden = true;
    query.focus();
    search();
  });
  if (query.value) search();
})();
