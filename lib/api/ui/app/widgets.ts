/// <reference lib="dom" />
/** Small pieces shared by the pages: data loading with refresh, badges, the plan preview. */
import { h } from 'preact';
import htm from 'htm';
import { useEffect, useState } from 'preact/hooks';
import type { ClusterPreview } from '../../plan';
import { call } from './api';

export const html = htm.bind(h);

/** How often a page reads again, ms: the fleet changes as the functions work. */
export const REFRESH_MS = 3000;

/**
 * @param path the API path to read
 * @param onError told about each failure (the App asks for a token on a 401)
 * @returns the last answer, the last error text, and `reload` to read now
 */
export function useData<T>(path: string, onError: (e: unknown) => void) {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState('');
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    call<T>('GET', path)
      .then((value) => live && (setData(value), setError('')))
      .catch((e: unknown) => {
        if (!live) return;
        setError(e instanceof Error ? e.message : String(e));
        onError(e);
      });
    const timer = setTimeout(() => live && setTick((t) => t + 1), REFRESH_MS);
    return () => {
      live = false;
      clearTimeout(timer);
    };
  }, [path, tick]);
  return { data, error, reload: () => setTick((t) => t + 1) };
}

/** A status word with a colour: Running green, *Failed/Invalid red, others amber. */
export function StatusBadge(props: { status: string }) {
  const s = props.status || 'No status yet';
  const tone = s === 'Running' ? 'ok' : /Failed|Invalid/.test(s) ? 'bad' : 'busy';
  return html`<span class=${`badge ${tone}`} data-status=${s}>${s}</span>`;
}

const short = (value: unknown) => {
  const text = value === undefined ? '(none)' : JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
};

/** A cluster's plan preview as lists: the writes (fields of an update), the pods recreated, the switchover. */
function PlanView(props: { plan: ClusterPreview }) {
  const { plan } = props;
  const sts = plan.statefulSet;
  const notes = [
    sts.rollingUpdate && `Rolling update: ${sts.rollingUpdate}`,
    sts.recreate && `StatefulSet re-created: ${sts.recreate}`,
    sts.volumeResize && `Volume resized from ${sts.volumeResize.from} to ${sts.volumeResize.to}`,
    sts.scaleDown && `Scale down from ${sts.scaleDown.from} to ${sts.scaleDown.to} pods`,
    plan.podsToRecreate.length > 0 && `Pods recreated: ${plan.podsToRecreate.join(', ')}`,
    plan.podsToRecreate.length > 0 && `Switchover: ${plan.switchover.happens ? 'yes' : 'no'} (${plan.switchover.why})`,
    ...plan.refusals.map((r) => `Refused: ${typeof r === 'string' ? r : JSON.stringify(r)}`),
    ...plan.warnings.map((w) => `Warning: ${w}`),
  ].filter(Boolean);
  return html`<ul class="plan-actions">
      ${plan.actions.length === 0 ? html`<li>No object changes.</li>` : null}
      ${plan.actions.map(
        (a) =>
          html`<li data-action=${`${a.change} ${a.kind}/${a.name}`}>
            <strong>${a.change}</strong> ${a.kind}/${a.name}
            ${
              a.change === 'updated' && a.fields.length
                ? html`<ul>
                    ${a.fields.slice(0, 12).map((f) => html`<li><code>${f.path}</code>: ${short(f.from)} → ${short(f.to)}</li>`)}
                    ${a.fields.length > 12 ? html`<li>… ${a.fields.length - 12} more</li>` : null}
                  </ul>`
                : null
            }
          </li>`,
      )}
    </ul>
    ${notes.map((n) => html`<p>${n}</p>`)}`;
}

/** What the plan preview (`POST <api>/plan`) says the functions would do; another answer shape is shown as JSON. */
export function PlanPreview(props: { manifest: unknown }) {
  const [plan, setPlan] = useState<{ ok: boolean; value: unknown } | undefined>(undefined);
  useEffect(() => {
    if (!props.manifest) return;
    let live = true;
    setPlan(undefined);
    call<unknown>('POST', '../plan', props.manifest)
      .then((value) => live && setPlan({ ok: true, value }))
      .catch((e: unknown) => live && setPlan({ ok: false, value: e instanceof Error ? e.message : String(e) }));
    return () => {
      live = false;
    };
  }, [JSON.stringify(props.manifest)]);
  if (!props.manifest) return null;
  const value = plan?.value as ClusterPreview | undefined;
  return html`<div class="plan" id="plan">
    <h3>What the operator would do (plan preview, nothing applied)</h3>
    ${
      plan === undefined
        ? html`<p>Asking for the plan…</p>`
        : !plan.ok
          ? html`<p class="muted">No plan preview: ${String(plan.value)}</p>`
          : Array.isArray(value?.actions)
            ? html`<${PlanView} plan=${value} />`
            : html`<pre>${JSON.stringify(plan.value, null, 2)}</pre>`
    }
  </div>`;
}

/** A table head of these column titles. */
export function Head(props: { titles: string[] }) {
  return html`<thead>
    <tr>
      ${props.titles.map((t) => html`<th>${t}</th>`)}
    </tr>
  </thead>`;
}

/** A result line after an action: what was done, or why not. */
export function Outcome(props: { text: string; bad?: boolean }) {
  return props.text ? html`<p class=${props.bad ? 'outcome bad' : 'outcome'} role="status">${props.text}</p>` : null;
}
