// Copies the non-TypeScript files the program loads at run time (the sandbox's Python server,
// WebAssembly kernels, bundled JSON) from src/ to the build folder named by the argument (dist or
// dist-test), keeping their relative paths. Test data under testing/ folders goes to dist-test only.
import { cpSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import { dirname, extname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const outName = process.argv[2] ?? 'dist';
if (outName !== 'dist' && outName !== 'dist-test') {
  console.error(`copy-assets: the output folder must be dist or dist-test, not ${outName}`);
  process.exit(2);
}
const includeTesting = outName === 'dist-test';
const assetExtensions = new Set(['.py', '.wasm', '.json', '.html', '.css', '.safetensors', '.txt']);

function walk(dir) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) {
      if (name !== 'testing' || includeTesting) walk(path);
    }
    else if (assetExtensions.has(extname(name))) {
      const target = join(root, outName, relative(join(root, 'src'), path));
      mkdirSync(dirname(target), { recursive: true });
      cpSync(path, target);
    }
  }
}
walk(join(root, 'src'));
