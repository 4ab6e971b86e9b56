// SPDX-License-Identifier: MIT
/*
 * The snapshot file: the state as a flattened device tree (libfdt), then
 * guest RAM's saved pages, each 4 KiB, from the first page boundary after
 * it. The tree:
 *
 *   /  format = <1>, splitvm-version = "...", vcpus = <n>,
 *      memory-size = /bits/ 64 <bytes>, irqchip-mode = <0 split | 1 kernel>,
 *      ram-offset = /bits/ 64 <file offset of the pages>,
 *      ram-pages = <page numbers of the saved pages, ascending>,
 *      kvm-clock = /bits/ 64 <KVM_GET_CLOCK's clock>,
 *      unclaimed-pio, unclaimed-mmio = /bits/ 64 <the buses' counters>
 *   /irqchip      state = [irqchip_save()'s bytes]
 *   /devices/N    name = "...", state = [the device's save() bytes]
 *   /vcpus/N      regs, sregs, xsave, xcrs, lapic, events, mp-state,
 *                 debugregs = [KVM's structures, as this host lays them
 *                 out]; msrs = [struct kvm_msr_entry...]; stats,
 *                 requests, sipi-vector
 *
 * Numbers are big-endian, as in every device tree; KVM's structures and
 * the device states are bytes. A file is read as hostile: its tree is
 * checked whole (fdt_check_full()), every property's length exactly, the
 * page list for order and range, the pages for lying inside the file.
 * What the state means is checked when it is loaded (snapshot_restore()).
 */
#include <errno.h>
#include <fcntl.h>
#include <libfdt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "snapshot.h"
#include "vm_config.h"

#define SNAP_FORMAT 1
#define SNAP_FDT_MAX (64u << 20) /* the tree of a 4096-vCPU VM fits */
#define SNAP_MAX_VCPUS 4096
#define SNAP_MAX_DEVICES 1024

/* A vCPU property: its name and where it lies in struct vcpu_state. */
struct vcpu_prop {
	const char *name;
	size_t offset, size;
};

#define VCPU_PROP(n, field)                                                    \
	{n, offsetof(struct vcpu_state, field),                                \
	 sizeof(((struct vcpu_state *)0)->field)}

static const struct vcpu_prop vcpu_props[] = {
	VCPU_PROP("regs", regs),	 VCPU_PROP("sregs", sregs),
	VCPU_PROP("xsave", xsave),	 VCPU_PROP("xcrs", xcrs),
	VCPU_PROP("lapic", lapic),	 VCPU_PROP("events", events),
	VCPU_PROP("mp-state", mp_state), VCPU_PROP("debugregs", debugregs),
	VCPU_PROP("stats", stats),	 VCPU_PROP("requests", requests),
	VCPU_PROP("sipi-vector", sipi_vector),
};

/* ---- writing ----------------------------------------------------------- */

static int write_vcpu(void *fdt, unsigned int i, const struct vcpu_state *v)
{
	char name[16];
	int r;

	snprintf(name, sizeof(name), "%u", i);
	r = fdt_begin_node(fdt, name);
	for (size_t p = 0; !r && p < sizeof(vcpu_props) / sizeof(*vcpu_props);
	     p++)
		r = fdt_property(fdt, vcpu_props[p].name,
				 (const char *)v + vcpu_props[p].offset,
				 (int)vcpu_props[p].size);
	if (!r)
		r = fdt_property(fdt, "msrs", v->msrs,
				 (int)(v->nr_msrs * sizeof(v->msrs[0])));
	return r ? r : fdt_end_node(fdt);
}

