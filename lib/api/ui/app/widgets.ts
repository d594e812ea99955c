/// <reference lib="dom" />
/** Small pieces shared by the pages: data loading with refresh, badges, the plan preview. */
import { h } from 'preact';
import htm from 'htm';
import { useEffect, useState } from 'preact/hooks';
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

/** What the plan preview (`POST <api>/plan`) says the functions would do; any answer shape is shown as JSON. */
export function PlanPreview(props: { manifest: unknown }) {
  const [plan, setPlan] = useState<{ ok: boolean; text: string } | undefined>(undefined);
  useEffect(() => {
    if (!props.manifest) return;
    let live = true;
    setPlan(undefined);
    call<unknown>('POST', '../plan', props.manifest)
      .then((value) => live && setPlan({ ok: true, text: JSON.stringify(value, null, 2) }))
      .catch((e: unknown) => live && setPlan({ ok: false, text: e instanceof Error ? e.message : String(e) }));
    return () => {
      live = false;
    };
  }, [JSON.stringify(props.manifest)]);
  if (!props.manifest) return null;
  return html`<div class="plan" id="plan">
    <h3>What the operator would do (plan preview, nothing applied)</h3>
    ${
      plan === undefined
        ? html`<p>Asking for the plan…</p>`
        : plan.ok
          ? html`<pre>${plan.text}</pre>`
          : html`<p class="muted">No plan preview: ${plan.text}</p>`
    }
  </div>`;
}

/** A result line after an action: what was done, or why not. */
export function Outcome(props: { text: string; bad?: boolean }) {
  return props.text ? html`<p class=${props.bad ? 'outcome bad' : 'outcome'} role="status">${props.text}</p>` : null;
}
