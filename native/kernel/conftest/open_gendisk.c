// SPDX-License-Identifier: GPL-2.0
/* 6.5: block_device_operations.open takes a gendisk and a blk_mode_t, .release only the gendisk. */
#include <linux/blkdev.h>

static int valet_conftest_open(struct gendisk *disk, blk_mode_t mode)
{
	return 0;
}

static void valet_conftest_release(struct gendisk *disk)
{
}

const struct block_device_operations valet_conftest_fops = {
	.open		= valet_conftest_open,
	.release	= valet_conftest_release,
};