static int write_tree(void *fdt, size_t size, const struct splitvm_snapshot *s)
{
	int r = fdt_create(fdt, (int)size);

	r = r ? r : fdt_finish_reservemap(fdt);
	r = r ? r : fdt_begin_node(fdt, "");
	r = r ? r : fdt_property_u32(fdt, "format", SNAP_FORMAT);
	r = r ? r : fdt_property_string(fdt, "splitvm-version", s->version);
	r = r ? r : fdt_property_u32(fdt, "vcpus", s->nr_vcpus);
	r = r ? r : fdt_property_u64(fdt, "memory-size", s->mem_size);
	r = r ? r : fdt_property_u32(fdt, "irqchip-mode", s->irqchip_mode);
	r = r ? r : fdt_property_u64(fdt, "ram-offset", 0); /* set after */
	r = r ? r : fdt_property_u64(fdt, "kvm-clock", s->clock.clock);
	r = r ? r : fdt_property_u64(fdt, "unclaimed-pio", s->unclaimed_pio);
	r = r ? r : fdt_property_u64(fdt, "unclaimed-mmio", s->unclaimed_mmio);
	if (!r) {
		fdt32_t *pages;

		r = fdt_property_placeholder(
			fdt, "ram-pages", (int)(s->nr_saved * sizeof(fdt32_t)),
			(void **)&pages);
		for (uint64_t i = 0; !r && i < s->nr_saved; i++)
			pages[i] = cpu_to_fdt32(s->pages[i]);
	}
	r = r ? r : fdt_begin_node(fdt, "irqchip");
	r = r ? r : fdt_property(fdt, "state", s->irqchip.data,
				 (int)s->irqchip.len);
	r = r ? r : fdt_end_node(fdt);
	r = r ? r : fdt_begin_node(fdt, "devices");
	for (unsigned int i = 0; !r && i < s->nr_devices; i++) {
		char name[16];

		snprintf(name, sizeof(name), "%u", i);
		r = fdt_begin_node(fdt, name);
		r = r ? r : fdt_property_string(fdt, "name", s->device_names[i]);
		r = r ? r : fdt_property(fdt, "state", s->devices[i].data,
					 (int)s->devices[i].len);
		r = r ? r : fdt_end_node(fdt);
	}
	r = r ? r : fdt_end_node(fdt);
	r = r ? r : fdt_begin_node(fdt, "vcpus");
	for (unsigned int i = 0; !r && i < s->nr_vcpus; i++)
		r = write_vcpu(fdt, i, &s->vcpus[i]);
	r = r ? r : fdt_end_node(fdt);
	r = r ? r : fdt_end_node(fdt);
	return r ? r : fdt_finish(fdt);
}

/* The tree's size, with room to spare: every blob plus its names. */
static size_t tree_size(const struct splitvm_snapshot *s)
{
	size_t size = 4096 + s->irqchip.len + s->data_size / SNAP_PAGE * 4;

	for (unsigned int i = 0; i < s->nr_devices; i++)
		size += 128 + s->devices[i].len;
	return size + s->nr_vcpus * (sizeof(struct vcpu_state) + 1024);
}

static int write_all(int fd, const void *buf, size_t len, off_t at)
{
	while (len) {
		ssize_t n = pwrite(fd, buf, len, at);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EIO;
		buf = (const uint8_t *)buf + n;
		len -= (size_t)n;
		at += n;
	}
	return 0;
}

int snapshot_write_fd(const struct splitvm_snapshot *s, int fd)
{
	size_t size = tree_size(s);
	void *fdt = calloc(1, size);
	uint64_t ram_at;
	int r;

	if (!fdt)
		return -ENOMEM;
	if (write_tree(fdt, size, s)) {
		free(fdt);
		return -EOVERFLOW;
	}
	ram_at = (fdt_totalsize(fdt) + SNAP_PAGE - 1) & ~(SNAP_PAGE - 1);
	fdt_setprop_inplace_u64(fdt, 0, "ram-offset", ram_at);
	r = write_all(fd, fdt, fdt_totalsize(fdt), 0);
	if (!r && s->data_size)
		r = write_all(fd, s->data, s->data_size, (off_t)ram_at);
	if (!r && ftruncate(fd, (off_t)(ram_at + s->data_size)) < 0)
		r = -errno;
	free(fdt);
	return r;
}

/* Writes the file beside path, then renames it in place. */
int snapshot_write(const struct splitvm_snapshot *s, const char *path)
{
	char tmp[4096];
	int fd, r;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp.%d", path, getpid()) >=
	    sizeof(tmp))
		return -ENAMETOOLONG;
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		return -errno;
	r = snapshot_write_fd(s, fd);
	if (close(fd) < 0 && !r)
		r = -errno;
	if (!r && rename(tmp, path) < 0)
		r = -errno;
	if (r)
		unlink(tmp);
	return r;
}

/* ---- reading ----------------------------------------------------------- */

/* Where a file's bytes come from: a descriptor, or memory. */
struct snap_source {
	int fd;
	const uint8_t *mem;
	uint64_t size;
};

static int source_read(const struct snap_source *src, void *buf, size_t len,
		       uint64_t at)
{
	if (at > src->size || len > src->size - at)
		return -EINVAL;
	if (src->mem) {
		memcpy(buf, src->mem + at, len);
		return 0;
	}
	while (len) {
		ssize_t n = pread(src->fd, buf, len, (off_t)at);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return n < 0 ? -errno : -EINVAL; /* shorter than said */
		buf = (uint8_t *)buf + n;
		len -= (size_t)n;
		at += (uint64_t)n;
	}
	return 0;
}

/* Property name of node, exactly len bytes long: a pointer, or NULL. */
static const void *prop_exact(const void *fdt, int node, const char *name,
			      size_t len)
{
	int got;
	const void *p = fdt_getprop(fdt, node, name, &got);

	return p && got >= 0 && (size_t)got == len ? p : NULL;
}

