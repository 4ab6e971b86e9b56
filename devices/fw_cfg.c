// SPDX-License-Identifier: MIT
/* QEMU's fw_cfg on ports 0x510-0x511: a selector and a byte data stream. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "fdt_machine.h"
#include "fw_cfg.h"

/* One directory entry: u32 size, u16 select, u16 reserved (all BE), name. */
#define FW_CFG_DIR_ENTRY_SIZE (8 + FW_CFG_MAX_FILE_PATH)

struct fw_cfg_item {
	uint16_t key;
	uint32_t len;
	uint8_t *data;
};

struct fw_cfg {
	pthread_mutex_t lock;
	struct fw_cfg_item *items;
	unsigned int nr_items;
	unsigned int cap_items;
	unsigned int nr_files;
	int cur;	 /* selected item's index, or -1 */
	uint32_t offset; /* next byte of it to read */
};

/*
 * What a selector write selects. As in QEMU (fw_cfg_select), the write
 * channel bit is not part of the entry: 0x4000 | n reads item n.
 */
static uint16_t fw_cfg_entry(uint16_t key)
{
	return key & (FW_CFG_ARCH_LOCAL | FW_CFG_ENTRY_MASK);
}

static int fw_cfg_find(const struct fw_cfg *f, uint16_t key)
{
	for (unsigned int i = 0; i < f->nr_items; i++)
		if (f->items[i].key == key)
			return (int)i;
	return -1;
}

/* Adds an item whose data the device then owns (freed on failure). */
static int fw_cfg_insert(struct fw_cfg *f, uint16_t key, uint8_t *data,
			 uint32_t len)
{
	if (f->nr_items == f->cap_items) {
		unsigned int cap = f->cap_items ? f->cap_items * 2 : 16;
		struct fw_cfg_item *it = realloc(f->items, cap * sizeof(*it));

		if (!it) {
			free(data);
			return -ENOMEM;
		}
		f->items = it;
		f->cap_items = cap;
	}
	f->items[f->nr_items++] = (struct fw_cfg_item){key, len, data};
	return 0;
}

static int fw_cfg_insert_copy(struct fw_cfg *f, uint16_t key,
			      const void *data, size_t len)
{
	uint8_t *copy = NULL;

	if (len) {
		copy = malloc(len);
		if (!copy)
			return -ENOMEM;
		memcpy(copy, data, len);
	}
	return fw_cfg_insert(f, key, copy, (uint32_t)len);
}

