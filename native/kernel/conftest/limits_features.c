// SPDX-License-Identifier: GPL-2.0
/* 6.11: write cache and rotational are queue_limits.features. */
#include <linux/blkdev.h>

const struct queue_limits valet_conftest_limits = {
	.features	= BLK_FEAT_WRITE_CACHE,
};
