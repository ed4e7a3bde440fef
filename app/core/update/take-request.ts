/**
 * Root's update service taking the kiosk's request file (update-request.ts says what it may hold).
 */
import { readFileSync, rmSync } from 'node:fs';
import { UpdateRequest } from './update-request.js';

export type TakenRequest = { request: UpdateRequest } | { junk: string } | null;

/**
 * Takes the kiosk's request file (null: there is none): removed first, so a request runs once
 * whatever happens to it; a file that is not a request comes back as `junk` for the log.
 */
export function takeRequest(file: string): TakenRequest {
  let text: string;
  try { text = readFileSync(file, 'utf8'); } catch { return null; }
  rmSync(file, { force: true });
  let raw: unknown = null;
  try { raw = JSON.parse(text); } catch { /* junk, below */ }
  const request = UpdateRequest.safeParse(raw);
  return request.success ? { request: request.data } : { junk: text.slice(0, 200) };
}
