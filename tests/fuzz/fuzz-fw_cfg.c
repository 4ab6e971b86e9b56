// SPDX-License-Identifier: MIT
/* libFuzzer harness: fw_cfg's items and port interface against a model. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "fw_cfg.h"

/*
 * Input: u16 RAM size in MiB, CPU count byte, max-CPU byte, then
 * operations, one opcode byte each followed by its operands. Items are
 * added by the host (as the VM does before start) in between guest
 * accesses, so the directory grows under a guest that reads it.
 */
enum op {
	OP_SELECT,    /* u16 key */
	OP_READ,      /* count byte: that many data-port byte reads */
	OP_ACCESS,    /* offset selector, len selector, u16 value, read bit */
	OP_ADD_BYTES, /* u16 key, length byte, bytes */
	OP_ADD_FILE,  /* name length byte, name, length byte, bytes */
	OP_RESET,
	NR_OPS
};

#define MAX_ITEMS 96
#define DIR_ENTRY (8 + FW_CFG_MAX_FILE_PATH)

/* The model: every item the device should have, by key. */
struct item {
	uint16_t key;
	uint32_t len;
	uint8_t *data;
};

struct harness {
	struct fw_cfg *f;
	struct item items[MAX_ITEMS];
	unsigned int nr_items;
	unsigned int nr_files;
	int cur; /* selected model item, -1: none */
	uint32_t offset;
};

static struct item *model_find(struct harness *h, uint16_t key)
{
	for (unsigned int i = 0; i < h->nr_items; i++)
		if (h->items[i].key == key)
			return &h->items[i];
	return NULL;
}

static void model_add(struct harness *h, uint16_t key, const void *data,
		      uint32_t len)
{
	struct item *it = &h->items[h->nr_items++];

	it->key = key;
	it->len = len;
	it->data = malloc(len ? len : 1);
	FUZZ_CHECK(it->data);
	if (len)
		memcpy(it->data, data, len);
}

static void put_be(uint8_t *p, uint64_t v, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * (n - 1 - i)));
}

/* docs/specs/fw_cfg.rst: a BE count, then size, select, reserved, name. */
static void model_add_file(struct harness *h, const char *name,
			   const void *data, uint32_t len)
{
	struct item *dir = model_find(h, FW_CFG_FILE_DIR);
	uint16_t key = (uint16_t)(FW_CFG_FILE_FIRST + h->nr_files);
	uint8_t *d = realloc(dir->data, dir->len + DIR_ENTRY), *e;

	FUZZ_CHECK(d);
	dir->data = d;
	e = d + dir->len;
	memset(e, 0, DIR_ENTRY);
	put_be(e, len, 4);
	put_be(e + 4, key, 2);
	memcpy(e + 8, name, strlen(name));
	dir->len += DIR_ENTRY;
	put_be(dir->data, ++h->nr_files, 4);
	/* model_add() may not move dir: it is found by key each time */
	model_add(h, key, data, len);
}

static bool model_has_file(struct harness *h, const char *name)
{
	struct item *dir = model_find(h, FW_CFG_FILE_DIR);

	for (uint32_t off = 4; off < dir->len; off += DIR_ENTRY)
		if (!strncmp((const char *)dir->data + off + 8, name,
			     FW_CFG_MAX_FILE_PATH))
			return true;
	return false;
}

static void model_free(struct harness *h)
{
	for (unsigned int i = 0; i < h->nr_items; i++)
		free(h->items[i].data);
}

static void do_select(struct harness *h, uint16_t key)
{
	const struct io_access a = { FW_CFG_IO_BASE, 0, 2, 0 };
	/* as QEMU: the write channel bit is not part of the entry */
	struct item *it =
		model_find(h, key & (FW_CFG_ARCH_LOCAL | FW_CFG_ENTRY_MASK));

	fw_cfg_ops.write(h->f, &a, key);
	h->cur = it ? (int)(it - h->items) : -1;
	h->offset = 0;
}

/* A data byte: the selected item's next one, 0 past its end or for none. */
static void do_read_byte(struct harness *h, uint64_t off)
{
	const struct io_access a = { FW_CFG_IO_BASE + off, off, 1, 0 };
	uint64_t v = fw_cfg_ops.read(h->f, &a);
	uint8_t want = 0;

	if (h->cur >= 0) {
		const struct item *it = &h->items[h->cur];

		if (h->offset < it->len)
			want = it->data[h->offset++];
	}
	FUZZ_CHECK(v == want);
}

