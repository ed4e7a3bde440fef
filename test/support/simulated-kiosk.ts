/**
 * A kiosk as the fleet sees it, without the kiosk: it enrols and checks in over real HTTP through
 * FLEET_ROUTES with a realistic inventory (a Raspberry Pi 4 or a small PC: MACs, addresses,
 * displays, USB devices, temperature and throttling), a person sitting at it or not, its health and
 * repairs, its update state, and it answers the administrators' commands (a screenshot is a real PNG). Every body it
 * sends is checked against the contract first, so a simulated kiosk cannot send what a real one
 * could not.
 */
import { PNG } from 'pngjs';
import type { AppliedSettings, CheckIn, CheckInReply, Command, CommandAck, Enrolment, Health, Inventory, SeatSession } from '../../contract/fleet.js';
import { CheckIn as CheckInSchema, CheckInReply as CheckInReplySchema, Enrolment as EnrolmentSchema, EnrolRequest } from '../../contract/fleet.js';
import { FLEET_ROUTES } from '../../contract/routes.js';
import type { UpdateStatus } from '../../contract/update-status.js';
import { routeCaller, type RouteCaller } from './controller-call.js';

export type Hardware = 'pi4' | 'pc';

export interface SimulatedKioskOptions {
  hardware: Hardware;
  hostname: string;
  /** The last octet of its addresses and MAC, so kiosks differ. */
  number: number;
  kioskVersion?: string;
  imageVersion?: string;
  temperatureC?: number | null;
  /** Under-voltage now and since boot (a Pi on a weak power supply). */
  underVoltage?: boolean;
}

export class SimulatedKiosk {
  readonly macs: string[];
  enrolment: Enrolment | null = null;
  session: SeatSession = null;
  health: Health = { restarts: 0, crashes: 0, lastCrash: null, repairs: [] };
  applied: AppliedSettings | null = null;
  /** What its update agent says (slot, phase, last trial); null: an image without A/B updates. */
  update: UpdateStatus | null = null;
  /** What the last check-in answered. */
  lastReply: CheckInReply | null = null;
  private readonly call: RouteCaller;
  private readonly acks: CommandAck[] = [];
  private readonly startedAt = Date.now();

  constructor(controllerUrl: string, readonly options: SimulatedKioskOptions) {
    this.call = routeCaller(controllerUrl);
    const n = options.number.toString(16).padStart(2, '0');
    this.macs = options.hardware === 'pi4' ? [`dc:a6:32:4e:10:${n}`, `dc:a6:32:4e:11:${n}`] : [`6c:4b:90:2a:77:${n}`];
  }

  get id(): string {
    if (!this.enrolment) throw new Error(`${this.options.hostname} has not enrolled`);
    return this.enrolment.kioskId;
  }

  inventory(): Inventory {
    const { hardware, hostname, number } = this.options;
    const pi = hardware === 'pi4';
    const underVoltage = this.options.underVoltage ?? false;
    return {
      hostname,
      macs: this.macs,
      addresses: [
        { iface: pi ? 'eth0' : 'enp1s0', address: `10.0.3.${number}/24` },
        { iface: pi ? 'eth0' : 'enp1s0', address: `fe80::dea6:32ff:fe4e:10${number.toString(16).padStart(2, '0')}/64` },
      ],
      board: pi ? 'Raspberry Pi 4 Model B Rev 1.5' : 'LENOVO ThinkCentre M75q Gen 2 (11JN)',
      imageVersion: this.options.imageVersion ?? '2025.06.1',
      slot: pi ? 'A' : null,
      uptimeSeconds: Math.round((Date.now() - this.startedAt) / 1000) + 3 * 3600 + number * 61,
      bootSeconds: pi ? 23.4 : 11.8,
      temperatureC: this.options.temperatureC !== undefined ? this.options.temperatureC : pi ? 51.6 : 43.0,
      throttling: pi ? {
        underVoltage, frequencyCapped: underVoltage, throttled: underVoltage, softTemperatureLimit: false,
        underVoltageSinceBoot: underVoltage, throttledSinceBoot: underVoltage,
      } : null,
      displays: pi ? [{ name: 'HDMI-A-1', width: 1920, height: 1080 }] : [{ name: 'DP-1', width: 2560, height: 1440 }, { name: 'HDMI-A-1', width: 1920, height: 1080 }],
      usb: pi
        ? [{ vendorId: '046d', productId: 'c31c', name: 'Logitech USB Keyboard' }, { vendorId: '046d', productId: 'c077', name: 'Logitech USB Optical Mouse' }]
        : [{ vendorId: '04f2', productId: '1516', name: 'Chicony USB Keyboard' }, { vendorId: '0bda', productId: '0129', name: 'Realtek USB2.0 Card Reader' }, { vendorId: '1050', productId: '0407', name: 'Yubico YubiKey OTP+FIDO+CCID' }],
    };
  }

