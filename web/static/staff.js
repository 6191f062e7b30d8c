// @ts-check
/**
 * The staff pages of Kuayang: login, my cases, new case, and the case page
 * with its sessions, participants, invites and audit log. One document
 * (static/staff.html) served for every path under /staff/; this module
 * routes with history.pushState and draws the header and the login page.
 * Every page is drawn with DOM calls only (the CSP forbids inline code,
 * and no text is ever parsed as HTML):
 *
 * - staff-cases.js     the case list and the new case page
 * - staff-case.js      the case page, its schedule form and audit log
 * - staff-sessions.js  the sessions of a case, their participants, invites and recording
 * - staff-review.js    the review page of a recorded session: timeline
 *                      (timeline.js), synchronized player (player.js,
 *                      playclock.js), integrity check, export, access log
 * - staff-identity.js  a session's identity verification and the identity
 *                      policy page (/staff/identity)
 * - staff-common.js    the shared API client, state, texts and navigation
 * - staff-dom.js       DOM helpers
 *
 * The REST calls are in api.js, time zone arithmetic in tz.js, the strings
 * in i18n.js and staff-strings.js.
 *
 * For tests: window.kuayangStaff = {api, state, player}, player being the
 * review page's SyncPlayer (or null).
 *
 * @module staff
 */

import { ApiError } from './api.js';
import { LANGUAGES, addStrings, detectLanguage, getLanguage, setLanguage, t } from './i18n.js';
import { STAFF_STRINGS } from './staff-strings.js';
import { $, errorBox, field, h, loadingView, setMain, showError } from './staff-dom.js';
import { api, errorText, handleError, navigate, roleLabel, setRenderer, state } from './staff-common.js';
import { showCases, showNewCase } from './staff-cases.js';
import { showCase } from './staff-case.js';
import { currentPlayer, showReview } from './staff-review.js';
import { showHours } from './staff-hours.js';
import { showIdentityPolicy } from './staff-identity.js';

addStrings(STAFF_STRINGS);

const LANG_KEY = 'kuayang.staff.lang';

/** @type {any} */ (window).kuayangStaff = { api, state, get player() { return currentPlayer(); } };
setRenderer(render);

// ---- Routing --------------------------------------------------------------------

/**
 * @typedef {{name: 'cases'} | {name: 'login'} | {name: 'newCase'} | {name: 'hours'} | {name: 'identity'} | {name: 'case', id: string}
 *   | {name: 'review', id: string} | {name: 'notFound'}} Route
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
  if (path === '/staff/hours') return { name: 'hours' };
  if (path === '/staff/identity') return { name: 'identity' };
  const m = /^\/staff\/cases\/([^/]+)$/.exec(path);
  const r = /^\/staff\/sessions\/([^/]+)\/review$/.exec(path);
  try {
    if (m) return { name: 'case', id: decodeURIComponent(m[1]) };
    if (r) return { name: 'review', id: decodeURIComponent(r[1]) };
  } catch {
    return { name: 'notFound' };
  }
  return { name: 'notFound' };
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
  const cleanup = state.cleanup;
  state.cleanup = () => {};
  cleanup();
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
    case 'hours': showHours(); break;
    case 'identity': showIdentityPolicy(); break;
    case 'case': showCase(route.id); break;
    case 'review': showReview(route.id); break;
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
    $('account-org').textContent = a.org_name || t('staff.org', { id: a.org_id });
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
