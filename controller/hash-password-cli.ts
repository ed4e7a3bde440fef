/**
 * `node dist/controller/hash-password-cli.js`: prints the hash of a password for the static inventory
 * (users[].password). Asks twice on a terminal without echo; otherwise reads one line from stdin:
 *   echo -n 'secret' | node dist/controller/hash-password-cli.js
 */
import { createInterface } from 'node:readline';
import { hashPassword } from './core/password-hash.js';

async function readPassword(): Promise<string> {
  if (!process.stdin.isTTY) {
    let text = '';
    for await (const chunk of process.stdin) text += String(chunk);
    return text.replace(/\r?\n$/, '');
  }
  const ask = (prompt: string) => new Promise<string>((resolve) => {
    const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
    // Echo nothing while the password is typed; the prompt itself is written before muting.
    process.stderr.write(prompt);
    (rl as unknown as { _writeToOutput: (s: string) => void })._writeToOutput = () => {};
    rl.question('', (answer) => { rl.close(); process.stderr.write('\n'); resolve(answer); });
  });
  const first = await ask('Password: ');
  const second = await ask('Again: ');
  if (first !== second) {
    console.error('hash-password-cli: the two passwords differ; nothing printed. Try again.');
    process.exit(1);
  }
  return first;
}

const password = await readPassword();
if (!password) {
  console.error('hash-password-cli: empty password; nothing printed.');
  process.exit(1);
}
console.log(await hashPassword(password));
