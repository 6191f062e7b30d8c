// @ts-check
/**
 * The staff pages of the case list (search, filters, sorting, pages, all
 * kept in the URL query so that Back, Forward and a reload show the same
 * search) and of a new case.
 *
 * @module staff-cases
 */

import { ApiError } from './api.js';
import { t } from './i18n.js';
import { browserZone, parseWallTime, toRFC3339, wallTimeToInstant } from './tz.js';
import { checkbox, errorBox, field, h, loadingView, select, setMain, showError } from './staff-dom.js';
import { KINDS, api, formatSchedule, handleError, kindLabel, navigate, render, roleLabel, state } from './staff-common.js';

/** @typedef {import('./api.js').Case} Case */
/** @typedef {import('./api.js').Presider} Presider */

const PAGE_SIZE = 20;

export const SORTS = ['created', 'number', 'title', 'last_session'];
export const ORDERS = ['desc', 'asc'];

/**
 * @typedef {object} Filters the search of the case list, as kept in the URL
 * @property {string} q
 * @property {string} kind
 * @property {string} from YYYY-MM-DD, a day in the viewer's zone, or ''
 * @property {string} to YYYY-MM-DD, or ''
 * @property {string} presider an account id, or ''
 * @property {string} sort one of SORTS
 * @property {string} order one of ORDERS
 * @property {boolean} mine
 * @property {number} page from 1
 */

const DAY = /^\d{4}-\d{2}-\d{2}$/;

/**
 * The filters of a URL query; anything unknown or malformed is left out.
 * @param {string} search location.search
 * @returns {Filters}
 */
export function readFilters(search) {
  const p = new URLSearchParams(search);
  const get = (/** @type {string} */ k) => (p.get(k) ?? '').trim();
  const day = (/** @type {string} */ k) => (DAY.test(get(k)) && parseWallTime(`${get(k)}T00:00`) !== null ? get(k) : '');
  return {
    q: get('q').slice(0, 200),
    kind: KINDS.includes(get('kind')) ? get('kind') : '',
    from: day('from'),
    to: day('to'),
    presider: get('presider').slice(0, 100),
    sort: SORTS.includes(get('sort')) ? get('sort') : 'created',
    order: ORDERS.includes(get('order')) ? get('order') : 'desc',
    mine: get('mine') === '1',
    page: Math.max(1, Number.parseInt(get('page') || '1', 10) || 1),
  };
}

/**
 * The URL query of filters: only what differs from the defaults, in a
 * fixed order. '' for none.
 * @param {Filters} f
 */
export function filtersQuery(f) {
  const p = new URLSearchParams();
  if (f.q) p.set('q', f.q);
  if (f.kind) p.set('kind', f.kind);
  if (f.from) p.set('from', f.from);
  if (f.to) p.set('to', f.to);
  if (f.presider) p.set('presider', f.presider);
  if (f.sort !== 'created') p.set('sort', f.sort);
  if (f.order !== 'desc') p.set('order', f.order);
  if (f.mine) p.set('mine', '1');
  if (f.page > 1) p.set('page', String(f.page));
  const s = p.toString();
  return s ? `?${s}` : '';
}

/**
 * The API parameters of filters. The days are the viewer's: from is the
 * start of its day in zone, to the last second of its day, as RFC 3339.
 * @param {Filters} f
 * @param {string} zone the viewer's zone
 * @param {number} [pageSize]
 * @returns {{params: Record<string, string | number | undefined>} | {error: string}} error is an i18n key
 */
export function searchParams(f, zone, pageSize = PAGE_SIZE) {
  if (f.from && f.to && f.from > f.to) return { error: 'staff.search.badRange' };
  const start = (/** @type {string} */ d) => wallTimeToInstant(`${d}T00:00`, zone)?.date ?? null;
  let from;
  let to;
  if (f.from) {
    const d = start(f.from);
    if (!d) return { error: 'staff.search.badDate' };
    from = toRFC3339(d);
  }
  if (f.to) {
    const next = new Date(`${f.to}T00:00:00Z`);
    next.setUTCDate(next.getUTCDate() + 1);
    const d = start(next.toISOString().slice(0, 10));
    if (!d) return { error: 'staff.search.badDate' };
    to = toRFC3339(new Date(d.getTime() - 1000));
  }
  return {
    params: {
      q: f.q || undefined, kind: f.kind || undefined, from, to, presider: f.presider || undefined,
      sort: f.sort === 'created' ? undefined : f.sort, order: f.order === 'desc' ? undefined : f.order,
      mine: f.mine ? 1 : undefined, limit: pageSize, offset: (f.page - 1) * pageSize,
    },
  };
}

// ---- The case list ----------------------------------------------------------------

/** @type {Presider[] | null} the presiders of the organization presidersOrg, once loaded */
let presiders = null;
let presidersOrg = '';

