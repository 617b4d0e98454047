// The issuance counters and the in-flight gauge as Prometheus reads them.
import { describe, expect, it } from 'vitest';
import { createMetricsRegistry } from '@meshca/common';
import { createIssuanceMetrics } from '../src/issuance-metrics.js';

const target = { mesh: 'default', backend: 'ca-1', type: 'builtin' };
const line = (text: string, series: string) => text.split('\n').find((l) => l.startsWith(`${series} `));

describe('issuance metrics', () => {
  it('counts issued and failed per backend, and shows in flight only while a call is', async () => {
    const registry = createMetricsRegistry();
    const observer = createIssuanceMetrics(registry);
    const l = '{mesh="default",backend="ca-1",type="builtin"}';
    const first = observer.caCall(target);
    const second = observer.caCall(target);
    expect(line(await registry.metrics(), `meshca_issuances_in_flight${l}`)).toBe(`meshca_issuances_in_flight${l} 2`);
    first(true);
    expect(line(await registry.metrics(), `meshca_issuances_in_flight${l}`)).toBe(`meshca_issuances_in_flight${l} 1`);
    second(false);
    observer.failed('default', target, 'ca_error');
    observer.failed('default', undefined, 'ca_unavailable');
    const text = await registry.metrics();
    // Back at zero: the series goes (a backend removed from its mesh leaves no gauge behind).
    expect(text).not.toContain('meshca_issuances_in_flight{');
    expect(line(text, `cert_generation_total${l}`)).toBe(`cert_generation_total${l} 1`);
    expect(line(text, `ca_manager_get_cert_seconds_count${l}`)).toBe(`ca_manager_get_cert_seconds_count${l} 2`);
    expect(line(text, 'cert_generation_failure_total{mesh="default",backend="ca-1",reason="ca_error"}')).toMatch(/ 1$/);
    expect(line(text, 'cert_generation_failure_total{mesh="default",backend="",reason="ca_unavailable"}')).toMatch(/ 1$/);
  });
});
