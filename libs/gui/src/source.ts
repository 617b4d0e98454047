// What a control plane gives its GUI: the store the views read, its zones as it sees them, and on
// global the rotation view the validators use. The apps implement it (apps/*/src/gui-source.ts).
import type { RotationView } from '@meshca/api';
import type { ResourceStore } from '@meshca/store';
import type { ZoneDetail } from './contract.js';

export interface GuiSource {
  mode: 'global' | 'zone';
  /** On a zone: its name. */
  zone?: string;
  version: string;
  store: ResourceStore;
  /** Every zone and its stream; on a zone, itself. */
  zones(): Promise<ZoneDetail[]>;
  /** A number that changes whenever zones() may answer differently (a zone connects, ACKs, NACKs, drops). */
  zonesVersion(): number;
  /** Global: what the rotation validators see of a mesh, so the GUI says which step may come next. */
  rotationView?(mesh: string): Promise<RotationView>;
}
