/**
 * The shell's log: one JSON line per event on stderr, which the kiosk's systemd service sends to
 * the journal. (The same shape as the controller's log; the kiosk package does not ship controller/.)
 */
export type ShellLog = (level: 'info' | 'warn' | 'error', event: string, fields?: Record<string, unknown>) => void;

export const stderrLog: ShellLog = (level, event, fields = {}) => {
  process.stderr.write(JSON.stringify({ time: new Date().toISOString(), level, event, ...fields }) + '\n');
};
