// The query IDE's own script (served by gateway/ide.ts, after React, ReactDOM
// and GraphiQL): GraphiQL over this gateway's /graphql, with a token field.
// The page's Content-Security-Policy allows no inline script, hence this file.
(function () {
  'use strict';
  var h = React.createElement;
  var root = document.getElementById('ide');
  var introspection = root.dataset.introspection === 'on';
  // The token, like GraphiQL's tabs and history, lives in this browser tab only:
  // a shared computer keeps neither the token nor questions about people once the tab is closed.
  var storage = window.sessionStorage;
  var TOKEN_KEY = 'lgnet:token';

  var DEFAULT_QUERY = [
    '# The LGNet graph. Paste a token above',
    '# (in the sandbox: npm run --silent token -- analyst),',
    '# then run this with Ctrl-Enter or the play button.',
    '# The schema and its descriptions: the docs (book icon',
    '# on the left); Ctrl-Space completes a field.',
    '{',
    '  cities {',
    '    code',
    '    name',
    '    source { kind status }',
    '  }',
    '}',
    '',
  ].join('\n');

  /** "Bearer xxx", or a bare token, pasted: the token alone. */
  function bareToken(text) {
    return text.trim().replace(/^bearer\s+/i, '');
  }

  /** What the token says of itself (role, city, expiry), read but not verified: the gateway verifies it. */
  function describe(token) {
    if (!token) return { text: 'No token: the docs and every query need one.', bad: true };
    try {
      var part = token.split('.')[1];
      var claims = JSON.parse(atob(part.replace(/-/g, '+').replace(/_/g, '/')));
      var who = [claims.role, claims.city].filter(Boolean).join(' ');
      if (typeof claims.exp === 'number') {
        var until = new Date(claims.exp * 1000);
        if (until.getTime() < Date.now()) return { text: (who ? who + ': ' : '') + 'expired at ' + until.toLocaleString() + '.', bad: true };
        return { text: (who || 'token') + ', until ' + until.toLocaleString() + '.', bad: false };
      }
      return { text: who || 'token', bad: false };
    } catch (e) {
      return { text: 'This does not look like a token (a JWT of three parts).', bad: true };
    }
  }

  function App() {
    var state = React.useState(function () {
      return storage.getItem(TOKEN_KEY) || '';
    });
    var token = state[0];
    var setToken = state[1];
    // A new token is a new fetcher, and GraphiQL reads the schema again with it.
    var fetcher = React.useMemo(
      function () {
        return GraphiQL.createFetcher({
          url: window.location.pathname,
          enableIncrementalDelivery: false,
          headers: token ? { authorization: 'Bearer ' + token } : {},
        });
      },
      [token],
    );
    var status = describe(token);
    var onChange = function (event) {
      var next = bareToken(event.target.value);
      if (next) storage.setItem(TOKEN_KEY, next);
      else storage.removeItem(TOKEN_KEY);
      setToken(next);
    };
    var bar = h(
      'header',
      { className: 'lgnet-bar' },
      h('strong', null, 'LGNet graph'),
      h(
        'label',
        { className: 'lgnet-token' },
        'Token ',
        h('input', {
          type: 'password',
          name: 'token',
          autoComplete: 'off',
          spellCheck: false,
          placeholder: 'paste a bearer token (sandbox: npm run --silent token -- analyst)',
          value: token,
          onChange: onChange,
        }),
      ),
      h('span', { className: status.bad ? 'lgnet-status lgnet-bad' : 'lgnet-status', role: 'status' }, status.text),
      h(
        'span',
        { className: 'lgnet-note' },
        introspection
          ? 'Kept in this tab only.'
          : 'Introspection is off on this gateway (LGNET_INTROSPECTION): queries run, but there are no docs or completion.',
      ),
    );
    return h(
      'div',
      { className: 'lgnet-ide' },
      bar,
      h(
        'div',
        { className: 'lgnet-graphiql' },
        h(GraphiQL, {
          fetcher: fetcher,
          // null: no introspection is tried (none without a token, none when the gateway refuses it).
          schema: token && introspection ? undefined : null,
          storage: storage,
          defaultQuery: DEFAULT_QUERY,
          visiblePlugin: introspection ? GraphiQL.React.DOC_EXPLORER_PLUGIN : undefined,
        }),
      ),
    );
  }

  ReactDOM.createRoot(root).render(h(App));
})();
