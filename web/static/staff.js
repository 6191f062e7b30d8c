// @ts-check
/**
 * The staff pages of Kuayang: login, my cases, new case, and the case page
 * with its sessions, participants, invites and audit log. One document
 * (static/staff.html) served for every path under /staff/; this module
 * routes with history.pushState and draws each page with DOM calls only
 * (the CSP forbids inline code, and no text is ever parsed as HTML).
 *
 * The REST calls are in api.js, time zone arithmetic in tz.js, the strings
 * in i18n.js and staff-strings.js.
 *
 * For tests: window.kuayangStaff = {api, state}.
 *
 * @module staff
 */

import { Api, ApiError } from './api.js';
import { LANGUAGES, addStrings, detectLanguage, getLanguage, has, setLanguage, t } from './i18n.js';
import { STAFF_STRINGS } from './staff-strings.js';
import { COMMON_ZONES, browserZone, formatOffset, wallTimeToInstant, toRFC3339, zoneOffset } from './tz.js';

/** @typedef {import('./api.js').Case} Case */
/** @typedef {import('./api.js').Session} Session */
/** @typedef {import('./api.js').Participant} Participant */
/** @typedef {import('./api.js').InviteInfo} InviteInfo */
/** @typedef {import('./api.js').AuditEntry} AuditEntry */
/** @typedef {import('./api.js').Account} Account */

addStrings(STAFF_STRINGS);

const KINDS = ['mediation', 'notarization', 'hearing', 'evidence_collection'];
const INVITE_ROLES = ['party', 'interpreter', 'observer', 'mediator', 'notary', 'judge'];
/** Participant languages, named in themselves. */
const PARTICIPANT_LANGUAGES = [
  { code: 'zh-CN', name: '中文' },
  { code: 'it', name: 'Italiano' },
  { code: 'en', name: 'English' },
  { code: 'es', name: 'Español' },
  { code: 'fr', name: 'Français' },
];
const DEFAULT_ZONE = 'Asia/Shanghai';
const PAGE_SIZE = 20;
const AUDIT_PAGE = 200;
const LANG_KEY = 'kuayang.staff.lang';

const api = new Api();

/** Plain, inspectable page state. */
const state = {
  /** @type {Account | null} */
  account: null,
  /** i18n key of a note on the login page (e.g. the login expired), or '' */
  loginNote: '',
  /** counts renders; an answer for an older render is dropped */
  seq: 0,
  /** @type {{case: Case, sessions: Session[]} | null} the case page's data */
  caseData: null,
  /** @type {Map<string, {name: string, url: string, expires_at: string}[]>} links created on this visit of the case page, by session */
  newInvites: new Map(),
  /** @type {Map<string, HTMLFormElement>} invite forms, kept across redraws of their session */
  inviteForms: new Map(),
  /** @type {AuditEntry[]} */
  audit: [],
  auditMore: false,
  /** @type {() => void} redraws the current page from state, after a language change */
  redraw: () => {},
};
/** @type {any} */ (window).kuayangStaff = { api, state };

// ---- DOM helpers ------------------------------------------------------------

/**
 * @param {string} id
 * @returns {HTMLElement}
 */
function $(id) {
  const node = document.getElementById(id);
  if (!node) throw new Error(`missing #${id}`);
  return node;
}

/** @typedef {string | Node | null | undefined | false} Child */

/**
 * Creates an element. props: class, text, on<event> listeners, and
 * attributes (true for an empty attribute; false, null, undefined skip).
 * @param {string} tag
 * @param {Record<string, any>} [props]
 * @param {...(Child | Child[])} children
 * @returns {HTMLElement}
 */
function h(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') node.className = v;
    else if (k === 'text') node.textContent = v;
    else if (k.startsWith('on') && typeof v === 'function') node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat(Infinity)) {
    if (c !== null && c !== undefined && c !== false) node.append(c);
  }
  return node;
}

let uid = 0;
/** @param {string} prefix */
function newId(prefix) {
  uid += 1;
  return `${prefix}-${uid}`;
}

/**
 * A labelled form control.
 * @param {string} label
 * @param {HTMLElement} control
 * @param {string} [hint]
 */
function field(label, control, hint) {
  const id = control.id || newId('f');
  control.id = id;
  /** @type {HTMLElement | null} */
  let hintEl = null;
  if (hint) {
    hintEl = h('span', { class: 'hint', id: `${id}-hint`, text: hint });
    control.setAttribute('aria-describedby', hintEl.id);
  }
  return h('div', { class: 'field' }, h('label', { for: id, text: label }), control, hintEl);
}

/**
 * A select with options [value, label]; value selected.
 * @param {Record<string, any>} props
 * @param {[string, string][]} options
 * @param {string} [value]
 */
function select(props, options, value) {
  const node = /** @type {HTMLSelectElement} */ (h('select', props,
    options.map(([v, label]) => h('option', { value: v, text: label }))));
  if (value !== undefined) node.value = value;
  return node;
}

/**
 * A checkbox with its label to the right.
 * @param {string} label
 * @param {Record<string, any>} props
 */
function checkbox(label, props) {
  const input = h('input', { type: 'checkbox', ...props });
  return h('label', { class: 'check' }, input, h('span', { text: label }));
}

/** A paragraph for a form's error, announced when filled. */
function errorBox(testid = 'form-error') {
  return h('p', { class: 'error-text', role: 'alert', 'data-testid': testid, hidden: true });
}

/**
 * @param {HTMLElement} box
 * @param {string} text '' hides it
 */
function showError(box, text) {
  box.textContent = text;
  box.hidden = !text;
}

/** @param {string} text tells screen readers what just happened */
function announce(text) {
  const status = $('status');
  status.textContent = '';
  setTimeout(() => { status.textContent = text; }, 50);
}

/** @param {(Node | null)[]} nodes replace the page's content; nulls are skipped */
function setMain(...nodes) {
  $('main').replaceChildren(...nodes.filter((n) => n !== null));
}