static void do_access(struct harness *h, struct fuzz_in *in)
{
	uint8_t b = fuzz_u8(in);
	uint64_t off = b < 0xf0 ? b % FW_CFG_REGION_SIZE : b;
	unsigned int len = fuzz_len(in);
	uint16_t val = fuzz_u16(in);
	const struct io_access a = { FW_CFG_IO_BASE + off, off, len, 0 };
	uint64_t v;

	if (fuzz_u8(in) & 1) {
		if (len == 1 && off < FW_CFG_REGION_SIZE) {
			do_read_byte(h, off);
			return;
		}
		/* wider reads exist only on the MMIO interface */
		v = fw_cfg_ops.read(h->f, &a);
		FUZZ_CHECK(v == io_all_ones(len));
		return;
	}
	if (len == 2 && off == 0) {
		do_select(h, val);
		return;
	}
	/* data writes are ignored since QEMU 2.4; so are odd widths */
	fw_cfg_ops.write(h->f, &a, val);
}

static void do_add_bytes(struct harness *h, struct fuzz_in *in)
{
	uint16_t key = fuzz_u16(in), entry = key & FW_CFG_ENTRY_MASK;
	uint8_t buf[256];
	size_t len = fuzz_u8(in);
	bool valid;
	int r, want;

	for (size_t i = 0; i < len; i++)
		buf[i] = fuzz_u8(in);
	valid = !(key & FW_CFG_WRITE_CHANNEL) && key != FW_CFG_FILE_DIR &&
		((key & FW_CFG_ARCH_LOCAL) || entry < FW_CFG_FILE_FIRST);
	if (!valid)
		want = -EINVAL;
	else if (model_find(h, key))
		want = -EEXIST;
	else if (h->nr_items == MAX_ITEMS)
		return; /* the model is full; the device is not */
	else
		want = 0;
	r = fw_cfg_add_bytes(h->f, key, len ? buf : NULL, len);
	FUZZ_CHECK(r == want);
	if (!r)
		model_add(h, key, buf, (uint32_t)len);
}

static void do_add_file(struct harness *h, struct fuzz_in *in)
{
	char name[FW_CFG_MAX_FILE_PATH + 8];
	uint8_t buf[256];
	size_t name_len = fuzz_u8(in) % sizeof(name), len;
	int r, want;

	for (size_t i = 0; i < name_len; i++)
		name[i] = (char)(fuzz_u8(in) | 1); /* no NUL inside */
	name[name_len] = '\0';
	len = fuzz_u8(in);
	for (size_t i = 0; i < len; i++)
		buf[i] = fuzz_u8(in);
	if (!name_len)
		want = -EINVAL;
	else if (name_len >= FW_CFG_MAX_FILE_PATH)
		want = -ENAMETOOLONG;
	else if (model_has_file(h, name))
		want = -EEXIST;
	else if (h->nr_items == MAX_ITEMS)
		return;
	else
		want = 0;
	r = fw_cfg_add_file(h->f, name, len ? buf : NULL, len);
	FUZZ_CHECK(r == want);
	if (!r)
		model_add_file(h, name, buf, (uint32_t)len);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct harness h;
	struct fuzz_in in;
	uint64_t ram;
	uint16_t cpus, max_cpus;
	uint8_t b[8];
	unsigned int n;
	int r;

	fuzz_in_init(&in, data, size);
	memset(&h, 0, sizeof(h));
	ram = (uint64_t)fuzz_u16(&in) << 20;
	cpus = fuzz_u8(&in);
	max_cpus = fuzz_u8(&in);
	r = fw_cfg_new(ram, cpus, max_cpus, &h.f);
	if (!cpus || max_cpus < cpus) {
		FUZZ_CHECK(r == -EINVAL);
		return 0;
	}
	FUZZ_CHECK(r == 0);
	/* the fixed items, as fw_cfg.h lists them */
	model_add(&h, FW_CFG_SIGNATURE, "QEMU", 4);
	put_le(b, 1, 4);
	model_add(&h, FW_CFG_ID, b, 4);
	put_le(b, ram, 8);
	model_add(&h, FW_CFG_RAM_SIZE, b, 8);
	put_le(b, cpus, 2);
	model_add(&h, FW_CFG_NB_CPUS, b, 2);
	put_le(b, max_cpus, 2);
	model_add(&h, FW_CFG_MAX_CPUS, b, 2);
	memset(b, 0, 4);
	model_add(&h, FW_CFG_FILE_DIR, b, 4);
	h.cur = -1;
	while (fuzz_more(&in)) {
		switch ((enum op)(fuzz_u8(&in) % NR_OPS)) {
		case OP_SELECT:
			do_select(&h, fuzz_u16(&in));
			break;
		case OP_READ:
			n = fuzz_u8(&in);
			for (unsigned int i = 0; i < n; i++)
				do_read_byte(&h, i & 1);
			break;
		case OP_ACCESS:
			do_access(&h, &in);
			break;
		case OP_ADD_BYTES:
			do_add_bytes(&h, &in);
			break;
		case OP_ADD_FILE:
			do_add_file(&h, &in);
			break;
		case OP_RESET:
			fw_cfg_ops.reset(h.f);
			h.cur = -1; /* "A reset selects nothing" */
			h.offset = 0;
			break;
		case NR_OPS:
			break;
		}
	}
	fw_cfg_ops.destroy(h.f);
	model_free(&h);
	return 0;
}