static int prop_u32(const void *fdt, int node, const char *name,
		    uint32_t *ret)
{
	const fdt32_t *p = prop_exact(fdt, node, name, sizeof(*p));

	if (!p)
		return -EINVAL;
	*ret = fdt32_to_cpu(*p);
	return 0;
}

static int prop_u64(const void *fdt, int node, const char *name,
		    uint64_t *ret)
{
	const void *p = prop_exact(fdt, node, name, sizeof(fdt64_t));
	fdt64_t v;

	if (!p)
		return -EINVAL;
	memcpy(&v, p, sizeof(v)); /* properties are 4-byte aligned only */
	*ret = fdt64_to_cpu(v);
	return 0;
}

/* A copy of a blob property of any length up to SNAP_BLOB_MAX. */
static int prop_blob(const void *fdt, int node, const char *name,
		     struct snap_blob *b)
{
	int len;
	const void *p = fdt_getprop(fdt, node, name, &len);

	if (!p || len < 0 || (size_t)len > SNAP_BLOB_MAX)
		return -EINVAL;
	b->data = malloc(len ? (size_t)len : 1);
	if (!b->data)
		return -ENOMEM;
	memcpy(b->data, p, (size_t)len);
	b->len = (size_t)len;
	return 0;
}

static int read_vcpu(const void *fdt, int node, struct vcpu_state *v)
{
	int len;
	const void *msrs;

	for (size_t p = 0; p < sizeof(vcpu_props) / sizeof(*vcpu_props); p++) {
		const void *val = prop_exact(fdt, node, vcpu_props[p].name,
					     vcpu_props[p].size);

		if (!val)
			return -EINVAL;
		memcpy((char *)v + vcpu_props[p].offset, val,
		       vcpu_props[p].size);
	}
	msrs = fdt_getprop(fdt, node, "msrs", &len);
	if (!msrs || len < 0 || len % sizeof(v->msrs[0]) ||
	    (size_t)len / sizeof(v->msrs[0]) > VCPU_STATE_MAX_MSRS)
		return -EINVAL;
	v->nr_msrs = (uint32_t)((size_t)len / sizeof(v->msrs[0]));
	memcpy(v->msrs, msrs, (size_t)len);
	return 0;
}

/* The n-th subnode of path, named by its decimal index, or -EINVAL. */
static int indexed_node(const void *fdt, const char *path, unsigned int n)
{
	char name[64];
	int node;

	snprintf(name, sizeof(name), "%s/%u", path, n);
	node = fdt_path_offset(fdt, name);
	return node < 0 ? -EINVAL : node;
}

static int read_devices(const void *fdt, struct splitvm_snapshot *s)
{
	int node = fdt_path_offset(fdt, "/irqchip");
	int r = node < 0 ? -EINVAL : prop_blob(fdt, node, "state", &s->irqchip);

	for (unsigned int i = 0; !r && i < s->nr_devices; i++) {
		const char *name;
		int len;

		node = indexed_node(fdt, "/devices", i);
		if (node < 0)
			return node;
		name = fdt_getprop(fdt, node, "name", &len);
		if (!name || len < 2 || len > 64 || name[len - 1] ||
		    strlen(name) != (size_t)len - 1)
			return -EINVAL;
		if (!(s->device_names[i] = strdup(name)))
			return -ENOMEM;
		r = prop_blob(fdt, node, "state", &s->devices[i]);
	}
	for (unsigned int i = 0; !r && i < s->nr_vcpus; i++) {
		node = indexed_node(fdt, "/vcpus", i);
		r = node < 0 ? node : read_vcpu(fdt, node, &s->vcpus[i]);
	}
	return r;
}

/* The saved pages: their list (ascending, in RAM) and their bytes. */
static int read_ram(const void *fdt, const struct snap_source *src,
		    struct splitvm_snapshot *s)
{
	uint64_t at;
	int len;
	const fdt32_t *pages = fdt_getprop(fdt, 0, "ram-pages", &len);
	uint64_t n = pages && len >= 0 ? (uint64_t)len / 4 : 0;

