// What a failed TLS verification means for the operator: the address that was dialled, the names
// the server's certificate covers, and the flag that fixes it. Node's own message ("Hostname/IP
// does not match certificate's altnames") names neither the fix nor, at times, the names.

interface TlsError extends Error {
  code?: string;
  host?: string;
  cert?: { subjectaltname?: string };
}

export interface TlsPeer {
  /** The address that was dialled, e.g. wss://global.example:5685/kds. */
  url: string;
  /** The binary on the other end, e.g. meshca-global. */
  server: string;
  /** The flag on this side that names the CA to trust, e.g. --global-ca-file. */
  caFlag: string;
}

const UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'UNABLE_TO_GET_ISSUER_CERT',
]);

export function explainTlsError(err: Error, peer: TlsPeer): string {
  const e = err as TlsError;
  const host = e.host ?? hostOf(peer.url);
  if (e.code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    const names = (e.cert?.subjectaltname ?? '').replace(/IP Address:/g, 'IP:') || 'no names';
    return `${peer.url}: the certificate of ${peer.server} does not cover "${host}" (it covers ${names}); start ${peer.server} with --tls-san ${host} (its certificate is re-issued from the same CA, so ${peer.caFlag} stays valid), or dial one of the names it covers`;
  }
  if (e.code !== undefined && UNTRUSTED.has(e.code)) {
    return `${peer.url}: the certificate of ${peer.server} is not signed by a CA this side trusts (${e.code}); pass the CA that signed it with ${peer.caFlag} (a generated one is in ${peer.server}'s data dir)`;
  }
  if (e.code === 'CERT_HAS_EXPIRED')
    return `${peer.url}: the certificate of ${peer.server} has expired; renew it (or remove the generated one from its data dir and restart it)`;
  return `${peer.url}: ${err.message}`;
}

function hostOf(url: string): string {
  try {
    return new URL(url).hostname.replace(/^\[|\]$/g, '');
  } catch {
    return url;
  }
}
