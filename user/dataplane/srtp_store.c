// SPDX-License-Identifier: MIT
/*
 * Where a connection's SRTP keys live: not in a BPF map (a map dump would
 * show them, and the kernel has no use for them) but in a file readable by
 * root alone,
 *     XI_SRTP_STORE_ROOT/entry-<id of the attached xi_entry>/<conn id>
 * directories 0700, files 0600, written whole and renamed into place. The
 * program id names one attachment for as long as it lasts, in every network
 * and mount namespace (pins may differ there; /run does not), so a daemon
 * started again finds the keys of connections that still exist, and a new
 * attachment never meets an old one's keys. conn del erases the file
 * (overwritten, then unlinked), detach the directory.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <openssl/crypto.h>

#include <xicept/srtp.h>

#include "user/dataplane/internal.h"
#include "user/dataplane/srtp_store.h"

static const char *store_root(void)
{
	const char *r = getenv("XICEPT_SRTP_DIR");   /* tests: a directory of their own */

	return r && *r ? r : XI_SRTP_STORE_ROOT;
}

static int dir_path(uint32_t entry_id, char *buf, size_t cap)
{
	int n = snprintf(buf, cap, "%s/entry-%u", store_root(), entry_id);

	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

static int file_path(uint32_t entry_id, uint32_t conn_id, char *buf, size_t cap)
{
	int n = snprintf(buf, cap, "%s/entry-%u/%u", store_root(), entry_id, conn_id);

	return n < 0 || (size_t)n >= cap ? -ENAMETOOLONG : 0;
}

/* A directory of ours: made 0700, or found owned by root and closed to
 * everyone else. */
static int dir_ensure(const char *path)
{
	struct stat st;

	if (mkdir(path, 0700) && errno != EEXIST)
		return -errno;
	if (lstat(path, &st))
		return -errno;
	if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077))
		return -EPERM;
	return 0;
}

static int dirs_ensure(uint32_t entry_id)
{
	char path[PATH_MAX];
	const char *root = store_root();
	int r = 0;

	/* Each component of the root (/run/xicept, /run/xicept/srtp). */
	for (const char *p = strchr(root + 1, '/'); !r; p = strchr(p + 1, '/')) {
		size_t n = p ? (size_t)(p - root) : strlen(root);

		if (n >= sizeof(path))
			return -ENAMETOOLONG;
		memcpy(path, root, n);
		path[n] = '\0';
		if (mkdir(path, 0700) && errno != EEXIST)
			r = -errno;
		if (!p)
			break;
	}
	if (!r)
		r = dir_ensure(root);
	if (!r)
		r = dir_path(entry_id, path, sizeof(path));
	if (!r)
		r = dir_ensure(path);
	return r;
}

uint32_t xi_srtp_store_entry_id(const struct xi_dataplane *dp)
{
	struct bpf_prog_info info = { 0 };
	__u32 len = sizeof(info);

	if (!dp || dp->entry_fd < 0 || bpf_obj_get_info_by_fd(dp->entry_fd, &info, &len))
		return 0;
	return info.id;
}

int xi_srtp_store_put(uint32_t entry_id, uint32_t conn_id, const struct xi_srtp_keys *keys)
{
	char path[PATH_MAX], tmp[PATH_MAX + 8], text[XI_SRTP_KEYS_TEXT_MAX];
	int fd, n, r;

	if (!entry_id || !keys)
		return -EINVAL;
	r = dirs_ensure(entry_id);
	if (!r)
		r = file_path(entry_id, conn_id, path, sizeof(path));
	if (r)
		return r;
	snprintf(tmp, sizeof(tmp), "%s.new", path);
	n = xi_srtp_keys_format(keys, text, sizeof(text));
	if (n < 0)
		return n;
	unlink(tmp);
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		r = -errno;
	} else {
		if (write(fd, text, (size_t)n) != n || fsync(fd))
			r = errno ? -errno : -EIO;
		close(fd);
		if (!r && rename(tmp, path))
			r = -errno;
		if (r)
			unlink(tmp);
	}
	OPENSSL_cleanse(text, sizeof(text));
	return r;
}

int xi_srtp_store_get(uint32_t entry_id, uint32_t conn_id, struct xi_srtp_keys *ret)
{
	char path[PATH_MAX];
	int r = file_path(entry_id, conn_id, path, sizeof(path));

	if (!r)
		r = access(path, F_OK) ? -errno : xi_srtp_keys_read_file(path, ret, NULL);
	return r;
}

/* Overwritten before it is unlinked: on tmpfs the pages are what held it. */
static int file_erase(const char *path)
{
	uint8_t zero[XI_SRTP_KEYS_TEXT_MAX] = { 0 };
	struct stat st;
	int fd = open(path, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return -errno;
	if (!fstat(fd, &st)) {
		for (off_t at = 0; at < st.st_size; at += (off_t)sizeof(zero))
			if (pwrite(fd, zero, sizeof(zero), at) < 0)
				break;
		fsync(fd);
	}
	close(fd);
	return unlink(path) ? -errno : 0;
}

int xi_srtp_store_erase(uint32_t entry_id, uint32_t conn_id)
{
	char path[PATH_MAX];
	int r = file_path(entry_id, conn_id, path, sizeof(path));

	if (!r)
		r = file_erase(path);
	return r == -ENOENT ? 0 : r;
}

int xi_srtp_store_erase_all(uint32_t entry_id)
{
	char dir[PATH_MAX], path[PATH_MAX + NAME_MAX + 2];
	struct dirent *de;
	DIR *d;
	int r = dir_path(entry_id, dir, sizeof(dir));

	if (r)
		return r;
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (file_erase(path) && !r)
			r = -errno;
	}
	closedir(d);
	if (rmdir(dir) && !r)
		r = -errno;
	return r;
}

int xi_dataplane_conn_srtp_keys(struct xi_dataplane *dp, uint32_t id, struct xi_srtp_keys *ret)
{
	uint32_t entry = xi_srtp_store_entry_id(dp);

	if (!entry || !ret)
		return -EINVAL;
	return xi_srtp_store_get(entry, id, ret);
}
