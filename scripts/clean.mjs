// Empties a build folder before a build, so that a module moved or deleted in src/ leaves no stale
// compiled copy behind (a stale test would still run; a stale module would still ship).
import { rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const name = process.argv[2];
if (name !== 'dist' && name !== 'dist-test') {
  console.error(`clean: the folder must be dist or dist-test, not ${name}`);
  process.exit(2);
}
rmSync(join(root, name), { recursive: true, force: true });
