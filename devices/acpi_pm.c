// SPDX-License-Identifier: MIT
/* ACPI PM1a event/control blocks and the 24-bit, 3.579545 MHz PM timer. */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>

#include <libfdt.h>

#include "acpi_pm.h"
#include "fdt_machine.h"

/*
 * Section numbers are ACPI 6.x's: 4.8.3.1 (PM1 event grouping), 4.8.3.2
 * (PM1 control), 4.8.3.3 (power management timer). The timer is a
 * function of the monotonic clock; TMR_STS is worked out from the time
 * elapsed since it was last looked at, like the PIT's counters.
 */

#define NS_PER_SEC 1000000000ull
#define TMR_MASK 0xffffffu
#define TMR_STS_BIT 23 /* TMR_STS is set whenever bit 23 toggles */

/* The bits a write can set in PM1_EN, and those that can raise the SCI. */
#define EN_MASK                                                                \
	(ACPI_PM1_TMR | ACPI_PM1_GBL | ACPI_PM1_PWRBTN | ACPI_PM1_SLPBTN |     \
	 ACPI_PM1_RTC | ACPI_PM1_PCIEXP_WAKE)
#define SCI_SOURCES                                                            \
	(ACPI_PM1_TMR | ACPI_PM1_GBL | ACPI_PM1_PWRBTN | ACPI_PM1_SLPBTN |     \
	 ACPI_PM1_RTC)
/* PM1_CNT bits that read back; SLP_EN and GBL_RLS are write-only. */
#define CNT_STORED (ACPI_PM1_BM_RLD | ACPI_PM1_SLP_TYP_MASK)

struct acpi_pm {
	pthread_mutex_t lock;
	struct acpi_pm_config cfg;
	uint64_t base;	    /* clock time at which the count was tick_base */
	uint32_t tick_base; /* 0, or what a snapshot's load began with */
	uint64_t synced;    /* clock time up to which TMR_STS is worked out */
	uint16_t sts, en, cnt;
	bool sci;	/* the level the SCI was last set to */
	uint64_t armed; /* deadline last given to arm(), 0: none */
	bool sleeping;	/* in S3, until a wake event */
	bool rtc_alarm; /* the RTC's alarm output, as last set */
};

static uint64_t now(const struct acpi_pm *pm)
{
	return pm->cfg.clock.now(pm->cfg.clock.ctx);
}

/* The count at time t, not wrapped. */
static uint64_t tmr_ticks(const struct acpi_pm *pm, uint64_t t)
{
	uint64_t dt = t > pm->base ? t - pm->base : 0;

	return pm->tick_base + (uint64_t)((unsigned __int128)dt *
					  ACPI_PM_TIMER_HZ / NS_PER_SEC);
}

/* When the count first reaches tick (at least tick_base). */
static uint64_t tick_time(const struct acpi_pm *pm, uint64_t tick)
{
	unsigned __int128 ticks = tick - pm->tick_base;

	return pm->base +
	       (uint64_t)((ticks * NS_PER_SEC + ACPI_PM_TIMER_HZ - 1) /
			  ACPI_PM_TIMER_HZ);
}

/* Whether bit 23 toggled between the last sync and t (4.8.3.3). */
static bool tmr_sts_due(const struct acpi_pm *pm, uint64_t t)
{
	uint64_t from = tmr_ticks(pm, pm->synced) >> TMR_STS_BIT;

	return t > pm->synced && tmr_ticks(pm, t) >> TMR_STS_BIT > from;
}

static void sync_tmr_sts(struct acpi_pm *pm, uint64_t t)
{
	if (t <= pm->synced)
		return;
	if (tmr_sts_due(pm, t))
		pm->sts |= ACPI_PM1_TMR;
	pm->synced = t;
}

/* 4.8.3.1: the SCI is raised while an enabled status bit is set. */
static bool sci_of(uint16_t sts, uint16_t en)
{
	return (sts & en & SCI_SOURCES) != 0;
}

static void update_sci(struct acpi_pm *pm)
{
	bool level = sci_of(pm->sts, pm->en);

	if (level != pm->sci) {
		pm->sci = level;
		irq_line_set(&pm->cfg.sci, level);
	}
}

/*
 * Arms the timer for bit 23's next toggle while TMR_STS could raise it;
 * or at once for an SCI a snapshot's load left at its old level (TMR_STS
 * came due while the VM was paused): acpi_pm_fire() raises it.
 */