function loadingView() {
  return h('p', { class: 'muted loading', role: 'status', text: t('staff.loading') });
}

// ---- Text ---------------------------------------------------------------------

/** @param {string} role */
function roleLabel(role) {
  return has(`role.${role}`) ? t(`role.${role}`) : role;
}

/** @param {string} kind */
function kindLabel(kind) {
  return has(`kind.${kind}`) ? t(`kind.${kind}`) : kind;
}

/** @param {string} code */
function languageLabel(code) {
  return PARTICIPANT_LANGUAGES.find((l) => l.code === code)?.name ?? code;
}

/** @param {string} s */
function stateLabel(s) {
  return has(`staff.state.${s}`) ? t(`staff.state.${s}`) : s;
}

/**
 * The text of an error for a person, in the page's language.
 * @param {unknown} err
 */
function errorText(err) {
  if (err instanceof ApiError) {
    const seconds = err.retryAfter || Number(/(\d+) second/.exec(err.message)?.[1] ?? 0) || 60;
    if (has(`staff.error.${err.code}`)) return t(`staff.error.${err.code}`, { seconds, detail: err.message });
    if (has(`error.${err.code}`)) return t(`error.${err.code}`);
    return err.message || t('error.unknown');
  }
  return t('error.unknown');
}

/**
 * Shows err in box, or goes to the login page when the login is over.
 * @param {unknown} err
 * @param {HTMLElement} [box] where to show it; the whole page when missing
 */
function handleError(err, box) {
  if (err instanceof ApiError && err.unauthenticated) {
    state.account = null;
    state.loginNote = err.code === 'login_expired' ? 'staff.error.login_expired' : 'staff.login.again';
    api.csrf = '';
    render();
    return;
  }
  if (!(err instanceof ApiError)) console.error(err);
  if (box) {
    showError(box, errorText(err));
  } else {
    setMain(h('section', { class: 'panel narrow' },
      h('h1', { text: t('error.title') }),
      h('p', { class: 'error-text', role: 'alert', 'data-testid': 'page-error', text: errorText(err) }),
      err instanceof ApiError ? h('p', { class: 'muted' }, `${t('error.code')}: `, h('code', { text: err.code })) : null,
      h('p', {}, h('a', { href: '/staff/', 'data-link': '', text: t('staff.back') }))));
  }
}

/**
 * @param {string | undefined} iso
 * @param {Intl.DateTimeFormatOptions} [options]
 * @returns {string} '' for a missing or bad time
 */
function formatTime(iso, options = {}) {
  if (!iso) return '';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '';
  try {
    return new Intl.DateTimeFormat(getLanguage(), {
      year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', ...options,
    }).format(date);
  } catch {
    return date.toISOString();
  }
}

/**
 * A start time with weekday and zone name, in zone (the viewer's when
 * missing).
 * @param {string} iso
 * @param {string} [zone]
 */
function formatSchedule(iso, zone) {
  return formatTime(iso, { weekday: 'short', timeZoneName: 'short', timeZone: zone });
}

// ---- Routing --------------------------------------------------------------------

/**
 * @typedef {{name: 'cases'} | {name: 'login'} | {name: 'newCase'} | {name: 'case', id: string} | {name: 'notFound'}} Route
 */

/**
 * @param {string} pathname
 * @returns {Route}
 */
export function parseRoute(pathname) {
  const path = pathname.replace(/\/+$/, '');
  if (path === '/staff' || path === '/staff/cases') return { name: 'cases' };
  if (path === '/staff/login') return { name: 'login' };
  if (path === '/staff/cases/new') return { name: 'newCase' };
  const m = /^\/staff\/cases\/([^/]+)$/.exec(path);
  if (m) {
    try {
      return { name: 'case', id: decodeURIComponent(m[1]) };
    } catch {
      return { name: 'notFound' };
    }
  }
  return { name: 'notFound' };
}

/**
 * Goes to url within the staff pages.
 * @param {string} url
 * @param {{replace?: boolean}} [options]
 */
