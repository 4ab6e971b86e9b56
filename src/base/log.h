/* SPDX-License-Identifier: MIT */
/* Logging through the handler the embedder installs, with rate limiting. */
#ifndef SPLITVM_LOG_H
#define SPLITVM_LOG_H

#include <stdatomic.h>
#include <stdint.h>

#include "splitvm.h"

struct logger {
	splitvm_log_fn fn;	/* NULL: errors and warnings go to stderr */
	void *userdata;
	enum splitvm_log_level max_level;
};

void log_msg(const struct logger *lg, enum splitvm_log_level level,
	     const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#define log_error(lg, ...) log_msg((lg), SPLITVM_LOG_ERROR, __VA_ARGS__)
#define log_warn(lg, ...) log_msg((lg), SPLITVM_LOG_WARNING, __VA_ARGS__)
#define log_info(lg, ...) log_msg((lg), SPLITVM_LOG_INFO, __VA_ARGS__)
#define log_debug(lg, ...) log_msg((lg), SPLITVM_LOG_DEBUG, __VA_ARGS__)

/*
 * A budget for messages a guest can trigger at will: the first
 * RATELIMIT_BURST pass, then one in RATELIMIT_EVERY, so a hostile guest
 * cannot flood the host's log.
 */
#define RATELIMIT_BURST 10
#define RATELIMIT_EVERY 1000

struct ratelimit {
	atomic_uint_fast32_t count;
};

/* True when the next guest-triggered message may be logged. */
static inline _Bool ratelimit_ok(struct ratelimit *rl)
{
	uint_fast32_t n = atomic_fetch_add_explicit(&rl->count, 1,
						    memory_order_relaxed);
	return n < RATELIMIT_BURST || n % RATELIMIT_EVERY == 0;
}

#endif /* SPLITVM_LOG_H */
