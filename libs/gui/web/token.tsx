// Asked for when the control plane refuses a read: this page is not on localhost, so reads need the
// admin token. It is kept in this tab's sessionStorage, sent as a header, and never put in a URL.
import { useRef } from 'preact/hooks';
import { token } from './api.js';

export function TokenForm(props: { status: number; onToken: () => void }) {
  const input = useRef<HTMLInputElement>(null);
  const rejected = props.status === 403 && token.get() !== null;
  return (
    <form
      class="token"
      aria-labelledby="token-h"
      onSubmit={(e) => {
        e.preventDefault();
        const value = input.current?.value.trim() ?? '';
        if (value === '') return;
        token.set(value);
        props.onToken();
      }}
    >
      <h1 id="token-h">Admin token needed</h1>
      <p>
        This control plane answers reads without a token only on localhost. Paste its admin token (the file <code>admin-token</code> in its
        data directory). It stays in this browser tab only.
      </p>
      {rejected && (
        <p class="error" role="alert">
          That token is not valid for this control plane.
        </p>
      )}
      <label for="token-input">Admin token</label>
      <input id="token-input" ref={input} type="password" autocomplete="off" required autoFocus />
      <button type="submit">Use this token</button>
    </form>
  );
}