function navigate(url, { replace = false } = {}) {
  if (replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  render();
  window.scrollTo(0, 0);
}

/** Follows clicks on same-origin links marked data-link without a reload. */
function interceptLinks() {
  document.addEventListener('click', (ev) => {
    if (ev.defaultPrevented || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
    const a = /** @type {Element} */ (ev.target).closest?.('a[data-link]');
    if (!(a instanceof HTMLAnchorElement) || a.origin !== location.origin) return;
    ev.preventDefault();
    navigate(a.pathname + a.search);
  });
  window.addEventListener('popstate', () => render());
}

/** Draws the page of the current URL. */
function render() {
  state.seq += 1;
  state.redraw = () => {};
  renderHeader();
  const route = parseRoute(location.pathname);
  $('main').focus({ preventScroll: true });
  if (!state.account) {
    showLogin();
    return;
  }
  if (route.name === 'login') {
    navigate('/staff/', { replace: true });
    return;
  }
  switch (route.name) {
    case 'cases': showCases(); break;
    case 'newCase': showNewCase(); break;
    case 'case': showCase(route.id); break;
    default:
      document.title = `${t('staff.notFound')} · 跨洋 Kuayang`;
      setMain(h('section', { class: 'panel narrow' },
        h('h1', { text: t('staff.notFound') }),
        h('p', {}, h('a', { href: '/staff/', 'data-link': '', text: t('staff.back') }))));
  }
}

// ---- Header and language ------------------------------------------------------

function renderHeader() {
  const a = state.account;
  $('account').hidden = !a;
  $('logout').hidden = !a;
  if (a) {
    $('account-name').textContent = a.name;
    $('account-role').textContent = roleLabel(a.role);
    $('account-org').textContent = t('staff.org', { id: a.org_id });
    $('account-org').title = a.org_id;
  }
}

function translateStatic() {
  document.documentElement.lang = getLanguage();
  for (const node of document.querySelectorAll('[data-i18n]')) {
    node.textContent = t(node.getAttribute('data-i18n') ?? '');
  }
  /** @type {HTMLSelectElement} */ ($('lang-select')).value = getLanguage();
}

function setupHeader() {
  const picker = /** @type {HTMLSelectElement} */ ($('lang-select'));
  for (const { code, name } of LANGUAGES) picker.append(h('option', { value: code, lang: code, text: name }));
  picker.value = getLanguage();
  picker.addEventListener('change', () => {
    setLanguage(picker.value);
    try { localStorage.setItem(LANG_KEY, getLanguage()); } catch { /* private mode */ }
    translateStatic();
    renderHeader();
    state.inviteForms.clear();
    state.redraw();
  });
  $('logout').addEventListener('click', async () => {
    const button = /** @type {HTMLButtonElement} */ ($('logout'));
    button.disabled = true;
    try {
      await api.logout();
    } catch (err) {
      if (!(err instanceof ApiError && err.unauthenticated)) console.error(err);
    } finally {
      button.disabled = false;
    }
    state.account = null;
    state.loginNote = 'staff.login.loggedOut';
    history.pushState(null, '', '/staff/');
    render();
  });
}

// ---- Login --------------------------------------------------------------------

function showLogin() {
  document.title = `${t('staff.login.title')} · 跨洋 Kuayang`;
  const email = h('input', { type: 'email', name: 'email', autocomplete: 'username', required: true, 'data-testid': 'login-email', maxlength: 254 });
  const password = h('input', { type: 'password', name: 'password', autocomplete: 'current-password', required: true, 'data-testid': 'login-password' });
  const submit = /** @type {HTMLButtonElement} */ (h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'login-submit', text: t('staff.login.submit') }));
  const error = errorBox('login-error');
  const note = state.loginNote ? h('p', { class: 'note', role: 'status', 'data-testid': 'login-note', text: t(state.loginNote) }) : null;
  const form = h('form', { class: 'panel narrow login', novalidate: false },
    h('h1', { text: t('staff.login.title') }),
    note,
    field(t('staff.login.email'), email),
    field(t('staff.login.password'), password),
    submit,
    error);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    showError(error, '');
    submit.disabled = true;
    let wait = 0;
    try {
      const { account } = await api.login(/** @type {HTMLInputElement} */ (email).value.trim(), /** @type {HTMLInputElement} */ (password).value);
      state.account = account;
      state.loginNote = '';
      render();
      return;
    } catch (err) {
      showError(error, errorText(err));
      if (err instanceof ApiError && err.code === 'rate_limited') wait = err.retryAfter || 60;
      /** @type {HTMLInputElement} */ (password).value = '';
      password.focus();
    }
    if (wait) setTimeout(() => { submit.disabled = false; }, wait * 1000);
    else submit.disabled = false;
  });
  setMain(form);
  email.focus();
}

// ---- My cases ---------------------------------------------------------------------

function showCases() {
  document.title = `${t('staff.cases.title')} · 跨洋 Kuayang`;
  const params = new URLSearchParams(location.search);
  const q = params.get('q') ?? '';
  const kind = KINDS.includes(params.get('kind') ?? '') ? params.get('kind') ?? '' : '';
  const page = Math.max(1, Number.parseInt(params.get('page') ?? '1', 10) || 1);
  const onlyMine = params.get('mine') === '1';

  const search = /** @type {HTMLInputElement} */ (h('input', { type: 'search', name: 'q', value: q, maxlength: 200, 'data-testid': 'case-search', placeholder: t('staff.cases.searchHint') }));
  const kindSelect = select({ name: 'kind', 'data-testid': 'case-kind-filter' },
    [['', t('staff.cases.allKinds')], ...KINDS.map((k) => /** @type {[string, string]} */ ([k, kindLabel(k)]))], kind);
  const mineBox = checkbox(t('staff.cases.mine'), { name: 'mine', 'data-testid': 'case-mine', checked: onlyMine });
  const mineInput = /** @type {HTMLInputElement} */ (mineBox.querySelector('input'));
  const seq = state.seq;
  const results = h('div', { class: 'results', 'aria-live': 'polite' }, loadingView());
  const form = h('form', { class: 'search', role: 'search' },
    field(t('staff.cases.search'), search),
    field(t('staff.cases.kind'), kindSelect),
    mineBox,
    h('button', { type: 'submit', class: 'btn', text: t('staff.cases.searchButton') }));

  /** Puts the search in the URL and loads it. */
  const apply = (/** @type {number} */ toPage) => {
    if (seq !== state.seq) return; // the page was left meanwhile
    const p = new URLSearchParams();
    if (search.value.trim()) p.set('q', search.value.trim());
    if (kindSelect.value) p.set('kind', kindSelect.value);
    if (mineInput.checked) p.set('mine', '1');
    if (toPage > 1) p.set('page', String(toPage));
    const qs = p.toString();
    history.replaceState(null, '', `/staff/${qs ? `?${qs}` : ''}`);
    load(toPage);
  };
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let debounce;
  search.addEventListener('input', () => {
    clearTimeout(debounce);
    debounce = setTimeout(() => apply(1), 300);
  });
  kindSelect.addEventListener('change', () => apply(1));
  mineInput.addEventListener('change', () => apply(1));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    clearTimeout(debounce);
    apply(1);
  });

  let loads = 0;
  /** @param {number} toPage */
  const load = async (toPage) => {
    const mine = ++loads;
    try {
      const answer = await api.searchCases({ q: search.value.trim(), kind: kindSelect.value, mine: mineInput.checked ? 1 : undefined, limit: PAGE_SIZE, offset: (toPage - 1) * PAGE_SIZE });
      if (mine !== loads || seq !== state.seq) return;
      results.replaceChildren(casesTable(answer, toPage, apply));
    } catch (err) {
      if (seq !== state.seq) return;
      const box = errorBox('page-error');
      results.replaceChildren(box);
      handleError(err, box);
    }
  };

  setMain(h('section', { class: 'panel' },
    h('div', { class: 'panel-head' },
      h('h1', { text: t('staff.cases.title') }),
      h('a', { class: 'btn btn-primary', href: '/staff/cases/new', 'data-link': '', 'data-testid': 'new-case', text: t('staff.cases.new') })),
    form,
    results));
  state.redraw = () => render();
  load(page);
}