static void rearm(struct acpi_pm *pm, uint64_t t)
{
	uint64_t d = 0;

	if (sci_of(pm->sts, pm->en) != pm->sci)
		d = t ? t : 1;
	else if ((pm->en & ACPI_PM1_TMR) && !(pm->sts & ACPI_PM1_TMR))
		d = tick_time(pm, ((tmr_ticks(pm, t) >> TMR_STS_BIT) + 1)
					  << TMR_STS_BIT);
	if (!pm->cfg.timer.arm || d == pm->armed)
		return;
	pm->armed = d;
	pm->cfg.timer.arm(pm->cfg.timer.ctx, d);
}

static void sync(struct acpi_pm *pm, uint64_t t)
{
	sync_tmr_sts(pm, t);
	update_sci(pm);
	rearm(pm, t);
}

/* Bytes [off, off + len) of a little-endian register value. */
static uint64_t bytes_of(uint64_t v, uint64_t off, unsigned int len)
{
	return (v >> (off * 8)) & io_all_ones(len);
}

static bool width_ok(const struct io_access *a)
{
	return a->len == 1 || a->len == 2 || a->len == 4;
}

/* ---- PM1a_EVT_BLK: PM1_STS, PM1_EN --------------------------------- */

static uint64_t evt_read(void *dev, const struct io_access *a)
{
	struct acpi_pm *pm = dev;
	uint64_t v;

	if (!width_ok(a))
		return io_all_ones(a->len);
	pthread_mutex_lock(&pm->lock);
	sync(pm, now(pm));
	v = bytes_of((uint32_t)pm->en << 16 | pm->sts, a->offset, a->len);
	pthread_mutex_unlock(&pm->lock);
	return v;
}

/* Status bits are cleared by writing 1 to them, never set by a write. */
static void evt_write(void *dev, const struct io_access *a, uint64_t val)
{
	struct acpi_pm *pm = dev;
	uint32_t mask = (uint32_t)io_all_ones(a->len) << (a->offset * 8);
	uint32_t v = (uint32_t)(val << (a->offset * 8)) & mask;
	uint64_t t;

	if (!width_ok(a))
		return;
	pthread_mutex_lock(&pm->lock);
	t = now(pm);
	sync_tmr_sts(pm, t);
	pm->sts &= (uint16_t)~v;
	if (mask >> 16)
		pm->en = (uint16_t)((pm->en & ~(mask >> 16)) |
				    ((v >> 16) & EN_MASK));
	sync(pm, t);
	pthread_mutex_unlock(&pm->lock);
}

/* ---- PM1a_CNT_BLK --------------------------------------------------- */

static uint64_t cnt_read(void *dev, const struct io_access *a)
{
	struct acpi_pm *pm = dev;
	uint64_t v;

	if (!width_ok(a))
		return io_all_ones(a->len);
	pthread_mutex_lock(&pm->lock);
	v = bytes_of(pm->cnt | ACPI_PM1_SCI_EN, a->offset, a->len);
	pthread_mutex_unlock(&pm->lock);
	return v;
}

static bool s3_supported(const struct acpi_pm *pm)
{
	return pm->cfg.sleep.sleep != NULL;
}

/*
 * SCI_EN belongs to the hardware (4.8.3.2.1: OSPM only reads it) and
 * stays 1; GBL_RLS would signal an SMI handler, which is not there.
 */
static void cnt_write(void *dev, const struct io_access *a, uint64_t val)
{
	struct acpi_pm *pm = dev;
	uint32_t mask = (uint32_t)io_all_ones(a->len) << (a->offset * 8);
	uint32_t v = (uint32_t)(val << (a->offset * 8)) & mask;
	unsigned int typ;
	bool off = false, sleep = false;

	if (!width_ok(a))
		return;
	pthread_mutex_lock(&pm->lock);
	pm->cnt =
		(uint16_t)((pm->cnt & ~(mask & CNT_STORED)) | (v & CNT_STORED));
	/* SLP_EN starts the sleep state that SLP_TYP names. */
	typ = (pm->cnt & ACPI_PM1_SLP_TYP_MASK) >> ACPI_PM1_SLP_TYP_SHIFT;
	if ((v & ACPI_PM1_SLP_EN) && typ == pm->cfg.s5_slp_typ) {
		off = true;
	} else if ((v & ACPI_PM1_SLP_EN) && s3_supported(pm) &&
		   typ == pm->cfg.s3_slp_typ && !pm->sleeping) {
		/* 16.1.3.1: the system stops until a wake event. */
		pm->sleeping = true;
		sleep = true;
	}
	pthread_mutex_unlock(&pm->lock);
	if (off)
		pm->cfg.end.end(pm->cfg.end.vm, SPLITVM_OUTCOME_POWEROFF, 0,
				a->vcpu);
	if (sleep)
		pm->cfg.sleep.sleep(pm->cfg.sleep.ctx, 3, a->vcpu);
}

