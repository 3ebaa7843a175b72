import type { Hono } from 'hono';
import type { ChaosControl } from '../chaos/chaos-control.js';
import { type ChaosSettings, chaosStages } from '../config/chaos-schema.js';
import { readJson } from './message-routes.js';
import type { Outgoing } from './outgoing.js';
import { type ChaosSettingsWire, chaosSettingsWireSchema } from './schemas/chaos-schemas.js';

/** GET and PUT /api/v1/chaos: the SMTP fault injection in force, replaceable at run time. */
export function registerChaosRoutes(app: Hono, chaos: ChaosControl): void {
  app.get('/api/v1/chaos', (context) => context.json(toWire(chaos.settings)));

  app.put('/api/v1/chaos', async (context) => {
    const body = await readJson(context, chaosSettingsWireSchema);
    if (!body.ok) return body.response;
    chaos.replace(fromWire(body.value));
    return context.json(toWire(chaos.settings));
  });
}

function toWire(settings: ChaosSettings): Outgoing<ChaosSettingsWire> {
  const wire: Record<string, unknown> = {};
  for (const stage of chaosStages) {
    const fault = settings[stage];
    if (fault === undefined) continue;
    const { delay, ...rest } = fault;
    wire[stage] = { ...rest, delayMs: delay };
  }
  return wire as Outgoing<ChaosSettingsWire>;
}

function fromWire(wire: ChaosSettingsWire): ChaosSettings {
  const settings: Record<string, unknown> = {};
  for (const stage of chaosStages) {
    const fault = wire[stage];
    if (fault === undefined) continue;
    const { delayMs, ...rest } = fault;
    settings[stage] = { ...rest, delay: delayMs };
  }
  return settings as ChaosSettings;
}