static void put_be(uint8_t *p, uint64_t v, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

static bool fw_cfg_size_ok(const void *data, size_t len)
{
	return len <= FW_CFG_MAX_ITEM_SIZE && (data || !len);
}

int fw_cfg_add_bytes(struct fw_cfg *f, uint16_t key, const void *data,
		     size_t len)
{
	uint16_t entry = key & FW_CFG_ENTRY_MASK;
	int r;

	/* Files and their directory are fw_cfg_add_file()'s; keys with the
	 * write channel bit would alias another item. */
	if (!fw_cfg_size_ok(data, len) || (key & FW_CFG_WRITE_CHANNEL) ||
	    key == FW_CFG_FILE_DIR ||
	    (!(key & FW_CFG_ARCH_LOCAL) && entry >= FW_CFG_FILE_FIRST))
		return -EINVAL;
	pthread_mutex_lock(&f->lock);
	if (fw_cfg_find(f, key) >= 0)
		r = -EEXIST;
	else
		r = fw_cfg_insert_copy(f, key, data, len);
	pthread_mutex_unlock(&f->lock);
	return r;
}

static bool fw_cfg_dir_has(const struct fw_cfg_item *dir, const char *name)
{
	for (uint32_t off = 4; off < dir->len; off += FW_CFG_DIR_ENTRY_SIZE)
		if (!strncmp((const char *)dir->data + off + 8, name,
			     FW_CFG_MAX_FILE_PATH))
			return true;
	return false;
}

/*
 * The directory (QEMU's FWCfgFiles) is rebuilt in place: a big-endian
 * count, then one entry per file, in the order files were added. QEMU
 * keeps it sorted by name; readers (SeaBIOS, OVMF, Linux's qemu_fw_cfg)
 * search it by name, so the order does not matter to them and stable
 * selectors are simpler.
 */
int fw_cfg_add_file(struct fw_cfg *f, const char *name, const void *data,
		    size_t len)
{
	size_t name_len = name ? strlen(name) : 0;
	struct fw_cfg_item *dir;
	uint32_t dir_len;
	uint16_t key;
	uint8_t *d, *e;
	int r;

	if (!name_len || !fw_cfg_size_ok(data, len))
		return -EINVAL;
	if (name_len >= FW_CFG_MAX_FILE_PATH)
		return -ENAMETOOLONG;
	pthread_mutex_lock(&f->lock);
	dir = &f->items[fw_cfg_find(f, FW_CFG_FILE_DIR)];
	key = (uint16_t)(FW_CFG_FILE_FIRST + f->nr_files);
	if (fw_cfg_dir_has(dir, name)) {
		r = -EEXIST;
		goto out;
	}
	if (key > FW_CFG_ENTRY_MASK) {
		r = -ENOSPC;
		goto out;
	}
	dir_len = dir->len + FW_CFG_DIR_ENTRY_SIZE;
	d = realloc(dir->data, dir_len);
	if (!d) {
		r = -ENOMEM;
		goto out;
	}
	dir->data = d;
	/* The insert may move the item array: find dir again after it. */
	r = fw_cfg_insert_copy(f, key, data, len);
	if (r)
		goto out;
	dir = &f->items[fw_cfg_find(f, FW_CFG_FILE_DIR)];
	e = dir->data + dir->len;
	memset(e, 0, FW_CFG_DIR_ENTRY_SIZE);
	put_be(e, len, 4);
	put_be(e + 4, key, 2);
	memcpy(e + 8, name, name_len);
	dir->len = dir_len;
	put_be(dir->data, ++f->nr_files, 4);
out:
	pthread_mutex_unlock(&f->lock);
	return r;
}

/* Selecting resets the data offset, as every selector write does. */
static void fw_cfg_select(struct fw_cfg *f, uint16_t key)
{
	pthread_mutex_lock(&f->lock);
	f->cur = fw_cfg_find(f, fw_cfg_entry(key));
	f->offset = 0;
	pthread_mutex_unlock(&f->lock);
}

/* The next byte of the selected item; 0 past its end or for no item. */
static uint8_t fw_cfg_next_byte(struct fw_cfg *f)
{
	uint8_t v = 0;

	pthread_mutex_lock(&f->lock);
	if (f->cur >= 0) {
		const struct fw_cfg_item *it = &f->items[f->cur];

		if (f->offset < it->len)
			v = it->data[f->offset++];
	}
	pthread_mutex_unlock(&f->lock);
	return v;
}

/*
 * Accesses, as QEMU's port interface takes them (fw_cfg_comb_valid): byte
 * reads at either port read data (so a byte read of 0x510 also advances
 * the stream), 16-bit writes select. Wider data reads exist only in the
 * MMIO interface of other architectures, so they are refused here and
 * read all ones; byte writes went to the data item in QEMU before 2.4 and
 * are ignored since, as here.
 */
static uint64_t fw_cfg_read(void *dev, const struct io_access *a)
{
	if (a->len != 1 || a->offset >= FW_CFG_REGION_SIZE)
		return io_all_ones(a->len);
	return fw_cfg_next_byte(dev);
}

static void fw_cfg_write(void *dev, const struct io_access *a, uint64_t val)
{
	if (a->len == 2 && a->offset == 0)
		fw_cfg_select(dev, (uint16_t)val);
}

/*
 * No binding exists for the port interface (QEMU's DT binding,
 * "qemu,fw-cfg-mmio", is for the MMIO one; x86 guests find the ports by
 * ACPI "QEMU0002" or by convention), so this names it after that one.
 */
static int fw_cfg_describe(void *dev, void *fdt, int parent)
{
	int r = fdt_add_isa_device(fdt, parent, "fw-cfg", "qemu,fw-cfg-io",
				   FW_CFG_IO_BASE, FW_CFG_REGION_SIZE, -1);

	return r < 0 ? r : 0;
}

static void fw_cfg_destroy(void *dev)
{
	struct fw_cfg *f = dev;

	if (!f)
		return;
	for (unsigned int i = 0; i < f->nr_items; i++)
		free(f->items[i].data);
	free(f->items);
	pthread_mutex_destroy(&f->lock);
	free(f);
}

/* A reset selects nothing; the items stay (QEMU's fw_cfg_reset). */
static void fw_cfg_reset(void *dev)
{
	struct fw_cfg *f = dev;

	pthread_mutex_lock(&f->lock);
	f->cur = -1;
	f->offset = 0;
	pthread_mutex_unlock(&f->lock);
}

/*
 * The snapshot blob, little-endian: "FWCF", the format version (u32),
 * whether an item is selected (u8, then a zero byte), and if one is: its
 * key (u16), the offset of the next byte to read (u32), and the item's
 * length (u32) and FNV-1a hash (u64). The items themselves come from the
 * configuration, not from the blob; the length and hash make a loading
 * VM whose item differs (another kernel, another command line) refuse
 * the blob rather than hand a guest the rest of a different file. There
 * is no DMA interface (FW_CFG_ID bit 1 is clear), so no DMA state.
 */
enum {
	SNAP_SELECTED = 8,
	SNAP_RESERVED = 9,
	SNAP_KEY = 10,	     /* u16 */
	SNAP_OFFSET = 12,    /* u32 */
	SNAP_ITEM_LEN = 16,  /* u32 */
	SNAP_ITEM_HASH = 20, /* u64 */
	SNAP_LEN = 28,
};

#define SNAP_VERSION 1

static const uint8_t snap_head[8] = {'F', 'W', 'C', 'F', SNAP_VERSION};

/* FNV-1a, 64 bits: to tell items apart, not to resist forgery. */
static uint64_t fw_cfg_hash(const struct fw_cfg_item *it)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (uint32_t i = 0; i < it->len; i++)
		h = (h ^ it->data[i]) * 0x100000001b3ull;
	return h;
}