/*
 * A wake event while sleeping (4.8.3.1.1, WAK_STS: "set when the system
 * is in the sleeping state and an enabled wake event occurs"): the
 * source's status bit is set already; the VM is told what PM1_STS holds.
 * Called with the lock held.
 */
static void wake_locked(struct acpi_pm *pm)
{
	if (!pm->sleeping)
		return;
	pm->sleeping = false;
	pm->sts |= ACPI_PM1_WAK_STS;
	pm->cfg.sleep.wake(pm->cfg.sleep.ctx, pm->sts);
}

void acpi_pm_rtc_alarm(struct acpi_pm *pm, bool level)
{
	uint64_t t;

	pthread_mutex_lock(&pm->lock);
	if (level && !pm->rtc_alarm) {
		t = now(pm);
		sync_tmr_sts(pm, t);
		pm->sts |= ACPI_PM1_RTC;
		if (pm->en & ACPI_PM1_RTC)
			wake_locked(pm);
		sync(pm, t);
	}
	pm->rtc_alarm = level;
	pthread_mutex_unlock(&pm->lock);
}

void acpi_pm_power_button(struct acpi_pm *pm)
{
	uint64_t t;

	pthread_mutex_lock(&pm->lock);
	t = now(pm);
	sync_tmr_sts(pm, t);
	pm->sts |= ACPI_PM1_PWRBTN;
	wake_locked(pm);
	sync(pm, t);
	pthread_mutex_unlock(&pm->lock);
}

bool acpi_pm_sleeping(struct acpi_pm *pm)
{
	bool s;

	pthread_mutex_lock(&pm->lock);
	s = pm->sleeping;
	pthread_mutex_unlock(&pm->lock);
	return s;
}

/* ---- PM_TMR_BLK ----------------------------------------------------- */

static uint64_t tmr_read(void *dev, const struct io_access *a)
{
	struct acpi_pm *pm = dev;
	uint64_t v, t;

	if (!width_ok(a))
		return io_all_ones(a->len);
	pthread_mutex_lock(&pm->lock);
	t = now(pm);
	sync(pm, t);
	v = bytes_of(tmr_ticks(pm, t) & TMR_MASK, a->offset, a->len);
	pthread_mutex_unlock(&pm->lock);
	return v;
}

static void tmr_write(void *dev, const struct io_access *a, uint64_t val)
{
	/* Read-only. */
}

/* ---- Device ------------------------------------------------------------ */

void acpi_pm_fire(struct acpi_pm *pm)
{
	pthread_mutex_lock(&pm->lock);
	pm->armed = 0;
	sync(pm, now(pm));
	pthread_mutex_unlock(&pm->lock);
}

static void acpi_pm_reset(void *dev)
{
	struct acpi_pm *pm = dev;
	uint64_t t;

	pthread_mutex_lock(&pm->lock);
	t = now(pm);
	sync_tmr_sts(pm, t);
	pm->sts = 0;
	pm->en = 0;
	pm->cnt = 0;
	pm->sleeping = false;
	sync(pm, t);
	pthread_mutex_unlock(&pm->lock);
}

/* "acpi-pm@600": reg lists the event, control and timer blocks. */
static int acpi_pm_describe(void *dev, void *fdt, int parent)
{
	struct acpi_pm *pm = dev;
	const struct acpi_pm_config *c = &pm->cfg;
	fdt32_t reg[9] = {
		cpu_to_fdt32(1),
		cpu_to_fdt32(c->evt_port),
		cpu_to_fdt32(ACPI_PM_EVT_SIZE),
		cpu_to_fdt32(1),
		cpu_to_fdt32(c->cnt_port),
		cpu_to_fdt32(ACPI_PM_CNT_SIZE),
		cpu_to_fdt32(1),
		cpu_to_fdt32(c->tmr_port),
		cpu_to_fdt32(ACPI_PM_TMR_SIZE),
	};
	int off = fdt_add_isa_device(fdt, parent, "acpi-pm", "splitvm,acpi-pm",
				     c->evt_port, ACPI_PM_EVT_SIZE,
				     c->sci.set ? (int)c->sci.line : -1);

	if (off < 0)
		return off;
	if (fdt_setprop(fdt, off, "reg", reg, sizeof(reg)) ||
	    fdt_setprop_u32(fdt, off, "splitvm,s5-slp-typ", c->s5_slp_typ))
		return -ENOSPC;
	if (s3_supported(pm) &&
	    fdt_setprop_u32(fdt, off, "splitvm,s3-slp-typ", c->s3_slp_typ))
		return -ENOSPC;
	return 0;
}

