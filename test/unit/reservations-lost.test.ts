/** reservations-lost (issue 21, item 7): two or more reserved hosts moving at once have one root; one alone stays host-moved. */
import { describe, expect, it } from 'vitest';
import { diagnose } from '../../src/diagnose/index.js';
import { recordedScenario } from '../support/scenarios.js';

describe('reservations-lost', () => {
  it('both Pis moved into the pool: one root names the lost reservations and explains each move', () => {
    const s = recordedScenario('reservations-lost');
    const d = diagnose(s.run.observations, s.config);
    const roots = d.findings.filter((f) => f.root && f.severity !== 'unknown');
    expect(roots.map((f) => f.key)).toEqual(['reservations-lost{}']);
    const root = roots[0];
    expect(root.title).toBe('The router lost its DHCP reservations: pi-dns and pi-vpn took pool addresses at once');
    expect(root.explanation).toContain('2 reserved hosts moved in this run: pi-dns 192.168.1.10 → 192.168.1.128 and pi-vpn 192.168.1.20 → 192.168.1.144.');
    expect(root.explains).toEqual(['host-moved{actual=192.168.1.128,expected=192.168.1.10,host=pi-dns}', 'host-moved{actual=192.168.1.144,expected=192.168.1.20,host=pi-vpn}']);
    expect(root.fixes[0].steps).toContain('Reserve 192.168.1.10 for b8:27:eb:00:00:10 (pi-dns).');
  });

  it('one host moving alone stays host-moved, its own root', () => {
    const s = recordedScenario('reservations-lost');
    const observations = s.run.observations.filter((o) => !(o.probe === 'hosts' && o.check === 'host' && (o.labels.host ?? o.subject) === 'pi-vpn'));
    const d = diagnose(observations, s.config);
    expect(d.findings.map((f) => f.id)).not.toContain('reservations-lost');
    expect(d.findings.filter((f) => f.root && f.severity !== 'unknown').map((f) => f.key)).toContain('host-moved{actual=192.168.1.128,expected=192.168.1.10,host=pi-dns}');
  });
});
