// The programme dashboard's own script (served by gateway/dashboard.ts, after
// Chart.js). It runs the dashboard role's published operations by their
// SHA-256 with a pasted token, and draws what they answer: a withheld count
// is drawn as nothing and written "n.d.", never as 0. The page's
// Content-Security-Policy allows no inline script, hence this file.
(function () {
  'use strict';

  /** Every word of the page, in Italian and in English. */
  const STRINGS = {
    it: {
      title: 'LGNet: cruscotto del programma',
      language: 'Lingua',
      token: 'Token',
      edition: 'Edizione',
      from: 'Dal mese',
      to: 'Al mese',
      refresh: 'Aggiorna',
      periodNote: "Le cifre sono pubblicate per l'intero periodo dell'edizione; i mesi scelti limitano il grafico mensile.",
      indicator: 'Indicatore',
      dataTable: 'Tabella dei dati',
      progressTitle: 'Avanzamento per città rispetto agli obiettivi',
      monthsTitle: 'Prese in carico per mese',
      housingTitle: 'Occupazione delle strutture abitative',
      housingNote: 'Posti e posti occupati come le città li riportano oggi, non nel periodo.',
      moversTitle: 'Persone prese in carico in più città',
      coverageTitle: 'Copertura e aggiornamento per città',
      noToken: 'Incolla un token del ruolo dashboard (nella sandbox: npm run --silent token -- dashboard).',
      tokenOf: (who, until) => `${who}, valido fino al ${until}.`,
      tokenExpired: (until) => `scaduto il ${until}.`,
      notAToken: 'Questo non sembra un token (un JWT in tre parti).',
      loading: 'Caricamento…',
      refused: 'Token rifiutato: incollane uno valido.',
      notAllowed: 'Questo token non può eseguire le operazioni pubblicate.',
      failed: (status) => `Il grafo non ha risposto (${status}).`,
      legend: (t) => `n.d. = non divulgabile: un conteggio ${t ? `da 1 a ${t - 1} persone` : 'piccolo'}, o uno che permetterebbe di ricavarlo (mai uno zero). "mancante" = città che non ha risposto.`,
      withheld: 'n.d.',
      missing: 'mancante',
      city: 'Città',
      value: 'Valore',
      target: 'Obiettivo',
      progress: 'Avanzamento',
      cityTarget: 'Obiettivo della città',
      month: 'Mese',
      allChannels: 'Tutti i canali',
      takenInCharge: 'Unità mobili e sportelli',
      places: 'Posti',
      occupied: 'Posti occupati',
      movers: 'Persone',
      moversCount: (n) => `${n} persone prese in carico in due o più città dell'edizione.`,
      moversWithheld: "Persone prese in carico in due o più città dell'edizione: n.d.",
      noPairs: (t) => `Nessuna coppia di città con almeno ${t || 5} persone da mostrare.`,
      fromCity: 'Da',
      toCity: 'A',
      source: 'Sistema',
      status: 'Stato',
      asOf: 'Aggiornato al',
      inReport: 'Nel report',
      rejected: 'Record scartati',
      complete: 'completa',
      missingBecause: (reason) => `mancante: ${reason}`,
      staleAsOf: (asOf) => `dati al ${asOf}`,
      degradedBecause: (reason) => `degradata: ${reason}`,
      monthsMissing: 'Mesi non pubblicati finché una città manca: confrontati con quelli completi rivelerebbero i suoi.',
      noTargets: 'Nessun obiettivo di rete per questa edizione.',
      indicators: {
        beneficiaries: 'Beneficiari',
        takenInCharge: 'Presi in carico da unità mobili e sportelli',
        housingSupported: 'In misure di inclusione abitativa',
        civicProjectsSigned: 'Progetti di impegno civico firmati',
      },
      entities: { beneficiaries: 'beneficiari', services: 'servizi', enrollments: 'iscrizioni', civicProjects: 'progetti civici', housingResources: 'strutture abitative', placements: 'inserimenti abitativi' },
      statuses: { UP: 'attivo', DOWN: 'non raggiungibile', STALE: 'non aggiornato', DEGRADED: 'degradato', UNKNOWN: 'sconosciuto', NOT_CONFIGURED: 'non configurato' },
    },
    en: {
      title: 'LGNet: programme dashboard',
      language: 'Language',
      token: 'Token',
      edition: 'Edition',
      from: 'From month',
      to: 'To month',
      refresh: 'Refresh',
      periodNote: "Figures are published for the edition's whole period; the months chosen narrow the monthly chart.",
      indicator: 'Indicator',
      dataTable: 'Data table',
      progressTitle: 'Progress per city against targets',
      monthsTitle: 'People taken in charge per month',
      housingTitle: 'Housing occupancy',
      housingNote: 'Places and occupied places as the cities report them today, not over the period.',
      moversTitle: 'People taken in charge in more than one city',
      coverageTitle: 'Coverage and freshness per city',
      noToken: 'Paste a token of the dashboard role (in the sandbox: npm run --silent token -- dashboard).',
      tokenOf: (who, until) => `${who}, valid until ${until}.`,
      tokenExpired: (until) => `expired at ${until}.`,
      notAToken: 'This does not look like a token (a JWT of three parts).',
      loading: 'Loading…',
      refused: 'Token refused: paste a valid one.',
      notAllowed: 'This token may not run the published operations.',
      failed: (status) => `The graph did not answer (${status}).`,
      legend: (t) => `n.d. = withheld: a count ${t ? `from 1 to ${t - 1} people` : 'of few people'}, or one that would give such a count away (never a zero). "missing" = a city that did not answer.`,
      withheld: 'n.d.',
      missing: 'missing',
      city: 'City',
      value: 'Value',
      target: 'Target',
      progress: 'Progress',
      cityTarget: "City's target",
      month: 'Month',
      allChannels: 'All channels',
      takenInCharge: 'Mobile units and one-stop-shops',
      places: 'Places',
      occupied: 'Occupied places',
      movers: 'Persons',
      moversCount: (n) => `${n} people taken in charge in two or more cities of the edition.`,
      moversWithheld: 'People taken in charge in two or more cities of the edition: n.d.',
      noPairs: (t) => `No pair of cities with at least ${t || 5} people to show.`,
      fromCity: 'From',
      toCity: 'To',
      source: 'System',
      status: 'Status',
      asOf: 'As of',
      inReport: 'In the report',
      rejected: 'Records rejected',
      complete: 'complete',
      missingBecause: (reason) => `missing: ${reason}`,
      staleAsOf: (asOf) => `data as of ${asOf}`,
      degradedBecause: (reason) => `degraded: ${reason}`,
      monthsMissing: 'Months are not published while a city is missing: set beside complete ones, they would give its own away.',
      noTargets: 'No network target for this edition.',
      indicators: {
        beneficiaries: 'Beneficiaries',
        takenInCharge: 'Taken in charge by mobile units and one-stop-shops',
        housingSupported: 'In housing support measures',
        civicProjectsSigned: 'Civic-engagement projects signed',
      },
      entities: { beneficiaries: 'beneficiaries', services: 'services', enrollments: 'enrolments', civicProjects: 'civic projects', housingResources: 'housing resources', placements: 'placements' },
      statuses: { UP: 'up', DOWN: 'down', STALE: 'stale', DEGRADED: 'degraded', UNKNOWN: 'unknown', NOT_CONFIGURED: 'not configured' },
    },
  };
  const EDITIONS = ['LGNET_EA', 'LGNET2', 'LGNET3'];
  const INDICATORS = ['beneficiaries', 'takenInCharge', 'housingSupported', 'civicProjectsSigned'];
  const COLORS = { a: '#1c4e80', b: '#e07b39', c: '#7aa6c2' };

  // The token lives in this browser tab only, as in the query IDE: a shared computer keeps it no longer than the tab.
  const storage = window.sessionStorage;
  const TOKEN_KEY = 'lgnet:token';
  const LANG_KEY = 'lgnet:lang';
  const operations = JSON.parse(document.body.dataset.operations || '{}');

  const state = {
    lang: storage.getItem(LANG_KEY) === 'en' ? 'en' : 'it',
    token: storage.getItem(TOKEN_KEY) || '',
    edition: 'LGNET3',
    indicator: null,
    from: null,
    to: null,
    /** The smallest count shown as is, as the subgraphs say when they withhold one. */
    threshold: null,
    common: null,
    perEdition: {},
    error: null,
    loading: false,
  };
  const charts = {};

  const $ = (selector) => document.querySelector(selector);
  const t = () => STRINGS[state.lang];

  // ---- Asking the graph ----------------------------------------------------

  class GraphError extends Error {
    constructor(status) {
      super(String(status));
      this.status = status;
    }
  }

  /** Runs a published operation by its hash, as Apollo's persisted-query extension sends it. */
  async function run(name, variables) {
    const res = await fetch('/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${state.token}` },
      body: JSON.stringify({ variables: variables || {}, extensions: { persistedQuery: { version: 1, sha256Hash: operations[name] } } }),
    });
    let body = null;
    try {
      body = await res.json();
    } catch (e) {
      body = null;
    }
    if (!body || !body.data) throw new GraphError(res.status);
    for (const e of body.errors || []) {
      const x = e.extensions || {};
      if (x.code === 'SMALL_COUNT_SUPPRESSED' && typeof x.threshold === 'number') state.threshold = x.threshold;
    }
    return body.data;
  }

  async function load() {
    state.error = null;
    if (!state.token) return render();
    state.loading = true;
    render();
    try {
      if (!state.common) {
        const [editions, cities, housing] = await Promise.all([run('dashboard-editions'), run('dashboard-cities'), run('dashboard-housing')]);
        state.common = { editions: editions.editions, cities: cities.cities, housing: housing.housingOccupancy };
      }
      const edition = state.edition;
      if (!state.perEdition[edition]) {
        const [report, trends] = await Promise.all([run('dashboard-report', { edition }), run('dashboard-trends', { edition })]);
        state.perEdition[edition] = { report: report.report, trends: trends.report };
      }
    } catch (e) {
      state.error = e instanceof GraphError ? e.status : 0;
    }
    state.loading = false;
    render();
  }

  /** Everything asked again: the sources' state and every figure. */
  function refresh() {
    state.common = null;
    state.perEdition = {};
    load();
  }

  // ---- Reading the answers -------------------------------------------------

  const fmt = (n) => new Intl.NumberFormat(state.lang === 'it' ? 'it-IT' : 'en-GB').format(n);
  const fmtPercent = (p) => new Intl.NumberFormat(state.lang === 'it' ? 'it-IT' : 'en-GB', { style: 'percent', maximumFractionDigits: 1 }).format(p);
  const fmtTime = (iso) => (iso ? new Intl.DateTimeFormat(state.lang === 'it' ? 'it-IT' : 'en-GB', { dateStyle: 'short', timeStyle: 'short' }).format(new Date(iso)) : '—');
  const fmtMonth = (m) => new Intl.DateTimeFormat(state.lang === 'it' ? 'it-IT' : 'en-GB', { month: 'short', year: 'numeric', timeZone: 'UTC' }).format(new Date(`${m}-01T00:00:00Z`));

  /** A figure as the page shows it: a number, withheld, or missing (its city not counted). */
  function cell(value, missing) {
    if (typeof value === 'number') return { value, text: fmt(value), data: String(value) };
    if (missing) return { value: null, text: t().missing, data: 'missing' };
    return { value: null, text: t().withheld, data: 'withheld' };
  }

  /** A chart's label, marked when a value of its own is not drawn, so that an empty spot never reads as zero. */
  function mark(label, cells) {
    const absent = cells.find((c) => c.value === null);
    return absent ? `${label} (${absent.text})` : label;
  }

  const codesOf = (coverage) => new Set(((coverage && coverage.missing) || []).map((m) => m.city.code));

  // ---- Drawing -------------------------------------------------------------

  function draw(id, config) {
    if (charts[id]) charts[id].destroy();
    // No animation: what is drawn is final at once, for readers and for screenshots.
    config.options = Object.assign({ animation: false, responsive: true, maintainAspectRatio: false }, config.options || {});
    charts[id] = new Chart(document.getElementById(id), config);
  }

  /** A table mirroring a chart: a header row, then rows whose cells carry their value in `data-value`. */
  function table(id, headers, rows) {
    const el = document.getElementById(id);
    el.replaceChildren();
    const head = el.createTHead().insertRow();
    for (const h of headers) {
      const th = document.createElement('th');
      th.textContent = h;
      head.appendChild(th);
    }
    const body = el.createTBody();
    for (const row of rows) {
      const tr = body.insertRow();
      if (row.key) tr.dataset.key = row.key;
      if (row.state) tr.dataset.state = row.state;
      for (const c of row.cells) {
        const td = tr.insertCell();
        if (typeof c === 'string') td.textContent = c;
        else {
          td.textContent = c.text;
          td.dataset.value = c.data;
          if (c.series) td.dataset.series = c.series;
        }
      }
    }
  }

  function renderTargets(report) {
    const box = $('#targets');
    box.replaceChildren();
    const targets = report.totals.targets.filter((x) => x.target !== null);
    if (!targets.length) {
      const p = document.createElement('p');
      p.className = 'note';
      p.textContent = t().noTargets;
      box.appendChild(p);
      return;
    }
    for (const x of targets) {
      const div = document.createElement('div');
      div.className = 'target';
      div.dataset.indicator = x.indicator;
      const label = document.createElement('strong');
      label.textContent = t().indicators[x.indicator] || x.indicator;
      const bar = document.createElement('progress');
      bar.max = 1;
      if (x.progress !== null) bar.value = Math.min(1, x.progress);
      const text = document.createElement('span');
      const v = cell(x.value, false);
      text.textContent = ` ${v.text} / ${fmt(x.target)}${x.progress !== null ? ` (${fmtPercent(x.progress)})` : ''}`;
      text.dataset.value = v.data;
      div.append(label, ' ', bar, text);
      box.appendChild(div);
    }
  }

  function renderProgress(report) {
    const missing = codesOf(report.totals.coverage);
    const indicator = state.indicator;
    const rows = report.cities.map((r) => {
      const target = r.targets.find((x) => x.indicator === indicator);
      return { code: r.city.code, name: r.city.name, figure: cell(r[indicator], missing.has(r.city.code)), target: target ? target.target : null, progress: target ? target.progress : null };
    });
    const anyTarget = rows.some((r) => r.target !== null);
    const datasets = [{ label: t().indicators[indicator], data: rows.map((r) => r.figure.value), backgroundColor: COLORS.a }];
    if (anyTarget) datasets.push({ label: t().cityTarget, data: rows.map((r) => r.target), backgroundColor: COLORS.c });
    draw('chart-progress', { type: 'bar', data: { labels: rows.map((r) => mark(r.name, [r.figure])), datasets } });
    table(
      'table-progress',
      [t().city, t().indicators[indicator], t().cityTarget, t().progress],
      rows.map((r) => ({
        key: r.code,
        state: missing.has(r.code) ? 'missing' : undefined,
        cells: [r.name, Object.assign({ series: 'value' }, r.figure), r.target === null ? '—' : fmt(r.target), r.progress === null ? '—' : fmtPercent(r.progress)],
      })),
    );
  }

  function renderMonths(trends) {
    const months = trends.totals.intakesByMonth;
    const incomplete = codesOf(trends.totals.peopleCoverage).size > 0;
    $('#months-note').textContent = incomplete ? t().monthsMissing : '';
    const shown = months.filter((m) => (!state.from || m.month >= state.from) && (!state.to || m.month <= state.to));
    draw('chart-months', {
      type: 'line',
      data: {
        labels: shown.map((m) => mark(fmtMonth(m.month), [cell(m.beneficiaries, false), cell(m.takenInCharge, false)])),
        datasets: [
          { label: t().allChannels, data: shown.map((m) => m.beneficiaries), borderColor: COLORS.a, backgroundColor: COLORS.a, spanGaps: false },
          { label: t().takenInCharge, data: shown.map((m) => m.takenInCharge), borderColor: COLORS.b, backgroundColor: COLORS.b, spanGaps: false },
        ],
      },
      options: { scales: { y: { beginAtZero: true } } },
    });
    table(
      'table-months',
      [t().month, t().allChannels, t().takenInCharge],
      shown.map((m) => ({
        key: m.month,
        cells: [fmtMonth(m.month), Object.assign({ series: 'beneficiaries' }, cell(m.beneficiaries, false)), Object.assign({ series: 'takenInCharge' }, cell(m.takenInCharge, false))],
      })),
    );
  }

  function renderHousing(housing, cities) {
    const missing = codesOf(housing.coverage);
    const inEdition = new Set(cities.map((c) => c.code));
    const rows = housing.cities.filter((r) => inEdition.has(r.city.code));
    draw('chart-housing', {
      type: 'bar',
      data: {
        labels: rows.map((r) => mark(r.city.name, [cell(r.places, missing.has(r.city.code)), cell(r.occupied, missing.has(r.city.code))])),
        datasets: [
          { label: t().places, data: rows.map((r) => r.places), backgroundColor: COLORS.c },
          { label: t().occupied, data: rows.map((r) => r.occupied), backgroundColor: COLORS.a },
        ],
      },
    });
    table(
      'table-housing',
      [t().city, t().places, t().occupied],
      rows.map((r) => ({
        key: r.city.code,
        state: missing.has(r.city.code) ? 'missing' : undefined,
        cells: [r.city.name, Object.assign({ series: 'places' }, cell(r.places, missing.has(r.city.code))), Object.assign({ series: 'occupied' }, cell(r.occupied, missing.has(r.city.code)))],
      })),
    );
  }

  function renderMovers(trends) {
    const movers = trends.totals.movers;
    const count = $('#movers-count');
    count.dataset.value = cell(movers.persons, false).data;
    count.textContent = typeof movers.persons === 'number' ? t().moversCount(fmt(movers.persons)) : t().moversWithheld;
    if (!movers.pairs.length) {
      table('table-movers', [], [{ cells: [t().noPairs(state.threshold)] }]);
      return;
    }
    table(
      'table-movers',
      [t().fromCity, t().toCity, t().movers],
      movers.pairs.map((p) => ({ key: `${p.from.code}>${p.to.code}`, cells: [p.from.name, p.to.name, Object.assign({ series: 'persons' }, cell(p.persons, false))] })),
    );
  }

  function renderCoverage(report, cities) {
    const byCode = new Map(state.common.cities.map((c) => [c.code, c]));
    const coverage = report.totals.coverage;
    const missing = new Map(coverage.missing.map((m) => [m.city.code, m]));
    const stale = new Map(coverage.stale.map((s) => [s.city.code, s]));
    const degraded = new Map(coverage.degraded.map((d) => [d.city.code, d]));
    table(
      'table-coverage',
      [t().city, t().source, t().status, t().asOf, t().inReport, t().rejected],
      cities.map((c) => {
        const info = byCode.get(c.code) || {};
        const source = info.source;
        let stateName;
        let inReport;
        if (missing.has(c.code)) {
          stateName = 'missing';
          inReport = t().missingBecause(missing.get(c.code).reason);
        } else if (stale.has(c.code)) {
          stateName = 'stale';
          inReport = t().staleAsOf(fmtTime(stale.get(c.code).asOf));
        } else if (degraded.has(c.code)) {
          stateName = 'degraded';
          inReport = t().degradedBecause(degraded.get(c.code).reason);
        } else {
          stateName = 'complete';
          inReport = t().complete;
        }
        // Each kind of record apart (a sum over kinds with one withheld would be no figure at all), the withheld ones once.
        const quality = info.dataQuality;
        let rejected = t().missing;
        if (quality) {
          const shown = quality.filter((q) => typeof q.rejected === 'number' && q.rejected > 0).map((q) => `${t().entities[q.entity] || q.entity} ${fmt(q.rejected)}`);
          if (quality.some((q) => q.rejected === null)) shown.push(t().withheld);
          rejected = shown.join(', ') || fmt(0);
        }
        return {
          key: c.code,
          state: stateName,
          cells: [
            c.name,
            source ? source.kind : '—',
            source ? t().statuses[source.status] || source.status : '—',
            fmtTime(source && source.asOf),
            inReport,
            rejected,
          ],
        };
      }),
    );
  }

  // ---- The page ------------------------------------------------------------

  /** What the token says of itself (role, expiry), read but not verified: the graph verifies it. */
  function describeToken(token) {
    if (!token) return { text: t().noToken, bad: true };
    try {
      const claims = JSON.parse(atob(token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')));
      const who = [claims.role, claims.city].filter(Boolean).join(' ') || 'token';
      if (typeof claims.exp !== 'number') return { text: who, bad: false };
      const until = fmtTime(new Date(claims.exp * 1000).toISOString());
      if (claims.exp * 1000 < Date.now()) return { text: `${who}: ${t().tokenExpired(until)}`, bad: true };
      return { text: t().tokenOf(who, until), bad: false };
    } catch (e) {
      return { text: t().notAToken, bad: true };
    }
  }

  function option(select, value, label, selected) {
    const o = document.createElement('option');
    o.value = value;
    o.textContent = label;
    o.selected = selected;
    select.appendChild(o);
  }

  function renderControls(info) {
    const edition = $('select[name="edition"]');
    edition.replaceChildren();
    for (const e of EDITIONS) {
      const name = state.common ? (state.common.editions.find((x) => x.edition === e) || {}).name || e : e;
      option(edition, e, name, e === state.edition);
    }
    const indicator = $('select[name="indicator"]');
    indicator.replaceChildren();
    for (const i of INDICATORS) option(indicator, i, t().indicators[i], i === state.indicator);
    // The period can only narrow the months of the edition: the published tables are of its whole period.
    const months = info ? info.months : [];
    for (const [name, value] of [['from', state.from], ['to', state.to]]) {
      const select = $(`select[name="${name}"]`);
      select.replaceChildren();
      for (const m of months) option(select, m, fmtMonth(m), m === value);
      select.disabled = months.length === 0;
    }
  }

  function render() {
    document.documentElement.lang = state.lang;
    for (const el of document.querySelectorAll('[data-i18n]')) el.textContent = t()[el.dataset.i18n];
    for (const el of document.querySelectorAll('[data-i18n-label]')) el.setAttribute('aria-label', t()[el.dataset.i18nLabel]);
    for (const b of document.querySelectorAll('[data-lang]')) b.setAttribute('aria-pressed', String(b.dataset.lang === state.lang));
    document.title = t().title;
    const status = describeToken(state.token);
    const statusEl = $('#token-status');
    statusEl.textContent = status.text;
    statusEl.className = status.bad ? 'bad' : '';
    $('#legend').textContent = state.token ? t().legend(state.threshold) : '';

    const data = state.perEdition[state.edition];
    const months = data ? data.trends.totals.intakesByMonth.map((m) => m.month) : [];
    if (data && (!state.from || !months.includes(state.from))) state.from = months[0];
    if (data && (!state.to || !months.includes(state.to))) state.to = months[months.length - 1];
    if (data && !state.indicator) {
      const target = data.report.totals.targets.find((x) => x.target !== null);
      state.indicator = target ? target.indicator : 'beneficiaries';
    }
    renderControls(data ? { months } : null);

    const message = $('#message');
    if (state.loading) message.textContent = t().loading;
    else if (state.error === 401) message.textContent = t().refused;
    else if (state.error === 403) message.textContent = t().notAllowed;
    else if (state.error !== null) message.textContent = t().failed(state.error);
    else message.textContent = '';

    const ready = Boolean(data && state.common && !state.loading);
    document.body.dataset.ready = ready ? state.edition : '';
    if (!ready) return;
    const cities = (state.common.editions.find((e) => e.edition === state.edition) || { cities: [] }).cities;
    renderTargets(data.report);
    renderProgress(data.report);
    renderMonths(data.trends);
    renderHousing(state.common.housing, cities);
    renderMovers(data.trends);
    renderCoverage(data.report, cities);
  }

  // ---- Events --------------------------------------------------------------

  const tokenInput = $('input[name="token"]');
  tokenInput.value = state.token;
  tokenInput.addEventListener('change', () => {
    // "Bearer xxx" pasted whole is the token all the same.
    state.token = tokenInput.value.trim().replace(/^bearer\s+/i, '');
    if (state.token) storage.setItem(TOKEN_KEY, state.token);
    else storage.removeItem(TOKEN_KEY);
    refresh();
  });
  $('select[name="edition"]').addEventListener('change', (e) => {
    state.edition = e.target.value;
    state.from = state.to = state.indicator = null;
    load();
  });
  $('select[name="indicator"]').addEventListener('change', (e) => {
    state.indicator = e.target.value;
    render();
  });
  for (const name of ['from', 'to']) {
    $(`select[name="${name}"]`).addEventListener('change', (e) => {
      state[name] = e.target.value;
      // A range the wrong way round is read as the one month chosen last.
      if (state.from > state.to) state[name === 'from' ? 'to' : 'from'] = e.target.value;
      render();
    });
  }
  $('button[name="refresh"]').addEventListener('click', refresh);
  for (const b of document.querySelectorAll('[data-lang]')) {
    b.addEventListener('click', () => {
      state.lang = b.dataset.lang;
      storage.setItem(LANG_KEY, state.lang);
      render();
    });
  }

  load();
})();