export function showCases() {
  document.title = `${t('staff.cases.title')} · 跨洋 Kuayang`;
  const f = readFilters(location.search);
  const zone = browserZone();
  const org = state.account?.org_id ?? '';
  if (presidersOrg !== org) presiders = null;

  const search = /** @type {HTMLInputElement} */ (h('input', { type: 'search', name: 'q', value: f.q, maxlength: 200, 'data-testid': 'case-search', placeholder: t('staff.cases.searchHint') }));
  const kindSelect = select({ name: 'kind', 'data-testid': 'case-kind-filter' },
    [['', t('staff.cases.allKinds')], ...KINDS.map((k) => /** @type {[string, string]} */ ([k, kindLabel(k)]))], f.kind);
  const fromInput = /** @type {HTMLInputElement} */ (h('input', { type: 'date', name: 'from', value: f.from, 'data-testid': 'case-from' }));
  const toInput = /** @type {HTMLInputElement} */ (h('input', { type: 'date', name: 'to', value: f.to, 'data-testid': 'case-to' }));
  const presiderSelect = select({ name: 'presider', 'data-testid': 'case-presider' }, presiderOptions(f.presider), f.presider);
  const presiderField = field(t('staff.search.presider'), presiderSelect);
  const sortSelect = select({ name: 'sort', 'data-testid': 'case-sort' },
    SORTS.map((k) => /** @type {[string, string]} */ ([k, t(`staff.search.sort.${k}`)])), f.sort);
  const orderSelect = select({ name: 'order', 'data-testid': 'case-order' },
    ORDERS.map((k) => /** @type {[string, string]} */ ([k, t(`staff.search.order.${k}`)])), f.order);
  const mineBox = checkbox(t('staff.cases.mine'), { name: 'mine', 'data-testid': 'case-mine', checked: f.mine });
  const mineInput = /** @type {HTMLInputElement} */ (mineBox.querySelector('input'));
  const seq = state.seq;
  const results = h('div', { class: 'results', 'aria-live': 'polite', 'data-testid': 'case-results' }, loadingView());
  const formError = errorBox('search-error');
  const filtered = Boolean(filtersQuery({ ...f, page: 1 }));
  const form = h('form', { class: 'search', role: 'search', 'aria-label': t('staff.search.label') },
    h('div', { class: 'search-main' },
      field(t('staff.cases.search'), search),
      h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'case-search-submit', text: t('staff.cases.searchButton') })),
    h('div', { class: 'form-row search-filters' },
      field(t('staff.cases.kind'), kindSelect),
      field(t('staff.search.from'), fromInput, t('staff.search.dayHint', { zone })),
      field(t('staff.search.to'), toInput),
      presiderField,
      field(t('staff.search.sort'), sortSelect),
      field(t('staff.search.order'), orderSelect)),
    h('div', { class: 'actions' },
      mineBox,
      filtered ? h('a', { href: '/staff/', 'data-link': '', 'data-testid': 'case-clear', text: t('staff.search.clear') }) : null),
    formError);

  /** @returns {Filters} */
  const current = () => ({
    q: search.value.trim(), kind: kindSelect.value, from: fromInput.value, to: toInput.value, presider: presiderSelect.value,
    sort: sortSelect.value, order: orderSelect.value, mine: mineInput.checked, page: 1,
  });

  let typing = false;
  /**
   * Puts the search in the URL (a new history entry, so that Back returns
   * to the previous search; one entry per burst of typing) and loads it.
   * @param {number} page
   * @param {{typed?: boolean}} [options]
   */
  const apply = (page, { typed = false } = {}) => {
    if (seq !== state.seq) return; // the page was left meanwhile
    const next = { ...current(), page };
    const qs = filtersQuery(next);
    if (qs !== location.search) {
      const url = `/staff/${qs}`;
      if (typed && typing) history.replaceState(null, '', url);
      else history.pushState(null, '', url);
    }
    typing = typed;
    load(next);
  };
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  let debounce;
  search.addEventListener('input', () => {
    clearTimeout(debounce);
    debounce = setTimeout(() => apply(1, { typed: true }), 300);
  });
  for (const control of [kindSelect, fromInput, toInput, presiderSelect, sortSelect, orderSelect, mineInput]) {
    control.addEventListener('change', () => apply(1));
  }
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    clearTimeout(debounce);
    apply(1);
  });

  let loads = 0;
  /** @param {Filters} filters */
  const load = async (filters) => {
    const mine = ++loads;
    showError(formError, '');
    const built = searchParams(filters, zone);
    if ('error' in built) {
      showError(formError, t(built.error));
      results.replaceChildren();
      return;
    }
    try {
      const answer = await api.searchCases(built.params);
      if (mine !== loads || seq !== state.seq) return;
      results.replaceChildren(casesTable(answer, filters, (page) => apply(page)));
    } catch (err) {
      if (seq !== state.seq) return;
      const box = errorBox('page-error');
      results.replaceChildren(box);
      handleError(err, box);
    }
  };

  if (presiders === null) {
    api.presiders().then((answer) => {
      presiders = answer.presiders ?? [];
      presidersOrg = org;
      if (seq !== state.seq) return;
      const value = presiderSelect.value;
      presiderSelect.replaceChildren(...presiderOptions(value).map(([v, label]) => h('option', { value: v, text: label })));
      presiderSelect.value = value;
    }).catch(() => {
      // An older node without the list: search without it.
      if (seq === state.seq && !f.presider) presiderField.hidden = true;
    });
  }

  setMain(h('section', { class: 'panel' },
    h('div', { class: 'panel-head' },
      h('h1', { text: t('staff.cases.title') }),
      h('a', { class: 'btn', href: '/staff/hours', 'data-link': '', 'data-testid': 'hours-link', text: t('staff.hours.link') }),
      h('a', { class: 'btn', href: '/staff/identity', 'data-link': '', 'data-testid': 'identity-policy-link', text: t('staff.identity.link') }),
      h('a', { class: 'btn btn-primary', href: '/staff/cases/new', 'data-link': '', 'data-testid': 'new-case', text: t('staff.cases.new') })),
    form,
    results));
  state.redraw = () => render();
  load(f);
}

