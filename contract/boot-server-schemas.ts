/**
 * What the boot server's switch and status files hold (contract/boot-server-files.ts says where they
 * are and reads and writes them). Without Node imports: the kiosk's page shows the status's events
 * (kiosk-api.ts's BootServerView), and the page is compiled without Node's types.
 */
import { z } from 'zod';

export const BootServerSwitch = z.object({ enabled: z.boolean(), changedAt: z.string() });
export type BootServerSwitch = z.infer<typeof BootServerSwitch>;

export const BootEvent = z.object({
  at: z.string(),
  kind: z.enum(['dhcp', 'tftp', 'http']),
  /** Client IP (TFTP, HTTP) or MAC (DHCP). */
  client: z.string(),
  detail: z.string(),
});
export type BootEvent = z.infer<typeof BootEvent>;

export const BootServerStatus = z.object({
  /** off: the service runs but is switched off (the admin's switch, or no "on" anywhere). */
  state: z.enum(['off', 'starting', 'running', 'stopped', 'failed']),
  /** Why it is on or off: "switched on on the admin screen", "boot_server = on in ...", ... */
  reason: z.string().optional(),
  since: z.string(),
  mode: z.enum(['proxy', 'full']),
  interface: z.string(),
  address: z.string().nullable(),
  httpUrl: z.string().nullable(),
  arches: z.array(z.string()),
  /** Things that keep some clients from booting (missing files, ...), as sentences. */
  problems: z.array(z.string()),
  /** Why the server is not running, when it failed. */
  error: z.string().nullable(),
  /** The last DHCP, TFTP and HTTP events, oldest first. */
  events: z.array(BootEvent),
});
export type BootServerStatus = z.infer<typeof BootServerStatus>;
