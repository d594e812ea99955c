/// <reference lib="dom" />
/**
 * One cluster: its state, children, pods (Patroni role and lag), rollout steps, Events and connection details,
 * with the actions scale (after a plan preview), pause or resume the rolling update, and sync now.
 */
import { useState } from 'preact/hooks';
import type { ClusterPage, EventView } from '../summary';
import { call } from './api';
import { Conditions, Rollout } from './fleet';
import { Head, Outcome, PlanPreview, StatusBadge, html, useData } from './widgets';

function Events(props: { events: EventView[]; id: string; empty: string }) {
  if (props.events.length === 0) return html`<p class="muted">${props.empty}</p>`;
  return html`<table id=${props.id}>
    <${Head} titles=${['Time', 'Type', 'Reason', 'Object', 'Message']} />
    <tbody>
      ${props.events.map(
        (e) =>
          html`<tr class=${e.type === 'Warning' ? 'warning' : ''}>
            <td>${e.time}</td>
            <td>${e.type}</td>
            <td>${e.reason}${e.count > 1 ? ` (×${e.count})` : ''}</td>
            <td>${e.object}</td>
            <td>${e.message}</td>
          </tr>`,
      )}
    </tbody>
  </table>`;
}

/** Scale: the number asked for, its plan preview, then the patch. */
function Scale(props: { page: ClusterPage; act: (name: string, body?: unknown) => Promise<void> }) {
  const { page } = props;
  const [instances, setInstances] = useState(String(page.wantedPods));
  const [preview, setPreview] = useState<unknown>(undefined);
  const manifest = () => ({
    apiVersion: 'acid.zalan.do/v1',
    kind: 'postgresql',
    metadata: { name: page.name, namespace: page.namespace },
    spec: { ...(page.spec as object), numberOfInstances: Number(instances) },
  });
  return html`<form
    class="inline"
    id="scale-form"
    onSubmit=${(e: Event) => {
      e.preventDefault();
      void props.act('scale', { numberOfInstances: instances }).then(() => setPreview(undefined));
    }}
  >
    <label
      >Instances
      <input
        name="numberOfInstances"
        type="number"
        min="0"
        value=${instances}
        onInput=${(e: Event) => setInstances((e.target as HTMLInputElement).value)}
    /></label>
    <button type="button" onClick=${() => setPreview(manifest())}>Preview</button>
    <button type="submit" id="scale">Scale</button>
    <${PlanPreview} manifest=${preview} />
  </form>`;
}

export function ClusterView(props: { namespace: string; name: string; onError: (e: unknown) => void }) {
  const base = `api/clusters/${encodeURIComponent(props.namespace)}/${encodeURIComponent(props.name)}`;
  const { data: page, error, reload } = useData<ClusterPage>(base, props.onError);
  const [outcome, setOutcome] = useState({ text: '', bad: false });
  const act = async (name: string, body?: unknown) => {
    try {
      await call('POST', `${base}/${name}`, body ?? {});
      setOutcome({ text: `${name}: done`, bad: false });
      reload();
    } catch (e) {
      setOutcome({ text: `${name}: ${e instanceof Error ? e.message : String(e)}`, bad: true });
      props.onError(e);
    }
  };
  if (!page) return error ? html`<p class="outcome bad">${error}</p>` : html`<p>Loading…</p>`;
  const c = page.connection;
  return html`<section id="cluster">
    <div class="toolbar">
      <h1>${page.namespace}/${page.name}</h1>
      <${StatusBadge} status=${page.status} />
      <${Rollout} row=${page} />
    </div>
    ${error ? html`<p class="outcome bad">${error}</p>` : null}
    <div class="grid">
      <div class="card">
        <h2>Overview</h2>
        <dl>
          <dt>Team</dt>
          <dd>${page.team}</dd>
          <dt>PostgreSQL</dt>
          <dd>${page.version}</dd>
          <dt>Pods ready</dt>
          <dd class="pods">${page.readyPods}/${page.wantedPods}</dd>
          <dt>Volume</dt>
          <dd>${page.volume}</dd>
          <dt>Conditions</dt>
          <dd><${Conditions} row=${page} /></dd>
        </dl>
      </div>
      <div class="card">
        <h2>Connect</h2>
        <dl id="connection">
          <dt>Primary</dt>
          <dd><code>${c.host}:${c.port}</code></dd>
          <dt>Replicas</dt>
          <dd><code>${c.replicaHost}:${c.port}</code></dd>
          <dt>Databases</dt>
          <dd>${c.databases.join(', ') || '-'}</dd>
          <dt>Users</dt>
          <dd>
            ${
              c.users.length === 0
                ? '-'
                : c.users.map(
                    (u) =>
                      html`<div>
                        <code>${u.name}</code>: password in Secret <code>${u.secret ?? '(not created yet)'}</code>
                      </div>`,
                  )
            }
          </dd>
        </dl>
      </div>
      <div class="card">
        <h2>Actions</h2>
        <${Scale} page=${page} act=${act} />
        <p>
          ${
            page.paused
              ? html`<button id="resume" onClick=${() => act('resume')}>Resume rolling update</button>`
              : html`<button id="pause" onClick=${() => act('pause')}>Pause rolling update</button>`
          }
          <button id="sync-now" onClick=${() => act('sync-now')} disabled=${page.syncRequested}>
            ${page.syncRequested ? 'Sync requested…' : 'Sync now'}
          </button>
        </p>
        <${Outcome} text=${outcome.text} bad=${outcome.bad} />
      </div>
    </div>
    ${page.notes.map((note) => html`<p class="muted">${note}</p>`)}
    <h2>Pods</h2>
    ${
      page.podViews.length === 0
        ? html`<p class="muted">No pods yet.</p>`
        : html`<table id="pods">
            <${Head} titles=${['Pod', 'Role', 'Ready', 'Phase', 'Patroni state', 'Lag (bytes)', 'Node', 'Template']} />
            <tbody>
              ${page.podViews.map(
                (p) =>
                  html`<tr>
                    <td>${p.name}</td>
                    <td>${p.role}</td>
                    <td>${p.ready ? 'yes' : 'no'}</td>
                    <td>${p.phase}</td>
                    <td>${p.patroniState ?? '-'}</td>
                    <td>${p.lag}</td>
                    <td>${p.node}</td>
                    <td>${p.onOldTemplate ? 'old (to be recreated)' : 'current'}</td>
                  </tr>`,
              )}
            </tbody>
          </table>`
    }
    <h2>Objects</h2>
    <table id="children">
      <${Head} titles=${['Kind', 'Name', 'State']} />
      <tbody>
        ${page.children.map(
          (o) =>
            html`<tr data-child=${`${o.kind}/${o.name}`}>
              <td>${o.kind}</td>
              <td>${o.name}</td>
              <td>${o.state}</td>
            </tr>`,
        )}
      </tbody>
    </table>
    <h2>Rolling update steps</h2>
    <${Events} events=${page.steps} id="steps" empty="No rolling update or switchover recorded." />
    <h2>Events</h2>
    <${Events} events=${page.events} id="events" empty="No Events." />
  </section>`;
}
