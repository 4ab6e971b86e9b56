// SPDX-License-Identifier: MIT
/* A small, bounds-checked reader for flattened device trees (DTSpec 5). */
#include "guest.h"

#define FDT_BEGIN_NODE 1
#define FDT_END_NODE 2
#define FDT_PROP 3
#define FDT_NOP 4
#define FDT_END 9

/* Header field offsets; every field is a big-endian u32. */
#define HDR_MAGIC 0
#define HDR_TOTALSIZE 4
#define HDR_OFF_STRUCT 8
#define HDR_OFF_STRINGS 12
#define HDR_VERSION 20
#define HDR_LAST_COMP 24
#define HDR_SIZE_STRINGS 32
#define HDR_SIZE_STRUCT 36 /* version 17 on */
#define HDR_SIZE 40

/*
 * The two blocks every lookup reads. All reads below are checked against
 * these sizes, so even a tree that passed fdt_check() but lies in its
 * contents cannot make us read outside it.
 */
struct fdt_view {
	const uint8_t *st;
	uint32_t st_size;
	const char *str;
	uint32_t str_size;
};

/* A decoded tag: where the next one starts, and what this one holds. */
struct fdt_tag {
	uint32_t type;
	uint32_t next;
	const char *name;  /* BEGIN_NODE: node name; PROP: property name */
	const void *value; /* PROP */
	uint32_t len;	   /* PROP */
};

static uint32_t hdr(const void *fdt, uint32_t field)
{
	return fdt32_ld((const uint8_t *)fdt + field);
}

int fdt_check(const void *fdt, uint32_t max_size)
{
	uint64_t total, off_st, size_st, off_str, size_str;

	if (!fdt)
		return FDT_ERR_BADMAGIC;
	if (hdr(fdt, HDR_MAGIC) != FDT_MAGIC)
		return FDT_ERR_BADMAGIC;
	/* 16 and 17 are the versions in use; 17 reads as 16. */
	if (hdr(fdt, HDR_VERSION) < 16 || hdr(fdt, HDR_LAST_COMP) > 17)
		return FDT_ERR_BADVERSION;
	total = hdr(fdt, HDR_TOTALSIZE);
	if (total < HDR_SIZE || total > max_size)
		return FDT_ERR_TRUNCATED;
	off_st = hdr(fdt, HDR_OFF_STRUCT);
	off_str = hdr(fdt, HDR_OFF_STRINGS);
	size_str = hdr(fdt, HDR_SIZE_STRINGS);
	if (hdr(fdt, HDR_VERSION) >= 17)
		size_st = hdr(fdt, HDR_SIZE_STRUCT);
	else
		size_st = off_st <= total ? total - off_st : 0;
	/* u64 sums: no u32 offset plus size can wrap. */
	if (off_st < HDR_SIZE || off_st % 4 || off_st + size_st > total ||
	    off_str + size_str > total || size_st < 8)
		return FDT_ERR_TRUNCATED;
	return 0;
}

static void view_of(const void *fdt, struct fdt_view *v)
{
	v->st = (const uint8_t *)fdt + hdr(fdt, HDR_OFF_STRUCT);
	v->str = (const char *)fdt + hdr(fdt, HDR_OFF_STRINGS);
	v->str_size = hdr(fdt, HDR_SIZE_STRINGS);
	if (hdr(fdt, HDR_VERSION) >= 17)
		v->st_size = hdr(fdt, HDR_SIZE_STRUCT);
	else
		v->st_size = hdr(fdt, HDR_TOTALSIZE) - hdr(fdt, HDR_OFF_STRUCT);
}

static uint32_t align4(uint64_t x)
{
	return (uint32_t)((x + 3) & ~3ull);
}

/* Decodes the tag at off. Returns 0 or FDT_ERR_BADSTRUCTURE. */
static int read_tag(const struct fdt_view *v, uint32_t off, struct fdt_tag *t)
{
	uint64_t end = v->st_size;
	uint32_t nameoff;
	size_t n;

	if (off % 4 || (uint64_t)off + 4 > end)
		return FDT_ERR_BADSTRUCTURE;
	t->type = fdt32_ld(v->st + off);
	t->next = off + 4;
	switch (t->type) {
	case FDT_BEGIN_NODE:
		t->name = (const char *)v->st + off + 4;
		n = strnlen(t->name, end - off - 4);
		if (n == end - off - 4) /* no NUL inside the block */
			return FDT_ERR_BADSTRUCTURE;
		t->next = align4((uint64_t)off + 4 + n + 1);
		break;
	case FDT_PROP:
		if ((uint64_t)off + 12 > end)
			return FDT_ERR_BADSTRUCTURE;
		t->len = fdt32_ld(v->st + off + 4);
		nameoff = fdt32_ld(v->st + off + 8);
		if ((uint64_t)off + 12 + t->len > end || nameoff >= v->str_size)
			return FDT_ERR_BADSTRUCTURE;
		t->name = v->str + nameoff;
		if (strnlen(t->name, v->str_size - nameoff) ==
		    v->str_size - nameoff)
			return FDT_ERR_BADSTRUCTURE;
		t->value = v->st + off + 12;
		t->next = align4((uint64_t)off + 12 + t->len);
		break;
	case FDT_END_NODE:
	case FDT_NOP:
	case FDT_END:
		break;
	default:
		return FDT_ERR_BADSTRUCTURE;
	}
	if (t->next > end)
		return FDT_ERR_BADSTRUCTURE;
	return 0;
}

