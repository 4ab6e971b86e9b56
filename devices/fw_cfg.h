/* SPDX-License-Identifier: MIT */
/* QEMU's fw_cfg, port interface: firmware configuration items for guests. */
#ifndef SPLITVM_FW_CFG_H
#define SPLITVM_FW_CFG_H

#include <stddef.h>
#include <stdint.h>

#include "device.h"

#define FW_CFG_IO_BASE 0x510
#define FW_CFG_REGION_SIZE 2	/* selector at +0, data at +1 */

/* Item keys, as QEMU numbers them (docs/specs/fw_cfg.rst). */
#define FW_CFG_SIGNATURE 0x0000
#define FW_CFG_ID 0x0001
#define FW_CFG_RAM_SIZE 0x0003
#define FW_CFG_NB_CPUS 0x0005
#define FW_CFG_MAX_CPUS 0x000f
#define FW_CFG_FILE_DIR 0x0019
#define FW_CFG_FILE_FIRST 0x0020
#define FW_CFG_WRITE_CHANNEL 0x4000
#define FW_CFG_ARCH_LOCAL 0x8000
#define FW_CFG_ENTRY_MASK 0x3fff

#define FW_CFG_MAX_ITEM_SIZE (16u << 20)
#define FW_CFG_MAX_FILE_PATH 56	/* name bytes, NUL included */

struct fw_cfg;

extern const struct device_ops fw_cfg_ops;

/**
 * fw_cfg_new() - creates the device with its fixed items: signature
 * "QEMU", id 1 (traditional interface, no DMA), RAM size (u64 LE), CPU
 * count and maximum (u16 LE) and an empty file directory.
 * @ram_size: bytes of guest RAM.
 * @cpus: vCPUs at start, at least 1.
 * @max_cpus: at least @cpus.
 * @ret: receives the device; free it with fw_cfg_ops.destroy.
 *
 * Returns 0, or -EINVAL (ret NULL, cpus 0, max_cpus < cpus), -ENOMEM.
 */
int fw_cfg_new(uint64_t ram_size, uint16_t cpus, uint16_t max_cpus,
	       struct fw_cfg **ret);

/**
 * fw_cfg_add_bytes() - adds an item under a fixed key; the data is copied.
 * @f: the device.
 * @key: an item key below FW_CFG_FILE_FIRST, or FW_CFG_ARCH_LOCAL | n.
 * @data, @len: the item's contents (data may be NULL when len is 0).
 *
 * Returns 0, or -EEXIST (key in use), -EINVAL (len over 16 MiB, data NULL
 * with len > 0, or a key that is the file directory, in the file range or
 * has FW_CFG_WRITE_CHANNEL set), -ENOMEM.
 */
int fw_cfg_add_bytes(struct fw_cfg *f, uint16_t key, const void *data,
		     size_t len);

/**
 * fw_cfg_add_file() - adds a named item and lists it in the file directory
 * (key 0x0019); selectors are given from 0x0020 up, in the order files are
 * added. The data is copied.
 * @f: the device.
 * @name: e.g. "etc/splitvm/foo"; 1 to 55 bytes.
 * @data, @len: the file's contents (data may be NULL when len is 0).
 *
 * Returns 0, or -EEXIST (name in use), -EINVAL (empty name, len over
 * 16 MiB, data NULL with len > 0), -ENAMETOOLONG, -ENOSPC (no selector
 * left), -ENOMEM.
 */
int fw_cfg_add_file(struct fw_cfg *f, const char *name, const void *data,
		    size_t len);

#endif /* SPLITVM_FW_CFG_H */