/**
 * @param {{cases: Case[], total: number, limit: number, offset: number}} answer
 * @param {number} page
 * @param {(page: number) => void} go
 */
function casesTable(answer, page, go) {
  if (answer.cases.length === 0) {
    return h('p', { class: 'muted empty', 'data-testid': 'cases-empty', text: t('staff.cases.none') });
  }
  const rows = answer.cases.map((c) => {
    const href = `/staff/cases/${encodeURIComponent(c.id)}`;
    const row = h('tr', { 'data-testid': 'case-row', 'data-case-id': c.id, class: 'clickable' },
      h('td', {}, h('a', { href, 'data-link': '', text: c.number })),
      h('td', { text: c.title }),
      h('td', { text: kindLabel(c.kind) }),
      h('td', { class: 'nowrap' }, h('time', { datetime: c.created_at, text: formatTime(c.created_at) })));
    row.addEventListener('click', (ev) => {
      if (/** @type {Element} */ (ev.target).closest('a')) return; // the link navigates itself
      navigate(href);
    });
    return row;
  });
  const first = answer.offset + 1;
  const last = answer.offset + answer.cases.length;
  const pages = Math.max(1, Math.ceil(answer.total / PAGE_SIZE));
  return h('div', {},
    h('div', { class: 'table-wrap' },
      h('table', { class: 'table', 'data-testid': 'cases' },
        h('caption', { class: 'visually-hidden', text: t('staff.cases.title') }),
        h('thead', {}, h('tr', {},
          h('th', { scope: 'col', text: t('staff.case.number') }),
          h('th', { scope: 'col', text: t('staff.case.title') }),
          h('th', { scope: 'col', text: t('staff.case.kind') }),
          h('th', { scope: 'col', text: t('staff.case.created') }))),
        h('tbody', {}, rows))),
    h('nav', { class: 'pager', 'aria-label': t('staff.pager') },
      h('button', { type: 'button', class: 'btn', disabled: page <= 1, 'data-testid': 'page-prev', onclick: () => go(page - 1), text: t('staff.pager.prev') }),
      h('span', { class: 'muted', 'data-testid': 'page-info', text: t('staff.pager.info', { first, last, total: answer.total }) }),
      h('button', { type: 'button', class: 'btn', disabled: page >= pages, 'data-testid': 'page-next', onclick: () => go(page + 1), text: t('staff.pager.next') })));
}

// ---- New case ---------------------------------------------------------------------

function showNewCase() {
  document.title = `${t('staff.newCase.title')} · 跨洋 Kuayang`;
  const kind = select({ name: 'kind', required: true, 'data-testid': 'case-kind' },
    KINDS.map((k) => /** @type {[string, string]} */ ([k, kindLabel(k)])), 'mediation');
  const number = /** @type {HTMLInputElement} */ (h('input', { type: 'text', name: 'number', required: true, maxlength: 100, autocomplete: 'off', 'data-testid': 'case-number', placeholder: '(2026)浙0328民调123号' }));
  const title = /** @type {HTMLInputElement} */ (h('input', { type: 'text', name: 'title', required: true, maxlength: 300, autocomplete: 'off', 'data-testid': 'case-title' }));
  const submit = /** @type {HTMLButtonElement} */ (h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'case-submit', text: t('staff.newCase.submit') }));
  const error = errorBox();
  const form = h('form', { class: 'panel narrow' },
    h('nav', { class: 'crumbs' }, h('a', { href: '/staff/', 'data-link': '', text: `← ${t('staff.cases.title')}` })),
    h('h1', { text: t('staff.newCase.title') }),
    field(t('staff.case.kind'), kind),
    field(t('staff.case.number'), number, t('staff.newCase.numberHint')),
    field(t('staff.case.title'), title),
    h('div', { class: 'actions' },
      submit,
      h('a', { class: 'btn', href: '/staff/', 'data-link': '', text: t('staff.cancel') })),
    error);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    showError(error, '');
    submit.disabled = true;
    try {
      const c = await api.createCase({ kind: kind.value, number: number.value.trim(), title: title.value.trim() });
      navigate(`/staff/cases/${encodeURIComponent(c.id)}`);
    } catch (err) {
      handleError(err, error);
      submit.disabled = false;
      if (err instanceof ApiError && err.code === 'duplicate_number') number.focus();
    }
  });
  setMain(form);
  state.redraw = () => render();
  kind.focus();
}

// ---- Case page ----------------------------------------------------------------------

/** @param {string} id */
async function showCase(id) {
  const seq = state.seq;
  if (state.caseData?.case.id !== id) {
    state.newInvites.clear();
    state.inviteForms.clear();
    state.audit = [];
  }
  setMain(loadingView());
  try {
    const data = await api.getCase(id);
    if (seq !== state.seq) return;
    state.caseData = data;
    drawCase();
    state.redraw = drawCase;
    if (canAudit()) loadAudit(true);
  } catch (err) {
    if (seq === state.seq) handleError(err);
  }
}

function canAudit() {
  return state.account?.role === 'admin' || state.account?.role === 'clerk';
}

