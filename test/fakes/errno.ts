import { constants } from 'node:os';

const MESSAGES: Record<string, string> = {
  EIO: 'Input/output error',
  ENXIO: 'No such device or address',
  EREMOTEIO: 'Remote I/O error',
  ETIMEDOUT: 'Connection timed out',
  EBADF: 'Bad file descriptor',
  ENOENT: 'No such file or directory',
  EACCES: 'Permission denied',
  EBUSY: 'Device or resource busy',
  EINVAL: 'Invalid argument',
};

/** Linux errno values Node's os.constants leaves out. */
const LINUX_ONLY: Record<string, number> = { EREMOTEIO: 121 };

/** An error shaped like the ones Node and native addons throw for a failed system call. */
export function errnoError(code: string, syscall: string): NodeJS.ErrnoException {
  const errno = (constants.errno as Record<string, number>)[code] ?? LINUX_ONLY[code];
  return Object.assign(new Error(`${code}, ${MESSAGES[code] ?? code} (${syscall})`), { code, errno: errno === undefined ? undefined : -errno, syscall });
}
