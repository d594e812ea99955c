/// <reference lib="dom" />
/**
 * The operator's web UI: the fleet table, a page per cluster, a form to create a cluster, and the actions a user
 * would otherwise take with kubectl (scale, pause or resume a rolling update, sync now). Written with Preact and
 * htm (tagged templates, no JSX step), bundled with them into one script by the build (`scripts/ui-app.ts`) and
 * served by the operator-api function: no build step on the user's side and no CDN.
 *
 * Routes are in the URL's hash: `#/` the fleet, `#/clusters/<namespace>/<name>`, `#/new`.
 */
import { h, render } from 'preact';
import htm from 'htm';
import { useEffect, useState } from 'preact/hooks';
import { ApiError, setToken, token } from './api';
import { ClusterView } from './cluster';
import { CreateView } from './create';
import { FleetView } from './fleet';

const html = htm.bind(h);

/** @returns the route in the hash, split: `['clusters', ns, name]`, `['new']` or `[]` */
function route(): string[] {
  return location.hash.replace(/^#\/?/, '').split('/').filter(Boolean).map(decodeURIComponent);
}

/** Asks for the bearer token the page sends with every call (`kubectl create token <sa>`, an OIDC id token). */
function TokenForm(props: { reason: string; onDone: () => void }) {
  const [value, setValue] = useState('');
  const submit = (e: Event) => {
    e.preventDefault();
    setToken(value);
    props.onDone();
  };
  return html`<form class="card token" onSubmit=${submit}>
    <h2>Sign in</h2>
    <p>${props.reason}</p>
    <p>
      Paste a Kubernetes bearer token (e.g. <code>kubectl create token NAME</code>). Every read and write is made with
      it, so your RBAC decides what you see and change. It stays in this tab only.
    </p>
    <textarea
      name="token"
      rows="4"
      value=${value}
      onInput=${(e: Event) => setValue((e.target as HTMLTextAreaElement).value)}
    />
    <button type="submit" disabled=${!value.trim()}>Use this token</button>
  </form>`;
}

function App() {
  const [path, setPath] = useState(route());
  const [auth, setAuth] = useState<string | undefined>(undefined);
  useEffect(() => {
    const onHash = () => setPath(route());
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);
  /** A 401 anywhere: ask for a token. */
  const onError = (error: unknown) => {
    if (error instanceof ApiError && error.status === 401) setAuth(error.message);
  };
  const signOut = () => {
    setToken('');
    setAuth('Signed out.');
  };
  const [page, name] = [path[0] ?? '', path[2] ?? ''];
  let body;
  if (auth !== undefined) body = html`<${TokenForm} reason=${auth} onDone=${() => setAuth(undefined)} />`;
  else if (page === 'clusters' && name)
    body = html`<${ClusterView} namespace=${path[1]} name=${name} onError=${onError} />`;
  else if (page === 'new') body = html`<${CreateView} onError=${onError} />`;
  else body = html`<${FleetView} onError=${onError} />`;
  return html`<header>
      <a class="brand" href="#/">Postgres clusters</a>
      <nav>
        <a href="#/">Fleet</a>
        <a href="#/new" id="nav-new">New cluster</a>
        ${token() ? html`<button class="link" onClick=${signOut}>Sign out</button>` : null}
      </nav>
    </header>
    <main>${body}</main>`;
}

render(html`<${App} />`, document.getElementById('app')!);
