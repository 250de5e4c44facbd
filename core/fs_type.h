/* fs_type.h - which file system a path lives on, by the mount table.
 *
 * statfs's magic number says "fuseblk" or "fuse" for a FAT stick mounted
 * through FUSE (fusefat, or a desktop's udisks helper), so FAT is recognised
 * by the mount's type in /proc/self/mountinfo (the mount whose mount point
 * is the longest prefix of the path's real folder): vfat, msdos, umsdos,
 * fuse.fusefat / fuseblk.fusefat and the like, or a plain "fuseblk" whose
 * device starts with a FAT boot sector. statfs's MSDOS magic is the fallback
 * when the mount table cannot be read.
 */
#ifndef QK_FS_TYPE_H
#define QK_FS_TYPE_H

#include <stdbool.h>
#include <stddef.h>

/* The type of the mount holding `dir` (an existing folder), e.g. "ext4",
 * "vfat", "fuse.fusefat", and its source (device or FUSE name); false when
 * the mount table cannot be read or has no mount for it. */
bool qk_fs_mount_of(const char *dir, char *type, size_t type_n, char *source, size_t source_n);

/* True when `dir` is on a FAT file system (whose files hold at most
 * 4 GiB - 1 bytes). */
bool qk_fs_is_fat(const char *dir);

#endif