static int fw_cfg_save(void *dev, void *buf, size_t cap, uint64_t now)
{
	struct fw_cfg *f = dev;
	uint8_t *p = buf;

	if (cap < SNAP_LEN)
		return -ENOSPC;
	memset(p, 0, SNAP_LEN);
	memcpy(p, snap_head, sizeof(snap_head));
	pthread_mutex_lock(&f->lock);
	if (f->cur >= 0) {
		const struct fw_cfg_item *it = &f->items[f->cur];

		p[SNAP_SELECTED] = 1;
		put_le(p + SNAP_KEY, it->key, 2);
		put_le(p + SNAP_OFFSET, f->offset, 4);
		put_le(p + SNAP_ITEM_LEN, it->len, 4);
		put_le(p + SNAP_ITEM_HASH, fw_cfg_hash(it), 8);
	}
	pthread_mutex_unlock(&f->lock);
	return SNAP_LEN;
}

/*
 * The index the blob selects in this device (-1: none), or -EINVAL when
 * the item does not exist here, differs from the saved one or the offset
 * lies past its end (reading stops there: fw_cfg_next_byte()). Under the
 * lock.
 */
static int fw_cfg_snap_item(const struct fw_cfg *f, const uint8_t *p)
{
	uint32_t offset = (uint32_t)get_le(p + SNAP_OFFSET, 4);
	uint32_t len = (uint32_t)get_le(p + SNAP_ITEM_LEN, 4);
	const struct fw_cfg_item *it;
	int i;

	if (!p[SNAP_SELECTED]) {
		for (unsigned int b = SNAP_KEY; b < SNAP_LEN; b++)
			if (p[b])
				return -EINVAL;
		return -1;
	}
	i = fw_cfg_find(f, (uint16_t)get_le(p + SNAP_KEY, 2));
	if (i < 0)
		return -EINVAL;
	it = &f->items[i];
	if (it->len != len || offset > len ||
	    fw_cfg_hash(it) != get_le(p + SNAP_ITEM_HASH, 8))
		return -EINVAL;
	return i;
}

static int fw_cfg_load(void *dev, const void *buf, size_t len, uint64_t now)
{
	struct fw_cfg *f = dev;
	const uint8_t *p = buf;
	int i;

	if (len != SNAP_LEN || memcmp(p, snap_head, sizeof(snap_head)) ||
	    p[SNAP_SELECTED] > 1 || p[SNAP_RESERVED])
		return -EINVAL;
	pthread_mutex_lock(&f->lock);
	i = fw_cfg_snap_item(f, p);
	if (i >= -1) {
		f->cur = i;
		f->offset = (uint32_t)get_le(p + SNAP_OFFSET, 4);
	}
	pthread_mutex_unlock(&f->lock);
	return i < -1 ? i : 0;
}

const struct device_ops fw_cfg_ops = {
	.name = "fw_cfg",
	.read = fw_cfg_read,
	.write = fw_cfg_write,
	.reset = fw_cfg_reset,
	.describe = fw_cfg_describe,
	.destroy = fw_cfg_destroy,
	.save = fw_cfg_save,
	.load = fw_cfg_load,
};

int fw_cfg_new(uint64_t ram_size, uint16_t cpus, uint16_t max_cpus,
	       struct fw_cfg **ret)
{
	uint8_t id[4], ram[8], nb[2], max[2], dir[4] = {0};
	struct fw_cfg *f;
	int r;

	if (!ret || !cpus || max_cpus < cpus)
		return -EINVAL;
	f = calloc(1, sizeof(*f));
	if (!f)
		return -ENOMEM;
	pthread_mutex_init(&f->lock, NULL);
	f->cur = -1;
	/* ID bit 0: the traditional interface; bit 1 (DMA) stays clear. */
	put_le(id, 1, sizeof(id));
	put_le(ram, ram_size, sizeof(ram));
	put_le(nb, cpus, sizeof(nb));
	put_le(max, max_cpus, sizeof(max));
	if ((r = fw_cfg_insert_copy(f, FW_CFG_SIGNATURE, "QEMU", 4)) ||
	    (r = fw_cfg_insert_copy(f, FW_CFG_ID, id, sizeof(id))) ||
	    (r = fw_cfg_insert_copy(f, FW_CFG_RAM_SIZE, ram, sizeof(ram))) ||
	    (r = fw_cfg_insert_copy(f, FW_CFG_NB_CPUS, nb, sizeof(nb))) ||
	    (r = fw_cfg_insert_copy(f, FW_CFG_MAX_CPUS, max, sizeof(max))) ||
	    (r = fw_cfg_insert_copy(f, FW_CFG_FILE_DIR, dir, sizeof(dir)))) {
		fw_cfg_destroy(f);
		return r;
	}
	*ret = f;
	return 0;
}