function drawCase() {
  const data = state.caseData;
  if (!data) return;
  const c = data.case;
  document.title = `${c.number} · 跨洋 Kuayang`;
  setMain(
    h('nav', { class: 'crumbs' }, h('a', { href: '/staff/', 'data-link': '', text: `← ${t('staff.cases.title')}` })),
    h('header', { class: 'panel case-header', 'data-testid': 'case', 'data-case-id': c.id },
      h('h1', { 'data-testid': 'case-heading', text: c.number }),
      h('p', { class: 'case-title', 'data-testid': 'case-title-line', text: c.title }),
      h('dl', { class: 'details' },
        h('dt', { text: t('staff.case.kind') }), h('dd', { text: kindLabel(c.kind) }),
        h('dt', { text: t('staff.case.status') }), h('dd', { text: has(`staff.status.${c.status}`) ? t(`staff.status.${c.status}`) : c.status }),
        h('dt', { text: t('staff.case.created') }), h('dd', {}, h('time', { datetime: c.created_at, text: formatTime(c.created_at) })))),
    h('section', { class: 'panel', 'aria-labelledby': 'sessions-heading' },
      h('h2', { id: 'sessions-heading', text: t('staff.sessions.title') }),
      h('div', { id: 'sessions', class: 'sessions' })),
    scheduleForm(c),
    canAudit() ? auditSection() : null,
  );
  drawSessions();
  if (canAudit()) drawAudit();
}

function drawSessions() {
  const list = document.getElementById('sessions');
  if (!list || !state.caseData) return;
  const sessions = [...state.caseData.sessions].sort((a, b) => a.scheduled_start.localeCompare(b.scheduled_start));
  if (sessions.length === 0) {
    list.replaceChildren(h('p', { class: 'muted empty', text: t('staff.sessions.none') }));
    return;
  }
  list.replaceChildren(...sessions.map(sessionBlock));
}

/**
 * Reloads one session and redraws its block.
 * @param {string} id
 */
async function refreshSession(id) {
  const { session } = await api.getSession(id);
  if (!state.caseData) return;
  const i = state.caseData.sessions.findIndex((s) => s.id === id);
  if (i >= 0) state.caseData.sessions[i] = session;
  else state.caseData.sessions.push(session);
  const old = document.querySelector(`[data-testid="session"][data-session-id="${CSS.escape(id)}"]`);
  if (old) old.replaceWith(sessionBlock(session));
  else drawSessions();
}

/**
 * The schedule of a session: in the viewer's zone and the organizer's.
 * @param {string} iso
 * @param {string} zone
 */
function scheduleLines(iso, zone) {
  const organizer = formatSchedule(iso, zone);
  return [
    h('span', { class: 'time-line', 'data-testid': 'time-local', text: t('time.local', { time: formatSchedule(iso) }) }),
    organizer ? h('span', { class: 'time-line muted', 'data-testid': 'time-organizer', text: t('time.organizer', { time: organizer, zone }) }) : null,
  ];
}

/** @param {Session} s */
function sessionBlock(s) {
  const rows = [
    [t('staff.session.scheduled'), scheduleLines(s.scheduled_start, s.time_zone)],
    s.scheduled_end ? [t('staff.session.ends'), scheduleLines(s.scheduled_end, s.time_zone)] : null,
    [t('staff.session.recording'), s.record ? t('staff.session.recorded') : t('staff.session.notRecorded')],
    [t('staff.session.waitingRoom'), s.waiting_room ? t('staff.on') : t('staff.off')],
    s.started_at ? [t('staff.session.started'), formatTime(s.started_at)] : null,
    s.ended_at ? [t('staff.session.ended'), formatTime(s.ended_at)] : null,
  ].filter((r) => r !== null);
  const headingId = newId('session');
  return h('article', { class: 'session-card', 'data-testid': 'session', 'data-session-id': s.id, 'aria-labelledby': headingId },
    h('header', { class: 'session-head' },
      h('h3', { id: headingId, 'data-testid': 'session-name', text: s.title }),
      h('span', { class: `badge badge-${s.state}`, 'data-testid': 'session-state', text: stateLabel(s.state) }),
      s.record ? h('span', { class: 'badge badge-rec', text: t('staff.session.recorded') }) : null),
    h('dl', { class: 'details' },
      rows.map((r) => [h('dt', { text: /** @type {string} */ (r?.[0]) }), h('dd', {}, r?.[1] ?? '')])),
    h('h4', { text: t('staff.participants.title') }),
    participantsTable(s),
    s.record && s.state !== 'scheduled' ? recordingBox(s) : null,
    newInvitesBox(s),
    s.state === 'ended' ? null : inviteForm(s));
}

/**
 * The session's recording: its state, who was recorded for how long, and
 * for clerks and admins the evidence bundle once sealed. Loads by itself.
 * @param {Session} s
 */
function recordingBox(s) {
  const box = h('section', { class: 'recording-box', 'data-testid': 'recording' }, h('h4', { text: t('staff.recording.title') }), loadingView());
  api.recording(s.id).then((rec) => {
    const mayExport = ['clerk', 'admin'].includes(state.account?.role ?? '');
    const parts = rec.participants.map((/** @type {any} */ p) => h('li', { text: t('staff.recording.participant', {
      name: p.name, minutes: (p.duration_seconds / 60).toFixed(1), segments: p.segments.length }) }));
    box.replaceChildren(
      h('h4', { text: t('staff.recording.title') }),
      h('p', {}, h('span', { class: `badge badge-rec-${rec.state}`, 'data-testid': 'recording-state', 'data-state': rec.state, text: t(`staff.recording.${rec.state}`) }),
        rec.sealed_at ? h('span', { class: 'muted', text: ` ${t('staff.recording.sealedAt', { time: formatTime(rec.sealed_at) })}` }) : null),
      rec.key_id ? h('p', { class: 'muted mono', text: `${t('staff.recording.key')} ${rec.key_id} · SHA-256 ${rec.manifest_sha256.slice(0, 16)}…` }) : null,
      parts.length ? h('ul', { class: 'recorded' }, parts) : null,
      rec.state === 'sealed' && mayExport
        ? h('a', { class: 'btn', href: api.bundleURL(s.id), download: '', 'data-testid': 'bundle-download', text: t('staff.recording.bundle') })
        : null);
  }).catch((err) => {
    if (err instanceof ApiError && err.code === 'no_recording') {
      box.replaceChildren(h('h4', { text: t('staff.recording.title') }), h('p', { class: 'muted', text: t('staff.recording.none') }));
      return;
    }
    const e = errorBox('recording-error');
    box.replaceChildren(h('h4', { text: t('staff.recording.title') }), e);
    handleError(err, e);
  });
  return box;
}

