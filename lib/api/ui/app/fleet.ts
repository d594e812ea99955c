/// <reference lib="dom" />
/** The fleet table: one row per `postgresql` object the user may list, refreshed every few seconds. */
import { useState } from 'preact/hooks';
import type { FleetRow } from '../summary';
import { Head, StatusBadge, html, useData } from './widgets';

/** The rollout cell: pods still on an older template, and whether the rollout is paused or where it stands. */
export function Rollout(props: { row: FleetRow }) {
  const { row } = props;
  const parts = [];
  if (row.paused) parts.push(html`<span class="badge busy" data-rollout="Paused">Paused</span>`);
  if (row.outdatedPods > 0) parts.push(html`<span>${row.outdatedPods} of ${row.pods} pods on the old template</span>`);
  if (row.rollout !== 'none' && !(row.paused && row.rollout === 'Paused'))
    parts.push(html`<span class="muted" title=${row.rolloutMessage ?? ''}>${row.rollout}</span>`);
  return parts.length ? html`<span class="rollout">${parts}</span>` : html`<span class="muted">-</span>`;
}

/** Conditions as short `Type=Status` words, the message on hover. */
export function Conditions(props: { row: FleetRow }) {
  return html`${props.row.conditions.map(
    (c) =>
      html`<span
        class=${`cond ${c.status === 'True' ? 'true' : 'false'}`}
        title=${`${c.reason ?? ''} ${c.message ?? ''}`}
        >${c.type}=${c.status}</span
      > `,
  )}`;
}

export function FleetView(props: { onError: (e: unknown) => void }) {
  const [namespace, setNamespace] = useState('');
  const path = `api/clusters${namespace ? `?namespace=${encodeURIComponent(namespace)}` : ''}`;
  const { data, error } = useData<{ clusters: FleetRow[] }>(path, props.onError);
  return html`<section>
    <div class="toolbar">
      <h1>Clusters</h1>
      <label
        >Namespace
        <input
          name="namespace-filter"
          placeholder="all"
          value=${namespace}
          onChange=${(e: Event) => setNamespace((e.target as HTMLInputElement).value.trim())}
      /></label>
      <a class="button" href="#/new">New cluster</a>
    </div>
    ${error ? html`<p class="outcome bad">${error}</p>` : null}
    ${
      data === undefined
        ? html`<p>Loading…</p>`
        : html`<table id="fleet">
            <${Head}
              titles=${['Team', 'Namespace', 'Cluster', 'Version', 'Pods ready', 'Volume', 'Status', 'Conditions', 'Rollout']}
            />
            <tbody>
              ${
                data.clusters.length === 0
                  ? html`<tr>
                      <td colspan="9" class="muted">No clusters.</td>
                    </tr>`
                  : data.clusters.map(
                      (row) =>
                        html`<tr data-cluster=${`${row.namespace}/${row.name}`}>
                          <td>${row.team}</td>
                          <td>${row.namespace}</td>
                          <td>
                            <a href=${`#/clusters/${encodeURIComponent(row.namespace)}/${encodeURIComponent(row.name)}`}
                              >${row.name}</a
                            >
                          </td>
                          <td>${row.version}</td>
                          <td class="pods">${row.readyPods}/${row.wantedPods}</td>
                          <td>${row.volume}</td>
                          <td><${StatusBadge} status=${row.status} /></td>
                          <td><${Conditions} row=${row} /></td>
                          <td><${Rollout} row=${row} /></td>
                        </tr>`,
                    )
              }
            </tbody>
          </table>`
    }
  </section>`;
}
