/**
 * File access for run directories and caches, which other people's files can share: a symlink
 * planted where a report or a temporary file will be written must not redirect the write, and a
 * symlink (or a FIFO, a device) planted where a file is read must not be followed or block.
 * Writes go to a fresh temporary file (created exclusively, never through a link) renamed over
 * the target: the rename replaces a link at the target instead of following it.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, constants, fstatSync, openSync, readSync, renameSync, rmSync, writeSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { InputError } from './errors.js';

const { O_WRONLY, O_RDONLY, O_RDWR, O_CREAT, O_EXCL, O_APPEND, O_NOFOLLOW, O_NONBLOCK } = constants;

function writeAll(fd: number, data: string | Uint8Array): void {
  const bytes = typeof data === 'string' ? Buffer.from(data) : data;
  for (let offset = 0; offset < bytes.length; ) offset += writeSync(fd, bytes, offset, bytes.length - offset);
}

/** Writes `data` to `path` by way of a fresh temporary file beside it (atomic; never follows a symlink). */
export function writeFileSafely(path: string, data: string | Uint8Array): void {
  const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  const fd = openSync(temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0o644);
  try {
    writeAll(fd, data);
  } catch (error) {
    closeSync(fd);
    rmSync(temporary, { force: true });
    throw error;
  }
  closeSync(fd);
  try {
    renameSync(temporary, path);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}

/** Opens a regular file without following a symlink in its last component; throws InputError otherwise. */
export function openRegularFile(path: string, flags: 'read' | 'append' | 'update'): number {
  const mode = flags === 'read' ? O_RDONLY : flags === 'append' ? O_WRONLY | O_APPEND | O_CREAT : O_RDWR | O_CREAT;
  let fd: number;
  try {
    // O_NONBLOCK: opening a planted FIFO must not hang; it is refused below as not a regular file.
    fd = openSync(path, mode | O_NOFOLLOW | O_NONBLOCK, 0o644);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ELOOP') throw new InputError('is a symbolic link; refusing to follow it', path);
    throw error;
  }
  if (!fstatSync(fd).isFile()) {
    closeSync(fd);
    throw new InputError('is not a regular file', path);
  }
  return fd;
}

/** Appends to a regular file (created if absent) without following a symlink. */
export function appendFileSafely(path: string, data: string | Uint8Array): void {
  const fd = openRegularFile(path, 'append');
  try {
    writeAll(fd, data);
  } finally {
    closeSync(fd);
  }
}

/** Reads a whole regular file without following a symlink (a link, FIFO or device is an InputError). */
export function readRegularFile(path: string): Buffer {
  const fd = openRegularFile(path, 'read');
  try {
    const size = fstatSync(fd).size;
    const buffer = Buffer.alloc(size);
    let filled = 0;
    while (filled < size) {
      const read = readSync(fd, buffer, filled, size - filled, filled);
      if (read === 0) break;
      filled += read;
    }
    return buffer.subarray(0, filled);
  } finally {
    closeSync(fd);
  }
}