/** @param {Session} s */
function participantsTable(s) {
  if (s.participants.length === 0) return h('p', { class: 'muted empty', text: t('staff.participants.none') });
  const now = Date.now();
  const rows = s.participants.map((p) => h('tr', { 'data-testid': 'participant', 'data-participant-id': p.id },
    h('td', {}, h('span', { class: 'name', 'data-testid': 'participant-name', text: p.name }), p.email ? h('span', { class: 'sub muted', text: p.email }) : null),
    h('td', { text: roleLabel(p.role) }),
    h('td', { lang: p.language, text: languageLabel(p.language) }),
    h('td', { class: 'nowrap', text: formatTime(p.consent_at) || '—' }),
    h('td', { class: 'nowrap', text: formatTime(p.joined_at) || '—' }),
    h('td', { class: 'nowrap', text: formatTime(p.left_at) || '—' }),
    h('td', {}, p.invites.length === 0 ? '—' : h('ul', { class: 'invites' },
      [...p.invites].sort((a, b) => b.created_at.localeCompare(a.created_at)).map((inv) => inviteItem(s, p, inv, now))))));
  return h('div', { class: 'table-wrap' },
    h('table', { class: 'table' },
      h('thead', {}, h('tr', {},
        [t('staff.participant.name'), t('staff.participant.role'), t('staff.participant.language'), t('staff.participant.consent'),
          t('staff.participant.joined'), t('staff.participant.left'), t('staff.participant.invites')].map((label) => h('th', { scope: 'col', text: label })))),
      h('tbody', {}, rows)));
}

/**
 * One invite of a participant: its state and a Revoke button. The button
 * asks for a second click before it revokes.
 * @param {Session} s
 * @param {Participant} participant
 * @param {InviteInfo} inv
 * @param {number} now
 */
function inviteItem(s, participant, inv, now) {
  const expired = new Date(inv.expires_at).getTime() <= now;
  let status;
  if (inv.revoked_at) status = t('staff.invite.revokedAt', { time: formatTime(inv.revoked_at) });
  else if (expired) status = t('staff.invite.expiredAt', { time: formatTime(inv.expires_at) });
  else status = t('staff.invite.validUntil', { time: formatTime(inv.expires_at) });
  const stateName = inv.revoked_at ? 'revoked' : expired ? 'expired' : 'active';
  const item = h('li', { 'data-testid': 'invite', 'data-invite-id': inv.id, 'data-state': stateName },
    h('span', { class: `invite-status invite-${stateName}`, 'data-testid': 'invite-status', text: status }));
  if (stateName !== 'active' || s.state === 'ended') return item;
  const error = errorBox();
  const label = h('span', { text: t('staff.invite.revoke') });
  const button = /** @type {HTMLButtonElement} */ (h('button', { type: 'button', class: 'btn btn-small btn-danger-outline', 'data-testid': 'invite-revoke', 'data-invite-id': inv.id },
    label, h('span', { class: 'visually-hidden', text: ` (${participant.name})` })));
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let timer;
  const disarm = () => {
    delete button.dataset.confirm;
    label.textContent = t('staff.invite.revoke');
  };
  button.addEventListener('click', async () => {
    if (button.dataset.confirm !== '1') {
      button.dataset.confirm = '1';
      label.textContent = t('staff.invite.revokeConfirm');
      timer = setTimeout(disarm, 8000);
      return;
    }
    clearTimeout(timer);
    button.disabled = true;
    showError(error, '');
    try {
      await api.revokeInvite(inv.id);
      announce(t('staff.invite.revokedNotice'));
      await refreshSession(s.id);
    } catch (err) {
      handleError(err, error);
      button.disabled = false;
      disarm();
    }
  });
  item.append(' ', button, error);
  return item;
}

/**
 * The links created on this visit, each shown with a Copy button. They are
 * gone after leaving the page: the server keeps only their hashes.
 * @param {Session} s
 */
function newInvitesBox(s) {
  const created = state.newInvites.get(s.id);
  if (!created?.length) return null;
  return h('div', { class: 'new-invites', 'data-testid': 'new-invites' },
    created.map((inv) => {
      const url = h('code', { class: 'invite-url', 'data-testid': 'invite-url', text: inv.url });
      const copied = h('span', { class: 'copied', role: 'status' });
      const copy = /** @type {HTMLButtonElement} */ (h('button', { type: 'button', class: 'btn btn-primary btn-small', 'data-testid': 'invite-copy', text: t('staff.invite.copy') }));
      copy.addEventListener('click', async () => {
        try {
          if (!navigator.clipboard?.writeText) throw new Error('no clipboard');
          await navigator.clipboard.writeText(inv.url);
          copied.textContent = t('staff.invite.copied');
        } catch {
          // Plain http or no permission: select it for Ctrl+C instead.
          const range = document.createRange();
          range.selectNodeContents(url);
          const sel = window.getSelection();
          sel?.removeAllRanges();
          sel?.addRange(range);
          copied.textContent = t('staff.invite.copyManually');
        }
        setTimeout(() => { copied.textContent = ''; }, 4000);
      });
      return h('div', { class: 'new-invite' },
        h('p', { class: 'new-invite-title', text: t('staff.invite.linkFor', { name: inv.name }) }),
        h('div', { class: 'copy-row' }, url, copy, copied),
        h('p', { class: 'note', text: t('staff.invite.once', { time: formatTime(inv.expires_at) }) }));
    }));
}

/**
 * The form that invites someone to session s. It is kept across redraws of
 * the session so that what was typed survives.
 * @param {Session} s
 */
