/// <reference lib="dom" />
/**
 * The new-cluster form, with the fields of Zalando's UI: name, team, namespace, PostgreSQL version, instances,
 * volume size, users and databases. "Preview" shows the manifest the function built and validated, and the plan
 * preview; "Create" creates the `postgresql` object with the user's token.
 */
import { useState } from 'preact/hooks';
import type { ClusterForm } from '../form';
import { call } from './api';
import { Outcome, PlanPreview, html } from './widgets';

const VERSIONS = ['18', '17', '16', '15', '14', '13'];

interface Problem {
  path: string;
  message: string;
}

export function CreateView(props: { onError: (e: unknown) => void }) {
  const [form, setForm] = useState<ClusterForm>({
    name: '',
    teamId: '',
    namespace: 'default',
    version: '17',
    numberOfInstances: '2',
    volumeSize: '1Gi',
    users: '',
    databases: '',
  });
  const [manifest, setManifest] = useState<unknown>(undefined);
  const [problems, setProblems] = useState<Problem[]>([]);
  const [outcome, setOutcome] = useState({ text: '', bad: false });
  const field = (key: keyof ClusterForm) => (e: Event) =>
    setForm({ ...form, [key]: (e.target as HTMLInputElement).value });
  /** Sends the form to `api/manifest` (or `api/clusters` to create); shows the problems by field. */
  const send = async (create: boolean) => {
    setOutcome({ text: '', bad: false });
    try {
      const answer = await call<{ manifest: unknown }>('POST', create ? 'api/clusters' : 'api/manifest', form);
      setProblems([]);
      setManifest(answer.manifest);
      if (create) {
        setOutcome({ text: `Created ${form.namespace}/${form.name}`, bad: false });
        location.hash = `#/clusters/${encodeURIComponent(form.namespace)}/${encodeURIComponent(form.name)}`;
      }
    } catch (e) {
      const body = (e as { body?: { problems?: Problem[] } }).body;
      setProblems(body?.problems ?? []);
      setOutcome({ text: e instanceof Error ? e.message : String(e), bad: true });
      props.onError(e);
    }
  };
  const input = (key: keyof ClusterForm, label: string, attrs: Record<string, string> = {}) =>
    html`<label>${label}<input name=${key} value=${form[key]} onInput=${field(key)} ...${attrs} /></label>`;
  /** A text area of one entry a line (users, databases). */
  const lines = (key: 'users' | 'databases', label: unknown, placeholder: string) =>
    html`<label
      ><span>${label}</span>
      <textarea name=${key} rows="3" placeholder=${placeholder} value=${form[key]} onInput=${field(key)} />
    </label>`;
  return html`<section>
    <h1>New cluster</h1>
    <form
      class="card create"
      id="create-form"
      onSubmit=${(e: Event) => {
        e.preventDefault();
        void send(true);
      }}
    >
      ${input('teamId', 'Team', { placeholder: 'acid', required: 'true' })}
      ${input('name', 'Name (starts with the team)', { placeholder: 'acid-orders', required: 'true' })}
      ${input('namespace', 'Namespace', { required: 'true' })}
      <label
        >PostgreSQL version
        <select name="version" value=${form.version} onChange=${field('version')}>
          ${VERSIONS.map((v) => html`<option value=${v}>${v}</option>`)}
        </select></label
      >
      ${input('numberOfInstances', 'Instances', { type: 'number', min: '0' })}
      ${input('volumeSize', 'Volume size', { placeholder: '1Gi' })}
      ${lines('users', html`Users, one a line (<code>name: flag, flag</code>)`, 'app_owner: createdb')}
      ${lines('databases', html`Databases, one a line (<code>name: owner</code>)`, 'orders: app_owner')}
      ${
        problems.length
          ? html`<ul class="problems">
              ${problems.map((p) => html`<li><code>${p.path}</code>: ${p.message}</li>`)}
            </ul>`
          : null
      }
      <p>
        <button type="button" id="preview" onClick=${() => void send(false)}>Preview</button>
        <button type="submit" id="create">Create</button>
      </p>
      <${Outcome} text=${outcome.text} bad=${outcome.bad} />
    </form>
    ${
      manifest
        ? html`<h3>Manifest</h3>
            <pre id="manifest">${JSON.stringify(manifest, null, 2)}</pre>`
        : null
    }
    <${PlanPreview} manifest=${manifest} />
  </section>`;
}