/* The offset just past node's END_NODE, or a negative error. */
static int skip_node(const struct fdt_view *v, uint32_t node)
{
	struct fdt_tag t;
	uint32_t off = node;
	int depth = 0, err;

	/* Each tag advances by 4 bytes or more: this ends. */
	for (;;) {
		err = read_tag(v, off, &t);
		if (err)
			return err;
		off = t.next;
		if (t.type == FDT_BEGIN_NODE)
			depth++;
		else if (t.type == FDT_END_NODE && --depth == 0)
			return (int)off;
		else if (t.type == FDT_END)
			return FDT_ERR_BADSTRUCTURE;
	}
}

static int begin_node_at(const struct fdt_view *v, int node, struct fdt_tag *t)
{
	if (node < 0 || read_tag(v, (uint32_t)node, t) ||
	    t->type != FDT_BEGIN_NODE)
		return FDT_ERR_BADSTRUCTURE;
	return 0;
}

int fdt_next_child(const void *fdt, int node, int prev)
{
	struct fdt_view v;
	struct fdt_tag t;
	int off, err;

	view_of(fdt, &v);
	err = begin_node_at(&v, node, &t);
	if (err)
		return err;
	if (prev < 0) {
		off = (int)t.next;
	} else {
		off = skip_node(&v, (uint32_t)prev);
		if (off < 0)
			return off;
	}
	/* At depth 1 below node: properties, NOPs, then children. */
	for (;;) {
		err = read_tag(&v, (uint32_t)off, &t);
		if (err)
			return err;
		if (t.type == FDT_BEGIN_NODE)
			return off;
		if (t.type == FDT_END_NODE)
			return FDT_ERR_NOTFOUND;
		if (t.type == FDT_END)
			return FDT_ERR_BADSTRUCTURE;
		off = (int)t.next;
	}
}

const char *fdt_node_name(const void *fdt, int node)
{
	struct fdt_view v;
	struct fdt_tag t;

	view_of(fdt, &v);
	if (begin_node_at(&v, node, &t))
		return NULL;
	return t.name;
}

/* The root: the first BEGIN_NODE, after any NOPs. */
static int root_offset(const struct fdt_view *v)
{
	struct fdt_tag t;
	uint32_t off = 0;

	for (;;) {
		if (read_tag(v, off, &t))
			return FDT_ERR_BADSTRUCTURE;
		if (t.type == FDT_BEGIN_NODE)
			return (int)off;
		if (t.type != FDT_NOP)
			return FDT_ERR_BADSTRUCTURE;
		off = t.next;
	}
}

/* "cpu@0" matches component "cpu@0" and, lacking an '@', "cpu". */
static bool name_matches(const char *name, const char *comp, size_t n)
{
	size_t i;

	if (strncmp(name, comp, n))
		return false;
	if (name[n] == '\0')
		return true;
	if (name[n] != '@')
		return false;
	for (i = 0; i < n; i++)
		if (comp[i] == '@')
			return false;
	return true;
}

int fdt_path_offset(const void *fdt, const char *path)
{
	struct fdt_view v;
	int node;

	view_of(fdt, &v);
	if (*path != '/')
		return FDT_ERR_NOTFOUND;
	node = root_offset(&v);
	while (node >= 0) {
		const char *comp, *name;
		size_t n;
		int child;

		while (*path == '/')
			path++;
		if (!*path)
			return node;
		comp = path;
		while (*path && *path != '/')
			path++;
		n = (size_t)(path - comp);

		for (child = fdt_next_child(fdt, node, -1); child >= 0;
		     child = fdt_next_child(fdt, node, child)) {
			name = fdt_node_name(fdt, child);
			if (name && name_matches(name, comp, n))
				break;
		}
		node = child;
	}
	return node;
}

const void *fdt_getprop(const void *fdt, int node, const char *name,
			uint32_t *ret_len)
{
	struct fdt_view v;
	struct fdt_tag t;
	uint32_t off;

	view_of(fdt, &v);
	if (begin_node_at(&v, node, &t))
		return NULL;
	/* Properties come before any subnode (DTSpec 5.4.1). */
	for (off = t.next;; off = t.next) {
		if (read_tag(&v, off, &t))
			return NULL;
		if (t.type == FDT_NOP)
			continue;
		if (t.type != FDT_PROP)
			return NULL;
		if (!strcmp(t.name, name)) {
			if (ret_len)
				*ret_len = t.len;
			return t.value;
		}
	}
}

uint32_t fdt_getprop_u32(const void *fdt, int node, const char *name,
			 uint32_t def)
{
	uint32_t len;
	const void *p = fdt_getprop(fdt, node, name, &len);

	return p && len == 4 ? fdt32_ld(p) : def;
}

bool fdt_prop_is_string(const char *prop, uint32_t len)
{
	return prop && len && prop[len - 1] == '\0';
}

bool fdt_stringlist_contains(const char *list, uint32_t len, const char *str)
{
	size_t want = strlen(str);

	while (list && len) {
		size_t n = strnlen(list, len);

		if (n == want && !memcmp(list, str, n))
			return true;
		if (n >= len)
			break;
		list += n + 1;
		len -= (uint32_t)(n + 1);
	}
	return false;
}