function inviteForm(s) {
  const kept = state.inviteForms.get(s.id);
  if (kept) return kept;
  const name = /** @type {HTMLInputElement} */ (h('input', { type: 'text', name: 'name', required: true, maxlength: 100, autocomplete: 'off', 'data-testid': 'invite-name' }));
  const role = select({ name: 'role', 'data-testid': 'invite-role' }, INVITE_ROLES.map((r) => /** @type {[string, string]} */ ([r, roleLabel(r)])), 'party');
  const language = select({ name: 'language', 'data-testid': 'invite-language' }, PARTICIPANT_LANGUAGES.map((l) => /** @type {[string, string]} */ ([l.code, l.name])), 'zh-CN');
  const email = /** @type {HTMLInputElement} */ (h('input', { type: 'email', name: 'email', maxlength: 254, autocomplete: 'off', 'data-testid': 'invite-email' }));
  const submit = /** @type {HTMLButtonElement} */ (h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'invite-submit', text: t('staff.invite.submit') }));
  const error = errorBox();
  const form = /** @type {HTMLFormElement} */ (h('form', { class: 'invite-form' },
    h('fieldset', {},
      h('legend', { text: t('staff.invite.title') }),
      h('div', { class: 'form-row' },
        field(t('staff.participant.name'), name),
        field(t('staff.participant.role'), role),
        field(t('staff.participant.language'), language, t('staff.invite.languageHint')),
        field(t('staff.invite.email'), email)),
      h('div', { class: 'actions' }, submit),
      error)));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    showError(error, '');
    submit.disabled = true;
    try {
      /** @type {{name: string, role: string, language: string, email?: string}} */
      const body = { name: name.value.trim(), role: role.value, language: language.value };
      if (email.value.trim()) body.email = email.value.trim();
      const res = await api.createInvite(s.id, body);
      const list = state.newInvites.get(s.id) ?? [];
      list.push({ name: body.name, url: res.url, expires_at: res.expires_at });
      state.newInvites.set(s.id, list);
      form.reset();
      role.value = 'party';
      language.value = 'zh-CN';
      await refreshSession(s.id);
      announce(t('staff.invite.created', { name: body.name }));
      const copies = document.querySelectorAll(`[data-session-id="${CSS.escape(s.id)}"] [data-testid="invite-copy"]`);
      /** @type {HTMLElement | undefined} */ (copies[copies.length - 1])?.focus();
    } catch (err) {
      handleError(err, error);
    } finally {
      submit.disabled = false;
    }
  });
  state.inviteForms.set(s.id, form);
  return form;
}

/**
 * The form that schedules a session of case c. The start is a wall time in
 * the chosen zone, converted to an instant here (tz.js).
 * @param {Case} c
 */
function scheduleForm(c) {
  const here = browserZone();
  const zones = [...COMMON_ZONES];
  if (!zones.includes(/** @type {any} */ (here))) zones.push(/** @type {any} */ (here));
  const now = Date.now();
  const title = /** @type {HTMLInputElement} */ (h('input', { type: 'text', name: 'title', required: true, maxlength: 200, autocomplete: 'off', 'data-testid': 'session-title' }));
  const start = /** @type {HTMLInputElement} */ (h('input', { type: 'datetime-local', name: 'start', required: true, step: 60, 'data-testid': 'session-start' }));
  const zone = select({ name: 'zone', 'data-testid': 'session-zone' },
    zones.map((z) => /** @type {[string, string]} */ ([z, `${z} (${formatOffset(zoneOffset(z, now))})${z === here ? ` · ${t('staff.zone.yours')}` : ''}`])),
    DEFAULT_ZONE);
  const preview = h('p', { class: 'hint preview', 'data-testid': 'session-preview', 'aria-live': 'polite' });
  const mediation = c.kind === 'mediation';
  const record = checkbox(t('staff.session.record'), { name: 'record', checked: true, disabled: !mediation, 'data-testid': 'session-record' });
  const waiting = checkbox(t('staff.session.waitingRoomOn'), { name: 'waiting', 'data-testid': 'session-waiting' });
  const submit = /** @type {HTMLButtonElement} */ (h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'session-submit', text: t('staff.session.submit') }));
  const error = errorBox();
  const recordInput = /** @type {HTMLInputElement} */ (record.querySelector('input'));
  const waitingInput = /** @type {HTMLInputElement} */ (waiting.querySelector('input'));

  const updatePreview = () => {
    preview.textContent = '';
    if (!start.value) return;
    const conv = wallTimeToInstant(start.value, zone.value);
    if (!conv) {
      preview.textContent = t('staff.session.badTime');
      return;
    }
    const iso = conv.date.toISOString();
    const parts = [t('staff.session.preview', { time: formatSchedule(iso), zone: here })];
    if (conv.kind === 'gap') parts.push(t('staff.session.gap', { time: formatSchedule(iso, zone.value) }));
    if (conv.kind === 'overlap') parts.push(t('staff.session.overlap', { time: formatSchedule(iso, zone.value) }));
    if (conv.date.getTime() < Date.now()) parts.push(t('staff.session.past'));
    preview.textContent = parts.join(' ');
  };
  start.addEventListener('input', updatePreview);
  start.addEventListener('change', updatePreview);
  zone.addEventListener('change', updatePreview);

  const form = h('form', { class: 'panel schedule-form', 'aria-labelledby': 'schedule-heading' },
    h('h2', { id: 'schedule-heading', text: t('staff.session.new') }),
    field(t('staff.session.title'), title),
    h('div', { class: 'form-row' },
      field(t('staff.session.start'), start),
      field(t('staff.session.zone'), zone, t('staff.session.zoneHint'))),
    preview,
    h('div', { class: 'checks' }, record, waiting),
    mediation ? null : h('p', { class: 'hint', text: t('staff.session.alwaysRecorded') }),
    h('div', { class: 'actions' }, submit),
    error);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    showError(error, '');
    const conv = wallTimeToInstant(start.value, zone.value);
    if (!conv) {
      showError(error, t('staff.session.badTime'));
      start.focus();
      return;
    }
    submit.disabled = true;
    try {
      const s = await api.createSession(c.id, {
        title: title.value.trim(),
        scheduled_start: toRFC3339(conv.date),
        time_zone: zone.value,
        record: recordInput.checked,
        waiting_room: waitingInput.checked,
      });
      state.caseData?.sessions.push(s);
      drawSessions();
      /** @type {HTMLFormElement} */ (form).reset();
      zone.value = DEFAULT_ZONE;
      recordInput.checked = true;
      preview.textContent = '';
      announce(t('staff.session.created', { title: s.title }));
      document.querySelector(`[data-testid="session"][data-session-id="${CSS.escape(s.id)}"]`)?.scrollIntoView({ block: 'nearest' });
    } catch (err) {
      handleError(err, error);
    } finally {
      submit.disabled = false;
    }
  });
  return form;
}