/**
 * The options of the presider filter: anyone, then every presider; an id
 * from the URL that is not (yet) in the list keeps an option of its own.
 * @param {string} selected
 * @returns {[string, string][]}
 */
function presiderOptions(selected) {
  /** @type {[string, string][]} */
  const options = [['', t('staff.search.anyone')]];
  for (const p of presiders ?? []) options.push([p.id, `${p.name} (${roleLabel(p.role)})`]);
  if (selected && !options.some(([v]) => v === selected)) options.push([selected, selected]);
  return options;
}

/**
 * @param {{cases: Case[], total: number, limit: number, offset: number}} answer
 * @param {Filters} f
 * @param {(page: number) => void} go
 */
function casesTable(answer, f, go) {
  const page = f.page;
  if (answer.cases.length === 0) {
    return h('div', {},
      h('p', { class: 'muted empty', 'data-testid': 'cases-empty', text: t('staff.cases.none') }),
      page > 1 ? h('button', { type: 'button', class: 'btn', 'data-testid': 'page-first', onclick: () => go(1), text: t('staff.pager.first') }) : null);
  }
  const rows = answer.cases.map((c) => {
    const href = `/staff/cases/${encodeURIComponent(c.id)}`;
    const row = h('tr', { 'data-testid': 'case-row', 'data-case-id': c.id, class: 'clickable' },
      h('td', {}, h('a', { href, 'data-link': '', 'data-testid': 'case-number-link', text: c.number })),
      h('td', { text: c.title }),
      h('td', { text: kindLabel(c.kind) }),
      h('td', { class: 'nowrap', 'data-testid': 'case-last-session' }, c.last_session_at
        ? h('time', { datetime: c.last_session_at, text: formatSchedule(c.last_session_at) })
        : h('span', { class: 'muted', text: '—' }),
      c.session_count ? h('span', { class: 'sub muted', text: t('staff.search.sessions', { count: c.session_count }) }) : null),
      h('td', { 'data-testid': 'case-presiders' }, (c.presiders ?? []).length
        ? (c.presiders ?? []).map((p) => h('span', { class: 'sub', text: `${p.name} (${roleLabel(p.role)})` }))
        : h('span', { class: 'muted', text: '—' })));
    row.addEventListener('click', (ev) => {
      if (/** @type {Element} */ (ev.target).closest('a')) return; // the link navigates itself
      navigate(href);
    });
    return row;
  });
  const first = answer.offset + 1;
  const last = answer.offset + answer.cases.length;
  const pages = Math.max(1, Math.ceil(answer.total / PAGE_SIZE));
  const sorted = { created: '', number: 'number', title: 'title', last_session: 'last' }[f.sort] ?? '';
  const ariaSort = f.order === 'asc' ? 'ascending' : 'descending';
  const th = (/** @type {string} */ key, /** @type {string} */ label) => h('th', { scope: 'col', 'aria-sort': sorted === key ? ariaSort : null, text: label });
  return h('div', {},
    h('div', { class: 'table-wrap' },
      h('table', { class: 'table cases-table', 'data-testid': 'cases' },
        h('caption', { class: 'visually-hidden', text: t('staff.cases.title') }),
        h('thead', {}, h('tr', {},
          th('number', t('staff.case.number')),
          th('title', t('staff.case.title')),
          th('kind', t('staff.case.kind')),
          th('last', t('staff.search.lastSession')),
          th('presiders', t('staff.search.presiders')))),
        h('tbody', {}, rows))),
    h('nav', { class: 'pager', 'aria-label': t('staff.pager') },
      h('button', { type: 'button', class: 'btn', disabled: page <= 1, 'data-testid': 'page-prev', onclick: () => go(page - 1), text: t('staff.pager.prev') }),
      h('span', { class: 'muted', 'data-testid': 'page-info', 'data-total': String(answer.total), text: t('staff.pager.info', { first, last, total: answer.total }) }),
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
