/**
 * The fleet's commands (contract/fleet.ts Command), each id run once: the ids already run are kept
 * on the settings partition before a command starts (a reboot or a crash halfway does not run it
 * again when the controller sends it again), and each outcome waits in the outbox until a check-in
 * has carried it to the controller.
 *
 * A command that ends the app (restart-app, reboot) writes its outcome first, then acts: the
 * outcome reaches the controller at the first check-in after the restart.
 */
import type { Command, CommandAck, CommandKind } from '../../../contract/fleet.js';
import type { FleetFiles } from './fleet-files.js';

export interface CommandResult {
  /** What came of it, for the admin ("screenshot sent"). */
  detail: string;
  /** What ends this app (restart, reboot): run after the outcome is saved; no later command of the batch runs. */
  finally?: () => Promise<void>;
}

export type CommandHandlers = Record<CommandKind, (command: Command) => Promise<CommandResult>>;

export class FleetCommands {
  constructor(
    private readonly files: FleetFiles,
    private readonly handlers: CommandHandlers,
    private readonly now: () => Date,
    private readonly log: (level: 'info' | 'warn' | 'error', message: string) => void,
  ) {}

  /** Runs the commands not run before, in order. Resolves when each has an outcome. */
  async run(commands: readonly Command[]): Promise<void> {
    for (const command of commands) {
      if (this.files.readOutbox().ranIds.includes(command.id)) continue;
      this.files.updateOutbox((outbox) => ({ ...outbox, ranIds: [...outbox.ranIds, command.id] }));
      this.log('info', `fleet: command ${command.kind} (${command.id}) from ${command.issuedBy}`);
      let result: CommandResult;
      try {
        result = await this.handlers[command.kind](command);
      } catch (error) {
        this.answer(command, 'failed', error instanceof Error ? error.message : String(error));
        continue;
      }
      this.answer(command, 'done', result.detail);
      if (result.finally) {
        try {
          await result.finally();
        } catch (error) {
          this.answer(command, 'failed', error instanceof Error ? error.message : String(error));
          continue;
        }
        return;
      }
    }
  }

  /** Outcomes not yet told. */
  pending(): CommandAck[] {
    return this.files.readOutbox().acks;
  }

  /** These outcomes reached the controller. */
  told(acks: readonly CommandAck[]): void {
    const sent = new Set(acks.map((ack) => JSON.stringify(ack)));
    this.files.updateOutbox((outbox) => ({ ...outbox, acks: outbox.acks.filter((ack) => !sent.has(JSON.stringify(ack))) }));
  }

  private answer(command: Command, outcome: CommandAck['outcome'], detail: string): void {
    const ack: CommandAck = { id: command.id, outcome, detail: oneLine(detail), at: this.now().toISOString() };
    // A later outcome of the same command (a reboot that could not be asked for) replaces the earlier one.
    this.files.updateOutbox((outbox) => ({ ...outbox, acks: [...outbox.acks.filter((a) => a.id !== command.id), ack] }));
    this.log(outcome === 'done' ? 'info' : 'warn', `fleet: command ${command.kind} (${command.id}) ${outcome}: ${detail}`);
  }
}

function oneLine(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\x00-\x1f\x7f]+/g, ' ').trim().slice(0, 200);
}
