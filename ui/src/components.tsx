// Small pieces every page uses: status badges, the confirmation dialog, messages.
import type { ComponentChildren } from "preact";
import { useEffect, useRef } from "preact/hooks";

/** A status with its colour and its word (colour alone says nothing to a screen reader or a colour-blind reader). */
export function Status(props: { kind: "health" | "sync" | "phase"; value: string | undefined; title?: string }) {
  const value = props.value ?? "Unknown";
  return (
    <span class={`badge ${props.kind} s-${value}`} title={props.title ?? `${props.kind}: ${value}`} data-testid={`${props.kind}-status`}>
      <span class="dot" aria-hidden="true" />
      {value}
    </span>
  );
}

export function Message(props: { error?: string | undefined; info?: string | undefined }) {
  if (props.error) return <p class="msg error" role="alert">{props.error}</p>;
  if (props.info) return <p class="msg info" role="status">{props.info}</p>;
  return null;
}

/**
 * A modal that says what will happen before it happens. `onConfirm` runs on the confirm button;
 * Escape or Cancel closes it.
 */
export function Confirm(props: {
  title: string;
  confirmLabel: string;
  danger?: boolean;
  onConfirm: () => void;
  onClose: () => void;
  children: ComponentChildren;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const dialog = ref.current;
    if (dialog && !dialog.open) dialog.showModal();
  }, []);
  return (
    <dialog ref={ref} aria-labelledby="confirm-title" onClose={props.onClose}>
      <form method="dialog" onSubmit={(e) => { e.preventDefault(); props.onConfirm(); }}>
        <h2 id="confirm-title">{props.title}</h2>
        <div class="dialog-body">{props.children}</div>
        <div class="dialog-actions">
          <button type="button" onClick={props.onClose}>Cancel</button>
          <button type="submit" class={props.danger ? "danger" : "primary"}>{props.confirmLabel}</button>
        </div>
      </form>
    </dialog>
  );
}

export const shortRevision = (rev: string | undefined) => (rev && /^[0-9a-f]{40}$/.test(rev) ? rev.slice(0, 7) : rev ?? "");

/** "3 minutes ago" for recent times, the date otherwise; the exact time in the tooltip. */
export function When(props: { at: string | undefined }) {
  if (!props.at) return <span>-</span>;
  const seconds = Math.round((Date.now() - Date.parse(props.at)) / 1000);
  const text = seconds < 60 ? `${Math.max(seconds, 0)}s ago` : seconds < 3600 ? `${Math.round(seconds / 60)}m ago`
    : seconds < 86_400 ? `${Math.round(seconds / 3600)}h ago` : new Date(props.at).toLocaleDateString();
  return <time dateTime={props.at} title={props.at}>{text}</time>;
}
