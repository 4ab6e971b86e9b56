// SPDX-License-Identifier: MIT
/* libFuzzer harness: ACPI PM1a event/control blocks and the PM timer. */
#include <stdbool.h>
#include <stdint.h>

#include "acpi_pm.h"
#include "fuzz.h"

/*
 * Input: SLP_TYP of S5 (low 3 bits of the first byte; S3's is the next
 * value, with the VM's sleep hooks), then operations, one opcode byte
 * each followed by its operands. Time moves only through OP_ADVANCE and
 * OP_FIRE.
 */
enum op {
	OP_WRITE,   /* block, width, offset selectors; u32 value */
	OP_READ,    /* block, width, offset selectors */
	OP_ADVANCE, /* scale byte, u16 amount */
	OP_FIRE,
	OP_RESET,
	OP_RTC_ALARM, /* level byte: the RTC's alarm output */
	OP_POWER_BUTTON,
	NR_OPS
};

#define T0 1000000000ull
#define CLOCK_MAX (1ull << 62)
#define SCI_SOURCES 0x0721

struct harness {
	struct acpi_pm *pm;
	uint64_t now, deadline;
	bool level;
	unsigned int ends;
	uint8_t s5, s3;
	/* S3: the model of the sleeping state, and the hooks' calls. */
	bool sleeping;
	unsigned int sleeps, wakes;
};

static void h_sleep(void *ctx, unsigned int state, int vcpu)
{
	struct harness *h = ctx;

	FUZZ_CHECK(state == 3 && !h->sleeping);
	h->sleeping = true;
	h->sleeps++;
}

/* Called with the device's lock held: only the status it reports. */
static void h_wake(void *ctx, uint16_t pm1_sts)
{
	struct harness *h = ctx;

	FUZZ_CHECK(h->sleeping);
	FUZZ_CHECK(pm1_sts & 0x8000);
	FUZZ_CHECK(pm1_sts & 0x0500); /* the RTC or the power button */
	h->sleeping = false;
	h->wakes++;
}

static uint64_t h_now(void *ctx)
{
	return ((struct harness *)ctx)->now;
}

static void h_arm(void *ctx, uint64_t deadline)
{
	struct harness *h = ctx;

	FUZZ_CHECK(deadline == 0 || deadline > h->now);
	h->deadline = deadline;
}

static void h_sci(void *router, unsigned int line, bool level)
{
	struct harness *h = router;

	FUZZ_CHECK(line == 9);
	FUZZ_CHECK(level != h->level);
	h->level = level;
}

static void h_end(void *vm, enum splitvm_outcome outcome, uint32_t code,
		  int vcpu)
{
	struct harness *h = vm;

	FUZZ_CHECK(outcome == SPLITVM_OUTCOME_POWEROFF && code == 0);
	h->ends++;
}

static const struct device_ops *const blocks[] = { &acpi_pm_evt_ops,
						   &acpi_pm_cnt_ops,
						   &acpi_pm_tmr_ops };
static const unsigned int block_size[] = { 4, 2, 4 };

static uint64_t access(struct harness *h, unsigned int b, unsigned int off,
		       unsigned int len, bool write, uint64_t v)
{
	const struct io_access a = { 0x600 + 4 * b + off, off, len, 0 };

	if (write)
		blocks[b]->write(h->pm, &a, v);
	else
		v = blocks[b]->read(h->pm, &a);
	return v;
}

/* The model of the timer: ticks since T0 at 3.579545 MHz, 24 bits. */
static uint32_t model_tmr(const struct harness *h)
{
	return (uint32_t)((unsigned __int128)(h->now - T0) * ACPI_PM_TIMER_HZ /
			  1000000000u) &
	       0xffffff;
}

/* After any operation: the SCI is high exactly while an enabled status
 * bit is set; SCI_EN reads 1, SLP_EN 0; the timer is the model's. */
static void check(struct harness *h)
{
	uint32_t evt = (uint32_t)access(h, 0, 0, 4, false, 0);
	uint16_t cnt = (uint16_t)access(h, 1, 0, 2, false, 0);

	FUZZ_CHECK(h->level == !!(evt & (evt >> 16) & SCI_SOURCES));
	FUZZ_CHECK((cnt & 1) && !(cnt & 0x2000));
	FUZZ_CHECK(access(h, 2, 0, 4, false, 0) == model_tmr(h));
}