  /** Enrols with a site token, or (without one) by its registered MAC. */
  async enrol(siteToken?: string): Promise<Enrolment> {
    const body = EnrolRequest.parse({ ...(siteToken ? { siteToken } : {}), hardware: { macs: this.macs, hostname: this.options.hostname, board: this.inventory().board } });
    const answer = await this.call(FLEET_ROUTES.enrol, { body });
    if (answer.status !== 200 && answer.status !== 201) throw new Error(`${this.options.hostname}: enrolment answered ${answer.status} ${JSON.stringify(answer.body)}`);
    this.enrolment = EnrolmentSchema.parse(answer.body);
    return this.enrolment;
  }

  /** One check-in: reports itself, answers the commands it ran, and takes the settings and new commands. */
  async checkIn(): Promise<CheckInReply> {
    const body: CheckIn = CheckInSchema.parse({
      kioskVersion: this.options.kioskVersion ?? '0.1.0', inventory: this.inventory(), session: this.session,
      health: this.health, applied: this.applied, acks: this.acks, update: this.update,
    });
    const answer = await this.call(FLEET_ROUTES.checkIn, { token: this.credential(), body });
    if (answer.status !== 200) throw new Error(`${this.options.hostname}: check-in answered ${answer.status} ${JSON.stringify(answer.body)}`);
    this.acks.length = 0;
    // Faults and restarts are reported once, like the kiosk's own counters since the last check-in.
    this.health = { restarts: 0, crashes: 0, lastCrash: this.health.lastCrash, repairs: [] };
    this.lastReply = CheckInReplySchema.parse(answer.body);
    return this.lastReply;
  }

  /** Applies the settings of the last check-in (kiosk keys at once, image keys at the next boot). */
  applySettings(imageKeys: readonly string[] = ['hostname', 'timezone', 'keyboard', 'keyboard_variant', 'wifi_ssid', 'wifi_password', 'boot_server', 'ssh_key']): void {
    const settings = this.lastReply?.settings;
    if (!settings) throw new Error('no settings received yet');
    this.applied = {
      revision: settings.revision, at: new Date().toISOString(), problems: [],
      keys: Object.fromEntries(Object.keys(settings.values).map((key) => [key, imageKeys.includes(key) ? 'next-boot' : 'applied'])),
    };
  }

  /** The commands the last check-in handed out. */
  commands(): Command[] {
    return this.lastReply?.commands ?? [];
  }

  /** Answers a command at the next check-in. */
  ack(command: Command, outcome: 'done' | 'failed', detail?: string): void {
    this.acks.push({ id: command.id, outcome, at: new Date().toISOString(), ...(detail ? { detail } : {}) });
  }

  /** Uploads a screenshot for a screenshot command: a real PNG of `width`×`height`. */
  async uploadScreenshot(command: Command, png: Buffer = testPicture(640, 400)): Promise<number> {
    const answer = await this.call(FLEET_ROUTES.screenshot, { token: this.credential(), body: { commandId: command.id, pngBase64: png.toString('base64') } });
    return answer.status;
  }

  private credential(): string {
    if (!this.enrolment) throw new Error(`${this.options.hostname} has not enrolled`);
    return `${this.enrolment.kioskId}.${this.enrolment.secret}`;
  }
}

/** A picture a person would recognise as a login screen's colours: a dark band over a light field, a blue square. */
export function testPicture(width: number, height: number): Buffer {
  const png = new PNG({ width, height });
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const i = (y * width + x) * 4;
      const band = y < height / 8;
      const square = Math.abs(x - width / 2) < width / 8 && Math.abs(y - height / 2) < height / 6;
      const [r, g, b] = band ? [22, 32, 43] : square ? [31, 111, 235] : [233, 237, 242];
      png.data[i] = r;
      png.data[i + 1] = g;
      png.data[i + 2] = b;
      png.data[i + 3] = 255;
    }
  }
  return PNG.sync.write(png);
}