	if (!pages || len % 4 || prop_u64(fdt, 0, "ram-offset", &at) ||
	    at % SNAP_PAGE || n > s->nr_pages || at > src->size ||
	    n * SNAP_PAGE > src->size - at)
		return -EINVAL;
	s->pages = malloc((n ? n : 1) * sizeof(*s->pages));
	if (!s->pages)
		return -ENOMEM;
	for (uint64_t i = 0; i < n; i++) {
		uint32_t p = fdt32_to_cpu(pages[i]);

		if (p >= s->nr_pages || (i && p <= s->pages[i - 1]))
			return -EINVAL;
		s->pages[i] = p;
	}
	s->nr_saved = n;
	s->data_size = n * SNAP_PAGE;
	if (!n)
		return 0;
	s->data = mmap(NULL, s->data_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (s->data == MAP_FAILED) {
		s->data = NULL;
		return -ENOMEM;
	}
	return source_read(src, s->data, s->data_size, at);
}

/* The tree's root: the configuration, then all the rest. */
static int read_tree(const void *fdt, const struct snap_source *src,
		     struct splitvm_snapshot **ret)
{
	uint32_t format, vcpus, mode;
	uint64_t mem, clock, pio, mmio;
	const char *version;
	int devices, len, r;
	struct splitvm_snapshot *s;

	if (prop_u32(fdt, 0, "format", &format) || format != SNAP_FORMAT ||
	    prop_u32(fdt, 0, "vcpus", &vcpus) || !vcpus ||
	    vcpus > SNAP_MAX_VCPUS || prop_u64(fdt, 0, "memory-size", &mem) ||
	    !mem || mem % SNAP_PAGE || mem > CONFIG_MAX_MEMORY ||
	    prop_u32(fdt, 0, "irqchip-mode", &mode) || mode > IRQCHIP_KERNEL ||
	    prop_u64(fdt, 0, "kvm-clock", &clock) ||
	    prop_u64(fdt, 0, "unclaimed-pio", &pio) ||
	    prop_u64(fdt, 0, "unclaimed-mmio", &mmio))
		return -EINVAL;
	version = fdt_getprop(fdt, 0, "splitvm-version", &len);
	if (!version || len < 1 || len > 31 || version[len - 1] ||
	    strlen(version) != (size_t)len - 1)
		return -EINVAL;
	devices = fdt_path_offset(fdt, "/devices");
	if (devices < 0)
		return -EINVAL;
	len = 0;
	for (int n = fdt_first_subnode(fdt, devices); n >= 0;
	     n = fdt_next_subnode(fdt, n))
		if (++len > SNAP_MAX_DEVICES)
			return -EINVAL;
	s = snapshot_alloc(vcpus, (unsigned int)len);
	if (!s)
		return -ENOMEM;
	snprintf(s->version, sizeof(s->version), "%s", version);
	s->mem_size = mem;
	s->irqchip_mode = mode;
	s->clock.clock = clock;
	s->unclaimed_pio = pio;
	s->unclaimed_mmio = mmio;
	s->nr_pages = mem / SNAP_PAGE;
	r = read_devices(fdt, s);
	if (!r)
		r = read_ram(fdt, src, s);
	if (r) {
		snapshot_free(s);
		return r;
	}
	*ret = s;
	return 0;
}

static int read_source(const struct snap_source *src,
		       struct splitvm_snapshot **ret)
{
	struct fdt_header h;
	uint32_t size;
	void *fdt;
	int r = source_read(src, &h, sizeof(h), 0);

	if (r)
		return r;
	size = fdt_totalsize(&h);
	/*
	 * snapshot_write() makes a version 17 tree. Older versions are
	 * refused before libfdt sees them: libfdt 1.6.1's fdt_check_full()
	 * dereferences a NULL root name on a version 2..15 tree whose root
	 * node's name has no '/' (found by fuzz-snapshot).
	 */
	if (fdt_magic(&h) != FDT_MAGIC || fdt_version(&h) < 17 ||
	    size < sizeof(h) || size > SNAP_FDT_MAX || size > src->size)
		return -EINVAL;
	fdt = malloc(size);
	if (!fdt)
		return -ENOMEM;
	r = source_read(src, fdt, size, 0);
	if (!r && fdt_check_full(fdt, size))
		r = -EINVAL;
	if (!r)
		r = read_tree(fdt, src, ret);
	free(fdt);
	return r;
}

int snapshot_read(const char *path, struct splitvm_snapshot **ret)
{
	struct snap_source src = {.fd = open(path, O_RDONLY | O_CLOEXEC)};
	struct stat st;
	int r;

	if (src.fd < 0)
		return -errno;
	if (fstat(src.fd, &st) < 0) {
		r = -errno;
	} else if (!S_ISREG(st.st_mode)) {
		r = -EINVAL; /* a FIFO or a device: not a snapshot file */
	} else {
		src.size = (uint64_t)st.st_size;
		r = read_source(&src, ret);
	}
	close(src.fd);
	return r;
}

int snapshot_parse(const void *file, size_t size,
		   struct splitvm_snapshot **ret)
{
	struct snap_source src = {.fd = -1, .mem = file, .size = size};

	return read_source(&src, ret);
}