// ---- Audit ---------------------------------------------------------------------------

function auditSection() {
  const refresh = h('button', { type: 'button', class: 'btn btn-small', 'data-testid': 'audit-refresh', text: t('staff.audit.refresh'), onclick: () => loadAudit(true) });
  return h('section', { class: 'panel', 'aria-labelledby': 'audit-heading', 'data-testid': 'audit' },
    h('div', { class: 'panel-head' }, h('h2', { id: 'audit-heading', text: t('staff.audit.title') }), refresh),
    h('div', { id: 'audit-body' }, loadingView()));
}

/**
 * Loads the case's audit log, from the start or after what is shown.
 * @param {boolean} reset
 */
async function loadAudit(reset) {
  const data = state.caseData;
  if (!data) return;
  const seq = state.seq;
  const after = reset || state.audit.length === 0 ? 0 : state.audit[state.audit.length - 1].seq;
  try {
    const { entries } = await api.audit({ case_id: data.case.id, after_seq: after || undefined, limit: AUDIT_PAGE });
    if (seq !== state.seq || state.caseData !== data) return;
    state.audit = reset ? entries : [...state.audit, ...entries];
    state.auditMore = entries.length === AUDIT_PAGE;
    drawAudit();
  } catch (err) {
    if (seq !== state.seq) return;
    const body = document.getElementById('audit-body');
    const box = errorBox('audit-error');
    body?.replaceChildren(box);
    handleError(err, box);
  }
}

/**
 * Who did it, as far as the page can tell: the viewer by name, a
 * participant of the case's sessions by name, else the kind and a short id.
 * @param {AuditEntry} e
 */
function actorText(e) {
  if (e.actor_kind === 'account' && e.actor_id === state.account?.id) return state.account.name;
  if (e.actor_kind === 'participant') {
    for (const s of state.caseData?.sessions ?? []) {
      const p = s.participants.find((x) => x.id === e.actor_id);
      if (p) return `${p.name} (${roleLabel(p.role)})`;
    }
  }
  const kind = has(`staff.actor.${e.actor_kind}`) ? t(`staff.actor.${e.actor_kind}`) : e.actor_kind;
  return e.actor_id ? `${kind} ${e.actor_id.slice(0, 8)}` : kind;
}

/**
 * The detail of an entry as "key: value" pairs.
 * @param {string | undefined} detail
 */
function detailText(detail) {
  if (!detail) return '';
  try {
    const obj = JSON.parse(detail);
    if (!obj || typeof obj !== 'object') return String(obj);
    return Object.entries(obj)
      .filter(([k]) => !k.endsWith('_id'))
      .map(([k, v]) => `${k}: ${typeof v === 'string' ? v : JSON.stringify(v)}`)
      .join(' · ');
  } catch {
    return detail;
  }
}

function drawAudit() {
  const body = document.getElementById('audit-body');
  if (!body) return;
  if (state.audit.length === 0) {
    body.replaceChildren(h('p', { class: 'muted empty', text: t('staff.audit.none') }));
    return;
  }
  const rows = state.audit.map((e) => h('tr', { 'data-testid': 'audit-row', 'data-seq': String(e.seq), 'data-action': e.action },
    h('td', { class: 'nowrap' }, h('time', { datetime: e.time, text: formatTime(e.time, { second: '2-digit' }) })),
    h('td', {}, h('span', { text: has(`staff.action.${e.action}`) ? t(`staff.action.${e.action}`) : e.action }), ' ', h('code', { class: 'sub muted', text: e.action })),
    h('td', { title: e.actor_id, text: actorText(e) }),
    h('td', { class: 'nowrap' }, h('code', { text: e.ip || '—' })),
    h('td', { class: 'detail', text: detailText(e.detail) })));
  body.replaceChildren(...[
    h('div', { class: 'table-wrap' },
      h('table', { class: 'table audit' },
        h('thead', {}, h('tr', {},
          [t('staff.audit.time'), t('staff.audit.action'), t('staff.audit.actor'), t('staff.audit.ip'), t('staff.audit.detail')].map((label) => h('th', { scope: 'col', text: label })))),
        h('tbody', {}, rows))),
    state.auditMore ? h('button', { type: 'button', class: 'btn', 'data-testid': 'audit-more', text: t('staff.audit.more'), onclick: () => loadAudit(false) }) : null,
  ].filter((x) => x !== null));
}

// ---- Start ------------------------------------------------------------------------------

async function start() {
  let saved = '';
  try { saved = localStorage.getItem(LANG_KEY) ?? ''; } catch { /* private mode */ }
  setLanguage(detectLanguage({ search: location.search, participantLanguage: saved, browserLanguages: navigator.languages ?? [navigator.language] }));
  setupHeader();
  translateStatic();
  interceptLinks();
  setMain(loadingView());
  try {
    const me = await api.me();
    state.account = me.account;
  } catch (err) {
    if (!(err instanceof ApiError && err.unauthenticated)) {
      handleError(err);
      return;
    }
  }
  render();
}

start();
