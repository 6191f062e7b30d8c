// @ts-check
/**
 * The staff pages of the case list (search, filters, pages) and of a new
 * case.
 *
 * @module staff-cases
 */

import { ApiError } from './api.js';
import { t } from './i18n.js';
import { checkbox, errorBox, field, h, loadingView, select, setMain, showError } from './staff-dom.js';
import { KINDS, api, formatTime, handleError, kindLabel, navigate, render, state } from './staff-common.js';

/** @typedef {import('./api.js').Case} Case */

const PAGE_SIZE = 20;

// ---- My cases ---------------------------------------------------------------------

export function showCases() {
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

export function showNewCase() {
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
