// Copies the non-TypeScript files the program loads at run time (the sandbox's Python server,
// WebAssembly kernels, bundled JSON) from src/ to dist/, keeping their relative paths.
import { cpSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, extname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const assetExtensions = new Set(['.py', '.wasm', '.json', '.html', '.css', '.safetensors', '.txt']);

function walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) walk(path);
    else if (assetExtensions.has(extname(name))) {
      const target = join(root, 'dist', relative(join(root, 'src'), path));
      mkdirSync(dirname(target), { recursive: true });
      cpSync(path, target);
    }
  }
}
walk(join(root, 'src'));