static void op_access(struct harness *h, struct fuzz_in *in, bool write)
{
	unsigned int b = fuzz_u8(in) % 3;
	unsigned int len = 1u << (fuzz_u8(in) % 4); /* 1, 2, 4, 8 */
	unsigned int off = fuzz_u8(in);
	uint64_t v = write ? fuzz_u32(in) : 0, r;
	unsigned int ends = h->ends, sleeps = h->sleeps;
	bool was_sleeping = h->sleeping;

	if (len > block_size[b])
		len = len == 8 ? 8 : block_size[b];
	off = len >= block_size[b] ? 0 : off % (block_size[b] - len + 1);
	if (len == 8 && block_size[b] < 8) {
		/* The bus never sends it; the device must ignore it. */
		r = access(h, b, 0, 8, write, v);
		FUZZ_CHECK(write || r == ~0ull);
		FUZZ_CHECK(h->ends == ends);
		return;
	}
	r = access(h, b, off, len, write, v);
	if (!write) {
		FUZZ_CHECK(r <= io_all_ones(len));
		return;
	}
	/* Powered off exactly for SLP_EN with S5's SLP_TYP. */
	if (b == 1) {
		uint64_t bits = (v & io_all_ones(len)) << (off * 8);
		bool slp_en = bits & 0x2000;
		uint16_t cnt = (uint16_t)access(h, 1, 0, 2, false, 0);

		FUZZ_CHECK(h->ends - ends ==
			   (slp_en && ((cnt >> 10) & 7) == h->s5));
		/* Asleep exactly for SLP_EN with S3's, once until a wake. */
		FUZZ_CHECK(h->sleeps - sleeps ==
			   (!was_sleeping && slp_en &&
			    ((cnt >> 10) & 7) == h->s3));
	} else {
		FUZZ_CHECK(h->ends == ends);
	}
}

static void op_advance(struct harness *h, struct fuzz_in *in)
{
	static const uint64_t unit[] = { 1, 1000, 1000000, 1000000000 };
	unsigned int scale = fuzz_u8(in) % 4;
	uint64_t amount = fuzz_u16(in);

	if (h->now + amount * unit[scale] < CLOCK_MAX)
		h->now += amount * unit[scale];
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct harness h = { .now = T0 };
	struct fuzz_in in;
	struct acpi_pm_config cfg = {
		.end = { h_end, &h },
		.clock = { h_now, &h },
		.timer = { h_arm, &h },
		.sci = { h_sci, &h, 9 },
		.sleep = { h_sleep, h_wake, &h },
		.evt_port = 0x600,
		.cnt_port = 0x604,
		.tmr_port = 0x608,
	};

	fuzz_in_init(&in, data, size);
	h.s5 = cfg.s5_slp_typ = fuzz_u8(&in) & 7;
	h.s3 = cfg.s3_slp_typ = (h.s5 + 1) & 7;
	if (acpi_pm_new(&cfg, &h.pm))
		return 0;
	while (fuzz_more(&in)) {
		switch (fuzz_u8(&in) % NR_OPS) {
		case OP_WRITE:
			op_access(&h, &in, true);
			break;
		case OP_READ:
			op_access(&h, &in, false);
			break;
		case OP_ADVANCE:
			op_advance(&h, &in);
			break;
		case OP_FIRE:
			if (h.deadline > h.now)
				h.now = h.deadline;
			h.deadline = 0;
			acpi_pm_fire(h.pm);
			break;
		case OP_RESET:
			acpi_pm_evt_ops.reset(h.pm);
			h.sleeping = false;
			FUZZ_CHECK(access(&h, 0, 0, 4, false, 0) == 0);
			break;
		case OP_RTC_ALARM:
			acpi_pm_rtc_alarm(h.pm, fuzz_u8(&in) & 1);
			break;
		default:
			acpi_pm_power_button(h.pm);
			FUZZ_CHECK(!h.sleeping);
			FUZZ_CHECK(access(&h, 0, 0, 2, false, 0) & 0x0100);
			break;
		}
		FUZZ_CHECK(acpi_pm_sleeping(h.pm) == h.sleeping);
		check(&h);
	}
	acpi_pm_evt_ops.destroy(h.pm);
	return 0;
}