static void acpi_pm_destroy(void *dev)
{
	struct acpi_pm *pm = dev;

	if (!pm)
		return;
	pthread_mutex_destroy(&pm->lock);
	free(pm);
}

/* ---- Snapshots ----------------------------------------------------------- */

/*
 * The blob, version 1: 29 bytes, little-endian.
 *   header (8):	u32 magic "PM1a", u16 version,
 *			u8 _S5 SLP_TYP, u8 _S3 SLP_TYP (SNAP_NO_S3: none)
 *   u16 PM1_STS (TMR_STS worked out up to now), PM1_EN, PM1_CNT
 *   u8 sleeping, u8 the RTC alarm input's level, u8 the SCI's level
 *   u32 the count at base (below 2^24), s64 base (ns, relative to now)
 * The SCI keeps the level it had; if TMR_STS came due while the VM was
 * paused, load arms the timer for now and acpi_pm_fire() raises the SCI
 * once the VM runs. The host timer is computed again.
 */
#define SNAP_MAGIC 0x61314d50u /* "PM1a" */
#define SNAP_VERSION 1
#define SNAP_SIZE 29
#define SNAP_NO_S3 0xff
/* The status bits something sets: writes only clear them. */
#define STS_SET_BY_HW                                                          \
	(ACPI_PM1_TMR | ACPI_PM1_PWRBTN | ACPI_PM1_RTC | ACPI_PM1_WAK_STS)

static uint8_t snap_s3(const struct acpi_pm *pm)
{
	return s3_supported(pm) ? pm->cfg.s3_slp_typ : SNAP_NO_S3;
}

/*
 * The timer's time base as of t: at a later time t' the count is
 * *ret_ticks + ticks(t' - (t + *ret_base)), *ret_base in (-1 s, 0].
 * Whole seconds move from base into the count: a second is exactly
 * ACPI_PM_TIMER_HZ ticks, and the count is kept modulo 2^24, a multiple
 * of 2^23, so the timer's value and the toggles of bit 23 stay exactly
 * where they were, however long the VM ran and however young the clock
 * load runs on.
 */
static void snap_time(const struct acpi_pm *pm, uint64_t t, uint32_t *ret_ticks,
		      int64_t *ret_base)
{
	uint64_t e = t > pm->base ? t - pm->base : 0;

	*ret_ticks =
		(uint32_t)((pm->tick_base + e / NS_PER_SEC * ACPI_PM_TIMER_HZ) &
			   TMR_MASK);
	*ret_base = -(int64_t)(e % NS_PER_SEC);
}

static int acpi_pm_save(void *dev, void *buf, size_t cap, uint64_t t)
{
	struct acpi_pm *pm = dev;
	struct snap_out o = { buf };
	uint32_t ticks;
	int64_t base;

	if (cap < SNAP_SIZE)
		return -ENOSPC;
	pthread_mutex_lock(&pm->lock);
	snap_time(pm, t, &ticks, &base);
	snap_put(&o, SNAP_MAGIC, 4);
	snap_put(&o, SNAP_VERSION, 2);
	snap_put(&o, pm->cfg.s5_slp_typ, 1);
	snap_put(&o, snap_s3(pm), 1);
	snap_put(&o, pm->sts | (tmr_sts_due(pm, t) ? ACPI_PM1_TMR : 0), 2);
	snap_put(&o, pm->en, 2);
	snap_put(&o, pm->cnt, 2);
	snap_put(&o, pm->sleeping, 1);
	snap_put(&o, pm->rtc_alarm, 1);
	snap_put(&o, pm->sci, 1);
	snap_put(&o, ticks, 4);
	snap_put(&o, (uint64_t)base, 8);
	pthread_mutex_unlock(&pm->lock);
	return SNAP_SIZE;
}

/* What a blob says, before it is checked. */
struct acpi_pm_snap {
	uint16_t sts, en, cnt;
	uint8_t sleeping, rtc_alarm, sci;
	uint32_t ticks;
	int64_t base;
};

/*
 * A blob of a device configured alike (the DSDT's _S5 and _S3), with
 * only the bits the registers keep: status bits the hardware sets,
 * enables of 4.8.3.1.2 that exist, SLP_TYP and BM_RLD (SCI_EN reads 1,
 * SLP_EN and GBL_RLS read 0); asleep only where S3 exists.
 */
