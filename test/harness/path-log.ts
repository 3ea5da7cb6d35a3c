/**
 * A log of the writes, fsyncs, folders made and names removed that a process makes under one
 * folder, in the order the system calls returned, for tests of what is on the disk when. A
 * power cut keeps what was fsynced: a file's bytes once the file is, a name made or removed
 * once its folder is.
 *
 * An LD_PRELOAD shim (C, built here with the machine's cc) wraps libc's write family, fsync,
 * fdatasync, mkdir, unlink, unlinkat and remove: after each call that succeeded on a path
 * under PATH_LOG_UNDER (a descriptor's path read from /proc/self/fd) it appends one line to
 * the file named by PATH_LOG, with O_APPEND (LMDB writes from threads of its own):
 *
 *   W <path>   a write returned        S <path>   an fsync or fdatasync returned
 *   M <path>   a folder was made       U <path>   a name was removed
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

const shimSource = String.raw`
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

static int logFd = -1;

static void note(char op, const char *path) {
  const char *under = getenv("PATH_LOG_UNDER");
  size_t n = under == NULL ? 0 : strlen(under);
  if (n == 0 || strncmp(path, under, n) != 0 || (path[n] != '/' && path[n] != 0)) return;
  char line[PATH_MAX + 8];
  int length = snprintf(line, sizeof line, "%c %s\n", op, path);
  if (logFd < 0) logFd = (int)syscall(SYS_open, getenv("PATH_LOG"), O_WRONLY | O_APPEND, 0);
  syscall(SYS_write, logFd, line, (size_t)length);
}

static void noteFd(char op, int fd, long long rc) {
  char link[64], path[PATH_MAX];
  if (rc < 0) return;
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  ssize_t n = readlink(link, path, sizeof path - 1);
  if (n <= 0) return;
  path[n] = 0;
  note(op, path);
}

static void notePath(char op, const char *given, int rc) {
  char path[PATH_MAX];
  if (rc != 0) return;
  if (given[0] == '/') note(op, given);
  else if (getcwd(path, sizeof path) != NULL) {
    strncat(path, "/", sizeof path - strlen(path) - 1);
    strncat(path, given, sizeof path - strlen(path) - 1);
    note(op, path);
  }
}

#define REAL(name) static __typeof__(name) *real; if (!real) real = dlsym(RTLD_NEXT, #name)

ssize_t write(int fd, const void *b, size_t n) {
  REAL(write); ssize_t r = real(fd, b, n); noteFd('W', fd, r); return r;
}
ssize_t pwrite(int fd, const void *b, size_t n, off_t off) {
  REAL(pwrite); ssize_t r = real(fd, b, n, off); noteFd('W', fd, r); return r;
}
ssize_t pwrite64(int fd, const void *b, size_t n, off64_t off) {
  REAL(pwrite64); ssize_t r = real(fd, b, n, off); noteFd('W', fd, r); return r;
}
ssize_t writev(int fd, const struct iovec *v, int c) {
  REAL(writev); ssize_t r = real(fd, v, c); noteFd('W', fd, r); return r;
}
ssize_t pwritev(int fd, const struct iovec *v, int c, off_t off) {
  REAL(pwritev); ssize_t r = real(fd, v, c, off); noteFd('W', fd, r); return r;
}
ssize_t pwritev64(int fd, const struct iovec *v, int c, off64_t off) {
  REAL(pwritev64); ssize_t r = real(fd, v, c, off); noteFd('W', fd, r); return r;
}
int fsync(int fd) { REAL(fsync); int r = real(fd); noteFd('S', fd, r); return r; }
int fdatasync(int fd) { REAL(fdatasync); int r = real(fd); noteFd('S', fd, r); return r; }
int mkdir(const char *p, mode_t m) {
  REAL(mkdir); int r = real(p, m); notePath('M', p, r); return r;
}
int unlink(const char *p) { REAL(unlink); int r = real(p); notePath('U', p, r); return r; }
int remove(const char *p) { REAL(remove); int r = real(p); notePath('U', p, r); return r; }
int unlinkat(int dirfd, const char *p, int flags) {
  REAL(unlinkat); int r = real(dirfd, p, flags);
  if (dirfd == AT_FDCWD || p[0] == '/') notePath('U', p, r);
  return r;
}
`;

/** Builds the shim in `dir`; returns its path (for LD_PRELOAD). Throws when cc is missing. */
export function buildPathShim(dir: string): string {
  const source = join(dir, 'path-shim.c');
  const library = join(dir, 'path-shim.so');
  writeFileSync(source, shimSource);
  execFileSync('cc', ['-shared', '-fPIC', '-O1', '-o', library, source, '-ldl']);
  return library;
}

/** One line of the log. */
export interface PathOp {
  op: 'W' | 'S' | 'M' | 'U';
  path: string;
}

/** Parses the log's text (allocates). */
export function parsePathLog(text: string): PathOp[] {
  const ops: PathOp[] = [];
  for (const line of text.split('\n')) {
    if (line === '') continue;
    ops.push({ op: line[0] as PathOp['op'], path: line.slice(2) });
  }
  return ops;
}