static int acpi_pm_parse(const struct acpi_pm *pm, const void *buf, size_t len,
			 struct acpi_pm_snap *s)
{
	struct snap_in in = { buf };

	if (!buf || len != SNAP_SIZE || snap_get(&in, 4) != SNAP_MAGIC ||
	    snap_get(&in, 2) != SNAP_VERSION ||
	    snap_get(&in, 1) != pm->cfg.s5_slp_typ ||
	    snap_get(&in, 1) != snap_s3(pm))
		return -EINVAL;
	s->sts = (uint16_t)snap_get(&in, 2);
	s->en = (uint16_t)snap_get(&in, 2);
	s->cnt = (uint16_t)snap_get(&in, 2);
	s->sleeping = (uint8_t)snap_get(&in, 1);
	s->rtc_alarm = (uint8_t)snap_get(&in, 1);
	s->sci = (uint8_t)snap_get(&in, 1);
	s->ticks = (uint32_t)snap_get(&in, 4);
	s->base = (int64_t)snap_get(&in, 8);
	if ((s->sts & ~STS_SET_BY_HW) || (s->en & ~EN_MASK) ||
	    (s->cnt & ~CNT_STORED) || s->sleeping > 1 || s->rtc_alarm > 1 ||
	    (s->sleeping && !s3_supported(pm)) || s->ticks > TMR_MASK ||
	    s->base > 0 || s->base <= -(int64_t)NS_PER_SEC)
		return -EINVAL;
	/* up only with a source up; TMR_STS, worked out later, may add one */
	if (s->sci > 1 || (s->sci && !sci_of(s->sts, s->en)))
		return -EINVAL;
	return 0;
}

/*
 * A device loaded asleep stays asleep: the VM keeps its vCPUs parked
 * (its own state), and a wake event ends the sleep as usual. Neither
 * sleep() nor wake() is called by a load. The SCI is set to its saved
 * level if this device last set it otherwise (in a VM the irqchip's own
 * load has restored it already: nothing to do).
 */
static int acpi_pm_load(void *dev, const void *buf, size_t len, uint64_t t)
{
	struct acpi_pm *pm = dev;
	struct acpi_pm_snap s;
	uint64_t back;
	int r;

	pthread_mutex_lock(&pm->lock);
	r = acpi_pm_parse(pm, buf, len, &s);
	if (r) {
		pthread_mutex_unlock(&pm->lock);
		return r;
	}
	back = (uint64_t)-s.base;
	pm->sts = s.sts;
	pm->en = s.en;
	pm->cnt = s.cnt;
	pm->sleeping = s.sleeping;
	pm->rtc_alarm = s.rtc_alarm;
	pm->tick_base = s.ticks;
	pm->base = t > back ? t - back : 0;
	pm->synced = t;
	if (pm->sci != s.sci) {
		pm->sci = s.sci;
		irq_line_set(&pm->cfg.sci, pm->sci);
	}
	rearm(pm, t);
	pthread_mutex_unlock(&pm->lock);
	return 0;
}

const struct device_ops acpi_pm_evt_ops = {
	.name = "acpi-pm1a-evt",
	.read = evt_read,
	.write = evt_write,
	.reset = acpi_pm_reset,
	.describe = acpi_pm_describe,
	.destroy = acpi_pm_destroy,
	.save = acpi_pm_save,
	.load = acpi_pm_load,
};

const struct device_ops acpi_pm_cnt_ops = {
	.name = "acpi-pm1a-cnt",
	.read = cnt_read,
	.write = cnt_write,
};

const struct device_ops acpi_pm_tmr_ops = {
	.name = "acpi-pm-timer",
	.read = tmr_read,
	.write = tmr_write,
};

int acpi_pm_new(const struct acpi_pm_config *cfg, struct acpi_pm **ret)
{
	struct acpi_pm *pm;
	int r;

	if (!cfg || !cfg->end.end || !cfg->clock.now || !ret ||
	    cfg->s5_slp_typ > 7)
		return -EINVAL;
	if (!cfg->sleep.sleep != !cfg->sleep.wake ||
	    (cfg->sleep.sleep &&
	     (cfg->s3_slp_typ > 7 || cfg->s3_slp_typ == cfg->s5_slp_typ)))
		return -EINVAL;
	pm = calloc(1, sizeof(*pm));
	if (!pm)
		return -ENOMEM;
	r = pthread_mutex_init(&pm->lock, NULL);
	if (r) {
		free(pm);
		return -r;
	}
	pm->cfg = *cfg;
	pm->base = now(pm);
	pm->synced = pm->base;
	*ret = pm;
	return 0;
}
